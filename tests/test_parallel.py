"""`python -m layers_lib.course.parallel autograde` records exactly what serial `nbgrader autograde`
records: the demo submissions are graded in two identical course directories, serially in one
and by two parallel workers (sharded gradebooks, merged by one writer) in the other, and the
gradebooks are compared field by field (every grade's automatic and manual score, the
needs-manual-grading flag, comments, timestamps, late penalties)."""
import subprocess
import sys

import pytest

from corpus.course import ROOT, gradebook_dump, make_course, submit
from layers_lib.course import parallel, pipeline

STUDENTS = sorted(p.name for p in (ROOT / "demo_submissions").iterdir() if p.is_dir())


@pytest.fixture(scope="module")
def courses(tmp_path_factory):
    base = tmp_path_factory.mktemp("parallel")
    serial, sharded = make_course(base / "serial"), make_course(base / "sharded")
    for root in (serial, sharded):
        for student in STUDENTS:
            submit(root, student, ROOT / "demo_submissions" / student)
    code = pipeline.nbgrader(serial, "autograde", "task8", "--force")
    results = parallel.autograde(sharded, "task8", workers=2, nbgrader_args=["--force"], log=lambda *a: None)
    return {"serial": serial, "sharded": sharded, "serial_code": code, "results": results}


@pytest.mark.slow
def test_parallel_autograde_records_exactly_what_serial_autograde_records(courses):
    assert courses["serial_code"] == 0
    assert sorted(courses["results"]) == STUDENTS
    assert all(r.returncode == 0 and r.merged for r in courses["results"].values())
    serial, sharded = gradebook_dump(courses["serial"]), gradebook_dump(courses["sharded"])
    assert sorted(sharded) == STUDENTS
    assert sharded == serial
    # and the scores are the demo students' known ones (not two identical wrong runs)
    assert serial["ada_complete"]["notebooks"]["[2]task8_test_modules"]["grades"]["test_linear"][0] == 2.0
    assert serial["ben_blank"]["notebooks"]["[2]task8_test_modules"]["grades"]["test_linear"][0] == 0.0


@pytest.mark.slow
def test_every_student_has_autograded_notebooks(courses):
    for student in STUDENTS:
        names = {root: sorted(p.name for p in (courses[root] / "autograded" / student / "task8").iterdir())
                 for root in ("serial", "sharded")}
        assert names["sharded"] == names["serial"], student
        assert "[1]task8_modules.ipynb" in names["sharded"] and "[2]task8_test_modules.ipynb" in names["sharded"]
    log = (courses["sharded"] / "nbgrader.log").read_text()
    assert all(f"# layers_lib.course.parallel: {s}" in log for s in STUDENTS)


@pytest.mark.slow
def test_regrading_keeps_manual_scores_like_serial(courses):
    """A teacher's manual score survives a forced re-autograde (and flags the cell for review)
    the same way in both."""
    from nbgrader.api import Gradebook
    for root in ("serial", "sharded"):
        with Gradebook(f"sqlite:///{courses[root] / 'gradebook.db'}") as gb:
            gb.find_grade("test_linear", "[2]task8_test_modules", "task8", "dan_transposed_and_dropout").manual_score = 1.5
            gb.db.commit()
    assert pipeline.nbgrader(courses["serial"], "autograde", "task8", "--student", "dan_transposed_and_dropout",
                             "--force") == 0
    results = parallel.autograde(courses["sharded"], "task8", workers=2, students="dan_transposed_and_dropout",
                                 nbgrader_args=["--force"], log=lambda *a: None)
    assert list(results) == ["dan_transposed_and_dropout"]
    serial, sharded = gradebook_dump(courses["serial"]), gradebook_dump(courses["sharded"])
    assert sharded == serial
    auto, manual, needs_manual, _ = serial["dan_transposed_and_dropout"]["notebooks"][
        "[2]task8_test_modules"]["grades"]["test_linear"]
    assert (auto, manual, needs_manual) == (1.0, 1.5, True)      # auto: partial credit, 1 of 2


def test_submitted_students_lists_the_submission_folders(tmp_path):
    (tmp_path / "nbgrader_config.py").write_text("c = get_config()\n")
    for student in ("b", "a", "with space", "x[1]"):
        (tmp_path / "submitted" / student / "task8").mkdir(parents=True)
    (tmp_path / "submitted" / "c" / "other").mkdir(parents=True)
    coursedir = parallel.course_directory(tmp_path)
    assert parallel.submitted_students(coursedir, "task8") == ["a", "b", "with space", "x[1]"]
    assert parallel.submitted_students(coursedir, "task8", "[ab]") == ["a", "b"]
    assert coursedir.db_url == f"sqlite:///{tmp_path.resolve() / 'gradebook.db'}"


def test_the_command_line_needs_a_gradebook(tmp_path):
    (tmp_path / "nbgrader_config.py").write_text("c = get_config()\n")
    proc = subprocess.run([sys.executable, "-m", "layers_lib.course.parallel", "autograde", "task8",
                           "--root", str(tmp_path)], capture_output=True, text=True)
    assert proc.returncode != 0 and "generate_assignment" in proc.stderr
