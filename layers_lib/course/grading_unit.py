"""The unit of autograde work: one student, graded in a throw-away course directory, anywhere.

    unit = pack_unit(root, assignment, student, snapshot)      # the single writer's side
    result = grade_unit(unit)                                   # any worker: a Dask worker, a local one
    write_result(root, result)                                  # the single writer again

A unit carries everything the grading needs (no shared filesystem): the course's
`nbgrader_config.py`, `source/<assignment>/`, a snapshot of the gradebook and the student's
`submitted/<student>/<assignment>/`. `grade_unit` rebuilds that course in a temporary directory
and runs nbgrader's `Autograde` converter in-process (as nbgrader's own formgrader API does; the
interpreter holds only trusted code and is reused by the next unit, the student's code runs only
in the sandboxed kernels, which are new for every notebook). It returns what autograde wrote for
that student: the gradebook record and the `autograded/` files. Only the writer touches the
course's gradebook and directories.
"""
import glob
import os
import platform
import shutil
import stat
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

MAX_SUBMISSION_BYTES = 100 * 2**20


@dataclass
class UnitResult:
    student: str
    ok: bool
    seconds: float
    log: str
    record: dict | None = None              # what autograde wrote to the gradebook for the student
    files: dict = field(default_factory=dict)   # autograded/<student>/<assignment>/: {relpath: bytes}
    worker: str = ""
    error: str = ""

    def score(self):
        """(auto score, max score) of the record, or None."""
        if not self.record:
            return None
        grades = [g for nb in self.record["notebooks"].values() for g in nb["grades"].values()]
        return sum(g[0] or 0 for g in grades), sum(g[2] for g in grades)

    def problems(self):
        return [line for line in self.log.splitlines() if line.startswith(("[WARNING]", "[ERROR]"))]


def _read_tree(directory, limit=MAX_SUBMISSION_BYTES):
    """{relative path: bytes} of the regular files below `directory`; links, devices and FIFOs
    are skipped (never followed), as are files past `limit` bytes in all."""
    files, skipped, total = {}, [], 0
    for path in sorted(Path(directory).rglob("*")):
        info = os.lstat(path)
        rel = path.relative_to(directory).as_posix()
        if stat.S_ISDIR(info.st_mode):
            continue
        if not stat.S_ISREG(info.st_mode) or total + info.st_size > limit:
            skipped.append(rel)
            continue
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        with os.fdopen(fd, "rb") as f:
            files[rel] = f.read()
        total += len(files[rel])
    return files, skipped


def _write_tree(directory, files):
    for rel, data in files.items():
        path = Path(directory) / rel
        if ".." in Path(rel).parts or Path(rel).is_absolute():
            raise ValueError(f"unsafe path in a unit: {rel!r}")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def pack_unit(coursedir, assignment, student, snapshot=None, config_args=()):
    """The unit of `student` (reads the course; `snapshot`: the gradebook's bytes, or None when
    they travel separately, once per worker)."""
    root = Path(coursedir.root)
    submitted = Path(coursedir.format_path(coursedir.submitted_directory, student, assignment))
    source = Path(coursedir.format_path(coursedir.source_directory, ".", assignment))
    submission, skipped = _read_tree(submitted)
    return {"assignment": assignment, "student": student, "config": (root / "nbgrader_config.py").read_bytes(),
            "source": _read_tree(source)[0], "submission": submission, "skipped": skipped,
            "gradebook": snapshot, "config_args": list(config_args)}


def config_options(args):
    """nbgrader options for every unit: `--Class.trait=value` settings (checked here, so a typo
    fails before anything is sent); `--force` is accepted, units always regrade."""
    from traitlets.config.loader import KVArgParseConfigLoader
    options = [a for a in args if a not in ("--force", "-f")]
    wrong = [a for a in options if not (a.startswith("--") and "." in a.split("=", 1)[0] and "=" in a)]
    if wrong:
        raise SystemExit(f"only --Class.trait=value options can be passed to the units: {' '.join(wrong)}")
    if any(a.split("=", 1)[0].startswith("--CourseDirectory.db_url") for a in options):
        raise SystemExit("--CourseDirectory.db_url cannot be passed: the writer owns the gradebook")
    KVArgParseConfigLoader(options).load_config()
    return options


def _load_config(root, config_args):
    from traitlets.config.loader import KVArgParseConfigLoader, PyFileConfigLoader
    config = PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
    if config_args:
        config.merge(KVArgParseConfigLoader(list(config_args)).load_config())
    config.CourseDirectory.root = str(root)
    config.CourseDirectory.db_url = f"sqlite:///{root / 'gradebook.db'}"
    return config


def grade_unit(unit, gradebook=None):
    """Autograde one packed student (`gradebook`: the snapshot's bytes when the unit does not
    carry them); returns a UnitResult. Raises only when this machine cannot grade at all."""
    from nbgrader.converters import Autograde
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.utils import capture_log
    start = time.perf_counter()
    assignment, student = unit["assignment"], unit["student"]
    with tempfile.TemporaryDirectory(prefix="task8-unit-") as tmp:
        root = Path(tmp)
        (root / "nbgrader_config.py").write_bytes(unit["config"])
        (root / "gradebook.db").write_bytes(unit["gradebook"] if gradebook is None else gradebook)
        # nbgrader runs `alembic` as a program: the interpreter's bin directory must be on PATH
        bindir = os.path.dirname(sys.executable)
        if bindir not in os.environ.get("PATH", "").split(os.pathsep):
            os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")
        config = _load_config(root, unit["config_args"])
        coursedir = CourseDirectory(config=config)
        _write_tree(coursedir.format_path(coursedir.source_directory, ".", assignment), unit["source"])
        submitted = coursedir.format_path(coursedir.submitted_directory, student, assignment)
        os.makedirs(submitted)
        _write_tree(submitted, unit["submission"])
        coursedir.assignment_id, coursedir.student_id = assignment, glob.escape(student)
        app = Autograde(coursedir=coursedir, config=config)
        app.force, app.create_student = True, True
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")     # nbgrader's SQLAlchemy autoflush warning
            outcome = capture_log(app)
        log = "".join(f"[WARNING] not sent to the grader: {rel} (a link, a device or too large)\n"
                      for rel in unit.get("skipped", ())) + outcome.get("log", "")
        record = read_record(f"sqlite:///{root / 'gradebook.db'}", assignment, student)
        autograded = coursedir.format_path(coursedir.autograded_directory, student, assignment)
        files = _read_tree(autograded)[0] if os.path.isdir(autograded) else {}
    return UnitResult(student, bool(outcome["success"]) and record is not None, time.perf_counter() - start,
                      log, record, files, worker=_worker_name(), error=outcome.get("error") or "")


def _worker_name():
    """The Dask worker's address when run by one, else the machine's name."""
    try:
        from distributed import get_worker
        return get_worker().address
    except (ImportError, ValueError):
        return platform.node()


def read_record(db_url, assignment, student):
    """What autograde wrote for (assignment, student), or None: the student's fields, the
    submission's timestamp, per notebook the late penalty, every grade's (auto_score,
    needs_manual_grade, max_score) and every comment's auto_comment."""
    from nbgrader.api import Gradebook, MissingEntry
    with Gradebook(db_url) as gb:
        try:
            submission = gb.find_submission(assignment, student)
        except MissingEntry:
            return None
        person = gb.find_student(student)
        return {"student": student, "assignment": assignment,
                "fields": {k: getattr(person, k) for k in ("first_name", "last_name", "email", "lms_user_id")},
                "timestamp": submission.timestamp,
                "notebooks": {nb.name: {"late_penalty": nb.late_submission_penalty,
                                        "grades": {g.name: (g.auto_score, g.needs_manual_grade, g.max_score)
                                                   for g in nb.grades},
                                        "comments": {c.name: c.auto_comment for c in nb.comments}}
                              for nb in submission.notebooks}}


def write_record(db_url, record):
    """The single writer: put a record into the course gradebook. Manual scores already there are
    kept, exactly as a serial re-autograde keeps them."""
    from nbgrader.api import Gradebook
    from sqlalchemy.exc import SAWarning
    assignment, student = record["assignment"], record["student"]
    with Gradebook(db_url) as gb, warnings.catch_warnings():
        warnings.simplefilter("ignore", SAWarning)      # nbgrader's harmless autoflush warning
        gb.update_or_create_student(student, **record["fields"])
        extra = {"timestamp": record["timestamp"]} if record["timestamp"] is not None else {}
        gb.update_or_create_submission(assignment, student, **extra)
        for name, nb in record["notebooks"].items():
            row = gb.find_submission_notebook(name, assignment, student)
            row.late_submission_penalty = nb["late_penalty"]
            for cell, (auto_score, needs_manual, _) in nb["grades"].items():
                grade = gb.find_grade(cell, name, assignment, student)
                grade.auto_score, grade.needs_manual_grade = auto_score, needs_manual
            for cell, auto_comment in nb["comments"].items():
                gb.find_comment(cell, name, assignment, student).auto_comment = auto_comment
        gb.db.commit()


def write_files(coursedir, assignment, result):
    """autograded/<student>/<assignment>/ from a result, replacing what was there (nbgrader's
    --force does the same); read-only like nbgrader's own."""
    target = Path(coursedir.format_path(coursedir.autograded_directory, result.student, assignment))
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    _write_tree(target, result.files)
    for path in target.rglob("*"):
        if path.is_file():
            path.chmod(0o444)


def environment_fingerprint():
    """What must agree between the writer and every worker: Python, nbgrader, the grader's runtime
    (the kit and the hidden checks), and the sandbox tools."""
    import nbgrader
    from .sandbox.runtime import runtime_tree
    tree = runtime_tree("grader")
    tools = [name for name in ("bwrap", "setpriv", "prlimit") if not shutil.which(name)]
    return {"python": platform.python_version(), "nbgrader": nbgrader.__version__,
            "runtime": os.path.basename(tree), "missing_tools": tools,
            "executable": sys.executable}


def environment_problem(expected):
    """None when this worker can grade like the writer, else what is wrong (a sentence)."""
    try:
        mine = environment_fingerprint()
    except Exception as exc:                            # e.g. nbgrader or layers_lib not importable
        return f"the course environment does not load: {type(exc).__name__}: {exc}"
    if mine["missing_tools"]:
        return f"the sandbox tools are missing: {', '.join(mine['missing_tools'])} (apt-get install bubblewrap util-linux)"
    for key, what in (("python", "Python"), ("nbgrader", "nbgrader"), ("runtime", "layers_lib (kit + hidden checks)")):
        if mine[key] != expected[key]:
            return f"{what} differs: {mine[key]} here, {expected[key]} on the writer"
    return None
