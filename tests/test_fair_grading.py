"""Grade what a student got right: correct code in the styles students really write earns full
marks (a warning alone costs nothing), and partly right code earns exactly its parts.

Each case is one class as a student writes it, run through the visible tests and the hidden
checks (what a graded cell of `[2]` runs), with the reference for every other class.
"""
import textwrap

import numpy as np
import pytest

import layers_lib.reference as L
from layers_lib import contract
from layers_lib.course.hidden_checks import run_hidden_checks

HEADER = "import numpy as np\nfrom scipy import special\n"

CORRECT = {
    "textbook ELU, np.where evaluates both branches (exp overflows in the unused one)": ("ELU", """
        class ELU(Module):
            def __init__(self, alpha=1.0):
                super().__init__()
                self.alpha = alpha
            def update_output(self, input):
                self.output = np.where(input > 0, input, self.alpha * (np.exp(input) - 1))
                return self.output
            def update_grad_input(self, input, grad_output):
                self.grad_input = np.where(input > 0, grad_output, grad_output * self.alpha * np.exp(input))
                return self.grad_input
    """),
    "ReLU by boolean-mask assignment": ("ReLU", """
        class ReLU(Module):
            def update_output(self, input):
                self.output = input.copy()
                self.output[input < 0] = 0
                return self.output
            def update_grad_input(self, input, grad_output):
                self.grad_input = grad_output.copy()
                self.grad_input[input <= 0] = 0
                return self.grad_input
    """),
    "ReLU with out= arguments": ("ReLU", """
        class ReLU(Module):
            def update_output(self, input):
                self.output = np.maximum(input, 0, out=np.empty_like(input))
                return self.output
            def update_grad_input(self, input, grad_output):
                self.grad_input = np.multiply(grad_output, input > 0, out=np.empty_like(grad_output))
                return self.grad_input
    """),
    "LeakyReLU by the np.maximum trick": ("LeakyReLU", """
        class LeakyReLU(Module):
            def __init__(self, slope=0.03):
                super().__init__()
                self.slope = slope
            def update_output(self, input):
                self.output = np.maximum(input, input * self.slope)
                return self.output
            def update_grad_input(self, input, grad_output):
                self.grad_input = grad_output * np.where(input > 0, 1, self.slope).astype(input.dtype)
                return self.grad_input
    """),
    "SoftPlus by np.logaddexp, sigmoid gradient with a harmless overflow": ("SoftPlus", """
        class SoftPlus(Module):
            def update_output(self, input):
                self.output = np.logaddexp(0, input).astype(input.dtype)
                return self.output
            def update_grad_input(self, input, grad_output):
                self.grad_input = grad_output / (1 + np.exp(-input))
                return self.grad_input
    """),
    "LogSoftMax through scipy's logsumexp": ("LogSoftMax", """
        class LogSoftMax(Module):
            def update_output(self, input):
                self.output = (input - special.logsumexp(input, axis=1, keepdims=True)).astype(input.dtype)
                return self.output
            def update_grad_input(self, input, grad_output):
                self.grad_input = grad_output - np.exp(self.output) * grad_output.sum(axis=1, keepdims=True)
                return self.grad_input
    """),
    "BatchNormalization with a staged backward (CS231n style)": ("BatchNormalization", """
        class BatchNormalization(Module):
            EPS = 1e-3
            def __init__(self, alpha=0.):
                super().__init__()
                self.alpha = alpha
                self.moving_mean = None
                self.moving_variance = None
            def update_output(self, input):
                if self.training:
                    self.mu = input.mean(axis=0)
                    self.xc = input - self.mu
                    self.var = (self.xc ** 2).mean(axis=0)
                    self.std = np.sqrt(self.var + self.EPS)
                    self.output = self.xc / self.std
                    if self.moving_mean is None:
                        self.moving_mean, self.moving_variance = np.zeros_like(self.mu), np.ones_like(self.var)
                    self.moving_mean = self.alpha * self.moving_mean + (1 - self.alpha) * self.mu
                    self.moving_variance = self.alpha * self.moving_variance + (1 - self.alpha) * self.var
                else:
                    self.output = (input - self.moving_mean) / np.sqrt(self.moving_variance + self.EPS)
                return self.output
            def update_grad_input(self, input, grad_output):
                if not self.training:
                    self.grad_input = grad_output / np.sqrt(self.moving_variance + self.EPS)
                    return self.grad_input
                n = input.shape[0]
                dxhat = grad_output
                dvar = np.sum(dxhat * self.xc, axis=0) * -0.5 * self.std ** -3
                dmu = np.sum(-dxhat / self.std, axis=0) + dvar * np.mean(-2 * self.xc, axis=0)
                self.grad_input = dxhat / self.std + dvar * 2 * self.xc / n + dmu / n
                return self.grad_input
    """),
    "Linear with float64 weights from np.random, float32 data": ("Linear", """
        class Linear(Module):
            def __init__(self, n_in, n_out):
                super().__init__()
                self.W = np.random.randn(n_in, n_out) * np.sqrt(2 / n_in)
                self.b = np.zeros(n_out)
                self.grad_W, self.grad_b = np.zeros_like(self.W), np.zeros_like(self.b)
            def update_output(self, input):
                self.output = (input @ self.W + self.b).astype(input.dtype)
                return self.output
            def update_grad_input(self, input, grad_output):
                self.grad_input = (grad_output @ self.W.T).astype(input.dtype)
                return self.grad_input
            def update_grad_params(self, input, grad_output):
                self.grad_W = input.T @ grad_output
                self.grad_b = grad_output.sum(axis=0)
            def zero_grad_params(self):
                self.grad_W.fill(0)
                self.grad_b.fill(0)
            def get_params(self):
                return [self.W, self.b]
            def get_grad_params(self):
                return [self.grad_W, self.grad_b]
    """),
    "Dropout with an np.random.binomial mask": ("Dropout", """
        class Dropout(Module):
            def __init__(self, p=0.5):
                super().__init__()
                self.p = p
                self.mask = None
            def update_output(self, input):
                if not self.training:
                    self.output = input
                    return self.output
                self.mask = np.random.binomial(1, 1 - self.p, size=input.shape).astype(input.dtype)
                self.output = input * self.mask / (1 - self.p)
                return self.output
            def update_grad_input(self, input, grad_output):
                self.grad_input = grad_output if not self.training else grad_output * self.mask / (1 - self.p)
                return self.grad_input
    """),
    "NLLCriterionUnstable with np.clip": ("NLLCriterionUnstable", """
        class NLLCriterionUnstable(Criterion):
            EPS = 1e-15
            def update_output(self, input, target):
                p = np.clip(input, self.EPS, 1 - self.EPS)
                self.output = -np.sum(target * np.log(p)) / input.shape[0]
                return self.output
            def update_grad_input(self, input, target):
                p = np.clip(input, self.EPS, 1 - self.EPS)
                self.grad_input = -target / p / input.shape[0]
                return self.grad_input
    """),
    "SGD with momentum, in-place updates with out=": ("sgd_momentum", """
        def sgd_momentum(variables, gradients, config, state):
            state.setdefault("accumulated_grads", {})
            k = 0
            for current_layer_vars, current_layer_grads in zip(variables, gradients):
                for v, g in zip(current_layer_vars, current_layer_grads):
                    acc = state["accumulated_grads"].setdefault(k, np.zeros_like(g))
                    np.add(config["momentum"] * acc, g, out=acc)
                    np.subtract(v, config["learning_rate"] * acc, out=v)
                    k += 1
    """),
}

# (class, source, the parts it deserves); the reference methods fill in what the case leaves out
PARTIAL = {
    "BatchNormalization: forward and moving statistics right, backward forgets the mean terms": (
        "BatchNormalization", ["forward", "moving statistics", "evaluate mode"], """
        class BatchNormalization(L.BatchNormalization):
            def update_grad_input(self, input, grad_output):
                if not self.training:
                    return super().update_grad_input(input, grad_output)
                self.grad_input = grad_output * self._inv_std
                return self.grad_input
    """),
    "Linear: grad_b averaged over the batch": ("Linear", ["forward", "backward"], """
        class Linear(L.Linear):
            def update_grad_params(self, input, grad_output):
                super().update_grad_params(input, grad_output)
                self.grad_b = self.grad_b / input.shape[0]
    """),
    "SoftPlus: log(1 + exp(x)) overflows to inf for large inputs": (
        "SoftPlus", ["forward", "backward"], """
        class SoftPlus(L.SoftPlus):
            def update_output(self, input):
                self.output = np.log(1 + np.exp(input))
                return self.output
    """),
    "Dropout: backward forgets the 1/(1-p) rescale": ("Dropout", ["forward", "evaluate mode"], """
        class Dropout(L.Dropout):
            def update_grad_input(self, input, grad_output):
                self.grad_input = grad_output if not self.training else grad_output * self.mask
                return self.grad_input
    """),
    "Sequential: backward in forward order": ("Sequential", ["forward"], """
        class Sequential(L.Sequential):
            def update_grad_input(self, input, grad_output):
                self.grad_outputs = [None] * len(self.modules)
                for k in range(len(self.modules)):
                    self.grad_outputs[k] = grad_output
                    grad_output = self.modules[k].backward(self.inputs[k], grad_output)
                self.grad_input = grad_output
                return self.grad_input
    """),
}


def namespace_with(source):
    ns = {n: getattr(L, n) for n in dir(L)}
    ns.update(Module=contract.Module, Criterion=contract.Criterion, L=L)
    exec(compile(HEADER + textwrap.dedent(source), "<student>", "exec"), ns)
    return ns


@pytest.mark.parametrize("case", sorted(CORRECT))
def test_correct_styles_earn_full_marks(case):
    name, source = CORRECT[case]
    result = run_hidden_checks(name, namespace_with(source), include_visible=True)
    assert result.passed and result.points == result.max_points, result.failures


def test_a_harmless_warning_is_advice_not_a_failure():
    name, source = CORRECT["textbook ELU, np.where evaluates both branches (exp overflows in the unused one)"]
    result = run_hidden_checks(name, namespace_with(source), include_visible=True)
    assert result.points == 1.0
    assert any("np.exp(np.minimum(x, 0))" in a for a in result.advice), result.advice


@pytest.mark.parametrize("case", sorted(PARTIAL))
def test_partly_right_code_earns_exactly_its_parts(case):
    name, earned, source = PARTIAL[case]
    result = run_hidden_checks(name, namespace_with(source), include_visible=True)
    assert {part for part, ok in result.parts.items() if ok} == set(earned), result.failures
    from layers_lib.grading.parts import PARTS
    assert result.points == pytest.approx(sum(p.points for p in PARTS[name] if p.name in earned))
    failed = [f for f in result.failures]
    assert failed and all(f["quantity"] not in earned for f in failed)


def test_the_split_adds_up_to_the_points_of_every_class():
    from layers_lib.course.notebooks.tests import TOTAL
    from layers_lib.grading.parts import PARTS, POINTS
    assert TOTAL == 23 and set(PARTS) == set(POINTS)
    for name, parts in PARTS.items():
        assert all(p.points > 0 for p in parts) and len({p.name for p in parts}) == len(parts), name


def test_a_blank_class_earns_nothing_even_for_given_methods():
    stub = """
        class Sequential(L.Sequential):
            def update_output(self, input):
                raise NotImplementedError()
            def update_grad_input(self, input, grad_output):
                raise NotImplementedError()
    """
    result = run_hidden_checks("Sequential", namespace_with(stub), include_visible=True)
    assert result.points == 0 and not any(result.parts.values())


def test_graded_cells_write_nothing_to_stderr_even_when_the_code_warns(capfd):
    from layers_lib.grading.grade import ClassGrade
    from layers_lib.grading.visible_tests import test_elu
    name, source = CORRECT["textbook ELU, np.where evaluates both branches (exp overflows in the unused one)"]
    grade = ClassGrade("ELU")
    with grade.checking("visible tests"):
        test_elu(namespace_with(source)["ELU"])
    assert grade.score() == 1.0
    out, err = capfd.readouterr()
    assert err == "" and "ELU: 1 of 1 points" in out and "Advice" in out
    assert np.isfinite(grade.points())


# --- no blind spots: bugs that used to pass every check ------------------------------------
BLIND_SPOTS = {
    "Linear: grad_input with W instead of W.T (passes where W is square)": ("Linear", """
        class Linear(L.Linear):
            def update_grad_input(self, input, grad_output):
                W = self.W if self.W.shape[0] == self.W.shape[1] else self.W.T
                self.grad_input = grad_output @ W
                return self.grad_input
    """, "backward"),
    "NLLCriterionUnstable without clipping": ("NLLCriterionUnstable", """
        class NLLCriterionUnstable(L.NLLCriterionUnstable):
            def update_output(self, input, target):
                self.output = -np.sum(target * np.log(input)) / input.shape[0]
                return self.output
            def update_grad_input(self, input, target):
                self.grad_input = -target / input / input.shape[0]
                return self.grad_input
    """, "loss"),
}


@pytest.mark.parametrize("case", sorted(BLIND_SPOTS))
def test_bugs_that_used_to_pass_are_caught(case):
    name, source, failing_part = BLIND_SPOTS[case]
    result = run_hidden_checks(name, namespace_with(source), include_visible=True)
    assert not result.parts[failing_part], result.parts
