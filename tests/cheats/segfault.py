"""Segfaults the interpreter."""
import ctypes


class LeakyReLU(Module):
    def __init__(self, slope=0.03):
        super().__init__()
        self.slope = slope

    def update_output(self, input):
        return ctypes.string_at(0)
