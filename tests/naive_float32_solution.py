"""A correct but float32-naive solution: different (less careful) formulas than the reference,
all arithmetic in the input's dtype. Graded checks must never fail it by rounding."""
import numpy as np

import layers_lib.reference as L
from layers_lib.reference import *  # noqa: F401,F403 - the other classes as they are


class SoftMax(L.SoftMax):
    def update_output(self, input):
        e = np.exp(input - input.max(axis=1, keepdims=True))
        self.output = e / np.sum(e, axis=1, keepdims=True)
        return self.output

    def update_grad_input(self, input, grad_output):
        p = self.output
        jac_vec = np.einsum("bi,bi->b", grad_output, p)[:, None]   # a different summation order
        self.grad_input = p * grad_output - p * jac_vec
        return self.grad_input


class BatchNormalization(L.BatchNormalization):
    def update_output(self, input):
        if self.training:
            mean = input.mean(axis=0)
            var = (input ** 2).mean(axis=0) - mean ** 2                # E[x^2] - E[x]^2
            self._mean, self._var = mean, var
            self.output = (input - mean) / np.sqrt(var + self.EPS)
            if self.moving_mean is None:
                self.moving_mean = np.zeros_like(mean)
                self.moving_variance = np.ones_like(var)
            self.moving_mean = self.moving_mean * self.alpha + mean * (1 - self.alpha)
            self.moving_variance = self.moving_variance * self.alpha + var * (1 - self.alpha)
            self._inv_std = 1 / np.sqrt(var + self.EPS)
            self.output = self.output.astype(input.dtype)
            return self.output
        return super().update_output(input)

    def update_grad_input(self, input, grad_output):
        if not self.training:
            return super().update_grad_input(input, grad_output)
        # the staged computational-graph backward (CS231n style)
        n = input.shape[0]
        xmu = input - self._mean
        ivar = self._inv_std
        dxhat = grad_output * ivar
        dvar = np.sum(grad_output * xmu, axis=0) * -0.5 * ivar ** 3
        dmu = np.sum(-dxhat, axis=0) + dvar * np.mean(-2 * xmu, axis=0)
        self.grad_input = (dxhat + dvar * 2 * xmu / n + dmu / n).astype(input.dtype)
        return self.grad_input


class ELU(L.ELU):
    def update_output(self, input):
        self.output = np.where(input > 0, input, self.alpha * (np.exp(np.minimum(input, 0)) - 1)).astype(input.dtype)
        return self.output


class SoftPlus(L.SoftPlus):
    def update_output(self, input):
        self.output = np.logaddexp(0, input).astype(input.dtype)
        return self.output

    def update_grad_input(self, input, grad_output):
        self.grad_input = (grad_output * np.exp(-np.logaddexp(0, -input))).astype(input.dtype)
        return self.grad_input


class LogSoftMax(L.LogSoftMax):
    def update_output(self, input):
        m = input.max(axis=1, keepdims=True)
        self.output = input - (m + np.log(np.sum(np.exp(input - m), axis=1, keepdims=True)))
        return self.output

    def update_grad_input(self, input, grad_output):
        softmax = np.exp(self.output)
        self.grad_input = grad_output - softmax * grad_output.sum(axis=1, keepdims=True)
        return self.grad_input
