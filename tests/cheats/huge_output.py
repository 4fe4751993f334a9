"""Floods stdout (in a notebook: megabytes of output, a frozen browser, a truncated report)."""


class SoftMax(Module):
    def update_output(self, input):
        for _ in range(10_000):
            print("spam " * 8_000)                   # 40 KB a line, 400 MB in all
        shifted = input - input.max(axis=1, keepdims=True)
        e = np.exp(shifted)
        self.output = e / e.sum(axis=1, keepdims=True)
        return self.output

    def update_grad_input(self, input, grad_output):
        p = self.output
        self.grad_input = p * (grad_output - (p * grad_output).sum(axis=1, keepdims=True))
        return self.grad_input
