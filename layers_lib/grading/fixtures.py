"""Ungraded modules for checks that need modules around the class under test.

The hidden Sequential check puts these inside the student's `Sequential`, so that it tests the
container alone (a broken `Linear` does not fail `Sequential`) and so that the grader needs no
reference solution. None of them is a class of the assignment. The worker of the isolation
loads this module privately to unpickle them (see `_worker._TRUSTED_MODULES`).

Each has a float64 PyTorch twin (`torch_twin()`) that the check runs on the same values.
"""
import numpy as np

from ..contract import Module


class Sine(Module):
    """output = sin(w * input), one frequency per feature.

    input: (batch, n); w: (n,); grad_w: (n,). A parameterised module with a non-linear input
    gradient: a container that passes the wrong input to `backward` gets wrong gradients.
    """

    def __init__(self, w):
        super().__init__()
        self.w = np.array(w)
        self.grad_w = np.zeros_like(self.w)

    def update_output(self, input):
        self.output = np.sin(input * self.w)
        return self.output

    def update_grad_input(self, input, grad_output):
        self.grad_input = grad_output * self.w * np.cos(input * self.w)
        return self.grad_input

    def update_grad_params(self, input, grad_output):
        self.grad_w = (grad_output * input * np.cos(input * self.w)).sum(axis=0).astype(self.w.dtype)

    def zero_grad_params(self):
        self.grad_w.fill(0)

    def get_params(self):
        return [self.w]

    def get_grad_params(self):
        return [self.grad_w]

    def torch_twin(self):
        import torch

        w = torch.nn.Parameter(torch.from_numpy(self.w.astype(np.float64)))
        return _Lambda(lambda x: torch.sin(x * w), [w])


class Roll(Module):
    """output = input with its features rotated by `shift` (np.roll along axis 1); no parameters.

    Mixes the features, so a container that applies modules in the wrong order is caught.
    """

    def __init__(self, shift=1):
        super().__init__()
        self.shift = shift

    def update_output(self, input):
        self.output = np.roll(input, self.shift, axis=1)
        return self.output

    def update_grad_input(self, input, grad_output):
        self.grad_input = np.roll(grad_output, -self.shift, axis=1)
        return self.grad_input

    def torch_twin(self):
        import torch

        return _Lambda(lambda x: torch.roll(x, self.shift, dims=1), [])


def _Lambda(function, parameters):
    import torch

    class Lambda(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.params = torch.nn.ParameterList(parameters)

        def forward(self, x):
            return function(x)

    return Lambda()
