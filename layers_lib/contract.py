"""The two contracts of the framework: `Module` (a layer) and `Criterion` (a loss).

Both follow Torch7's `nn`: a public `forward`/`backward` pair that delegates to the
`update_*` methods a layer implements. Every array method takes and returns NumPy
arrays whose first axis is the batch.
"""
import numpy as np


class Module:
    """Base class of every layer.

    A layer implements `update_output` and `update_grad_input`, and if it has
    parameters also `update_grad_params`, `zero_grad_params`, `get_params` and
    `get_grad_params`.

    Attributes:
        output: the result of the last `forward`, shape depends on the layer.
        grad_input: the result of the last `backward`, same shape as the input.
        training: True in training mode, False after `evaluate()`.
    """

    def __init__(self):
        self.output = None
        self.grad_input = None
        self.training = True

    def forward(self, input):
        """Compute the output for `input` (batch, ...); returns `update_output(input)`."""
        return self.update_output(input)

    def backward(self, input, grad_output):
        """Backpropagate `grad_output` (the gradient of the loss w.r.t. this layer's output).

        Computes the gradient w.r.t. the input and the parameter gradients. Must be
        called after `forward(input)` with the same `input`.

        Returns:
            grad_input: dLoss/dinput, same shape as `input`.
        """
        self.update_grad_input(input, grad_output)
        self.update_grad_params(input, grad_output)
        return self.grad_input

    def update_output(self, input):
        """Compute `self.output` from `input` and return it."""
        raise NotImplementedError(f"{type(self).__name__}.update_output is not implemented")

    def update_grad_input(self, input, grad_output):
        """Compute `self.grad_input` (dLoss/dinput) and return it."""
        raise NotImplementedError(f"{type(self).__name__}.update_grad_input is not implemented")

    def update_grad_params(self, input, grad_output):
        """Set (not add to) the gradients of the parameters. No parameters: nothing to do."""

    def zero_grad_params(self):
        """Set the parameter gradients to zero. No parameters: nothing to do."""

    def get_params(self):
        """The live parameter arrays (optimizers update them in place)."""
        return []

    def get_grad_params(self):
        """The parameter gradients, in the order of `get_params()`."""
        return []

    def train(self):
        """Switch to training mode (matters for Dropout and BatchNormalization)."""
        self.training = True

    def evaluate(self):
        """Switch to evaluation mode (matters for Dropout and BatchNormalization)."""
        self.training = False

    def __repr__(self):
        return f"{type(self).__name__}()"


class Criterion:
    """Base class of every loss.

    `forward(input, target)` returns a scalar loss; `backward(input, target)` returns
    dLoss/dinput with the shape of `input`. `target` is one-hot, shape (batch, classes);
    the reference criteria also accept integer class labels of shape (batch,).
    """

    def __init__(self):
        self.output = None
        self.grad_input = None

    def forward(self, input, target):
        """The loss for `input` (batch, classes) and `target`; returns `update_output`."""
        return self.update_output(input, target)

    def backward(self, input, target):
        """dLoss/dinput, shape (batch, classes); returns `update_grad_input`."""
        return self.update_grad_input(input, target)

    def update_output(self, input, target):
        """Compute the scalar loss, store it in `self.output` and return it."""
        raise NotImplementedError(f"{type(self).__name__}.update_output is not implemented")

    def update_grad_input(self, input, target):
        """Compute `self.grad_input` (dLoss/dinput) and return it."""
        raise NotImplementedError(f"{type(self).__name__}.update_grad_input is not implemented")

    def one_hot_target(self, input, target):
        """`target` as a one-hot array shaped and typed like `input` (batch, classes).

        Accepts a one-hot (batch, classes) array or integer labels (batch,).
        """
        input = np.asarray(input)
        target = np.asarray(target)
        name = type(self).__name__
        if input.ndim != 2:
            raise ValueError(f"{name} expects input of shape (batch, classes), got {input.shape}")
        batch, classes = input.shape
        if target.ndim == 1 and np.issubdtype(target.dtype, np.integer):
            if target.shape[0] != batch:
                raise ValueError(f"{name}: {target.shape[0]} labels for a batch of {batch}")
            if target.size and (target.min() < 0 or target.max() >= classes):
                raise ValueError(f"{name}: labels must lie in [0, {classes}), "
                                 f"got {target.min()}..{target.max()}")
            one_hot = np.zeros(input.shape, dtype=input.dtype)
            one_hot[np.arange(batch), target] = 1
            return one_hot
        if target.shape != input.shape:
            raise ValueError(f"{name}: target shape {target.shape} does not match input shape "
                             f"{input.shape} (give one-hot targets or integer labels of shape ({batch},))")
        return target

    def __repr__(self):
        return f"{type(self).__name__}()"
