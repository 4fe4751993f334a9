"""The whole instructor pipeline on the bundled demo submissions (the README's `./dev run`).

generate_assignment -> submissions into submitted/<student>/task8 -> autograde ->
generate_feedback -> export grades.csv -> a score table per student and per graded cell.

    python -m layers_lib.course.pipeline [--root DIR] [--students a,b] [--workers N] [--json PATH]

Autograde is plain serial `nbgrader autograde`, or with --workers N the Dask runner
(`layers_lib.course.parallel`, a local cluster of N processes): the same gradebook, faster.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from .paths import ASSIGNMENT, ROOT


def nbgrader(root, *args):
    """Run an nbgrader command in the course root; its log goes to root/nbgrader.log."""
    env = dict(os.environ)
    # nbgrader runs `alembic` as a program: the venv's bin must be on PATH.
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    # The notebooks' matrices are small: one BLAS thread per kernel is faster than two fighting
    # over two cores (and leaves a core to a parallel autograde worker).
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    env.setdefault("OMP_NUM_THREADS", "1")
    with open(root / "nbgrader.log", "a", encoding="utf-8") as log:
        log.write(f"\n$ nbgrader {' '.join(args)}\n")
        log.flush()
        proc = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=root, env=env,
                              stdout=log, stderr=subprocess.STDOUT)
    return proc.returncode


def demo_submissions(root):
    """The course's own demo_submissions/ (a `build --into DIR` course has the submissions of its
    variant), else the repository's."""
    own = Path(root) / "demo_submissions"
    return own if own.is_dir() else ROOT / "demo_submissions"


def prepare(root, students, source=None):
    """A fresh course directory state: no gradebook, submissions copied from `source`
    (default: demo_submissions(root))."""
    source = Path(source) if source else demo_submissions(root)
    unknown = [s for s in students if not (source / s).is_dir()]
    if unknown:
        known = ", ".join(sorted(p.name for p in source.iterdir() if p.is_dir()))
        raise ValueError(f"no submission for {', '.join(unknown)} in {source} (there are: {known})")
    for name in ("gradebook.db", "grades.csv", "nbgrader.log"):
        (root / name).unlink(missing_ok=True)
    for step in ("submitted", "autograded", "feedback"):
        for child in (root / step).glob("*"):        # autograded/.gitkeep stays
            if child.is_dir():
                shutil.rmtree(child)
    for student in students:
        target = root / "submitted" / student / ASSIGNMENT
        target.mkdir(parents=True)
        for nb in sorted((source / student).glob("*.ipynb")):
            shutil.copy(nb, target / nb.name)
        (target / "timestamp.txt").write_text("2026-11-20 12:00:00.000000 UTC\n")


def scores(root):
    """{student: {grade_id: (score, max_score)}} read from the gradebook; score is None for a
    written answer that waits for a teacher (manual grading)."""
    from nbgrader.api import Gradebook
    table = {}
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        for submission in gb.assignment_submissions(ASSIGNMENT):
            cells = {}
            for nb in submission.notebooks:
                for grade in nb.grades:
                    score = None if grade.needs_manual_grade else grade.score
                    cells[grade.name] = (score, grade.max_score)
            table[submission.student_id] = cells
    return table


def format_table(table):
    students = sorted(table)
    cells = sorted({c for row in table.values() for c in row})
    width = max([len(c) for c in cells] + [8])
    head = " " * width + " | " + " | ".join(f"{s[:12]:>12}" for s in students)
    lines = [head, "-" * len(head)]
    for cell in cells:
        row = []
        for s in students:
            score, top = table[s].get(cell, (None, None))
            row.append(f"{f'?/{top:g}' if score is None else f'{score:g}/{top:g}':>12}")
        lines.append(f"{cell:<{width}} | " + " | ".join(row))
    totals = [sum(v[0] or 0 for v in table[s].values()) for s in students]
    maxima = [sum(v[1] for v in table[s].values()) for s in students]
    lines.append("-" * len(head))
    lines.append(f"{'TOTAL (? = manual grading)':<{width}} | " + " | ".join(f"{f'{t:g}/{m:g}':>12}" for t, m in zip(totals, maxima)))
    return "\n".join(lines)


def run(root=ROOT, students=None, log=print, workers=None):
    root = Path(root)
    students = students or sorted(p.name for p in demo_submissions(root).iterdir() if p.is_dir())
    timings = {}
    prepare(root, students)
    for label, args in [("generate_assignment", ("generate_assignment", ASSIGNMENT, "--force")),
                        ("autograde", ("autograde", ASSIGNMENT, "--force")),
                        ("generate_feedback", ("generate_feedback", ASSIGNMENT, "--force")),
                        ("export", ("export", "--to", str(root / "grades.csv")))]:
        start = time.perf_counter()
        if label == "autograde" and workers:
            log(f"== autograde on a local Dask cluster of {workers} workers (layers_lib.course.parallel)")
            from . import parallel
            results = parallel.autograde(root, ASSIGNMENT, workers=workers, nbgrader_args=["--force"],
                                         log=lambda line: log("   " + line))
            code = 0 if all(r.ok for r in results.values()) else 1
        else:
            log(f"== nbgrader {label}")
            code = nbgrader(root, *args)
        timings[label] = time.perf_counter() - start
        if code != 0:
            log(f"   exit code {code} (see {root / 'nbgrader.log'}); continuing")
    table = scores(root)
    feedback = {s: sorted(p.name for p in (root / "feedback" / s / ASSIGNMENT).glob("*.html"))
                for s in students}
    return {"scores": table, "timings": timings, "feedback": feedback}


def where_things_are(root, feedback):
    """What an instructor looks at next, and where it is."""
    pages = sum(len(f) for f in feedback.values())
    return "\n".join([
        f"feedback:  {root / 'feedback'}/<student>/{ASSIGNMENT}/*.html ({pages} pages for {len(feedback)} students)",
        f"grades:    {root / 'grades.csv'} (nbgrader export), gradebook {root / 'gradebook.db'}",
        f"log:       {root / 'nbgrader.log'}",
        f"state:     python -m layers_lib.course.status --root {root}",
        "formgrader (manual grading of [0]'s written answers): in the course directory run",
        "           jupyter lab --ServerApp.ip=127.0.0.1",
        "           and open the URL it prints with /lab replaced by /formgrader, in its own browser tab",
        "           (Lab's Nbgrader > Formgrader menu shows it in an iframe, which JupyterHub may block:",
        "           jupyter/nbgrader#1870)",
    ])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--root", type=Path, default=ROOT, help="course directory (default: the repo)")
    parser.add_argument("--students", help="comma-separated subset of demo_submissions/")
    parser.add_argument("--workers", type=int, help="autograde on a local Dask cluster of N processes")
    parser.add_argument("--json", type=Path, help="also write the scores and timings as JSON")
    args = parser.parse_args(argv)
    students = args.students.split(",") if args.students else None
    try:
        result = run(args.root, students, workers=args.workers)
    except ValueError as exc:
        parser.error(str(exc))
    print(format_table(result["scores"]))
    print("\ntimings: " + ", ".join(f"{k} {v:.1f} s" for k, v in result["timings"].items()))
    print(where_things_are(args.root.resolve(), result["feedback"]))
    if args.json:
        args.json.write_text(json.dumps({"scores": {s: {c: list(v) for c, v in row.items()}
                                                    for s, row in result["scores"].items()},
                                         "timings": result["timings"]}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
