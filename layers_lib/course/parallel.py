"""Autograde a class on many cores or many machines: one unit per student, one writer.

    python -m layers_lib.course.parallel autograde ASSIGNMENT [--workers N] [--scheduler ADDRESS]
                                 [--root DIR] [--student GLOB] [nbgrader options ...]

nbgrader grades students one after another (jupyter/nbgrader#174), and its SQLite gradebook is
not safe with concurrent writers. Here each student is a unit of work
(`layers_lib.course.grading_unit`): the course's configuration, `source/`, a snapshot of the
gradebook taken before anything starts and the student's submission travel with the task, a
worker grades it in a throw-away course directory (nbgrader's Autograde, every kernel in the
sandbox) and sends back what autograde wrote. This process alone writes the results into the
course gradebook and `autograded/`, in the order they arrive. Manual scores already in the
gradebook are kept, exactly as a serial re-autograde keeps them.

The units run on Dask (`distributed`): `--scheduler tcp://HOST:PORT` sends them to an existing
cluster (the workers need the course environment only: this repository installed, bubblewrap;
no shared filesystem); without it a local cluster of `--workers` processes (default: the
number of cores) is started and stopped. Before grading, every worker's environment is compared
with this one (Python, nbgrader, the grader's runtime, the sandbox tools); a worker that differs
is reported and gets no unit. A worker that dies in the middle of a student loses nothing: Dask
runs the unit again elsewhere and its result is written once. Other options (`--force`,
`--Execute.timeout=60`, ...) apply to every unit; do not pass database options. The exit code is
0 when every student was graded, else 1 (the students are listed), like nbgrader's own.
"""
import argparse
import datetime
import glob
import os
import sqlite3
import sys
import time
from pathlib import Path

from .grading_unit import (UnitResult, config_options, environment_fingerprint, environment_problem,
                           grade_unit, pack_unit, write_files, write_record)


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


def snapshot(db_file):
    """The bytes of a consistent copy of an SQLite file (the backup API, safe even with a reader
    open), made in memory."""
    src, dst = sqlite3.connect(db_file), sqlite3.connect(":memory:")
    try:
        src.backup(dst)
        return dst.serialize()
    finally:
        src.close()
        dst.close()


def _cluster(scheduler, workers, log):
    """(client, cluster or None): the scheduler's, or a local cluster of `workers` processes."""
    from distributed import Client, LocalCluster
    if scheduler:
        client = Client(scheduler, timeout="30s")
        log(f"connected to the Dask scheduler at {scheduler}")
        return client, None
    import dask
    dask.config.set({"logging.distributed": "error"})
    # None does not turn the dashboard off (dask/distributed#8136): it takes 8787 and warns when
    # another cluster holds it; a free local port never clashes
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                           dashboard_address="127.0.0.1:0", silence_logs=40)
    return Client(cluster), cluster


def usable_workers(client, log):
    """The workers whose environment grades like this one; the others are reported."""
    problems = client.run(environment_problem, environment_fingerprint())
    for address, problem in sorted(problems.items()):
        if problem:
            log(f"worker {address} is not used: {problem}")
    good = sorted(a for a, p in problems.items() if p is None)
    if not good:
        raise SystemExit("no Dask worker can grade (see above): nothing was graded")
    return good


def _line(done, total, result, started):
    elapsed = time.perf_counter() - started
    eta = datetime.timedelta(seconds=round(elapsed / done * (total - done)))
    score = result.score()
    what = (f"{score[0]:g} / {score[1]:g}" if score else "not graded") + f", {result.seconds:.1f} s"
    problems = result.problems()
    if problems:
        what += f", {len(problems)} problem{'s' * (len(problems) > 1)}: {problems[0][:100]}"
    if result.error and not result.ok:
        what += f", error: {result.error.strip().splitlines()[-1][:120]}"
    return f"[{done}/{total}, ETA {eta}] {result.student}: {what}"


def _same(data):
    return data


def autograde(root, assignment, workers=None, students="*", nbgrader_args=(), scheduler=None,
              log=print, logfile=None):
    """Autograde every submitted student of `assignment` in `root` on Dask (the cluster at
    `scheduler`, or a local one of `workers` processes). Returns {student: UnitResult}.
    nbgrader's output goes to `logfile` (default root/nbgrader.log), one block per student."""
    from distributed import as_completed
    root = Path(root).resolve()
    coursedir = course_directory(root)
    master = sqlite_path(coursedir.db_url)
    if not master.exists():
        raise SystemExit(f"no gradebook at {master}: run `nbgrader generate_assignment {assignment}` first")
    names = submitted_students(coursedir, assignment, students)
    options = config_options(nbgrader_args)
    workers = max(1, workers or os.cpu_count() or 1)
    gradebook = snapshot(master)
    client, cluster = _cluster(scheduler, workers, log)
    results, started = {}, time.perf_counter()
    try:
        good = usable_workers(client, log)
        log(f"autograding {len(names)} students of {assignment} on {len(good)} Dask workers")
        # a task, not scattered data: Dask can compute it again when the worker holding it dies
        shared = client.submit(_same, gradebook, key=f"gradebook-snapshot-{assignment}", workers=good)
        futures = {client.submit(grade_unit, pack_unit(coursedir, assignment, s, config_args=options),
                                 shared, key=f"autograde-{assignment}-{k}", workers=good,
                                 allow_other_workers=False, pure=False): s
                   for k, s in enumerate(names)}
        master_url = f"sqlite:///{master}"
        for done, future in enumerate(as_completed(futures), 1):
            student = futures[future]
            try:
                result = future.result()
            except Exception as exc:        # the unit itself failed (KilledWorker, a broken worker)
                result = UnitResult(student, False, 0.0, "", error=f"{type(exc).__name__}: {exc}")
            if result.record is not None:   # the single writer
                write_record(master_url, result.record)
                write_files(coursedir, assignment, result)
            results[student] = result
            log(_line(done, len(names), result, started))
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    with open(logfile or root / "nbgrader.log", "a", encoding="utf-8") as out:
        for student in names:
            r = results[student]
            out.write(f"\n# layers_lib.course.parallel: {student} (worker {r.worker or '?'})\n{r.log}{r.error}")
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["autograde"])
    parser.add_argument("assignment")
    parser.add_argument("--workers", "-j", type=int, default=None,
                        help="processes of the local cluster (default: the number of cores)")
    parser.add_argument("--scheduler", help="a Dask scheduler's address, e.g. tcp://10.0.0.5:8786 "
                                            "(default: start a local cluster)")
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="course directory (default: cwd)")
    parser.add_argument("--student", default="*", help="glob of student ids (default: all)")
    args, nbgrader_args = parser.parse_known_args(argv)
    start = time.perf_counter()
    results = autograde(args.root, args.assignment, args.workers, args.student, nbgrader_args,
                        scheduler=args.scheduler)
    failed = sorted(s for s, r in results.items() if not r.ok)
    print(f"done in {time.perf_counter() - start:.1f} s: {len(results) - len(failed)} graded"
          + (f", not graded: {', '.join(failed)} (see nbgrader.log)" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
