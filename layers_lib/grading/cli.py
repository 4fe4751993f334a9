"""Command-line checker: the visible tests of `[2]` on a student's classes.

    python -m layers_lib.grading check PATH [--json] [--in-process]

PATH is the modules notebook (.ipynb) or a .py file defining the classes. Exit 0 when every
class passes, 1 when any fails, 2 when PATH cannot be read. (Instructors:
`python -m layers_lib.course check PATH` runs the hidden checks too.)
"""
import argparse
import contextlib
import io
import json
import sys

from .isolation import IsolatedSubmission
from .loader import SubmissionError, load_submission
from .runner import check_submission


def main(argv=None, check_submission=check_submission, prog="python -m layers_lib.grading",
         description=__doc__):
    """Run the checker; `check_submission(loaded) -> {name: ClassResult}` decides what runs."""
    parser = argparse.ArgumentParser(prog=prog, description=description,
                                     formatter_class=argparse.RawTextHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check", help="check a modules notebook or .py file")
    check.add_argument("path")
    check.add_argument("--json", action="store_true", help="print the results as JSON")
    check.add_argument("--in-process", action="store_true",
                       help="run the student's code in this process (for debugging with pdb); "
                            "by default it runs in an isolated worker, as in grading")
    args = parser.parse_args(argv)
    import torch
    torch.set_num_threads(1)     # tiny tensors: extra threads only spin and slow the worker down
    try:
        with contextlib.redirect_stdout(io.StringIO()):    # student code may print
            if args.in_process:
                loaded = load_submission(args.path)
                results = check_submission(loaded)
            else:
                with IsolatedSubmission(args.path) as loaded:
                    results = check_submission(loaded)
    except SubmissionError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps({"layers": {n: r.to_dict() for n, r in results.items()}}, indent=1))
    else:
        width = max(len(n) for n in results)
        for name, result in results.items():
            print(f"{name:<{width}}  {'PASS' if result.passed else 'FAIL'}  "
                  f"{result.points:g}/{result.max_points:g}")
            for failure in result.failures:
                lines = failure["message"].splitlines()[:14]
                print(f"{'':<{width}}    [{failure['quantity']}] {lines[0] if lines else ''}")
                for line in lines[1:]:
                    print(f"{'':<{width}}    {line}")
            for advice in result.advice:
                print(f"{'':<{width}}    advice: {advice}")
        passed = sum(r.passed for r in results.values())
        points = sum(r.points for r in results.values())
        print(f"\n{passed} of {len(results)} classes pass; "
              f"{points:g} of {sum(r.max_points for r in results.values()):g} points")
    return 0 if all(r.passed for r in results.values()) else 1

