"""python -m layers_lib.course.notebooks build|check: see `build`."""
import sys

from .build import main

sys.exit(main())
