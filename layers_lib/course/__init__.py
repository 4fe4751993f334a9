"""Course tooling (instructor only: never in the student kit).

`notebooks/` builds every generated artifact, `nbgrader_steps/` holds the nbgrader
preprocessors, `hidden_checks` the graded checks students do not see, `pipeline` and `parallel`
run autograde, `kit` builds the student kit, `paths` is the only module that knows the
repository's layout.
"""
