"""The class dashboard (one row per graded class) and the Sequential divergence trace."""
from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any, Mapping

import ipywidgets as W
import numpy as np

from ..grading.loader import describe_exception
from ..grading.parts import part_label
from ..grading.runner import ClassResult, run_class_checks
from ..grading.visible_tests import graded_names
from ..grading.compare import Comparison, compare
from ..grading.render import report_to_html, to_html
from ..i18n import mark, tr
from .inspector import INSPECTABLE, GradientInspector, error_box, inspect_layer, quiet_numerics

_COLOURS = {"pass": "#1a7f37", "fail": "#cf222e", "not loaded": "#6e7781", "error": "#cf222e"}
# what the statuses (data-status values) read as, and the directions of a trace
_SHOWN = (mark("PASS"), mark("FAIL"), mark("NOT LOADED"), mark("ERROR"), mark("forward"),
          mark("backward"), mark("error"))


def _failure_items(failures, quantity_attribute=True) -> str:
    """<li>[part] message</li> per failure (the part in the course language)."""
    items = []
    for f in failures:
        attr = f' data-quantity="{html.escape(f["quantity"])}"' if quantity_attribute else ""
        items.append(f"<li{attr}>[{html.escape(part_label(f['quantity']))}] "
                     f"{html.escape(f['message'])}</li>")
    return "".join(items)


# ----------------------------------------------------------------------------- dashboard
def _status(result: ClassResult | None) -> str:
    if result is None:
        return "not loaded"
    return "pass" if result.passed else "fail"


def collect_results(namespace: Mapping[str, Any]) -> dict[str, ClassResult | None]:
    """{name: ClassResult, or None when the name is not in the namespace}; never raises."""
    out: dict[str, ClassResult | None] = {}
    for name in graded_names(namespace):
        if namespace.get(name) is None:
            out[name] = None
            continue
        try:
            with quiet_numerics():
                out[name] = run_class_checks(name, namespace)
        except Exception as exc:                               # noqa: BLE001
            r = ClassResult(name)
            r.fail("checks", describe_exception(exc, tr("the checks")))
            out[name] = r
    return out


def _table(results: Mapping[str, ClassResult | None]) -> str:
    rows = []
    for name, r in results.items():
        status = _status(r)
        detail = (tr("not loaded (define or run the cell of this class)") if r is None else
                  tr("all checks passed") if r.passed else
                  "; ".join(f"[{part_label(f['quantity'])}] {f['message']}" for f in r.failures))
        quantity = "" if r is None or r.passed else r.failures[0]["quantity"]
        rows.append(
            f'<tr class="gi-dashboard-row" data-layer="{html.escape(name)}" data-status="{html.escape(status)}"'
            f' data-quantity="{html.escape(quantity)}"><td><b>{html.escape(name)}</b></td>'
            f'<td style="color:{_COLOURS[status]};font-weight:bold">{html.escape(tr(status.upper()))}</td>'
            f'<td style="max-width:900px">{html.escape(detail)}</td></tr>')
    n_pass = sum(_status(r) == "pass" for r in results.values())
    return (f'<table class="gi-dashboard" data-passed="{n_pass}" data-total="{len(results)}" '
            f'style="border-collapse:collapse;font-size:12px"><tr><th style="text-align:left">'
            f'{html.escape(tr("class"))}</th><th>{html.escape(tr("status"))}</th>'
            f'<th style="text-align:left">{html.escape(tr("details"))}</th></tr>'
            + "".join(rows) + "</table><div>"
            + html.escape(tr("{passed} of {total} classes pass", passed=n_pass, total=len(results)))
            + "</div>")


def static_report_html(namespace: Mapping[str, Any]) -> str:
    """The dashboard table plus each failing class's reports, as static HTML (no widgets)."""
    results = collect_results(namespace)
    parts = [_table(results)]
    for name, r in results.items():
        if r is None or r.passed:
            continue
        parts.append(f'<h4 data-layer="{html.escape(name)}">{html.escape(name)}</h4>' + "<ul>"
                     + _failure_items(r.failures, quantity_attribute=False) + "</ul>")
        comparisons = list(r.comparisons)
        if not comparisons and name in INSPECTABLE and isinstance(namespace.get(name), type):
            ins = inspect_layer(namespace[name], name=name)   # the inspector's default scenario
            comparisons = [c for c in ins.comparisons.values() if not c.ok]
            if ins.error:
                parts.append(error_box(ins.error))
        if comparisons:
            parts.append(report_to_html(comparisons))
    return '<div class="gi-static-report">' + "".join(parts) + "</div>"


class Dashboard(W.VBox):
    """Per-class status table; choosing a class opens its GradientInspector (or its failures)."""

    def __init__(self, namespace: Mapping[str, Any], **kwargs: Any) -> None:
        self.namespace = namespace
        self.results = collect_results(namespace)
        self.table = W.HTML(_table(self.results))
        self.table.add_class("gi-dashboard-table")
        present = [n for n, r in self.results.items() if r is not None]
        self.select = W.Dropdown(options=[(tr("— choose a class —"), "")] + [(n, n) for n in present],
                                 value="", description=tr("inspect"))
        self.detail = W.VBox()
        self.detail.add_class("gi-dashboard-detail")
        self.inspector: GradientInspector | None = None
        super().__init__(children=[self.table, self.select, self.detail], **kwargs)
        self.add_class("gi-dashboard-root")
        self.select.observe(self._on_select, names="value")

    def _on_select(self, change: Any) -> None:
        self.show(change["new"])

    def show(self, name: str) -> None:
        self.inspector = None
        if not name:
            self.detail.children = []
            return
        r = self.results.get(name)
        cls = self.namespace.get(name)
        if name in INSPECTABLE and isinstance(cls, type):
            try:
                self.inspector = GradientInspector(cls, name=name)
                self.detail.children = [self.inspector]
                return
            except Exception as exc:                           # noqa: BLE001
                self.detail.children = [W.HTML(error_box(describe_exception(exc, "GradientInspector")))]
                return
        if r is None:
            body = error_box(tr("{name} is not loaded", name=name))
        elif r.passed:
            body = (f'<div class="gi-pass" data-layer="{html.escape(name)}">'
                    f'{html.escape(tr("{name}: all checks passed", name=name))}</div>')
        else:
            body = ('<ul class="gi-failures">' + _failure_items(r.failures) + "</ul>"
                    + (report_to_html(r.comparisons) if r.comparisons else ""))
        self.detail.children = [W.HTML(body)]


def dashboard(namespace: Mapping[str, Any]) -> Dashboard:
    """``display(dashboard(globals()))`` in a notebook: status of every graded class."""
    return Dashboard(namespace)


# ----------------------------------------------------------------------------- Sequential trace
@dataclass
class TraceRow:
    index: int
    name: str
    output: Comparison | None = None
    grad_input: Comparison | None = None
    error: str | None = None

    @property
    def status(self) -> str:
        if self.error:
            return "error"
        cs = [c for c in (self.output, self.grad_input) if c is not None]
        return "pass" if cs and all(c.ok for c in cs) else "fail"


@dataclass
class TraceResult:
    """``index``/``direction``/``comparison`` of the first divergence (None: all agree)."""
    rows: list[TraceRow] = field(default_factory=list)
    index: int | None = None
    direction: str | None = None      # "forward", "backward" or "error"
    comparison: Comparison | None = None
    error: str | None = None


def _modules(model: Any) -> list:
    return list(model.modules) if hasattr(model, "modules") else list(model)


def sequential_trace(student_model: Any, reference_model: Any, x: np.ndarray,
                     g: np.ndarray) -> TraceResult:
    """Find the first module where the student's model diverges from the reference.

    Both models have the same architecture (``.modules`` or a list). Each student module gets the
    *reference* module's input (forward) and grad_output (backward), so a divergence is local to
    that module. The first failing output in forward order wins; otherwise the first failing
    grad_input in backward order (from the last module). Never raises.
    """
    res = TraceResult()
    smods, rmods = _modules(student_model), _modules(reference_model)
    if len(smods) != len(rmods):
        res.error = tr("the models have {student} and {reference} modules", student=len(smods),
                       reference=len(rmods))
        res.direction = "error"
        return res
    dtype = np.asarray(x).dtype
    res.rows = [TraceRow(k, type(m).__name__) for k, m in enumerate(smods)]
    with quiet_numerics():
        inputs, h = [], np.asarray(x)
        try:
            for r in rmods:
                inputs.append(h)
                h = r.forward(h)
            grad_outs, gr = [None] * len(rmods), np.asarray(g)
            for k in range(len(rmods) - 1, -1, -1):
                grad_outs[k] = gr
                gr = rmods[k].backward(inputs[k], gr)
        except Exception as exc:                               # noqa: BLE001
            res.error, res.direction = describe_exception(exc, tr("the reference model")), "error"
            return res
        for k, (s, r) in enumerate(zip(smods, rmods)):
            row = res.rows[k]
            try:
                out = s.forward(inputs[k].copy())
                row.output = compare(r.output, out, layer=f"[{k}] {row.name}", quantity="output",
                                     dtype=dtype)
                grad = s.backward(inputs[k].copy(), grad_outs[k].copy())
                row.grad_input = compare(r.grad_input, grad, layer=f"[{k}] {row.name}",
                                         quantity="grad_input", dtype=dtype)
            except Exception as exc:                           # noqa: BLE001
                row.error = describe_exception(exc, tr("module [{index}] {name}", index=k, name=row.name))
    for row in res.rows:
        if row.error or (row.output is not None and not row.output.ok):
            res.index, res.direction = row.index, "error" if row.error else "forward"
            res.comparison, res.error = row.output if not row.error else None, row.error
            return res
    for row in reversed(res.rows):
        if row.grad_input is not None and not row.grad_input.ok:
            res.index, res.direction, res.comparison = row.index, "backward", row.grad_input
            return res
    return res


def trace_html(res: TraceResult) -> str:
    rows = "".join(
        f'<tr data-index="{int(r.index)}" data-layer="{html.escape(r.name)}" data-status="{html.escape(r.status)}">'
        f"<td>{int(r.index)}</td><td>{html.escape(r.name)}</td>"
        + "".join(f'<td>{"—" if c is None else html.escape(tr(c.status.upper()))}</td>'
                  for c in (r.output, r.grad_input))
        + f"<td>{html.escape(r.error or '')}</td></tr>" for r in res.rows)
    first = "none" if res.index is None else str(int(res.index))
    return (f'<table class="gi-trace" data-first-divergence="{first}" '
            f'data-direction="{html.escape(res.direction or "")}"><tr><th>#</th>'
            f'<th>{html.escape(tr("module"))}</th><th>output</th><th>grad_input</th>'
            f"<th>{html.escape(tr('error'))}</th></tr>{rows}</table>")


class SequentialTrace(W.VBox):
    """Per-module status table of :func:`sequential_trace` and the first divergence's report."""

    def __init__(self, student_model: Any, reference_model: Any, x: np.ndarray, g: np.ndarray,
                 **kwargs: Any) -> None:
        try:
            self.result = sequential_trace(student_model, reference_model, x, g)
        except Exception as exc:                               # noqa: BLE001
            self.result = TraceResult(error=describe_exception(exc, "sequential_trace"), direction="error")
        res = self.result
        self.table = W.HTML(trace_html(res))
        if res.comparison is not None:
            text = tr("first divergence: module [{index}] ({direction})", index=int(res.index),
                      direction=tr(str(res.direction)))
            detail = f"<div>{html.escape(text)}</div>" + to_html(res.comparison)
        elif res.error:
            detail = error_box(res.error)
        else:
            detail = f'<div class="gi-pass">{html.escape(tr("all modules agree with the reference"))}</div>'
        self.report = W.HTML(detail)
        super().__init__(children=[self.table, self.report], **kwargs)
        self.add_class("gi-sequential-trace")
