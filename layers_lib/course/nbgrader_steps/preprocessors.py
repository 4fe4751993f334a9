"""Tamper-proofing for `nbgrader autograde` (nbgrader 0.9.x), configured in nbgrader_config.py.

nbgrader restores the *source* of locked cells and re-adds deleted grade cells, but everything
else in a submitted notebook is the student's: extra cells (which run in the kernel that runs
the tests), the order of the cells, the cell metadata (tags such as `skip-execution`, the
`grade`/`locked` flags, the schema version) and even whether the file parses. Four pieces
close those gaps; each is a class named in the config:

* `TolerantNotebookExporter` (`c.Autograde.exporter_class`): a file nbformat cannot read
  (invalid JSON, not a notebook, not UTF-8) becomes an empty placeholder notebook flagged in its
  metadata, instead of an exception that stops the grading of the student's whole assignment.
* `SanitizeNotebook` (sanitize step, right after `ClearOutput`):
  - notebooks named in `rebuild_notebooks` (the test notebook) are rebuilt from the gradebook:
    exactly one cell per cell of the source notebook, in the source order, with the canonical
    nbgrader metadata and nothing else (no tags); locked cells get the gradebook's source,
    solution cells keep the student's source (the last copy, as nbgrader's DeduplicateIds
    would); missing cells come back; every other cell (added, pasted, duplicated, with an
    unknown or a forged grade_id) is removed.
  - every other notebook is normalised in place: nbgrader metadata of known cells is reset to
    the gradebook's (flags, points, cell type, schema), duplicates and cells with unknown
    grade_ids become plain cells (nbgrader metadata removed), deleted locked cells come back
    after their predecessor; the student's own plain cells stay where they are.
  Both leave the source restoration of locked cells to nbgrader's `OverwriteCells`.
* `FailUnreadableNotebook` (sanitize step, after `OverwriteCells`): in a placeholder notebook
  every code grade cell becomes `raise RuntimeError(<why the file could not be read>)` and no
  other code runs, so the notebook scores 0 while the student's other notebooks are graded.
* `ResilientExecute` (autograde step, replaces `Execute`): a kernel that dies (`os._exit`, a
  segfault, the OOM killer) or ignores the timeout interrupt no longer fails the student's whole
  assignment: the cell gets an error output (0 points if it is a graded cell), the kernel is
  restarted, the notebook's earlier non-graded code cells (imports, the setup that loads the
  submission) are replayed, and execution continues with the next cell. The kernel also runs
  with a memory limit (RLIMIT_DATA), so a memory bomb raises MemoryError in the student's code
  instead of exhausting the machine.
"""
import copy
import json
import os
import resource

import nbformat
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbconvert.exporters import NotebookExporter
from nbformat.notebooknode import NotebookNode, from_dict
from traitlets import Bool, Integer, List, Unicode

from nbgrader import utils
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.preprocessors import Execute, NbGraderPreprocessor

#: notebook-level metadata key that marks a placeholder for an unreadable submission
UNREADABLE = "task8_unreadable_submission"
#: tags that change how nbclient executes a cell; never allowed on graded cells
EXECUTION_TAGS = ("skip-execution", "raises-exception")


# --- reading -------------------------------------------------------------------------------

def _placeholder(reason):
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
    return _read(stream)[0]


def _read(stream):
    """(notebook, None) or (placeholder, why the file cannot be read)."""
    try:
        text = stream.read()
        if isinstance(text, bytes):
            text = text.decode("utf-8")
        raw = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:       # JSONDecodeError is a ValueError
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


class TolerantNotebookExporter(NotebookExporter):
    """`NotebookExporter` that turns an unreadable notebook into a flagged placeholder.

    Only reading is tolerant: errors raised by the preprocessors propagate as usual.
    """

    def from_file(self, file_stream, resources=None, **kw):
        nb, problem = _read(file_stream)
        if problem:
            self.log.error("Unreadable notebook %s: %s", getattr(file_stream, "name", "?"), problem)
        return self.from_notebook_node(nb, resources=resources, **kw)


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


class FailUnreadableNotebook(NbGraderPreprocessor):
    """Sanitize step after OverwriteCells: a placeholder for an unreadable file scores 0."""

    def preprocess(self, nb, resources):
        reason = nb.metadata.get(UNREADABLE)
        if not reason:
            return nb, resources
        message = f"the submitted notebook could not be read ({reason}); this cell scores 0"
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            if utils.is_grade(cell):
                cell.source = f"raise RuntimeError({message!r})"
            else:
                cell.source = "# not executed: " + message
        return nb, resources


# --- execution ----------------------------------------------------------------------------

class ResilientExecute(Execute):
    """nbgrader's Execute, surviving dead and unresponsive kernels, with a memory limit."""

    memory_limit_mb = Integer(
        0, help="RLIMIT_DATA of the kernel process in MiB (0: no limit). Allocations beyond it "
                "raise MemoryError in the student's code."
    ).tag(config=True)

    max_kernel_restarts = Integer(
        3, help="Restarts per notebook; after that, every remaining code cell fails unexecuted."
    ).tag(config=True)

    max_output_chars = Integer(
        10_000_000, help="Characters of output kept per cell while it runs (0: no limit); the "
                         "rest is dropped, with a note. Error outputs and the fact that something "
                         "was written to stderr are always kept (both score 0)."
    ).tag(config=True)

    replay_after_restart = Bool(
        True, help="After a restart, re-run the earlier code cells that are not graded cells "
                   "(imports, setup) so that the following cells find their state."
    ).tag(config=True)

    def preprocess(self, nb, resources=None, km=None):
        self._restarts = 0
        self._gave_up = None
        return super().preprocess(nb, resources, km)

    def start_new_kernel(self, **kwargs):
        super().start_new_kernel(**kwargs)
        self._limit_memory()

    def _limit_memory(self):
        if self.memory_limit_mb <= 0:
            return
        provisioner = getattr(self.km, "provisioner", None)
        pid = getattr(provisioner, "pid", None) or getattr(getattr(provisioner, "process", None), "pid", None)
        if pid is None:
            self.log.warning("Cannot limit the kernel's memory: no process id")
            return
        limit = self.memory_limit_mb * 1024 * 1024
        try:
            resource.prlimit(pid, resource.RLIMIT_DATA, (limit, limit))
        except (OSError, ValueError) as exc:
            self.log.warning("Cannot limit the kernel's memory: %s", exc)

    def output(self, outs, msg, display_id, cell_index):
        cap = self.max_output_chars
        kind = msg.get("msg_type")
        if cap <= 0 or kind not in ("stream", "display_data", "execute_result"):
            return super().output(outs, msg, display_id, cell_index)
        content = msg.get("content") or {}
        if kind == "stream":
            size = len(content.get("text", ""))
        else:
            size = sum(len(str(v)) for v in (content.get("data") or {}).values())
        used = getattr(self, "_output_chars", 0)
        if used + size > cap:
            truncated = self.__dict__.setdefault("_truncated", set())
            if kind != "stream":
                truncated.add("display")
                return None
            name = content.get("name", "stdout")
            if name in truncated:
                return None
            truncated.add(name)
            keep = max(0, cap - used)
            note = f"\n... output truncated: more than {cap} characters in this cell ...\n"
            msg = dict(msg, content=dict(content, text=content.get("text", "")[:keep] + note))
            size = keep
        self._output_chars = used + size
        return super().output(outs, msg, display_id, cell_index)

    def preprocess_cell(self, cell, resources, index):
        self._output_chars, self._truncated = 0, set()
        if self._gave_up:
            if cell.cell_type == "code" and cell.source.strip():
                cell.outputs = [_error_output("KernelGaveUp", self._gave_up)]
            return cell, self.resources
        try:
            return super().preprocess_cell(cell, resources, index)
        except (DeadKernelError, CellTimeoutError) as exc:
            dead = isinstance(exc, DeadKernelError)
            what = ("the kernel died while running this cell (os._exit, a crash or out of memory)"
                    if dead else "the kernel did not respond to the interrupt after the timeout")
            self.log.error("Cell %d: %s; restarting the kernel", index, what)
            cell.outputs.append(_error_output(type(exc).__name__, what))
            self._recover(index)
            return cell, self.resources

    def _recover(self, index):
        self._restarts += 1
        if self._restarts > self.max_kernel_restarts:
            self._gave_up = f"not executed: the kernel failed {self._restarts} times in this notebook"
            return
        try:
            self._restart_kernel()
        except Exception as exc:                        # noqa: BLE001 - report in the notebook
            self._gave_up = f"not executed: the kernel could not be restarted ({exc})"
            return
        if not self.replay_after_restart:
            return
        for j in range(index):
            original = self.nb.cells[j]
            if original.cell_type != "code" or utils.is_grade(original) or not original.source.strip():
                continue
            replay = copy.deepcopy(original)
            try:
                super().preprocess_cell(replay, self.resources, j)
            except (DeadKernelError, CellTimeoutError):
                self._gave_up = "not executed: the kernel failed again while re-running earlier cells"
                return
            finally:
                self.nb.cells[j] = original

    def _restart_kernel(self):
        mode, self.shutdown_kernel = self.shutdown_kernel, "immediate"
        try:
            self._cleanup_kernel()
        except Exception as exc:                        # noqa: BLE001 - it is dead anyway
            self.log.warning("Cleaning up the old kernel: %s", exc)
        finally:
            self.shutdown_kernel = mode
        self.km = self.create_kernel_manager()
        self.start_new_kernel()
        self.start_new_kernel_client()
        self.wait_for_reply(self.kc.kernel_info())


def _error_output(ename, evalue):
    return nbformat.v4.new_output("error", ename=ename, evalue=evalue,
                                  traceback=[f"{ename}: {evalue}"])


def configure_autograde(c, rebuild_notebooks=("[2]task8_test_modules",), memory_limit_mb=4096):
    """Install the four pieces into an nbgrader config `c` (call it from nbgrader_config.py).

    Starts from nbgrader's own chains, so a step a newer nbgrader adds stays in place:
      sanitize:  ClearOutput, SanitizeNotebook, DeduplicateIds, OverwriteKernelspec,
                 OverwriteCells, FailUnreadableNotebook, CheckCellMetadata
      autograde: ResilientExecute (instead of Execute), IgnorePattern, ... (unchanged)
    `c.Execute.*` settings (timeout, ...) still apply: ResilientExecute is an Execute.
    """
    from nbgrader.converters import Autograde
    from nbgrader.preprocessors import ClearOutput, OverwriteCells

    sanitize = list(Autograde.class_traits()["sanitize_preprocessors"].default())
    sanitize.insert(sanitize.index(ClearOutput) + 1, SanitizeNotebook)
    sanitize.insert(sanitize.index(OverwriteCells) + 1, FailUnreadableNotebook)
    autograde = [ResilientExecute if p is Execute else p
                 for p in Autograde.class_traits()["autograde_preprocessors"].default()]
    c.Autograde.exporter_class = TolerantNotebookExporter
    c.Autograde.sanitize_preprocessors = sanitize
    c.Autograde.autograde_preprocessors = autograde
    c.SanitizeNotebook.rebuild_notebooks = list(rebuild_notebooks)
    c.ResilientExecute.memory_limit_mb = memory_limit_mb
    return c
