"""`python -m layers_lib.course.status`: the state of a course at a glance, read from a gradebook
made through nbgrader's API, the course directories and an exchange; it never writes.
(tests/test_exchange_roundtrip.py runs it on a real round trip between Unix users.)"""
import datetime
import hashlib
import json
import os
import shutil
import sys
from pathlib import Path

import pytest
from nbgrader.api import Gradebook
from nbgrader.utils import notebook_hash

from layers_lib.course import status

# nbgrader's add_submission trips an SQLAlchemy autoflush warning (a RuntimeWarning: an error here)
pytestmark = pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")

COURSE = "status-demo"
ANN, BO, CY = "ann-t8status", "bo-t8status", "cy-t8status"      # no such Unix accounts
DUE = datetime.datetime(2026, 11, 20, 12, 0)


def stamp(hour, minute=0):
    return f"2026-11-20 {hour:02d}:{minute:02d}:00.000000 UTC"


@pytest.fixture(scope="module")
def gradebook(tmp_path_factory):
    """The gradebook (made once: nbgrader runs alembic for a new one): assignment task8 due at
    noon, one notebook with an autograded cell (4 points) and a written answer (2 points).
    ann: on time, 3 automatic points, 1.5 for the answer by hand. bo: collected at 12:30 (late),
    4 automatic points taken by the late penalty, the answer waits for a teacher. cy: roster only."""
    db = tmp_path_factory.mktemp("gradebook") / "gradebook.db"
    path = os.environ["PATH"]
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{path}"     # nbgrader runs alembic
    try:
        with Gradebook(f"sqlite:///{db}", COURSE) as gb:
            gb.add_assignment("task8", duedate=DUE)
            gb.add_notebook("nb", "task8")
            gb.add_grade_cell("tests", "nb", "task8", max_score=4, cell_type="code")
            gb.add_solution_cell("answer", "nb", "task8")
            gb.add_grade_cell("answer", "nb", "task8", max_score=2, cell_type="markdown")
            for student in (ANN, BO, CY):
                gb.add_student(student)
            for student, submitted, auto, manual, penalty in ((ANN, stamp(11), 3.0, 1.5, None),
                                                              (BO, stamp(12, 30), 4.0, None, 4.0)):
                gb.add_submission("task8", student, timestamp=datetime.datetime.strptime(submitted[:19], "%Y-%m-%d %H:%M:%S"))
                tests, answer = (gb.find_grade(c, "nb", "task8", student) for c in ("tests", "answer"))
                tests.auto_score, tests.needs_manual_grade = auto, False
                answer.manual_score, answer.needs_manual_grade = manual, manual is None
                gb.find_submission_notebook("nb", "task8", student).late_submission_penalty = penalty
                gb.db.commit()
    finally:
        os.environ["PATH"] = path
    return db


@pytest.fixture
def course(tmp_path, monkeypatch, gradebook):
    """A course directory around that gradebook: ann's and bo's collected, autograded and
    feedback folders, an exchange with the release, three submissions (ann's, bo's two: the
    second not collected) and ann's feedback released."""
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(tmp_path / "jupyter"))    # no user configuration
    root, exchange = tmp_path / "course", tmp_path / "exchange"
    root.mkdir()
    shutil.copy(gradebook, root / "gradebook.db")
    (root / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.CourseDirectory.course_id = {COURSE!r}\n"
        f"c.CourseDirectory.root = {str(root)!r}\nc.Exchange.root = {str(exchange)!r}\n")
    for student, submitted in ((ANN, stamp(11)), (BO, stamp(12, 30))):
        for step in ("submitted", "autograded", "feedback"):
            folder = root / step / student / "task8"
            folder.mkdir(parents=True)
            (folder / "timestamp.txt").write_text(submitted)
        feedback = root / "feedback" / student / "task8"
        (feedback / "submission_secret.txt").write_text(f"secret-of-{student}")
        (feedback / "nb.html").write_text(f"<p>feedback for {student}</p>")
    (exchange / COURSE / "outbound" / "task8").mkdir(parents=True)
    inbound = exchange / COURSE / "inbound"
    inbound.mkdir()
    for student, submitted in ((ANN, stamp(11)), (BO, stamp(12, 30)), (BO, stamp(13))):
        (inbound / f"{student}+task8+{submitted}+r4nd0m").mkdir()
    released = exchange / COURSE / "feedback"
    released.mkdir()
    (released / f"{notebook_hash(secret=f'secret-of-{ANN}', notebook_id='nb')}.html").write_text(
        f"<p>feedback for {ANN}</p>")
    return root


def snapshot(root):
    """Every file under the course directory with its content hash and mtime."""
    return {p: (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_status_of_every_student_from_gradebook_directories_and_exchange(course, capsys):
    before = snapshot(course)
    assert status.main(["--root", str(course), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert snapshot(course) == before                       # read only: not even the gradebook's mtime
    assert (result["course"], result["assignment"], result["duedate"], result["released"]) == \
        (COURSE, "task8", "2026-11-20 12:00:00", True)
    rows = {r["student"]: r for r in result["students"]}
    assert rows[ANN] == {"student": ANN, "fetched": True, "submissions": 1, "submitted": "2026-11-20 11:00:00",
                         "collected": "2026-11-20 11:00:00", "late_seconds": 0, "autograded": True,
                         "manual_waiting": 0, "feedback": "released", "auto": 3.0, "manual": 1.5,
                         "penalty": 0.0, "total": 4.5, "max": 6.0}
    assert rows[BO] == {"student": BO, "fetched": True, "submissions": 2, "submitted": "2026-11-20 13:00:00",
                        "collected": "2026-11-20 12:30:00", "late_seconds": 1800.0, "autograded": True,
                        "manual_waiting": 1, "feedback": "generated", "auto": 4.0, "manual": 0,
                        "penalty": 4.0, "total": 0.0, "max": 6.0}
    assert rows[CY] == {"student": CY, "fetched": None, "submissions": 0, "submitted": None, "collected": None,
                        "late_seconds": 0.0, "autograded": False, "manual_waiting": None, "feedback": None,
                        "auto": None, "manual": None, "penalty": None, "total": None, "max": None}


def test_status_table_at_a_glance(course, capsys, monkeypatch):
    monkeypatch.chdir(course)                                # --root defaults to a course directory
    assert status.main([]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"course {COURSE}, assignment task8, due 2026-11-20 12:00:00 UTC, released to the exchange: yes"
    assert lines[3].split()[:2] == ["student", "fetched"]
    ann, bo, cy = (next(line for line in lines if line.startswith(s)) for s in (ANN, BO, CY))
    assert "2026-11-20 11:00:00 (1)" in ann and "released" in ann and ann.endswith("3 + 1.5 - 0 = 4.5 / 6")
    assert "2026-11-20 13:00:00 (2) not collected" in bo and "0:30:00" in bo and " 1 " in bo
    assert "generated" in bo and bo.endswith("4 + 0 - 4 = 0 / 6")
    assert cy.split() == [CY, "?", "-", "-", "-", "-", "-", "-"]


def test_feedback_regenerated_after_release_is_outdated_and_missing_exchange_is_unknown(course, capsys, tmp_path):
    (course / "feedback" / ANN / "task8" / "nb.html").write_text("<p>regraded</p>")
    rows = {r["student"]: r for r in status.gather(course)["students"]}
    assert rows[ANN]["feedback"] == "released (outdated)"   # the released copy differs from the new one
    result = status.gather(course, exchange=tmp_path / "nowhere")
    assert result["released"] is False and {r["student"]: r["submissions"] for r in result["students"]} == \
        {ANN: None, BO: None, CY: None}                     # no readable inbound: unknown, not zero


def test_no_gradebook_yet_and_unknown_assignment(course, tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "nbgrader_config.py").write_text("c = get_config()\nc.CourseDirectory.course_id = 'x'\n")
    assert status.main(["--root", str(empty)]) == 1
    err = capsys.readouterr().err
    assert "no gradebook yet" in err and "nbgrader generate_assignment task8" in err
    assert sorted(p.name for p in empty.iterdir()) == ["nbgrader_config.py"]     # nothing created
    assert status.main(["--root", str(course), "ps9"]) == 1
    assert "assignment 'ps9' is not in the gradebook (known: task8)" in capsys.readouterr().err
