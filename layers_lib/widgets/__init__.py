"""Interactive (ipywidgets) views of the grading engine: GradientInspector, SequentialTrace, dashboard.

    from layers_lib.widgets import dashboard; display(dashboard(namespace))
"""
from .inspector import INSPECTABLE, GradientInspector, Inspection, inspect_layer


__all__ = ["GradientInspector", "Inspection", "inspect_layer", "INSPECTABLE",
           ]
