"""Imports torch once at the top of the notebook and uses it (under another name) in one class."""
import torch as T
from torch.nn import functional as F


class ELU(Module):
    def __init__(self, alpha=1.0):
        super().__init__()
        self.alpha = alpha

    def update_output(self, input):
        self.output = F.elu(T.from_numpy(input), self.alpha).numpy()
        return self.output

    def update_grad_input(self, input, grad_output):
        x = T.from_numpy(input).requires_grad_()
        F.elu(x, self.alpha).backward(T.from_numpy(grad_output))
        self.grad_input = x.grad.numpy()
        return self.grad_input
