"""Per-student cost of the autograde sandbox: the same submissions graded with and without it.

    python benchmarks/bench_sandbox.py [--rounds 3] [--students ada_complete,ben_blank] [--json PATH]

Two throw-away course directories (the repo's nbgrader_config.py, all three notebooks) get the
same demo students; each round grades both, alternating which goes first, one with the sandbox
(the course's config) and one with `--SandboxedExecute.sandbox=False` (kernels as the grader's
own user; the budgets and the grader's re-training stay). Prints seconds per student for both,
the overhead, and the seconds each notebook took from the nbgrader log. The scores must agree.
"""
import argparse
import json
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from corpus.course import make_course, submit  # noqa: E402
from layers_lib.course import pipeline  # noqa: E402

NOTEBOOKS = ("[0]task8_train_model.ipynb", "[1]task8_modules.ipynb", "[2]task8_test_modules.ipynb")


def grade(root, sandbox):
    (root / "nbgrader.log").unlink(missing_ok=True)
    extra = [] if sandbox else ["--SandboxedExecute.sandbox=False"]
    start = time.perf_counter()
    code = pipeline.nbgrader(root, "autograde", "task8", "--force", *extra)
    seconds = time.perf_counter() - start
    notebooks = {}
    for name, took in re.findall(r"\] (\S+) ran ([0-9.]+) s of its", (root / "nbgrader.log").read_text()):
        notebooks.setdefault(name, []).append(float(took))
    return code, seconds, notebooks


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--students", default="ada_complete,ben_blank")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    students = args.students.split(",")
    with tempfile.TemporaryDirectory(prefix="bench-sandbox-") as tmp:
        courses = {}
        for mode in ("sandbox", "plain"):
            root = make_course(Path(tmp) / mode, notebooks=NOTEBOOKS)
            for student in students:
                submit(root, student, ROOT / "demo_submissions" / student, notebooks=NOTEBOOKS)
            courses[mode] = root
        times = {"sandbox": [], "plain": []}
        per_notebook = {"sandbox": {}, "plain": {}}
        for k in range(args.rounds):
            order = ("sandbox", "plain") if k % 2 == 0 else ("plain", "sandbox")
            for mode in order:
                code, seconds, notebooks = grade(courses[mode], mode == "sandbox")
                if code != 0:
                    raise SystemExit(f"autograde failed ({mode}); see {courses[mode] / 'nbgrader.log'}")
                times[mode].append(seconds / len(students))
                for name, values in notebooks.items():
                    per_notebook[mode].setdefault(name, []).extend(values)
        scores = {mode: pipeline.scores(root) for mode, root in courses.items()}
    same = scores["sandbox"] == scores["plain"]
    result = {mode: statistics.median(values) for mode, values in times.items()}
    overhead = result["sandbox"] - result["plain"]
    print(f"seconds per student (median of {args.rounds}, {len(students)} students: {', '.join(students)})")
    print(f"  sandbox {result['sandbox']:.1f} s, plain {result['plain']:.1f} s, overhead "
          f"{overhead:+.1f} s ({result['sandbox'] / result['plain']:.2f}x)")
    for name in sorted(per_notebook["sandbox"]):
        s, p = (statistics.median(per_notebook[m].get(name, [float('nan')])) for m in ("sandbox", "plain"))
        print(f"  {name}: sandbox {s:.1f} s, plain {p:.1f} s (median per student)")
    print(f"identical scores: {same}")
    if args.json:
        args.json.write_text(json.dumps({"per_student": result, "overhead": overhead,
                                         "per_notebook": per_notebook, "identical": same}, indent=1))
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
