"""Allocates 50 GB in backward."""


class ReLU(Module):
    def update_output(self, input):
        self.output = np.maximum(input, 0)
        return self.output

    def update_grad_input(self, input, grad_output):
        hog = np.ones(50 * 2**30 // 8)               # 50 GB of float64
        self.grad_input = grad_output * (input > 0) + hog[:1] * 0
        return self.grad_input
