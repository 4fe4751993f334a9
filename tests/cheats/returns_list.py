"""Right values, wrong type: a nested Python list instead of an ndarray."""


class LeakyReLU(Module):
    def __init__(self, slope=0.03):
        super().__init__()
        self.slope = slope

    def update_output(self, input):
        self.output = np.where(input > 0, input, input * self.slope).astype(input.dtype).tolist()
        return self.output

    def update_grad_input(self, input, grad_output):
        self.grad_input = np.where(input > 0, grad_output, grad_output * self.slope).tolist()
        return self.grad_input
