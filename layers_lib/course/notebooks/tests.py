"""Builds `source/task8/[2]task8_test_modules.ipynb`: one graded cell per class, holding the
seed's test (repaired, visible) and the hidden checks."""
import ast
import inspect

from layers_lib.grading import visible_tests
from layers_lib.grading.visible_tests import GRADED_NAMES

from .cells import free_code, given_code, markdown, notebook, test_code
from .solutions import plain_source

POINTS = {"Linear": 2, "SoftMax": 2, "LogSoftMax": 2, "BatchNormalization": 3, "Scaling": 1,
          "Sequential": 2, "Dropout": 2, "ReLU": 1, "LeakyReLU": 1, "ELU": 1, "SoftPlus": 1,
          "NLLCriterionUnstable": 1, "NLLCriterion": 1, "sgd_momentum": 1, "adam_optimizer": 2}
TOTAL = sum(POINTS.values())

INTRO = rf"""
# Task 8, part 2: testing your layers

Run this notebook after implementing the classes in `[1]task8_modules.ipynb` (see
`[0]task8_train_model.ipynb` for the order of the whole assignment). Every class has one graded
cell ({TOTAL} points in all): it compares your layer with PyTorch, run in float64 on exactly the
inputs your layer received, on the output, the input gradient, every parameter gradient and the
moving statistics.

* **Visible tests** are the code you see: the original tests of the assignment, repaired.
* **Hidden tests** run at grading: float32 *and* float64 inputs, batch size 1, non-square shapes,
  inputs up to $\pm 10^4$ (stability), exact zeros at the ReLU kink, several training steps of
  batch norm, the drop rate of dropout. They are not in your copy of the course: a solution that
  follows the formulas in `[1]` and passes the visible tests in float32 *and* float64, for batch
  size 1 and for inputs far from zero, passes them too.
  `python -m layers_lib.grading check "[1]task8_modules.ipynb"` runs the visible tests from a
  terminal.

**Reading a failure.** Each message names the class, the quantity, shapes and dtypes, the largest
absolute and relative error, and the worst element with the expected and your value; where the
pattern is recognisable it says what it looks like (transposed, off by the batch size, sign
flipped, unstable for large inputs, ...). Tolerances follow the dtype: a correct float32 solution
never fails by rounding. A warning printed by your code (overflow in `exp`, ...) also fails a cell:
graded cells must print nothing to stderr.

A broken cell in the modules notebook (a syntax error, an exception) costs only the classes it
defines: the setup cell below lists what could not be loaded and why. Your classes run in a
separate Python process during the tests: a class that loops forever or crashes fails only its
own test (after 20 s), and they may not use `torch` or `layers_lib` (the checks flag it).
"""

SETUP = """
import numpy as np
import torch
from layers_lib.grading import magnitude
from layers_lib.grading.isolation import IsolatedSubmission
from layers_lib.grading.visible_tests import seed_everything
from layers_lib.grading.testkit import (RANDOM_SEED, assert_matches, custom_forward_backward,
                                        generate_test_data, torch_forward_backward)

torch.set_num_threads(1)   # the tensors are tiny: more threads only spin
# Your classes run in a separate process (a fresh Python): only arrays come back, and the
# comparisons happen here. A class that hangs or crashes fails its own test only.
student = IsolatedSubmission("[1]task8_modules.ipynb")
print(student.summary())
"""

DASHBOARD = """
import os
if not os.environ.get("NBGRADER_EXECUTION"):
    from layers_lib.grading.loader import load_submission
    from layers_lib.widgets import dashboard
    display(dashboard(load_submission("[1]task8_modules.ipynb").namespace))
"""


def _helpers_used(func):
    """Module-level helpers of visible_tests that `func` calls (their source goes in the cell too)."""
    names = {n.id for n in ast.walk(ast.parse(inspect.getsource(func))) if isinstance(n, ast.Name)}
    return [getattr(visible_tests, n) for n in sorted(names)
            if inspect.isfunction(getattr(visible_tests, n, None)) and n.endswith("_test")]


def test_cell_source(name):
    test, needs = visible_tests.VISIBLE_TESTS[name]
    lines = [f'{n} = student.require("{n}")' for n in needs] + [""]
    for helper in _helpers_used(test):
        lines += [plain_source(helper), ""]
    lines += [plain_source(test), "", f"{test.__name__}({', '.join(needs)})"]
    lines += ["", "### BEGIN HIDDEN TESTS",
              "from layers_lib.course.hidden_checks import assert_class_passes",
              f'assert_class_passes("{name}", student)', "### END HIDDEN TESTS"]
    return "\n".join(lines)


def build():
    cells = [markdown("intro", INTRO), given_code("setup", SETUP)]
    for name in GRADED_NAMES:
        key = name.lower()
        cells.append(markdown(f"about_test_{key}", f"### `{name}` ({POINTS[name]} "
                                                  f"point{'s' if POINTS[name] > 1 else ''})"))
        cells.append(test_code(f"test_{key}", test_cell_source(name), POINTS[name]))
    cells += [markdown("about_dashboard", "### Inspect mismatches\n\nOpens the gradient inspector "
                                          "(does nothing during grading)."),
              free_code("dashboard", DASHBOARD)]
    return notebook(cells)
