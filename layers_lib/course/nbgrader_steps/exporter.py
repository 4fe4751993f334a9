"""`c.Autograde.exporter_class` of the course: reads submissions with `read_or_placeholder`.

nbgrader's `NotebookExporter` raises on a file nbformat cannot read, and that exception stops
the grading of the student's whole assignment; this one hands the preprocessors a flagged
placeholder instead (see reading.py), so only the unreadable notebook scores 0. A notebook that
is a symbolic link (to another student's notebook, to a file outside the course), a device, a
FIFO or larger than 20 MB is not opened at all: it becomes a placeholder saying why.
"""
import io
import os

from nbconvert.exporters import NotebookExporter

from ..sandbox.files import SubmissionFileError, read_checked
from .reading import placeholder, read_or_placeholder


class TolerantNotebookExporter(NotebookExporter):
    """`NotebookExporter` that turns an unreadable notebook into a flagged placeholder.

    Only reading is tolerant: errors raised by the preprocessors propagate as usual.
    """

    def from_filename(self, filename, resources=None, **kw):
        """A submitted notebook that is a link, a device or too large is never opened."""
        try:
            data = read_checked(filename)
        except SubmissionFileError as exc:
            self.log.error("Rejected notebook %s: %s", filename, exc)
            return self._from_placeholder(str(exc), filename, resources, **kw)
        return self.from_file(io.BytesIO(data), resources=self._with_path(filename, resources), **kw)

    def _with_path(self, filename, resources):
        # what nbconvert's from_filename puts into resources (the notebook's name and folder)
        resources = dict(resources or {})
        metadata = dict(resources.get("metadata") or {})
        path, basename = os.path.split(filename)
        metadata.setdefault("name", os.path.splitext(basename)[0])
        metadata.setdefault("path", path)
        resources["metadata"] = metadata
        return resources

    def _from_placeholder(self, reason, filename, resources, **kw):
        nb, _ = placeholder(f"not read: {reason}")
        return self.from_notebook_node(nb, resources=self._with_path(filename, resources), **kw)

    def from_file(self, file_stream, resources=None, **kw):
        nb, problem = read_or_placeholder(file_stream)
        if problem:
            self.log.error("Unreadable notebook %s: %s", getattr(file_stream, "name", "?"), problem)
        return self.from_notebook_node(nb, resources=resources, **kw)
