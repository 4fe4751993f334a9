"""Time to execute each notebook of task8 with the reference solution (kernel start included),
and nbgrader autograde time per submission.

    python benchmarks/bench_notebooks.py [--repeats 3] [--json PATH]

Notebooks: demo_submissions/ada_complete (the release filled with the reference solution),
executed with nbclient in a temporary folder, one fresh kernel each, median of the repeats.
Autograde: a temporary course (nbgrader_config.py + source/), generate_assignment, then
`nbgrader autograde task8 --student S` timed per student for the complete and the blank demo.
"""
import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from layers_lib.course import pipeline  # noqa: E402

STUDENT = ROOT / "demo_submissions" / "ada_complete"


def time_notebook(path, workdir):
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(workdir)}}).execute()
    return time.perf_counter() - start


def notebook_times(repeats):
    times = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for nb in STUDENT.glob("*.ipynb"):
            shutil.copy(nb, work / nb.name)
        for name in sorted(p.name for p in STUDENT.glob("*.ipynb")):
            times[name] = statistics.median(time_notebook(work / name, work) for _ in range(repeats))
    return times


def autograde_times(students=("ada_complete", "ben_blank")):
    times = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        shutil.copy(ROOT / "nbgrader_config.py", root)
        shutil.copytree(ROOT / "source", root / "source")
        pipeline.prepare(root, list(students))
        assert pipeline.nbgrader(root, "generate_assignment", "task8", "--force") == 0
        for student in students:
            start = time.perf_counter()
            pipeline.nbgrader(root, "autograde", "task8", "--student", student, "--force")
            times[student] = time.perf_counter() - start
    return times


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    result = {"machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
                         f"Python {platform.python_version()}",
              "notebooks_s": notebook_times(args.repeats), "autograde_s": autograde_times()}
    print(f"machine: {result['machine']}")
    print("execute with the reference solution (median of %d, kernel start included):" % args.repeats)
    for name, seconds in result["notebooks_s"].items():
        print(f"  {name:<32} {seconds:6.1f} s")
    print("nbgrader autograde, one submission (3 notebooks):")
    for name, seconds in result["autograde_s"].items():
        print(f"  {name:<32} {seconds:6.1f} s")
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
