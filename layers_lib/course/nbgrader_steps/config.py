"""Installs the course's nbgrader steps into an nbgrader config (called from nbgrader_config.py).

One function, so that nbgrader_config.py stays a list of settings and the chains are built from
nbgrader's own defaults (a step a newer nbgrader adds stays in place).
"""
from nbgrader.converters import Autograde
from nbgrader.preprocessors import ClearOutput, Execute, OverwriteCells

from .execute import ResilientExecute
from .neutralize import install as install_neutralize
from .regrade_training import RegradeTraining
from .sandboxed_execute import SandboxedExecute
from .exporter import TolerantNotebookExporter
from .sanitize import SanitizeNotebook
from .unreadable import FailUnreadableNotebook


def configure_autograde(c, rebuild_notebooks=("[2]task8_test_modules",), memory_limit_mb=4096,
                        sandbox=True, notebook_budgets=None, unexecuted_notebooks=()):
    """Install the four pieces into an nbgrader config `c` (call it from nbgrader_config.py).

    Starts from nbgrader's own chains, so a step a newer nbgrader adds stays in place:
      sanitize:  ClearOutput, SanitizeNotebook, DeduplicateIds, OverwriteKernelspec,
                 OverwriteCells, FailUnreadableNotebook, CheckCellMetadata
      autograde: SandboxedExecute (ResilientExecute without `sandbox`) instead of Execute,
                 RegradeTraining ([0]'s tests measured by the grader), IgnorePattern, ...,
                 NeutralizeActiveContent (last; also in HTMLExporter for feedback/formgrader)
    `c.Execute.*` settings (timeout, ...) still apply: ResilientExecute is an Execute.
    """
    sanitize = list(Autograde.class_traits()["sanitize_preprocessors"].default())
    sanitize.insert(sanitize.index(ClearOutput) + 1, SanitizeNotebook)
    sanitize.insert(sanitize.index(OverwriteCells) + 1, FailUnreadableNotebook)
    executor = SandboxedExecute if sandbox else ResilientExecute
    autograde = [executor if p is Execute else p
                 for p in Autograde.class_traits()["autograde_preprocessors"].default()]
    autograde.insert(autograde.index(executor) + 1, RegradeTraining)
    c.Autograde.exporter_class = TolerantNotebookExporter
    c.Autograde.sanitize_preprocessors = sanitize
    c.Autograde.autograde_preprocessors = autograde
    c.SanitizeNotebook.rebuild_notebooks = list(rebuild_notebooks)
    c.ResilientExecute.memory_limit_mb = memory_limit_mb
    install_neutralize(c)       # last: student HTML/JS in outputs and markdown becomes text
    if notebook_budgets:
        c.SandboxedExecute.notebook_budgets = dict(notebook_budgets)
    if unexecuted_notebooks:
        c.SandboxedExecute.unexecuted_notebooks = list(unexecuted_notebooks)
    return c
