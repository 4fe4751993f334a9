"""Rounding-error scales: how large the terms behind each element of a layer's result are.

A correct implementation in precision eps errs by about eps times the magnitude of the
terms it adds up, not eps times the result: `g - sum(g * p)` in a softmax gradient or the
three-term batch-norm gradient cancel to values far smaller than their terms (for a batch
of 2, BatchNormalization's input gradient is ~1e-5 built from terms ~10). A tolerance
scaled by the result alone would fail correct float32 solutions there.

Each function below evaluates the natural formula of a layer with absolute values
(a running error bound, in float64) and returns one array per quantity, shaped like the
quantity. The comparison allows rtol(dtype) * (|expected| + magnitude). The bounds are
taken generously (they cover the usual correct algorithms, e.g. a staged batch-norm
backward or a naive exp(x) - 1), since a bug errs by O(1) relative, far above them.
"""
import numpy as np


def _abs(*arrays):
    return [np.abs(np.asarray(a, dtype=np.float64)) for a in arrays]


def linear(x, g, W, b):
    ax, ag, aW, ab = _abs(x, g, W, b)
    return {"output": ax @ aW + ab, "grad_input": ag @ aW.T,
            "grad_W": ax.T @ ag, "grad_b": ag.sum(axis=0)}


def softmax(x, g):
    x = np.asarray(x, dtype=np.float64)
    shifted = x - x.max(axis=1, keepdims=True)
    p = np.exp(shifted)
    p /= p.sum(axis=1, keepdims=True)
    ag = np.abs(g)
    # exp of a rounded (x - max) has relative error ~ |x - max|; the bracket g - sum(g p) cancels.
    p_mag = p * (1 + np.abs(shifted) + np.abs(x))
    bracket = ag + (ag * p).sum(axis=1, keepdims=True)
    return {"output": p_mag, "grad_input": p_mag * bracket}


def log_softmax(x, g):
    x = np.asarray(x, dtype=np.float64)
    shifted = x - x.max(axis=1, keepdims=True)
    lse = np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    y = shifted - lse
    ag = np.abs(g)
    p = np.exp(y)
    return {"output": np.abs(x) + np.abs(shifted) + np.abs(lse) + 1,
            "grad_input": ag + p * (1 + np.abs(y) + np.abs(x)) * ag.sum(axis=1, keepdims=True)}


def batch_norm_train(x, g, alpha, eps, moving_mean, moving_variance):
    x, g = np.asarray(x, dtype=np.float64), np.asarray(g, dtype=np.float64)
    mean = x.mean(axis=0)
    var = x.var(axis=0)
    s = 1 / np.sqrt(var + eps)
    ax, ag = np.abs(x), np.abs(g)
    second_moment = (x * x).mean(axis=0)       # E[x^2] - E[x]^2 is a correct (if naive) variance
    y_mag = (ax + np.abs(mean)) * s * (1 + second_moment * s * s)
    grad_mag = s * (ag + ag.mean(axis=0) + y_mag * (ag * y_mag).mean(axis=0)) * (1 + second_moment * s * s)
    return {"output": y_mag, "grad_input": grad_mag,
            "moving_mean": np.abs(alpha * moving_mean) + (1 - alpha) * ax.mean(axis=0),
            "moving_variance": np.abs(alpha * moving_variance) + (1 - alpha) * second_moment}


def batch_norm_evaluate(x, g, eps, moving_mean, moving_variance):
    s = 1 / np.sqrt(np.asarray(moving_variance, dtype=np.float64) + eps)
    ax, ag, am = _abs(x, g, moving_mean)
    return {"output": (ax + am) * s * (1 + np.abs(moving_variance) * s * s), "grad_input": ag * s}


def scaling(x, g, gamma, beta):
    ax, ag, agamma, abeta = _abs(x, g, gamma, beta)
    return {"output": ax * agamma + abeta, "grad_input": ag * agamma,
            "grad_gamma": (ag * ax).sum(axis=0), "grad_beta": ag.sum(axis=0)}


def elementwise(x, g, output, grad_input, scale=1.0):
    """Activations: the value plus the size of an exp/log term rounded on the way.

    That term is at most `scale` * 2 (`scale` = ELU's alpha): e.g. exp(x) - 1 or
    log(1 + exp(x)) computed naively lose eps absolute, not relative, near 0.
    """
    ax, ag = _abs(x, g)
    term = max(abs(scale), 1.0) * np.minimum(1 + ax, 2.0)
    return {"output": np.abs(output) + term, "grad_input": np.abs(grad_input) + ag * term}


def nll(input, target, clip_eps=None):
    ainput, at = _abs(input, target)
    batch = ainput.shape[0]
    if clip_eps is None:
        return {"loss": np.asarray((at * ainput).sum() / batch), "grad_input": at / batch}
    clipped = np.clip(ainput, clip_eps, 1 - clip_eps)
    return {"loss": np.asarray((at * (np.abs(np.log(clipped)) + 1)).sum() / batch),
            "grad_input": at / clipped / batch}
