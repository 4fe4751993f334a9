"""The corpus of bad submissions: each case is `demo_submissions/ada_complete` (a correct student)
with a few small edits, written on demand as a student directory of notebooks.

    python tests/corpus/build.py OUT_DIR [case ...]     # writes OUT_DIR/<case>/*.ipynb

`CASES[name]` holds the edits, the graded cells the case deserves 0 on (every other cell: full
marks, what a correct student gets for the untouched classes), and, for a case the grading
cannot handle yet, why it is expected to fail (a strict xfail in tests/test_tamper.py).
"""
import copy
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[2]
ADA = ROOT / "demo_submissions" / "ada_complete"
RELEASE = ROOT / "release" / "task8"
MODULES, TESTS = "[1]task8_modules.ipynb", "[2]task8_test_modules.ipynb"

POINTS = {"test_linear": 2, "test_softmax": 2, "test_logsoftmax": 2, "test_batchnormalization": 3,
          "test_scaling": 1, "test_sequential": 2, "test_dropout": 2, "test_relu": 1, "test_leakyrelu": 1,
          "test_elu": 1, "test_softplus": 1, "test_nllcriterionunstable": 1, "test_nllcriterion": 1,
          "test_sgd_momentum": 1, "test_adam_optimizer": 2}
ALL = frozenset(POINTS)


# --- edits on {file name: NotebookNode | str (raw text) | None (not submitted)} ----------------

def _index(nb, grade_id):
    hits = [i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id]
    assert len(hits) == 1, f"{grade_id}: {len(hits)} cells"
    return hits[0]


def _new_id(nb, base):
    ids = {c.get("id") for c in nb.cells}
    k = 0
    while f"{base}-{k}" in ids:
        k += 1
    return f"{base}-{k}"


def replace(name, grade_id, old, new):
    def edit(files):
        cell = files[name].cells[_index(files[name], grade_id)]
        assert old in cell.source, f"{name} {grade_id}: {old!r} not found"
        cell.source = cell.source.replace(old, new, 1)
    return edit


def set_source(name, grade_id, source):
    def edit(files):
        files[name].cells[_index(files[name], grade_id)].source = source
    return edit


def append(name, grade_id, text):
    def edit(files):
        cell = files[name].cells[_index(files[name], grade_id)]
        cell.source = cell.source.rstrip("\n") + "\n" + text
    return edit


def delete(name, grade_id):
    def edit(files):
        del files[name].cells[_index(files[name], grade_id)]
    return edit


def duplicate(name, grade_id, first=None, last=None):
    """Paste a copy (same metadata, same grade_id) right after the cell; optionally change the
    source of the first (original) or the last (pasted) copy."""
    def edit(files):
        nb = files[name]
        i = _index(nb, grade_id)
        pasted = copy.deepcopy(nb.cells[i])
        pasted.id = _new_id(nb, grade_id)
        if first is not None:
            nb.cells[i].source = first
        if last is not None:
            pasted.source = last
        nb.cells.insert(i + 1, pasted)
    return edit


def move_before(name, grade_id, before):
    def edit(files):
        nb = files[name]
        cell = nb.cells.pop(_index(nb, grade_id))
        nb.cells.insert(_index(nb, before), cell)
    return edit


def reverse(name):
    def edit(files):
        files[name].cells.reverse()
    return edit


def set_type(name, grade_id, cell_type):
    def edit(files):
        nb = files[name]
        i = _index(nb, grade_id)
        old = nb.cells[i]
        new = {"markdown": nbformat.v4.new_markdown_cell, "raw": nbformat.v4.new_raw_cell,
               "code": nbformat.v4.new_code_cell}[cell_type](old.source)
        new.metadata, new.id = old.metadata, old.id
        nb.cells[i] = new
    return edit


def add_cell(name, before, source, metadata=None, cell_type="code"):
    """A cell the student added, right before `before` (a grade_id; None: at the end)."""
    def edit(files):
        nb = files[name]
        make = nbformat.v4.new_code_cell if cell_type == "code" else nbformat.v4.new_markdown_cell
        cell = make(source)
        cell.id = _new_id(nb, "added")
        if metadata is not None:
            cell.metadata = nbformat.from_dict(metadata)
        nb.cells.insert(len(nb.cells) if before is None else _index(nb, before), cell)
    return edit


def set_meta(name, grade_id, tags=None, **nbgrader):
    def edit(files):
        cell = files[name].cells[_index(files[name], grade_id)]
        cell.metadata.nbgrader.update(nbgrader)
        if tags is not None:
            cell.metadata["tags"] = tags
    return edit


def truncate(name):
    """A file cut off in the middle (an interrupted upload, a broken merge): invalid JSON."""
    def edit(files):
        text = nbformat.writes(files[name])
        files[name] = text[: len(text) // 2]
    return edit


def remove_file(name):
    def edit(files):
        files[name] = None
    return edit


def release_source(grade_id):
    nb = nbformat.read(RELEASE / MODULES, as_version=4)
    return nb.cells[_index(nb, grade_id)].source


# --- the cases --------------------------------------------------------------------------------

@dataclass
class Case:
    edits: list
    zero: frozenset = frozenset()          # graded cells that deserve 0 (the rest: full marks)
    xfail: str = None                      # why the deserved scores are not reached yet
    # (three cases were xfail until the isolation worker landed: kernel_death_import and the
    # two cheat_modules_* cases; they flipped to passing with commit b1808c1)
    note: str = ""
    partial: dict = None                   # graded cells that deserve part of their points

    def expected(self):
        partial = self.partial or {}
        return {cell: (0.0 if cell in self.zero else float(partial.get(cell, p)), float(p))
                for cell, p in POINTS.items()}


TRANSPOSED_GRAD_W = replace(MODULES, "linear_solution", "self.grad_W = (input.T @ grad_output)",
                            "self.grad_W = (grad_output.T @ input)")
UNSTABLE_SOFTMAX = replace(MODULES, "softmax_solution",
                           "exp = np.exp(input - input.max(axis=1, keepdims=True))", "exp = np.exp(input)")

CHEAT_CELL = """\
# make every test pass: patch the checkers, numpy, and swap in the reference classes
import numpy as np
import layers_lib.reference as layers_lib
import layers_lib.course.hidden_checks as checks
assert_class_passes = lambda *args, **kwargs: None
assert_matches = lambda *args, **kwargs: None
checks.run_class_checks = lambda name, namespace, **kwargs: checks.ClassResult(name)
np.allclose = lambda *args, **kwargs: True
np.testing.assert_allclose = lambda *args, **kwargs: None
for _name in ("Linear", "SoftMax", "LogSoftMax", "ReLU"):
    student.namespace[_name] = getattr(layers_lib, _name)
"""

MODULES_MONKEYPATCH = """

# --- runs when the tests load this notebook: patch the checkers in the test kernel
import sys as _sys
import numpy as _np
import layers_lib.course.hidden_checks as _checks
_sys.modules["__main__"].assert_matches = lambda *args, **kwargs: None
_checks.run_class_checks = lambda name, namespace, **kwargs: _checks.ClassResult(name)
_np.allclose = lambda *args, **kwargs: True
"""

INFINITE_LOOP = """def update_output(self, input):
        while True:
            pass
"""
UNINTERRUPTIBLE_LOOP = """def update_output(self, input):
        import time
        while True:
            try:
                time.sleep(0.05)
            except BaseException:
                pass
"""
# 64 MiB at a time up to 6 GiB, then the right answer: without a memory limit the class would
# pass (and the machine would have lent 6 GiB); with the kernel's limit it raises MemoryError
# np.empty: the limit counts address space, so untouched arrays reach it at once; with np.ones
# the first touch of fresh pages (seconds per GiB on a cold VM) raced the 10 s timeout
MEMORY_BOMB = """def update_output(self, input):
        hog = [np.empty(8 * 2**20) for _ in range(96)]
        del hog
"""

CASES = {
    "ada_complete": Case([], note="the unmodified correct student: full marks in every run"),
    "invalid_json_tests": Case([truncate(TESTS)], ALL,
                               note="[2] is not JSON: graded 0; [1] is still graded"),
    "invalid_json_modules": Case([truncate(MODULES)], ALL,
                                 note="[1] is not JSON: no class can be loaded; [2] is graded (0)"),
    "missing_test_notebook": Case([remove_file(TESTS)], ALL, note="nbgrader gives 0 to a missing notebook"),
    "deleted_cells": Case([delete(TESTS, "test_linear"), delete(TESTS, "setup"),
                           delete(TESTS, "about_test_relu"), delete(MODULES, "module_contract")],
                          note="deleted test/setup cells of [2] and a read-only cell of [1] come back"),
    "duplicated_cells": Case(
        [duplicate(TESTS, "test_softmax", first="pass"), duplicate(TESTS, "setup"),
         duplicate(MODULES, "linear_solution", first=release_source("linear_solution")),
         duplicate(MODULES, "relu_solution", last=release_source("relu_solution"))],
        {"test_relu"}, note="[1]: the last copy of a duplicated solution cell counts (as in Python)"),
    "reordered_cells": Case([reverse(TESTS), move_before(MODULES, "elu_solution", "relu_solution")]),
    "changed_cell_types": Case([set_type(TESTS, "test_linear", "markdown"), set_type(TESTS, "test_relu", "raw"),
                                set_type(TESTS, "setup", "markdown"), set_type(MODULES, "linear_solution", "markdown"),
                                set_type(MODULES, "imports", "raw")]),
    "renamed_or_deleted_classes": Case([replace(MODULES, "linear_solution", "class Linear(Module):",
                                                "class LinearLayer(Module):"),
                                        delete(MODULES, "dropout_solution")],
                                       {"test_linear", "test_dropout"},
                                       note="Linear renamed, Dropout's solution cell deleted"),
    "syntax_errors": Case([replace(MODULES, "softplus_solution", "def update_output(self, input):",
                                   "def update_output(self, input)"),
                           add_cell(MODULES, "linear_solution", "def helper(:\n    pass"),
                           add_cell(TESTS, "setup", "this is not python")],
                          {"test_softplus"}, note="added cells with syntax errors are ignored/removed"),
    "hangs_and_crashes": Case(
        [replace(MODULES, "relu_solution", "def update_output(self, input):\n", INFINITE_LOOP),
         replace(MODULES, "elu_solution", "def update_output(self, input):\n", UNINTERRUPTIBLE_LOOP),
         replace(MODULES, "leakyrelu_solution", "def update_output(self, input):\n", MEMORY_BOMB),
         replace(MODULES, "dropout_solution", "def update_output(self, input):\n",
                 "def update_output(self, input):\n        import os; os._exit(1)\n")],
        {"test_relu", "test_elu", "test_leakyrelu", "test_dropout"},
        note="ReLU loops forever, ELU loops and swallows KeyboardInterrupt, LeakyReLU allocates "
             "6 GiB (a memory limit must stop it), Dropout calls os._exit: each fails its own test"),
    "kernel_death_import": Case([append(MODULES, "relu_solution", "import os\nos._exit(1)")], {"test_relu"},
                                note="kills the kernel that runs [1] (restarted, later cells run) and "
                                     "the worker that loads [1] for [2] (only ReLU is lost)"),
    "huge_output": Case([append(MODULES, "scaling_solution", "print('\\n'.join(map(str, range(10**6))))")],
                        note="a million lines printed at import (in [1] and while [2] loads it): "
                             "truncated by LimitOutput, no effect on scores"),
    "wrong_outputs": Case([replace(MODULES, "softplus_solution", "return self.output",
                                   "self.output = np.full_like(input, np.nan)\n        return self.output"),
                           replace(MODULES, "linear_solution", "return self.output",
                                   "return self.output.reshape(-1)"),
                           replace(MODULES, "relu_solution", "self.output = np.maximum(input, zeros, out=zeros)",
                                   "self.output = np.maximum(input, zeros, out=zeros).astype(np.float64)")],
                          partial={"test_softplus": 0.25, "test_linear": 1.5, "test_relu": 0.5},
                          note="SoftPlus returns NaN, Linear a flat vector (shape), ReLU float64 for "
                               "float32 input (dtype): each loses its forward part (SoftPlus also "
                               "its large-inputs part), the backward parts are right"),
    "cheat_added_cell_in_tests": Case([TRANSPOSED_GRAD_W, add_cell(TESTS, "about_test_linear", CHEAT_CELL)],
                                      partial={"test_linear": 1.0},
                                      note="the added cell is removed before execution; the "
                                           "transposed grad_W costs the parameter-gradient part"),
    "cheat_test_cell_tampering": Case(
        [TRANSPOSED_GRAD_W, UNSTABLE_SOFTMAX,
         set_source(TESTS, "test_linear", "pass"),
         set_meta(TESTS, "test_linear", grade=False, locked=False, points=0),
         set_meta(TESTS, "test_softmax", tags=["skip-execution"]),
         set_meta(TESTS, "test_relu", points=100)],
        partial={"test_linear": 1.0, "test_softmax": 1.5},
        note="test source `pass` with the grade flag removed; a skip-execution tag; points raised: "
             "all restored, so the bugs cost exactly their parts"),
    "metadata_tamper": Case(
        [add_cell(MODULES, "linear_solution", "x = 1", {"nbgrader": {
            "schema_version": 3, "grade": True, "solution": False, "locked": True, "task": False,
            "grade_id": "bonus", "points": 50}}),
         add_cell(MODULES, None, "y = 2", {"nbgrader": {"schema_version": 99, "grade_id": "future"}}),
         set_meta(MODULES, "module_contract", solution=True),
         add_cell(TESTS, "setup", "pass", {"nbgrader": {
             "schema_version": 3, "grade": True, "solution": False, "locked": True, "task": False,
             "grade_id": "free_points", "points": 100}}),
         set_meta(TESTS, "setup", locked=False),
         append(TESTS, "setup", "import layers_lib.reference as layers_lib\nstudent.namespace.update(vars(layers_lib))")],
        note="forged grade cells, a future schema version, flipped flags: no effect"),
    "cheat_modules_monkeypatch": Case([TRANSPOSED_GRAD_W, append(MODULES, "linear_solution", MODULES_MONKEYPATCH)],
                                      {"test_linear"}, note="defeated by the isolation worker"),
    "cheat_modules_reference_import": Case(
        [set_source(MODULES, "linear_solution", "from layers_lib import Linear")], {"test_linear"},
        note="the isolation worker cannot import layers_lib"),
}


def build_case(name, out_dir):
    """Write case `name` as the notebooks of one student in `out_dir`; returns out_dir."""
    files = {nb: nbformat.read(ADA / nb, as_version=4) for nb in (MODULES, TESTS)}
    for edit in CASES[name].edits:
        edit(files)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for nb, content in files.items():
        if content is None:
            continue
        text = content if isinstance(content, str) else nbformat.writes(content) + "\n"
        (out_dir / nb).write_text(text, encoding="utf-8")
    return out_dir


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        print(__doc__)
        print("cases:", ", ".join(CASES))
        return 2
    out, names = Path(argv[0]), argv[1:] or list(CASES)
    for name in names:
        build_case(name, out / name)
    print(json.dumps({n: sorted(CASES[n].zero) for n in names}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
