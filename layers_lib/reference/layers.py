"""Layers with structure: the container, the affine map, the softmaxes, normalisation, dropout.

Shapes: B is the batch size, N the number of input features, M of output features.
Every layer keeps the input's dtype: float32 in gives float32 out.
"""
import numpy as np

from ..contract import Module


class Sequential(Module):
    """A chain of modules applied in order.

    forward:  y_0 = input, y_k = module_k(y_{k-1}), output = y_K.
    backward: g_K = grad_output, g_{k-1} = module_k.backward(y_{k-1}, g_k), grad_input = g_0;
    each module gets back exactly the input it saw in forward.
    """

    def __init__(self):
        super().__init__()
        self.modules = []
        self.inputs = None          # inputs[k] is what modules[k] received in forward
        self.grad_outputs = None    # grad_outputs[k] is what modules[k] received in backward

    def add(self, module):
        """Append `module` to the chain."""
        self.modules.append(module)

    def update_output(self, input):
        """input (B, ...) -> the last module's output."""
        self.inputs = []
        for module in self.modules:
            self.inputs.append(input)
            input = module.forward(input)
        self.output = input
        return self.output

    def backward(self, input, grad_output):
        """Backpropagate through every module in reverse; returns dLoss/dinput."""
        return self.update_grad_input(input, grad_output)

    def update_grad_input(self, input, grad_output):
        """Run each module's `backward` in reverse order (this also sets its parameter gradients)."""
        if self.inputs is None or len(self.inputs) != len(self.modules):
            raise RuntimeError("Sequential.backward called before forward: call forward(input) first")
        self.grad_outputs = [None] * len(self.modules)
        for k in reversed(range(len(self.modules))):
            self.grad_outputs[k] = grad_output
            grad_output = self.modules[k].backward(self.inputs[k], grad_output)
        self.grad_input = grad_output
        return self.grad_input

    def update_grad_params(self, input, grad_output):
        """Recompute every module's parameter gradients from the last backward pass (idempotent)."""
        if self.grad_outputs is None:
            self.update_grad_input(input, grad_output)
            return
        for module, module_input, module_grad in zip(self.modules, self.inputs, self.grad_outputs):
            module.update_grad_params(module_input, module_grad)

    def zero_grad_params(self):
        for module in self.modules:
            module.zero_grad_params()

    def get_params(self):
        """One list per module: `get_params()[k]` is `modules[k].get_params()`."""
        return [module.get_params() for module in self.modules]

    def get_grad_params(self):
        """One list per module, in the order of `get_params()`."""
        return [module.get_grad_params() for module in self.modules]

    def train(self):
        self.training = True
        for module in self.modules:
            module.train()

    def evaluate(self):
        self.training = False
        for module in self.modules:
            module.evaluate()

    def __getitem__(self, index):
        return self.modules[index]

    def __len__(self):
        return len(self.modules)

    def __repr__(self):
        return "Sequential(\n" + "".join(f"  {module!r}\n" for module in self.modules) + ")"


class Linear(Module):
    """Affine map: output = input @ W + b.

    Parameters: W (N, M), b (M,), initialised uniformly in +-1/sqrt(N) like PyTorch.
    (PyTorch stores the weight transposed: W = torch_linear.weight.T.)

    forward:  Y = X W + b                               X (B, N) -> Y (B, M)
    backward: dL/dX = G W^T,  dL/dW = X^T G,  dL/db = sum_batch G      G = dL/dY (B, M)
    """

    def __init__(self, n_in, n_out, dtype=np.float64):
        super().__init__()
        self.n_in, self.n_out = n_in, n_out
        bound = 1.0 / np.sqrt(n_in)
        self.W = np.random.uniform(-bound, bound, size=(n_in, n_out)).astype(dtype)
        self.b = np.random.uniform(-bound, bound, size=n_out).astype(dtype)
        self.grad_W = np.zeros_like(self.W)
        self.grad_b = np.zeros_like(self.b)

    def _check(self, array, width, what):
        if array.ndim != 2 or array.shape[1] != width:
            raise ValueError(f"Linear({self.n_in}, {self.n_out}) expects {what} of shape "
                             f"(batch, {width}), got {array.shape}")

    def update_output(self, input):
        """input (B, N) -> output (B, M), input's dtype."""
        self._check(input, self.W.shape[0], "input")
        output = input @ self.W
        output += self.b            # in place: one (B, M) temporary and one pass fewer
        self.output = output.astype(input.dtype, copy=False)
        return self.output

    def update_grad_input(self, input, grad_output):
        """grad_output (B, M) -> grad_input = grad_output @ W.T (B, N)."""
        self._check(grad_output, self.W.shape[1], "grad_output")
        self.grad_input = (grad_output @ self.W.T).astype(input.dtype, copy=False)
        return self.grad_input

    def update_grad_params(self, input, grad_output):
        """grad_W = input.T @ grad_output (N, M), grad_b = grad_output summed over the batch (M,)."""
        self.grad_W = (input.T @ grad_output).astype(self.W.dtype, copy=False)
        self.grad_b = grad_output.sum(axis=0).astype(self.b.dtype, copy=False)

    def zero_grad_params(self):
        self.grad_W = np.zeros(self.W.shape, dtype=self.W.dtype)
        self.grad_b = np.zeros(self.b.shape, dtype=self.b.dtype)

    def get_params(self):
        return [self.W, self.b]

    def get_grad_params(self):
        return [self.grad_W, self.grad_b]

    def __repr__(self):
        return f"Linear({self.n_in}, {self.n_out})"


class SoftMax(Module):
    """Softmax over the features (axis 1).

    forward:  p_ij = exp(x_ij - m_i) / sum_k exp(x_ik - m_i),  m_i = max_k x_ik
              (subtracting the row maximum changes nothing mathematically and keeps exp <= 1)
    backward: dL/dx_ij = p_ij * (g_ij - sum_k g_ik p_ik)       X, G (B, N)
    """

    def update_output(self, input):
        """input (B, N) -> probabilities (B, N), each row sums to 1."""
        exp = np.exp(input - input.max(axis=1, keepdims=True))
        self.output = exp / exp.sum(axis=1, keepdims=True)
        return self.output

    def update_grad_input(self, input, grad_output):
        """The Jacobian-vector product of the softmax, (B, N)."""
        p = self.output
        self.grad_input = p * (grad_output - (grad_output * p).sum(axis=1, keepdims=True))
        return self.grad_input


class LogSoftMax(Module):
    """Log of the softmax over the features (axis 1), computed without forming the softmax.

    forward:  y_ij = (x_ij - m_i) - log sum_k exp(x_ik - m_i),  m_i = max_k x_ik
    backward: dL/dx_ij = g_ij - exp(y_ij) * sum_k g_ik             X, G (B, N)
    """

    def update_output(self, input):
        """input (B, N) -> log-probabilities (B, N)."""
        shifted = input - input.max(axis=1, keepdims=True)
        self.output = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        return self.output

    def update_grad_input(self, input, grad_output):
        """dL/dx (B, N); exp(output) is the softmax and never overflows (output <= 0)."""
        self.grad_input = grad_output - np.exp(self.output) * grad_output.sum(axis=1, keepdims=True)
        return self.grad_input


class BatchNormalization(Module):
    """Normalise each feature to zero mean and unit variance (no affine part: see `Scaling`).

    train:    mu = mean_batch x,  var = mean_batch (x - mu)^2   (biased),
              y = (x - mu) / sqrt(var + EPS),
              moving = alpha * moving + (1 - alpha) * batch statistic   (PyTorch momentum = 1 - alpha)
    evaluate: y = (x - moving_mean) / sqrt(moving_variance + EPS)
    backward (train), with s = 1/sqrt(var + EPS) and G = dL/dy:
              dL/dx = s / B * (B G - sum_batch G - y * sum_batch(G y))
    backward (evaluate): dL/dx = G * s_moving.                         X, G, y (B, N)
    """

    EPS = 1e-3

    def __init__(self, alpha=0.):
        super().__init__()
        self.alpha = alpha
        self.moving_mean = None       # (N,), starts at 0 on the first training batch (as in PyTorch)
        self.moving_variance = None   # (N,), starts at 1
        self._inv_std = None

    def update_output(self, input):
        """input (B, N) -> normalised output (B, N)."""
        if self.training:
            mean = input.mean(axis=0)
            centered = input - mean
            var = (centered * centered).mean(axis=0)
            self._inv_std = 1.0 / np.sqrt(var + self.EPS)
            self.output = centered * self._inv_std
            if self.moving_mean is None:
                self.moving_mean = np.zeros(input.shape[1], dtype=input.dtype)
                self.moving_variance = np.ones(input.shape[1], dtype=input.dtype)
            self.moving_mean = self.alpha * self.moving_mean + (1 - self.alpha) * mean
            self.moving_variance = self.alpha * self.moving_variance + (1 - self.alpha) * var
        else:
            if self.moving_mean is None or self.moving_variance is None:
                raise RuntimeError("BatchNormalization in evaluate mode has no moving statistics yet "
                                   "(evaluate() before any training batch): "
                                   "run at least one training batch (or set moving_mean and "
                                   "moving_variance) before evaluate()")
            self._inv_std = 1.0 / np.sqrt(self.moving_variance + self.EPS)
            self.output = (input - self.moving_mean) * self._inv_std
        self.output = self.output.astype(input.dtype, copy=False)
        return self.output

    def update_grad_input(self, input, grad_output):
        """dL/dx (B, N) through the batch statistics (train) or the fixed ones (evaluate)."""
        if self._inv_std is None:
            raise RuntimeError("BatchNormalization.backward called before forward")
        if self.training:
            batch = input.shape[0]
            y = self.output
            self.grad_input = (self._inv_std / batch) * (
                batch * grad_output - grad_output.sum(axis=0) - y * (grad_output * y).sum(axis=0))
        else:
            self.grad_input = grad_output * self._inv_std
        self.grad_input = self.grad_input.astype(input.dtype, copy=False)
        return self.grad_input

    def __repr__(self):
        return f"BatchNormalization(alpha={self.alpha})"


class Scaling(Module):
    """Per-feature affine map: output = input * gamma + beta (the affine half of batch norm).

    Parameters gamma (N,) initialised to 1, beta (N,) to 0.
    backward: dL/dx = G * gamma,  dL/dgamma = sum_batch G * x,  dL/dbeta = sum_batch G.
    """

    def __init__(self, n_out, dtype=np.float64):
        super().__init__()
        self.gamma = np.ones(n_out, dtype=dtype)
        self.beta = np.zeros(n_out, dtype=dtype)
        self.grad_gamma = np.zeros_like(self.gamma)
        self.grad_beta = np.zeros_like(self.beta)

    def update_output(self, input):
        """input (B, N) -> input * gamma + beta (B, N)."""
        self.output = (input * self.gamma + self.beta).astype(input.dtype, copy=False)
        return self.output

    def update_grad_input(self, input, grad_output):
        """dL/dx = grad_output * gamma (B, N)."""
        self.grad_input = (grad_output * self.gamma).astype(input.dtype, copy=False)
        return self.grad_input

    def update_grad_params(self, input, grad_output):
        """grad_gamma = sum_batch grad_output * input, grad_beta = sum_batch grad_output (N,)."""
        self.grad_gamma = (grad_output * input).sum(axis=0).astype(self.gamma.dtype, copy=False)
        self.grad_beta = grad_output.sum(axis=0).astype(self.beta.dtype, copy=False)

    def zero_grad_params(self):
        self.grad_gamma = np.zeros_like(self.gamma)
        self.grad_beta = np.zeros_like(self.beta)

    def get_params(self):
        return [self.gamma, self.beta]

    def get_grad_params(self):
        return [self.grad_gamma, self.grad_beta]

    def __repr__(self):
        return f"Scaling({self.gamma.shape[0]})"


class Dropout(Module):
    """Inverted dropout; `p` is the probability to DROP an element.

    train:    mask_ij ~ Bernoulli(1 - p) independently per element,
              y = x * mask / (1 - p)          (so the expectation of y is x)
    evaluate: y = x
    backward: dL/dx = G * mask / (1 - p) with the mask of the last forward (identity in evaluate).
    """

    def __init__(self, p=0.5):
        super().__init__()
        if not 0 <= p < 1:
            raise ValueError(f"Dropout probability p must be in [0, 1), got {p}")
        self.p = p
        self.mask = None    # 1 where the element was kept, 0 where dropped; input's shape

    def update_output(self, input):
        """input (B, ...) -> output of the same shape."""
        if not self.training or self.p == 0:
            self.mask = None
            self.output = input
            return self.output
        self.mask = (np.random.random_sample(input.shape) >= self.p).astype(input.dtype)
        self.output = input * self.mask * np.asarray(1.0 / (1.0 - self.p), dtype=input.dtype)
        return self.output

    def update_grad_input(self, input, grad_output):
        """dL/dx: the same mask and scale as forward, (B, ...)."""
        if not self.training or self.p == 0:
            self.grad_input = grad_output
            return self.grad_input
        if self.mask is None:
            raise RuntimeError("Dropout.backward called before forward in training mode: "
                               "there is no mask to reuse")
        if self.mask.shape != grad_output.shape:
            raise ValueError(f"Dropout: grad_output shape {grad_output.shape} does not match the "
                             f"mask of the last forward {self.mask.shape}")
        scale = np.asarray(1.0 / (1.0 - self.p), dtype=grad_output.dtype)
        self.grad_input = grad_output * self.mask * scale
        return self.grad_input

    def __repr__(self):
        return f"Dropout(p={self.p})"
