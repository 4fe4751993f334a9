"""Every layer of layers_lib against PyTorch run in float64 on exactly the same inputs."""
import numpy as np
import pytest
import torch

import layers_lib.reference as L
from helpers import assert_close, torch_forward_backward
from layers_lib.grading import magnitude

DTYPES = [np.float32, np.float64]
SHAPES = [(1, 5), (3, 7), (16, 4)]   # batch 1 and non-square

def _elementwise(scale=1.0):
    return lambda x, g, out, grad: magnitude.elementwise(x, g, out, grad, scale)


# name: (our layer, the torch layer, the rounding-error magnitude of its results)
PARAMETERLESS = {
    "ReLU": (L.ReLU, torch.nn.ReLU, _elementwise()),
    "LeakyReLU": (lambda: L.LeakyReLU(0.07), lambda: torch.nn.LeakyReLU(0.07), _elementwise()),
    "ELU": (lambda: L.ELU(0.8), lambda: torch.nn.ELU(0.8), _elementwise(0.8)),
    "SoftPlus": (L.SoftPlus, torch.nn.Softplus, _elementwise()),
    "SoftMax": (L.SoftMax, lambda: torch.nn.Softmax(dim=1),
                lambda x, g, out, grad: magnitude.softmax(x, g)),
    "LogSoftMax": (L.LogSoftMax, lambda: torch.nn.LogSoftmax(dim=1),
                   lambda x, g, out, grad: magnitude.log_softmax(x, g)),
}


def check_parameterless(name, x, g, what=""):
    make_custom, make_torch, make_magnitude = PARAMETERLESS[name]
    layer = make_custom()
    out = layer.forward(x)
    grad_in = layer.backward(x, g)
    t_out, t_grad, _ = torch_forward_backward(make_torch(), x, g)
    scale = make_magnitude(x, g, t_out, t_grad)
    assert_close(t_out, out, f"{name} output{what}", x.dtype, scale["output"])
    assert_close(t_grad, grad_in, f"{name} grad_input{what}", x.dtype, scale["grad_input"])
    return layer, out, grad_in


def random(shape, dtype, low=-10, high=10):
    return np.random.uniform(low, high, shape).astype(dtype)


@pytest.mark.parametrize("name", PARAMETERLESS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
def test_parameterless_layer_matches_torch(name, dtype, shape):
    for _ in range(10):
        layer, out, grad_in = check_parameterless(name, random(shape, dtype), random(shape, dtype))
        assert layer.output is out and layer.grad_input is grad_in


@pytest.mark.parametrize("name", PARAMETERLESS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("magnitude", [1e2, 1e3, 1e4])
def test_parameterless_layer_is_stable_for_large_inputs(name, dtype, magnitude):
    """No overflow warning (warnings are errors in this suite), no inf/NaN, still equal to torch."""
    x = random((8, 6), dtype, -magnitude, magnitude)
    x[0] = [magnitude, -magnitude, 0, magnitude, magnitude / 2, -magnitude]
    g = random((8, 6), dtype, -1, 1)
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        _, out, grad_in = check_parameterless(name, x, g, f" at |x| <= {magnitude:g}")
    assert np.isfinite(out).all() and np.isfinite(grad_in).all()


@pytest.mark.parametrize("name", ["ReLU", "LeakyReLU", "ELU"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_kink_at_exact_zero_follows_torch(name, dtype):
    x = np.array([[0.0, -0.0, 1.0, -1.0], [0.0, 0.0, 0.0, 0.0]], dtype=dtype)
    g = np.array([[2.0, 3.0, 5.0, 7.0], [1.0, -1.0, 0.5, -0.5]], dtype=dtype)
    _, _, grad_in = check_parameterless(name, x, g)
    at_kink = grad_in[x == 0] / g[x == 0]
    expected_slope = {"ReLU": 0.0, "LeakyReLU": 0.07, "ELU": 0.8}[name]
    np.testing.assert_allclose(at_kink, expected_slope, rtol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batch, n_in, n_out", [(1, 3, 4), (2, 3, 4), (5, 7, 2), (16, 32, 8)])
def test_linear_matches_torch(dtype, batch, n_in, n_out):
    torch_layer = torch.nn.Linear(n_in, n_out)
    layer = L.Linear(n_in, n_out)
    layer.W = torch_layer.weight.detach().numpy().T.astype(dtype)
    layer.b = torch_layer.bias.detach().numpy().astype(dtype)
    x, g = random((batch, n_in), dtype), random((batch, n_out), dtype)
    out = layer.forward(x)
    grad_in = layer.backward(x, g)
    t_out, t_grad, t_layer = torch_forward_backward(torch_layer, x, g)
    scale = magnitude.linear(x, g, layer.W, layer.b)
    assert_close(t_out, out, "Linear output", dtype, scale["output"])
    assert_close(t_grad, grad_in, "Linear grad_input", dtype, scale["grad_input"])
    grad_W, grad_b = layer.get_grad_params()
    assert_close(t_layer.weight.grad.numpy().T, grad_W, "Linear grad_W", dtype, scale["grad_W"])
    assert_close(t_layer.bias.grad.numpy(), grad_b, "Linear grad_b", dtype, scale["grad_b"])
    assert layer.get_params()[0] is layer.W and layer.get_params()[1] is layer.b


def bn_reference(x, alpha, eps, mean0, var0):
    """float64 formula of the SPEC (biased variance in both the output and the moving average)."""
    x = x.astype(np.float64)
    mean, var = x.mean(0), x.var(0)
    return ((x - mean) / np.sqrt(var + eps), alpha * mean0 + (1 - alpha) * mean,
            alpha * var0 + (1 - alpha) * var)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batch, n_in", [(2, 3), (32, 16), (7, 5)])
def test_batchnorm_train_and_moving_statistics_over_steps(dtype, batch, n_in):
    alpha = 0.9
    layer = L.BatchNormalization(alpha)
    torch_bn = torch.nn.BatchNorm1d(n_in, eps=L.BatchNormalization.EPS, momentum=1 - alpha,
                                    affine=False).double()
    mean, var = np.zeros(n_in), np.ones(n_in)
    for step in range(5):
        x, g = random((batch, n_in), dtype, -5, 5) + step, random((batch, n_in), dtype)
        out = layer.forward(x)
        grad_in = layer.backward(x, g)
        t_out, t_grad, _ = torch_forward_backward(torch_bn, x, g)
        scale = magnitude.batch_norm_train(x, g, alpha, L.BatchNormalization.EPS, mean, var)
        expected_out, mean, var = bn_reference(x, alpha, L.BatchNormalization.EPS, mean, var)
        assert_close(t_out, out, f"BatchNormalization output (step {step})", dtype, scale["output"])
        assert_close(expected_out, out, f"output vs formula (step {step})", dtype, scale["output"])
        assert_close(t_grad, grad_in, f"BatchNormalization grad_input (step {step})", dtype,
                     scale["grad_input"])
        assert_close(torch_bn.running_mean.numpy(), layer.moving_mean, "moving_mean", dtype,
                     scale["moving_mean"])
        # PyTorch keeps the unbiased variance in running_var; the SPEC keeps the biased one.
        assert_close(var, layer.moving_variance, f"moving_variance (step {step})", dtype,
                     scale["moving_variance"])


@pytest.mark.parametrize("dtype", DTYPES)
def test_batchnorm_evaluate_uses_moving_statistics(dtype):
    layer = L.BatchNormalization(0.5)
    layer.forward(random((16, 4), dtype))
    layer.evaluate()
    x, g = random((3, 4), dtype), random((3, 4), dtype)
    torch_bn = torch.nn.BatchNorm1d(4, eps=L.BatchNormalization.EPS, affine=False).double().eval()
    torch_bn.running_mean[:] = torch.from_numpy(layer.moving_mean.astype(np.float64))
    torch_bn.running_var[:] = torch.from_numpy(layer.moving_variance.astype(np.float64))
    out = layer.forward(x)
    grad_in = layer.backward(x, g)
    t_out, t_grad, _ = torch_forward_backward(torch_bn, x, g)
    scale = magnitude.batch_norm_evaluate(x, g, L.BatchNormalization.EPS, layer.moving_mean,
                                          layer.moving_variance)
    assert_close(t_out, out, "BatchNormalization evaluate output", dtype, scale["output"])
    assert_close(t_grad, grad_in, "BatchNormalization evaluate grad_input", dtype, scale["grad_input"])


def test_batchnorm_batch_of_one_is_finite():
    """PyTorch refuses batch 1 in training; the formula gives 0 output and 0 gradient."""
    layer = L.BatchNormalization(0.9)
    x = random((1, 4), np.float64)
    assert_close(np.zeros((1, 4)), layer.forward(x), "output")
    assert_close(np.zeros((1, 4)), layer.backward(x, random((1, 4), np.float64)), "grad_input")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batch", [1, 2, 9])
def test_scaling_matches_torch_autograd(dtype, batch):
    n = 6
    layer = L.Scaling(n)
    layer.gamma = random(n, dtype, -2, 2)
    layer.beta = random(n, dtype, -2, 2)
    x, g = random((batch, n), dtype), random((batch, n), dtype)
    out = layer.forward(x)
    grad_in = layer.backward(x, g)
    tx = torch.tensor(x.astype(np.float64), requires_grad=True)
    gamma = torch.tensor(layer.gamma.astype(np.float64), requires_grad=True)
    beta = torch.tensor(layer.beta.astype(np.float64), requires_grad=True)
    t_out = tx * gamma + beta
    t_out.backward(torch.tensor(g.astype(np.float64)))
    scale = magnitude.scaling(x, g, layer.gamma, layer.beta)
    assert_close(t_out.detach().numpy(), out, "Scaling output", dtype, scale["output"])
    assert_close(tx.grad.numpy(), grad_in, "Scaling grad_input", dtype, scale["grad_input"])
    assert_close(gamma.grad.numpy(), layer.grad_gamma, "Scaling grad_gamma", dtype, scale["grad_gamma"])
    assert_close(beta.grad.numpy(), layer.grad_beta, "Scaling grad_beta", dtype, scale["grad_beta"])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batch", [2, 10])
def test_sequential_batchnorm_scaling_equals_batchnorm1d_affine(dtype, batch):
    n, alpha = 4, 0.9
    torch_bn = torch.nn.BatchNorm1d(n, eps=L.BatchNormalization.EPS, momentum=1 - alpha, affine=True)
    torch_bn.weight.data = torch.rand(n) + 0.5
    torch_bn.bias.data = torch.rand(n)
    model = L.Sequential()
    model.add(L.BatchNormalization(alpha))
    scaling = L.Scaling(n)
    scaling.gamma = torch_bn.weight.detach().numpy().astype(dtype)
    scaling.beta = torch_bn.bias.detach().numpy().astype(dtype)
    model.add(scaling)
    x, g = random((batch, n), dtype, -5, 5), random((batch, n), dtype, -5, 5)
    out = model.forward(x)
    grad_in = model.backward(x, g)
    t_out, t_grad, t_bn = torch_forward_backward(torch_bn, x, g)
    gamma, beta = np.abs(scaling.gamma), np.abs(scaling.beta)
    bn = magnitude.batch_norm_train(x, g * gamma, alpha, L.BatchNormalization.EPS, 0, 1)
    assert_close(t_out, out, "Sequential output", dtype, bn["output"] * gamma + beta)
    assert_close(t_grad, grad_in, "Sequential grad_input", dtype, bn["grad_input"])
    grad_gamma, grad_beta = model.get_grad_params()[1]
    assert_close(t_bn.weight.grad.numpy(), grad_gamma, "Sequential grad_gamma", dtype,
                 (np.abs(g) * bn["output"]).sum(0))
    assert_close(t_bn.bias.grad.numpy(), grad_beta, "Sequential grad_beta", dtype, np.abs(g).sum(0))


@pytest.mark.parametrize("dtype", DTYPES)
def test_deep_sequential_matches_torch(dtype):
    dims = [5, 8, 6, 3]
    torch_model = torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.ELU(), torch.nn.Linear(8, 6),
                                      torch.nn.LeakyReLU(0.03), torch.nn.Linear(6, 3),
                                      torch.nn.LogSoftmax(dim=1))
    model = L.Sequential()
    for t in torch_model:
        if isinstance(t, torch.nn.Linear):
            layer = L.Linear(t.in_features, t.out_features)
            layer.W = t.weight.detach().numpy().T.astype(dtype)
            layer.b = t.bias.detach().numpy().astype(dtype)
        else:
            layer = {torch.nn.ELU: L.ELU, torch.nn.LeakyReLU: L.LeakyReLU,
                     torch.nn.LogSoftmax: L.LogSoftMax}[type(t)]()
        model.add(layer)
    x, g = random((4, dims[0]), dtype), random((4, dims[-1]), dtype)
    out = model.forward(x)
    grad_in = model.backward(x, g)
    t_out, t_grad, t_model = torch_forward_backward(torch_model, x, g)
    assert_close(t_out, out, "output", dtype)
    assert_close(t_grad, grad_in, "grad_input", dtype)
    linear_grads = [p for p in model.get_grad_params() if p]
    for (grad_W, grad_b), t in zip(linear_grads, [m for m in t_model if isinstance(m, torch.nn.Linear)]):
        assert_close(t.weight.grad.numpy().T, grad_W, "grad_W", dtype)
        assert_close(t.bias.grad.numpy(), grad_b, "grad_b", dtype)
