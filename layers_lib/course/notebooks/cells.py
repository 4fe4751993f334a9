"""nbgrader cell constructors (schema v3 metadata) with stable ids, so built notebooks are
byte-for-byte reproducible and a test can tell when a committed notebook is stale."""
import nbformat


def _meta(grade_id, *, grade=False, solution=False, locked=False, task=False, points=None):
    meta = {"schema_version": 3, "grade": grade, "solution": solution, "locked": locked,
            "task": task, "grade_id": grade_id}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def markdown(cell_id, text):
    """Read-only explanatory text."""
    cell = nbformat.v4.new_markdown_cell(text.strip("\n"), metadata=_meta(cell_id, locked=True))
    cell.id = cell_id
    return cell


def given_code(cell_id, source):
    """Read-only code (restored from the gradebook at autograde if a student edits it)."""
    cell = nbformat.v4.new_code_cell(source.strip("\n"), metadata=_meta(cell_id, locked=True))
    cell.id = cell_id
    return cell


def free_code(cell_id, source):
    """A code cell without nbgrader metadata (demos, the dashboard)."""
    cell = nbformat.v4.new_code_cell(source.strip("\n"))
    cell.id = cell_id
    return cell


def solution_code(cell_id, source):
    """Autograded answer: the student's code, cleared between the solution markers."""
    cell = nbformat.v4.new_code_cell(source.strip("\n"), metadata=_meta(cell_id, solution=True))
    cell.id = cell_id
    return cell


def test_code(cell_id, source, points):
    """Autograder test cell worth `points`."""
    cell = nbformat.v4.new_code_cell(source.strip("\n"),
                                     metadata=_meta(cell_id, grade=True, locked=True, points=points))
    cell.id = cell_id
    return cell


def answer_markdown(cell_id, text, points):
    """Manually graded written answer."""
    cell = nbformat.v4.new_markdown_cell(text.strip("\n"),
                                         metadata=_meta(cell_id, grade=True, solution=True, points=points))
    cell.id = cell_id
    return cell


def notebook(cells):
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata = {"kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python",
                                  "name": "python3"},
                   "language_info": {"name": "python"}}
    return nb
