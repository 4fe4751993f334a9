"""Correct algorithms as bare functions: what tests/test_tolerance_blind_spots.py holds the rounding
bounds of `layers_lib.grading.magnitude` against (each must stay well inside them).

Each takes the layer's input and grad_output in the dtype under test and returns
(output, grad_input) computed in that dtype, the way students write them: two-pass and naive
E[x^2] - E[x]^2 variances, staged (CS231n) and formula backwards, log-sum-exp and shifted
softmaxes, Jacobian matrices, scipy, PyTorch's own float32 kernels.
"""
import numpy as np
import torch
from scipy import special

import layers_lib.reference as L

EPS = L.BatchNormalization.EPS


# --- BatchNormalization, training mode -----------------------------------------------------
def bn_reference(x, g):
    layer = L.BatchNormalization(0.9)
    return layer.forward(x), layer.backward(x, g)


def bn_naive_variance_staged(x, g):
    """tests/naive_float32_solution.py: E[x^2] - E[x]^2 and the staged backward."""
    import naive_float32_solution as naive
    layer = naive.BatchNormalization(0.9)
    return layer.forward(x), layer.backward(x, g)


def bn_two_pass_staged(x, g):
    n = x.shape[0]
    mu = x.mean(axis=0)
    xc = x - mu
    std = np.sqrt((xc ** 2).mean(axis=0) + EPS)
    dvar = np.sum(g * xc, axis=0) * -0.5 * std ** -3
    dmu = np.sum(-g / std, axis=0) + dvar * np.mean(-2 * xc, axis=0)
    return xc / std, g / std + dvar * 2 * xc / n + dmu / n


def bn_naive_variance_formula(x, g):
    batch = x.shape[0]
    mu = x.mean(axis=0)
    s = 1 / np.sqrt((x * x).mean(axis=0) - mu * mu + EPS)
    y = (x - mu) * s
    return y, (s / batch) * (batch * g - g.sum(axis=0) - y * (g * y).sum(axis=0))


def bn_expanded(x, g):
    """y = x s - mu s; the backward through means."""
    mu = x.mean(axis=0)
    s = 1 / np.sqrt(np.var(x, axis=0) + EPS)
    y = x * s - mu * s
    return y, s * (g - g.mean(axis=0) - y * (g * y).mean(axis=0))


def bn_naive_square(x, g):
    batch = x.shape[0]
    mu = np.mean(x, axis=0)
    inv = 1.0 / np.sqrt(np.mean(np.square(x), axis=0) - np.square(mu) + EPS)
    xhat = (x - mu) * inv
    return xhat, inv / batch * (batch * g - np.sum(g, axis=0) - xhat * np.sum(g * xhat, axis=0))


def bn_torch(x, g):
    tx = torch.tensor(x, requires_grad=True)
    out = torch.nn.functional.batch_norm(tx, None, None, training=True, eps=EPS)
    out.backward(torch.tensor(g))
    return out.detach().numpy(), tx.grad.numpy()


BATCH_NORM = {f.__name__: f for f in (bn_reference, bn_naive_variance_staged, bn_two_pass_staged,
                                      bn_naive_variance_formula, bn_expanded, bn_naive_square, bn_torch)}


# --- SoftMax ----------------------------------------------------------------------------------
def _softmax_backward(p, g):
    return p * (g - (g * p).sum(axis=1, keepdims=True))


def sm_reference(x, g):
    layer = L.SoftMax()
    return layer.forward(x), layer.backward(x, g)


def sm_einsum(x, g):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    p = e / np.sum(e, axis=1, keepdims=True)
    return p, p * g - p * np.einsum("bi,bi->b", g, p)[:, None]


def sm_log_sum_exp(x, g):
    m = x.max(axis=1, keepdims=True)
    p = np.exp(x - (m + np.log(np.exp(x - m).sum(axis=1, keepdims=True))))
    return p, _softmax_backward(p, g)


def sm_scipy_logsumexp(x, g):
    p = np.exp(x - special.logsumexp(x, axis=1, keepdims=True)).astype(x.dtype)
    return p, _softmax_backward(p, g)


def sm_jacobian(x, g):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    eye = np.eye(x.shape[1], dtype=x.dtype)
    jacobian = p[:, :, None] * eye[None] - p[:, :, None] * p[:, None, :]
    return p, np.einsum("bij,bj->bi", jacobian, g)


def sm_torch(x, g):
    tx = torch.tensor(x, requires_grad=True)
    out = torch.softmax(tx, 1)
    out.backward(torch.tensor(g))
    return out.detach().numpy(), tx.grad.numpy()


def sm_in_float64(x, g):
    p, grad = sm_reference(x.astype(np.float64), g.astype(np.float64))
    return p.astype(x.dtype), grad.astype(x.dtype)


def sm_scipy(x, g):
    p = special.softmax(x, axis=1)
    return p, p * g - p * np.sum(p * g, axis=1, keepdims=True)


SOFTMAX = {f.__name__: f for f in (sm_reference, sm_einsum, sm_log_sum_exp, sm_scipy_logsumexp,
                                   sm_jacobian, sm_torch, sm_in_float64, sm_scipy)}


# --- LogSoftMax -------------------------------------------------------------------------------
def lsm_reference(x, g):
    layer = L.LogSoftMax()
    return layer.forward(x), layer.backward(x, g)


def lsm_log_sum_exp(x, g):
    m = x.max(axis=1, keepdims=True)
    y = x - (m + np.log(np.sum(np.exp(x - m), axis=1, keepdims=True)))
    return y, g - np.exp(y) * g.sum(axis=1, keepdims=True)


def lsm_scipy(x, g):
    y = (x - special.logsumexp(x, axis=1, keepdims=True)).astype(x.dtype)
    return y, g - np.exp(y) * g.sum(axis=1, keepdims=True)


def lsm_softmax_backward(x, g):
    y, p = lsm_reference(x, g)[0], sm_reference(x, g)[0]
    return y, g - p * g.sum(axis=1, keepdims=True)


def lsm_jacobian(x, g):
    y = lsm_reference(x, g)[0]
    jacobian = np.eye(x.shape[1], dtype=x.dtype)[None] - np.exp(y)[:, None, :]
    return y, np.einsum("bij,bi->bj", jacobian, g)


def lsm_torch(x, g):
    tx = torch.tensor(x, requires_grad=True)
    out = torch.log_softmax(tx, 1)
    out.backward(torch.tensor(g))
    return out.detach().numpy(), tx.grad.numpy()


LOG_SOFTMAX = {f.__name__: f for f in (lsm_reference, lsm_log_sum_exp, lsm_scipy, lsm_softmax_backward,
                                       lsm_jacobian, lsm_torch)}
