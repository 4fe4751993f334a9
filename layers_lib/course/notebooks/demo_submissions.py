"""Writes the bundled demo submissions (demo_submissions/<student>/*.ipynb) from the release:
each student's notebooks are the release with some solution cells filled from the source.

    python -m layers_lib.course.notebooks.demo_submissions [--check]
"""
import argparse
import re
import sys
from pathlib import Path

import nbformat

from ..paths import DEMO_SUBMISSIONS as OUT, RELEASE, SOURCE
ALL = "all"

# Bugs students really make, as (solution grade_id, old text, new text) edits of the reference.
TRANSPOSED_GRAD_W = ("linear_solution", "self.grad_W = (input.T @ grad_output)",
                     "self.grad_W = (grad_output.T @ input)")
DROPOUT_NO_RESCALE = ("dropout_solution", "self.output = input * self.mask * np.asarray(1.0 / (1.0 - self.p), dtype=input.dtype)",
                      "self.output = input * self.mask")
LOGSOFTMAX_NO_SHIFT = ("logsoftmax_solution", "shifted = input - input.max(axis=1, keepdims=True)",
                       "shifted = input")
SOFTMAX_NO_SHIFT = ("softmax_solution", "exp = np.exp(input - input.max(axis=1, keepdims=True))",
                    "exp = np.exp(input)")
SYNTAX_ERROR = ("elu_solution", "negative = np.minimum(input, 0)\n        self.output",
                "negative = np.minimum(input, 0\n        self.output")

HALF = {"linear_solution", "softmax_solution", "logsoftmax_solution", "relu_solution",
        "leakyrelu_solution", "elu_solution", "softplus_solution", "nllcriterion_solution"}

STUDENTS = {
    "ada_complete": (ALL, []),
    "ben_blank": (set(), []),
    "cleo_partial": (HALF, []),
    "dan_transposed_and_dropout": (ALL, [TRANSPOSED_GRAD_W, DROPOUT_NO_RESCALE]),
    "eve_unstable_softmax": (ALL, [LOGSOFTMAX_NO_SHIFT, SOFTMAX_NO_SHIFT]),
    "fay_syntax_error": (ALL, [SYNTAX_ERROR]),
}

_MARKER = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*\n", re.MULTILINE)


def _solutions(source_nb):
    return {c.metadata.nbgrader["grade_id"]: _MARKER.sub("", c.source)
            for c in source_nb.cells if c.metadata.get("nbgrader", {}).get("solution")}


def student_notebook(name, filled, bugs):
    release = nbformat.read(RELEASE / name, as_version=4)
    solutions = _solutions(nbformat.read(SOURCE / name, as_version=4))
    for cell in release.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in solutions and (filled == ALL or grade_id in filled):
            source = solutions[grade_id]
            for target, old, new in bugs:
                if target == grade_id:
                    assert old in source, f"{name} {grade_id}: bug pattern not found: {old!r}"
                    source = source.replace(old, new)
            cell.source = source
    return release


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    stale = []
    for student, (filled, bugs) in STUDENTS.items():
        for path in sorted(RELEASE.glob("*.ipynb")):
            text = nbformat.writes(student_notebook(path.name, filled, bugs)) + "\n"
            out = OUT / student / path.name
            if args.check:
                if not out.exists() or out.read_text(encoding="utf-8") != text:
                    stale.append(str(out))
            else:
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_text(text, encoding="utf-8")
    if stale:
        print("stale demo submissions: " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
