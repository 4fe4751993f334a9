"""Dropout: rate, per-element independence, mask reuse, evaluate mode, bad use."""
import numpy as np
import pytest
from scipy import stats

import layers_lib.reference as L


def binomial_interval(n, p, confidence=1 - 1e-6):
    return stats.binom.interval(confidence, n, p)


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_drop_rate_within_binomial_interval_and_kept_values_rescaled(p, dtype):
    x = np.random.uniform(1, 2, (400, 50)).astype(dtype)   # no zeros in the input
    layer = L.Dropout(p)
    out = layer.forward(x)
    assert out.dtype == dtype and out.shape == x.shape
    dropped = (out == 0).sum()
    low, high = binomial_interval(x.size, p)
    assert low <= dropped <= high, f"{dropped} of {x.size} dropped at p={p}"
    kept = out != 0
    np.testing.assert_allclose(out[kept], x[kept] / (1 - p), rtol=1e-6)
    assert ((layer.mask == 0) == ~kept).all()


def test_mask_is_independent_per_element():
    """Rows and columns of the mask vary, and neighbouring elements are uncorrelated."""
    layer = L.Dropout(0.5)
    mask = layer.forward(np.ones((500, 40))) != 0
    assert 0 < mask.sum(axis=1).min() and mask.sum(axis=1).max() < 40, "whole rows kept or dropped"
    assert 0 < mask.sum(axis=0).min() and mask.sum(axis=0).max() < 500, "whole columns kept or dropped"
    a, b = mask[:, :-1].ravel(), mask[:, 1:].ravel()
    table = [[np.sum(a & b), np.sum(a & ~b)], [np.sum(~a & b), np.sum(~a & ~b)]]
    assert stats.chi2_contingency(table).pvalue > 1e-6
    # The seed's check: a single column and a single row both get a mixed mask.
    for shape in [(1000, 1), (1, 1000)]:
        out = L.Dropout(0.8).forward(np.random.uniform(5, 10, shape))
        assert 0 < np.sum(out == 0) < out.size


def test_backward_reuses_the_forward_mask():
    layer = L.Dropout(0.4)
    x = np.random.uniform(1, 2, (30, 20))
    out = layer.forward(x)
    g = np.random.uniform(1, 2, x.shape)
    grad = layer.backward(x, g)
    np.testing.assert_array_equal(grad == 0, out == 0)
    np.testing.assert_allclose(grad, g * (out / x))
    grad_again = layer.backward(x, g)
    np.testing.assert_array_equal(grad, grad_again)


def test_evaluate_and_p_zero_are_identity():
    x = np.random.randn(7, 5)
    g = np.random.randn(7, 5)
    layer = L.Dropout(0.7)
    layer.evaluate()
    np.testing.assert_array_equal(layer.forward(x), x)
    np.testing.assert_array_equal(layer.backward(x, g), g)
    zero = L.Dropout(0.0)
    np.testing.assert_array_equal(zero.forward(x), x)
    np.testing.assert_array_equal(zero.backward(x, g), g)


def test_bad_use_gets_a_clear_error():
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        L.Dropout(1.0)
    with pytest.raises(ValueError):
        L.Dropout(-0.1)
    layer = L.Dropout(0.5)
    with pytest.raises(RuntimeError, match="before forward"):
        layer.backward(np.ones((2, 2)), np.ones((2, 2)))
    layer.forward(np.ones((2, 2)))
    with pytest.raises(ValueError, match="does not match the mask"):
        layer.backward(np.ones((3, 2)), np.ones((3, 2)))
