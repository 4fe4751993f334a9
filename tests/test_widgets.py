"""Widgets without a browser or kernel (ipywidgets 8 + comm>=0.2 use a no-op comm in plain Python)."""
import re
from html.parser import HTMLParser

import numpy as np
import pytest

import layers_lib.reference as L
from layers_lib.grading.visible_tests import GRADED_NAMES
from layers_lib.widgets import (GradientInspector, SequentialTrace, dashboard, sequential_trace,
                                static_report_html)


class _Cells(HTMLParser):
    """Collect (data-index, data-mismatch) of the cells of one heatmap panel."""

    def __init__(self, panel):
        super().__init__()
        self.panel, self.inside, self.cells = panel, False, []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table" and "gi-heatmap" in a.get("class", ""):
            self.inside = a.get("data-panel") == self.panel
        elif tag == "td" and self.inside and "data-mismatch" in a:
            idx = tuple(int(v) for v in re.findall(r"-?\d+", a["data-index"]))
            self.cells.append((idx, a["data-mismatch"] == "1"))


def marked_mask(html_text, shape, panel="got"):
    p = _Cells(panel)
    p.feed(html_text)
    assert len(p.cells) == int(np.prod(shape)), "one cell per element"
    mask = np.zeros(shape, bool)
    for idx, bad in p.cells:
        mask[idx] = bad
    return mask


# --- buggy student classes ------------------------------------------------------------------
class LinearSignFlip(L.Linear):
    def update_grad_params(self, input, grad_output):
        super().update_grad_params(input, grad_output)
        self.grad_W = -self.grad_W


class LinearTransposed(L.Linear):
    def update_grad_params(self, input, grad_output):
        super().update_grad_params(input, grad_output)
        self.grad_W = np.ascontiguousarray(self.grad_W.T)


class SoftMaxNoShift(L.SoftMax):
    def update_output(self, input):
        e = np.exp(input)
        self.output = e / e.sum(axis=1, keepdims=True)
        return self.output


class LeakyWrongSlope(L.LeakyReLU):
    def update_grad_input(self, input, grad_output):
        self.grad_input = np.where(input > 0, grad_output, grad_output * 0.1).astype(grad_output.dtype)
        return self.grad_input


class ReLURaises(L.ReLU):
    def update_grad_input(self, input, grad_output):
        raise ZeroDivisionError("student bug")


class LinearInitRaises(L.Linear):
    def __init__(self, n_in, n_out):
        raise RuntimeError("cannot build")


# --- GradientInspector ----------------------------------------------------------------------
@pytest.mark.parametrize("name", ["Linear", "SoftMax", "LogSoftMax", "BatchNormalization",
                                  "Scaling", "Dropout", "ReLU", "LeakyReLU", "ELU", "SoftPlus"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_reference_layers_pass_every_tab(name, dtype):
    w = GradientInspector(getattr(L, name), dtype=dtype)
    assert w.error is None
    assert w.comparisons and all(c.ok for c in w.comparisons.values()), \
        {q: c.message for q, c in w.comparisons.items() if not c.ok}
    assert "gi-inspector" in w._dom_classes
    assert len(w.tab.children) == len(w.comparisons)
    for q, panel in w.panels.items():
        assert 'class="gi-report"' in panel.value and f'data-quantity="{q}"' in panel.value
        assert 'data-status="pass"' in panel.value
        assert 'data-mismatch="1"' not in panel.value
    assert all(t.endswith("✓") for t in w.tab.titles)


def test_large_input_range_reference_passes():
    w = GradientInspector(L.SoftMax, input_range=1e4)
    assert all(c.ok for c in w.comparisons.values())


def test_linear_sign_flipped_grad_w_marks_every_element():
    w = GradientInspector(LinearSignFlip, name="Linear", batch_size=3, n_in=4, n_out=5)
    c = w.comparisons["grad_W"]
    assert not c.ok and "sign is flipped" in c.diagnosis
    for q in ("output", "grad_input", "grad_b"):
        assert w.comparisons[q].ok
    x, g = w.inspection.x.astype(np.float64), w.inspection.g.astype(np.float64)
    expected_mask = np.abs(x.T @ g) > 1e-3 * np.abs(x.T @ g).max()     # every nonzero element
    assert (marked_mask(w.panels["grad_W"].value, (4, 5)) == expected_mask).all()
    assert 'data-status="fail"' in w.panels["grad_W"].value
    assert w.tab.titles[2] == "grad_W ✗"


def test_linear_transposed_grad_w_marks_off_diagonal():
    w = GradientInspector(LinearTransposed, name="Linear", batch_size=6, n_in=4, n_out=4)
    c = w.comparisons["grad_W"]
    assert not c.ok and "transposed" in c.diagnosis
    x, g = w.inspection.x.astype(np.float64), w.inspection.g.astype(np.float64)
    gw = x.T @ g
    expected_mask = ~np.isclose(gw, gw.T, rtol=1e-3)                     # the diagonal is right
    assert expected_mask.sum() == 12
    assert (marked_mask(w.panels["grad_W"].value, (4, 4)) == expected_mask).all()
    assert (marked_mask(w.panels["grad_W"].value, (4, 4), "difference") == expected_mask).all()


def test_softmax_without_max_shift_is_unstable_at_large_inputs():
    w = GradientInspector(SoftMaxNoShift, name="SoftMax", batch_size=4, n_in=6, input_range=1e4)
    c = w.comparisons["output"]
    assert not c.ok and "numerically unstable" in c.diagnosis
    x = w.inspection.x
    # float32 exp overflows above log(float32 max) ~ 88.72: those elements become NaN (inf/inf)
    expected_mask = x.astype(np.float64) > np.log(np.finfo(np.float32).max)
    assert expected_mask.any()
    assert (marked_mask(w.panels["output"].value, x.shape) == expected_mask).all()
    # the same layer is fine on small inputs
    w.input_range.value = 1.0
    assert all(c.ok for c in w.comparisons.values())


def test_leaky_relu_wrong_negative_slope():
    w = GradientInspector(LeakyWrongSlope, name="LeakyReLU", batch_size=5, n_in=6)
    assert w.comparisons["output"].ok
    c = w.comparisons["grad_input"]
    assert not c.ok and "wrong slope at negative inputs" in c.diagnosis and "0.1" in c.diagnosis
    x = w.inspection.x
    assert (marked_mask(w.panels["grad_input"].value, x.shape) == (x <= 0)).all()


def test_changing_a_control_recomputes():
    w = GradientInspector(L.Linear, batch_size=3, n_in=4, n_out=5)
    before = w.comparisons["output"]
    x_before = w.inspection.x.copy()
    w.seed.value = 7
    assert w.comparisons["output"] is not before
    assert not np.array_equal(w.inspection.x, x_before)
    w.n_in.value = 6
    assert w.comparisons["grad_W"].expected_shape == (6, 5)
    assert w.comparisons["grad_input"].expected_shape == (3, 6)
    w.dtype.value = "float64"
    assert w.comparisons["output"].got_dtype == "float64" and w.comparisons["output"].ok


def test_tolerance_scale_changes_verdict():
    class Linear(L.Linear):          # output off by 1e-6 relative: fails float64 (rtol 1e-8)
        def update_output(self, input):
            self.output = super().update_output(input) * (1 + 1e-6)
            return self.output
    w = GradientInspector(Linear, dtype="float64")
    assert not w.comparisons["output"].ok
    w.tol_scale.value = 10.0         # rtol 1e-7: still fails
    assert not w.comparisons["output"].ok
    w.tol_scale.value = 1000.0       # rtol 1e-5: passes
    assert w.comparisons["output"].ok


def test_exception_in_student_code_is_shown_not_raised():
    w = GradientInspector(ReLURaises, name="ReLU")
    assert "ZeroDivisionError" in w.error and "student bug" in w.error
    assert 'class="gi-error"' in w.status.value
    assert all('class="gi-error"' in p.value for p in w.panels.values())
    w2 = GradientInspector(LinearInitRaises, name="Linear")
    assert "RuntimeError" in w2.error
    w2.seed.value = 3                                   # still no raise on recompute
    assert "RuntimeError" in w2.error


def test_instance_and_name_taken_from_class():
    w = GradientInspector(L.LeakyReLU(0.2))
    assert w.name == "LeakyReLU" and all(c.ok for c in w.comparisons.values())


# --- Sequential trace ------------------------------------------------------------------------
class ReLUIdentityGrad(L.ReLU):
    def update_grad_input(self, input, grad_output):
        self.grad_input = grad_output.copy()
        return self.grad_input


def _models(middle):
    ref, stu = L.Sequential(), L.Sequential()
    first, last = L.Linear(4, 5), L.Linear(5, 3)
    for m in (first, L.ReLU(), last):
        ref.add(m)
    for m in (first, middle, last):
        stu.add(m)
    return stu, ref


def test_sequential_trace_finds_backward_divergence():
    stu, ref = _models(ReLUIdentityGrad())
    x, g = np.random.randn(6, 4), np.random.randn(6, 3)
    r = sequential_trace(stu, ref, x, g)
    assert (r.index, r.direction) == (1, "backward")
    assert r.comparison.quantity == "grad_input" and not r.comparison.ok
    assert [row.status for row in r.rows] == ["pass", "fail", "pass"]
    w = SequentialTrace(stu, ref, x, g)
    assert 'data-first-divergence="1"' in w.table.value
    assert 'data-mismatch="1"' in w.report.value


def test_sequential_trace_forward_and_clean():
    stu, ref = _models(L.ReLU())
    x, g = np.random.randn(6, 4), np.random.randn(6, 3)
    assert sequential_trace(stu, ref, x, g).index is None
    stu.modules[1] = L.LeakyReLU(0.5)
    r = sequential_trace(stu, ref, x, g)
    assert (r.index, r.direction) == (1, "forward")
    stu.modules[1] = ReLURaises()
    r = sequential_trace(stu, ref, x, g)
    assert r.index == 1 and "ZeroDivisionError" in r.error


# --- dashboard -------------------------------------------------------------------------------
def _statuses(html_text):
    return dict(re.findall(r'data-layer="(\w+)" data-status="([\w ]+)"', html_text))


def test_dashboard_mixed_namespace():
    ns = {n: getattr(L, n) for n in GRADED_NAMES}
    ns["Linear"] = LinearSignFlip
    ns["LeakyReLU"] = LeakyWrongSlope
    ns["ReLU"] = ReLURaises
    del ns["ELU"]
    d = dashboard(ns)
    st = _statuses(d.table.value)
    assert set(st) == set(GRADED_NAMES)
    assert st.pop("Linear") == "fail" and st.pop("LeakyReLU") == "fail" and st.pop("ReLU") == "fail"
    assert st.pop("ELU") == "not loaded"
    assert set(st.values()) == {"pass"}, st
    assert 'class="gi-dashboard"' in d.table.value
    assert "ZeroDivisionError" in d.table.value
    d.select.value = "Linear"
    assert isinstance(d.detail.children[0], GradientInspector)
    assert not d.inspector.comparisons["grad_W"].ok
    d.select.value = "ReLU"
    assert "ZeroDivisionError" in d.inspector.error
    d.select.value = "sgd_momentum"
    assert "all checks passed" in d.detail.children[0].value
    assert "ELU" not in [v for _, v in d.select.options]
    report = static_report_html(ns)
    assert _statuses(report)["Linear"] == "fail" and 'class="gi-report"' in report


# --- hostile text: class names, exception messages (issue 10, item 5) ---------------------------
PAYLOAD = "<img src=x onerror=alert(1337)><script>alert(1337)</script>"


def _hostile(base, method):
    def broken(self, *args):
        raise ValueError(PAYLOAD)
    return type(PAYLOAD, (base,), {method: broken})      # the class name itself is the payload


def _html_values(widget):
    import ipywidgets as W
    values = [widget.value] if isinstance(widget, W.HTML) else []
    for child in getattr(widget, "children", ()):
        values += _html_values(child)
    return values


def _assert_escaped(values):
    from layers_lib.course.nbgrader_steps.neutralize import clean_html
    assert values
    for value in values:
        assert "<script" not in value and "<img src=x" not in value, value[:300]
        assert clean_html(value)[1] == [], value[:300]        # only inert, allowlisted HTML
    assert any("&lt;script&gt;alert(1337)&lt;/script&gt;" in v for v in values)


def test_inspector_escapes_hostile_class_names_and_messages():
    named = GradientInspector(_hostile(L.ReLU, "update_output"))   # name from the class
    assert named.name == PAYLOAD
    _assert_escaped(_html_values(named))
    raising = GradientInspector(_hostile(L.ReLU, "update_output"), name="ReLU")
    assert PAYLOAD in raising.error
    _assert_escaped(_html_values(raising))


def test_dashboard_and_static_report_escape_hostile_messages():
    ns = {n: getattr(L, n) for n in GRADED_NAMES}
    ns["ReLU"] = _hostile(L.ReLU, "update_output")
    ns["Linear"] = _hostile(L.Linear, "update_grad_input")

    def sgd_momentum(*args, **kwargs):
        raise RuntimeError(PAYLOAD)
    ns["sgd_momentum"] = sgd_momentum
    d = dashboard(ns)
    _assert_escaped([d.table.value])
    for name in ("ReLU", "Linear", "sgd_momentum"):
        d.select.value = name
        _assert_escaped(_html_values(d.detail))
    _assert_escaped([static_report_html(ns)])


def test_sequential_trace_escapes_hostile_module_names_and_messages():
    hostile = _hostile(L.ReLU, "update_output")()
    stu, ref = _models(hostile)
    w = SequentialTrace(stu, ref, np.random.randn(6, 4), np.random.randn(6, 3))
    assert PAYLOAD in w.result.error
    _assert_escaped([w.table.value, w.report.value])
