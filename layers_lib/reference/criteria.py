"""Negative log-likelihood losses. input and target (B, C); the loss is averaged over the batch.

The criteria are the only place that divides by the batch size: layers pass gradients
of the averaged loss through unchanged.
"""
import numpy as np

from ..contract import Criterion


class NLLCriterionUnstable(Criterion):
    """NLL on probabilities (a SoftMax output).

    loss = -1/B sum_ij t_ij log(clip(p_ij, EPS, 1 - EPS))
    dL/dp_ij = -t_ij / (B * clip(p_ij, EPS, 1 - EPS))
    Unstable because once p underflows to 0 the clip caps the loss at -log(EPS) ~ 34.5
    and the gradient at 1/EPS: use LogSoftMax + NLLCriterion instead.
    """

    EPS = 1e-15

    def update_output(self, input, target):
        """input: probabilities (B, C); target one-hot (B, C) or labels (B,) -> scalar loss."""
        target = self.one_hot_target(input, target)
        clipped = np.clip(input, self.EPS, 1 - self.EPS)
        self.output = input.dtype.type(-(target * np.log(clipped)).sum() / input.shape[0])
        return self.output

    def update_grad_input(self, input, target):
        """dL/dinput (B, C)."""
        target = self.one_hot_target(input, target)
        clipped = np.clip(input, self.EPS, 1 - self.EPS)
        self.grad_input = (-target / clipped / input.shape[0]).astype(input.dtype, copy=False)
        return self.grad_input


class NLLCriterion(Criterion):
    """NLL on log-probabilities (a LogSoftMax output).

    loss = -1/B sum_ij t_ij y_ij,   dL/dy_ij = -t_ij / B
    """

    def update_output(self, input, target):
        """input: log-probabilities (B, C); target one-hot (B, C) or labels (B,) -> scalar loss."""
        target = self.one_hot_target(input, target)
        self.output = input.dtype.type(-(target * input).sum() / input.shape[0])
        return self.output

    def update_grad_input(self, input, target):
        """dL/dinput = -target / B, (B, C)."""
        target = self.one_hot_target(input, target)
        self.grad_input = (-target / input.shape[0]).astype(input.dtype, copy=False)
        return self.grad_input
