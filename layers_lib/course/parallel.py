"""Parallel `nbgrader autograde`: one nbgrader process per student, N at a time.

    python -m layers_lib.course.parallel autograde ASSIGNMENT [--workers N] [--root DIR]
                                 [--student GLOB] [--transport ipc|tcp] [nbgrader options ...]

nbgrader grades students one after another (jupyter/nbgrader#174), and its SQLite gradebook
is not safe with concurrent writers. Here every student is graded by its own
`nbgrader autograde ASSIGNMENT --student S --CourseDirectory.db_url=<shard>` process, where the
shard is a private copy of the course gradebook taken before any worker starts. When a worker
ends, this process alone copies what autograde wrote for that student (the submission's
timestamp, the notebooks' late penalties, every grade's `auto_score` and `needs_manual_grade`,
every comment's `auto_comment`) from the shard into the course gradebook, through nbgrader's
API. Manual scores already in the gradebook are kept, exactly as a serial re-autograde keeps
them. Each student writes only `autograded/<student>/`, so the workers never share a file.

Other options (`--force`, `--Execute.timeout=60`, ...) are passed on to every nbgrader process;
do not pass database options. Kernels talk over IPC sockets by default (`--transport ipc`):
with TCP, two nbgrader processes choosing free ports at the same moment can hand the same port
to two kernels. The exit code is 0 when every student's nbgrader exited 0, else 1 (the failed
students are listed), like nbgrader's own exit code.
"""
import argparse
import glob
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import warnings
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry
from sqlalchemy.exc import SAWarning


@dataclass
class WorkerResult:
    student: str
    returncode: int
    seconds: float
    log: str
    merged: bool = False


def course_directory(root):
    """The CourseDirectory configured by root/nbgrader_config.py (db_url, directory layout)."""
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader

    root = Path(root).resolve()
    config = Config()
    if (root / "nbgrader_config.py").exists():
        config = PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
    here = os.getcwd()
    os.chdir(root)                          # CourseDirectory.root defaults to the cwd
    try:
        coursedir = CourseDirectory(config=config)
        if "root" not in config.get("CourseDirectory", {}):
            coursedir.root = str(root)
        coursedir.db_url                    # resolve the default db_url while in root
    finally:
        os.chdir(here)
    return coursedir


def submitted_students(coursedir, assignment, pattern="*"):
    """Student ids with a submission of `assignment` matching the glob `pattern`, sorted."""
    found = glob.glob(coursedir.format_path(coursedir.submitted_directory, pattern, assignment))
    prefix, suffix = coursedir.format_path(coursedir.submitted_directory, "\0", assignment).split("\0")
    students = [p[len(prefix):len(p) - len(suffix)] for p in found if os.path.isdir(p)]
    return sorted(s for s in students if s and os.sep not in s)


def sqlite_path(db_url):
    if not db_url.startswith("sqlite:///"):
        raise SystemExit(f"layers_lib.course.parallel shards SQLite gradebooks only, not {db_url!r} "
                         "(with a server database, run nbgrader processes directly)")
    return Path(db_url[len("sqlite:///"):])


def snapshot(db_file, target):
    """A consistent copy of an SQLite file (the backup API, safe even with a reader open)."""
    with sqlite3.connect(db_file) as src, sqlite3.connect(target) as dst:
        src.backup(dst)


def merge_submission(shard_url, master_url, assignment, student):
    """Copy what autograde wrote for (assignment, student) from a shard into the master
    gradebook. Returns False when the shard holds no such submission."""
    with Gradebook(shard_url) as src:
        try:
            submission = src.find_submission(assignment, student)
        except MissingEntry:
            return False
        person = src.find_student(student)
        fields = {k: getattr(person, k) for k in ("first_name", "last_name", "email", "lms_user_id")}
        timestamp = submission.timestamp
        notebooks = {nb.name: (nb.late_submission_penalty,
                               {g.name: (g.auto_score, g.needs_manual_grade) for g in nb.grades},
                               {c.name: c.auto_comment for c in nb.comments})
                     for nb in submission.notebooks}
    with Gradebook(master_url) as dst, warnings.catch_warnings():
        # nbgrader's add_submission triggers a harmless SQLAlchemy autoflush warning (also
        # printed by nbgrader's own autograde); it is a RuntimeWarning, which tests make errors
        warnings.simplefilter("ignore", SAWarning)
        dst.update_or_create_student(student, **fields)
        extra = {"timestamp": timestamp} if timestamp is not None else {}
        dst.update_or_create_submission(assignment, student, **extra)
        for name, (penalty, grades, comments) in notebooks.items():
            nb = dst.find_submission_notebook(name, assignment, student)
            nb.late_submission_penalty = penalty
            for cell, (auto_score, needs_manual) in grades.items():
                grade = dst.find_grade(cell, name, assignment, student)
                grade.auto_score, grade.needs_manual_grade = auto_score, needs_manual
            for cell, auto_comment in comments.items():
                dst.find_comment(cell, name, assignment, student).auto_comment = auto_comment
        dst.db.commit()
    return True


def _nbgrader_env():
    """The environment of layers_lib.course.pipeline.nbgrader: alembic on PATH, one BLAS thread."""
    env = dict(os.environ)
    # nbgrader runs `alembic` as a program: the interpreter's bin directory must be on PATH
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    env.setdefault("OMP_NUM_THREADS", "1")
    return env


def _grade_one(root, assignment, student, shard, log_file, nbgrader_args, ipc_prefix):
    args = [sys.executable, "-m", "nbgrader", "autograde", assignment,
            "--student", glob.escape(student), f"--CourseDirectory.db_url=sqlite:///{shard}"]
    if ipc_prefix:
        # an absolute socket prefix of its own: a relative one resolves against the kernel's cwd
        # (the student's autograded dir) on one side and nbgrader's (the course root) on the other
        Path(ipc_prefix).parent.mkdir(parents=True, exist_ok=True)
        args += ["--KernelManager.transport=ipc", f"--KernelManager.ip={ipc_prefix}"]
    args += list(nbgrader_args)
    start = time.perf_counter()
    with open(log_file, "w", encoding="utf-8") as log:
        log.write(f"$ nbgrader {' '.join(args[3:])}\n")
        log.flush()
        code = subprocess.run(args, cwd=root, env=_nbgrader_env(), stdout=log,
                              stderr=subprocess.STDOUT).returncode
    return code, time.perf_counter() - start


def autograde(root, assignment, workers=None, students="*", nbgrader_args=(), transport="ipc",
              log=print, logfile=None):
    """Autograde every submitted student of `assignment` in `root` with `workers` processes.

    Returns {student: WorkerResult}. nbgrader's output goes to `logfile` (default
    root/nbgrader.log), one block per student in student order.
    """
    root = Path(root).resolve()
    coursedir = course_directory(root)
    master = sqlite_path(coursedir.db_url)
    if not master.exists():
        raise SystemExit(f"no gradebook at {master}: run `nbgrader generate_assignment {assignment}` first")
    names = submitted_students(coursedir, assignment, students)
    workers = max(1, workers or os.cpu_count() or 1)
    results = {}
    with tempfile.TemporaryDirectory(prefix="autograde-shards-") as tmp:
        tmp = Path(tmp)
        snapshot(master, tmp / "snapshot.db")
        shards = {}
        for k, student in enumerate(names):
            shards[student] = tmp / f"shard-{k}.db"
            shutil.copyfile(tmp / "snapshot.db", shards[student])
        if transport == "ipc" and len(str(tmp / f"ipc-{len(names)}" / "k-99999")) > 100:
            log("the temporary directory is too deep for IPC socket paths: using TCP")
            transport = "tcp"
        log(f"autograding {len(names)} students of {assignment} with {workers} workers")
        master_url = f"sqlite:///{master}"
        with ThreadPoolExecutor(max_workers=workers) as pool:
            futures = {pool.submit(_grade_one, root, assignment, s, shards[s], tmp / f"log-{k}.txt",
                                   nbgrader_args, tmp / f"ipc-{k}" / "k" if transport == "ipc" else None):
                       (k, s) for k, s in enumerate(names)}
            for done, future in enumerate(as_completed(futures), 1):
                k, student = futures[future]
                code, seconds = future.result()
                result = WorkerResult(student, code, seconds, (tmp / f"log-{k}.txt").read_text(errors="replace"))
                # the single writer: only this thread touches the course gradebook
                result.merged = merge_submission(f"sqlite:///{shards[student]}", master_url, assignment, student)
                results[student] = result
                log(f"[{done}/{len(names)}] {student}: {'ok' if code == 0 else f'exit code {code}'} "
                    f"({seconds:.1f} s){'' if result.merged else ', nothing to merge'}")
    with open(logfile or root / "nbgrader.log", "a", encoding="utf-8") as out:
        for student in names:
            out.write(f"\n# layers_lib.course.parallel: {student}\n{results[student].log}")
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["autograde"])
    parser.add_argument("assignment")
    parser.add_argument("--workers", "-j", type=int, default=None, help="default: the number of cores")
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="course directory (default: cwd)")
    parser.add_argument("--student", default="*", help="glob of student ids (default: all)")
    parser.add_argument("--transport", choices=["ipc", "tcp"], default="ipc")
    args, nbgrader_args = parser.parse_known_args(argv)
    start = time.perf_counter()
    results = autograde(args.root, args.assignment, args.workers, args.student, nbgrader_args,
                        transport=args.transport)
    failed = sorted(s for s, r in results.items() if r.returncode != 0)
    print(f"done in {time.perf_counter() - start:.1f} s: {len(results) - len(failed)} ok"
          + (f", failed: {', '.join(failed)} (see nbgrader.log)" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
