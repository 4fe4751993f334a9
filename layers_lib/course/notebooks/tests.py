"""Builds `source/task8/[2]task8_test_modules.ipynb`: one graded cell per class, holding the
seed's test (repaired, visible) and the hidden checks."""
import ast
import inspect

from layers_lib.grading import visible_tests
from layers_lib.grading.visible_tests import GRADED_NAMES

from .cells import given_code, markdown, notebook, test_code
from .solutions import plain_source

from layers_lib.grading.parts import POINTS, describe_split

TOTAL = sum(POINTS.values())

INTRO = rf"""
# Task 8, part 2: testing your layers

Run this notebook after implementing the classes in `[1]task8_modules.ipynb` (see
`[0]task8_train_model.ipynb` for the order of the whole assignment). Every class has one graded
cell ({TOTAL} points in all): it compares your layer with PyTorch, run in float64 on exactly the
inputs your layer received, on the output, the input gradient, every parameter gradient and the
moving statistics.

**Partial credit.** The points of a class are split over what it must do (the split is stated
above each test): for `Linear`, for example, the forward pass, the input gradient and the
parameter gradients. A part is earned when every check of it passes, whatever the other parts
do: a `BatchNormalization` with a right forward pass and moving statistics but a wrong backward
pass earns 2 of its 3 points. The cell prints every part with PASS or FAIL and ends with the
points you earned (that number is the cell's grade).

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
never fails by rounding. **Values decide**: a numeric warning of your code (an `np.exp` that
overflows in a branch `np.where` throws away, ...) costs nothing when the values are right; it is
shown as advice. Wrong values, `inf` or `NaN` where the true result is finite, wrong shapes or
dtypes fail the part.

A broken cell in the modules notebook (a syntax error, an exception) costs only the classes it
defines: the setup cell below lists what could not be loaded and why. Your classes run in a
separate Python process during the tests: a class that loops forever or crashes fails only its
own test (after 20 s), and they may not use `torch` or `layers_lib` (the checks flag it).
"""

SETUP = """
import numpy as np
import torch
from layers_lib.grading import magnitude
from layers_lib.grading.grade import ClassGrade
from layers_lib.grading.isolation import IsolatedSubmission
from layers_lib.grading.visible_tests import seed_everything
from layers_lib.grading.testkit import (RANDOM_SEED, assert_matches, assert_that, binomial_interval,
                                        custom_forward_backward, generate_test_data, run_step,
                                        torch_forward_backward)

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
    lines += [plain_source(test), "",
              f'grade = ClassGrade("{name}")       # points: {describe_split(name)}',
              'with grade.checking("visible tests"):',
              f"    {test.__name__}({', '.join(needs)})",
              "### BEGIN HIDDEN TESTS",
              "from layers_lib.course.hidden_checks import WARNING_DEDUCTION, check_hidden",
              "check_hidden(grade, student)",
              "grade.warning_deduction = WARNING_DEDUCTION",
              "### END HIDDEN TESTS",
              "grade.score()"]
    return "\n".join(lines)


def build():
    cells = [markdown("intro", INTRO), given_code("setup", SETUP)]
    for name in GRADED_NAMES:
        key = name.lower()
        cells.append(markdown(f"about_test_{key}", f"### `{name}` ({POINTS[name]:g} "
                                                  f"point{'s' if POINTS[name] > 1 else ''}: "
                                                  f"{describe_split(name)})"))
        cells.append(test_code(f"test_{key}", test_cell_source(name), POINTS[name]))
    cells += [markdown("about_dashboard", "### Inspect mismatches\n\nOpens the gradient inspector "
                                          "(does nothing during grading; copy it into a new cell to change it)."),
              given_code("dashboard", DASHBOARD)]
    return notebook(cells)
