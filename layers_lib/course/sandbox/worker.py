"""An isolated worker started by the grader itself, inside the sandbox (`IsolatedSubmission(
path, launcher=SandboxedWorker(...))`), for the checks the grader runs outside any notebook:
re-training `[0]`'s best model. The worker sees the student kit only, and `hidden` paths are
replaced by empty directories (the data files of scikit-learn: the held-back digits must not be
readable by student code).
"""
import importlib.util
import os
import sys

from .account import sandbox_account
from .policy import SandboxPolicy
from .runtime import runtime_tree
from .scratch import Scratch


def dataset_directories():
    """Where scikit-learn keeps its bundled data sets (digits among them)."""
    spec = importlib.util.find_spec("sklearn")
    if spec is None or not spec.submodule_search_locations:
        return []
    base = os.path.join(list(spec.submodule_search_locations)[0], "datasets")
    return [os.path.join(base, name) for name in ("data", "images", "descr")
            if os.path.isdir(os.path.join(base, name))]


class SandboxedWorker:
    """A worker launcher: each call returns (argv, package root, cwd) of a sandboxed worker."""

    def __init__(self, account=None, hidden=None):
        self.account = account or sandbox_account()
        self.tree = runtime_tree("kit")
        self.policy = SandboxPolicy(self.account, readonly=[self.tree], memory_mb=0,
                                    hidden=dataset_directories() if hidden is None else hidden)
        self.policy.check()
        self.scratch = Scratch(self.account)

    def __call__(self):
        worker = os.path.join(self.tree, "layers_lib", "grading", "_worker.py")
        argv = self.policy.command([sys.executable, "-I", "-B", "-u", worker], self.scratch)
        return argv, self.tree, self.scratch.work

    def close(self):
        self.scratch.cleanup()
