"""The bundled demo submissions (demo_submissions/<student>/*.ipynb), made from the release:
each student's notebooks are the release with some solution cells filled from the source, and
some methods replaced by the bugs of `demo_bugs`.

    python -m layers_lib.course.notebooks demo [--check]     (or build / check: every artifact)
"""
import ast
import re
import textwrap

import nbformat

from ..paths import DEMO_SUBMISSIONS, RELEASE, SOURCE
from .demo_bugs import BUGS
from .solutions import plain_source

ALL = "all"
HALF = {"linear_solution", "softmax_solution", "logsoftmax_solution", "relu_solution",
        "leakyrelu_solution", "elu_solution", "softplus_solution", "nllcriterion_solution"}
FILLED = {"ada_complete": ALL, "ben_blank": set(), "cleo_partial": HALF,
          "dan_transposed_and_dropout": ALL, "eve_unstable_softmax": ALL, "fay_syntax_error": ALL}

_MARKER = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*\n", re.MULTILINE)


def _solutions(source_nb):
    return {c.metadata.nbgrader["grade_id"]: _MARKER.sub("", c.source)
            for c in source_nb.cells if c.metadata.get("nbgrader", {}).get("solution")}


def replace_method(source, class_name, method, replacement):
    """`source` with `class_name.method` replaced by `replacement` (a function, renamed to
    `method`, or source text of the method)."""
    if callable(replacement):
        text = plain_source(replacement)
        text = text.replace(f"def {replacement.__name__}(", f"def {method}(", 1)
    else:
        text = textwrap.dedent(replacement).rstrip("\n")
    lines = source.splitlines()
    for node in ast.parse(source).body:
        if isinstance(node, ast.ClassDef) and node.name == class_name:
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and item.name == method:
                    indent = " " * item.col_offset
                    new = textwrap.indent(text, indent).splitlines()
                    return "\n".join(lines[:item.lineno - 1] + new + lines[item.end_lineno:])
    raise LookupError(f"{class_name}.{method} is not in the solution cell")


def student_notebook(name, student, source=SOURCE, release=RELEASE):
    """The notebook `name` of the demo `student`, from the source and release folders."""
    filled, bugs = FILLED[student], BUGS.get(student, [])
    solutions = _solutions(nbformat.read(source / name, as_version=4))
    release = nbformat.read(release / name, as_version=4)
    for cell in release.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in solutions and (filled == ALL or grade_id in filled):
            source = solutions[grade_id]
            for class_name, method, replacement in bugs:
                if grade_id == f"{class_name.lower()}_solution":
                    source = replace_method(source, class_name, method, replacement)
            cell.source = source
    return release


def rendered(source=SOURCE, release=RELEASE):
    """{path: text} of every demo notebook."""
    return {DEMO_SUBMISSIONS / student / path.name:
            nbformat.writes(student_notebook(path.name, student, source, release)) + "\n"
            for student in FILLED for path in sorted(release.glob("*.ipynb"))}
