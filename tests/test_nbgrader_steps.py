"""Fast unit tests of the course's nbgrader steps (layers_lib/course/nbgrader_steps/), one group
per file, on small in-memory notebooks: no `nbgrader autograde` run and no kernel (ResilientExecute
runs against a fake kernel). The real run over the corpus of bad submissions is tests/test_tamper.py.
"""
import io
import json
import logging
import os
import resource
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbconvert.preprocessors import ExecutePreprocessor
from traitlets.config import Config, Configurable

from nbgrader.api import Gradebook
from nbgrader.converters import Autograde
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import ClearOutput, Execute, OverwriteCells

from layers_lib.course.nbgrader_steps.config import configure_autograde
from layers_lib.course.nbgrader_steps.execute import ResilientExecute
from layers_lib.course.nbgrader_steps.neutralize import NeutralizeActiveContent
from layers_lib.course.nbgrader_steps.regrade_training import RegradeTraining
from layers_lib.course.nbgrader_steps.sandboxed_execute import SandboxedExecute
from layers_lib.course.nbgrader_steps.exporter import TolerantNotebookExporter
from layers_lib.course.nbgrader_steps.reading import UNREADABLE, read_or_placeholder, read_submission
from layers_lib.course.nbgrader_steps.sanitize import SanitizeNotebook, canonical_cells
from layers_lib.course.nbgrader_steps.unreadable import FailUnreadableNotebook

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT, NOTEBOOK = "task8", "[9]tiny"

# the source notebook: (grade_id, cell_type, source, nbgrader flags)
SOURCE = [
    ("intro", "markdown", "# Tiny task", {"locked": True}),
    ("setup", "code", "import math", {"locked": True}),
    ("solution", "code", "def f():\n    return 1", {"solution": True}),
    ("test", "code", "assert f() == 1", {"grade": True, "locked": True, "points": 2.0}),
]
SOURCE_TEXT = {name: source for name, _, source, _ in SOURCE}


def canonical_metadata(name):
    """The nbgrader metadata generate_assignment gives cell `name` (written out, not computed)."""
    cell_type, flags = next((t, f) for n, t, _, f in SOURCE if n == name)
    meta = {"schema_version": 3, "grade": False, "solution": False, "locked": False, "task": False,
            "grade_id": name, "checksum": f"checksum-{name}", "cell_type": cell_type}
    meta.update({k: v for k, v in flags.items() if k != "points"})
    if meta["grade"]:
        meta["points"] = flags["points"]
    return meta


def new_cell(cell_type, source, **metadata):
    cell = nbformat.v4.new_code_cell(source) if cell_type == "code" else nbformat.v4.new_markdown_cell(source)
    cell.metadata.update(metadata)
    return cell


def released_cells():
    """The cells of the notebook as the student received it."""
    return [new_cell(cell_type, source, nbgrader=canonical_metadata(name))
            for name, cell_type, source, _ in SOURCE]


def grade_ids(nb):
    return [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells]


def by_grade_id(nb):
    return {c.metadata.nbgrader["grade_id"]: c for c in nb.cells if "nbgrader" in c.metadata}


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A course folder (read only): the gradebook holds NOTEBOOK (its cells stored in reverse
    order, so the order can only come from source/), and source/ holds the notebook file."""
    tmp_path = tmp_path_factory.mktemp("course")
    db_url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    with pytest.MonkeyPatch.context() as mp:
        # a new gradebook runs `alembic` as a program: the interpreter's bin must be on PATH
        mp.setenv("PATH", str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""))
        gb = Gradebook(db_url)
    with gb:
        gb.add_assignment(ASSIGNMENT)
        gb.add_notebook(NOTEBOOK, ASSIGNMENT)
        for name, cell_type, source, flags in reversed(SOURCE):
            gb.add_source_cell(name, NOTEBOOK, ASSIGNMENT, cell_type=cell_type, source=source,
                               locked=flags.get("locked", False), checksum=f"checksum-{name}")
            if flags.get("grade"):
                gb.add_grade_cell(name, NOTEBOOK, ASSIGNMENT, max_score=flags["points"], cell_type=cell_type)
            if flags.get("solution"):
                gb.add_solution_cell(name, NOTEBOOK, ASSIGNMENT)
    folder = tmp_path / "source" / ASSIGNMENT
    folder.mkdir(parents=True)
    nbformat.write(nbformat.v4.new_notebook(cells=released_cells()), folder / f"{NOTEBOOK}.ipynb")
    return SimpleNamespace(root=tmp_path, db_url=db_url)


def sanitize(course, nb, notebook=NOTEBOOK, **traits):
    """Run SanitizeNotebook as Autograde does: its parent is the exporter, whose parent has the
    course directory."""
    converter = Configurable()
    converter.coursedir = CourseDirectory(root=str(course.root))
    step = SanitizeNotebook(parent=Configurable(parent=converter), **traits)
    resources = {"nbgrader": {"notebook": notebook, "assignment": ASSIGNMENT, "db_url": course.db_url}}
    return step.preprocess(nb, resources)[0]


# --- reading.py ------------------------------------------------------------------------------

@pytest.mark.parametrize("text, reason", [
    ("{", "invalid JSON: JSONDecodeError"),
    (b'{"cells": []}\xff', "invalid JSON: UnicodeDecodeError"),
    ('{"cells": [{"cell_type": "code", "source": 7}]}', "not a notebook: cell 0 has a source that is not text"),
    ('{"cells": [], "metadata": []}', "not a notebook: the notebook metadata is not an object"),
])
def test_an_unreadable_file_becomes_a_placeholder_that_says_why(text, reason):
    stream = io.BytesIO(text) if isinstance(text, bytes) else io.StringIO(text)
    nb, problem = read_or_placeholder(stream)
    assert problem.startswith(reason)
    assert nb.metadata[UNREADABLE] == problem
    assert [c.cell_type for c in nb.cells] == ["markdown"] and problem in nb.cells[0].source
    assert "could not be read" in nb.cells[0].source


def test_a_readable_file_is_completed_into_a_processable_notebook():
    """Code cells without outputs or execution count, and sources given as lists of lines, come
    out as the preprocessors expect them."""
    raw = {"nbformat": 4, "nbformat_minor": 4, "metadata": {},
           "cells": [{"cell_type": "code", "source": ["a = 1\n", "b = 2"], "metadata": {}},
                     {"cell_type": "markdown", "source": "text", "metadata": {"tags": ["x"]}}]}
    nb, problem = read_or_placeholder(io.StringIO(json.dumps(raw)))
    assert problem is None and UNREADABLE not in nb.metadata
    code, text = nb.cells
    assert code.source == "a = 1\nb = 2" and code.outputs == [] and code.execution_count is None
    assert code.metadata == {} and text.metadata == {"tags": ["x"]}
    assert read_submission(io.StringIO(json.dumps(raw))) == nb


# --- exporter.py -----------------------------------------------------------------------------

def test_the_exporter_hands_on_a_placeholder_instead_of_raising(caplog):
    exporter = TolerantNotebookExporter()
    with caplog.at_level(logging.ERROR):
        output, _ = exporter.from_file(io.StringIO("not json at all"))
    nb = nbformat.reads(output, as_version=4)
    assert nb.metadata[UNREADABLE].startswith("invalid JSON")
    assert "Unreadable notebook" in caplog.text


def test_the_exporter_passes_a_readable_notebook_through():
    nb = nbformat.v4.new_notebook(cells=released_cells())
    output, _ = TolerantNotebookExporter().from_file(io.StringIO(nbformat.writes(nb)))
    assert nbformat.reads(output, as_version=4) == nb


# --- sanitize.py -----------------------------------------------------------------------------

def test_canonical_cells_are_what_the_gradebook_stored(course):
    cells = canonical_cells(course.db_url, NOTEBOOK, ASSIGNMENT)
    assert sorted(cells) == sorted(SOURCE_TEXT)
    for name, cell in cells.items():
        assert cell.source == SOURCE_TEXT[name]
        assert cell.nbgrader_metadata() == canonical_metadata(name)


def test_the_rebuilt_notebook_has_exactly_the_source_cells_in_the_source_order(course):
    intro, setup, solution, test = released_cells()
    test.source = "pass"                                                 # edited locked cell
    test.metadata.tags = ["skip-execution"]
    test.metadata.nbgrader["points"] = 100.0                             # forged points
    first_copy = nbformat.v4.new_code_cell("def f():\n    return 0")
    first_copy.metadata.nbgrader = canonical_metadata("solution")
    solution.source = "def f():\n    return 1  # mine"
    added = new_cell("code", "import checkers; checkers.patch()")
    forged = new_cell("code", "bonus()", nbgrader=dict(canonical_metadata("test"), grade_id="bonus"))
    # reordered, setup deleted, a cell added, a solution pasted twice, a forged grade cell
    nb = nbformat.v4.new_notebook(cells=[test, added, first_copy, solution, forged, intro])

    nb = sanitize(course, nb, rebuild_notebooks=[NOTEBOOK])

    assert grade_ids(nb) == [name for name, *_ in SOURCE]
    cells = by_grade_id(nb)
    assert cells["setup"].source == "import math"                        # missing: back
    assert cells["test"].source == "assert f() == 1"                     # locked: gradebook's
    assert cells["solution"].source == "def f():\n    return 1  # mine"  # the last copy
    for name, cell in cells.items():
        assert cell.metadata.nbgrader == canonical_metadata(name)
        assert "tags" not in cell.metadata
    assert cells["test"].metadata.editable is False and cells["test"].metadata.deletable is False
    assert "checkers" not in nbformat.writes(nb) and "bonus" not in nbformat.writes(nb)
    assert len({c.id for c in nb.cells}) == len(nb.cells)


def test_other_notebooks_are_normalised_in_place(course):
    intro, setup, solution, test = released_cells()
    notes = new_cell("markdown", "my notes")
    first_copy = new_cell("code", "def f():\n    return 0", nbgrader=canonical_metadata("solution"))
    forged = new_cell("code", "bonus()", nbgrader=dict(canonical_metadata("test"), grade_id="bonus"))
    solution.metadata.nbgrader.update(grade=True, points=99.0)           # made a graded cell
    test = new_cell("markdown", test.source, nbgrader=test.metadata.nbgrader, tags=["skip-execution", "mine"])
    scratch = new_cell("code", "x = 1")
    # setup (locked) deleted; every other cell stays where the student put it
    nb = nbformat.v4.new_notebook(cells=[notes, intro, first_copy, forged, solution, test, scratch])
    notes.id = scratch.id = "same"                                       # a pasted cell id

    nb = sanitize(course, nb, rebuild_notebooks=[])

    assert [c.source for c in nb.cells] == ["my notes", "# Tiny task", "import math", "def f():\n    return 0",
                                            "bonus()", "def f():\n    return 1", "assert f() == 1", "x = 1"]
    assert grade_ids(nb) == [None, "intro", "setup", None, None, "solution", "test", None]
    cells = by_grade_id(nb)
    for name, cell in cells.items():
        assert cell.metadata.nbgrader == canonical_metadata(name)
    assert cells["test"].cell_type == "code" and cells["test"].metadata.tags == ["mine"]
    ids = [c.id for c in nb.cells]
    assert ids[0] == "same" and len(set(ids)) == len(ids)


def test_a_deleted_locked_cell_stays_deleted_when_restoring_is_off(course):
    intro, _, solution, test = released_cells()
    nb = sanitize(course, nbformat.v4.new_notebook(cells=[intro, solution, test]),
                  rebuild_notebooks=[], restore_deleted_locked_cells=False)
    assert grade_ids(nb) == ["intro", "solution", "test"]


def test_a_placeholder_gets_the_graded_cells_back(course):
    nb = sanitize(course, read_submission(io.StringIO("{")), rebuild_notebooks=[])
    assert grade_ids(nb) == [None, "test"]
    assert nb.cells[0].source.startswith("**This notebook could not be read")
    assert nb.cells[1].source == "assert f() == 1"
    assert nb.cells[1].metadata.nbgrader == canonical_metadata("test")


def test_a_notebook_the_gradebook_does_not_know_is_left_alone(course):
    nb = nbformat.v4.new_notebook(cells=[new_cell("code", "anything", nbgrader={"grade_id": "x"})])
    before = nbformat.writes(nb)
    assert nbformat.writes(sanitize(course, nb, notebook="[0]unknown")) == before


# --- unreadable.py ---------------------------------------------------------------------------

def test_every_code_cell_of_a_placeholder_fails_or_does_nothing():
    nb = read_submission(io.StringIO("{"))
    intro, setup, solution, test = released_cells()
    nb.cells += [setup, solution, test]
    reason = nb.metadata[UNREADABLE]

    nb, _ = FailUnreadableNotebook().preprocess(nb, {})

    with pytest.raises(RuntimeError, match="could not be read") as failure:
        exec(test.source, {})
    assert reason in str(failure.value)
    for cell in (setup, solution):
        assert cell.source.startswith("# not executed: ")
    assert nb.cells[0].source.startswith("**This notebook could not be read")


def test_a_readable_notebook_is_not_touched_by_fail_unreadable():
    nb = nbformat.v4.new_notebook(cells=released_cells())
    before = nbformat.writes(nb)
    assert nbformat.writes(FailUnreadableNotebook().preprocess(nb, {})[0]) == before


# --- execute.py ------------------------------------------------------------------------------

class FakeKernel:
    """Stands in for nbclient's kernel. Each line of a code cell says what the kernel does:
    `die` (DeadKernelError), `hang` (CellTimeoutError), `stdout N` / `stderr N` (print N
    characters), `display N` (display_data of N characters); anything else runs quietly."""

    def __init__(self, monkeypatch):
        self.ran, self.restarts = [], 0
        monkeypatch.setattr(ExecutePreprocessor, "preprocess", lambda ex, nb, resources=None, km=None:
                            self.run_notebook(ex, nb, resources))
        monkeypatch.setattr(ExecutePreprocessor, "preprocess_cell", lambda ex, cell, resources, index:
                            self.run_cell(ex, cell, index))
        monkeypatch.setattr(ResilientExecute, "_restart_kernel", lambda ex: self.restart())

    def restart(self):
        self.restarts += 1

    def run_notebook(self, executor, nb, resources):
        executor.nb, executor.resources = nb, resources
        executor.reset_execution_trackers()
        for index, cell in enumerate(nb.cells):
            executor.preprocess_cell(cell, resources, index)
        return nb, resources

    def run_cell(self, executor, cell, index):
        if cell.cell_type != "code":
            return cell, executor.resources
        self.ran.append(cell.source)
        cell.outputs, executor.clear_before_next_output = [], False     # as nbclient's execute_cell
        for line in cell.source.splitlines():
            what, _, size = line.partition(" ")
            if what == "die":
                raise DeadKernelError("Kernel died")
            if what == "hang":
                raise CellTimeoutError("Cell execution timed out")
            if what in ("stdout", "stderr"):
                content = {"name": what, "text": "x" * int(size)}
                kind = "stream"
            elif what == "display":
                content, kind = {"data": {"text/plain": "x" * int(size)}, "metadata": {}}, "display_data"
            else:
                continue
            msg = {"msg_type": kind, "header": {"msg_type": kind}, "parent_header": {}, "content": content}
            executor.output(cell.outputs, msg, None, index)
        return cell, executor.resources


def graded(source, grade_id):
    return new_cell("code", source, nbgrader=dict(canonical_metadata("test"), grade_id=grade_id))


def run(cells, **traits):
    nb = nbformat.v4.new_notebook(cells=cells)
    nb, _ = ResilientExecute(**traits).preprocess(nb, {"metadata": {"path": "."}})
    return nb


def error_names(cell):
    return [o.ename for o in cell.get("outputs", []) if o.output_type == "error"]


def test_a_dead_or_hung_kernel_fails_its_cell_and_the_rest_runs_after_the_setup_replay(monkeypatch):
    kernel = FakeKernel(monkeypatch)
    nb = run([new_cell("code", "import numpy"), graded("ok", "before"), new_cell("markdown", "text"),
              graded("die", "dies"), new_cell("code", "helper = 1"), graded("hang", "hangs"),
              graded("ok", "after")])
    assert [error_names(c) for c in nb.cells] == [[], [], [], ["DeadKernelError"], [], ["CellTimeoutError"], []]
    assert "kernel died" in nb.cells[3].outputs[0].evalue
    assert kernel.restarts == 2
    # graded cells are not replayed, the non-graded code cells before the failure are
    assert kernel.ran == ["import numpy", "ok", "die", "import numpy", "helper = 1", "hang",
                          "import numpy", "helper = 1", "ok"]
    assert nb.cells[0].source == "import numpy" and nb.cells[0].outputs == []


def test_the_kernel_is_given_up_after_too_many_restarts(monkeypatch):
    kernel = FakeKernel(monkeypatch)
    nb = run([graded("die", "dies0"), graded("die", "dies1"), graded("die", "dies2"),
              new_cell("markdown", "text"), new_cell("code", "  "), graded("ok", "never_runs")],
             max_kernel_restarts=1, replay_after_restart=False)
    assert [error_names(c) for c in nb.cells] == [["DeadKernelError"], ["DeadKernelError"], ["KernelGaveUp"],
                                                  [], [], ["KernelGaveUp"]]
    assert kernel.restarts == 1 and kernel.ran == ["die", "die"]
    assert "failed 2 times" in nb.cells[-1].outputs[0].evalue


def test_the_output_cap_truncates_each_cell_and_keeps_that_stderr_was_written(monkeypatch):
    FakeKernel(monkeypatch)
    flood, quiet = run([new_cell("code", "stdout 60\nstdout 60\nstdout 60\nstderr 10\nstderr 10\ndisplay 5"),
                        new_cell("code", "stdout 60\ndisplay 5")], max_output_chars=100).cells
    note = "\n... output truncated: more than 100 characters in this cell ...\n"
    assert [(o.output_type, o.get("name")) for o in flood.outputs] == [
        ("stream", "stdout"), ("stream", "stdout"), ("stream", "stderr")]
    assert "".join(o.text for o in flood.outputs[:2]) == "x" * 100 + note
    assert flood.outputs[2].text == note                         # written to stderr: scores 0
    # the next cell has its own 100 characters
    assert [o.output_type for o in quiet.outputs] == ["stream", "display_data"]
    assert quiet.outputs[0].text == "x" * 60


def test_no_output_cap_when_it_is_zero(monkeypatch):
    FakeKernel(monkeypatch)
    (cell,) = run([new_cell("code", "stdout 60\nstdout 60")], max_output_chars=0).cells
    assert [len(o.text) for o in cell.outputs] == [60, 60]


@pytest.fixture
def kernel_process(monkeypatch):
    """A child process standing in for the kernel that `start_new_kernel` starts."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    monkeypatch.setattr(NotebookClient, "start_new_kernel", lambda ex, **kw: setattr(
        ex, "km", SimpleNamespace(provisioner=SimpleNamespace(pid=child.pid))))
    yield child
    child.kill()
    child.wait()


def test_the_kernel_gets_the_memory_limit(kernel_process):
    ResilientExecute(memory_limit_mb=512).start_new_kernel()
    limit = 512 * 1024 * 1024
    assert resource.prlimit(kernel_process.pid, resource.RLIMIT_DATA) == (limit, limit)


def test_no_memory_limit_when_it_is_zero(kernel_process):
    before = resource.prlimit(kernel_process.pid, resource.RLIMIT_DATA)
    ResilientExecute(memory_limit_mb=0).start_new_kernel()
    assert resource.prlimit(kernel_process.pid, resource.RLIMIT_DATA) == before


# --- config.py -------------------------------------------------------------------------------

def test_configure_autograde_changes_only_its_places_in_nbgraders_chains():
    c = configure_autograde(Config(), rebuild_notebooks=["[2]x"], memory_limit_mb=123)
    sanitize_default = list(Autograde.class_traits()["sanitize_preprocessors"].default())
    autograde_default = list(Autograde.class_traits()["autograde_preprocessors"].default())
    expected = list(sanitize_default)
    expected.insert(expected.index(ClearOutput) + 1, SanitizeNotebook)
    expected.insert(expected.index(OverwriteCells) + 1, FailUnreadableNotebook)
    assert c.Autograde.sanitize_preprocessors == expected
    chain = [SandboxedExecute if p is Execute else p for p in autograde_default]
    chain.insert(chain.index(SandboxedExecute) + 1, RegradeTraining)
    assert c.Autograde.autograde_preprocessors == chain + [NeutralizeActiveContent]
    assert c.HTMLExporter.preprocessors == [NeutralizeActiveContent]
    plain = configure_autograde(Config(), sandbox=False)
    assert ResilientExecute in plain.Autograde.autograde_preprocessors
    assert Execute in autograde_default and c.Autograde.exporter_class is TolerantNotebookExporter
    assert SanitizeNotebook(config=c).rebuild_notebooks == ["[2]x"]
    assert ResilientExecute(config=c).memory_limit_mb == 123


def test_the_course_config_installs_the_steps_and_execute_settings_still_apply():
    c = Config()
    exec((ROOT / "nbgrader_config.py").read_text(), {"get_config": lambda: c, "__file__": str(ROOT / "nbgrader_config.py")})
    assert c.Autograde.exporter_class is TolerantNotebookExporter
    assert SandboxedExecute in c.Autograde.autograde_preprocessors
    assert SanitizeNotebook(config=c).rebuild_notebooks == ["[2]task8_test_modules"]
    executor = SandboxedExecute(config=c)
    assert executor.sandbox and sum(executor.notebook_budgets.values()) + \
        RegradeTraining(config=c).timeout <= 120          # the budget per student (issue 10)
    assert executor.memory_limit_mb == 4096 and executor.timeout == c.Execute.timeout == 300
