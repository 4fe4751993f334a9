"""Kills its own process (in one process: the kernel, so no grade at all) inside backward."""
import os


class ReLU(Module):
    def update_output(self, input):
        self.output = np.maximum(input, 0)
        return self.output

    def backward(self, input, grad_output):
        os._exit(0)
