"""Raises SystemExit in forward (in one process: a test runner that exits early)."""
import sys


class ELU(Module):
    def __init__(self, alpha=1.0):
        super().__init__()
        self.alpha = alpha

    def update_output(self, input):
        sys.exit(0)
