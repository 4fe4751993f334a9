"""A term of task8 in the browser (issue 13, part 2): nbgrader's JupyterLab extension and its
formgrader, driven by Playwright in Debian's Chromium, between two real Unix accounts.

The student's JupyterLab runs AS THE STUDENT (bubblewrap + setpriv, see tests/exchange_users.py;
the repository is hidden from it, the student kit is on its path, its nbgrader config names the
course and the exchange) with nbgrader's student extensions (assignment list, course list,
validate). In Chromium the student opens Nbgrader → Assignment List, fetches task8, opens
[1]task8_modules from the fetched folder (its contents on disk replaced by
demo_submissions/ada_complete's notebooks first, as the student's editor would have saved them),
runs all cells (the last one shows the class dashboard: every class passes), presses Validate in
the notebook toolbar (the result dialog says it passed) and submits in the Assignments tab (the
submission appears with the exchange's timestamp).

The instructor collects (CLI, as the instructor) and root autogrades (CI's grading step, as in
tests/test_exchange_roundtrip.py). Then a JupyterLab runs AS THE INSTRUCTOR in the course
directory with formgrader, and the instructor opens formgrader in its own page, not in Lab's
iframe panel (see `test_term_in_the_browser`): Manual Grading → task8 → [0]task8_train_model →
the submission, a score and a comment for each written answer of [0] (their grade ids and
points are read from the gradebook). Checked: the formgrader's lists and nbgrader's Gradebook
API hold the scores and comments, the student's total rose by exactly the points entered, and
`nbgrader export`'s grades.csv row follows.

Screenshots of every step go to test-artifacts/nbgrader-browser/ (git-ignored): 01-assignments-tab,
02-fetched, 03-dashboard, 04-validate, 05-submitted, 06-formgrader-manual-grading, 07..09-grading-<grade
id> (one per written answer), 10-formgrader-graded, 11-formgrader-students; with timings.txt and
autograde.log, and on failure failure-<role>.png, the servers' logs, and their tails in the
assertion message.

Run only this test:  .venv/bin/python -m pytest -p no:cacheprovider -n 0 tests/test_browser_nbgrader.py
"""
from __future__ import annotations

import csv
import json
import os
import pwd
import re
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pytest

from browser.chromium import CHROMIUM, VIEWPORT, cell_errors, chromium_problem, launched, run_all_cells
from browser.lab import RunAs, start_lab
from browser.nbgrader_ui import (assignment_rows, collapse_id, enter_comment, enter_score,
                                 formgrader_ready, kernel_json, offline, open_assignments_tab, open_lab,
                                 wait_notebook)
from exchange_users import (ROOT, VENV_BIN, accounts_problem, as_user, nbgrader, term_accounts,
                            user_command)

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.xdist_group("browser"),
              pytest.mark.skipif(accounts_problem() is not None,
                                 reason=f"browser term between Unix accounts: {accounts_problem()}")]

ARTIFACTS = ROOT / "test-artifacts" / "nbgrader-browser"
DEMO = ROOT / "demo_submissions" / "ada_complete"         # a complete, correct solution
COURSE_ID, ASSIGNMENT = "nn-from-scratch", "task8"
TRAIN, MODULES, TESTS = "[0]task8_train_model.ipynb", "[1]task8_modules.ipynb", "[2]task8_test_modules.ipynb"
NOTEBOOKS = (TRAIN, MODULES, TESTS)
# What a student's single-user server runs: the assignment list, the course list and Validate;
# formgrader and Create Assignment are the instructors' (nbgrader's installation docs).
STUDENT_EXTENSIONS = ("assignment_list", "course_list", "validate_assignment")
TIMEOUT_MS = 120_000          # kernels and nbgrader calls on a busy 2-core machine
STAMP = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6} UTC")     # nbgrader's submission timestamp

GRADEBOOK_STATE = """import json, sys
from nbgrader.api import Gradebook
db, course, assignment, notebook, student = sys.argv[1:]
with Gradebook(db, course) as gb:
    nb = gb.find_notebook(notebook, assignment)
    written = set(c.name for c in nb.grade_cells) & set(c.name for c in nb.solution_cells)
    sub = gb.find_submission(assignment, student)
    out = {"score": sub.score, "max_score": sub.max_score, "written": {}}
    for name in sorted(written):
        grade = gb.find_grade(name, notebook, assignment, student)
        comment = gb.find_comment(name, notebook, assignment, student)
        out["written"][name] = {"max_score": grade.max_score, "manual_score": grade.manual_score,
                                "auto_score": grade.auto_score, "needs_manual_grade": grade.needs_manual_grade,
                                "cell_type": grade.cell.cell_type, "comment": comment.manual_comment}
print(json.dumps(out))"""


@pytest.fixture
def chromium() -> Path:
    problem = chromium_problem()
    if problem:
        if os.geteuid() != 0:
            pytest.skip(f"browser test needs Debian chromium: {problem}")
        pytest.fail(f"browser test needs Debian chromium: {problem}", pytrace=False)
    return CHROMIUM


@pytest.fixture
def term():
    """An instructor and a student account (unique names), their homes (0700, each with its
    ~/.jupyter/nbgrader_config.py), the exchange (0777, nbgrader's mode) and the student kit
    unpacked where the student can read it, under a fresh /tmp directory; all removed at the end
    (after every process left running as the accounts)."""
    with term_accounts("t8b", ("teach", "ada"), COURSE_ID) as (base, exchange, users, home):
        from layers_lib.course import kit
        with zipfile.ZipFile(kit.build(base / "dist")) as wheel:
            wheel.extractall(base / "kit")
        subprocess.run(["chmod", "-R", "a+rX", str(base / "kit")], check=True)
        yield SimpleNamespace(base=base, exchange=exchange, users=users, home=home, kit=base / "kit",
                              teach=users["teach"], student=users["ada"])


@pytest.fixture
def servers():
    """The JupyterLab servers a test starts; stopped at the end (before the accounts go)."""
    started = []
    yield started
    for server in reversed(started):
        server.stop()


@pytest.fixture
def browser(chromium):
    with launched(chromium) as b:
        yield b


def run_as(user, *, student, env):
    """start_lab's RunAs for `user`: its uid/gid, the server's variables plus `env`."""
    entry = pwd.getpwnam(user)
    return RunAs(entry.pw_uid, entry.pw_gid,
                 lambda argv, lab_env, cwd: user_command(user, argv, cwd=cwd, student=student,
                                                         env={**lab_env, **env}))


def new_page(browser, errors: list):
    context = browser.new_context(viewport=VIEWPORT)
    offline(context)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
    page.on("console", lambda m: m.type == "error" and errors.append(f"console: {m.text}"))
    return page


def shot(page, name, **kwargs):
    page.screenshot(path=str(ARTIFACTS / name), **kwargs)


def gradebook_state(teach, course, student):
    """The student's submission total and the written answers of [0], read through nbgrader's
    Gradebook API as the instructor."""
    proc = as_user(teach, sys.executable, "-c", GRADEBOOK_STATE, f"sqlite:///{course / 'gradebook.db'}",
                   COURSE_ID, ASSIGNMENT, TRAIN[:-len('.ipynb')], student, cwd=course, student=False)
    return json.loads(proc.stdout)


def export_row(teach, course, student):
    nbgrader(teach, "export", "--to", "grades.csv", cwd=course, student=False)
    with open(course / "grades.csv", newline="") as fh:
        rows = {r["student_id"]: r for r in csv.DictReader(fh) if r["assignment"] == ASSIGNMENT}
    assert student in rows, f"grades.csv has no row for {student}: {sorted(rows)}"
    return {k: float(rows[student][k]) for k in ("raw_score", "late_submission_penalty", "score", "max_score")}


def submission_row(page):
    """The one submission row of formgrader's list of a notebook's submissions, once loaded."""
    row = page.locator("#main-table tr", has=page.locator("td.name a"))
    row.first.wait_for(state="visible")
    return row


def points(cell):
    """(score, max) from a formgrader cell reading "score / max"."""
    score, top = cell.inner_text().split("/")
    return float(score), float(top)


def test_term_in_the_browser(term, servers, browser):
    teach, student, home = term.teach, term.student, term.home
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for stale in ARTIFACTS.iterdir():                      # artifacts are from this run only
        stale.unlink()
    timings, pages, errors = [], {}, {"student": [], "instructor": []}
    clock = [time.monotonic()]

    def step(name):
        now = time.monotonic()
        timings.append((name, now - clock[0]))
        clock[0] = now

    try:
        # --- the instructor's course: generate, the roster, release (CLI, as the instructor) -----
        course = home["teach"] / "course"
        course.mkdir()
        shutil.copy(ROOT / "nbgrader_config.py", course)
        shutil.copytree(ROOT / "source", course / "source")
        subprocess.run(["chown", "-R", f"{teach}:{teach}", str(course)], check=True)
        nbgrader(teach, "generate_assignment", ASSIGNMENT, cwd=course, student=False)
        nbgrader(teach, "db", "student", "add", student, "--first-name=Ada", "--last-name=Student",
                 cwd=course, student=False)
        nbgrader(teach, "release_assignment", ASSIGNMENT, cwd=course, student=False)
        step("course: generate, roster, release")

        # --- the student's JupyterLab, as the student ------------------------------------------
        lab = start_lab(home["ada"], term.base / "jupyter-student", nbgrader=STUDENT_EXTENSIONS,
                        run_as=run_as(student, student=True, env={
                            "JUPYTER_CONFIG_PATH": str(home["ada"] / ".jupyter"),     # nbgrader_config.py
                            "JUPYTER_DATA_DIR": str(home["ada"] / ".local/share/jupyter"),  # nbgrader_cache
                            "PYTHONPATH": str(term.kit)}))                            # the student kit
        servers.append(lab)
        page = pages["student"] = new_page(browser, errors["student"])
        open_lab(page, lab, TIMEOUT_MS)
        step("student: JupyterLab")

        # 1. the Assignments tab: task8 released
        open_assignments_tab(page)
        released = assignment_rows(page, "released", 1, TIMEOUT_MS)
        assert released.locator(".item_name").inner_text().strip() == ASSIGNMENT
        assert released.locator(".item_course").inner_text().strip() == COURSE_ID
        assert page.locator("#course_list_default").inner_text().strip() == COURSE_ID
        shot(page, "01-assignments-tab.png")

        # 2. Fetch: the notebooks land in the student's home, owned by the student
        released.locator(".item_status button:text-is('Fetch')").click()
        fetched = assignment_rows(page, "fetched", 1, TIMEOUT_MS)
        folder = home["ada"] / ASSIGNMENT
        assert sorted(p.name for p in folder.glob("*.ipynb")) == sorted(NOTEBOOKS)
        assert all(p.stat().st_uid == pwd.getpwnam(student).pw_uid for p in folder.iterdir())
        for name in NOTEBOOKS:      # the student's answers, as their editor would have saved them
            shutil.copyfile(DEMO / name, folder / name)
        notebooks_id = collapse_id(COURSE_ID, ASSIGNMENT)
        fetched.locator("a.assignment-notebooks-link").click()
        page.locator(f"#{notebooks_id}.collapse.in").wait_for(state="visible")
        listed = page.locator(f"#{notebooks_id} .nested_list_item .item_name").all_inner_texts()
        assert [n.strip() for n in listed] == [n[:-len(".ipynb")] for n in NOTEBOOKS], listed
        shot(page, "02-fetched.png")
        step("student: fetch")

        # 3. [1] from the fetched folder: run all cells, the dashboard shows every class passing
        page.locator(f"#{notebooks_id} .item_name a:text-is('{MODULES[:-len('.ipynb')]}')").click()
        wait_notebook(page, f"{ASSIGNMENT}/{MODULES}", TIMEOUT_MS)
        assert run_all_cells(page) is True, f"run-all-cells failed: {cell_errors(page)}"
        assert cell_errors(page) == []
        dashboard = page.locator(".gi-dashboard-root table.gi-dashboard")
        dashboard.wait_for(state="visible")
        from layers_lib.grading.runner import GRADED_NAMES
        assert dashboard.get_attribute("data-total") == str(len(GRADED_NAMES))
        assert dashboard.get_attribute("data-passed") == str(len(GRADED_NAMES)), \
            page.locator(".gi-dashboard-row:not([data-status=pass])").all_inner_texts()
        for text in ("Error displaying widget", "Loading widget..."):
            assert page.get_by_text(text).count() == 0, f'"{text}" is shown in the notebook'
        # the kernel is the student's, and imports the kit, which has no reference solution
        where = kernel_json(page, "import importlib.util, json, os, layers_lib\n"
                                  "print(json.dumps([os.getuid(), layers_lib.__file__,"
                                  " importlib.util.find_spec('layers_lib.reference') is None]))", TIMEOUT_MS)
        assert where == [pwd.getpwnam(student).pw_uid, str(term.kit / "layers_lib" / "__init__.py"), True], where
        page.locator(".gi-dashboard-root").scroll_into_view_if_needed()
        shot(page, "03-dashboard.png")
        step("student: open [1], run the dashboard")

        # 4. Validate (notebook toolbar): it saves the notebook, then nbgrader validates it
        page.locator(".jp-NotebookPanel-toolbar .validate-button").click()
        page.locator(".nbgrader-SuccessDialog, .nbgrader-ErrorDialog").wait_for(state="visible")
        result = page.locator(".jp-Dialog .jp-Dialog-body")
        assert page.locator(".nbgrader-SuccessDialog .validation-success").count() == 1, result.inner_text()
        assert "Success! Your notebook passes all the tests." in result.inner_text()
        assert page.evaluate("() => window.jupyterapp.shell.currentWidget.context.model.dirty") is False
        shot(page, "04-validate.png")
        page.locator(".jp-Dialog button.jp-Dialog-button").click()
        step("student: validate")

        # 5. Submit (Assignments tab): the submission is listed with the exchange's timestamp
        page.locator("#jp-main-dock-panel .lm-TabBar-tab:has-text('Assignments')").click()
        assignment_rows(page, "fetched", 1, TIMEOUT_MS).locator(".item_status button:text-is('Submit')").click()
        assignment_rows(page, "submitted", 1, TIMEOUT_MS)
        stamps = page.locator(f"#{notebooks_id}-submissions .nested_list_item .item_name")
        stamps.first.wait_for(state="visible")
        assert stamps.count() == 1, stamps.all_inner_texts()
        stamp = stamps.first.inner_text().strip()
        assert STAMP.fullmatch(stamp), stamp
        inbound = os.listdir(term.exchange / COURSE_ID / "inbound")
        assert [n.split("+")[:3] for n in inbound] == [[student, ASSIGNMENT, stamp]], inbound
        cache = home["ada"] / ".local/share/jupyter/nbgrader_cache" / COURSE_ID      # the student's copy
        assert [p.name for p in cache.iterdir()] == [f"{student}+{ASSIGNMENT}+{stamp}"]
        shot(page, "05-submitted.png")
        assert errors["student"] == [], f"browser errors in the student's JupyterLab: {errors['student']}"
        step("student: submit")

        # --- collect (as the instructor), autograde (as root: CI's grading step) ----------------
        nbgrader(teach, "collect", ASSIGNMENT, cwd=course, student=False)
        collected = course / "submitted" / student / ASSIGNMENT
        assert (collected / "timestamp.txt").read_text().strip() == stamp
        for name in NOTEBOOKS:                                 # what the student saved and submitted
            assert (collected / name).read_bytes() == (folder / name).read_bytes(), name
        env = dict(os.environ, PATH=f"{VENV_BIN}:{os.environ.get('PATH', '')}", OPENBLAS_NUM_THREADS="1",
                   OMP_NUM_THREADS="1", JUPYTER_CONFIG_DIR=str(home["teach"] / ".jupyter"))
        proc = subprocess.run([sys.executable, "-m", "nbgrader", "autograde", ASSIGNMENT], cwd=course,
                              env=env, capture_output=True, text=True, timeout=600)
        (ARTIFACTS / "autograde.log").write_text(proc.stdout + proc.stderr)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        subprocess.run(["chown", "-R", f"{teach}:{teach}", str(course)], check=True)   # hand the results back
        before = gradebook_state(teach, course, student)
        written = before["written"]
        assert len(written) == 3, f"[0]'s written answers: {sorted(written)}"
        for name, grade in written.items():
            assert grade["cell_type"] == "markdown" and grade["needs_manual_grade"], (name, grade)
            assert grade["manual_score"] is None and grade["comment"] is None, (name, grade)
        csv_before = export_row(teach, course, student)
        assert csv_before["score"] == before["score"], (csv_before, before)
        step("instructor: collect, autograde, export")

        # --- formgrader, as the instructor ------------------------------------------------------
        # The scores to enter: full marks, half a point off, half marks (the points come from the
        # gradebook, not from here), and a comment for each answer.
        entered = {}
        for name, kind in zip(written, ("full", "minus half", "half")):
            top = written[name]["max_score"]
            entered[name] = {"full": top, "minus half": top - 0.5, "half": top / 2}[kind]
        comments = {name: f"{name}: checked by hand in the browser test ({score:g} of "
                          f"{written[name]['max_score']:g})." for name, score in entered.items()}
        teacher_lab = start_lab(course, term.base / "jupyter-instructor", nbgrader=True,
                                run_as=run_as(teach, student=False, env={
                                    "JUPYTER_CONFIG_PATH": str(home["teach"] / ".jupyter")}))
        servers.append(teacher_lab)
        fg = pages["instructor"] = new_page(browser, errors["instructor"])
        # Formgrader in its own page, at <server>/formgrader, not in the "Formgrader" panel of
        # JupyterLab (an <iframe>): JupyterHub 4.1 and newer send `frame-ancestors 'none'`, which
        # blanks that iframe (jupyter/nbgrader#1870; the fix was reverted in 0.9.5, #1947), and
        # nbgrader's documented way out is opening formgrader in a browser tab of its own.
        fg.goto(teacher_lab.url("formgrader"))
        fg.get_by_role("link", name="Manual Grading", exact=True).first.click()
        fg.locator("table a:text-is('task8')").click()
        fg.locator(f"table a:text-is('{TRAIN[:-len('.ipynb')]}')").click()
        row = submission_row(fg)
        assert row.count() == 1
        written_max = sum(g["max_score"] for g in written.values())
        assert row.locator("td.written-score").inner_text().strip() == f"0 / {written_max:g}"
        assert row.locator("td.needs-manual-grade .glyphicon-ok").count() == 1
        notebook_before, notebook_max = points(row.locator("td.score"))
        shot(fg, "06-formgrader-manual-grading.png")
        step("instructor: formgrader")

        # 7-9. the submission: a score and a comment for each written answer (saved on change)
        row.locator("td.name a.name-hidden").click()
        formgrader_ready(fg, TIMEOUT_MS)
        for number, (name, score) in enumerate(entered.items(), start=7):
            saved = enter_score(fg, name, score, TIMEOUT_MS)
            assert (saved["manual_score"], saved["needs_manual_grade"]) == (score, False), saved
            saved = enter_comment(fg, name, comments[name], TIMEOUT_MS)
            assert saved["manual_comment"] == comments[name], saved
            panel = fg.locator(".nbgrader_cell", has=fg.locator(f'input.score[id="{name}"]'))
            panel.screenshot(path=str(ARTIFACTS / f"{number:02d}-grading-{name}.png"))
        step("instructor: scores and comments")

        # 10-11. the totals in formgrader: the notebook's submissions, then Manage Students
        fg.locator(f".breadcrumb a:text-is('{TRAIN[:-len('.ipynb')]}')").click()
        row = submission_row(fg)
        assert row.locator("td.written-score").inner_text().strip() == f"{sum(entered.values()):g} / {written_max:g}"
        assert row.locator("td.needs-manual-grade .glyphicon-ok").count() == 0
        assert points(row.locator("td.score")) == (pytest.approx(notebook_before + sum(entered.values())), notebook_max)
        shot(fg, "10-formgrader-graded.png")
        after = gradebook_state(teach, course, student)
        fg.get_by_role("link", name="Manage Students", exact=True).first.click()
        student_row = fg.locator("tr", has=fg.locator(f"td.id:text-is('{student}')"))
        student_row.wait_for(state="visible")
        assert points(student_row.locator("td.score")) == (pytest.approx(after["score"]), after["max_score"])
        shot(fg, "11-formgrader-students.png")

        # --- the gradebook (nbgrader's API) and grades.csv ---------------------------------------
        for name, score in entered.items():
            grade = after["written"][name]
            assert (grade["manual_score"], grade["needs_manual_grade"], grade["comment"]) \
                == (score, False, comments[name]), (name, grade)
        assert after["score"] == pytest.approx(before["score"] + sum(entered.values())), (before, after)
        csv_after = export_row(teach, course, student)
        assert csv_after["score"] == pytest.approx(after["score"]), (csv_after, after)
        assert csv_after["raw_score"] - csv_before["raw_score"] == pytest.approx(sum(entered.values()))
        assert errors["instructor"] == [] or all("MathJax" in e or "ERR_FAILED" in e for e in errors["instructor"]), \
            errors["instructor"]
        step("instructor: totals, export")
    except Exception as exc:
        tails = []
        for role, page in pages.items():
            try:
                shot(page, f"failure-{role}.png")
            except Exception:                                      # noqa: BLE001
                pass
        for role, server in zip(("student", "instructor"), servers):
            (ARTIFACTS / f"{role}-lab.log").write_text(server.log(200_000))
            tails.append(f"--- {role}'s JupyterLab log (tail) ---\n{server.log(4000)}")
        tails.append(f"--- browser errors ---\n{errors}")
        raise AssertionError(f"{type(exc).__name__}: {exc}\n\n" + "\n".join(tails)) from exc
    finally:
        report = "\n".join(f"{seconds:6.1f} s  {name}" for name, seconds in timings)
        (ARTIFACTS / "timings.txt").write_text(report + "\n")
        print(report)
