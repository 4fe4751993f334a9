"""Sanitize step (right after `ClearOutput`) that undoes what a student did to the cell structure.

nbgrader restores the *source* of locked cells and re-adds deleted grade cells, but everything
else in a submitted notebook is the student's: extra cells (which run in the kernel that runs
the tests), the order of the cells and the cell metadata (tags such as `skip-execution`, the
`grade`/`locked` flags, the schema version). `SanitizeNotebook` puts them back as the gradebook
(`canonical_cells`) and the source notebook say:

* notebooks named in `rebuild_notebooks` (the test notebook) are rebuilt: exactly one cell per
  cell of the source notebook, in the source order, with the canonical nbgrader metadata and
  nothing else (no tags); locked cells get the gradebook's source, solution cells keep the
  student's source (the last copy, as nbgrader's DeduplicateIds would); missing cells come back;
  every other cell (added, pasted, duplicated, with an unknown or a forged grade_id) is removed.
* every other notebook is normalised in place: nbgrader metadata of known cells is reset to the
  gradebook's (flags, points, cell type, schema), duplicates and cells with unknown grade_ids
  become plain cells (nbgrader metadata removed), deleted locked cells come back after their
  predecessor; the student's own plain cells stay where they are.
* a placeholder for an unreadable file (reading.py) gets the notebook's graded cells back, for
  `FailUnreadableNotebook` to fail.

Both leave the source restoration of locked cells to nbgrader's `OverwriteCells`.
"""
import copy
import os

import nbformat
from nbformat.notebooknode import NotebookNode, from_dict
from traitlets import Bool, List, Unicode

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.preprocessors import NbGraderPreprocessor

from .reading import UNREADABLE

#: tags that change how nbclient executes a cell; never allowed on graded cells
EXECUTION_TAGS = ("skip-execution", "raises-exception")


# --- the canonical cells of a notebook, from the gradebook --------------------------------

class _SourceCell:
    def __init__(self, name, cell_type, source, locked, checksum):
        self.name, self.cell_type, self.source = name, cell_type, source
        self.locked, self.checksum = locked, checksum
        self.grade = self.solution = self.task = False
        self.points = None

    def nbgrader_metadata(self):
        meta = {"schema_version": 3, "grade": self.grade, "solution": self.solution,
                "locked": self.locked, "task": self.task, "grade_id": self.name,
                "checksum": self.checksum, "cell_type": self.cell_type}
        if self.grade or self.task:
            meta["points"] = self.points
        return meta


def canonical_cells(db_url, notebook_id, assignment_id):
    """{grade_id: _SourceCell} of a notebook as generate_assignment stored it, in gradebook order."""
    with Gradebook(db_url) as gb:
        notebook = gb.find_notebook(notebook_id, assignment_id)
        cells = {c.name: _SourceCell(c.name, c.cell_type, c.source, bool(c.locked), c.checksum)
                 for c in notebook.source_cells}
        for c in notebook.grade_cells:
            if c.name in cells:
                cells[c.name].grade, cells[c.name].points = True, float(c.max_score)
        for c in notebook.solution_cells:
            if c.name in cells:
                cells[c.name].solution = True
        for c in notebook.task_cells:
            if c.name in cells:
                cells[c.name].task, cells[c.name].points = True, float(c.max_score)
    return cells


def _grade_id(cell):
    meta = cell.get("metadata", {}).get("nbgrader")
    if not isinstance(meta, dict):
        return None
    grade_id = meta.get("grade_id")
    return grade_id if isinstance(grade_id, str) else None


def _convert(cell, cell_type):
    """`cell` as a well-formed cell of `cell_type` (code, markdown), keeping source and metadata."""
    if cell_type == "code":
        new = nbformat.v4.new_code_cell(cell.get("source", ""))
    else:
        new = nbformat.v4.new_markdown_cell(cell.get("source", ""))
    new.metadata = copy.deepcopy(cell.get("metadata", NotebookNode()))
    if "id" in cell:
        new.id = cell.id
    return new


class SanitizeNotebook(NbGraderPreprocessor):
    """Sanitize step: rebuild the test notebook from the gradebook, normalise the others."""

    rebuild_notebooks = List(
        Unicode(), ["[2]task8_test_modules"],
        help="Notebook ids (file names without .ipynb, exact) rebuilt from the gradebook: only "
             "the source notebook's cells, in its order; every cell a student added is removed."
    ).tag(config=True)

    restore_deleted_locked_cells = Bool(
        True, help="In the other notebooks, put deleted locked (read-only) cells back."
    ).tag(config=True)

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        notebook_id, assignment_id = info["notebook"], info["assignment"]
        try:
            cells = canonical_cells(info["db_url"], notebook_id, assignment_id)
        except MissingEntry:
            return nb, resources                     # nbgrader skips unknown notebooks itself
        order = self._source_order(assignment_id, notebook_id, cells)
        if UNREADABLE in nb.metadata:
            self.log.warning("%s could not be read: every graded cell will score 0", notebook_id)
            nb.cells = [nb.cells[0]] if nb.cells else []
            nb.cells += [self._fresh_cell(cells[name], cells[name].source, nb) for name in order
                         if cells[name].grade or cells[name].task]
        elif notebook_id in self.rebuild_notebooks:
            nb.cells = self._rebuild(nb, cells, order, notebook_id)
        else:
            nb.cells = self._normalise(nb, cells, order, notebook_id)
        self._fix_ids(nb)
        return nb, resources

    # the order of the source notebook: the file in source/ when it holds the same cells
    def _source_order(self, assignment_id, notebook_id, cells):
        order = list(cells)
        coursedir = getattr(getattr(self.parent, "parent", None), "coursedir", None)
        if coursedir is None:
            return order
        path = os.path.join(coursedir.format_path(coursedir.source_directory, ".", assignment_id),
                            notebook_id + ".ipynb")
        try:
            with open(path, encoding="utf-8") as f:
                names = [_grade_id(c) for c in nbformat.read(f, as_version=4).cells]
        except Exception:                              # noqa: BLE001 - fall back to the gradebook
            return order
        names = [n for n in names if n in cells]
        return names if sorted(names) == sorted(order) and len(set(names)) == len(names) else order

    def _fresh_cell(self, canonical, source, nb, student_cell=None):
        if canonical.cell_type == "code":
            cell = nbformat.v4.new_code_cell(source)
        else:
            cell = nbformat.v4.new_markdown_cell(source)
        cell.metadata = from_dict({"nbgrader": canonical.nbgrader_metadata()})
        if canonical.locked:
            cell.metadata.update({"deletable": False, "editable": False})
        if student_cell is not None and "id" in student_cell:
            cell.id = student_cell.id
        return cell

    def _rebuild(self, nb, cells, order, notebook_id):
        chosen = {}
        for cell in nb.cells:                          # the last copy wins, like DeduplicateIds
            if _grade_id(cell) in cells:
                chosen[_grade_id(cell)] = cell
        new = []
        for name in order:
            canonical, student = cells[name], chosen.get(name)
            if student is None:
                self.log.warning("%s: cell %s was missing; restored from the gradebook", notebook_id, name)
            source = canonical.source if canonical.locked or student is None else student.get("source", "")
            new.append(self._fresh_cell(canonical, source, nb, student))
        kept = set(map(id, chosen.values()))
        dropped = [i for i, c in enumerate(nb.cells) if id(c) not in kept]
        if dropped:
            self.log.warning("%s: removed %d cell(s) that are not in the source notebook "
                             "(added, duplicated or with a forged grade_id): positions %s",
                             notebook_id, len(dropped), dropped)
        moved = [_grade_id(c) for c in nb.cells if id(c) in kept]
        if moved != [n for n in order if n in chosen]:
            self.log.warning("%s: cells were reordered; restored the source order", notebook_id)
        return new

    def _normalise(self, nb, cells, order, notebook_id):
        last = {}
        for i, cell in enumerate(nb.cells):
            if _grade_id(cell) in cells:
                last[_grade_id(cell)] = i
        new = []
        for i, cell in enumerate(nb.cells):
            name = _grade_id(cell)
            if "nbgrader" in cell.get("metadata", {}) and (name not in cells or last[name] != i):
                why = "unknown grade_id" if name not in cells else "duplicate of a later cell"
                self.log.warning("%s: cell %d (%s, %s) is now a plain cell", notebook_id, i, name, why)
                del cell.metadata["nbgrader"]
            if name not in cells or last[name] != i:
                new.append(cell)
                continue
            canonical = cells[name]
            if cell.cell_type != canonical.cell_type:
                self.log.warning("%s: cell %s was changed to %s; back to %s", notebook_id, name,
                                 cell.cell_type, canonical.cell_type)
                cell = _convert(cell, canonical.cell_type)
            cell.metadata["nbgrader"] = from_dict(canonical.nbgrader_metadata())
            if canonical.grade and "tags" in cell.metadata:
                cell.metadata.tags = [t for t in cell.metadata.tags if t not in EXECUTION_TAGS]
            new.append(cell)
        if self.restore_deleted_locked_cells:
            new = self._restore_locked(new, cells, order, notebook_id, nb)
        return new

    def _restore_locked(self, new, cells, order, notebook_id, nb):
        present = {_grade_id(c) for c in new if "nbgrader" in c.metadata}
        for k, name in enumerate(order):
            if name in present or not cells[name].locked:
                continue
            self.log.warning("%s: locked cell %s was deleted; restored from the gradebook", notebook_id, name)
            position = 0
            for previous in reversed(order[:k]):
                hits = [j for j, c in enumerate(new) if "nbgrader" in c.metadata and _grade_id(c) == previous]
                if hits:
                    position = hits[0] + 1
                    break
            new.insert(position, self._fresh_cell(cells[name], cells[name].source, nb))
            present.add(name)
        return new

    @staticmethod
    def _fix_ids(nb):
        """Unique, valid cell ids (nbformat >= 4.5), none before 4.5."""
        if (nb.get("nbformat"), nb.get("nbformat_minor", 0)) < (4, 5):
            for cell in nb.cells:
                cell.pop("id", None)
            return
        seen = set()
        for k, cell in enumerate(nb.cells):
            cid = cell.get("id")
            if not isinstance(cid, str) or cid in seen or not cid or len(cid) > 64 or \
                    not all(ch.isalnum() or ch in "-_" for ch in cid):
                cid = _grade_id(cell) or f"cell-{k}"
                while cid in seen:
                    cid = f"{cid}-{k}"
            cell.id = cid
            seen.add(cid)
