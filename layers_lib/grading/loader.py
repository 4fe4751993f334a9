"""Load a student's classes from `[1]task8_modules.ipynb` (or a .py file), one piece at a time.

A broken piece (SyntaxError, NameError, an exception while defining) costs only the names
that piece defines: every other class still loads and is graded. From a notebook only the
nbgrader solution cells and locked (read-only) cells run, in order; a notebook without nbgrader
metadata runs all its code cells. IPython magics and shell lines (`%...`, `!...`) are skipped.
"""
import ast
import json
import re
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..i18n import tr

_MAGIC = re.compile(r"^\s*[%!]")
_TOP_LEVEL = re.compile(r"^(class |def |import |from |@)", re.MULTILINE)


@dataclass
class Piece:
    """One unit of student code: a notebook cell or a top-level chunk of a .py file."""
    label: str          # "cell 7" / "lines 10-42"
    source: str


class SubmissionNames:
    """What the checks ask of a loaded submission, answered from its `path`, `namespace` and
    `errors`: shared by LoadedSubmission and isolation.IsolatedSubmission."""

    def get(self, name):
        return self.namespace.get(name)

    def require(self, name):
        """The object `name`, or an AssertionError saying why it is missing (for test cells)."""
        if name not in self.namespace:
            raise AssertionError(self.failure_reason(name))
        return self.namespace[name]

    def summary(self):
        """One line per broken piece, or a line saying everything loaded."""
        if not self.errors:
            return tr("Loaded {file}: every cell ran.", file=Path(self.path).name)
        lines = [tr("Loaded {file} with {n} broken piece(s); only what they define is lost:",
                    file=Path(self.path).name, n=len(self.errors))]
        for label, names, message in self.errors:
            lines.append(f"  {label} ({', '.join(sorted(names)) or tr('no definitions')}): {message}")
        return "\n".join(lines)

    def failure_reason(self, name):
        """Why `name` is not available (None when it is)."""
        if name in self.namespace:
            return None
        for label, names, message in self.errors:
            if name in names:
                return tr("{name} failed to load ({label}): {message}", name=name, label=label,
                          message=message)
        return tr("{name} is not defined in {file}", name=name, file=Path(self.path).name)


@dataclass
class LoadedSubmission(SubmissionNames):
    """The names a submission defines, and what went wrong while defining them."""
    path: str
    namespace: dict = field(default_factory=dict)
    errors: list = field(default_factory=list)     # (label, names it would define, message)


class SubmissionError(Exception):
    """The file cannot be read at all (missing, not a notebook, invalid JSON)."""


def read_pieces(path):
    """The code pieces of a notebook or .py file, in execution order."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SubmissionError(tr("cannot read {path}: {error}", path=path, error=exc)) from exc
    if path.suffix == ".ipynb":
        return _notebook_pieces(path, text)
    if path.suffix == ".py":
        return _python_pieces(text)
    raise SubmissionError(tr("{path}: expected a .ipynb notebook or a .py file", path=path))


def _notebook_pieces(path, text):
    try:
        cells = json.loads(text)["cells"]
    except (ValueError, KeyError, TypeError) as exc:
        raise SubmissionError(tr("{path} is not a valid notebook: {error}", path=path, error=exc)) from exc
    code = [(i, c) for i, c in enumerate(cells) if isinstance(c, dict) and c.get("cell_type") == "code"]
    graded = [(i, c) for i, c in code if _is_solution_or_locked(c)]
    pieces = []
    for i, cell in (graded if graded else code):
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        source = "\n".join(line for line in source.splitlines() if not _MAGIC.match(line))
        pieces.append(Piece(tr("cell {number}", number=i + 1), source))
    return pieces


def _is_solution_or_locked(cell):
    meta = (cell.get("metadata") or {}).get("nbgrader") or {}
    return bool(meta.get("solution") or (meta.get("locked") and not meta.get("grade")))


def _python_pieces(text):
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return _chunks_by_top_level_lines(text)
    lines = text.splitlines()
    pieces = []
    for node in tree.body:
        start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        pieces.append(Piece(tr("lines {first}-{last}", first=start, last=node.end_lineno),
                            "\n".join(lines[start - 1:node.end_lineno])))
    return pieces


def _chunks_by_top_level_lines(text):
    """A file that does not parse: split it where unindented definitions start, so a syntax
    error stays inside the chunk (class) that holds it."""
    starts = [m.start() for m in _TOP_LEVEL.finditer(text)]
    if not starts or starts[0] != 0:
        starts = [0] + starts
    bounds = starts + [len(text)]
    pieces = []
    for a, b in zip(bounds, bounds[1:]):
        first = text.count("\n", 0, a) + 1
        last = text.count("\n", 0, max(a, b - 1)) + 1
        pieces.append(Piece(tr("lines {first}-{last}", first=first, last=last), text[a:b]))
    return pieces


def defined_names(source):
    """Top-level names a piece defines (best effort, also for code that does not parse)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set(re.findall(r"^(?:class|def)\s+(\w+)", source, re.MULTILINE))
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return names


def load_submission(path, base_namespace=None):
    """Execute the pieces of `path` one by one into a fresh namespace.

    `base_namespace`: names available before the student's code (defaults to `np`).
    Raises SubmissionError only when the file cannot be read at all.
    """
    loaded = LoadedSubmission(str(path))
    loaded.namespace.update(base_namespace if base_namespace is not None else {"np": np, "numpy": np})
    for piece in read_pieces(path):
        try:
            code = compile(piece.source, f"<{Path(path).name} {piece.label}>", "exec")
            exec(code, loaded.namespace)
        except BaseException as exc:       # noqa: BLE001 - student code may raise anything
            if isinstance(exc, KeyboardInterrupt):
                raise
            loaded.errors.append((piece.label, defined_names(piece.source), describe_exception(exc)))
            for name in defined_names(piece.source):
                loaded.namespace.pop(name, None)     # a half-defined class must not be graded
    return loaded


def describe_exception(exc, where=None):
    """One line for a student's exception: "TypeError: msg (line 3)", or with `where`
    "Linear.forward raised TypeError: msg (in forward, line 3)"."""
    if isinstance(exc, SyntaxError):
        text = f"SyntaxError: {exc.msg} " + tr("(line {line})", line=exc.lineno)
    else:
        frames = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
        loc = ""
        if frames:
            loc = " " + (tr("(line {line})", line=frames[0].lineno) if where is None else
                         tr("(in {method}, line {line})", method=frames[0].name, line=frames[0].lineno))
        text = f"{type(exc).__name__}: {exc}{loc}"
    return text if where is None else tr("{where} raised {error}", where=where, error=text)
