"""Autograde step: `[0]`'s two autograded tests get the grader's own measurement.

After the notebook ran (in its sandbox), the outputs of `test_best_model_accuracy` and
`test_training_loss_decreases` are thrown away: whatever the student's kernel printed or
returned there could be forged. They are replaced by the verdict of
`layers_lib.course.regrade_training` (the recipe of the `best_model` cell, re-trained by the
grader from the student's submitted `[1]` in a sandboxed worker): a passing test gets a
stdout note with the measurement, a failing one an error output saying what was measured, so
nbgrader's SaveAutoGrades scores them as usual.
"""
import os
import tempfile

import nbformat
from traitlets import Float, Unicode

from nbgrader import utils
from nbgrader.preprocessors import NbGraderPreprocessor

from ..regrade_training import regrade_training
from ..sandbox import checked_notebooks
from ..sandbox.worker import SandboxedWorker


class RegradeTraining(NbGraderPreprocessor):
    """Replace the outputs of `[0]`'s autograded tests by the grader's re-training verdict."""

    notebook = Unicode("[0]task8_train_model", help="The notebook whose tests are re-graded.").tag(config=True)
    modules_notebook = Unicode("[1]task8_modules.ipynb", help="Where the student's classes are.").tag(config=True)
    recipe_cell = Unicode("best_model", help="grade_id of the cell that defines BEST_RECIPE.").tag(config=True)
    accuracy_cell = Unicode("test_best_model_accuracy").tag(config=True)
    loss_cell = Unicode("test_training_loss_decreases").tag(config=True)
    timeout = Float(60.0, help="Seconds the re-training may take.").tag(config=True)

    def preprocess(self, nb, resources):
        info = resources.get("nbgrader", {})
        if info.get("notebook") != self.notebook:
            return nb, resources
        cells = {c.metadata["nbgrader"].get("grade_id"): c for c in nb.cells
                 if utils.is_grade(c) or utils.is_solution(c)}
        tests = [cells.get(self.accuracy_cell), cells.get(self.loss_cell)]
        if not any(tests):
            return nb, resources
        recipe = cells.get(self.recipe_cell)
        verdict = self._verdict(recipe.source if recipe is not None else "", info)
        for cell, ok, report in ((tests[0], verdict.accuracy_ok, verdict.accuracy_report()),
                                 (tests[1], verdict.loss_ok, verdict.loss_report())):
            if cell is None:
                continue
            if ok:
                cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=report + "\n")]
            else:
                cell.outputs = [nbformat.v4.new_output("error", ename="AssertionError", evalue=report,
                                                       traceback=[f"AssertionError: {report}"])]
        self.log.info("Re-trained the best model: %s / %s", verdict.accuracy_report(), verdict.loss_report())
        return nb, resources

    def _verdict(self, recipe_source, info):
        from nbgrader.coursedir import CourseDirectory
        from ..regrade_training import TrainingVerdict
        coursedir = CourseDirectory(config=self.config)
        directory = coursedir.format_path(coursedir.submitted_directory, info.get("student", ""),
                                          info.get("assignment", ""))
        accepted, rejected = checked_notebooks(directory, [self.modules_notebook], below=coursedir.root)
        if self.modules_notebook not in accepted:
            return TrainingVerdict(problem=f"the classes could not be read: {rejected.get(self.modules_notebook)}")
        launcher = SandboxedWorker() if self.parent_sandbox() else None
        with tempfile.TemporaryDirectory(prefix="task8-regrade-") as tmp:
            path = os.path.join(tmp, self.modules_notebook)
            with open(path, "wb") as f:
                f.write(accepted[self.modules_notebook])
            try:
                return regrade_training(path, recipe_source, launcher=launcher, timeout=self.timeout)
            finally:
                if launcher is not None:
                    launcher.close()

    def parent_sandbox(self):
        """The re-training is sandboxed whenever the notebooks' kernels are."""
        from .sandboxed_execute import SandboxedExecute
        return SandboxedExecute(config=self.config).sandbox
