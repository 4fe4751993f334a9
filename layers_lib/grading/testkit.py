"""The helpers the graded test cells are written with (the seed's helpers, repaired).

The seed compared a float32 layer with float32 PyTorch through `assertTrue(np.allclose(...))`:
failures said only "False is not true" and correct float32 solutions failed by rounding.
Here PyTorch runs in float64 on exactly the student's (float32) inputs, and `assert_matches`
compares through the comparison engine with a tolerance derived from the student's dtype and
the magnitude of the terms (see `magnitude`), and fails with a message that names the layer,
the quantity, shapes, dtypes, the errors and the worst element.
"""
import math
from types import SimpleNamespace

import numpy as np

from .. import i18n
from .compare import compare
from .grade import FAILED, current_grade
from .render import report_to_html, to_text

RANDOM_SEED = 42


def generate_test_data(shape, dtype=np.float32, minval=-10, maxval=10):
    """Uniform test data of `shape` in [minval, maxval), cast to `dtype`."""
    return np.random.uniform(minval, maxval, shape).astype(dtype)


def binomial_interval(confidence, n, p):
    """(low, high): the central `confidence` interval of the number of successes in `n` trials
    of probability `p`, exactly as scipy.stats.binom.interval computes it (the smallest k whose
    CDF reaches (1 - confidence) / 2, and the one reaching (1 + confidence) / 2), without
    importing scipy (half a second in every grading kernel)."""
    if not 0 < p < 1:
        return (float(n), float(n)) if p >= 1 else (0.0, 0.0)
    k = np.arange(n + 1)
    log_choose = np.array([math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1) for i in k])
    log_pmf = log_choose + k * math.log(p) + (n - k) * math.log1p(-p)
    cdf = np.cumsum(np.exp(log_pmf - log_pmf.max()))
    cdf /= cdf[-1]
    tail = (1 - confidence) / 2
    low = int(np.searchsorted(cdf, tail * (1 - 1e-12), side="left"))
    high = int(np.searchsorted(cdf, (1 - tail) * (1 - 1e-12), side="left"))
    return float(low), float(high)


def run_step(quantity, method, *args):
    """Call the student's `method(*args)`. While a graded cell collects its parts (see
    `grade.ClassGrade.checking`), an exception fails the part of `quantity` only and FAILED is
    returned; otherwise the exception propagates as usual."""
    grade = current_grade()
    if grade is None:
        return method(*args)
    try:
        return method(*args)
    except Exception as exc:                   # noqa: BLE001 - student code may raise anything
        grade.step_raised(quantity, exc)
        return FAILED


def custom_forward_backward(layer_input, next_layer_grad, custom_layer, return_params_grad=False,
                            where=""):
    """Run the student's layer: forward, backward, and (optionally) update_grad_params again.

    Returns a namespace with `output`, `grad_input` and, with `return_params_grad`,
    `params_grad` (`custom_layer.get_grad_params()`). While a graded cell collects parts, a
    backward that fails inside `update_grad_params` is followed by `update_grad_input` alone,
    so a broken parameter gradient does not hide the input gradient; `where`
    (" for large inputs") names the setting in the parts' quantities.
    """
    output = run_step("output" + where, custom_layer.forward, layer_input)
    if output is FAILED:
        return SimpleNamespace(output=FAILED, grad_input=FAILED, params_grad=FAILED)
    grad_input = run_step("grad_input" + where, custom_layer.backward, layer_input, next_layer_grad)
    if grad_input is FAILED and not current_grade().decided("grad_input" + where):
        # backward failed in another part (update_grad_params): the input gradient alone
        grad_input = run_step("grad_input" + where, custom_layer.update_grad_input, layer_input,
                              next_layer_grad)
    result = SimpleNamespace(output=output, grad_input=grad_input, params_grad=FAILED)
    if return_params_grad:
        params = "parameter gradients" + where
        run_step(params, custom_layer.update_grad_params, layer_input, next_layer_grad)  # idempotent?
        result.params_grad = run_step(params, custom_layer.get_grad_params)
    return result


def torch_forward_backward(layer_input, next_layer_grad, torch_layer):
    """Run `torch_layer` in float64 on the same values; returns `output`, `grad_input` (float64)
    and `layer` (the float64 module, whose `.weight.grad` etc. hold the parameter gradients)."""
    import torch

    torch_layer = torch_layer.double()
    x = torch.tensor(np.asarray(layer_input, dtype=np.float64), requires_grad=True)
    out = torch_layer(x)
    out.backward(torch.tensor(np.asarray(next_layer_grad, dtype=np.float64)))
    return SimpleNamespace(output=out.detach().numpy(), grad_input=x.grad.numpy(), layer=torch_layer)


def assert_matches(expected, got, layer, quantity, magnitude=None, dtype=None, **diagnosis):
    """Fail with a full report unless `got` equals the float64 `expected` to rounding.

    `magnitude`: the scale of the terms behind each element (see layers_lib.grading.magnitude);
    `dtype`: the dtype `got` must have. Extra keywords go to the diagnosis (hypotheses=...).
    """
    grade = current_grade()
    if grade is not None:
        return grade.check(expected, got, quantity, dtype=dtype, scale=magnitude, **diagnosis)
    result = compare(expected, got, layer=layer, quantity=quantity, dtype=dtype, scale=magnitude,
                     **diagnosis)
    if not result.ok:
        display_html_report([result])
        raise AssertionError(to_text(result))
    return result


def assert_that(condition, layer, quantity, message):
    """A check that is not a comparison of values (a count, a flag): fails with `message`."""
    grade = current_grade()
    if grade is None:
        assert condition, message
    else:
        grade.condition(quantity, bool(condition), f"{layer}: {i18n.quantity(quantity)}: {message}")


def display_html_report(comparisons):
    """In a notebook, show the static HTML report (kept by nbgrader feedback and nbconvert,
    where widgets cannot render); elsewhere do nothing."""
    try:
        from IPython import get_ipython
        from IPython.display import HTML, display
    except ImportError:
        return
    if comparisons and get_ipython() is not None:
        display(HTML(report_to_html(comparisons)))
