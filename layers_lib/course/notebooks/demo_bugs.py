"""Bugs students really make, each written as the student would: a replacement for one method
of a reference class. `demo_submissions` swaps the method into the solution cell, so a
reformatted reference never breaks a bug (there is no source text to match).

`BUGS[name]` is the list of (class name, method name, replacement) a demo student makes; a
replacement is a function, or source text where it cannot be one (a syntax error).
"""
import numpy as np

from layers_lib.grading.visible_tests import ADVANCED_NAMES, GRADED_NAMES


def linear_transposed_grad_W(self, input, grad_output):
    # grad_W computed as grad_output.T @ input: shape (M, N) instead of (N, M)
    self.grad_W = (grad_output.T @ input).astype(self.W.dtype, copy=False)
    self.grad_b = grad_output.sum(axis=0).astype(self.b.dtype, copy=False)


def dropout_without_rescale(self, input):
    # kept values are not scaled by 1/(1-p)
    if not self.training or self.p == 0:
        self.mask = None
        self.output = input
        return self.output
    self.mask = (np.random.random_sample(input.shape) >= self.p).astype(input.dtype)
    self.output = input * self.mask
    return self.output


def softmax_without_max_shift(self, input):
    # np.exp overflows for logits above ~88 (float32) / ~709 (float64)
    exp = np.exp(input)
    self.output = exp / exp.sum(axis=1, keepdims=True)
    return self.output


def logsoftmax_without_max_shift(self, input):
    self.output = input - np.log(np.exp(input).sum(axis=1, keepdims=True))
    return self.output


def maxpool_gradient_to_the_whole_window(self, input, grad_output):
    # every element of a window gets the window's gradient, not only its maximum
    k = self.kernel_size
    rows, cols = grad_output.shape[2] * k, grad_output.shape[3] * k
    self.grad_input = np.zeros_like(input)
    self.grad_input[:, :, :rows, :cols] = grad_output.repeat(k, axis=2).repeat(k, axis=3)
    return self.grad_input


# A syntax error cannot be a function: this replacement is source text (a missing parenthesis).
ELU_WITH_A_SYNTAX_ERROR = """\
def update_output(self, input):
    negative = np.minimum(input, 0
    self.output = np.where(input > 0, input, self.alpha * np.expm1(negative)).astype(
        input.dtype, copy=False)
    return self.output
"""


BUGS = {
    "dan_transposed_and_dropout": [("Linear", "update_grad_params", linear_transposed_grad_W),
                                   ("Dropout", "update_output", dropout_without_rescale),
                                   # the advanced track only (the basic release has no MaxPool2d)
                                   ("MaxPool2d", "update_grad_input", maxpool_gradient_to_the_whole_window)],
    "eve_unstable_softmax": [("SoftMax", "update_output", softmax_without_max_shift),
                             ("LogSoftMax", "update_output", logsoftmax_without_max_shift)],
    "fay_syntax_error": [("ELU", "update_output", ELU_WITH_A_SYNTAX_ERROR)],
}
# a bug of a class a build lacks is skipped (MaxPool2d in a basic build): a misspelt one would be too
assert {bug[0] for bugs in BUGS.values() for bug in bugs} <= set(GRADED_NAMES + ADVANCED_NAMES), \
    "every demo bug names a graded class"
