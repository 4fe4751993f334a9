"""The instructor's checker: the visible tests and the hidden checks.

    python -m layers_lib.course check PATH [--json] [--in-process]

Same output and exit codes as the students' `python -m layers_lib.grading check PATH`.
"""
import sys

from layers_lib.grading.cli import main

from .hidden_checks import check_submission

sys.exit(main(check_submission=check_submission, prog="python -m layers_lib.course", description=__doc__))
