"""Hangs in forward."""


class Linear(Module):
    def __init__(self, n_in, n_out):
        super().__init__()
        self.W = np.zeros((n_in, n_out))
        self.b = np.zeros(n_out)

    def update_output(self, input):
        while True:
            pass
