"""Tamper-proof autograding: the real `nbgrader autograde` (the course's nbgrader_config.py, with
layers_lib.course.nbgrader_steps installed) over the corpus of bad submissions in
tests/corpus/build.py, all graded as students of ONE course in ONE run.

Asserted: the run never crashes (exit code 0, no student fails), every graded cell of every
student gets a recorded automatic score (never "needs manual grading"), each case gets exactly
the per-cell scores it deserves (0 where it is broken or cheats, full marks for the untouched
classes), the correct student `ada_complete` keeps full marks next to all the bad ones, and the
failures happen the intended way (MemoryError, timeout, dead kernel, not a stray crash).

Cases that only the isolation worker (layers_lib/grading/isolation/) can grade right are
xfail(strict=True): they flip to failures-of-xfail, i.e. must be un-marked, when it lands.
"""
import io
import time
from pathlib import Path

import nbformat
import pytest

from corpus.build import ADA, CASES, MODULES, POINTS, TESTS, build_case
from corpus.course import make_course, submit
from layers_lib.course import pipeline
from layers_lib.course.nbgrader_steps.config import configure_autograde
from layers_lib.course.nbgrader_steps.execute import ResilientExecute
from layers_lib.course.nbgrader_steps.exporter import TolerantNotebookExporter
from layers_lib.course.nbgrader_steps.reading import UNREADABLE, read_submission
from layers_lib.course.nbgrader_steps.sanitize import SanitizeNotebook
from layers_lib.course.nbgrader_steps.unreadable import FailUnreadableNotebook
from layers_lib.grading.loader import load_submission

# the heavy autograde runs share one xdist worker (./dev test uses --dist loadgroup): side by side
# they would slow each other's correct students towards the time budgets
pytestmark = pytest.mark.xdist_group("autograde")

ROOT = Path(__file__).resolve().parents[1]
# per-cell timeout of the corpus run (test-only override of the course's 300 s). A correct
# test cell takes seconds; a hanging student call is stopped by the isolation worker after its
# call_timeout (20 s), which must stay below this, or the kernel is interrupted mid-call.
TIMEOUT = 60


def submit_case(root, case):
    submit(root, case, build_case(case, root.parent / "corpus" / case))


def grades(root):
    """{student: {cell: (auto_score, max_score, needs_manual_grade)}} from the gradebook."""
    from nbgrader.api import Gradebook
    table = {}
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        for submission in gb.assignment_submissions("task8"):
            table[submission.student_id] = {
                g.name: (g.auto_score, g.max_score, g.needs_manual_grade)
                for nb in submission.notebooks for g in nb.grades}
    return table


@pytest.fixture(scope="module")
def corpus_run(tmp_path_factory):
    root = make_course(tmp_path_factory.mktemp("tamper") / "course")
    for case in CASES:
        submit_case(root, case)
    start = time.perf_counter()
    code = pipeline.nbgrader(root, "autograde", "task8", f"--Execute.timeout={TIMEOUT}")
    seconds = time.perf_counter() - start
    print(f"autograde of {len(CASES)} corpus students: {seconds:.0f} s")
    return {"root": root, "code": code, "grades": grades(root), "log": (root / "nbgrader.log").read_text()}


def autograded(run, student, notebook=TESTS):
    return nbformat.read(run["root"] / "autograded" / student / "task8" / notebook, as_version=4)


def cell_outputs(nb, grade_id):
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
    return cell.get("outputs", [])


def error_names(nb, grade_id):
    return [o.ename for o in cell_outputs(nb, grade_id) if o.output_type == "error"]


# --- the corpus run ----------------------------------------------------------------------

@pytest.mark.slow
def test_the_run_never_crashes(corpus_run):
    assert "There was an error processing assignment" not in corpus_run["log"]
    assert corpus_run["code"] == 0
    assert sorted(corpus_run["grades"]) == sorted(CASES)
    for case in CASES:
        folder = corpus_run["root"] / "autograded" / case / "task8"
        expected = {MODULES} if case == "missing_test_notebook" else {MODULES, TESTS}
        assert {p.name for p in folder.glob("*.ipynb")} == expected, case


@pytest.mark.slow
def test_every_graded_cell_gets_a_recorded_automatic_score(corpus_run):
    """No forged cell adds points, no cell is left to manual grading, none is missing."""
    for student, cells in corpus_run["grades"].items():
        assert set(cells) == set(POINTS), student
        for cell, (auto, top, manual) in cells.items():
            assert auto is not None and not manual, (student, cell)
            assert top == POINTS[cell], (student, cell)


@pytest.mark.slow
@pytest.mark.parametrize("case", [
    pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=c.xfail)) if c.xfail else name
    for name, c in CASES.items()])
def test_case_gets_the_scores_it_deserves(corpus_run, case):
    got = {cell: (auto, top) for cell, (auto, top, _) in corpus_run["grades"][case].items()}
    assert got == CASES[case].expected()


@pytest.mark.slow
def test_bad_students_do_not_change_the_good_students_grade(corpus_run):
    assert corpus_run["grades"]["ada_complete"] == {c: (float(p), float(p), False) for c, p in POINTS.items()}
    nb = autograded(corpus_run, "ada_complete")
    assert not [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]


@pytest.mark.slow
def test_the_graded_test_notebook_is_the_source_notebook(corpus_run):
    """Whatever the student did to [2], the executed notebook has exactly the source's cells
    (except the plain dashboard cell), in order, with the source's text and no tags."""
    source = nbformat.read(corpus_run["root"] / "source" / "task8" / TESTS, as_version=4)
    want = [(c.metadata.nbgrader["grade_id"], c.cell_type, c.source)
            for c in source.cells if "nbgrader" in c.metadata]
    for case in CASES:
        if case in ("invalid_json_tests", "missing_test_notebook"):
            continue
        nb = autograded(corpus_run, case)
        got = [(c.metadata.get("nbgrader", {}).get("grade_id"), c.cell_type, c.source) for c in nb.cells]
        assert got == want, case
        assert not any(c.metadata.get("tags") for c in nb.cells), case


@pytest.mark.slow
def test_failures_happen_the_intended_way(corpus_run):
    def errors(case, cell, notebook=TESTS):
        return error_names(autograded(corpus_run, case, notebook), cell)
    def printed(case, cell):
        return "".join(o.get("text", "") for o in cell_outputs(autograded(corpus_run, case, TESTS), cell)
                       if o.output_type == "stream" and o.name == "stdout")
    # student code runs in the isolation worker: each failure stays in its own class's cell,
    # reported in the cell's part-by-part report (the cell's value is the points: 0 here)
    for cell in ("test_relu", "test_elu", "test_leakyrelu", "test_dropout", "test_softplus"):
        assert errors("hangs_and_crashes", cell) == [], cell
    assert "ReLU.forward did not return within" in printed("hangs_and_crashes", "test_relu")
    assert "ELU.forward did not return within" in printed("hangs_and_crashes", "test_elu")  # ignores SIGINT
    assert "MemoryError" in printed("hangs_and_crashes", "test_leakyrelu")                  # memory limit
    assert "worker process died" in printed("hangs_and_crashes", "test_dropout")            # os._exit
    assert "SoftPlus: 1 of 1 points" in printed("hangs_and_crashes", "test_softplus")
    # [1] is not executed by autograde (its classes are graded through [2], whose worker runs
    # them): a cell that kills the kernel at import or prints a million lines does nothing to
    # [1] there, and in [2] it costs only the classes it breaks (test_case_gets_the_scores_...)
    for case in ("kernel_death_import", "huge_output"):
        modules = autograded(corpus_run, case, MODULES)
        ran = [c.id for c in modules.cells if c.cell_type == "code" and (c.outputs or c.execution_count)]
        assert not ran, (case, ran)
    for cell in POINTS:
        assert errors("invalid_json_tests", cell) == ["RuntimeError"]
    assert "could not be read" in cell_outputs(autograded(corpus_run, "invalid_json_tests"), "test_linear")[0].evalue
    placeholder = autograded(corpus_run, "invalid_json_modules", MODULES)
    assert placeholder.metadata[UNREADABLE].startswith("invalid JSON")
    for notebook in (MODULES, TESTS):
        assert (corpus_run["root"] / "autograded" / "huge_output" / "task8" / notebook).stat().st_size < 500_000
    assert "patch the checkers" not in nbformat.writes(autograded(corpus_run, "cheat_added_cell_in_tests"))


# --- fast checks, no nbgrader run ----------------------------------------------------------

def _read(data):
    return read_submission(io.BytesIO(data) if isinstance(data, bytes) else io.StringIO(data))


@pytest.mark.parametrize("text", ["", "{", '{"cells": 5}', "[1, 2]", b"\xff\xfe{}",
                                  '{"cells": [{"cell_type": "bogus", "source": "", "metadata": {}}]}',
                                  '{"cells": [{"cell_type": "code", "source": 7, "metadata": {}}]}'])
def test_an_unreadable_file_becomes_a_flagged_placeholder(text):
    nb = _read(text)
    assert UNREADABLE in nb.metadata
    assert [c.cell_type for c in nb.cells] == ["markdown"]


def test_a_readable_notebook_is_read_unchanged():
    text = (ADA / TESTS).read_text(encoding="utf-8")
    nb = _read(text)
    assert UNREADABLE not in nb.metadata
    assert nb == nbformat.reads(text, as_version=4)


def test_configure_autograde_puts_the_steps_in_nbgraders_chains():
    from nbgrader.preprocessors import CheckCellMetadata, ClearOutput, Execute, OverwriteCells
    from traitlets.config import Config
    c = configure_autograde(Config())
    sanitize = c.Autograde.sanitize_preprocessors
    assert sanitize[0] is ClearOutput and sanitize[1] is SanitizeNotebook
    assert sanitize[sanitize.index(OverwriteCells) + 1] is FailUnreadableNotebook
    assert sanitize[-1] is CheckCellMetadata
    assert issubclass(c.Autograde.autograde_preprocessors[0], ResilientExecute)
    assert Execute not in c.Autograde.autograde_preprocessors
    assert c.Autograde.exporter_class is TolerantNotebookExporter


def test_cells_added_to_the_modules_notebook_are_ignored_by_the_loader(tmp_path):
    """Why [1] needs no rebuilding: the loader runs only solution and read-only cells, so a
    plain cell a student adds (that raises, redefines a class, or does not parse) changes
    nothing. (A student's helper in an added cell is not run either: it must live in a
    solution cell.)"""
    nb = nbformat.read(ADA / MODULES, as_version=4)
    for source in ("raise RuntimeError('boom')", "Linear = None", "def broken(:", "raise SystemExit(3)"):
        nb.cells.append(nbformat.v4.new_code_cell(source))
    nb.cells.insert(3, nbformat.v4.new_code_cell("Module = None"))
    nbformat.write(nb, tmp_path / MODULES)
    loaded = load_submission(tmp_path / MODULES)
    assert loaded.errors == []
    assert isinstance(loaded.get("Linear"), type) and loaded.get("Module") is not None


# --- ResilientExecute on its own: what happens in nbgrader's kernel ------------------------

def _graded(source, grade_id):
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["nbgrader"] = {"schema_version": 3, "grade": True, "solution": False, "locked": True,
                                 "task": False, "grade_id": grade_id, "points": 1}
    return cell


def _execute(tmp_path, cells, **traits):
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    executor = ResilientExecute(kernel_name="python3", **traits)
    nb, _ = executor.preprocess(nb, {"metadata": {"path": str(tmp_path)}})
    return {c.metadata.get("nbgrader", {}).get("grade_id", "setup"): c.outputs for c in nb.cells}


@pytest.mark.slow
def test_resilient_execute_survives_dead_and_hung_kernels(tmp_path):
    """A dead kernel (os._exit), a kernel that ignores the timeout's interrupt, a memory bomb
    and a flood of output each fail their own cell; the kernel is restarted, the setup replayed,
    and the next cells run (stock nbgrader fails the student's whole assignment instead)."""
    outputs = _execute(tmp_path, [
        nbformat.v4.new_code_cell("import numpy as np\nx = 41"),
        _graded("assert x == 41", "before"),
        _graded("import os; os._exit(1)", "dies"),
        _graded("assert x == 41", "after_death"),
        _graded("import time\nwhile True:\n    try:\n        time.sleep(0.05)\n"
                "    except BaseException:\n        pass", "hangs"),
        _graded("assert x == 41", "after_hang"),
        # 2.5 GB in 64 MiB steps: passes without a limit, MemoryError under 1 GiB; np.empty
        # because RLIMIT_DATA counts mappings, and touching fresh pages on a cold machine
        # (seconds per GiB) would race the 5 s timeout instead of testing the limit
        _graded("hog = [np.empty(2**23) for _ in range(40)]", "bomb"),
        _graded("print('y' * 3_000_000)\nimport sys\nprint('e' * 3_000_000, file=sys.stderr)", "flood"),
        _graded("assert x == 41\ndel x", "last"),
    ], timeout=5, memory_limit_mb=1024, max_output_chars=1_000_000)
    names = {cell: [o.ename for o in outs if o.output_type == "error"] for cell, outs in outputs.items()}
    # numpy raises _ArrayMemoryError, the interpreter MemoryError, whichever allocation fails
    names["bomb"] = ["MemoryError" if n.endswith("MemoryError") else n for n in names["bomb"]]
    assert names == {"setup": [], "before": [], "dies": ["DeadKernelError"], "after_death": [],
                     "hangs": ["CellTimeoutError"], "after_hang": [], "bomb": ["MemoryError"],
                     "flood": [], "last": []}
    flood = outputs["flood"]
    assert sum(len(o.text) for o in flood) < 1_100_000
    assert [o.name for o in flood] == ["stdout", "stderr"]       # stderr kept: the cell still scores 0
    assert "output truncated" in flood[-1].text


@pytest.mark.slow
def test_resilient_execute_gives_up_after_too_many_restarts(tmp_path):
    outputs = _execute(tmp_path, [_graded("import os; os._exit(1)", f"dies{k}") for k in range(3)]
                       + [_graded("pass", "never_runs")], max_kernel_restarts=1)
    names = {cell: [o.ename for o in outs if o.output_type == "error"] for cell, outs in outputs.items()}
    assert names == {"dies0": ["DeadKernelError"], "dies1": ["DeadKernelError"],
                     "dies2": ["KernelGaveUp"], "never_runs": ["KernelGaveUp"]}
