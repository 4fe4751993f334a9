"""Write (or check) the source notebooks of task8.

    python -m layers_lib.course.notebooks.build            # write source/task8/[1]... and [2]...
    python -m layers_lib.course.notebooks.build --check    # exit 1 if the committed notebooks are stale
"""
import argparse
import sys
from pathlib import Path

import nbformat

from ..paths import SOURCE
from . import modules, tests
from .cells import write

NOTEBOOKS = {"[1]task8_modules.ipynb": modules.build,
             "[2]task8_test_modules.ipynb": tests.build}


def rendered(build):
    nb = build()
    nbformat.validate(nb)
    return nbformat.writes(nb)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    parser.add_argument("--out", type=Path, default=SOURCE)
    args = parser.parse_args(argv)
    stale = []
    for name, build in NOTEBOOKS.items():
        path = args.out / name
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != rendered(build) + "\n":
                stale.append(name)
        else:
            args.out.mkdir(parents=True, exist_ok=True)
            write(build(), path)
            print(f"wrote {path}")
    if stale:
        print("stale (run python -m layers_lib.course.notebooks.build): " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
