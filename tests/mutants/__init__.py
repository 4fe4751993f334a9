"""A corpus of student-style bugs (mutants) and of correct styles, for tests/test_mutants.py.

Each mutant is one class or function of the assignment as a student could get it wrong: the
reference (`L`) with one small edit, written as a subclass that overrides the broken method
(or a whole function for the optimizers). Graded through the real path (the visible tests and
the hidden checks, `run_hidden_checks`), every mutant must lose points, and at least the part
named in `part`. A surviving mutant is a blind spot of the checks: fix the checks (a scenario,
a tighter bound), not the mutant.

`CORRECT` holds correct code in styles that differ from the reference (other formulas, other
rounding behaviour); each must keep full marks, so the checks stay fair while they get stricter.
"""
from __future__ import annotations

import textwrap
from dataclasses import dataclass


HEADER = "import numpy as np\nfrom scipy import special\n"


@dataclass(frozen=True)
class Mutant:
    name: str        # the graded class or function it breaks
    part: str        # a part of that class the bug must cost (grading/parts.py)
    source: str


def namespace_with(source):
    """The reference solution with `source` (a student's version of one name) executed over it."""
    import layers_lib.reference as L
    from layers_lib import contract

    ns = {n: getattr(L, n) for n in dir(L) if not n.startswith("__")}
    ns.update(Module=contract.Module, Criterion=contract.Criterion, L=L)
    exec(compile(HEADER + textwrap.dedent(source), "<student>", "exec"), ns)
    return ns


M = Mutant
MUTANTS = {
    # --- Linear ------------------------------------------------------------------------------
    "Linear: grad_input with W instead of W.T (where the shapes allow it)": M("Linear", "backward", """
        class Linear(L.Linear):
            def update_grad_input(self, input, grad_output):
                W = self.W if self.W.shape[0] == self.W.shape[1] else self.W.T
                self.grad_input = grad_output @ W
                return self.grad_input
    """),
    "Linear: missing bias gradient (grad_b stays zero)": M("Linear", "parameter gradients", """
        class Linear(L.Linear):
            def update_grad_params(self, input, grad_output):
                self.grad_W = input.T @ grad_output
                self.grad_b = np.zeros_like(self.b)
    """),
    "Linear: grad_b from the first sample only": M("Linear", "parameter gradients", """
        class Linear(L.Linear):
            def update_grad_params(self, input, grad_output):
                super().update_grad_params(input, grad_output)
                self.grad_b = grad_output[0].copy()
    """),
    "Linear: grad_W transposed where square (grad_output.T @ input)": M("Linear", "parameter gradients", """
        class Linear(L.Linear):
            def update_grad_params(self, input, grad_output):
                super().update_grad_params(input, grad_output)
                if self.W.shape[0] == self.W.shape[1]:
                    self.grad_W = grad_output.T @ input
    """),
    "Linear: update_grad_params accumulates (+=) instead of setting": M("Linear", "parameter gradients", """
        class Linear(L.Linear):
            def update_grad_params(self, input, grad_output):
                self.grad_W = self.grad_W + input.T @ grad_output
                self.grad_b = self.grad_b + grad_output.sum(axis=0)
    """),
    "Linear: forward forgets the bias": M("Linear", "forward", """
        class Linear(L.Linear):
            def update_output(self, input):
                self.output = input @ self.W
                return self.output
    """),
    "Linear: forward upcasts float32 to float64": M("Linear", "forward", """
        class Linear(L.Linear):
            def update_output(self, input):
                self.output = input @ self.W + self.b.astype(np.float64)
                return self.output
    """),
    "Linear: zero_grad_params does nothing": M("Linear", "parameter gradients", """
        class Linear(L.Linear):
            def zero_grad_params(self):
                pass
    """),
    "Linear: get_grad_params returns stale arrays (gradients stored under other names)": M(
        "Linear", "parameter gradients", """
        class Linear(L.Linear):
            def update_grad_params(self, input, grad_output):
                self.dW = input.T @ grad_output
                self.db = grad_output.sum(axis=0)
    """),
    "Linear: grad_input divided by the batch size": M("Linear", "backward", """
        class Linear(L.Linear):
            def update_grad_input(self, input, grad_output):
                self.grad_input = grad_output @ self.W.T / input.shape[0]
                return self.grad_input
    """),
    # --- SoftMax ------------------------------------------------------------------------------
    "SoftMax: no max shift (exp overflows)": M("SoftMax", "large inputs", """
        class SoftMax(L.SoftMax):
            def update_output(self, input):
                e = np.exp(input)
                self.output = e / e.sum(axis=1, keepdims=True)
                return self.output
    """),
    "SoftMax: shifted by the maximum of the whole batch, not of each row": M("SoftMax", "large inputs", """
        class SoftMax(L.SoftMax):
            def update_output(self, input):
                e = np.exp(input - input.max())
                self.output = e / e.sum(axis=1, keepdims=True)
                return self.output
    """),
    "SoftMax: logits clipped to [-80, 80] instead of shifted (finite but wrong for large inputs)": M(
        "SoftMax", "large inputs", """
        class SoftMax(L.SoftMax):
            def update_output(self, input):
                e = np.exp(np.clip(input, -80, 80))
                self.output = e / e.sum(axis=1, keepdims=True)
                return self.output
    """),
    "SoftMax: normalised over axis 0 (the batch)": M("SoftMax", "forward", """
        class SoftMax(L.SoftMax):
            def update_output(self, input):
                e = np.exp(input - input.max(axis=0, keepdims=True))
                self.output = e / e.sum(axis=0, keepdims=True)
                return self.output
    """),
    "SoftMax: backward forgets the sum(g p) term": M("SoftMax", "backward", """
        class SoftMax(L.SoftMax):
            def update_grad_input(self, input, grad_output):
                self.grad_input = self.output * grad_output
                return self.grad_input
    """),
    "SoftMax: backward without the outer factor p": M("SoftMax", "backward", """
        class SoftMax(L.SoftMax):
            def update_grad_input(self, input, grad_output):
                p = self.output
                self.grad_input = grad_output - (grad_output * p).sum(axis=1, keepdims=True)
                return self.grad_input
    """),
    "SoftMax: backward sums g p over axis 0": M("SoftMax", "backward", """
        class SoftMax(L.SoftMax):
            def update_grad_input(self, input, grad_output):
                p = self.output
                self.grad_input = p * (grad_output - (grad_output * p).sum(axis=0, keepdims=True))
                return self.grad_input
    """),
    "SoftMax: backward subtracts the plain mean of g instead of sum(g p)": M("SoftMax", "backward", """
        class SoftMax(L.SoftMax):
            def update_grad_input(self, input, grad_output):
                p = self.output
                self.grad_input = p * (grad_output - grad_output.mean(axis=1, keepdims=True))
                return self.grad_input
    """),
    # --- LogSoftMax ---------------------------------------------------------------------------
    "LogSoftMax: log(sum(exp(x))) without the max shift": M("LogSoftMax", "large inputs", """
        class LogSoftMax(L.LogSoftMax):
            def update_output(self, input):
                self.output = input - np.log(np.exp(input).sum(axis=1, keepdims=True))
                return self.output
    """),
    "LogSoftMax: log of the softmax (log 0 for large inputs)": M("LogSoftMax", "large inputs", """
        class LogSoftMax(L.LogSoftMax):
            def update_output(self, input):
                e = np.exp(input - input.max(axis=1, keepdims=True))
                self.output = np.log(e / e.sum(axis=1, keepdims=True))
                return self.output
    """),
    "LogSoftMax: forward forgets the log of the sum": M("LogSoftMax", "forward", """
        class LogSoftMax(L.LogSoftMax):
            def update_output(self, input):
                shifted = input - input.max(axis=1, keepdims=True)
                self.output = shifted - np.exp(shifted).sum(axis=1, keepdims=True)
                return self.output
    """),
    "LogSoftMax: backward multiplies elementwise instead of by sum(g)": M("LogSoftMax", "backward", """
        class LogSoftMax(L.LogSoftMax):
            def update_grad_input(self, input, grad_output):
                self.grad_input = grad_output - np.exp(self.output) * grad_output
                return self.grad_input
    """),
    "LogSoftMax: backward forgets the softmax factor": M("LogSoftMax", "backward", """
        class LogSoftMax(L.LogSoftMax):
            def update_grad_input(self, input, grad_output):
                self.grad_input = grad_output - grad_output.sum(axis=1, keepdims=True)
                return self.grad_input
    """),
    "LogSoftMax: backward sums g over axis 0": M("LogSoftMax", "backward", """
        class LogSoftMax(L.LogSoftMax):
            def update_grad_input(self, input, grad_output):
                self.grad_input = grad_output - np.exp(self.output) * grad_output.sum(axis=0, keepdims=True)
                return self.grad_input
    """),
    # --- BatchNormalization -------------------------------------------------------------------
    "BatchNormalization: normalises with the unbiased variance": M("BatchNormalization", "forward", """
        class BatchNormalization(L.BatchNormalization):
            def update_output(self, input):
                if not self.training:
                    return super().update_output(input)
                mean, var = input.mean(axis=0), input.var(axis=0, ddof=1)
                self._inv_std = 1 / np.sqrt(var + self.EPS)
                self.output = ((input - mean) * self._inv_std).astype(input.dtype)
                if self.moving_mean is None:
                    self.moving_mean, self.moving_variance = np.zeros_like(mean), np.ones_like(var)
                self.moving_mean = self.alpha * self.moving_mean + (1 - self.alpha) * mean
                self.moving_variance = self.alpha * self.moving_variance + (1 - self.alpha) * input.var(axis=0)
                return self.output
    """),
    "BatchNormalization: moving_variance with the unbiased variance": M("BatchNormalization", "moving statistics", """
        class BatchNormalization(L.BatchNormalization):
            def update_output(self, input):
                out = super().update_output(input)
                if self.training:
                    n = input.shape[0]
                    self.moving_variance = self.moving_variance + (1 - self.alpha) * input.var(axis=0) / (n - 1)
                return out
    """),
    "BatchNormalization: EPS outside the square root": M("BatchNormalization", "forward", """
        class BatchNormalization(L.BatchNormalization):
            def update_output(self, input):
                out = super().update_output(input)
                if self.training:
                    mean, var = input.mean(axis=0), input.var(axis=0)
                    self._inv_std = 1 / (np.sqrt(var) + self.EPS)
                    self.output = ((input - mean) * self._inv_std).astype(input.dtype)
                return self.output
    """),
    "BatchNormalization: alpha and 1 - alpha swapped in the moving averages": M(
        "BatchNormalization", "moving statistics", """
        class BatchNormalization(L.BatchNormalization):
            def update_output(self, input):
                if self.training and self.moving_mean is not None:
                    old_mean, old_var = self.moving_mean, self.moving_variance
                    out = super().update_output(input)
                    a = self.alpha
                    self.moving_mean = (1 - a) * old_mean + a * input.mean(axis=0)
                    self.moving_variance = (1 - a) * old_var + a * input.var(axis=0)
                    return out
                return super().update_output(input)
    """),
    "BatchNormalization: moving statistics start at the first batch's statistics": M(
        "BatchNormalization", "moving statistics", """
        class BatchNormalization(L.BatchNormalization):
            def update_output(self, input):
                if self.training and self.moving_mean is None:
                    self.moving_mean, self.moving_variance = input.mean(axis=0), input.var(axis=0)
                return super().update_output(input)
    """),
    "BatchNormalization: moving statistics never updated": M("BatchNormalization", "moving statistics", """
        class BatchNormalization(L.BatchNormalization):
            def update_output(self, input):
                mean, var = self.moving_mean, self.moving_variance
                out = super().update_output(input)
                if self.training and mean is not None:
                    self.moving_mean, self.moving_variance = mean, var
                return out
    """),
    "BatchNormalization: moving_variance averages the standard deviation": M(
        "BatchNormalization", "moving statistics", """
        class BatchNormalization(L.BatchNormalization):
            def update_output(self, input):
                out = super().update_output(input)
                if self.training:
                    var = input.var(axis=0)
                    self.moving_variance = self.moving_variance - (1 - self.alpha) * (var - np.sqrt(var))
                return out
    """),
    "BatchNormalization: moving_variance keeps var + EPS": M("BatchNormalization", "moving statistics", """
        class BatchNormalization(L.BatchNormalization):
            def update_output(self, input):
                out = super().update_output(input)
                if self.training:
                    self.moving_variance = self.moving_variance + (1 - self.alpha) * self.EPS
                return out
    """),
    "BatchNormalization: EPS = 1e-5 (PyTorch's default) instead of the class's 1e-3": M(
        "BatchNormalization", "forward", """
        class BatchNormalization(L.BatchNormalization):
            def update_output(self, input):
                eps, self.EPS = self.EPS, 1e-5
                try:
                    return super().update_output(input)
                finally:
                    self.EPS = eps
    """),
    "BatchNormalization: evaluate mode uses the batch statistics": M("BatchNormalization", "evaluate mode", """
        class BatchNormalization(L.BatchNormalization):
            def update_output(self, input):
                if self.training:
                    return super().update_output(input)
                self._inv_std = 1 / np.sqrt(input.var(axis=0) + self.EPS)
                self.output = ((input - input.mean(axis=0)) * self._inv_std).astype(input.dtype)
                return self.output
    """),
    "BatchNormalization: evaluate mode without EPS": M("BatchNormalization", "evaluate mode", """
        class BatchNormalization(L.BatchNormalization):
            def update_output(self, input):
                if self.training:
                    return super().update_output(input)
                self._inv_std = 1 / np.sqrt(self.moving_variance)
                self.output = ((input - self.moving_mean) * self._inv_std).astype(input.dtype)
                return self.output
    """),
    "BatchNormalization: evaluate-mode backward uses the training formula": M(
        "BatchNormalization", "evaluate mode", """
        class BatchNormalization(L.BatchNormalization):
            def update_grad_input(self, input, grad_output):
                batch, y = input.shape[0], self.output
                self.grad_input = (self._inv_std / batch) * (
                    batch * grad_output - grad_output.sum(axis=0) - y * (grad_output * y).sum(axis=0))
                return self.grad_input
    """),
    "BatchNormalization: backward forgets the y * mean(g y) term": M("BatchNormalization", "backward", """
        class BatchNormalization(L.BatchNormalization):
            def update_grad_input(self, input, grad_output):
                if not self.training:
                    return super().update_grad_input(input, grad_output)
                self.grad_input = self._inv_std * (grad_output - grad_output.mean(axis=0))
                return self.grad_input
    """),
    "BatchNormalization: backward forgets the mean(g) term": M("BatchNormalization", "backward", """
        class BatchNormalization(L.BatchNormalization):
            def update_grad_input(self, input, grad_output):
                if not self.training:
                    return super().update_grad_input(input, grad_output)
                y = self.output
                self.grad_input = self._inv_std * (grad_output - y * (grad_output * y).mean(axis=0))
                return self.grad_input
    """),
    "BatchNormalization: backward divides by B - 1": M("BatchNormalization", "backward", """
        class BatchNormalization(L.BatchNormalization):
            def update_grad_input(self, input, grad_output):
                if not self.training:
                    return super().update_grad_input(input, grad_output)
                batch, y = input.shape[0], self.output
                self.grad_input = (self._inv_std / (batch - 1)) * (
                    batch * grad_output - grad_output.sum(axis=0) - y * (grad_output * y).sum(axis=0))
                return self.grad_input
    """),
    # --- Scaling ------------------------------------------------------------------------------
    "Scaling: grad_gamma without the input factor": M("Scaling", "parameter gradients", """
        class Scaling(L.Scaling):
            def update_grad_params(self, input, grad_output):
                super().update_grad_params(input, grad_output)
                self.grad_gamma = grad_output.sum(axis=0)
    """),
    "Scaling: grad_input forgets gamma": M("Scaling", "backward", """
        class Scaling(L.Scaling):
            def update_grad_input(self, input, grad_output):
                self.grad_input = grad_output
                return self.grad_input
    """),
    "Scaling: grad_beta averaged over the batch": M("Scaling", "parameter gradients", """
        class Scaling(L.Scaling):
            def update_grad_params(self, input, grad_output):
                super().update_grad_params(input, grad_output)
                self.grad_beta = grad_output.mean(axis=0)
    """),
    "Scaling: forward adds gamma instead of beta": M("Scaling", "forward", """
        class Scaling(L.Scaling):
            def update_output(self, input):
                self.output = input * self.gamma + self.gamma
                return self.output
    """),
    # --- Sequential ---------------------------------------------------------------------------
    "Sequential: backward gives every module the network's input": M("Sequential", "backward", """
        class Sequential(L.Sequential):
            def update_grad_input(self, input, grad_output):
                self.grad_outputs = [None] * len(self.modules)
                for k in reversed(range(len(self.modules))):
                    self.grad_outputs[k] = grad_output
                    grad_output = self.modules[k].backward(input, grad_output)
                self.grad_input = grad_output
                return self.grad_input
    """),
    "Sequential: backward gives every module the network's grad_output": M("Sequential", "backward", """
        class Sequential(L.Sequential):
            def update_grad_input(self, input, grad_output):
                g = grad_output
                for k in reversed(range(len(self.modules))):
                    g = self.modules[k].backward(self.inputs[k], grad_output)
                self.grad_input = g
                return self.grad_input
    """),
    "Sequential: forward in reverse order": M("Sequential", "forward", """
        class Sequential(L.Sequential):
            def update_output(self, input):
                self.inputs = [None] * len(self.modules)
                for k in reversed(range(len(self.modules))):
                    self.inputs[k] = input
                    input = self.modules[k].forward(input)
                self.output = input
                return self.output
    """),
    "Sequential: train()/evaluate() do not reach the modules": M("Sequential", "forward", """
        class Sequential(L.Sequential):
            def train(self):
                self.training = True
            def evaluate(self):
                self.training = False
    """),
    "Sequential: get_grad_params flattened into one list": M("Sequential", "backward", """
        class Sequential(L.Sequential):
            def get_grad_params(self):
                return [g for module in self.modules for g in module.get_grad_params()]
    """),
    "Sequential: backward computes input gradients only (no parameter gradients)": M(
        "Sequential", "backward", """
        class Sequential(L.Sequential):
            def update_grad_input(self, input, grad_output):
                for k in reversed(range(len(self.modules))):
                    grad_output = self.modules[k].update_grad_input(self.inputs[k], grad_output)
                self.grad_input = grad_output
                return self.grad_input
    """),
    # --- Dropout ------------------------------------------------------------------------------
    "Dropout: kept values not rescaled": M("Dropout", "forward", """
        class Dropout(L.Dropout):
            def update_output(self, input):
                out = super().update_output(input)
                if self.mask is not None:
                    self.output = input * self.mask
                return self.output
    """),
    "Dropout: p taken as the probability to keep": M("Dropout", "forward", """
        class Dropout(L.Dropout):
            def update_output(self, input):
                if not self.training or self.p == 0:
                    return super().update_output(input)
                self.mask = (np.random.random_sample(input.shape) < self.p).astype(input.dtype)
                self.output = input * self.mask / np.asarray(1 - self.p, dtype=input.dtype)
                return self.output
    """),
    "Dropout: backward draws a new mask": M("Dropout", "backward", """
        class Dropout(L.Dropout):
            def update_grad_input(self, input, grad_output):
                if self.training and self.p:
                    self.mask = (np.random.random_sample(input.shape) >= self.p).astype(input.dtype)
                return super().update_grad_input(input, grad_output)
    """),
    "Dropout: evaluate mode still drops": M("Dropout", "evaluate mode", """
        class Dropout(L.Dropout):
            def update_output(self, input):
                training, self.training = self.training, True
                try:
                    return super().update_output(input)
                finally:
                    self.training = training
    """),
    "Dropout: one mask value per sample (whole rows dropped)": M("Dropout", "forward", """
        class Dropout(L.Dropout):
            def update_output(self, input):
                if not self.training or self.p == 0:
                    return super().update_output(input)
                keep = np.random.random_sample((input.shape[0], 1)) >= self.p
                self.mask = np.broadcast_to(keep, input.shape).astype(input.dtype)
                self.output = input * self.mask / np.asarray(1 - self.p, dtype=input.dtype)
                return self.output
    """),
    "Dropout: kept values scaled by 1/p": M("Dropout", "forward", """
        class Dropout(L.Dropout):
            def update_output(self, input):
                out = super().update_output(input)
                if self.mask is not None:
                    self.output = input * self.mask / np.asarray(self.p, dtype=input.dtype)
                return self.output
    """),
    # --- activations --------------------------------------------------------------------------
    "ReLU: gradient 1 at x = 0 (>= instead of >)": M("ReLU", "backward", """
        class ReLU(L.ReLU):
            def update_grad_input(self, input, grad_output):
                self.grad_input = grad_output * (input >= 0)
                return self.grad_input
    """),
    "ReLU: backward multiplies by the output instead of the mask": M("ReLU", "backward", """
        class ReLU(L.ReLU):
            def update_grad_input(self, input, grad_output):
                self.grad_input = grad_output * self.output
                return self.grad_input
    """),
    "LeakyReLU: slope on the positive side": M("LeakyReLU", "forward", """
        class LeakyReLU(L.LeakyReLU):
            def update_output(self, input):
                self.output = np.where(input > 0, input * self.slope, input)
                return self.output
    """),
    "LeakyReLU: backward ignores the slope (ReLU's gradient)": M("LeakyReLU", "backward", """
        class LeakyReLU(L.LeakyReLU):
            def update_grad_input(self, input, grad_output):
                self.grad_input = grad_output * (input > 0)
                return self.grad_input
    """),
    "LeakyReLU: gradient 1 at x = 0 (>= instead of >)": M("LeakyReLU", "backward", """
        class LeakyReLU(L.LeakyReLU):
            def update_grad_input(self, input, grad_output):
                self.grad_input = np.where(input >= 0, grad_output, grad_output * self.slope)
                return self.grad_input
    """),
    "LeakyReLU: the default slope 0.03 hard-coded": M("LeakyReLU", "forward", """
        class LeakyReLU(L.LeakyReLU):
            def update_output(self, input):
                self.output = np.where(input > 0, input, input * np.asarray(0.03, input.dtype))
                return self.output
    """),
    "ELU: backward forgets alpha": M("ELU", "backward", """
        class ELU(L.ELU):
            def update_grad_input(self, input, grad_output):
                self.grad_input = np.where(input > 0, grad_output, grad_output * np.exp(np.minimum(input, 0)))
                return self.grad_input
    """),
    "ELU: alpha * exp(x) - 1 (misplaced parenthesis)": M("ELU", "forward", """
        class ELU(L.ELU):
            def update_output(self, input):
                self.output = np.where(input > 0, input, self.alpha * np.exp(np.minimum(input, 0)) - 1)
                return self.output
    """),
    "ELU: gradient at x = 0 from the positive branch": M("ELU", "backward", """
        class ELU(L.ELU):
            def update_grad_input(self, input, grad_output):
                self.grad_input = np.where(input >= 0, grad_output,
                                           grad_output * self.alpha * np.exp(np.minimum(input, 0)))
                return self.grad_input
    """),
    "SoftPlus: log1p(exp(x)) overflows for large inputs": M("SoftPlus", "large inputs", """
        class SoftPlus(L.SoftPlus):
            def update_output(self, input):
                self.output = np.log1p(np.exp(input))
                return self.output
    """),
    "SoftPlus: sigmoid as exp(x) / (1 + exp(x)) (inf / inf)": M("SoftPlus", "large inputs", """
        class SoftPlus(L.SoftPlus):
            def update_grad_input(self, input, grad_output):
                e = np.exp(input)
                self.grad_input = grad_output * e / (1 + e)
                return self.grad_input
    """),
    "SoftPlus: backward uses sigmoid(-x)": M("SoftPlus", "backward", """
        class SoftPlus(L.SoftPlus):
            def update_grad_input(self, input, grad_output):
                return super().update_grad_input(-input, grad_output)
    """),
    "SoftPlus: max(x, 0) + log1p(exp(-x)) without the absolute value": M("SoftPlus", "forward", """
        class SoftPlus(L.SoftPlus):
            def update_output(self, input):
                self.output = np.maximum(input, 0) + np.log1p(np.exp(-np.maximum(input, -30)))
                return self.output
    """),
    # --- criteria -----------------------------------------------------------------------------
    "NLLCriterionUnstable: clipped at 1e-7 instead of EPS": M("NLLCriterionUnstable", "loss", """
        class NLLCriterionUnstable(L.NLLCriterionUnstable):
            def update_output(self, input, target):
                p = np.clip(input, 1e-7, 1 - 1e-7)
                self.output = -np.sum(target * np.log(p)) / input.shape[0]
                return self.output
    """),
    "NLLCriterionUnstable: loss summed over the batch": M("NLLCriterionUnstable", "loss", """
        class NLLCriterionUnstable(L.NLLCriterionUnstable):
            def update_output(self, input, target):
                self.output = super().update_output(input, target) * input.shape[0]
                return self.output
    """),
    "NLLCriterionUnstable: gradient with the wrong sign": M("NLLCriterionUnstable", "gradient", """
        class NLLCriterionUnstable(L.NLLCriterionUnstable):
            def update_grad_input(self, input, target):
                self.grad_input = -super().update_grad_input(input, target)
                return self.grad_input
    """),
    "NLLCriterionUnstable: gradient of the unclipped input": M("NLLCriterionUnstable", "gradient", """
        class NLLCriterionUnstable(L.NLLCriterionUnstable):
            def update_grad_input(self, input, target):
                with np.errstate(divide="ignore", invalid="ignore"):
                    self.grad_input = np.where(target > 0, -target / input, 0) / input.shape[0]
                return self.grad_input
    """),
    "NLLCriterion: loss summed over the batch": M("NLLCriterion", "loss", """
        class NLLCriterion(L.NLLCriterion):
            def update_output(self, input, target):
                self.output = -np.sum(target * input)
                return self.output
    """),
    "NLLCriterion: loss averaged over every element": M("NLLCriterion", "loss", """
        class NLLCriterion(L.NLLCriterion):
            def update_output(self, input, target):
                self.output = -np.mean(target * input)
                return self.output
    """),
    "NLLCriterion: gradient not divided by the batch size": M("NLLCriterion", "gradient", """
        class NLLCriterion(L.NLLCriterion):
            def update_grad_input(self, input, target):
                self.grad_input = -target.astype(input.dtype)
                return self.grad_input
    """),
    # --- optimizers ---------------------------------------------------------------------------
    "sgd_momentum: dampened momentum v = m v + (1 - m) g": M("sgd_momentum", "update", """
        def sgd_momentum(variables, gradients, config, state):
            v = state.setdefault("v", {})
            for k, (x, g) in enumerate(L.iterate_params(variables, gradients)):
                v[k] = config["momentum"] * v.get(k, 0) + (1 - config["momentum"]) * g
                x -= config["learning_rate"] * v[k]
    """),
    "sgd_momentum: velocity not kept between calls": M("sgd_momentum", "update", """
        def sgd_momentum(variables, gradients, config, state):
            for x, g in L.iterate_params(variables, gradients):
                v = np.zeros_like(x)
                v = config["momentum"] * v + g
                x -= config["learning_rate"] * v
    """),
    "sgd_momentum: velocity keyed by the position inside each layer": M("sgd_momentum", "update", """
        def sgd_momentum(variables, gradients, config, state):
            v = state.setdefault("v", {})
            for layer_vars, layer_grads in zip(variables, gradients):
                for k, (x, g) in enumerate(zip(layer_vars, layer_grads)):
                    if k not in v or v[k].shape != x.shape:
                        v[k] = np.zeros_like(x)
                    v[k] = config["momentum"] * v[k] + g
                    x -= config["learning_rate"] * v[k]
    """),
    "sgd_momentum: parameters rebound, not updated in place": M("sgd_momentum", "update", """
        def sgd_momentum(variables, gradients, config, state):
            v = state.setdefault("v", {})
            for k, (x, g) in enumerate(L.iterate_params(variables, gradients)):
                v[k] = config["momentum"] * v.get(k, 0) + g
                x = x - config["learning_rate"] * v[k]
    """),
    "sgd_momentum: Nesterov instead of classical momentum": M("sgd_momentum", "update", """
        def sgd_momentum(variables, gradients, config, state):
            v = state.setdefault("v", {})
            for k, (x, g) in enumerate(L.iterate_params(variables, gradients)):
                v[k] = config["momentum"] * v.get(k, 0) + g
                x -= config["learning_rate"] * (g + config["momentum"] * v[k])
    """),
    "adam_optimizer: no bias correction": M("adam_optimizer", "update", """
        def adam_optimizer(variables, gradients, config, state):
            m, v = state.setdefault("m", {}), state.setdefault("v", {})
            for k, (x, g) in enumerate(L.iterate_params(variables, gradients)):
                m[k] = config["beta1"] * m.get(k, 0) + (1 - config["beta1"]) * g
                v[k] = config["beta2"] * v.get(k, 0) + (1 - config["beta2"]) * g * g
                x -= config["learning_rate"] * m[k] / (np.sqrt(v[k]) + config["epsilon"])
    """),
    "adam_optimizer: step count advanced once per parameter": M("adam_optimizer", "update", """
        def adam_optimizer(variables, gradients, config, state):
            m, v = state.setdefault("m", {}), state.setdefault("v", {})
            b1, b2 = config["beta1"], config["beta2"]
            for k, (x, g) in enumerate(L.iterate_params(variables, gradients)):
                state["t"] = t = state.get("t", 0) + 1
                m[k] = b1 * m.get(k, 0) + (1 - b1) * g
                v[k] = b2 * v.get(k, 0) + (1 - b2) * g * g
                x -= config["learning_rate"] * (m[k] / (1 - b1 ** t)) / (
                    np.sqrt(v[k] / (1 - b2 ** t)) + config["epsilon"])
    """),
    "adam_optimizer: epsilon inside the square root": M("adam_optimizer", "update", """
        def adam_optimizer(variables, gradients, config, state):
            m, v = state.setdefault("m", {}), state.setdefault("v", {})
            b1, b2 = config["beta1"], config["beta2"]
            state["t"] = t = state.get("t", 0) + 1
            for k, (x, g) in enumerate(L.iterate_params(variables, gradients)):
                m[k] = b1 * m.get(k, 0) + (1 - b1) * g
                v[k] = b2 * v.get(k, 0) + (1 - b2) * g * g
                x -= config["learning_rate"] * (m[k] / (1 - b1 ** t)) / np.sqrt(
                    v[k] / (1 - b2 ** t) + config["epsilon"])
    """),
    "adam_optimizer: moments not kept between calls": M("adam_optimizer", "update", """
        def adam_optimizer(variables, gradients, config, state):
            b1, b2 = config["beta1"], config["beta2"]
            state["t"] = t = state.get("t", 0) + 1
            for x, g in L.iterate_params(variables, gradients):
                m, v = (1 - b1) * g, (1 - b2) * g * g
                x -= config["learning_rate"] * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + config["epsilon"])
    """),
    "adam_optimizer: beta1 and beta2 swapped": M("adam_optimizer", "update", """
        def adam_optimizer(variables, gradients, config, state):
            swapped = dict(config, beta1=config["beta2"], beta2=config["beta1"])
            L.adam_optimizer(variables, gradients, swapped, state)
    """),
}
del M

# --- correct code in other styles: full marks ----------------------------------------------
CORRECT = {
    "SoftMax as exp(x - logsumexp(x)) (float32 log-sum-exp, rounded at |x| ~ 1e4)": ("SoftMax", """
        class SoftMax(Module):
            def update_output(self, input):
                m = input.max(axis=1, keepdims=True)
                lse = m + np.log(np.exp(input - m).sum(axis=1, keepdims=True))
                self.output = np.exp(input - lse)
                return self.output
            def update_grad_input(self, input, grad_output):
                p = self.output
                self.grad_input = p * (grad_output - (grad_output * p).sum(axis=1, keepdims=True))
                return self.grad_input
    """),
    "SoftMax with the full Jacobian matrix (einsum)": ("SoftMax", """
        class SoftMax(Module):
            def update_output(self, input):
                e = np.exp(input - np.max(input, axis=1, keepdims=True))
                self.output = e / np.sum(e, axis=1, keepdims=True)
                return self.output
            def update_grad_input(self, input, grad_output):
                p = self.output
                eye = np.eye(p.shape[1], dtype=p.dtype)
                jacobian = p[:, :, None] * eye[None] - p[:, :, None] * p[:, None, :]
                self.grad_input = np.einsum("bij,bj->bi", jacobian, grad_output)
                return self.grad_input
    """),
    "LogSoftMax with the Jacobian of log-softmax": ("LogSoftMax", """
        class LogSoftMax(Module):
            def update_output(self, input):
                m = input.max(axis=1, keepdims=True)
                self.output = input - m - np.log(np.exp(input - m).sum(axis=1, keepdims=True))
                return self.output
            def update_grad_input(self, input, grad_output):
                p = np.exp(self.output)
                jacobian = np.eye(p.shape[1], dtype=p.dtype)[None] - p[:, None, :]
                self.grad_input = np.einsum("bij,bi->bj", jacobian, grad_output)
                return self.grad_input
    """),
    "BatchNormalization: naive variance E[x^2] - E[x]^2 and the formula backward": (
        "BatchNormalization", """
        class BatchNormalization(L.BatchNormalization):
            def update_output(self, input):
                if not self.training:
                    return super().update_output(input)
                mu = input.mean(axis=0)
                var = (input * input).mean(axis=0) - mu * mu
                if self.moving_mean is None:
                    self.moving_mean, self.moving_variance = np.zeros_like(mu), np.ones_like(var)
                self.moving_mean = self.alpha * self.moving_mean + (1 - self.alpha) * mu
                self.moving_variance = self.alpha * self.moving_variance + (1 - self.alpha) * var
                self._inv_std = 1 / np.sqrt(var + self.EPS)
                self.output = (input - mu) * self._inv_std
                return self.output
    """),
    "BatchNormalization: output as x * s - mu * s, backward through means": ("BatchNormalization", """
        class BatchNormalization(L.BatchNormalization):
            def update_output(self, input):
                if not self.training:
                    return super().update_output(input)
                mu, var = np.mean(input, axis=0, keepdims=True), np.var(input, axis=0, keepdims=True)
                if self.moving_mean is None:
                    self.moving_mean = np.zeros(input.shape[1], input.dtype)
                    self.moving_variance = np.ones(input.shape[1], input.dtype)
                self.moving_mean = self.alpha * self.moving_mean + (1 - self.alpha) * mu[0]
                self.moving_variance = self.alpha * self.moving_variance + (1 - self.alpha) * var[0]
                s = 1 / np.sqrt(var + self.EPS)
                self._inv_std = s[0]
                self.output = input * s - mu * s
                return self.output
            def update_grad_input(self, input, grad_output):
                if not self.training:
                    return super().update_grad_input(input, grad_output)
                y = self.output
                self.grad_input = self._inv_std * (grad_output - grad_output.mean(axis=0)
                                                   - y * (grad_output * y).mean(axis=0))
                return self.grad_input
    """),
    "sgd_momentum with v = m v - lr g, x += v": ("sgd_momentum", """
        def sgd_momentum(variables, gradients, config, state):
            velocity = state.setdefault("velocity", {})
            k = 0
            for layer_vars, layer_grads in zip(variables, gradients):
                for x, g in zip(layer_vars, layer_grads):
                    velocity[k] = config["momentum"] * velocity.get(k, 0) - config["learning_rate"] * g
                    x += velocity[k]
                    k += 1
    """),
    "adam_optimizer with explicit m_hat and v_hat, state per layer and parameter": ("adam_optimizer", """
        def adam_optimizer(variables, gradients, config, state):
            state["t"] = state.get("t", 0) + 1
            t = state["t"]
            for i, (layer_vars, layer_grads) in enumerate(zip(variables, gradients)):
                for j, (x, g) in enumerate(zip(layer_vars, layer_grads)):
                    m = state.setdefault(("m", i, j), np.zeros_like(x))
                    v = state.setdefault(("v", i, j), np.zeros_like(x))
                    m[...] = config["beta1"] * m + (1 - config["beta1"]) * g
                    v[...] = config["beta2"] * v + (1 - config["beta2"]) * g ** 2
                    m_hat = m / (1 - config["beta1"] ** t)
                    v_hat = v / (1 - config["beta2"] ** t)
                    np.subtract(x, config["learning_rate"] * m_hat / (np.sqrt(v_hat) + config["epsilon"]), out=x)
    """),
    "Dropout with a strict > comparison and a multiplied scale": ("Dropout", """
        class Dropout(Module):
            def __init__(self, p=0.5):
                super().__init__()
                self.p = p
                self.mask = None
            def update_output(self, input):
                if self.training:
                    self.mask = np.random.uniform(0, 1, input.shape) > self.p
                    self.output = input * self.mask * (1.0 / (1.0 - self.p))
                    self.output = self.output.astype(input.dtype)
                else:
                    self.output = input
                return self.output
            def update_grad_input(self, input, grad_output):
                if self.training:
                    self.grad_input = (grad_output * self.mask * (1.0 / (1.0 - self.p))).astype(grad_output.dtype)
                else:
                    self.grad_input = grad_output
                return self.grad_input
    """),
    "SoftPlus by the two-branch stable formula": ("SoftPlus", """
        class SoftPlus(Module):
            def update_output(self, input):
                self.output = np.where(input > 0, input + np.log1p(np.exp(-np.abs(input))),
                                       np.log1p(np.exp(-np.abs(input))))
                return self.output
            def update_grad_input(self, input, grad_output):
                e = np.exp(-np.abs(input))
                self.grad_input = grad_output * np.where(input > 0, 1 / (1 + e), e / (1 + e))
                return self.grad_input
    """),
    "ELU with expm1 on the negative part only": ("ELU", """
        class ELU(Module):
            def __init__(self, alpha=1.0):
                super().__init__()
                self.alpha = alpha
            def update_output(self, input):
                negative = self.alpha * np.expm1(np.minimum(input, 0))
                self.output = np.where(input > 0, input, negative).astype(input.dtype)
                return self.output
            def update_grad_input(self, input, grad_output):
                slope = np.where(input > 0, 1, self.alpha * np.exp(np.minimum(input, 0)))
                self.grad_input = (grad_output * slope).astype(grad_output.dtype)
                return self.grad_input
    """),
    "ReLU as x * (x > 0)": ("ReLU", """
        class ReLU(Module):
            def update_output(self, input):
                self.output = input * (input > 0)
                return self.output
            def update_grad_input(self, input, grad_output):
                self.grad_input = grad_output * (input > 0)
                return self.grad_input
    """),
    "NLLCriterion by indexing the labels": ("NLLCriterion", """
        class NLLCriterion(Criterion):
            def update_output(self, input, target):
                labels = target.argmax(axis=1)
                self.output = -input[np.arange(len(input)), labels].mean()
                return self.output
            def update_grad_input(self, input, target):
                self.grad_input = np.zeros_like(input)
                self.grad_input[np.arange(len(input)), target.argmax(axis=1)] = -1 / len(input)
                return self.grad_input
    """),
    "Scaling with np.einsum sums": ("Scaling", """
        class Scaling(L.Scaling):
            def update_grad_params(self, input, grad_output):
                self.grad_gamma = np.einsum("bi,bi->i", grad_output, input)
                self.grad_beta = np.einsum("bi->i", grad_output)
    """),
    "Sequential over zip(reversed(...)) and per-module lists": ("Sequential", """
        class Sequential(L.Sequential):
            def update_output(self, input):
                self.inputs = []
                for module in self.modules:
                    self.inputs.append(input)
                    input = module.forward(input)
                self.output = input
                return self.output
            def update_grad_input(self, input, grad_output):
                for module, module_input in zip(reversed(self.modules), reversed(self.inputs)):
                    grad_output = module.backward(module_input, grad_output)
                self.grad_input = grad_output
                return self.grad_input
    """),
}

from mutants import advanced  # noqa: E402 - the advanced track's corpus, in its own file

MUTANTS.update(advanced._mutants(Mutant))
CORRECT.update(advanced.CORRECT)
