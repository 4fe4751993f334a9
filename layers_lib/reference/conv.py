"""The advanced track: convolution, max pooling and flattening of images.

Shapes: B is the batch size, C the input channels, O the output channels, H x W the image,
k the kernel size. Images are (B, C, H, W) as in PyTorch. Every layer keeps the input's dtype.
Vectorised: the sliding windows are a strided view (`sliding_window_view`), contracted with one
matrix product; no Python loop runs over the batch, the channels or the pixels (the only loops
run over the k x k offsets of a kernel or a pooling window, k^2 array operations each).
"""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..contract import Module


class Conv2d(Module):
    """2-D cross-correlation, stride 1, zero "same" padding p = k // 2 (k odd): torch.nn.Conv2d
    with padding=k//2.

    Parameters: W (O, C, k, k) (PyTorch's layout), b (O,), uniform in +-1/sqrt(C k k) like PyTorch.

    forward:  Y[n,o,h,w] = b[o] + sum_{c,i,j} W[o,c,i,j] Xp[n,c,h+i,w+j]     X (B, C, H, W) -> Y (B, O, H, W)
              (Xp: X zero-padded by p on each side of H and W; no kernel flip)
    backward: dL/dX = the "same" correlation of G with W flipped in i, j and its channels swapped,
              dL/dW[o,c,i,j] = sum_{n,h,w} G[n,o,h,w] Xp[n,c,h+i,w+j],  dL/db[o] = sum_{n,h,w} G[n,o,h,w]
    The windows of the last forward input are kept for update_grad_params (same input object).
    """

    def __init__(self, in_channels, out_channels, kernel_size, dtype=np.float64):
        super().__init__()
        if kernel_size % 2 != 1:
            raise ValueError(f"Conv2d: kernel_size must be odd for 'same' padding, got {kernel_size}")
        self.in_channels, self.out_channels, self.kernel_size = in_channels, out_channels, kernel_size
        bound = 1.0 / np.sqrt(in_channels * kernel_size * kernel_size)
        shape = (out_channels, in_channels, kernel_size, kernel_size)
        self.W = np.random.uniform(-bound, bound, size=shape).astype(dtype)
        self.b = np.random.uniform(-bound, bound, size=out_channels).astype(dtype)
        self.grad_W = np.zeros_like(self.W)
        self.grad_b = np.zeros_like(self.b)
        self._columns = self._columns_of = None     # im2col of the last forward input

    def _check(self, input):
        if input.ndim != 4 or input.shape[1] != self.in_channels:
            raise ValueError(f"Conv2d({self.in_channels}, {self.out_channels}, {self.kernel_size}) expects "
                             f"input of shape (batch, {self.in_channels}, height, width), got {input.shape}")

    def _windows(self, images):
        """(B, C, H, W) -> the k x k windows around every pixel, (B, H, W, C, k, k) as a matrix
        (B H W, C k k): im2col through a strided view of the zero-padded images."""
        p, k = self.kernel_size // 2, self.kernel_size
        padded = np.pad(images, ((0, 0), (0, 0), (p, p), (p, p)))
        windows = sliding_window_view(padded, (k, k), axis=(2, 3))      # (B, C, H, W, k, k)
        batch, channels, height, width = images.shape
        return windows.transpose(0, 2, 3, 1, 4, 5).reshape(batch * height * width, channels * k * k)

    def update_output(self, input):
        """input (B, C, H, W) -> output (B, O, H, W), input's dtype."""
        self._check(input)
        batch, _, height, width = input.shape
        self._columns, self._columns_of = self._windows(input), input
        columns = self._columns @ self.W.reshape(self.out_channels, -1).T           # (B H W, O)
        columns += self.b
        self.output = columns.reshape(batch, height, width, -1).transpose(0, 3, 1, 2).astype(input.dtype, copy=False)
        return self.output

    def update_grad_input(self, input, grad_output):
        """grad_output (B, O, H, W) -> grad_input (B, C, H, W), the correlation of G with the
        flipped kernel (channels swapped), computed as col2im: each pixel's window gradient
        G W (B H W, C k k) is added back where the window lay, one kernel offset at a time."""
        batch, _, height, width = input.shape
        p, k = self.kernel_size // 2, self.kernel_size
        g = grad_output.transpose(0, 2, 3, 1).reshape(-1, self.out_channels)                  # (B H W, O)
        windows = (g @ self.W.reshape(self.out_channels, -1)).reshape(batch, height, width, self.in_channels, k, k)
        padded = np.zeros((batch, self.in_channels, height + 2 * p, width + 2 * p), dtype=input.dtype)
        for i in range(k):
            for j in range(k):
                padded[:, :, i:i + height, j:j + width] += windows[:, :, :, :, i, j].transpose(0, 3, 1, 2)
        self.grad_input = padded[:, :, p:p + height, p:p + width]
        return self.grad_input

    def update_grad_params(self, input, grad_output):
        """Set grad_W (O, C, k, k) = sum over batch and pixels of G times the input windows,
        grad_b (O,) = G summed over batch and pixels."""
        g = grad_output.transpose(0, 2, 3, 1).reshape(-1, self.out_channels)                    # (B H W, O)
        columns = self._columns if input is self._columns_of else self._windows(input)
        self.grad_W = (g.T @ columns).reshape(self.W.shape).astype(self.W.dtype, copy=False)
        self.grad_b = grad_output.sum(axis=(0, 2, 3)).astype(self.b.dtype, copy=False)

    def zero_grad_params(self):
        self.grad_W = np.zeros_like(self.W)
        self.grad_b = np.zeros_like(self.b)

    def get_params(self):
        return [self.W, self.b]

    def get_grad_params(self):
        return [self.grad_W, self.grad_b]

    def __repr__(self):
        return f"Conv2d({self.in_channels}, {self.out_channels}, {self.kernel_size})"


class MaxPool2d(Module):
    """Max pooling over k x k windows with stride k: torch.nn.MaxPool2d(k). Rows and columns past
    the last whole window are dropped (H' = H // k, W' = W // k), as in PyTorch.

    forward:  Y[n,c,h,w] = max_{i,j < k} X[n,c,h k + i, w k + j]          X (B, C, H, W) -> Y (B, C, H', W')
    backward: dL/dX is G at the position of each window's maximum and 0 elsewhere; on a tie, the
              first maximum in row-major order (PyTorch's choice) gets it.
    """

    def __init__(self, kernel_size):
        super().__init__()
        self.kernel_size = kernel_size

    def _windows(self, input):
        """The k x k strided views input[:, :, i::k, j::k] cropped to (B, C, H', W'), in
        row-major order of the offset (i, j)."""
        k = self.kernel_size
        rows, cols = input.shape[2] // k, input.shape[3] // k
        return [input[:, :, i:rows * k:k, j:cols * k:k] for i in range(k) for j in range(k)]

    def update_output(self, input):
        """input (B, C, H, W) -> output (B, C, H // k, W // k)."""
        if input.ndim != 4:
            raise ValueError(f"MaxPool2d expects input of shape (batch, channels, height, width), got {input.shape}")
        windows = self._windows(input)
        self.output = windows[0].copy()
        for window in windows[1:]:
            np.maximum(self.output, window, out=self.output)
        return self.output

    def update_grad_input(self, input, grad_output):
        """grad_output (B, C, H', W') -> grad_input (B, C, H, W): each window's gradient goes to
        the first offset (row-major) that holds its maximum."""
        top = np.stack(self._windows(input)).max(axis=0)     # not update_output: keeps self.output
        self.grad_input = np.zeros_like(input)
        routed = self._windows(self.grad_input)        # views: writing them fills grad_input
        taken = np.zeros(top.shape, dtype=bool)
        for window, target in zip(self._windows(input), routed):
            first = (window == top) & ~taken
            target[...] = np.where(first, grad_output, 0)
            taken |= first
        return self.grad_input

    def __repr__(self):
        return f"MaxPool2d({self.kernel_size})"


class Flatten(Module):
    """(B, d1, d2, ...) -> (B, d1 d2 ...), the bridge from images to Linear layers.

    forward:  Y = X.reshape(B, -1);   backward: dL/dX = G.reshape(X.shape)
    """

    def update_output(self, input):
        """input (B, ...) -> output (B, prod(...))."""
        self.output = input.reshape(input.shape[0], -1)
        return self.output

    def update_grad_input(self, input, grad_output):
        """grad_output (B, prod(...)) -> grad_input with the input's shape."""
        self.grad_input = grad_output.reshape(input.shape)
        return self.grad_input

    def __repr__(self):
        return "Flatten()"
