"""The real nbgrader round trip through the exchange, between separate Unix users on one machine
(issue 13, part 1; docs/instructor-walkthrough.md describes exactly these steps).

Real accounts: one instructor and four students, created here and deleted at the end. Every
exchange step runs as its user (bubblewrap + setpriv: a private mount namespace that only makes
the interpreter reachable, see `as_user`); autograde runs as root, as CI's grading step (the
sandbox around the kernels wants root). The students:

    ada   fetches, submits the blank release, then resubmits a correct solution (the latest counts)
    cleo  fetches, submits a partial solution
    lee   fetches, submits a correct solution after the deadline (penalty "zero": visible)
    ida   fetches and never submits

Checked at every step, as the students themselves (`probe`: os.access, listdir and open run as
that user): no student reads another's home, submission or feedback, nor the instructor's
course directory (source/, gradebook.db, ...), nor lists the exchange's inbound/ or feedback/.
"""
import csv
import datetime
import json
import os
import pwd
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from exchange_users import ROOT, VENV_BIN, as_user, nbgrader, term_accounts

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(os.geteuid() != 0 or not all(map(shutil.which, ("bwrap", "setpriv", "useradd"))),
                                 reason="creates Unix accounts: needs root, useradd, setpriv and bubblewrap (CI)")]

DEMO = ROOT / "demo_submissions"
COURSE_ID, ASSIGNMENT = "nn-from-scratch", "task8"
TRAIN, MODULES, TESTS = "[0]task8_train_model.ipynb", "[1]task8_modules.ipynb", "[2]task8_test_modules.ipynb"
NOTEBOOKS = (TRAIN, MODULES, TESTS)
ANSWERS = ("q_activations", "q_batchnorm", "q_optimizers")      # the written answers of [0], 2 points each
ADA_MANUAL = {"q_activations": 2.0, "q_batchnorm": 1.5, "q_optimizers": 2.0}
ADA_COMMENT = "Batch norm: say what happens to the moving statistics in evaluate mode."


PROBE = """import json, os, sys
out = {}
for p in json.loads(sys.argv[1]):
    r = {"R": os.access(p, os.R_OK), "W": os.access(p, os.W_OK)}
    try:
        os.listdir(p) if os.path.isdir(p) else open(p, "rb").read(1)
        r["opened"] = True
    except OSError:
        r["opened"] = False
    out[p] = r
print(json.dumps(out))"""


def probe(user, paths):
    """{path: {"R", "W", "opened"}} as `user` sees them (the attempts run as that user)."""
    paths = [str(p) for p in paths]
    missing = [p for p in paths if not os.path.exists(p)]
    assert not missing, f"probe of paths that do not exist proves nothing: {missing}"
    return json.loads(as_user(user, sys.executable, "-I", "-c", PROBE, json.dumps(paths), cwd="/").stdout)


def assert_private(user, when, hidden=(), drop_boxes=(), read_only=()):
    """As `user`: no read, write or listing of `hidden`; no read or listing of `drop_boxes` (the
    exchange's inbound/ and feedback/: everyone writes or traverses them, nobody lists them);
    no write to `read_only` (the release)."""
    result = probe(user, [*hidden, *drop_boxes, *read_only])
    for path in map(str, hidden):
        assert not any(result[path].values()), f"{when}: {user} reaches {path}: {result[path]}"
    for path in map(str, drop_boxes):
        assert not (result[path]["R"] or result[path]["opened"]), f"{when}: {user} lists {path}"
    for path in map(str, read_only):
        assert not result[path]["W"], f"{when}: {user} can write {path}"


def each(function, items):
    """Students act at the same time (and the machine has two cores)."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(function, items))


def notebooks_of(path):
    return sorted(p.name for p in Path(path).glob("*.ipynb"))


@pytest.fixture
def term():
    """Accounts (unique names), their homes (0700) and the exchange (0777, nbgrader's mode)
    under a fresh /tmp directory every account can traverse; all deleted afterwards."""
    with term_accounts("t8", ("teach", "ada", "cleo", "lee", "ida"), COURSE_ID) as (base, exchange, users, home):
        yield {"base": base, "exchange": exchange, "users": users, "home": home}


def test_exchange_round_trip_between_separate_users(term):
    users, home, exchange = term["users"], term["home"], term["exchange"]
    teach, students = users["teach"], [users[r] for r in ("ada", "cleo", "lee", "ida")]
    others = lambda me: [s for s in students if s != me]

    # --- the instructor's course directory: a copy of source/ and nbgrader_config.py ------------
    course = home["teach"] / "course"
    course.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "source", course / "source")
    with open(course / "roster.csv", "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "first_name", "last_name"])
        writer.writerows([[s, s.rsplit("-", 1)[1].title(), "Student"] for s in students])
    subprocess.run(["chown", "-R", f"{teach}:{teach}", str(course)], check=True)
    secret_files = [course / "source" / ASSIGNMENT / MODULES, course / "source", course]

    nbgrader(teach, "generate_assignment", ASSIGNMENT, cwd=course, student=False)
    nbgrader(teach, "db", "student", "import", "roster.csv", cwd=course, student=False)
    nbgrader(teach, "release_assignment", ASSIGNMENT, cwd=course, student=False)
    course_ex = exchange / COURSE_ID
    outbound, inbound, feedback_ex = course_ex / "outbound" / ASSIGNMENT, course_ex / "inbound", course_ex / "feedback"
    assert notebooks_of(outbound) == sorted(NOTEBOOKS)
    assert oct(inbound.stat().st_mode & 0o7777) == "0o2733"       # write-only for students
    secret_files += [course / "gradebook.db"]

    # --- every student fetches into their own home ---------------------------------------------
    hw = {s: home[s.rsplit("-", 1)[1]] / ASSIGNMENT for s in students}
    each(lambda s: nbgrader(s, "fetch_assignment", ASSIGNMENT, cwd=hw[s].parent), students)
    for s in students:
        assert notebooks_of(hw[s]) == sorted(NOTEBOOKS) and hw[s].stat().st_uid == pwd.getpwnam(s).pw_uid
    each(lambda s: assert_private(s, "after fetch", hidden=[*secret_files, *[hw[o] / MODULES for o in others(s)]],
                                  drop_boxes=[inbound], read_only=[outbound, outbound / MODULES]), students)

    def fill(s, demo):            # the student edits the notebooks (writing keeps the owner)
        for name in NOTEBOOKS:
            shutil.copyfile(DEMO / demo / name, hw[s] / name)

    def submit(s):
        nbgrader(s, "submit", ASSIGNMENT, cwd=hw[s].parent)
        cache = hw[s].parent / ".local/share/jupyter/nbgrader_cache" / COURSE_ID
        return max(p.name.split("+")[2] for p in cache.iterdir())  # this submission's timestamp

    ada, cleo, lee, ida = students
    fill(cleo, "cleo_partial")

    def ada_twice(_):
        first = submit(ada)                           # the blank release, as fetched
        fill(ada, "ada_complete")
        return first, submit(ada)                     # the resubmission counts
    (first, latest), _ = each(lambda job: job(None), [ada_twice, lambda _: submit(cleo)])
    assert first < latest

    # the deadline: after the on-time submissions, before lee's
    due = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0) + datetime.timedelta(seconds=1)
    nbgrader(teach, "db", "assignment", "add", ASSIGNMENT, f"--duedate={due:%Y-%m-%d %H:%M:%S} UTC",
             cwd=course, student=False)
    time.sleep(max(0.0, (due - datetime.datetime.now(datetime.timezone.utc)).total_seconds()) + 1.2)
    fill(lee, "ada_complete")
    submit(lee)
    each(lambda s: assert_private(s, "after submit", hidden=[*secret_files, *[hw[o].parent for o in others(s)]],
                                  drop_boxes=[inbound]), students)
    assert len(os.listdir(inbound)) == 4              # ada twice, cleo, lee; ida never

    # --- the instructor collects: the latest submission of each student ------------------------
    nbgrader(teach, "collect", ASSIGNMENT, cwd=course, student=False)
    submitted = course / "submitted"
    assert sorted(p.name for p in submitted.iterdir()) == sorted([ada, cleo, lee])
    assert (submitted / ada / ASSIGNMENT / "timestamp.txt").read_text().strip() == latest
    assert (submitted / ada / ASSIGNMENT / MODULES).read_bytes() == (DEMO / "ada_complete" / MODULES).read_bytes()

    # --- autograde as root (CI's grading step: the sandbox around kernels wants root) ----------
    env = dict(os.environ, PATH=f"{VENV_BIN}:{os.environ.get('PATH', '')}", OPENBLAS_NUM_THREADS="1",
               OMP_NUM_THREADS="1", JUPYTER_CONFIG_DIR=str(home["teach"] / ".jupyter"))
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "nbgrader", "autograde", ASSIGNMENT,
                           "--LateSubmissionPlugin.penalty_method=zero"], cwd=course, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    print(f"{time.perf_counter() - start:5.1f} s  root: nbgrader autograde")
    subprocess.run(["chown", "-R", f"{teach}:{teach}", str(course)], check=True)   # hand the results back
    secret_files += [course / "autograded", submitted]

    # --- manual grading through nbgrader's Gradebook API, as the instructor -------------------
    grading = f"""
from nbgrader.api import Gradebook
with Gradebook("sqlite:///{course / 'gradebook.db'}", {COURSE_ID!r}) as gb:
    for grade_id, score in {ADA_MANUAL!r}.items():
        grade = gb.find_grade(grade_id, {TRAIN[:-6]!r}, {ASSIGNMENT!r}, {ada!r})
        assert grade.needs_manual_grade and grade.cell.cell_type == "markdown"
        grade.manual_score, grade.needs_manual_grade = score, False
    gb.find_comment("q_batchnorm", {TRAIN[:-6]!r}, {ASSIGNMENT!r}, {ada!r}).manual_comment = {ADA_COMMENT!r}
    gb.db.commit()
"""
    as_user(teach, sys.executable, "-c", grading, cwd=course, student=False)

    nbgrader(teach, "generate_feedback", ASSIGNMENT, cwd=course, student=False)
    nbgrader(teach, "release_feedback", ASSIGNMENT, cwd=course, student=False)
    assert oct(feedback_ex.stat().st_mode & 0o777) == "0o711"      # students cannot list it
    assert len(os.listdir(feedback_ex)) == 9                        # 3 notebooks x 3 students
    secret_files += [course / "feedback"]

    # --- the scores in the gradebook -----------------------------------------------------------
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", COURSE_ID) as gb:
        scores = {sub.student_id: (sub.score, sub.late_submission_penalty, sub.max_score, sub.needs_manual_grade)
                  for sub in gb.assignment_submissions(ASSIGNMENT)}
        assert gb.find_assignment(ASSIGNMENT).duedate == due.replace(tzinfo=None)
        assert gb.find_submission(ASSIGNMENT, lee).total_seconds_late > 0
        assert gb.find_submission(ASSIGNMENT, ada).total_seconds_late == 0
    assert scores == {ada: (27 + 5.5, 0.0, 33.0, False),      # 23 of [2], 4 of [0], 5.5 manual
                      cleo: (11.0, 0.0, 33.0, False),          # partial; blank answers score 0 by themselves
                      lee: (27.0, 27.0, 33.0, True)}           # late: "zero" takes every autograded point

    # --- the grades for the registrar: one row per student of the roster ------------------------
    nbgrader(teach, "export", "--to", "grades.csv", cwd=course, student=False)
    with open(course / "grades.csv", newline="") as fh:
        exported = {r["student_id"]: (float(r["raw_score"]), float(r["late_submission_penalty"]), float(r["score"]))
                    for r in csv.DictReader(fh)}
    assert exported == {ada: (32.5, 0.0, 32.5), cleo: (11.0, 0.0, 11.0), lee: (27.0, 27.0, 0.0), ida: (0.0, 0.0, 0.0)}

    # --- every student fetches their feedback, and only theirs ----------------------------------
    each(lambda s: nbgrader(s, "fetch_feedback", ASSIGNMENT, cwd=hw[s].parent), students)
    each(lambda s: assert_private(s, "after feedback", hidden=[*secret_files, *[hw[o] for o in others(s)]],
                                  drop_boxes=[inbound, feedback_ex]), students)
    for s in (ada, cleo, lee):
        got = hw[s] / "feedback"
        stamps = [p.name for p in got.iterdir()]
        assert len(stamps) == 1, stamps               # the collected submission's feedback only
        for name in NOTEBOOKS:
            html = name[:-6] + ".html"
            assert (got / stamps[0] / html).read_bytes() == (course / "feedback" / s / ASSIGNMENT / html).read_bytes()
    assert stamps and [p.name for p in (hw[ada] / "feedback").iterdir()] == [latest]
    assert not (hw[ida] / "feedback").exists()
    text = {s: next((hw[s] / "feedback").iterdir()).joinpath(TRAIN[:-6] + ".html").read_text() for s in (ada, cleo, lee)}
    assert ADA_COMMENT in text[ada] and not any(ADA_COMMENT in text[s] for s in (cleo, lee))
    assert "Late submission penalty" in text[lee] and "Late submission penalty" not in text[ada]

    # --- the course at a glance, as the instructor (homes unreadable: ida's fetch is "?") ------
    proc = as_user(teach, sys.executable, "-m", "layers_lib.course.status", "--json", cwd=course, student=False)
    rows = {r["student"]: r for r in json.loads(proc.stdout)["students"]}
    assert rows[ada]["submissions"] == 2 and rows[ada]["submitted"].startswith(latest[:19])
    assert [rows[s]["fetched"] for s in students] == [True, True, True, None]
    assert [rows[s]["feedback"] for s in students] == ["released", "released", "released", None]
    assert [rows[s]["manual_waiting"] for s in students] == [0, 0, 3, None]
    assert rows[lee]["late_seconds"] > 0 and not rows[ada]["late_seconds"]
    assert [(rows[s]["auto"], rows[s]["manual"], rows[s]["penalty"], rows[s]["total"]) for s in (ada, cleo, lee)] \
        == [(27, 5.5, 0, 32.5), (11, 0, 0, 11), (27, 0, 27, 0)]
    as_root = subprocess.run([sys.executable, "-m", "layers_lib.course.status", "--root", str(course)],
                             capture_output=True, text=True, env=env)
    assert as_root.returncode == 0, as_root.stderr
    print(as_root.stdout)
    line = next(l for l in as_root.stdout.splitlines() if l.startswith(ida))
    assert line.split()[1] == "yes" and " - " in line        # root reads ida's home: fetched, not submitted
