"""layers_lib: the task8 course ("write your own neural network in NumPy").

Three audiences, three places:

* the student runtime (this package's top level, `grading/`, `widgets/`): the Module/Criterion
  contract, data, training loop and plots, the submission loader and isolated worker, the
  comparison engine and the visible tests, the widgets. It is all a student installs (the
  student kit, `python -m layers_lib.course.kit`), and it never imports the two below;
* `reference/` (instructor only): the solution of every class the students write;
* `course/` (instructor only): notebook builders, nbgrader steps, hidden checks, the pipeline.

This module imports nothing: `import layers_lib` loads no solution.
"""
