"""python -m layers_lib.grading check PATH: see `cli`."""
import sys

from .cli import main

sys.exit(main())
