"""The nbgrader course: generated notebooks are current, the release leaks nothing, and the
whole pipeline gives every demo student exactly the expected score per graded cell."""
import html
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from layers_lib.course import pipeline

ROOT = Path(__file__).resolve().parents[1]
RELEASE = ROOT / "release" / "task8"


def run_module(*args):
    return subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True, cwd=ROOT)


@pytest.mark.slow
def test_every_generated_artifact_is_current():
    """The three source notebooks (solution cells are the reference's code), the release
    (`nbgrader generate_assignment` of them) and the demo submissions: editing a builder, the
    reference or a committed file without rebuilding fails here."""
    proc = run_module("layers_lib.course.notebooks", "check")
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("path", sorted(RELEASE.glob("*.ipynb")), ids=lambda p: p.name)
def test_release_holds_no_solutions_and_no_hidden_tests(path):
    text = path.read_text(encoding="utf-8")
    for leak in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "assert_class_passes",
                 "hidden_checks", "layers_lib.reference", "layers_lib.course",
                 "np.log1p(np.exp(-np.abs(input)))", "self.grad_W = (input.T @ grad_output)"):
        assert leak not in text, leak
    if path.name.startswith("[1]"):
        assert text.count("raise NotImplementedError()") >= 15


def course_copy(tmp_path):
    root = tmp_path / "course"
    root.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", root)
    shutil.copytree(ROOT / "source", root / "source")
    return root


FULL = {"test_linear": 2, "test_softmax": 2, "test_logsoftmax": 2, "test_batchnormalization": 3,
        "test_scaling": 1, "test_sequential": 2, "test_dropout": 2, "test_relu": 1, "test_leakyrelu": 1,
        "test_elu": 1, "test_softplus": 1, "test_nllcriterionunstable": 1, "test_nllcriterion": 1,
        "test_sgd_momentum": 1, "test_adam_optimizer": 2,
        "test_best_model_accuracy": 3, "test_training_loss_decreases": 1}
ANSWERS = ("q_activations", "q_batchnorm", "q_optimizers")   # 2 points each, graded by a teacher
TRAINING = {"test_best_model_accuracy", "test_training_loss_decreases"}


def expected_scores(zero, answered=True, partial=None):
    scores = {cell: (0.0 if cell in zero else float((partial or {}).get(cell, points)), float(points))
              for cell, points in FULL.items()}
    scores.update({q: (None if answered else 0.0, 2.0) for q in ANSWERS})   # None: waits for a teacher
    return scores


EXPECTED = {
    "ada_complete": expected_scores(set()),
    "ben_blank": expected_scores(set(FULL), answered=False),
    "cleo_partial": expected_scores({"test_batchnormalization", "test_scaling", "test_sequential",
                                     "test_dropout", "test_nllcriterionunstable", "test_sgd_momentum",
                                     "test_adam_optimizer"} | TRAINING, answered=False),
    # partial credit: the transposed grad_W costs Linear's parameter gradients (1 of 2), Dropout
    # without rescaling its forward part (1 of 2); it also breaks training of the best model
    "dan_transposed_and_dropout": expected_scores(TRAINING, partial={"test_linear": 1.0, "test_dropout": 1.0}),
    # no max shift: right for small logits, NaN for large ones (the large-inputs part, 0.5 of 2)
    "eve_unstable_softmax": expected_scores(set(), partial={"test_softmax": 1.5, "test_logsoftmax": 1.5}),
    "fay_syntax_error": expected_scores({"test_elu"}),
}


def test_every_cell_of_the_rebuilt_test_notebook_is_known_to_the_gradebook():
    """Autograde rebuilds [2] from the gradebook's cells (SanitizeNotebook.rebuild_notebooks) and
    drops any other cell with a tampering warning: the release's own cells must all be there, or
    every faithful submission would be reported as tampered with."""
    import nbformat
    nb = nbformat.read(RELEASE / "[2]task8_test_modules.ipynb", as_version=4)
    plain = [c.id for c in nb.cells if "nbgrader" not in c.metadata]
    assert not plain, f"cells without nbgrader metadata would be dropped at autograde: {plain}"


@pytest.mark.slow
def test_pipeline_scores_every_demo_student_exactly_and_reproducibly(tmp_path):
    root = course_copy(tmp_path)
    first = pipeline.run(root, log=lambda *a: None)
    assert first["scores"] == EXPECTED
    for student, files in first["feedback"].items():
        assert files == sorted(p.with_suffix(".html").name for p in RELEASE.glob("*.ipynb")), student
        html = root / "feedback" / student / "task8" / "[2]task8_test_modules.html"
        assert html.stat().st_size > 10_000
    csv = (root / "grades.csv").read_text().splitlines()
    assert len(csv) == 1 + len(EXPECTED) and csv[0].startswith("assignment,duedate,timestamp,student_id")
    # again for two of them, autograded by the Dask runner this time: the same scores
    lines = []
    second = pipeline.run(root, students=["ada_complete", "fay_syntax_error"], log=lines.append, workers=2)
    assert second["scores"] == {s: EXPECTED[s] for s in ("ada_complete", "fay_syntax_error")}
    assert any("autograding 2 students of task8 on 2 Dask workers" in line for line in lines)
    where = pipeline.where_things_are(root, second["feedback"])
    assert f"{root / 'grades.csv'}" in where and "/formgrader" in where and "6 pages for 2 students" in where


ADVANCED = {"test_conv2d": 3.0, "test_maxpool2d": 1.5, "test_flatten": 0.5}
ADVANCED_ZERO = {"ben_blank", "cleo_partial"}       # their advanced solution cells are left blank
# dan's MaxPool2d sends the gradient to the whole window: its backward part (0.75 of 1.5) is lost
ADVANCED_PARTIAL = {"dan_transposed_and_dropout": {"test_maxpool2d": 0.75}}


def expected_advanced(student):
    scores = dict(EXPECTED[student])
    for cell, points in ADVANCED.items():
        got = 0.0 if student in ADVANCED_ZERO else ADVANCED_PARTIAL.get(student, {}).get(cell, points)
        scores[cell] = (got, points)
    return scores


def _text_of(html_path):
    return html.unescape(re.sub(r"<[^>]+>", "", html_path.read_text(encoding="utf-8")))


@pytest.mark.slow
def test_a_russian_advanced_derive_course_autogrades_its_demo_students_end_to_end(
        russian_advanced_derive_course, tmp_path):
    """The variant farthest from the default, built by `build --into`, through the same pipeline
    (generate_assignment, autograde in the sandbox, feedback, export): the basic cells score as
    in English, the advanced cells are graded with their own points, and the feedback is Russian."""
    root = tmp_path / "course"
    shutil.copytree(russian_advanced_derive_course, root)
    result = pipeline.run(root, log=lambda *a: None)
    assert result["scores"] == {s: expected_advanced(s) for s in EXPECTED}
    feedback = root / "feedback" / "dan_transposed_and_dropout" / "task8"
    tests_page = _text_of(feedback / "[2]task8_test_modules.html")
    assert "Linear: баллы — 1 из 2" in tests_page
    assert "[НЕВЕРНО] градиенты по параметрам (1)" in tests_page
    assert "транспонировано?" in tests_page                          # the diagnosis, in Russian
    assert "MaxPool2d: баллы — 0.75 из 1.5" in tests_page
    assert "[НЕВЕРНО] обратный проход (0.75)" in tests_page
    eve_page = _text_of(root / "feedback" / "eve_unstable_softmax" / "task8" / "[2]task8_test_modules.html")
    assert "SoftMax output при больших входах: не совпадают элементов" in eve_page   # the setting too
    for student in EXPECTED:
        assert len(result["feedback"][student]) == 3, student
    csv = (root / "grades.csv").read_text().splitlines()
    assert len(csv) == 1 + len(EXPECTED)
    ada = next(line for line in csv if ",ada_complete," in line)
    header = csv[0].split(",")
    assert float(ada.split(",")[header.index("raw_score")]) == sum(
        s for s, _ in expected_advanced("ada_complete").values() if s is not None)
