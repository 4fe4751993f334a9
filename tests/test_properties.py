"""Property tests (hypothesis) over shapes and values."""
import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import layers_lib.reference as L
from helpers import assert_close, torch_forward_backward
from layers_lib.grading import magnitude

shapes = st.tuples(st.integers(1, 9), st.integers(1, 9))
dtypes = st.sampled_from([np.float32, np.float64])


def matrices(low=-1e3, high=1e3):
    return st.tuples(shapes, dtypes).flatmap(
        lambda sd: arrays(sd[1], sd[0], elements=st.floats(low, high, width=32)))


settings.register_profile("course", max_examples=60, deadline=None)
settings.load_profile("course")


@given(matrices())
def test_softmax_rows_are_distributions_and_exp_logsoftmax_is_softmax(x):
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        p = L.SoftMax().forward(x)
        log_p = L.LogSoftMax().forward(x)
    assert p.dtype == x.dtype and log_p.dtype == x.dtype
    assert (p >= 0).all() and (log_p <= 0).all()
    assert_close(np.ones(x.shape[0]), p.sum(axis=1), "row sums", x.dtype)
    assert_close(p.astype(np.float64), np.exp(log_p), "exp(log_softmax)", x.dtype,
                 magnitude.log_softmax(x, x)["output"] * p)


@given(matrices(), st.sampled_from(["ReLU", "LeakyReLU", "ELU", "SoftPlus"]))
def test_activations_match_torch_for_any_values(x, name):
    g = np.ones_like(x)
    layer = getattr(L, name)()
    torch_layer = {"ReLU": torch.nn.ReLU(), "LeakyReLU": torch.nn.LeakyReLU(0.03),
                   "ELU": torch.nn.ELU(), "SoftPlus": torch.nn.Softplus()}[name]
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        out = layer.forward(x)
        grad = layer.backward(x, g)
    t_out, t_grad, _ = torch_forward_backward(torch_layer, x, g)
    scale = magnitude.elementwise(x, g, t_out, t_grad)
    assert_close(t_out, out, f"{name} output", x.dtype, scale["output"])
    assert_close(t_grad, grad, f"{name} grad_input", x.dtype, scale["grad_input"])


@given(st.integers(2, 40), st.integers(1, 8), dtypes, st.floats(-50, 50), st.floats(0.1, 20))
def test_batchnorm_output_has_zero_mean_and_near_unit_variance(batch, n, dtype, shift, spread):
    x = (np.random.randn(batch, n) * spread + shift).astype(dtype)
    y = L.BatchNormalization().forward(x)
    assert y.dtype == dtype
    assert np.abs(y.astype(np.float64).mean(axis=0)).max() < 1e-4 * (1 + abs(shift) / spread)
    var = x.astype(np.float64).var(axis=0)
    expected_var = var / (var + L.BatchNormalization.EPS)
    assert_close(expected_var, y.var(axis=0), "variance", dtype,
                 magnitude.batch_norm_train(x, x, 0, L.BatchNormalization.EPS, 0, 1)["output"].max(0))


@given(st.integers(1, 6), st.integers(1, 6), st.integers(1, 6), dtypes)
def test_linear_shapes_dtypes_and_gradient_identity(batch, n_in, n_out, dtype):
    """sum(G * (X W)) = sum(grad_W * W) = sum(grad_input * X) (bilinearity)."""
    layer = L.Linear(n_in, n_out, dtype=dtype)
    x = np.random.randn(batch, n_in).astype(dtype)
    g = np.random.randn(batch, n_out).astype(dtype)
    out = layer.forward(x)
    grad_in = layer.backward(x, g)
    assert out.shape == (batch, n_out) and grad_in.shape == (batch, n_in)
    assert out.dtype == grad_in.dtype == layer.grad_W.dtype == dtype
    inner = np.sum(g.astype(np.float64) * (out - layer.b))
    scale = np.sum(np.abs(g) @ np.abs(layer.W).T * np.abs(x))
    assert_close(np.asarray(inner), np.asarray(np.sum(layer.grad_W * layer.W)), "<grad_W, W>", dtype, scale)
    assert_close(np.asarray(inner), np.asarray(np.sum(grad_in * x)), "<grad_input, X>", dtype, scale)


@given(st.floats(0.0, 0.95), st.integers(1, 30), st.integers(1, 30))
def test_dropout_output_is_zero_or_rescaled_input(p, batch, n):
    x = np.random.uniform(1, 2, (batch, n))
    out = L.Dropout(p).forward(x)
    kept = out != 0
    np.testing.assert_allclose(out[kept], x[kept] / (1 - p), rtol=1e-12)
