"""Hangs while the class is being defined (a loop in the class body)."""


class ReLU(Module):
    while True:
        pass
