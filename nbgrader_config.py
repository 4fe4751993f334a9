"""nbgrader configuration of the task8 course (run nbgrader from this directory)."""
import os

c = get_config()  # noqa: F821 - provided by nbgrader

ROOT = os.path.dirname(os.path.abspath(__file__))

c.CourseDirectory.course_id = "nn-from-scratch"
c.CourseDirectory.root = ROOT
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(ROOT, "gradebook.db")
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback"]

# The release keeps signatures and docstrings; the body between the markers becomes the stub.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# The slowest cell is the training of the best model (seconds with a correct solution); a
# student's slow layer gets 5 minutes per cell before it is interrupted and scored 0.
c.Execute.timeout = 300
c.Execute.startup_timeout = 120

# A deleted test cell comes back (otherwise the submission would need manual grading forever).
c.OverwriteCells.add_missing_cells = True

c.LimitOutput.max_lines = 1000
c.LimitOutput.max_traceback = 100

# --- Tamper-proof autograde (layers_lib/course/nbgrader_steps/, one step per file) -------------
# Sanitize: ClearOutput, SanitizeNotebook, DeduplicateIds, OverwriteKernelspec, OverwriteCells,
# FailUnreadableNotebook, CheckCellMetadata. [2] is rebuilt from the gradebook (only the source
# cells, source order, canonical metadata); other notebooks get their nbgrader metadata reset.
# An unreadable notebook scores 0 instead of failing the student. Autograde: ResilientExecute
# (Execute that restarts dead/hung kernels and caps the kernel's memory) instead of Execute.
from layers_lib.course.nbgrader_steps.config import configure_autograde  # noqa: E402

configure_autograde(c, rebuild_notebooks=["[2]task8_test_modules"], memory_limit_mb=4096)
