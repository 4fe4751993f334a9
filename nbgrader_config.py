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

# The slowest cell is the training of the best model (seconds with a correct solution). A cell
# gets at most this, and never more than what is left of its notebook's budget (below).
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
# An unreadable notebook scores 0 instead of failing the student. Autograde: SandboxedExecute
# (Execute in the sandbox, restarting dead/hung kernels, with a time budget) instead of Execute,
# then RegradeTraining ([0]'s tests measured by the grader, not by the student's kernel).
from layers_lib.course.nbgrader_steps.config import configure_autograde  # noqa: E402

# Every kernel runs in the sandbox (layers_lib/course/sandbox/: bubblewrap, an unprivileged user,
# no network, only the student's own checked notebooks). [0] and [1] are not run: running them
# earns no points ([1] has no graded cell, its classes are graded by [2]; [0]'s two tests are the
# grader's own re-training of BEST_RECIPE, its written answers are graded by hand). [2] gets a
# time budget of about 6x what a correct submission takes on 2 idle cores (room for a busy
# machine), the re-training up to 20 s: at most 80 s per student in all.
configure_autograde(c, rebuild_notebooks=["[2]task8_test_modules"], memory_limit_mb=4096,
                    notebook_budgets={"[2]task8_test_modules": 60},
                    unexecuted_notebooks=["[0]task8_train_model", "[1]task8_modules"])
c.RegradeTraining.timeout = 20

# --- The variant the notebooks are built in (python -m layers_lib.course.notebooks build|check) -
# language "en" | "ru", track "basic" | "advanced" (adds Conv2d, MaxPool2d, Flatten), hints
# "formulas" (the backward formulas are given) | "derive" (hints for deriving them instead).
# `build --language/--track/--hints` overrides these and records what it built here. nbgrader
# itself ignores this section (it has no CourseBuild class).
c.CourseBuild.language = "en"
c.CourseBuild.track = "basic"
c.CourseBuild.hints = "formulas"
