"""nbgrader preprocessors of the course: one step per file, as nbgrader's own `preprocessors/`."""
from .reading import UNREADABLE, read_submission
from .exporter import TolerantNotebookExporter
from .sanitize import SanitizeNotebook, canonical_cells
from .unreadable import FailUnreadableNotebook
from .execute import ResilientExecute
from .config import configure_autograde

__all__ = [
    "UNREADABLE",
    "read_submission",
    "TolerantNotebookExporter",
    "SanitizeNotebook",
    "canonical_cells",
    "FailUnreadableNotebook",
    "ResilientExecute",
    "configure_autograde",
]
