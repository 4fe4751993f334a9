"""The notebook the browser test opens: a student's Linear with a sign-flipped grad_W, shown in a
GradientInspector with the default controls (seed 0, batch 4, n_in 5, n_out 3, float32)."""
from __future__ import annotations

import json
from pathlib import Path

KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}

INSPECTOR_CELLS = [
    "import numpy as np\n"
    "import layers_lib.reference as L\n"
    "from layers_lib.widgets import GradientInspector",

    "class BuggyLinear(L.Linear):\n"
    "    \"\"\"grad_W has the wrong sign; output, grad_input and grad_b are right.\"\"\"\n"
    "    def update_grad_params(self, input, grad_output):\n"
    "        super().update_grad_params(input, grad_output)\n"
    "        self.grad_W = -self.grad_W",

    # name="Linear": the inspector picks the reference by name, and the class is not called Linear
    "inspector = GradientInspector(BuggyLinear, name=\"Linear\")\n"
    "inspector",
]


def notebook_json(cells: list[str]) -> dict:
    return {
        "nbformat": 4, "nbformat_minor": 5,
        "metadata": {"kernelspec": KERNELSPEC,
                     "language_info": {"name": "python"}},
        "cells": [{"cell_type": "code", "id": f"cell-{i}", "metadata": {}, "execution_count": None,
                   "outputs": [], "source": src} for i, src in enumerate(cells)],
    }


def write_notebook(path: Path, cells: list[str] = INSPECTOR_CELLS) -> Path:
    path.write_text(json.dumps(notebook_json(cells), indent=1))
    return path
