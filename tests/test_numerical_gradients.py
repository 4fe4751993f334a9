"""Central-difference gradient checks in float64: an oracle that does not rely on PyTorch."""
import numpy as np
import pytest

import layers_lib.reference as L
from helpers import numerical_gradient


def away_from_kinks(shape):
    """Inputs at least 0.05 from 0 so the central difference never straddles a kink."""
    x = np.random.uniform(0.05, 3, shape)
    return x * np.random.choice([-1, 1], shape)


LAYERS = {
    "Linear": lambda: L.Linear(4, 3),
    "SoftMax": L.SoftMax,
    "LogSoftMax": L.LogSoftMax,
    "BatchNormalization": lambda: L.BatchNormalization(0.9),
    "Scaling": lambda: _scaling(4),
    "ReLU": L.ReLU,
    "LeakyReLU": lambda: L.LeakyReLU(0.1),
    "ELU": lambda: L.ELU(1.3),
    "SoftPlus": L.SoftPlus,
    "Sequential": lambda: _mlp(),
}


def _scaling(n):
    layer = L.Scaling(n)
    layer.gamma = np.random.randn(n)
    layer.beta = np.random.randn(n)
    return layer


def _mlp():
    model = L.Sequential()
    for m in (L.Linear(4, 5), L.BatchNormalization(0.5), _scaling(5), L.ELU(), L.Linear(5, 3),
              L.LogSoftMax()):
        model.add(m)
    return model


def relative_error(a, b):
    """Worst error relative to the gradient's scale (at least 1: central differences in float64
    with h = 1e-6 err by ~1e-10 absolute, so exactly-zero gradients are compared absolutely)."""
    return np.max(np.abs(a - b)) / max(1.0, np.max(np.abs(a)), np.max(np.abs(b)))


@pytest.mark.parametrize("name", LAYERS)
def test_grad_input_and_params_match_central_differences(name):
    layer = LAYERS[name]()
    x = away_from_kinks((6, 4))
    layer.forward(x)
    g = np.random.randn(*layer.output.shape)
    grad_input = layer.backward(x, g).copy()

    def f():
        return layer.forward(x).copy()

    numeric = numerical_gradient(f, x, g)
    assert relative_error(grad_input, numeric) < 1e-6, name
    layer.forward(x)
    layer.backward(x, g)
    for param, grad in L.iterate_params(layer.get_params(), layer.get_grad_params()):
        analytic = grad.copy()
        numeric = numerical_gradient(f, param, g)
        assert relative_error(analytic, numeric) < 1e-6, f"{name} parameter of shape {param.shape}"


@pytest.mark.parametrize("name", ["NLLCriterion", "NLLCriterionUnstable"])
def test_criteria_gradients_match_central_differences(name):
    crit = getattr(L, name)()
    labels = np.random.randint(5, size=7)
    if name == "NLLCriterion":
        x = L.LogSoftMax().forward(np.random.randn(7, 5))
    else:
        x = L.SoftMax().forward(np.random.randn(7, 5))
    analytic = crit.backward(x, labels)
    numeric = numerical_gradient(lambda: np.asarray(crit.forward(x, labels)), x, np.asarray(1.0))
    assert relative_error(analytic, numeric) < 1e-6
