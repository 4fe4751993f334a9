"""`c.Autograde.exporter_class` of the course: reads submissions with `read_or_placeholder`.

nbgrader's `NotebookExporter` raises on a file nbformat cannot read, and that exception stops
the grading of the student's whole assignment; this one hands the preprocessors a flagged
placeholder instead (see reading.py), so only the unreadable notebook scores 0.
"""
from nbconvert.exporters import NotebookExporter

from .reading import read_or_placeholder


class TolerantNotebookExporter(NotebookExporter):
    """`NotebookExporter` that turns an unreadable notebook into a flagged placeholder.

    Only reading is tolerant: errors raised by the preprocessors propagate as usual.
    """

    def from_file(self, file_stream, resources=None, **kw):
        nb, problem = read_or_placeholder(file_stream)
        if problem:
            self.log.error("Unreadable notebook %s: %s", getattr(file_stream, "name", "?"), problem)
        return self.from_notebook_node(nb, resources=resources, **kw)
