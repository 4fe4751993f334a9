"""Element-wise activations. Shapes: input, output, grad_output and grad_input all (B, N).

At a kink (x = 0 exactly) each layer uses PyTorch's convention, stated per class.
"""
import numpy as np

from ..contract import Module


class ReLU(Module):
    """y = max(x, 0);  dL/dx = G * [x > 0]  (gradient 0 at x = 0, as in PyTorch)."""

    def update_output(self, input):
        zeros = np.zeros(input.shape, dtype=input.dtype)
        # the maximum with an array of zeros, written into that array: NumPy's vectorised
        # loop, ~3x faster than np.maximum(input, 0), whose scalar operand takes a slow path
        self.output = np.maximum(input, zeros, out=zeros)
        return self.output

    def update_grad_input(self, input, grad_output):
        keep = input > 0
        if np.isfinite(grad_output).all():
            # multiplying by the 0/1 mask is branch-free: several times faster than np.where
            grad_input = grad_output * keep
        else:
            # 0 * inf would be NaN: select, so that dead units pass exactly 0
            grad_input = np.where(keep, grad_output, 0)
        self.grad_input = grad_input.astype(grad_output.dtype, copy=False)
        return self.grad_input


class LeakyReLU(Module):
    """y = x if x > 0 else slope * x;  dL/dx = G if x > 0 else slope * G  (slope at x = 0)."""

    def __init__(self, slope=0.03):
        super().__init__()
        self.slope = slope

    def update_output(self, input):
        self.output = np.where(input > 0, input, input * self.slope).astype(input.dtype, copy=False)
        return self.output

    def update_grad_input(self, input, grad_output):
        self.grad_input = np.where(input > 0, grad_output, grad_output * self.slope).astype(
            grad_output.dtype, copy=False)
        return self.grad_input

    def __repr__(self):
        return f"LeakyReLU(slope={self.slope})"


class ELU(Module):
    """y = x if x > 0 else alpha * (exp(x) - 1);  dL/dx = G if x > 0 else G * alpha * exp(x).

    exp is only evaluated on min(x, 0), so large positive inputs cannot overflow, and
    expm1 keeps precision for x near 0. At x = 0 the gradient is alpha * G (PyTorch).
    """

    def __init__(self, alpha=1.0):
        super().__init__()
        self.alpha = alpha

    def update_output(self, input):
        negative = np.minimum(input, 0)
        self.output = np.where(input > 0, input, self.alpha * np.expm1(negative)).astype(
            input.dtype, copy=False)
        return self.output

    def update_grad_input(self, input, grad_output):
        negative = np.minimum(input, 0)
        self.grad_input = np.where(input > 0, grad_output,
                                   grad_output * self.alpha * np.exp(negative)).astype(
            grad_output.dtype, copy=False)
        return self.grad_input

    def __repr__(self):
        return f"ELU(alpha={self.alpha})"


class SoftPlus(Module):
    """y = log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|));  dL/dx = G * sigmoid(x).

    The rewritten form never exponentiates a positive number, so it is exact for large
    |x| where the naive formula overflows (x > 88 in float32, x > 709 in float64).
    sigmoid(x) is computed from exp(-|x|) for the same reason.
    """

    def update_output(self, input):
        self.output = (np.maximum(input, 0) + np.log1p(np.exp(-np.abs(input)))).astype(
            input.dtype, copy=False)
        return self.output

    def update_grad_input(self, input, grad_output):
        e = np.exp(-np.abs(input))
        sigmoid = np.where(input >= 0, 1 / (1 + e), e / (1 + e))
        self.grad_input = (grad_output * sigmoid).astype(grad_output.dtype, copy=False)
        return self.grad_input
