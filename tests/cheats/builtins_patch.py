"""Patches builtins so that type checks pass for anything (in one process the grader's
`type(got) is np.ndarray` would be fooled), and returns a string instead of an array.

(isinstance and len are left alone: the reference's optimizers and Sequential, which the same
submission still contains, use them, and the test wants the damage limited to this class.)"""
import builtins


class ELU(Module):
    def __init__(self, alpha=1.0):
        super().__init__()
        self.alpha = alpha

    def update_output(self, input):
        builtins.type = lambda *args: np.ndarray
        builtins.issubclass = lambda cls, classinfo: True
        builtins.abs = lambda x: 0
        builtins.float = lambda *args: 0.0
        builtins.print = lambda *args, **kwargs: None
        __builtins__["repr"] = lambda obj: "array([...])"
        self.output = "an array, trust me"
        return self.output

    def update_grad_input(self, input, grad_output):
        self.grad_input = grad_output.copy()
        return self.grad_input
