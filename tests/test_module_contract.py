"""The Module contract: return values, idempotent parameter gradients, zeroing, Sequential
structure and modes, and clear errors for bad use."""
import numpy as np
import pytest

import layers_lib.reference as L


def with_params():
    bn_scaling = L.Sequential()
    bn_scaling.add(L.BatchNormalization(0.9))
    bn_scaling.add(L.Scaling(4))
    return {"Linear": L.Linear(4, 4), "Scaling": L.Scaling(4), "Sequential": bn_scaling}


@pytest.mark.parametrize("name", ["Linear", "Scaling", "Sequential"])
def test_update_grad_params_is_idempotent_and_zero_grad_params_zeros(name):
    layer = with_params()[name]
    x, g = np.random.randn(5, 4), np.random.randn(5, 4)
    layer.forward(x)
    layer.backward(x, g)
    first = [np.copy(p) for p in L.iterate_params(layer.get_grad_params(), layer.get_grad_params())]
    layer.update_grad_params(x, g)
    layer.update_grad_params(x, g)
    again = [p for p, _ in L.iterate_params(layer.get_grad_params(), layer.get_grad_params())]
    assert len(first) == len(again) > 0
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a[0], b)
    layer.zero_grad_params()
    for grad, _ in L.iterate_params(layer.get_grad_params(), layer.get_grad_params()):
        assert not grad.any()


def test_sequential_params_are_nested_per_module_and_live():
    model = L.Sequential()
    linear, relu, scaling = L.Linear(3, 4), L.ReLU(), L.Scaling(4)
    for m in (linear, relu, scaling):
        model.add(m)
    params, grads = model.get_params(), model.get_grad_params()
    assert len(params) == len(grads) == 3
    assert params[0][0] is linear.W and params[0][1] is linear.b and params[1] == []
    assert params[2][0] is scaling.gamma and grads[2][1] is scaling.grad_beta
    x = np.random.randn(2, 3)
    model.forward(x)
    model.backward(x, np.random.randn(2, 4))
    assert model.get_grad_params()[0][0] is linear.grad_W
    assert model[1] is relu and len(model) == 3


def test_sequential_backward_gives_each_module_its_own_input():
    seen = []

    class Spy(L.Module):
        def update_output(self, input):
            self.output = input * 2
            return self.output

        def update_grad_input(self, input, grad_output):
            seen.append(input.copy())
            self.grad_input = grad_output * 2
            return self.grad_input

    model = L.Sequential()
    model.add(Spy())
    model.add(Spy())
    x = np.ones((1, 2))
    np.testing.assert_array_equal(model.forward(x), 4 * x)
    np.testing.assert_array_equal(model.backward(x, np.ones((1, 2))), 4 * np.ones((1, 2)))
    np.testing.assert_array_equal(seen[0], 2 * x)   # the second module saw the first one's output
    np.testing.assert_array_equal(seen[1], x)


def test_train_and_evaluate_reach_every_child():
    inner = L.Sequential()
    inner.add(L.Dropout(0.5))
    model = L.Sequential()
    model.add(L.BatchNormalization())
    model.add(inner)
    model.evaluate()
    assert not model.training and not model[0].training and not inner[0].training
    model.train()
    assert model[0].training and inner[0].training


def test_forward_and_backward_return_and_store():
    layer = L.Linear(3, 2)
    x = np.random.randn(4, 3)
    out = layer.forward(x)
    assert out is layer.output
    grad = layer.backward(x, np.ones((4, 2)))
    assert grad is layer.grad_input and grad.shape == x.shape


def test_errors_for_bad_use():
    with pytest.raises(RuntimeError, match="before any training batch|no moving statistics"):
        bn = L.BatchNormalization()
        bn.evaluate()
        bn.forward(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"Linear\(3, 2\) expects input of shape \(batch, 3\), got \(4, 5\)"):
        L.Linear(3, 2).forward(np.ones((4, 5)))
    with pytest.raises(ValueError, match="grad_output of shape"):
        layer = L.Linear(3, 2)
        layer.forward(np.ones((4, 3)))
        layer.backward(np.ones((4, 3)), np.ones((4, 3)))
    with pytest.raises(RuntimeError, match="before forward"):
        model = L.Sequential()
        model.add(L.ReLU())
        model.backward(np.ones((1, 1)), np.ones((1, 1)))
    with pytest.raises(NotImplementedError, match="Module.update_output"):
        L.Module().forward(np.ones(1))


def test_reprs_read_like_constructors():
    model = L.Sequential()
    model.add(L.Linear(3, 2))
    model.add(L.Dropout(0.25))
    assert repr(model) == "Sequential(\n  Linear(3, 2)\n  Dropout(p=0.25)\n)"
