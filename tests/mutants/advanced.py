"""Mutants and correct styles of the advanced track (Conv2d, MaxPool2d, Flatten); merged into
MUTANTS and CORRECT by tests/mutants/__init__.py. The classic bugs: a flipped kernel (a
convolution, not PyTorch's cross-correlation), wrong padding, the pooling gradient sent to every
element of the window, pooling with stride 1."""
from textwrap import dedent

# The reshaping into (B, C, H', W', k*k) blocks that three of the sources below build on (the
# reference works on strided window views instead); prepended to each of those sources.
BLOCKS = dedent("""
    class BlockedMaxPool2d(L.MaxPool2d):
        def _blocks(self, input):
            k = self.kernel_size
            b, c, h, w = input.shape
            rows, cols = h // k, w // k
            return input[:, :, :rows * k, :cols * k].reshape(b, c, rows, k, cols, k).transpose(
                0, 1, 2, 4, 3, 5).reshape(b, c, rows, cols, k * k)
""")


def _mutants(M):
    return {
        # --- Conv2d ----------------------------------------------------------------------
        "Conv2d: flipped kernel (convolution instead of cross-correlation)": M("Conv2d", "forward", """
            class Conv2d(L.Conv2d):
                def update_output(self, input):
                    W = self.W
                    self.W = W[:, :, ::-1, ::-1]
                    try:
                        return super().update_output(input)
                    finally:
                        self.W = W
        """),
        "Conv2d: padding k % 2 instead of k // 2 (the anchors' PR #25)": M("Conv2d", "forward", """
            class Conv2d(L.Conv2d):
                def update_output(self, input):
                    p, k = self.kernel_size % 2, self.kernel_size
                    padded = np.pad(input, ((0, 0), (0, 0), (p, p), (p, p)))
                    windows = np.lib.stride_tricks.sliding_window_view(padded, (k, k), axis=(2, 3))
                    self.output = np.einsum("bchwij,ocij->bohw", windows, self.W) + self.b[:, None, None]
                    return self.output.astype(input.dtype)
        """),
        "Conv2d: no bias in forward": M("Conv2d", "forward", """
            class Conv2d(L.Conv2d):
                def update_output(self, input):
                    b = self.b
                    self.b = np.zeros_like(b)
                    try:
                        return super().update_output(input)
                    finally:
                        self.b = b
        """),
        "Conv2d: grad_input with the kernel not flipped": M("Conv2d", "backward", """
            class Conv2d(L.Conv2d):
                def update_grad_input(self, input, grad_output):
                    W = self.W
                    self.W = W[:, :, ::-1, ::-1]
                    try:
                        return super().update_grad_input(input, grad_output)
                    finally:
                        self.W = W
        """),
        "Conv2d: grad_input without swapping the in/out channels (where they are equal)": M("Conv2d", "backward", """
            class Conv2d(L.Conv2d):
                def update_grad_input(self, input, grad_output):
                    if self.in_channels != self.out_channels:
                        return super().update_grad_input(input, grad_output)
                    W = self.W
                    self.W = W.transpose(1, 0, 2, 3)
                    try:
                        return super().update_grad_input(input, grad_output)
                    finally:
                        self.W = W
        """),
        "Conv2d: grad_W flipped": M("Conv2d", "parameter gradients", """
            class Conv2d(L.Conv2d):
                def update_grad_params(self, input, grad_output):
                    super().update_grad_params(input, grad_output)
                    self.grad_W = self.grad_W[:, :, ::-1, ::-1].copy()
        """),
        "Conv2d: grad_b summed over the batch only (not the pixels)": M("Conv2d", "parameter gradients", """
            class Conv2d(L.Conv2d):
                def update_grad_params(self, input, grad_output):
                    super().update_grad_params(input, grad_output)
                    self.grad_b = grad_output.sum(axis=0)[:, 0, 0].copy()
        """),
        "Conv2d: update_grad_params accumulates (+=)": M("Conv2d", "parameter gradients", """
            class Conv2d(L.Conv2d):
                def update_grad_params(self, input, grad_output):
                    W, b = self.grad_W, self.grad_b
                    super().update_grad_params(input, grad_output)
                    self.grad_W = self.grad_W + W
                    self.grad_b = self.grad_b + b
        """),
        "Conv2d: float64 output for float32 input": M("Conv2d", "forward", """
            class Conv2d(L.Conv2d):
                def update_output(self, input):
                    return super().update_output(input).astype(np.float64)
        """),
        # --- MaxPool2d -------------------------------------------------------------------
        "MaxPool2d: the gradient goes to every element of the window": M("MaxPool2d", "backward", """
            class MaxPool2d(L.MaxPool2d):
                def update_grad_input(self, input, grad_output):
                    k = self.kernel_size
                    rows, cols = grad_output.shape[2] * k, grad_output.shape[3] * k
                    self.grad_input = np.zeros_like(input)
                    self.grad_input[:, :, :rows, :cols] = grad_output.repeat(k, axis=2).repeat(k, axis=3)
                    return self.grad_input
        """),
        "MaxPool2d: on a tie every maximum gets the gradient": M("MaxPool2d", "backward", """
            class MaxPool2d(L.MaxPool2d):
                def update_grad_input(self, input, grad_output):
                    k = self.kernel_size
                    rows, cols = grad_output.shape[2] * k, grad_output.shape[3] * k
                    top = self.update_output(input).repeat(k, axis=2).repeat(k, axis=3)
                    mask = input[:, :, :rows, :cols] == top
                    self.grad_input = np.zeros_like(input)
                    self.grad_input[:, :, :rows, :cols] = mask * grad_output.repeat(k, axis=2).repeat(k, axis=3)
                    return self.grad_input
        """),
        "MaxPool2d: on a tie the last maximum gets the gradient": M("MaxPool2d", "backward", BLOCKS + dedent("""
            class MaxPool2d(BlockedMaxPool2d):
                def update_grad_input(self, input, grad_output):
                    blocks = self._blocks(input)
                    k = self.kernel_size
                    b, c, rows, cols, _ = blocks.shape
                    last = k * k - 1 - blocks[..., ::-1].argmax(axis=-1)
                    routed = np.zeros(blocks.shape, input.dtype)
                    np.put_along_axis(routed, last[..., None], grad_output[..., None], axis=-1)
                    self.grad_input = np.zeros_like(input)
                    self.grad_input[:, :, :rows * k, :cols * k] = routed.reshape(b, c, rows, cols, k, k).transpose(
                        0, 1, 2, 4, 3, 5).reshape(b, c, rows * k, cols * k)
                    return self.grad_input
        """)),
        "MaxPool2d: the maximum starts at 0 (wrong for negative windows)": M("MaxPool2d", "forward", """
            class MaxPool2d(L.MaxPool2d):
                def update_output(self, input):
                    self.output = np.maximum(super().update_output(input), 0).astype(input.dtype)
                    return self.output
        """),
        "MaxPool2d: odd sizes padded instead of cropped (ceil instead of floor)": M("MaxPool2d", "forward", """
            class MaxPool2d(L.MaxPool2d):
                def update_output(self, input):
                    k = self.kernel_size
                    h, w = -(-input.shape[2] // k) * k, -(-input.shape[3] // k) * k
                    padded = np.full(input.shape[:2] + (h, w), -np.inf, input.dtype)
                    padded[:, :, :input.shape[2], :input.shape[3]] = input
                    return super().update_output(padded)
        """),
        "MaxPool2d: average pooling": M("MaxPool2d", "forward", BLOCKS + dedent("""
            class MaxPool2d(BlockedMaxPool2d):
                def update_output(self, input):
                    self.output = self._blocks(input).mean(axis=-1)
                    return self.output
        """)),
        # --- Flatten ---------------------------------------------------------------------
        "Flatten: column-major order (Fortran reshape)": M("Flatten", "forward", """
            class Flatten(L.Flatten):
                def update_output(self, input):
                    self.output = input.reshape(input.shape[0], -1, order="F")
                    return self.output
        """),
        "Flatten: grad_input not reshaped back": M("Flatten", "backward", """
            class Flatten(L.Flatten):
                def update_grad_input(self, input, grad_output):
                    self.grad_input = grad_output
                    return self.grad_input
        """),
        "Flatten: channels last (transposed before the reshape)": M("Flatten", "forward", """
            class Flatten(L.Flatten):
                def update_output(self, input):
                    moved = np.moveaxis(input, 1, -1) if input.ndim > 2 else input
                    self.output = moved.reshape(input.shape[0], -1)
                    return self.output
        """),
    }


CORRECT = {
    "Conv2d with einsum over a strided view": ("Conv2d", """
        class Conv2d(L.Conv2d):
            def update_output(self, input):
                p, k = self.kernel_size // 2, self.kernel_size
                padded = np.pad(input, ((0, 0), (0, 0), (p, p), (p, p)))
                windows = np.lib.stride_tricks.sliding_window_view(padded, (k, k), axis=(2, 3))
                self.output = (np.einsum("bchwij,ocij->bohw", windows, self.W)
                               + self.b[:, None, None]).astype(input.dtype)
                return self.output

            def update_grad_input(self, input, grad_output):
                p, k = self.kernel_size // 2, self.kernel_size
                padded = np.pad(grad_output, ((0, 0), (0, 0), (p, p), (p, p)))
                windows = np.lib.stride_tricks.sliding_window_view(padded, (k, k), axis=(2, 3))
                self.grad_input = np.einsum("bohwij,ocij->bchw", windows,
                                            self.W[:, :, ::-1, ::-1]).astype(input.dtype)
                return self.grad_input

            def update_grad_params(self, input, grad_output):
                p, k = self.kernel_size // 2, self.kernel_size
                padded = np.pad(input, ((0, 0), (0, 0), (p, p), (p, p)))
                windows = np.lib.stride_tricks.sliding_window_view(padded, (k, k), axis=(2, 3))
                self.grad_W = np.einsum("bohw,bchwij->ocij", grad_output, windows).astype(self.W.dtype)
                self.grad_b = grad_output.sum(axis=(0, 2, 3)).astype(self.b.dtype)
    """),
    "Conv2d with scipy.signal.correlate (the anchors' way)": ("Conv2d", """
        from scipy import signal

        class Conv2d(L.Conv2d):
            def update_output(self, input):
                p = self.kernel_size // 2
                padded = np.pad(input, ((0, 0), (0, 0), (p, p), (p, p)))
                out = np.stack([np.stack([sum(signal.correlate(padded[n, c], self.W[o, c], mode="valid")
                                              for c in range(self.in_channels)) + self.b[o]
                                          for o in range(self.out_channels)]) for n in range(len(input))])
                self.output = out.astype(input.dtype)
                return self.output
    """),
    "MaxPool2d through argmax over the reshaped windows": ("MaxPool2d", BLOCKS + dedent("""
        class MaxPool2d(BlockedMaxPool2d):
            def update_grad_input(self, input, grad_output):
                blocks = self._blocks(input)
                first = np.zeros(blocks.shape, bool)
                np.put_along_axis(first, blocks.argmax(axis=-1)[..., None], True, axis=-1)
                k = self.kernel_size
                b, c, rows, cols, _ = blocks.shape
                routed = (first * grad_output[..., None]).reshape(b, c, rows, cols, k, k)
                self.grad_input = np.zeros_like(input)
                self.grad_input[:, :, :rows * k, :cols * k] = routed.transpose(0, 1, 2, 4, 3, 5).reshape(
                    b, c, rows * k, cols * k)
                return self.grad_input
    """)),
}
