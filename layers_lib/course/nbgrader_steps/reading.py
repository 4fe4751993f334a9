"""Reading a submitted notebook that may not parse, for `nbgrader autograde` (nbgrader 0.9.x).

A submitted file is the student's: it can be invalid JSON, not a notebook, or not UTF-8. Stock
nbgrader raises on such a file and stops grading the student's whole assignment; here it becomes
an empty placeholder notebook flagged `UNREADABLE` in its metadata (with the reason), which
`SanitizeNotebook` and `FailUnreadableNotebook` grade 0 while the other notebooks are graded.
"""
import json
import re

import nbformat
from nbformat.notebooknode import NotebookNode

#: notebook-level metadata key that marks a placeholder for an unreadable submission
UNREADABLE = "task8_unreadable_submission"


def _placeholder(reason):
    """An empty notebook flagged `UNREADABLE` with `reason`, saying so in a markdown cell."""
    nb = nbformat.v4.new_notebook()
    nb.metadata[UNREADABLE] = reason
    nb.cells.append(nbformat.v4.new_markdown_cell(
        f"**This notebook could not be read, so it was graded 0.**\n\n`{reason}`"))
    return nb


def _structure_problem(nb):
    """Why `nb` (read, but maybe invalid) cannot be processed, or None."""
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        return "the file has no list of cells"
    for i, cell in enumerate(nb["cells"]):
        if not isinstance(cell, dict):
            return f"cell {i} is not an object"
        if cell.get("cell_type") not in ("code", "markdown", "raw"):
            return f"cell {i} has cell_type {cell.get('cell_type')!r}"
        source = cell.get("source", "")
        if not (isinstance(source, str) or
                (isinstance(source, list) and all(isinstance(s, str) for s in source))):
            return f"cell {i} has a source that is not text"
        if not isinstance(cell.get("metadata", {}), dict):
            return f"cell {i} has metadata that is not an object"
    if not isinstance(nb.get("metadata", {}), dict):
        return "the notebook metadata is not an object"
    return None


def read_submission(stream):
    """A notebook from a file stream: a placeholder (flagged `UNREADABLE`) when it cannot be read."""
    return read_or_placeholder(stream)[0]


def read_or_placeholder(stream):
    """(notebook, None) or (placeholder, why the file cannot be read)."""
    try:
        text = stream.read()
        if isinstance(text, bytes):
            text = text.decode("utf-8")
        if _too_deep(text):
            return _failed(f"not a notebook: its JSON nests deeper than {MAX_DEPTH} levels")
        raw = json.loads(text)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # JSONDecodeError: ValueError
        return _failed(f"invalid JSON: {type(exc).__name__}: {str(exc)[:300]}")
    problem = _structure_problem(raw)
    if problem:
        return _failed(f"not a notebook: {problem}")
    try:
        nb = nbformat.reads(json.dumps(raw), as_version=4, capture_validation_error={})
    except Exception as exc:                               # noqa: BLE001 - any reader failure
        return _failed(f"not a notebook: {type(exc).__name__}: {str(exc)[:300]}")
    problem = _structure_problem(nb)
    if problem:
        return _failed(f"not a notebook: {problem}")
    nb.setdefault("metadata", NotebookNode())
    for cell in nb.cells:
        cell.setdefault("metadata", NotebookNode())
        if isinstance(cell.source, list):
            cell.source = "".join(cell.source)
        if cell.cell_type == "code":
            cell.setdefault("outputs", [])
            cell.setdefault("execution_count", None)
    return nb, None


def _failed(reason):
    return _placeholder(reason), reason


def placeholder(reason):
    """(placeholder notebook, reason) for a file that was not read at all."""
    return _failed(reason)


MAX_DEPTH = 64       # a notebook is 5 levels deep; outputs with JSON data maybe 20


_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"')


def _too_deep(text, limit=MAX_DEPTH):
    """True when the JSON text nests brackets deeper than `limit` (checked before parsing: the
    parser would recurse 100,000 levels into a hostile file)."""
    depth = 0
    for ch in re.sub(r"[^\[\]{}]", "", _STRINGS.sub("", text)):
        depth += 1 if ch in "[{" else -1
        if depth > limit:
            return True
    return False
