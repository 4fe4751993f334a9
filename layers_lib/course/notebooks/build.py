"""Build or check every generated artifact of the course, in dependency order:

    python -m layers_lib.course.notebooks build    # source/task8 (3 notebooks) -> release/task8 -> demo_submissions
    python -m layers_lib.course.notebooks check    # exit 1 and list what is stale; writes nothing

    python -m layers_lib.course.notebooks build --language ru --track advanced --hints derive
    python -m layers_lib.course.notebooks build --into /tmp/course-ru --language ru
    python -m layers_lib.course.notebooks check --into /tmp/course-ru

The source notebooks come from the builders (`modules`, `tests`, `train`), the release from
`nbgrader generate_assignment` run on them in a scratch copy of the course, the demo
submissions from source + release (`demo_submissions`). A test runs `check`.

The variant (course language en|ru, track basic|advanced, hint level formulas|derive: see
`texts.Variant`) is part of the course configuration, `nbgrader_config.py`:

    c.CourseBuild.language = "en"
    c.CourseBuild.track = "basic"
    c.CourseBuild.hints = "formulas"

(nbgrader ignores a section it has no class for). `--language`, `--track` and `--hints` default
to these; `build` records the variant it built in the config of the course it built, so
`check` (which has no variant options) compares a course's artifacts with its own config's
variant. `--into DIR` builds a whole course into DIR (its nbgrader_config.py, source/, release/,
demo_submissions/) without touching this repository, e.g. for tests; `check --into DIR` checks it.
"""
import argparse
import re
import sys
import tempfile
from pathlib import Path

import nbformat

from ..paths import ASSIGNMENT, MODULES_NOTEBOOK, RELEASE, ROOT, SOURCE, TESTS_NOTEBOOK, TRAIN_NOTEBOOK
from . import demo_submissions, modules, tests, train
from .texts import HINT_LEVELS, LANGUAGES, TRACKS, Variant

BUILDERS = {TRAIN_NOTEBOOK: train.build, MODULES_NOTEBOOK: modules.build, TESTS_NOTEBOOK: tests.build}
CONFIG = "nbgrader_config.py"
SECTION = "CourseBuild"
FIELDS = ("language", "track", "hints")
_SETTING = re.compile(rf"^c\.{SECTION}\.(\w+)\s*=.*$", re.MULTILINE)


# ----------------------------------------------------------------------------- the course config

def configured_variant(root=ROOT):
    """The variant `root/nbgrader_config.py` sets (`c.CourseBuild.*`; the defaults where unset),
    read as nbgrader reads the file."""
    from traitlets.config.loader import PyFileConfigLoader

    path = Path(root) / CONFIG
    if not path.exists():
        return Variant()
    section = PyFileConfigLoader(path.name, path=str(path.parent)).load_config()[SECTION]
    return Variant(**{name: section[name] for name in FIELDS if name in section})


def config_with_variant(text, variant):
    """The text of an nbgrader_config.py with its `c.CourseBuild.*` lines set to `variant`
    (the lines are appended, with a comment, where the file has none)."""
    values = {name: getattr(variant, name) for name in FIELDS}
    seen = set()

    def replace(match):
        name = match.group(1)
        if name not in values:
            return match.group(0)
        seen.add(name)
        return f"c.{SECTION}.{name} = {values[name]!r}".replace("'", '"')

    text = _SETTING.sub(replace, text)
    missing = [name for name in FIELDS if name not in seen]
    if missing:
        if not seen:
            text = text.rstrip("\n") + (
                "\n\n# The variant the notebooks are built in (python -m layers_lib.course.notebooks build"
                "\n# --language en|ru --track basic|advanced --hints formulas|derive records it here).\n")
        text += "".join(f'c.{SECTION}.{name} = "{values[name]}"\n' for name in missing)
    return text


# ----------------------------------------------------------------------------- the artifacts

def render(nb):
    nbformat.validate(nb)
    return nbformat.writes(nb) + "\n"


def source_notebooks(variant=Variant()):
    """{path: text} of the three source notebooks (paths relative to the course root)."""
    return {SOURCE.relative_to(ROOT) / name: render(build(variant)) for name, build in BUILDERS.items()}


def generate_release(sources, scratch, variant=Variant()):
    """{path: text} of the release nbgrader makes from `sources` (in the course copy `scratch`)."""
    from ..pipeline import nbgrader

    config = config_with_variant((ROOT / CONFIG).read_text(encoding="utf-8"), variant)
    (scratch / CONFIG).write_text(config, encoding="utf-8")
    for path, text in sources.items():
        target = scratch / "source" / ASSIGNMENT / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    if nbgrader(scratch, "generate_assignment", ASSIGNMENT, "--force") != 0:
        raise RuntimeError(f"nbgrader generate_assignment failed: see {scratch / 'nbgrader.log'}")
    fresh = scratch / "release" / ASSIGNMENT
    return {RELEASE.relative_to(ROOT) / p.name: p.read_text(encoding="utf-8")
            for p in sorted(fresh.glob("*.ipynb"))}


def artifacts(scratch, variant=Variant()):
    """{path relative to the course root: text} of every generated file of `variant`, built in
    `scratch` without touching the repository."""
    sources = source_notebooks(variant)
    release = generate_release(sources, scratch, variant)
    demos = demo_submissions.rendered(scratch / "source" / ASSIGNMENT, scratch / "release" / ASSIGNMENT)
    return {**sources, **release, **{p.relative_to(ROOT): text for p, text in demos.items()}}


def stale(expected, root=ROOT):
    """The paths (under `root`) whose text differs from `expected` (or that are missing)."""
    return [root / p for p, text in expected.items()
            if not (root / p).exists() or (root / p).read_text(encoding="utf-8") != text]


# ----------------------------------------------------------------------------- the command line

def _parser():
    parser = argparse.ArgumentParser(prog="python -m layers_lib.course.notebooks", description=__doc__,
                                     formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("command", choices=["build", "check"])
    parser.add_argument("--into", type=Path, metavar="DIR",
                        help="the course directory to build or check (default: this repository); "
                             "build creates it, with its own nbgrader_config.py")
    for name, choices in (("language", LANGUAGES), ("track", TRACKS), ("hints", HINT_LEVELS)):
        parser.add_argument(f"--{name}", choices=choices,
                            help=f"build only; default: c.{SECTION}.{name} of the course config")
    return parser


def main(argv=None):
    parser = _parser()
    args = parser.parse_args(argv)
    root = (args.into or ROOT).resolve()
    chosen = {name: getattr(args, name) for name in FIELDS if getattr(args, name)}
    if args.command == "check" and chosen:
        parser.error("check compares a course with the variant of its own nbgrader_config.py: "
                     "set c.CourseBuild.* there (or build with --language/--track/--hints)")
    config_root = root if (root / CONFIG).exists() else ROOT
    base = configured_variant(config_root)
    variant = Variant(**{**{name: getattr(base, name) for name in FIELDS}, **chosen})
    with tempfile.TemporaryDirectory() as scratch:
        expected = artifacts(Path(scratch), variant)
    outdated = stale(expected, root)
    where = "" if root == ROOT else f" --into {root}"
    if args.command == "check":
        for path in outdated:
            print(f"stale: {path.relative_to(root)}", file=sys.stderr)
        if outdated:
            print(f"run: python -m layers_lib.course.notebooks build{where}", file=sys.stderr)
        return 1 if outdated else 0
    config = root / CONFIG
    old = config.read_text(encoding="utf-8") if config.exists() else None
    new = config_with_variant((config_root / CONFIG).read_text(encoding="utf-8"), variant)
    if old is None or base != variant or _SETTING.search(old) is None:   # base: root's own config
        outdated.append(config)
        expected[Path(CONFIG)] = new
    for path in outdated:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(expected[path.relative_to(root)], encoding="utf-8")
        print(f"wrote {path.relative_to(root)}")
    print(f"{variant}: {len(expected)} artifacts in {root}, {len(outdated)} rewritten")
    return 0
