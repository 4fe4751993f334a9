"""Serial `nbgrader autograde` vs `python -m layers_lib.course.parallel autograde` on N students.

    python benchmarks/bench_autograde.py [--students 20] [--workers 1,2] [--notebooks 012|12]
                                         [--keep DIR] [--json PATH]

The six demo submissions are copied round-robin to N students (demo01_ada_complete, ...) in
identical throw-away course directories (the repo's nbgrader_config.py and source/task8); one is
graded by serial `nbgrader autograde`, each other one by a local Dask cluster of W worker
processes (for every W of --workers; the time includes starting the cluster). Prints the wall
times, the throughput relative to serial (the issue's target: at least 0.9 W on W cores) and
checks that every gradebook is the serial one. Other processes on the machine slow every run:
the load average is printed before and after.
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
    parser.add_argument("--workers", default="1,2", help="local cluster sizes to run (default 1,2)")
    parser.add_argument("--notebooks", default="012", help="which of [0] [1] [2] students submit (default 012)")
    parser.add_argument("--keep", type=Path, help="build the courses here and keep them")
    parser.add_argument("--json", type=Path, help="also write the timings as JSON")
    args = parser.parse_args(argv)
    sizes = [int(w) for w in args.workers.split(",")]
    notebooks = tuple(NOTEBOOKS[k] for k in sorted(args.notebooks))
    demos = sorted(p.name for p in (ROOT / "demo_submissions").iterdir() if p.is_dir())
    students = [f"demo{k + 1:02d}_{demos[k % len(demos)]}" for k in range(args.students)]

    base = args.keep or Path(tempfile.mkdtemp(prefix="bench-autograde-"))
    courses = {}
    for mode in ["serial"] + [f"dask{w}" for w in sizes]:
        root = make_course(base / mode, notebooks)
        for student in students:
            submit(root, student, ROOT / "demo_submissions" / student.split("_", 1)[1], notebooks)
        courses[mode] = root

    print(f"{len(students)} students x {len(notebooks)} notebooks, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.2f}")
    start = time.perf_counter()
    code = pipeline.nbgrader(courses["serial"], "autograde", "task8", "--force")
    serial = time.perf_counter() - start
    print(f"serial nbgrader autograde:              {serial:7.1f} s, {serial / len(students):5.2f} s a student "
          f"(exit {code})")
    reference = gradebook_dump(courses["serial"])
    report = {"students": len(students), "notebooks": list(notebooks), "serial_s": serial, "dask": {}}
    ok = code == 0
    for w in sizes:
        start = time.perf_counter()
        results = parallel.autograde(courses[f"dask{w}"], "task8", workers=w, nbgrader_args=["--force"],
                                     log=lambda *a: None)
        seconds = time.perf_counter() - start
        failed = sorted(s for s, r in results.items() if not r.ok)
        same = gradebook_dump(courses[f"dask{w}"]) == reference
        ratio = serial / seconds
        print(f"local Dask cluster, {w} worker{'s' * (w > 1)}:        {seconds:7.1f} s, "
              f"{seconds / len(students):5.2f} s a student, {ratio:.2f}x serial "
              f"(target {0.9 * w:.1f}x: {'met' if ratio >= 0.9 * w else 'missed'}), "
              f"gradebook identical: {same}" + (f", failed: {', '.join(failed)}" if failed else ""))
        report["dask"][w] = {"seconds": seconds, "ratio": ratio, "identical": same, "failed": failed}
        ok = ok and same and not failed
    print(f"load average now {os.getloadavg()[0]:.2f}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))
    if not args.keep:
        import shutil
        shutil.rmtree(base, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
