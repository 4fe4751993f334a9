"""Autograde step: every notebook's kernel runs in the sandbox, within a time budget.

`SandboxedExecute` is `ResilientExecute` (restarts dead or hung kernels, caps output) whose
kernel starts inside `layers_lib.course.sandbox`: an unprivileged account, private mount, PID
and network namespaces, read-only Python, a scratch directory holding only this student's
checked notebooks. The `[2]` notebook's kernel sees the hidden checks; the others see the
student kit only.

Time: each notebook of a student has a budget (`notebook_budgets`, seconds). A cell gets the
smaller of `Execute.timeout` and what is left of it; a cell that runs out is ended (the kernel
is killed with its sandbox and restarted for the next cells) and says why; once the budget is
spent the remaining cells are not run and say so. The kernel learns its deadline through
`TASK8_GRADING_DEADLINE`, so the isolated worker of `[2]` stops a slow class's calls in time
("too slow") instead of outliving the cell.

Not run at all: the notebooks in `unexecuted_notebooks`, whose running earns no points (`[1]`
has no graded cell, its classes are graded through `[2]`; `[0]`'s two tests are measured by
RegradeTraining, its written answers by hand). Their student code never runs during autograde,
and they keep the outputs nbgrader cleared.
"""
import os
import time

from nbclient.exceptions import CellTimeoutError
from traitlets import Bool, Dict, Float, List, Unicode

from ..sandbox import Scratch, SandboxPolicy, checked_notebooks, sandbox_account
from ..sandbox.kernel import SandboxedKernelManager
from ..sandbox.runtime import runtime_tree
from .execute import ResilientExecute, error_output


class SandboxedExecute(ResilientExecute):
    """nbgrader's Execute in a sandbox, with a time budget per notebook."""

    sandbox = Bool(
        True, help="Run kernels in the sandbox. False only for comparisons on a trusted class: "
                   "student code then runs as the grader's own user."
    ).tag(config=True)
    unexecuted_notebooks = List(
        Unicode(), [],
        help="Notebooks (names without .ipynb) that autograde does not run, because running them "
             "earns no points; their outputs stay cleared."
    ).tag(config=True)
    notebook_budgets = Dict(
        {}, help="Seconds of execution per notebook name (without .ipynb) for one student."
    ).tag(config=True)
    default_budget = Float(120.0, help="Budget of a notebook not in notebook_budgets.").tag(config=True)
    grader_notebooks = List(
        Unicode(), ["[2]task8_test_modules"],
        help="Notebooks whose kernel may import the hidden checks (all their code cells come "
             "from the gradebook; student code runs only in their isolated worker)."
    ).tag(config=True)
    worker_call_timeout = Float(
        10.0, help="Seconds one call of the isolated worker may take in these kernels (a correct "
                  "call takes milliseconds; a hung class then costs this much, once)."
    ).tag(config=True)
    worker_margin = Float(
        5.0, help="Seconds between the worker's deadline and the cell's, so a worker call "
                  "ends first and the kernel stays in step with it."
    ).tag(config=True)

    def preprocess(self, nb, resources=None, km=None):
        info = (resources or {}).get("nbgrader", {})
        self._notebook = info.get("notebook", "")
        if self._notebook in self.unexecuted_notebooks:
            self.log.info("%s is not run: running it earns no points", self._notebook)
            return nb, resources
        self._budget = float(self.notebook_budgets.get(self._notebook, self.default_budget))
        self._deadline = time.monotonic() + self._budget
        self._wall_deadline = time.time() + self._budget
        self._scratch = None
        if self.sandbox:
            self._prepare_sandbox(resources, info)
        else:
            os.environ.update(self._deadline_env())
        try:
            return super().preprocess(nb, resources, km)
        finally:
            self._drop_scratch()
            if not self.sandbox:      # only this notebook's kernel may see them
                for key in self._deadline_env():
                    os.environ.pop(key, None)
            self.log.info("%s ran %.1f s of its %g s budget", self._notebook,
                          self._budget - self._remaining(), self._budget)

    def _prepare_sandbox(self, resources, info):
        self._account = sandbox_account()
        flavour = "grader" if self._notebook in self.grader_notebooks else "kit"
        self._policy = SandboxPolicy(self._account, readonly=[runtime_tree(flavour)],
                                     memory_mb=self.memory_limit_mb)
        self._policy.check()
        self._pythonpath = self._policy.readonly[0]
        self._files, self._rejected = self._submission_files(resources, info)
        for name, why in sorted(self._rejected.items()):
            self.log.warning("Not copied into the sandbox: %s", why)

    def _submission_files(self, resources, info):
        """The student's checked notebooks: only these enter the sandbox."""
        from nbgrader.coursedir import CourseDirectory
        coursedir = CourseDirectory(config=self.config)
        student, assignment = info.get("student"), info.get("assignment")
        if not student or not assignment:
            return {}, {}
        directory = coursedir.format_path(coursedir.submitted_directory, student, assignment)
        names = sorted(n for n in _listdir(directory) if n.endswith(".ipynb"))
        files, rejected = checked_notebooks(directory, names, below=coursedir.root)
        # a notebook nbgrader already autograded (sanitized: read-only cells restored, added
        # cells' metadata reset) replaces the submitted one: [2] loads the classes from [1]
        built = coursedir.format_path(coursedir.autograded_directory, student, assignment)
        done = sorted(n for n in _listdir(built) if n.endswith(".ipynb"))
        graded, _ = checked_notebooks(built, done, below=coursedir.root)
        files.update(graded)
        return files, {n: why for n, why in rejected.items() if n not in graded}

    # -- the kernel, in a fresh scratch each time it starts --------------------------------------

    def _deadline_env(self):
        """What the kernel (and its isolated worker) learns of the budget."""
        return {"TASK8_GRADING_DEADLINE": f"{self._wall_deadline - self.worker_margin:.3f}",
                "TASK8_CALL_TIMEOUT": f"{self.worker_call_timeout:g}"}

    def create_kernel_manager(self):
        if not self.sandbox:
            return super().create_kernel_manager()
        self._drop_scratch()
        self._scratch = Scratch(self._account)
        for name, data in self._files.items():
            self._scratch.add_file(name, data)
        env = {"PYTHONPATH": self._pythonpath, "NBGRADER_EXECUTION": "autograde",
               **self._deadline_env()}
        self.kernel_manager_class = SandboxedKernelManager
        km = super().create_kernel_manager()
        km.attach_sandbox(self._policy, self._scratch, env)
        km.harden = self._notebook in self.grader_notebooks
        return km

    def _limit_memory(self):
        """The sandbox sets the limits (prlimit inside it): nothing to do on the outside."""
        if not self.sandbox:
            super()._limit_memory()

    def start_new_kernel_client(self):
        kc = super().start_new_kernel_client()
        if self._scratch is not None:
            self._scratch.lock_kernel_dir()
        return kc

    def _drop_scratch(self):
        if getattr(self, "_scratch", None) is not None:
            self._scratch.cleanup()
            self._scratch = None

    # -- the budget ------------------------------------------------------------------------------

    def _remaining(self):
        return self._deadline - time.monotonic()

    def _get_timeout(self, cell):
        configured = super()._get_timeout(cell)
        left = max(1, int(self._remaining()))
        return left if configured is None else min(configured, left)

    async def _async_handle_timeout(self, timeout, cell=None):
        # No interrupt-and-wait: a cell that ignores SIGINT would wait forever. The cell ends
        # here, and ResilientExecute restarts the kernel (its sandbox dies with it).
        raise CellTimeoutError.error_from_timeout_and_cell("Cell execution timed out", timeout, cell)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code" and cell.source.strip() and self._remaining() <= 0:
            self._reset_cell_state()
            cell.outputs = [error_output(
                "TimeBudgetExceeded",
                f"not run: the time budget of {self._budget:g} s for {self._notebook} ran out "
                "(a class that is too slow or an infinite loop in an earlier cell)")]
            return cell, self.resources
        return super().preprocess_cell(cell, resources, index)

    def timeout_message(self, timeout):
        return (f"this cell ran longer than its limit of {timeout} s and was stopped (the "
                f"budget for {self._notebook} is {self._budget:g} s): too slow, or an infinite loop")


def _listdir(directory):
    try:
        return os.listdir(directory)
    except OSError:
        return []
