"""The advanced track's reference layers (Conv2d, MaxPool2d, Flatten) against PyTorch, and what
makes them part of a submission's grading."""
import ast
import inspect

import numpy as np
import pytest
import torch

import layers_lib.reference as L
from layers_lib.grading.runner import check_submission
from layers_lib.grading.visible_tests import ADVANCED_NAMES, GRADED_NAMES, graded_names
from layers_lib.reference import conv

DTYPES = (np.float32, np.float64)


def _torch(x, g, module, **params):
    module = module.double()
    with torch.no_grad():
        for name, value in params.items():
            getattr(module, name).copy_(torch.from_numpy(np.asarray(value, np.float64)))
    xt = torch.tensor(x.astype(np.float64), requires_grad=True)
    out = module(xt)
    out.backward(torch.from_numpy(g.astype(np.float64)))
    return out.detach().numpy(), xt.grad.numpy(), module


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batch, n_in, n_out, height, width, k",
                         [(2, 3, 4, 5, 6, 3), (1, 1, 1, 7, 4, 5), (3, 2, 2, 1, 1, 3), (2, 4, 3, 8, 8, 1)])
def test_conv2d_matches_torch(dtype, batch, n_in, n_out, height, width, k):
    rng = np.random.default_rng(0)
    layer = L.Conv2d(n_in, n_out, k, dtype=dtype)
    x = rng.uniform(-5, 5, (batch, n_in, height, width)).astype(dtype)
    g = rng.uniform(-1, 1, (batch, n_out, height, width)).astype(dtype)
    out, grad = layer.forward(x), layer.backward(x, g)
    ref_out, ref_grad, t = _torch(x, g, torch.nn.Conv2d(n_in, n_out, k, padding=k // 2), weight=layer.W, bias=layer.b)
    rtol = 1e-4 if dtype == np.float32 else 1e-10
    for got, want in ((out, ref_out), (grad, ref_grad), (layer.grad_W, t.weight.grad.numpy()),
                      (layer.grad_b, t.bias.grad.numpy())):
        assert got.dtype == dtype and got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * np.abs(want).max())
    layer.update_grad_params(x, g)                        # sets, does not add
    np.testing.assert_allclose(layer.grad_b, t.bias.grad.numpy(), rtol=rtol)


def test_conv2d_rejects_an_even_kernel_and_a_wrong_input():
    with pytest.raises(ValueError, match="odd"):
        L.Conv2d(1, 1, 2)
    with pytest.raises(ValueError, match=r"\(batch, 3, height, width\)"):
        L.Conv2d(3, 2, 3).forward(np.zeros((2, 2, 4, 4)))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, k", [((2, 3, 6, 6), 2), ((1, 2, 7, 5), 2), ((2, 1, 9, 6), 3), ((1, 1, 4, 4), 1)])
@pytest.mark.parametrize("values", ["random", "ties", "negative"])
def test_maxpool2d_matches_torch_ties_included(dtype, shape, k, values):
    rng = np.random.default_rng(1)
    x = {"random": rng.uniform(-5, 5, shape), "ties": rng.integers(-1, 1, shape),
         "negative": rng.uniform(-9, -1, shape)}[values].astype(dtype)
    layer = L.MaxPool2d(k)
    out = layer.forward(x)
    g = rng.uniform(-1, 1, out.shape).astype(dtype)
    ref_out, ref_grad, _ = _torch(x, g, torch.nn.MaxPool2d(k))
    assert out.dtype == dtype and layer.backward(x, g).dtype == dtype
    np.testing.assert_array_equal(out, ref_out)
    np.testing.assert_array_equal(layer.grad_input, ref_grad)


def test_flatten_matches_torch():
    x, g = np.random.randn(3, 2, 4, 5).astype(np.float32), np.random.randn(3, 40).astype(np.float32)
    ref_out, ref_grad, _ = _torch(x, g, torch.nn.Flatten())
    layer = L.Flatten()
    np.testing.assert_array_equal(layer.forward(x), ref_out)
    np.testing.assert_array_equal(layer.backward(x, g), ref_grad)


def test_a_small_cnn_trains_end_to_end():
    """Conv -> ReLU -> pool -> flatten -> linear on two separable kinds of 8x8 images."""
    rng = np.random.default_rng(0)
    x = rng.normal(0, 0.3, (64, 1, 8, 8)).astype(np.float32)
    y = np.arange(64) % 2
    x[y == 1, :, 2:6, 3:5] += 1.5                        # a bar in the middle
    model = L.Sequential()
    for m in (L.Conv2d(1, 4, 3, dtype=np.float32), L.ReLU(), L.MaxPool2d(2), L.Flatten(),
              L.Linear(64, 2, dtype=np.float32), L.LogSoftMax()):
        model.add(m)
    crit, state = L.NLLCriterion(), {}
    target = np.eye(2, dtype=np.float32)[y]
    losses = []
    for _ in range(30):
        out = model.forward(x)
        losses.append(crit.forward(out, target))
        model.zero_grad_params()
        model.backward(x, crit.backward(out, target))
        L.adam_optimizer(model.get_params(), model.get_grad_params(),
                         {"learning_rate": 0.02, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8}, state)
    assert out.dtype == np.float32
    assert losses[-1] < 0.2 * losses[0]
    assert (out.argmax(1) == y).mean() == 1.0


def test_no_python_loop_over_the_batch_or_the_pixels():
    """Vectorised, as [1] asks: the only loops of the reference run over the k x k offsets of a
    kernel or a pooling window (`range(k)`, the list of window views), never over the data."""
    source = inspect.getsource(conv)
    loops = [(f"{node.name}.{f.name}", ast.get_source_segment(source, n.iter))
             for node in ast.parse(source).body if isinstance(node, ast.ClassDef)
             for f in node.body if isinstance(f, ast.FunctionDef)
             for n in ast.walk(f) if isinstance(n, (ast.For, ast.While, ast.comprehension))]
    assert loops, "the offsets loops are expected"
    data_loops = [(where, it) for where, it in loops if not ("range(k)" in it or "windows" in it)]
    assert not data_loops, data_loops


def test_the_advanced_names_are_graded_only_where_a_submission_defines_them():
    basic = {n: getattr(L, n) for n in GRADED_NAMES}
    assert graded_names(basic) == GRADED_NAMES
    assert list(check_submission(basic)) == list(GRADED_NAMES)
    advanced = {**basic, "Conv2d": L.Conv2d}               # one defined: all three are graded
    results = check_submission(advanced)
    assert list(results) == list(GRADED_NAMES + ADVANCED_NAMES)
    assert results["Conv2d"].passed
    assert not results["MaxPool2d"].passed and results["MaxPool2d"].points == 0
    assert graded_names(advanced=True) == GRADED_NAMES + ADVANCED_NAMES
