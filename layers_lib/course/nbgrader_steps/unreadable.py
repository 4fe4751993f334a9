"""Sanitize step (after `OverwriteCells`) that makes a placeholder for an unreadable file score 0.

`TolerantNotebookExporter` turns a submission that does not parse into a placeholder flagged
`UNREADABLE`, and `SanitizeNotebook` gives it the notebook's graded cells back; here every code
grade cell becomes `raise RuntimeError(<why the file could not be read>)` and no other code
runs, so the notebook scores 0 (with the reason in each cell) while the student's other
notebooks are graded.
"""
from nbgrader import utils
from nbgrader.preprocessors import NbGraderPreprocessor

from .reading import UNREADABLE


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
