"""Builds `source/task8/[2]task8_test_modules.ipynb`: one graded cell per class, holding the
seed's test (repaired, visible) and the hidden checks.

The texts are the content files `content/tests/` (`intro`, `setup`, `dashboard`; the bilingual
format of `texts.py`). `build(variant)` writes them in the variant's language, with the split of
each class's points (`parts.describe_split`) in that language too (through `layers_lib.i18n`);
the advanced track adds a graded cell for each of `visible_tests.ADVANCED_NAMES`. The test
functions' comments and messages are in the variant's language too (`code_texts.translate_code`);
their quantities ("output", "grad_W", ...) stay English: the grading matches them.
"""
import ast
import inspect

from layers_lib.grading import visible_tests
from layers_lib.grading.parts import POINTS, describe_split
from layers_lib.grading.visible_tests import GRADED_NAMES

from .cells import given_code, markdown, notebook, test_code
from .code_texts import translate_code
from .solutions import plain_source
from .texts import Variant, content, language_setup, runtime_language

ADVANCED_NAMES = tuple(getattr(visible_tests, "ADVANCED_NAMES", ()))


def graded_names(variant=Variant()):
    """The classes with a graded cell, in order."""
    return tuple(GRADED_NAMES) + (ADVANCED_NAMES if variant.advanced else ())


def total(variant=Variant()):
    return sum(POINTS[name] for name in graded_names(variant))


TOTAL = total()   # the basic track's points


def points_phrase(points, language="en"):
    """ "2 points", "0.5 point"; "2 балла", "1 балл", "5 баллов", "0.5 балла" """
    number = f"{points:g}"
    if language == "ru":
        if points != int(points):
            return f"{number} балла"
        n = int(points)
        if n % 10 == 1 and n % 100 != 11:
            return f"{number} балл"
        if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
            return f"{number} балла"
        return f"{number} баллов"
    return f"{number} point{'s' if points > 1 else ''}"


POINTS_COMMENT = {"en": "points", "ru": "баллы"}

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


def test_cell_source(name, variant=Variant()):
    test, needs = visible_tests.VISIBLE_TESTS[name]
    lines = [f'{n} = student.require("{n}")' for n in needs] + [""]
    for helper in _helpers_used(test):
        lines += [translate_code(plain_source(helper), variant.language), ""]
    lines += [translate_code(plain_source(test), variant.language), "",
              f'grade = ClassGrade("{name}")       # {POINTS_COMMENT[variant.language]}: {describe_split(name)}',
              'with grade.checking("visible tests"):',
              f"    {test.__name__}({', '.join(needs)})",
              "### BEGIN HIDDEN TESTS",
              "from layers_lib.course.hidden_checks import WARNING_DEDUCTION, check_hidden",
              "check_hidden(grade, student)",
              "grade.warning_deduction = WARNING_DEDUCTION",
              "### END HIDDEN TESTS",
              "grade.score()"]
    return "\n".join(lines)


def build(variant=Variant()):
    """The source notebook for `variant` as a NotebookNode."""
    with runtime_language(variant.language):
        return _build(variant)


def _build(variant):
    intro = content("tests", "intro", variant, TOTAL=total(variant),
                    TOTAL_POINTS=points_phrase(total(variant), variant.language))
    cells = [markdown("intro", intro),
             given_code("setup", language_setup(variant) + content("tests", "setup", variant))]
    for name in graded_names(variant):
        key = name.lower()
        cells.append(markdown(f"about_test_{key}", f"### `{name}` "
                                                  f"({points_phrase(POINTS[name], variant.language)}: "
                                                  f"{describe_split(name)})"))
        cells.append(test_code(f"test_{key}", test_cell_source(name, variant), POINTS[name]))
    cells += [markdown("about_dashboard", content("tests", "dashboard", variant)),
              given_code("dashboard", DASHBOARD)]
    return notebook(cells)
