"""Serial `nbgrader autograde` vs `python -m layers_lib.course.parallel autograde` on N students.

    python benchmarks/bench_autograde.py [--students 20] [--workers 2] [--notebooks 12|012]
                                         [--keep DIR] [--json PATH]

The six demo submissions are copied round-robin to N students (demo01_ada_complete, ...) in two
identical throw-away course directories (the repo's nbgrader_config.py and source/task8); one is
graded serially, the other by the parallel runner. Prints both wall times, the speed-up, and
checks that both gradebooks hold the same grades. By default only [1] and [2] are graded
(`--notebooks 012` adds the training notebook [0], which the demo students have too).
Other processes on the machine slow both runs: compare numbers from the same quiet machine.
"""
import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from corpus.course import gradebook_dump, make_course, submit  # noqa: E402
from layers_lib.course import parallel, pipeline  # noqa: E402

NOTEBOOKS = {"0": "[0]task8_train_model.ipynb", "1": "[1]task8_modules.ipynb", "2": "[2]task8_test_modules.ipynb"}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--notebooks", default="12", help="which of [0] [1] [2] to grade (default 12)")
    parser.add_argument("--keep", type=Path, help="build the two courses here and keep them")
    parser.add_argument("--json", type=Path, help="also write the timings as JSON")
    args = parser.parse_args(argv)
    notebooks = tuple(NOTEBOOKS[k] for k in sorted(args.notebooks))
    demos = sorted(p.name for p in (ROOT / "demo_submissions").iterdir() if p.is_dir())
    students = [f"demo{k + 1:02d}_{demos[k % len(demos)]}" for k in range(args.students)]

    base = args.keep or Path(tempfile.mkdtemp(prefix="bench-autograde-"))
    courses = {}
    for mode in ("serial", "parallel"):
        root = make_course(base / mode, notebooks)
        for student in students:
            submit(root, student, ROOT / "demo_submissions" / student.split("_", 1)[1], notebooks)
        courses[mode] = root

    print(f"{len(students)} students x {len(notebooks)} notebooks, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.2f}")
    start = time.perf_counter()
    code = pipeline.nbgrader(courses["serial"], "autograde", "task8", "--force")
    serial = time.perf_counter() - start
    print(f"serial   nbgrader autograde:                     {serial:7.1f} s (exit {code})")
    start = time.perf_counter()
    results = parallel.autograde(courses["parallel"], "task8", workers=args.workers,
                                 nbgrader_args=["--force"], log=lambda *a: None)
    sharded = time.perf_counter() - start
    failed = sorted(s for s, r in results.items() if r.returncode != 0)
    print(f"parallel layers_lib.course.parallel --workers {args.workers}:        {sharded:7.1f} s"
          + (f" (failed: {', '.join(failed)})" if failed else ""))
    print(f"speed-up {serial / sharded:.2f}x; per student {serial / len(students):.1f} s serial, "
          f"{sharded / len(students):.1f} s parallel; load average now {os.getloadavg()[0]:.2f}")
    same = gradebook_dump(courses["serial"]) == gradebook_dump(courses["parallel"])
    print(f"gradebooks identical: {same}")
    if args.json:
        args.json.write_text(json.dumps({"students": len(students), "notebooks": list(notebooks),
                                         "workers": args.workers, "serial_s": serial,
                                         "parallel_s": sharded, "speedup": serial / sharded,
                                         "identical": same}, indent=1))
    if not args.keep:
        import shutil
        shutil.rmtree(base, ignore_errors=True)
    return 0 if same and code == 0 and not failed else 1


if __name__ == "__main__":
    sys.exit(main())
