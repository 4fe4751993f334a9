"""`python -m layers_lib.course.parallel autograde` records exactly what serial `nbgrader autograde`
records: the demo submissions are graded by plain nbgrader in one course directory and by a
local Dask cluster of two workers (one unit per student, one writer) in an identical other, and
the gradebooks are compared field by field (every grade's automatic and manual score, the
needs-manual-grading flag, comments, timestamps, late penalties)."""
import os
import re
import shutil
import subprocess
import sys

import pytest

from corpus.course import DEMO_STUDENTS, demo_course, gradebook_dump
from layers_lib.course import grading_unit, parallel, pipeline


@pytest.fixture(scope="module")
def sharded(tmp_path_factory):
    """The same demo course, graded on a local cluster of 2 workers."""
    root = demo_course(tmp_path_factory.mktemp("parallel") / "course")
    lines = []
    results = parallel.autograde(root, "task8", workers=2, nbgrader_args=["--force"], log=lines.append)
    return {"root": root, "results": results, "lines": lines}


@pytest.mark.slow
@pytest.mark.xdist_group("autograde")
def test_parallel_autograde_records_exactly_what_serial_autograde_records(serial_demo_course, sharded):
    assert sorted(sharded["results"]) == DEMO_STUDENTS
    assert all(r.ok for r in sharded["results"].values()), {s: r.error for s, r in sharded["results"].items()}
    serial, parallel_ = gradebook_dump(serial_demo_course), gradebook_dump(sharded["root"])
    assert sorted(parallel_) == DEMO_STUDENTS
    assert parallel_ == serial
    # and the scores are the demo students' known ones (not two identical wrong runs)
    grades = serial["ada_complete"]["notebooks"]["[2]task8_test_modules"]["grades"]
    assert grades["test_linear"][0] == 2.0
    assert serial["ben_blank"]["notebooks"]["[2]task8_test_modules"]["grades"]["test_linear"][0] == 0.0


@pytest.mark.slow
@pytest.mark.xdist_group("autograde")
def test_every_student_has_the_same_autograded_notebooks(serial_demo_course, sharded):
    for student in DEMO_STUDENTS:
        names = {root: sorted(p.name for p in (root / "autograded" / student / "task8").iterdir())
                 for root in (serial_demo_course, sharded["root"])}
        assert names[sharded["root"]] == names[serial_demo_course], student
        assert "[2]task8_test_modules.ipynb" in names[sharded["root"]]
    log = (sharded["root"] / "nbgrader.log").read_text()
    assert all(f"# layers_lib.course.parallel: {s} (worker " in log for s in DEMO_STUDENTS)


@pytest.mark.slow
@pytest.mark.xdist_group("autograde")
def test_progress_has_one_line_per_student_with_score_time_and_eta(sharded):
    progress = [line for line in sharded["lines"] if line.startswith("[")]
    assert len(progress) == len(DEMO_STUDENTS)
    pattern = re.compile(r"\[(\d+)/6, ETA \d+:\d\d:\d\d\] (\S+): (\d+(?:\.\d+)?) / (\d+(?:\.\d+)?), \d+\.\d s")
    seen = []
    for k, line in enumerate(progress, 1):
        match = pattern.match(line)
        assert match, line
        assert int(match[1]) == k
        seen.append(match[2])
        score = sharded["results"][match[2]].score()
        assert (float(match[3]), float(match[4])) == score
    assert sorted(seen) == DEMO_STUDENTS
    assert any("autograding 6 students of task8 on 2 Dask workers" in line for line in sharded["lines"])


@pytest.mark.slow
@pytest.mark.xdist_group("autograde")
def test_regrading_keeps_manual_scores_like_serial(serial_demo_course, sharded, tmp_path):
    """A teacher's manual score survives a forced re-autograde (and flags the cell for review)
    the same way in both."""
    from nbgrader.api import Gradebook
    serial_root = tmp_path / "serial"
    shutil.copytree(serial_demo_course, serial_root)       # the session's copy stays untouched
    student = "dan_transposed_and_dropout"
    for root in (serial_root, sharded["root"]):
        with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
            gb.find_grade("test_linear", "[2]task8_test_modules", "task8", student).manual_score = 1.5
            gb.db.commit()
    assert pipeline.nbgrader(serial_root, "autograde", "task8", "--student", student, "--force") == 0
    results = parallel.autograde(sharded["root"], "task8", workers=1, students=student,
                                 nbgrader_args=["--force"], log=lambda *a: None)
    assert list(results) == [student] and results[student].ok
    serial, parallel_ = gradebook_dump(serial_root), gradebook_dump(sharded["root"])
    assert parallel_ == serial
    auto, manual, needs_manual, _ = serial[student]["notebooks"]["[2]task8_test_modules"]["grades"]["test_linear"]
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


@pytest.mark.parametrize("options, wrong", [
    (["--force", "--Execute.timeout=60"], None),
    (["--student", "ada"], "only --Class.trait=value"),
    (["--CourseDirectory.db_url=sqlite:////tmp/x.db"], "the writer owns the gradebook"),
    (["--Execute.timeout"], "only --Class.trait=value"),
])
def test_unit_options_are_checked_before_anything_is_sent(options, wrong):
    if wrong is None:
        assert grading_unit.config_options(options) == ["--Execute.timeout=60"]
    else:
        with pytest.raises(SystemExit, match=wrong):
            grading_unit.config_options(options)


def test_a_submission_travels_without_links_devices_or_excess(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.ipynb").write_bytes(b"{}")
    (tmp_path / "sub" / "deep" / "er").mkdir(parents=True)
    (tmp_path / "sub" / "deep" / "er" / "b.txt").write_bytes(b"x" * 10)
    (tmp_path / "secret").write_text("the instructor's")
    os.symlink(tmp_path / "secret", tmp_path / "sub" / "link.ipynb")
    os.mkfifo(tmp_path / "sub" / "fifo")
    (tmp_path / "sub" / "big.bin").write_bytes(b"y" * 100)
    files, skipped = grading_unit._read_tree(tmp_path / "sub", limit=50)
    assert files == {"a.ipynb": b"{}", "deep/er/b.txt": b"x" * 10}
    assert sorted(skipped) == ["big.bin", "fifo", "link.ipynb"]


@pytest.mark.parametrize("rel", ["../escape", "/etc/passwd", "a/../../b"])
def test_a_unit_cannot_write_outside_its_course(tmp_path, rel):
    with pytest.raises(ValueError, match="unsafe path"):
        grading_unit._write_tree(tmp_path / "course", {rel: b"x"})
    assert not (tmp_path / "escape").exists()


def test_a_worker_with_another_environment_is_described():
    mine = grading_unit.environment_fingerprint()
    assert grading_unit.environment_problem(mine) is None
    assert "nbgrader differs: " in grading_unit.environment_problem({**mine, "nbgrader": "0.1"})
    assert "layers_lib (kit + hidden checks) differs" in grading_unit.environment_problem({**mine, "runtime": "x"})
