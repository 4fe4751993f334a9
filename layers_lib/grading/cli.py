"""Command-line checker: the visible tests of `[2]` on a student's classes.

    python -m layers_lib.grading check PATH [--json] [--in-process] [--language en|ru]

PATH is the modules notebook (.ipynb) or a .py file defining the classes. Exit 0 when every
class passes, 1 when any fails, 2 when PATH cannot be read. (Instructors:
`python -m layers_lib.course check PATH` runs the hidden checks too.)
"""
import argparse
import contextlib
import io
import json
import sys

from .. import i18n
from ..i18n import mark, tr
from .isolation import IsolatedSubmission
from .loader import SubmissionError, load_submission
from .parts import part_label
from .runner import check_submission

DESCRIPTION = mark("""Command-line checker: the visible tests of `[2]` on a student's classes.

PATH is the modules notebook (.ipynb) or a .py file defining the classes. Exit 0 when every
class passes, 1 when any fails, 2 when PATH cannot be read.""")


def main(argv=None, check_submission=check_submission, prog="python -m layers_lib.grading",
         description=None):
    """Run the checker; `check_submission(loaded) -> {name: ClassResult}` decides what runs.
    `description`: the --help text (default: the students' checker's, in the course language);
    `--language` chooses the language of the output (default: $LAYERS_LIB_LANGUAGE, else en)."""
    if argv is None:
        argv = sys.argv[1:]
    chosen = _language_option(argv)
    if chosen is not None:
        i18n.set_language(chosen)       # before the help texts below are translated
    parser = argparse.ArgumentParser(prog=prog, description=description or tr(DESCRIPTION),
                                     formatter_class=argparse.RawTextHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check", help=tr("check a modules notebook or .py file"))
    check.add_argument("path")
    check.add_argument("--json", action="store_true", help=tr("print the results as JSON"))
    check.add_argument("--in-process", action="store_true",
                       help=tr("run the student's code in this process (for debugging with pdb); "
                               "by default it runs in an isolated worker, as in grading"))
    check.add_argument("--language", choices=i18n.LANGUAGES, default=i18n.language(),
                       help=tr("the language of the messages (default: $LAYERS_LIB_LANGUAGE, "
                               "else en)"))
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
        print(tr("error: {error}", error=exc), file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps({"layers": {n: r.to_dict() for n, r in results.items()}}, indent=1))
    else:
        width = max(len(n) for n in results)
        marks = {True: tr("PASS"), False: tr("FAIL")}
        mark_width = max(len(m) for m in marks.values())
        for name, result in results.items():
            print(f"{name:<{width}}  {marks[result.passed]:<{mark_width}}  "
                  f"{result.points:g}/{result.max_points:g}")
            for failure in result.failures:
                lines = failure["message"].splitlines()[:14]
                print(f"{'':<{width}}    [{part_label(failure['quantity'])}] {lines[0] if lines else ''}")
                for line in lines[1:]:
                    print(f"{'':<{width}}    {line}")
            for advice in result.advice:
                print(f"{'':<{width}}    " + tr("advice: {advice}", advice=advice))
        passed = sum(r.passed for r in results.values())
        points = sum(r.points for r in results.values())
        print("\n" + tr("{passed} of {total} classes pass; {points:g} of {max_points:g} points",
                        passed=passed, total=len(results), points=points,
                        max_points=sum(r.max_points for r in results.values())))
    return 0 if all(r.passed for r in results.values()) else 1


def _language_option(argv):
    """The value of --language in `argv` (None when absent or not a course language: argparse
    then reports it)."""
    for i, arg in enumerate(argv):
        value = arg.partition("=")[2] if arg.startswith("--language=") else (
            argv[i + 1] if arg == "--language" and i + 1 < len(argv) else None)
        if value in i18n.LANGUAGES:
            return value
    return None

