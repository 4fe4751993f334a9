"""The training notebook `[0]task8_train_model.ipynb`: committed copy, nbgrader metadata, release
stubs, and end-to-end runs with the reference classes and with a broken submission."""
import ast
import copy
import inspect
import json
import logging
import re
import time
from pathlib import Path

import nbformat
import pytest

from layers_lib import contract as base
from layers_lib.reference import activations, criteria, layers, optim
from layers_lib.course.notebooks import train as train_notebook
from layers_lib.course.notebooks.cells import notebook

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = ROOT / train_notebook.DEFAULT_OUT
TIME_LIMIT = 120.0

ANSWERS = {"q_activations": 2, "q_batchnorm": 2, "q_optimizers": 2}
TESTS = {"test_best_model_accuracy": 3, "test_training_loss_decreases": 1}
READ_ONLY_CODE = {"setup", "data", "helpers"}


def nbgrader_meta(cell):
    return cell.metadata.get("nbgrader", {})


def cells_by_id(nb):
    return {cell.id: cell for cell in nb.cells}


# ----------------------------------------------------------------------------- static checks

def test_committed_notebook_is_up_to_date():
    assert COMMITTED.exists(), f"{COMMITTED} is missing: run python -m layers_lib.course.notebooks.train"
    committed = COMMITTED.read_text(encoding="utf-8")
    assert json.loads(committed) == json.loads(train_notebook.render()), (
        f"{COMMITTED.name} is stale: run python -m layers_lib.course.notebooks.train")
    assert committed == train_notebook.render(), "same JSON, different bytes: rerun the builder"


def test_build_is_deterministic_and_clean():
    first, second = train_notebook.render(), train_notebook.render()
    assert first == second
    nb = train_notebook.build()
    nbformat.validate(nb)
    assert nb.metadata.kernelspec.name == "python3"
    assert nb.metadata.kernelspec.language == "python"
    ids = [cell.id for cell in nb.cells]
    assert len(ids) == len(set(ids)), "cell ids must be unique"
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, cell.id


def test_cli_writes_and_checks(tmp_path, capsys):
    out = tmp_path / "nb.ipynb"
    assert train_notebook.main(["--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == train_notebook.render()
    assert train_notebook.main(["--check", "--out", str(out)]) == 0
    out.write_text("{}", encoding="utf-8")
    assert train_notebook.main(["--check", "--out", str(out)]) == 1


def test_nbgrader_metadata_is_valid():
    from nbgrader.nbgraderformat import ValidationError  # noqa: F401 - raised by validate_nb
    from nbgrader.nbgraderformat.v3 import MetadataValidatorV3

    nb = train_notebook.build()
    MetadataValidatorV3().validate_nb(nb)   # nbgrader's own rules (grade_id, points, markdown)

    grade_ids = [nbgrader_meta(c)["grade_id"] for c in nb.cells if "nbgrader" in c.metadata]
    assert len(grade_ids) == len(set(grade_ids)), "grade_ids must be unique"
    for cell in nb.cells:
        meta = nbgrader_meta(cell)
        if not meta:
            continue
        assert meta["schema_version"] == 3
        assert re.fullmatch(r"[a-zA-Z0-9_\-]+", meta["grade_id"]), meta["grade_id"]
        if meta["grade"]:
            assert meta.get("points", 0) > 0, f"graded cell {meta['grade_id']} has no points"

    graded = {nbgrader_meta(c)["grade_id"]: c for c in nb.cells if nbgrader_meta(c).get("grade")}
    assert {k: nbgrader_meta(c)["points"] for k, c in graded.items()} == {**ANSWERS, **TESTS}
    solutions = {nbgrader_meta(c)["grade_id"] for c in nb.cells if nbgrader_meta(c).get("solution")}
    assert solutions == {"best_model", *ANSWERS}

    cells = cells_by_id(nb)
    for test_id in TESTS:
        cell = cells[test_id]
        assert cell.cell_type == "code" and nbgrader_meta(cell)["locked"]
        assert not nbgrader_meta(cell)["solution"]
    for answer_id in ANSWERS:
        cell = cells[answer_id]
        assert cell.cell_type == "markdown" and not nbgrader_meta(cell)["locked"]
        question = nb.cells[nb.cells.index(cell) - 1]
        assert question.id == f"{answer_id}_question" and question.cell_type == "markdown"
        assert nbgrader_meta(question)["locked"] and not nbgrader_meta(question)["grade"]
    best = cells["best_model"]
    assert not nbgrader_meta(best)["grade"] and not nbgrader_meta(best)["locked"]
    assert best.source.count("### BEGIN SOLUTION") == 1 and best.source.count("### END SOLUTION") == 1
    for cell_id in READ_ONLY_CODE:
        meta = nbgrader_meta(cells[cell_id])
        assert meta["locked"] and not meta["grade"] and not meta["solution"], cell_id
    assert nbgrader_meta(cells["setup"]) == {"schema_version": 3, "grade": False, "solution": False,
                                             "locked": True, "task": False, "grade_id": "setup"}


def test_test_cells_are_safe_for_autograding():
    nb = train_notebook.build()
    for test_id in TESTS:
        source = cells_by_id(nb)[test_id].source
        tree = ast.parse(source)
        assert not isinstance(tree.body[-1], ast.Expr), f"{test_id} ends with a bare expression"
        assert "BEGIN SOLUTION" not in source and "BEGIN HIDDEN TESTS" not in source
        assert any(isinstance(node, ast.Assert) and node.msg is not None for node in tree.body), test_id
        for node in ast.walk(tree):
            if isinstance(node, ast.Assert):
                assert node.msg is not None, f"{test_id}: every assert needs a message"


def test_release_version_has_stubs():
    """What nbgrader's ClearSolutions makes of the notebook (the students' version)."""
    from nbgrader.preprocessors import ClearSolutions

    nb = train_notebook.build()
    preprocessor = ClearSolutions(code_stub={"python": "# YOUR CODE HERE\nraise NotImplementedError()"})
    release, _ = preprocessor.preprocess(copy.deepcopy(nb), {})
    cells = cells_by_id(release)
    best = cells["best_model"].source
    assert "raise NotImplementedError()" in best
    assert "The grader reads BEST_RECIPE from this cell" in best, "instructions must stay"
    assert "best_model, best_history = train_recipe(BEST_RECIPE" in best
    assert "BEST_RECIPE = dict(" not in best, "the solution leaked into the release"
    for answer_id in ANSWERS:
        assert cells[answer_id].source == "YOUR ANSWER HERE"
    original = cells_by_id(nb)
    for cell_id, cell in cells.items():
        if cell_id not in {"best_model", *ANSWERS}:
            assert cell.source == original[cell_id].source, f"{cell_id} changed in the release"


def test_notebook_downloads_nothing():
    text = "\n".join(cell.source for cell in train_notebook.build().cells if cell.cell_type == "code")
    for pattern in ("http", "urlretrieve", "wget", "curl", "fetch_", "requests", "!pip", "%pip"):
        assert pattern not in text, pattern


def test_measure_solution_reproduces_a_passing_run():
    row, = train_notebook.measure_solution(seeds=[0])
    assert row["test_accuracy"] >= train_notebook.ACCURACY_THRESHOLD
    assert row["last_loss"] <= train_notebook.LOSS_RATIO * row["first_loss"]


# ----------------------------------------------------------------------------- execution

REFERENCE_OBJECTS = [
    base.Module, base.Criterion,
    layers.Sequential, layers.Linear, layers.SoftMax, layers.LogSoftMax,
    layers.BatchNormalization, layers.Scaling, layers.Dropout,
    activations.ReLU, activations.LeakyReLU, activations.ELU, activations.SoftPlus,
    criteria.NLLCriterionUnstable, criteria.NLLCriterion,
    optim.iterate_params, optim.sgd_momentum, optim.adam_optimizer,
]


def write_modules_notebook(directory, skip=()):
    """A stand-in for the student's `[1]task8_modules.ipynb`: the reference classes, one code
    cell each (no nbgrader metadata, so the loader runs every code cell)."""
    cells = [nbformat.v4.new_code_cell("import numpy as np")]
    cells += [nbformat.v4.new_code_cell(inspect.getsource(obj))
              for obj in REFERENCE_OBJECTS if obj.__name__ not in skip]
    nb = notebook(cells)       # the course's notebook metadata (python3 kernelspec)
    nbformat.write(nb, str(Path(directory) / train_notebook.MODULES_NOTEBOOK))


def execute(directory):
    """Run the source notebook in `directory` like nbgrader does (allow_errors); returns the
    executed notebook and the wall time in seconds."""
    from nbclient import NotebookClient

    nb = train_notebook.build()
    client = NotebookClient(nb, kernel_name="python3", timeout=300, allow_errors=True,
                            resources={"metadata": {"path": str(directory)}})
    start = time.perf_counter()
    client.execute()
    return nb, time.perf_counter() - start


def errors(cell):
    return [o for o in cell.get("outputs", []) if o.output_type == "error"]


def stderr(cell):
    return "".join(o.text for o in cell.get("outputs", [])
                   if o.output_type == "stream" and o.name == "stderr")


def stdout(cell):
    return "".join(o.text for o in cell.get("outputs", [])
                   if o.output_type == "stream" and o.name == "stdout")


def describe_error(cell):
    return "; ".join(f"{e.ename}: {e.evalue}" for e in errors(cell))


@pytest.mark.slow
def test_notebook_runs_with_the_reference_classes(tmp_path):
    from nbgrader.utils import determine_grade

    write_modules_notebook(tmp_path)
    nb, seconds = execute(tmp_path)
    print(f"\n[0]task8_train_model.ipynb executed in {seconds:.1f} s")

    failures = {cell.id: describe_error(cell) for cell in nb.cells if errors(cell)}
    assert not failures, f"cells raised: {failures}"
    warnings = {cell.id: stderr(cell) for cell in nb.cells if stderr(cell)}
    assert not warnings, f"cells wrote to stderr: {warnings}"

    cells = cells_by_id(nb)
    assert "13 of 13 loaded" in stdout(cells["setup"]), stdout(cells["setup"])
    log = logging.getLogger("determine_grade")
    for test_id, points in TESTS.items():
        assert determine_grade(cells[test_id], log) == (points, points), test_id
    accuracy = float(re.search(r"test accuracy of best_model: ([0-9.]+)",
                               stdout(cells["test_best_model_accuracy"])).group(1))
    assert accuracy >= train_notebook.ACCURACY_THRESHOLD
    mnist = float(re.search(r"MLP, test accuracy on MNIST: ([0-9.]+)", stdout(cells["mnist_mlp"])).group(1))
    assert mnist >= 0.97, mnist                     # the bar for the basic track on MNIST
    for cell_id in ("show_digits", "warmup_plot", "activations", "batchnorm", "dropout",
                    "optimizers", "best_curves", "confusion", "misclassified"):
        kinds = [o.output_type for o in cells[cell_id].outputs]
        assert any("image/png" in o.get("data", {}) for o in cells[cell_id].outputs), (cell_id, kinds)
    assert "FAILED" not in "".join(stdout(cell) for cell in nb.cells)
    assert seconds < TIME_LIMIT, f"the notebook took {seconds:.1f} s (limit {TIME_LIMIT:.0f} s)"


@pytest.mark.slow
def test_notebook_with_a_broken_submission_explains_and_fails_the_tests(tmp_path):
    from nbgrader.utils import determine_grade

    write_modules_notebook(tmp_path, skip={"Linear"})
    nb, seconds = execute(tmp_path)
    cells = cells_by_id(nb)

    setup = cells["setup"]
    assert not errors(setup) and not stderr(setup), describe_error(setup) or stderr(setup)
    assert "12 of 13 loaded" in stdout(setup), stdout(setup)
    assert "Linear is not defined in [1]task8_modules.ipynb" in stdout(setup), stdout(setup)
    assert "MISSING" in stdout(setup)

    assert "cannot use Linear" in describe_error(cells["best_model"]), describe_error(cells["best_model"])
    assert "cannot use Linear" in stdout(cells["activations"]), "compare() should report the failed runs"
    log = logging.getLogger("determine_grade")
    for test_id, points in TESTS.items():
        assert determine_grade(cells[test_id], log) == (0, points), test_id
    assert "best_model is not defined" in describe_error(cells["test_best_model_accuracy"])
    assert "best_history is not defined" in describe_error(cells["test_training_loss_decreases"])


@pytest.mark.slow
def test_notebook_without_the_modules_notebook_explains(tmp_path):
    nb, _ = execute(tmp_path)   # no [1]task8_modules.ipynb at all
    setup = cells_by_id(nb)["setup"]
    assert not errors(setup) and not stderr(setup), describe_error(setup) or stderr(setup)
    assert "0 of 13 loaded" in stdout(setup), stdout(setup)
    assert "could not be read" in stdout(setup), stdout(setup)


NBGRADER_CONFIG = '''
c = get_config()
c.CourseDirectory.course_id = "task8-test"
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
c.Execute.timeout = 300
'''


@pytest.mark.slow
def test_nbgrader_autograde_scores_a_correct_submission(tmp_path):
    """The real pipeline: generate_assignment, then autograde a correct submission (alice) and
    the untouched release (bob). nbgrader autogrades `[0]` before it has copied `[1]` into the
    autograded folder, so this also checks that the setup cell finds the submitted `[1]`."""
    import os
    import subprocess
    import sys

    from nbgrader.api import Gradebook

    (tmp_path / "nbgrader_config.py").write_text(NBGRADER_CONFIG, encoding="utf-8")
    source = tmp_path / "source" / "task8"
    source.mkdir(parents=True)
    train_notebook.write(source / "[0]task8_train_model.ipynb")
    write_modules_notebook(source)
    env = dict(os.environ, PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"])

    def nbgrader(*args):
        result = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=tmp_path, env=env,
                                capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    nbgrader("generate_assignment", "task8", "--force")
    release = tmp_path / "release" / "task8"
    for student, origin in (("alice", source), ("bob", release)):
        target = tmp_path / "submitted" / student / "task8"
        target.mkdir(parents=True)
        for name in ("[0]task8_train_model.ipynb", train_notebook.MODULES_NOTEBOOK):
            (target / name).write_bytes((origin / name).read_bytes())
    nbgrader("autograde", "task8", "--create", "--force")

    with Gradebook(f"sqlite:///{tmp_path / 'gradebook.db'}", "task8-test") as gradebook:
        def grades(student):
            notebook = gradebook.find_submission_notebook("[0]task8_train_model", "task8", student)
            return {grade.name: grade for grade in notebook.grades}

        alice, bob = grades("alice"), grades("bob")
        for test_id, points in TESTS.items():
            assert alice[test_id].auto_score == points, (test_id, alice[test_id].auto_score)
            assert bob[test_id].auto_score == 0, (test_id, bob[test_id].auto_score)
        for answer_id in ANSWERS:
            assert alice[answer_id].needs_manual_grade, answer_id
            assert bob[answer_id].score == 0 and not bob[answer_id].needs_manual_grade, answer_id
