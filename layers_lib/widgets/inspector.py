"""GradientInspector: run a student's layer on inputs chosen with controls and show, per quantity,
the comparison with a float64 reference (heatmaps of expected / got / difference, mismatches marked).

The computation (:func:`inspect_layer`) lives in `inspection.py`, so it can be tested and reused
without ipywidgets. Nothing here raises because of the student's code: exceptions become an error
message shown in the widget.
"""
from __future__ import annotations

import html
from typing import Any

import ipywidgets as _W
import numpy as np

from ..grading.loader import describe_exception
from ..grading.compare import Comparison
from ..grading.render import to_html
from ..i18n import tr
from .inspection import (ELEMENTWISE, INSPECTABLE, Inspection, inspect_layer, quantities_of,
                         quiet_numerics)

__all__ = ["GradientInspector", "error_box", "summary_html", "INSPECTABLE", "Inspection",
           "inspect_layer", "quantities_of", "quiet_numerics"]


# ----------------------------------------------------------------------------- widget
def error_box(message: str) -> str:
    return (f'<div class="gi-error" data-status="error" style="border:1px solid #cf222e;'
            f'background:#ffebe9;color:#82071e;padding:6px 10px;margin:6px 0;white-space:pre-wrap">'
            f"<b>{html.escape(tr('Error'))}</b> {html.escape(str(message))}</div>")


def summary_html(ins: Inspection) -> str:
    if ins.error:
        return error_box(ins.error)
    rows = "".join(
        f'<tr data-quantity="{html.escape(q)}" data-status="{html.escape(c.status)}"><td>{html.escape(q)}</td>'
        f'<td style="color:{"#1a7f37" if c.ok else "#cf222e"}">{html.escape(tr(c.status.upper()))}</td>'
        f"<td>{html.escape(c.diagnosis or '')}</td></tr>" for q, c in ins.comparisons.items())
    ok = all(c.ok for c in ins.comparisons.values())
    return (f'<table class="gi-inspector-summary" data-layer="{html.escape(ins.name)}" '
            f'data-status="{"pass" if ok else "fail"}">{rows}</table>')




class GradientInspector(_W.VBox):
    """Interactive comparison of a student's layer with the float64 reference.

    ``layer``: the student's class (or an instance) of one of :data:`INSPECTABLE`;
    ``name``: the layer kind when the class is named differently. Attributes for tests and
    scripts: ``comparisons`` (quantity -> Comparison), ``error`` (str or None),
    ``recompute()``, the controls ``seed``, ``batch_size``, ``n_in``, ``n_out``,
    ``input_range``, ``dtype``, ``tol_scale``, and ``tab``/``panels`` (quantity -> HTML).
    """

    def __init__(self, layer: Any, name: str | None = None, *, seed: int = 0,
                 batch_size: int = 4, n_in: int = 5, n_out: int = 3,
                 input_range: float = 10.0, dtype: str = "float32", tol_scale: float = 1.0,
                 numeric: bool = True, **kwargs: Any) -> None:
        W = _W
        self.layer = layer
        self.name = name or (layer.__name__ if isinstance(layer, type) else type(layer).__name__)
        self.numeric = numeric
        self.comparisons: dict[str, Comparison] = {}
        self.error: str | None = None
        self.inspection: Inspection | None = None
        style = {"description_width": "initial"}
        self.seed = W.IntText(value=seed, description=tr("seed"), style=style,
                              layout=W.Layout(width="140px"))
        self.batch_size = W.IntSlider(value=batch_size, min=1, max=64, description=tr("batch"),
                                      continuous_update=False, style=style)
        self.n_in = W.IntSlider(value=n_in, min=1, max=64, description="n_in",
                                continuous_update=False, style=style)
        self.n_out = W.IntSlider(value=n_out, min=1, max=64, description="n_out",
                                 continuous_update=False, style=style,
                                 disabled=self.name in ELEMENTWISE or self.name == "Scaling")
        self.input_range = W.FloatLogSlider(value=input_range, base=10, min=-1, max=4,
                                            step=0.25, description="|x| <=",
                                            continuous_update=False, style=style)
        self.dtype = W.Dropdown(options=["float32", "float64"], value=str(np.dtype(dtype)),
                                description="dtype", style=style,
                                layout=W.Layout(width="160px"))
        self.tol_scale = W.FloatLogSlider(value=tol_scale, base=10, min=-3, max=3, step=0.5,
                                          description=tr("tolerance x"), continuous_update=False,
                                          style=style)
        self.controls = [self.seed, self.batch_size, self.n_in, self.n_out, self.input_range,
                         self.dtype, self.tol_scale]
        self.title = W.HTML(f"<b>GradientInspector: {html.escape(self.name)}</b>")
        self.status = W.HTML()
        self.status.add_class("gi-status")
        qs = quantities_of(self.name) if self.name in INSPECTABLE else ("output",)
        self.panels = {q: W.HTML() for q in qs}
        for q, p in self.panels.items():
            p.add_class("gi-tab-html")
        self.tab = W.Tab(children=list(self.panels.values()), titles=list(qs))
        box = W.VBox([W.HBox([self.seed, self.dtype, self.batch_size]),
                      W.HBox([self.n_in, self.n_out]),
                      W.HBox([self.input_range, self.tol_scale])])
        super().__init__(children=[self.title, box, self.status, self.tab], **kwargs)
        self.add_class("gi-inspector")
        for c in self.controls:
            c.observe(self._on_change, names="value")
        self.recompute()

    def _on_change(self, change: Any) -> None:
        self.recompute()

    def recompute(self) -> Inspection:
        """Rerun the layer with the current control values and refresh every tab."""
        try:
            ins = inspect_layer(self.layer, name=self.name, seed=int(self.seed.value),
                                batch_size=int(self.batch_size.value), n_in=int(self.n_in.value),
                                n_out=int(self.n_out.value),
                                input_range=float(self.input_range.value),
                                dtype=self.dtype.value, tol_scale=float(self.tol_scale.value),
                                numeric=self.numeric)
        except Exception as exc:                           # noqa: BLE001 - never raise
            ins = Inspection(self.name, error=describe_exception(exc, tr("the inspector")))
        self.inspection, self.comparisons, self.error = ins, ins.comparisons, ins.error
        self.status.value = summary_html(ins)
        titles = []
        for q, panel in self.panels.items():
            c = ins.comparisons.get(q)
            if c is None:
                panel.value = error_box(ins.error or tr("{quantity} was not computed", quantity=q))
                titles.append(f"{q} ?")
            else:
                panel.value = to_html(c)
                titles.append(f"{q} {'✓' if c.ok else '✗'}")
        self.tab.titles = titles
        return ins
