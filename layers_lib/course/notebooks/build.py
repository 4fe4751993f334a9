"""Build or check every generated artifact of the course, in dependency order:

    python -m layers_lib.course.notebooks build    # source/task8 (3 notebooks) -> release/task8 -> demo_submissions
    python -m layers_lib.course.notebooks check    # exit 1 and list what is stale; writes nothing

The source notebooks come from the builders (`modules`, `tests`, `train`), the release from
`nbgrader generate_assignment` run on them in a scratch copy of the course, the demo
submissions from source + release (`demo_submissions`). A test runs `check`.
"""
import argparse
import shutil
import sys
import tempfile
from pathlib import Path

import nbformat

from ..paths import ASSIGNMENT, MODULES_NOTEBOOK, RELEASE, ROOT, SOURCE, TESTS_NOTEBOOK, TRAIN_NOTEBOOK
from . import demo_submissions, modules, tests, train

BUILDERS = {TRAIN_NOTEBOOK: train.build, MODULES_NOTEBOOK: modules.build, TESTS_NOTEBOOK: tests.build}


def render(nb):
    nbformat.validate(nb)
    return nbformat.writes(nb) + "\n"


def source_notebooks():
    """{path: text} of the three source notebooks."""
    return {SOURCE / name: render(build()) for name, build in BUILDERS.items()}


def generate_release(sources, scratch):
    """{path: text} of the release nbgrader makes from `sources` (in the course copy `scratch`)."""
    from ..pipeline import nbgrader

    shutil.copy(ROOT / "nbgrader_config.py", scratch)
    for path, text in sources.items():
        target = scratch / "source" / ASSIGNMENT / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    if nbgrader(scratch, "generate_assignment", ASSIGNMENT, "--force") != 0:
        raise RuntimeError(f"nbgrader generate_assignment failed: see {scratch / 'nbgrader.log'}")
    fresh = scratch / "release" / ASSIGNMENT
    return {RELEASE / p.name: p.read_text(encoding="utf-8") for p in sorted(fresh.glob("*.ipynb"))}


def artifacts(scratch):
    """{path: text} of every generated file, built in `scratch` without touching the repository."""
    sources = source_notebooks()
    release = generate_release(sources, scratch)
    demos = demo_submissions.rendered(scratch / "source" / ASSIGNMENT, scratch / "release" / ASSIGNMENT)
    return {**sources, **release, **demos}


def stale(expected):
    """The paths whose committed text differs from `expected` (or that are missing)."""
    return [p for p, text in expected.items()
            if not p.exists() or p.read_text(encoding="utf-8") != text]


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m layers_lib.course.notebooks", description=__doc__,
                                     formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("command", choices=["build", "check"])
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        expected = artifacts(Path(scratch))
    outdated = stale(expected)
    if args.command == "check":
        for path in outdated:
            print(f"stale: {path.relative_to(ROOT)}", file=sys.stderr)
        if outdated:
            print("run: python -m layers_lib.course.notebooks build", file=sys.stderr)
        return 1 if outdated else 0
    for path in outdated:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(expected[path], encoding="utf-8")
        print(f"wrote {path.relative_to(ROOT)}")
    print(f"{len(expected)} artifacts, {len(outdated)} rewritten")
    return 0
