"""Interactive (ipywidgets) views of the grading engine: GradientInspector, SequentialTrace, dashboard.

    from layers_lib.widgets import dashboard; display(dashboard(namespace))
"""
from .inspector import INSPECTABLE, GradientInspector, Inspection, inspect_layer
from .dashboard import (Dashboard, SequentialTrace, TraceResult, dashboard, sequential_trace,
                        static_report_html)

__all__ = ["GradientInspector", "Inspection", "inspect_layer", "INSPECTABLE", "Dashboard",
           "dashboard", "static_report_html", "SequentialTrace", "TraceResult", "sequential_trace"]
