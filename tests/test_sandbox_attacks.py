"""Hostile submissions against the real autograde: ONE `nbgrader autograde` run of the course's
nbgrader_config.py (sandbox, budgets, the grader's re-training of [0]) over a class in which two
correct students (graded first and last) sit next to one student per attack.

Every attacker is the blank release (`ben_blank`, no implementation: it deserves 0 on every
autograded cell) plus the attack, except the slow and the hung students, who are correct but for
their Linear. Asserted: the run ends, both correct students keep exactly the full automatic
marks (27) with their written answers still waiting for a teacher, every attacker gets what its
implementation deserves, no attack leaves a trace (repository files, processes), and each
student's autograde stays within the budget.
"""
import hashlib
import json
import os
import re
import subprocess
import textwrap
import time
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest

from corpus.course import make_course
from layers_lib.course import pipeline
from layers_lib.course.sandbox import sandbox_account

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("autograde"),
              pytest.mark.skipif(os.geteuid() != 0, reason="the sandbox runs as root (CI)")]

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "demo_submissions"
TRAIN, MODULES, TESTS = "[0]task8_train_model.ipynb", "[1]task8_modules.ipynb", "[2]task8_test_modules.ipynb"
NOTEBOOKS = (TRAIN, MODULES, TESTS)
SECRET = "SECRET-MARKER-7f3a9c"
FULL_AUTO = 27                       # 23 points of [2] + 4 of [0]
STUDENT_BUDGET = 80                  # seconds per student, whatever it does: [2] 60 + re-training 20


def _load(student):
    return {name: nbformat.read(DEMO / student / name, as_version=4) for name in NOTEBOOKS}


def _cell(nb, grade_id):
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def _add_cell(nb, source):
    nb.cells.append(nbformat.v4.new_code_cell(source))


def _run_in_worker(nb, source):
    """Student code that autograde runs: added cells of [1] are ignored by the loader, and [1]
    itself is not executed, so the attack goes at the end of a solution cell (ReLU's), which
    [2]'s isolated worker runs when it loads the submission."""
    cell = _cell(nb, "relu_solution")
    cell.source = cell.source.rstrip("\n") + "\n\n" + source.strip("\n") + "\n"


def _raising_what_it_printed(source):
    """An attack for [1]: autograde does not run [1] itself, its cells run in [2]'s isolated
    worker (in the sandbox), whose prints no notebook shows. The attack raises what it printed,
    so the loader's summary in [2]'s setup output shows the attack's own verdict."""
    return ("import contextlib as _c, io as _io\n_out = _io.StringIO()\nwith _c.redirect_stdout(_out):\n"
            + textwrap.indent(source.strip("\n"), "    ") + "\nraise RuntimeError(_out.getvalue())\n")


def _write(directory, files):
    directory.mkdir(parents=True)
    for name, nb in files.items():
        if isinstance(nb, (str, bytes)):
            (directory / name).write_bytes(nb if isinstance(nb, bytes) else nb.encode())
        elif nb is not None:
            nbformat.write(nb, directory / name)
    (directory / "timestamp.txt").write_text("2026-11-20 12:00:00.000000 UTC\n")


# --- the attacks: each returns the files of one student ------------------------------------

def gradebook_writer(course):
    files = _load("ben_blank")
    attack = f"""
import sqlite3
for path in [{str(course / 'gradebook.db')!r}, "../../../gradebook.db", "../../gradebook.db"]:
    try:
        db = sqlite3.connect(path)
        db.execute("UPDATE grade SET auto_score = 0")
        db.execute("UPDATE source_cell SET source = 'assert False'")
        db.execute("UPDATE grade SET manual_score = max_score")
        db.commit()
        print("EDITED", path)
    except Exception as exc:
        print("refused", path, type(exc).__name__)
"""
    _run_in_worker(files[MODULES], _raising_what_it_printed(attack))
    _add_cell(files[TRAIN], attack)
    return files


def symlinks(course):
    return {name: None for name in NOTEBOOKS}        # written as links by submit_all


def label_lookup(course):
    files = _load("ben_blank")
    _cell(files[TRAIN], "best_model").source = '''
import numpy as np
from layers_lib.data import load_digits_split
_split = load_digits_split(dtype=np.float64)
_truth = {row.tobytes(): label for row, label in zip(_split.X_test, _split.y_test)}

class Oracle:
    def evaluate(self): pass
    def train(self): pass
    def forward(self, X):
        return np.eye(10)[[_truth.get(row.tobytes(), 0) for row in X]]

best_model = Oracle()
class _H: train_loss = [2.3, 0.01]
best_history = _H()
check_test_accuracy = lambda *a, **k: 1.0
check_own_classes = lambda *a, **k: None
check_loss_decreased = lambda *a, **k: 0.0
'''
    return files


def package_poisoner(course):
    files = _load("ben_blank")
    _run_in_worker(files[MODULES], _raising_what_it_printed(f"""
import glob, os, site, sys
targets = [p for entry in sys.path for p in glob.glob(os.path.join(entry or ".", "layers_lib", "**", "*.py"),
                                                      recursive=True)]     # importing it is refused
targets += glob.glob({str(ROOT / 'layers_lib')!r} + "/**/*.py", recursive=True)
targets += [{str(ROOT / 'layers_lib' / 'grading' / 'grade.py')!r}, {str(ROOT / 'nbgrader_config.py')!r}]
targets += [os.path.join(p, "sitecustomize.py") for p in site.getsitepackages()]
for path in targets:
    try:
        with open(path, "a") as f:
            f.write("\\nraise SystemExit('poisoned')\\n")
        print("POISONED", path)
    except OSError as exc:
        print("refused", type(exc).__name__)
"""))
    return files


def signaller(course):
    files = _load("ben_blank")
    _run_in_worker(files[MODULES], """
import os, signal
for pid in [os.getppid(), 1] + [int(p) for p in os.listdir("/proc") if p.isdigit()]:
    for sig in (signal.SIGSTOP, signal.SIGKILL):
        try:
            os.kill(pid, sig)
        except OSError:
            pass
os.kill(-1, signal.SIGKILL)
""")
    return files


def lingerer(course):
    files = _load("ben_blank")
    _run_in_worker(files[MODULES], """
import os, subprocess
subprocess.Popen(["sleep", "600"], start_new_session=True)
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execvp("sleep", ["sleep", "601"])
    os._exit(0)
print("left two sleepers behind")
""")
    return files


def snooper(course):
    files = _load("ben_blank")
    attack = f"""
import glob, os
found = []
for pattern in ["/tmp/**/*.ipynb", "/work/**/*.ipynb", "/root/**/*.ipynb", "/home/**/*.ipynb", {str(course / 'submitted' / '*' / 'task8' / '*.ipynb')!r},
                {str(course / 'autograded' / '**' / '*.ipynb')!r}, {str(course / 'source' / '**' / '*')!r}]:
    for path in glob.glob(pattern, recursive=True):
        try:
            text = open(path).read()
        except OSError:
            continue
        found.append(path)
        print("READ", path, "LEAKED" if {SECRET[:7]!r} + {SECRET[7:]!r} in text else "")   # not the marker itself
print("found", len(found), "notebooks")
"""
    _run_in_worker(files[MODULES], _raising_what_it_printed(attack))
    _add_cell(files[TRAIN], attack)
    return files


def shadower(course):
    files = _load("ben_blank")
    fake_grade = '''
class ClassGrade:
    def __init__(self, *a, **k): pass
    def __getattr__(self, name): return lambda *a, **k: None
    def score(self): return 1000
'''
    files["layers_lib/__init__.py"] = ""
    files["layers_lib/grading/__init__.py"] = ""
    files["layers_lib/grading/grade.py"] = fake_grade
    files["numpy.py"] = "raise SystemExit('shadowed numpy')\n"
    return files


def worker_hijacker(course):
    files = _load("ben_blank")
    cell = _cell(files[MODULES], "linear_solution")
    cell.source = '''
import gc, sys
def _forged(request):
    return {"value": {"t": "meth"}}, []
for frame in list(sys._current_frames().values()):
    while frame is not None:
        if "_dispatch" in frame.f_globals:
            frame.f_globals["_dispatch"] = _forged
        frame = frame.f_back
for obj in gc.get_objects():
    if isinstance(obj, dict) and "_dispatch" in obj and "_send" in obj:
        obj["_dispatch"] = _forged
''' + cell.source
    return files


def deep_json(course):
    files = _load("ben_blank")
    files[MODULES] = "[" * 100_000 + "]" * 100_000
    return files


def _linear(files, forward):
    cell = _cell(files[MODULES], "linear_solution")
    start = cell.source.index("        output = input @ self.W\n")      # the reference's forward
    end = cell.source.index("\n", cell.source.index("self.output = output.astype(", start)) + 1
    old = cell.source[start:end]
    cell.source = cell.source.replace(old, forward)
    return files


def hung_linear(course):
    files = _load("ada_complete")
    _cell(files[MODULES], "linear_solution").source = (
        "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
        + _cell(files[MODULES], "linear_solution").source)
    return _linear(files, "        while True:\n            pass\n")


def slow_linear(course):
    # the classic: Python loops over the samples and the outputs instead of one matrix product
    return _linear(_load("ada_complete"), """        out = np.empty((input.shape[0], self.W.shape[1]), dtype=input.dtype)
        for i in range(input.shape[0]):
            for j in range(self.W.shape[1]):
                out[i, j] = sum(input[i, k] * self.W[k, j] for k in range(self.W.shape[0])) + self.b[j]
        self.output = out
""")


PAYLOAD = "<script>alert('pwned')</script>"


def script_injector(course):
    files = _load("ben_blank")
    _add_cell(files[MODULES], f"""
from IPython.display import HTML, Javascript, display
display(HTML({PAYLOAD!r} + '<img src=x onerror="alert(2)">'))
display(Javascript("alert(3)"))
print({PAYLOAD!r})
""")
    files[MODULES].cells.append(nbformat.v4.new_markdown_cell(
        PAYLOAD + ' <a href="javascript:alert(4)">click</a>'))
    return files


def correct(course):
    files = _load("ada_complete")
    _add_cell(files[MODULES], f"# {SECRET}: nobody else may read this")
    return files


STUDENTS = {"a_correct": correct, "b_gradebook": gradebook_writer, "c_symlinks": symlinks,
            "d_label_lookup": label_lookup, "e_poisoner": package_poisoner, "f_signaller": signaller,
            "g_lingerer": lingerer, "h_snooper": snooper, "i_shadower": shadower,
            "j_worker_hijacker": worker_hijacker, "k_deep_json": deep_json,
            "k_script": script_injector, "l_hung_linear": hung_linear, "m_slow_linear": slow_linear, "z_correct": correct}


def _repo_digest():
    """{file: sha256} of the repository's code (files other tests add meanwhile do not count)."""
    return {path: hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted((ROOT / "layers_lib").rglob("*.py")) + [ROOT / "nbgrader_config.py"]}


@pytest.fixture(scope="module")
def attack_run(tmp_path_factory):
    course = make_course(tmp_path_factory.mktemp("attacks") / "course", notebooks=NOTEBOOKS)
    for student, build in STUDENTS.items():
        target = course / "submitted" / student / "task8"
        if build is symlinks:
            target.mkdir(parents=True)
            for name in (TRAIN, TESTS):
                os.symlink(course / "submitted" / "a_correct" / "task8" / name, target / name)
            os.symlink("/etc/passwd", target / MODULES)
            (target / "timestamp.txt").write_text("2026-11-20 12:00:00.000000 UTC\n")
            continue
        files = build(course)
        plain = {k: v for k, v in files.items() if "/" not in k}
        _write(target, plain)
        for name, text in files.items():
            if "/" in name:
                (target / name).parent.mkdir(parents=True, exist_ok=True)
                (target / name).write_text(text)
    before = _repo_digest()
    start = time.perf_counter()
    code = pipeline.nbgrader(course, "autograde", "task8")
    seconds = time.perf_counter() - start
    feedback_code = pipeline.nbgrader(course, "generate_feedback", "task8")
    log = (course / "nbgrader.log").read_text()
    print(f"autograde of {len(STUDENTS)} students: {seconds:.0f} s")
    return {"course": course, "code": code, "seconds": seconds, "log": log, "feedback_code": feedback_code,
            "grades": pipeline.scores(course),
            "repo_unchanged": all(_repo_digest().get(path) == digest for path, digest in before.items())}


def _auto(run, student):
    return {cell: score for cell, (score, top) in run["grades"][student].items()
            if not cell.startswith("q_")}


def _outputs_text(run, student):
    """Everything the autograded notebooks show: outputs and markdown (not the code cells)."""
    parts = []
    for name in NOTEBOOKS:
        path = run["course"] / "autograded" / student / "task8" / name
        if not path.exists():
            continue
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "markdown":
                parts.append(cell.source)
            for out in cell.get("outputs", []):
                parts.append(json.dumps(out))
    return "\n".join(parts)


def test_the_run_ends_and_grades_everyone(attack_run):
    assert attack_run["code"] == 0, attack_run["log"][-3000:]
    assert set(attack_run["grades"]) == set(STUDENTS)


def test_the_correct_students_keep_full_marks(attack_run):
    for student in ("a_correct", "z_correct"):
        auto = _auto(attack_run, student)
        assert sum(auto.values()) == FULL_AUTO, (student, auto)
        manual = {c: s for c, (s, _) in attack_run["grades"][student].items() if c.startswith("q_")}
        assert manual and all(s is None for s in manual.values()), manual   # still for a teacher


@pytest.mark.parametrize("student", ["b_gradebook", "c_symlinks", "d_label_lookup", "e_poisoner",
                                     "f_signaller", "g_lingerer", "h_snooper", "i_shadower",
                                     "j_worker_hijacker", "k_deep_json", "k_script"])
def test_an_attacker_without_an_implementation_earns_nothing(attack_run, student):
    auto = _auto(attack_run, student)
    assert auto and all(score == 0 for score in auto.values()), auto
    manual = {c: s for c, (s, _) in attack_run["grades"][student].items() if c.startswith("q_")}
    assert all(s in (None, 0) for s in manual.values()), manual


def test_nothing_outside_the_sandbox_was_reached(attack_run):
    course = attack_run["course"]
    assert attack_run["repo_unchanged"]
    text = _outputs_text(attack_run, "b_gradebook") + _outputs_text(attack_run, "e_poisoner")
    assert "EDITED" not in text and "POISONED" not in text and "refused" in text
    snooped = _outputs_text(attack_run, "h_snooper")
    assert SECRET not in snooped and "LEAKED" not in snooped and "found" in snooped
    assert str(course) not in snooped.replace(f"{course}/submitted/*", "")   # only its own scratch
    feedback = course / "feedback"
    assert not feedback.exists() or not any(SECRET in p.read_text(errors="replace")
                                           for p in feedback.rglob("h_snooper/**/*.html"))


def test_rejected_files_say_why(attack_run):
    links = _outputs_text(attack_run, "c_symlinks")
    assert "symbolic link" in links
    assert "deeper than" in _outputs_text(attack_run, "k_deep_json")


def test_no_process_of_the_sandbox_survives(attack_run):
    account = sandbox_account()
    # the sleepers g_lingerer left (other tests may be grading in sandboxes at the same time)
    left = subprocess.run(["pgrep", "-u", str(account.uid), "-a", "-f", "sleep 60[01]"],
                          capture_output=True, text=True)
    assert left.returncode == 1, left.stdout


def test_the_graders_measurement_replaces_the_kernels(attack_run):
    text = _outputs_text(attack_run, "a_correct")
    assert "measured by the grader" in text
    assert "no assignment `BEST_RECIPE = ...`" in _outputs_text(attack_run, "d_label_lookup")


def test_a_hung_or_slow_class_costs_only_its_own_points_within_the_budget(attack_run):
    hung, slow = _auto(attack_run, "l_hung_linear"), _auto(attack_run, "m_slow_linear")
    for auto in (hung, slow):
        assert auto["test_best_model_accuracy"] == 0 and auto["test_training_loss_decreases"] == 0
        for cell in ("test_relu", "test_softmax", "test_batchnormalization", "test_adam_optimizer"):
            assert auto[cell] > 0, (cell, auto)
    assert hung["test_linear"] == 0
    # a correct but slow Linear earns [2]'s points (its tiny cases are fast enough); the grader's
    # re-training of [0] is bounded in time, and says so
    assert slow["test_linear"] == 2
    slow_text = _outputs_text(attack_run, "m_slow_linear")
    assert "could not train BEST_RECIPE" in slow_text and "did not return within 20 s" in slow_text


def test_every_student_stays_within_the_budget(attack_run):
    ran = {}
    student = None
    for line in attack_run["log"].splitlines():
        m = re.search(r"Autograding .*/autograded/([^/]+)/task8/", line)
        if m:
            student = m.group(1)
        m = re.search(r"\] (\S+) ran ([0-9.]+) s of its", line)
        if m and student:
            ran[student] = ran.get(student, 0.0) + float(m.group(2))
    assert set(ran) == set(STUDENTS) - {"c_symlinks"} or set(ran) == set(STUDENTS), ran
    print("seconds per student:", json.dumps({k: round(v, 1) for k, v in ran.items()}))
    assert max(ran.values()) <= STUDENT_BUDGET - 20, ran     # 20 s: the grader's re-training
    assert attack_run["seconds"] <= STUDENT_BUDGET * len(STUDENTS)


def test_student_html_and_scripts_are_inert_in_the_feedback(attack_run):
    assert attack_run["feedback_code"] == 0
    pages = list((attack_run["course"] / "feedback" / "k_script").rglob("*.html"))
    assert len(pages) == 3
    html = "\n".join(p.read_text() for p in pages)
    assert "alert('pwned')" in html.replace("&#x27;", "'").replace("&#39;", "'")   # shown as text
    active = _ActiveHTML()
    active.feed(html)
    assert not active.found, active.found


class _ActiveHTML(HTMLParser):
    """What a browser would run of the payloads: scripts, event handlers, javascript: links."""

    def __init__(self):
        super().__init__()
        self.found, self._in_script = [], False

    def handle_starttag(self, tag, attrs):
        self._in_script = tag == "script"
        for name, value in attrs:
            if name.startswith("on") and "alert" in (value or ""):
                self.found.append((tag, name, value))
            if name in ("href", "src") and (value or "").strip().lower().startswith("javascript:"):
                self.found.append((tag, name, value))

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script and "alert(" in data:
            self.found.append(("script", data[:200]))
