"""Plots for the training notebooks. Every function returns a matplotlib Figure.

The figures are built without pyplot, so they work with any backend (Agg included), pile
up no global state, and show exactly once in a notebook: as the value of the last
expression in a cell, or via ``display(fig)`` (they render themselves as PNG, so this
works even if pyplot / ``%matplotlib inline`` was never set up).
Functions that draw on one Axes accept ``ax=`` to draw into an existing figure instead.
"""
from __future__ import annotations

import io

import numpy as np
from matplotlib.figure import Figure

from .i18n import tr
from .training import predict

__all__ = ["plot_history", "live_history", "plot_confusion_matrix", "plot_misclassified",
           "plot_decision_boundary"]


class NotebookFigure(Figure):
    """A Figure with a PNG repr: Jupyter shows a bare Figure only if pyplot set up the
    inline backend, and these figures deliberately never touch pyplot."""

    def _repr_png_(self):
        buffer = io.BytesIO()
        self.savefig(buffer, format="png")
        return buffer.getvalue()


def _new_axes(ax, figsize):
    if ax is not None:
        return ax.figure, ax
    fig = NotebookFigure(figsize=figsize, layout="constrained")
    return fig, fig.add_subplot()


def plot_history(histories, show_batches=True):
    """Loss and accuracy per epoch, for one run or several runs to compare.

    Inputs:
    - histories: a History from ``training.train``, or a dict {name: History}
      (e.g. {'sgd_momentum': h1, 'adam': h2}) drawn in one colour per run.
      Training curves are solid, validation curves dashed.
    - show_batches: for a single run, also draw every minibatch loss faintly, at its
      fractional epoch.

    Returns a Figure with two Axes: loss (left) and accuracy (right).
    """
    runs = histories if isinstance(histories, dict) else {"": histories}
    fig = NotebookFigure(figsize=(11, 4), layout="constrained")
    ax_loss, ax_acc = fig.subplots(1, 2)
    for i, (name, h) in enumerate(runs.items()):
        colour = f"C{i}"
        prefix = f"{name} " if name else ""
        epochs = np.arange(1, h.epochs + 1)
        if show_batches and len(runs) == 1 and h.batch_loss and h.batches_per_epoch:
            steps = np.arange(1, len(h.batch_loss) + 1) / h.batches_per_epoch
            ax_loss.plot(steps, h.batch_loss, color=colour, alpha=0.25, lw=0.8, label=tr("minibatch"))
        train, val = prefix + tr("train"), prefix + tr("val")
        ax_loss.plot(epochs, h.train_loss, "-o", color=colour, ms=3, label=train)
        ax_acc.plot(epochs, h.train_acc, "-o", color=colour, ms=3, label=train)
        if h.val_loss:
            ax_loss.plot(epochs, h.val_loss, "--s", color=colour, ms=3, label=val)
            ax_acc.plot(epochs, h.val_acc, "--s", color=colour, ms=3, label=val)
    for ax, title in ((ax_loss, tr("loss")), (ax_acc, tr("accuracy"))):
        ax.set_xlabel(tr("epoch"))
        ax.set_title(title)
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")
    return fig


def live_history(show_batches=True):
    """A callback for ``train(..., on_epoch=live_history())`` that redraws ``plot_history``
    after every epoch, in one notebook output that is updated in place.

    Returns None outside IPython (or without IPython installed): ``train`` then draws nothing.
    """
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:
        return None
    if get_ipython() is None:
        return None
    handle = None

    def update(history):
        nonlocal handle
        fig = plot_history(history, show_batches=show_batches)
        if handle is None:
            handle = display(fig, display_id=True)
        else:
            handle.update(fig)

    return update


def plot_confusion_matrix(cm, class_names=None, normalize=False, ax=None):
    """Heat map of a confusion matrix with the counts written in the cells.

    Inputs:
    - cm: (C, C) array from ``training.confusion_matrix``; rows = true, columns = predicted.
    - class_names: C labels for the ticks (default 0..C-1).
    - normalize: divide each row by its total, so cells read as per-class recall.
    - ax: draw into this Axes instead of a new figure.

    Returns the Figure.
    """
    cm = np.asarray(cm)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(tr("cm must be a square (C, C) array, got shape {shape}", shape=cm.shape))
    n = cm.shape[0]
    values = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1) if normalize else cm
    fig, ax = _new_axes(ax, (0.5 * n + 2, 0.5 * n + 1.5))
    image = ax.imshow(values, cmap="Blues")
    fig.colorbar(image, ax=ax, shrink=0.8)
    names = [str(c) for c in (class_names if class_names is not None else range(n))]
    ax.set_xticks(range(n), names)
    ax.set_yticks(range(n), names)
    ax.set_xlabel(tr("predicted"))
    ax.set_ylabel(tr("true"))
    threshold = values.max() / 2 if values.size else 0
    for (i, j), v in np.ndenumerate(values):
        text = f"{v:.2f}" if normalize else str(int(v))
        ax.text(j, i, text, ha="center", va="center", fontsize="small",
                color="white" if v > threshold else "black")
    return fig


def plot_misclassified(X, y_true, y_pred, image_shape, n=16, ncols=8):
    """The first ``n`` misclassified samples drawn as images, titled 'true→predicted'.

    Inputs:
    - X: (N, D) samples with D = prod(image_shape), in any scaling (each image is drawn
      with its own grey range).
    - y_true, y_pred: (N,) integer labels.
    - image_shape: shape of one image, e.g. (8, 8) for digits or (28, 28) for MNIST.
    - n: how many to show at most; ncols: images per row.

    Returns the Figure (with a note instead of images if nothing is misclassified).
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if not (len(X) == len(y_true) == len(y_pred)):
        raise ValueError(tr("X, y_true, y_pred have {n_x}, {n_true}, {n_pred} samples", n_x=len(X),
                            n_true=len(y_true), n_pred=len(y_pred)))
    wrong = np.flatnonzero(y_true != y_pred)[:n]
    if len(wrong) == 0:
        fig = NotebookFigure(figsize=(4, 1))
        fig.text(0.5, 0.5, tr("no misclassified samples"), ha="center", va="center")
        return fig
    ncols = min(ncols, len(wrong))
    nrows = -(-len(wrong) // ncols)
    fig = NotebookFigure(figsize=(1.3 * ncols, 1.5 * nrows), layout="constrained")
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    for ax in axes:
        ax.axis("off")
    for ax, i in zip(axes, wrong):
        ax.imshow(np.asarray(X[i]).reshape(image_shape), cmap="gray_r")
        ax.set_title(f"{y_true[i]}→{y_pred[i]}", fontsize="small", color="C3")
    fig.suptitle(tr("misclassified: true→predicted ({count} in total)",
                    count=int(np.sum(y_true != y_pred))))
    return fig


def plot_decision_boundary(model, X, y, resolution=200, padding=0.5, ax=None):
    """The classes a model predicts over the plane, with the samples on top (2-D data only).

    Inputs:
    - model: a trained model following the layer API, mapping (B, 2) to (B, C); it is
      run in evaluation mode (its mode is restored).
    - X: (N, 2) samples; y: (N,) integer labels.
    - resolution: grid points per axis; padding: margin around the data, in data units.
    - ax: draw into this Axes instead of a new figure.

    Returns the Figure.
    """
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(tr("plot_decision_boundary needs 2-D inputs of shape (N, 2), got {shape}",
                            shape=X.shape))
    dtype = X.dtype if np.issubdtype(X.dtype, np.floating) else np.float32
    xs = np.linspace(X[:, 0].min() - padding, X[:, 0].max() + padding, resolution)
    ys = np.linspace(X[:, 1].min() - padding, X[:, 1].max() + padding, resolution)
    grid_x, grid_y = np.meshgrid(xs, ys)
    grid = np.stack([grid_x.ravel(), grid_y.ravel()], axis=1).astype(dtype)
    classes = predict(model, grid, batch_size=4096).reshape(grid_x.shape)
    n_classes = int(max(classes.max(), np.max(y))) + 1
    fig, ax = _new_axes(ax, (5, 4.5))
    levels = np.arange(n_classes + 1) - 0.5
    ax.contourf(grid_x, grid_y, classes, levels=levels, cmap="tab10", vmin=-0.5, vmax=9.5, alpha=0.3)
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap="tab10", vmin=-0.5, vmax=9.5, s=12, edgecolors="k",
               linewidths=0.3)
    ax.set_xlim(xs[0], xs[-1])
    ax.set_ylim(ys[0], ys[-1])
    ax.set_title(tr("decision regions"))
    return fig
