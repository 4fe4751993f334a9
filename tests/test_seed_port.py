"""The seed's tests (repaired) pass on the reference and fail, with a useful message, on bugs."""
import numpy as np
import pytest

import layers_lib.reference as L
from layers_lib.grading import visible_tests


@pytest.mark.parametrize("name", list(visible_tests.VISIBLE_TESTS))
def test_seed_test_passes_on_reference(name):
    test, needs = visible_tests.VISIBLE_TESTS[name]
    test(*[getattr(L, n) for n in needs])


def test_there_is_a_seed_test_per_class():
    assert set(visible_tests.VISIBLE_TESTS) == (set(L.LAYER_CLASSES) | set(L.CRITERION_CLASSES) | set(L.OPTIMIZERS)
                                                | set(L.ADVANCED_CLASSES))
    assert visible_tests.ADVANCED_NAMES == L.ADVANCED_CLASSES


class TransposedGradW(L.Linear):
    def update_grad_params(self, input, grad_output):
        super().update_grad_params(input, grad_output)
        self.grad_W = np.ascontiguousarray(self.grad_W.T) if self.grad_W.shape[0] == self.grad_W.shape[1] \
            else self.grad_W * -1


class NoRescaleDropout(L.Dropout):
    def update_output(self, input):
        super().update_output(input)
        if self.training and self.mask is not None:
            self.output = input * self.mask
        return self.output


class SummedNLL(L.NLLCriterion):
    def update_output(self, input, target):
        self.output = input.dtype.type(-(target * input).sum())
        return self.output


class Float64Softmax(L.SoftMax):
    def update_output(self, input):
        return super().update_output(input.astype(np.float64))


@pytest.mark.parametrize("test, cls, expected", [
    (visible_tests.test_linear, TransposedGradW, r"Linear grad_W"),
    (visible_tests.test_dropout, NoRescaleDropout, r"not rescaled by 1/\(1-p\)"),
    (visible_tests.test_nllcriterion, SummedNLL, r"summed over the batch"),
    (visible_tests.test_softmax, Float64Softmax, r"dtype float64, expected float32"),
])
def test_seed_test_names_the_bug(test, cls, expected):
    with pytest.raises(AssertionError, match=expected):
        test(cls)
