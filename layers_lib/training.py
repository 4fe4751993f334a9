"""A minibatch training loop for any model and criterion that follow the layer API (SPEC.md).

The loop only calls the API: ``zero_grad_params``, ``forward``, ``backward``, ``get_params``,
``get_grad_params``, ``train``, ``evaluate`` on the model, ``forward``/``backward`` on the
criterion, and ``optimizer(variables, gradients, config, state)``. So it trains the
students' classes and the reference ones alike.

Conventions: ``N`` samples, ``D`` features, ``C`` classes; labels are integers of shape (N,);
the criterion receives one-hot targets of shape (B, C), as the layer API requires.
"""
from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field

import numpy as np

from .data import check_positive_int, iterate_minibatches, one_hot
from .i18n import mark, tr

__all__ = ["History", "train", "evaluate", "predict", "forward_in_batches", "accuracy",
           "confusion_matrix", "cast_parameters"]

_STABILITY_HINT = mark("lower the learning rate or check LogSoftMax stability")


@dataclass
class History:
    """What ``train`` measured. Per-epoch lists have one entry per epoch.

    - train_loss, train_acc: averages over the epoch's minibatches, measured in training
      mode while the weights were changing (cheap; with Dropout they run worse than an
      evaluation pass would).
    - val_loss, val_acc: measured in evaluation mode after each epoch (empty without
      validation data).
    - batch_loss: the loss of every minibatch, in order; ``batches_per_epoch`` of them
      per epoch.
    - epoch_time: seconds per epoch (validation included); wall_time: their total.
    """
    train_loss: list = field(default_factory=list)
    train_acc: list = field(default_factory=list)
    val_loss: list = field(default_factory=list)
    val_acc: list = field(default_factory=list)
    batch_loss: list = field(default_factory=list)
    epoch_time: list = field(default_factory=list)
    batches_per_epoch: int = 0

    @property
    def epochs(self):
        return len(self.train_loss)

    @property
    def wall_time(self):
        return float(sum(self.epoch_time))

    def summary(self):
        """One line with the last epoch's numbers, e.g. for print()."""
        if not self.epochs:
            return tr("History(no epochs)")
        text = tr("epoch {epoch}: train loss {loss:.4f}, train acc {acc:.4f}", epoch=self.epochs,
                  loss=self.train_loss[-1], acc=self.train_acc[-1])
        if self.val_loss:
            text += tr(", val loss {loss:.4f}, val acc {acc:.4f}", loss=self.val_loss[-1],
                       acc=self.val_acc[-1])
        return text + " " + tr("({seconds:.2f} s)", seconds=self.wall_time)


@contextlib.contextmanager
def _mode(model, training):
    """Put the model in training / evaluation mode and restore its previous mode after."""
    was_training = getattr(model, "training", True)
    model.train() if training else model.evaluate()
    try:
        yield model
    finally:
        model.train() if was_training else model.evaluate()


def _check_labels(y, name):
    y = np.asarray(y)
    if y.ndim != 1 or (y.size and not np.issubdtype(y.dtype, np.integer)):
        raise ValueError(tr("{name} must be a 1-D array of integer class labels, got {dtype} of "
                            "shape {shape}", name=name, dtype=y.dtype, shape=y.shape)
                         + (" " + tr("(one-hot? pass labels.argmax(axis=1))") if y.ndim == 2 else ""))
    return y


def _check_output(output, batch, n_classes, where):
    """Fail early, with a message a student can act on, if the model output is unusable."""
    if not isinstance(output, np.ndarray) or output.shape != (batch, n_classes):
        shape = getattr(output, "shape", type(output).__name__)
        raise ValueError(tr("{where}: model output has shape {shape}, expected ({batch}, {n_classes}) "
                            "= (batch size, number of classes); check n_out of the last Linear layer "
                            "and that every update_output returns its result", where=where,
                            shape=shape, batch=batch, n_classes=n_classes))
    if not np.all(np.isfinite(output)):
        raise FloatingPointError(tr("model output contains NaN or inf at {where} — {hint}",
                                    where=where, hint=tr(_STABILITY_HINT)))


def forward_in_batches(model, X, batch_size=1024):
    """Model outputs for all of X, computed in evaluation mode, batch by batch.

    Inputs:
    - model: any module following the layer API.
    - X: (N, D) inputs.
    - batch_size: samples per forward pass (bounds memory, not the result).

    Returns the (N, C) outputs, concatenated. The model's train/eval mode is restored.
    """
    with _mode(model, training=False):
        outputs = [np.array(model.forward(xb), copy=True)
                   for xb in iterate_minibatches(X, None, batch_size, shuffle=False)]
    if not outputs:
        raise ValueError(tr("X is empty"))
    return np.concatenate(outputs)


def predict(model, X, batch_size=1024):
    """Predicted class labels: the argmax of the model output (evaluation mode).

    X: (N, D). Returns (N,) int64.
    """
    return forward_in_batches(model, X, batch_size).argmax(axis=1).astype(np.int64)


def accuracy(model, X, y, batch_size=1024):
    """Fraction of samples whose predicted class equals y. X: (N, D), y: (N,). Returns a float."""
    y = _check_labels(y, "y")
    return float(np.mean(predict(model, X, batch_size) == y))


def confusion_matrix(y_true, y_pred, n_classes):
    """Counts of (true class, predicted class) pairs.

    y_true, y_pred: (N,) integer labels in [0, n_classes).
    Returns an (n_classes, n_classes) int64 array; row = true class, column = prediction,
    so the diagonal holds the correct predictions.
    """
    y_true, y_pred = _check_labels(y_true, "y_true"), _check_labels(y_pred, "y_pred")
    if y_true.shape != y_pred.shape:
        raise ValueError(tr("y_true has shape {true_shape} but y_pred has {pred_shape}",
                            true_shape=y_true.shape, pred_shape=y_pred.shape))
    for name, y in (("y_true", y_true), ("y_pred", y_pred)):
        if y.size and (y.min() < 0 or y.max() >= n_classes):
            raise ValueError(tr("{name} has labels outside [0, {n_classes})", name=name,
                                n_classes=n_classes))
    return np.bincount(y_true * n_classes + y_pred, minlength=n_classes ** 2).reshape(n_classes, n_classes)


def evaluate(model, criterion, X, y, n_classes, batch_size=1024):
    """Mean loss and accuracy of the model on (X, y), in evaluation mode.

    X: (N, D); y: (N,) integer labels. Returns (loss, accuracy) as floats; the loss is
    the sample-weighted mean of the criterion over the batches (criteria average over
    their batch, so this equals the loss of one big batch).
    """
    y = _check_labels(y, "y")
    outputs = forward_in_batches(model, X, batch_size)
    _check_output(outputs, len(X), n_classes, tr("evaluation"))
    total = 0.0
    for out, yb in iterate_minibatches(outputs, y, batch_size, shuffle=False):
        total += float(criterion.forward(out, one_hot(yb, n_classes, out.dtype))) * len(yb)
    return total / len(y), float(np.mean(outputs.argmax(axis=1) == y))


def _all_modules(module):
    yield module
    for child in getattr(module, "modules", None) or []:
        yield from _all_modules(child)


def _attribute_names(module, arrays):
    """The names of the attributes of `module` that are `arrays`, in order; [] unless every one
    is a float ndarray held as an attribute."""
    names = []
    for array in arrays:
        name = next((n for n, v in vars(module).items() if v is array), None)
        if name is None or type(array) is not np.ndarray or array.dtype.kind != "f":
            return []
        names.append(name)
    return names


def cast_parameters(model, dtype):
    """Give the parameters (and their gradients) of `model` and of every module inside it the
    dtype of the data, e.g. float32 for MNIST: numpy multiplies float32 by float64 in float64,
    about half as fast. A module whose get_params() does not return its own attributes (say,
    a list it keeps) is left as it is, so training stays correct either way.
    Returns the number of arrays cast."""
    dtype = np.dtype(dtype)
    cast = 0
    for module in _all_modules(model):
        if getattr(module, "modules", None) is not None:
            continue                            # a container: its modules are cast one by one
        for getter in ("get_params", "get_grad_params"):
            if not callable(getattr(module, getter, None)):
                continue
            names = _attribute_names(module, list(getattr(module, getter)()))
            before = {name: getattr(module, name) for name in names}
            for name in names:
                setattr(module, name, before[name].astype(dtype, copy=False))
            if not all(a is getattr(module, n) for a, n in zip(getattr(module, getter)(), names)):
                for name, array in before.items():      # the getter does not read the attributes
                    setattr(module, name, array)
                continue
            cast += sum(array.dtype != dtype for array in before.values())
    return cast


def train(model, criterion, optimizer, optimizer_config, X_train, y_train, *, epochs,
          batch_size, X_val=None, y_val=None, n_classes=None, seed=0, progress=True,
          on_epoch=None):
    """Train ``model`` with minibatch gradient descent; return a History.

    Each step: zero the parameter gradients, forward, loss, criterion backward, model
    backward, then ``optimizer(model.get_params(), model.get_grad_params(),
    optimizer_config, state)``, which updates the parameters in place. ``state`` is a
    fresh dict for this call, so momentum / Adam moments start from zero.

    Inputs:
    - model, criterion: objects following the layer API; the model maps (B, D) to (B, C).
    - optimizer: e.g. sgd_momentum or adam_optimizer; optimizer_config: its dict of
      hyper-parameters, e.g. {'learning_rate': 1e-2, 'momentum': 0.9}.
    - X_train: (N, D) floats; y_train: (N,) integer labels.
    - epochs: passes over the training set; batch_size: samples per step (the last batch
      of an epoch may be smaller).
    - X_val, y_val: optional validation set, evaluated after every epoch.
    - n_classes: C; by default 1 + the largest label in y_train / y_val.
    - seed: seed of the minibatch order (a new order every epoch, same sequence every run).
      Weight initialisation and Dropout masks use their own randomness.
    - progress: show a tqdm progress bar (a widget in notebooks); False prints nothing.
    - on_epoch: called as ``on_epoch(history)`` after every epoch, e.g.
      ``plots.live_history()`` to redraw the curves in a notebook.

    Returns a History. The model is left in the train/eval mode it was in before.
    Raises FloatingPointError naming the epoch and batch if the output or loss becomes
    NaN/inf, and ValueError if the model output does not have shape (B, C).
    """
    y_train = _check_labels(y_train, "y_train")
    if len(X_train) != len(y_train) or len(y_train) == 0:
        raise ValueError(tr("X_train has {n_x} samples and y_train {n_y}; they must agree and be "
                            "non-empty", n_x=len(X_train), n_y=len(y_train)))
    check_positive_int("epochs", epochs)
    check_positive_int("batch_size", batch_size)
    has_val = X_val is not None and y_val is not None
    if (X_val is None) != (y_val is None):
        raise ValueError(tr("pass both X_val and y_val, or neither"))
    if has_val:
        y_val = _check_labels(y_val, "y_val")
    if n_classes is None:
        n_classes = int(max(y_train.max(), y_val.max() if has_val else 0)) + 1
    rng = np.random.default_rng(seed)
    state = {}
    history = History(batches_per_epoch=-(-len(X_train) // batch_size))
    bar = None
    if progress:
        from tqdm.auto import tqdm  # only imported when asked for: tqdm writes to stderr
        bar = tqdm(total=epochs, desc=tr("training"), unit=tr("epoch"))

    with _mode(model, training=True):
        try:
            for epoch in range(1, epochs + 1):
                start = time.perf_counter()
                loss_sum, correct = 0.0, 0
                batches = iterate_minibatches(X_train, y_train, batch_size, shuffle=True, seed=rng)
                for batch, (xb, yb) in enumerate(batches, start=1):
                    where = tr("epoch {epoch} batch {batch}", epoch=epoch, batch=batch)
                    target = one_hot(yb, n_classes, dtype=xb.dtype)
                    model.zero_grad_params()
                    out = model.forward(xb)
                    _check_output(out, len(xb), n_classes, where)
                    # Count hits before backward: a layer may overwrite its output buffer there.
                    correct += int(np.sum(out.argmax(axis=1) == yb))
                    loss = float(criterion.forward(out, target))
                    if not np.isfinite(loss):
                        raise FloatingPointError(
                            tr("loss became NaN at {where} — {hint}", where=where, hint=tr(_STABILITY_HINT))
                            if np.isnan(loss) else
                            tr("loss became infinite at {where} — {hint}", where=where,
                               hint=tr(_STABILITY_HINT)))
                    grad = criterion.backward(out, target)
                    model.backward(xb, grad)
                    optimizer(model.get_params(), model.get_grad_params(), optimizer_config, state)
                    history.batch_loss.append(loss)
                    loss_sum += loss * len(xb)
                history.train_loss.append(loss_sum / len(X_train))
                history.train_acc.append(correct / len(X_train))
                if has_val:
                    val_loss, val_acc = evaluate(model, criterion, X_val, y_val, n_classes, batch_size=1024)
                    history.val_loss.append(val_loss)
                    history.val_acc.append(val_acc)
                history.epoch_time.append(time.perf_counter() - start)
                if bar is not None:
                    stats = {"loss": history.train_loss[-1], "acc": history.train_acc[-1]}
                    if has_val:
                        stats.update(val_loss=history.val_loss[-1], val_acc=history.val_acc[-1])
                    bar.set_postfix({k: f"{v:.4f}" for k, v in stats.items()})
                    bar.update(1)
                if on_epoch is not None:
                    on_epoch(history)
        finally:
            if bar is not None:
                bar.close()
    return history
