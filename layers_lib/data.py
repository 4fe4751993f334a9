"""Datasets and batching for the training notebooks. Nothing here downloads anything.

* ``load_digits_split``: the 8x8 digits bundled with scikit-learn, split and normalised.
* ``make_moons`` / ``make_spirals``: seeded 2-D toy sets generated with NumPy.
* ``read_idx`` / ``write_idx`` / ``load_mnist_idx``: MNIST from IDX files the user already has.
* ``one_hot``, ``train_val_test_split``, ``standardize``, ``iterate_minibatches``: the plumbing.

Conventions: ``N`` samples, ``D`` features, ``C`` classes. Features are float arrays of shape
``(N, D)`` (float32 stays float32); labels are int64 arrays of shape ``(N,)`` with values in
``[0, C)``.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .idx import read_idx, write_idx

__all__ = [
    "Splits", "Standardizer", "load_digits_split", "make_moons", "make_spirals",
    "read_idx", "write_idx", "load_mnist_idx", "one_hot", "train_val_test_split",
    "standardize", "iterate_minibatches", "check_positive_int",
]


@dataclass
class Splits:
    """A dataset split into train / validation / test parts.

    X_* have shape (N_*, D) and the requested float dtype; y_* have shape (N_*,), int64.
    ``image_shape`` is the shape one row reshapes to for plotting, e.g. (8, 8), or None.
    ``normalization`` says how X was scaled; ``standardizer`` is set when it was
    standardised (it holds the train mean/std, so ``inverse_transform`` recovers pixels).
    """
    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    n_classes: int
    image_shape: tuple | None = None
    normalization: str = "none"
    standardizer: "Standardizer | None" = field(default=None, repr=False)

    def __repr__(self):
        return (f"Splits(train={self.X_train.shape}, val={self.X_val.shape}, "
                f"test={self.X_test.shape}, n_classes={self.n_classes}, "
                f"image_shape={self.image_shape}, normalization={self.normalization!r}, "
                f"dtype={self.X_train.dtype})")


@dataclass
class Standardizer:
    """Per-feature standardisation ``(X - mean) / std`` with statistics from one array.

    mean, std: arrays of shape (D,). Features that are constant in the fitting data get
    std = 1, so they map to 0 there instead of exploding wherever they are not constant
    (in digits, border pixels are almost always 0 in train but not always in test).
    """
    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def fit(cls, X, eps=1e-8):
        """X: (N, D) array. Returns a Standardizer holding float64 (D,) mean and std."""
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[0] == 0:
            raise ValueError(f"Standardizer.fit expects a non-empty (N, D) array, got shape {X.shape}")
        std = X.std(axis=0)
        return cls(mean=X.mean(axis=0), std=np.where(std > eps, std, 1.0))

    def transform(self, X):
        """X: (N, D). Returns (N, D) in X's float dtype (float32 for integer input)."""
        X = np.asarray(X)
        out_dtype = X.dtype if np.issubdtype(X.dtype, np.floating) else np.float32
        return ((X - self.mean) / self.std).astype(out_dtype, copy=False)

    def inverse_transform(self, X):
        """X: (N, D) standardised. Returns (N, D) in the original units, X's dtype."""
        X = np.asarray(X)
        return (X * self.std + self.mean).astype(X.dtype, copy=False)


def standardize(X_train, *X_others, eps=1e-8):
    """Standardise features with statistics fitted on ``X_train`` only.

    Inputs:
    - X_train: (N, D) array the mean/std are computed from.
    - X_others: any number of (M, D) arrays (validation, test) transformed with the same
      statistics, so nothing about them leaks into the normalisation.

    Returns a tuple ``(X_train_std, *X_others_std, standardizer)``, e.g.
    ``Xtr, Xva, Xte, scaler = standardize(Xtr, Xva, Xte)``.
    """
    scaler = Standardizer.fit(X_train, eps=eps)
    return (scaler.transform(X_train), *(scaler.transform(X) for X in X_others), scaler)


def check_positive_int(name, value):
    """Raise ValueError naming ``name`` unless ``value`` is an int >= 1 (bool is not an int here)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")


def one_hot(labels, n_classes, dtype=np.float32):
    """Encode integer class labels as one-hot rows (the criteria's target format).

    Inputs:
    - labels: (N,) integers in [0, n_classes).
    - n_classes: number of classes C, a positive int.
    - dtype: float dtype of the result.

    Returns a (N, C) array with a single 1 per row.
    """
    labels = np.asarray(labels)
    check_positive_int("n_classes", n_classes)
    if labels.ndim != 1:
        hint = " (already one-hot? use labels.argmax(axis=1))" if labels.ndim == 2 else ""
        raise ValueError(f"labels must be a 1-D array of class indices, got shape {labels.shape}{hint}")
    if labels.size and not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be integers, got dtype {labels.dtype}")
    if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
        raise ValueError(f"labels must lie in [0, {n_classes}), got values from "
                         f"{labels.min()} to {labels.max()}")
    out = np.zeros((labels.shape[0], n_classes), dtype=dtype)
    out[np.arange(labels.shape[0]), labels] = 1
    return out


def _largest_remainder(counts, total):
    """Split ``total`` into integer parts proportional to ``counts`` that sum exactly to it."""
    exact = counts * total / counts.sum()
    parts = np.floor(exact).astype(np.int64)
    order = np.argsort(-(exact - parts), kind="stable")
    parts[order[: total - parts.sum()]] += 1
    return parts


def train_val_test_split(X, y, val_fraction=0.15, test_fraction=0.15, seed=0, stratify=True):
    """Shuffle and split a labelled dataset into train / validation / test parts.

    Inputs:
    - X: (N, ...) samples; y: (N,) integer labels.
    - val_fraction, test_fraction: fractions of N (rounded) for validation and test.
    - seed: seed of the shuffle; the same seed gives the same split.
    - stratify: keep each class's share the same in every part (up to rounding).

    Returns (X_train, y_train, X_val, y_val, X_test, y_test); every sample lands in
    exactly one part, and each part is shuffled (classes are not grouped).
    """
    X, y = np.asarray(X), np.asarray(y)
    n = len(X)
    if len(y) != n:
        raise ValueError(f"X has {n} samples but y has {len(y)}")
    if not (0 <= val_fraction < 1 and 0 <= test_fraction < 1 and val_fraction + test_fraction < 1):
        raise ValueError("val_fraction and test_fraction must be in [0, 1) and sum to less than 1, "
                         f"got {val_fraction} and {test_fraction}")
    n_val, n_test = round(n * val_fraction), round(n * test_fraction)
    rng = np.random.default_rng(seed)
    if stratify:
        classes, y_idx = np.unique(y, return_inverse=True)
        counts = np.bincount(y_idx)
        val_per_class = _largest_remainder(counts, n_val)
        test_per_class = _largest_remainder(counts, n_test)
        parts = ([], [], [])
        for c in range(len(classes)):
            idx = rng.permutation(np.flatnonzero(y_idx == c))
            nv, nt = val_per_class[c], test_per_class[c]
            parts[1].append(idx[:nv])
            parts[2].append(idx[nv:nv + nt])
            parts[0].append(idx[nv + nt:])
        # Shuffle within each part so minibatches (and plots) do not see classes in blocks.
        train_idx, val_idx, test_idx = (rng.permutation(np.concatenate(p)) for p in parts)
    else:
        perm = rng.permutation(n)
        val_idx, test_idx, train_idx = perm[:n_val], perm[n_val:n_val + n_test], perm[n_val + n_test:]
    return X[train_idx], y[train_idx], X[val_idx], y[val_idx], X[test_idx], y[test_idx]


def _normalise_splits(parts, how, n_classes, image_shape, max_value):
    """Scale (X_train, y_train, X_val, y_val, X_test, y_test) and wrap them in Splits."""
    X_tr, y_tr, X_va, y_va, X_te, y_te = parts
    scaler = None
    if how == "standardize":
        X_tr, X_va, X_te, scaler = standardize(X_tr, X_va, X_te)
    elif how == "scale":
        X_tr, X_va, X_te = (X / X.dtype.type(max_value) for X in (X_tr, X_va, X_te))
    elif how is not None and how != "none":
        raise ValueError(f"normalize must be 'standardize', 'scale' or None, got {how!r}")
    y_tr, y_va, y_te = (y.astype(np.int64) for y in (y_tr, y_va, y_te))
    return Splits(X_tr, y_tr, X_va, y_va, X_te, y_te, n_classes, image_shape,
                  normalization=how or "none", standardizer=scaler)


def load_digits_split(val_fraction=0.15, test_fraction=0.15, seed=0, dtype=np.float32,
                      normalize="standardize"):
    """The scikit-learn 8x8 digits (1797 images, 10 classes), split and normalised.

    The data ships inside scikit-learn, so this works offline. The split is stratified
    and seeded (see ``train_val_test_split``).

    Inputs:
    - val_fraction, test_fraction: shares of the 1797 samples for validation and test.
    - seed: seed of the split.
    - dtype: float dtype of X.
    - normalize: 'standardize' (default): per-pixel mean/std fitted on the train part
      only, then applied to all three parts; 'scale': pixel / 16, so values lie in [0, 1];
      None: raw pixel intensities 0..16.

    Returns Splits with X_* of shape (N_*, 64), y_* of shape (N_*,), n_classes=10,
    image_shape=(8, 8).
    """
    from sklearn.datasets import load_digits  # sklearn is a course dependency, not a core one

    digits = load_digits()
    X = digits.data.astype(dtype)
    parts = train_val_test_split(X, digits.target, val_fraction, test_fraction, seed=seed)
    return _normalise_splits(parts, normalize, 10, (8, 8), max_value=16)


def make_moons(n=200, noise=0.1, seed=0, dtype=np.float32):
    """Two interleaving half circles (the same geometry as sklearn.datasets.make_moons).

    Inputs:
    - n: total number of samples (the upper moon gets n // 2, the lower one the rest).
    - noise: standard deviation of Gaussian noise added to every coordinate.
    - seed: the same seed gives the same points; the samples come shuffled.

    Returns X of shape (n, 2) in ``dtype`` and y of shape (n,), int64 labels 0 or 1.
    """
    rng = np.random.default_rng(seed)
    n_upper = n // 2
    n_lower = n - n_upper
    t_up, t_low = np.linspace(0, np.pi, n_upper), np.linspace(0, np.pi, n_lower)
    X = np.concatenate([np.stack([np.cos(t_up), np.sin(t_up)], axis=1),
                        np.stack([1 - np.cos(t_low), 0.5 - np.sin(t_low)], axis=1)])
    y = np.concatenate([np.zeros(n_upper, np.int64), np.ones(n_lower, np.int64)])
    X += noise * rng.standard_normal(X.shape)
    perm = rng.permutation(n)
    return X[perm].astype(dtype), y[perm]


def make_spirals(n=300, n_classes=3, noise=0.2, seed=0, dtype=np.float32):
    """Interleaved spiral arms, one per class (the CS231n toy set); not linearly separable.

    Inputs:
    - n: total number of samples, spread over the classes as evenly as possible.
    - n_classes: number of arms C.
    - noise: standard deviation of Gaussian noise on the angle (radians).
    - seed: the same seed gives the same points; the samples come shuffled.

    Returns X of shape (n, 2) in ``dtype`` with coordinates in [-1, 1], and y of shape
    (n,), int64 labels in [0, C).
    """
    if n_classes < 1:
        raise ValueError(f"n_classes must be positive, got {n_classes}")
    rng = np.random.default_rng(seed)
    per_class = np.full(n_classes, n // n_classes)
    per_class[: n % n_classes] += 1
    X, y = [], []
    for c, m in enumerate(per_class):
        radius = np.linspace(0.0, 1.0, m)
        angle = np.linspace(c * 4.0, (c + 1) * 4.0, m) + noise * rng.standard_normal(m)
        X.append(np.stack([radius * np.sin(angle), radius * np.cos(angle)], axis=1))
        y.append(np.full(m, c, dtype=np.int64))
    perm = rng.permutation(n)
    return np.concatenate(X)[perm].astype(dtype), np.concatenate(y)[perm]


_MNIST_FILES = {"train_images": "train-images-idx3-ubyte", "train_labels": "train-labels-idx1-ubyte",
                "test_images": "t10k-images-idx3-ubyte", "test_labels": "t10k-labels-idx1-ubyte"}


def _find_mnist_file(directory, stem):
    """The path of one MNIST file in ``directory``, accepting the usual name variants."""
    dotted = stem.replace("-idx", ".idx")  # some mirrors name them 'train-images.idx3-ubyte'
    candidates = [stem, stem + ".gz", dotted, dotted + ".gz"]
    for name in candidates:
        if (directory / name).is_file():
            return directory / name
    raise FileNotFoundError(f"MNIST file {stem!r} not found in {directory}; looked for "
                            + ", ".join(candidates))


def _mnist_pair(images_path, labels_path):
    """Read and cross-check one images/labels pair. Returns (N, H, W) uint8 and (N,) uint8."""
    images, labels = read_idx(images_path), read_idx(labels_path)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise ValueError(f"{images_path}: expected uint8 images of shape (N, H, W), "
                         f"got {images.dtype} of shape {images.shape}")
    if labels.ndim != 1 or labels.dtype != np.uint8:
        raise ValueError(f"{labels_path}: expected uint8 labels of shape (N,), "
                         f"got {labels.dtype} of shape {labels.shape}")
    if len(images) != len(labels):
        raise ValueError(f"{images_path} holds {len(images)} images but {labels_path} holds "
                         f"{len(labels)} labels")
    if labels.size and labels.max() > 9:
        raise ValueError(f"{labels_path}: MNIST labels are digits 0-9, found {labels.max()}")
    return images, labels


def load_mnist_idx(source, val_size=10000, dtype=np.float32, normalize="scale"):
    """Load MNIST (or Fashion-MNIST, same format) from IDX files already on disk.

    Inputs:
    - source: a directory holding the four standard files (train-images-idx3-ubyte,
      train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, each
      optionally gzipped, '.idx' spelled with a dot also accepted), or a dict with keys
      'train_images', 'train_labels', 'test_images', 'test_labels' mapping to file paths.
    - val_size: the last ``val_size`` training images become the validation set (the
      Lasagne mnist.py convention the original course used: 50k / 10k / 10k).
    - dtype: float dtype of X.
    - normalize: 'scale' (default): pixel / 255, in [0, 1]; 'standardize': per-pixel
      mean/std fitted on the train part; None: raw 0..255.

    Returns Splits with X_* of shape (N_*, H*W), y_* int64 of shape (N_*,), n_classes=10,
    image_shape=(H, W), normally (28, 28).
    """
    if isinstance(source, (str, os.PathLike)):
        directory = Path(source)
        if not directory.is_dir():
            raise FileNotFoundError(f"MNIST directory not found: {directory}")
        paths = {key: _find_mnist_file(directory, stem) for key, stem in _MNIST_FILES.items()}
    else:
        missing = set(_MNIST_FILES) - set(source)
        if missing:
            raise ValueError(f"source dict lacks the keys {sorted(missing)}; it needs "
                             f"{sorted(_MNIST_FILES)}")
        paths = {key: Path(source[key]) for key in _MNIST_FILES}
    X_train, y_train = _mnist_pair(paths["train_images"], paths["train_labels"])
    X_test, y_test = _mnist_pair(paths["test_images"], paths["test_labels"])
    if X_train.shape[1:] != X_test.shape[1:]:
        raise ValueError(f"train images are {X_train.shape[1:]} but test images are {X_test.shape[1:]}")
    if not 0 <= val_size < len(X_train):
        raise ValueError(f"val_size must be in [0, {len(X_train)}), got {val_size}")
    image_shape = X_train.shape[1:]
    X_train = X_train.reshape(len(X_train), -1).astype(dtype)
    X_test = X_test.reshape(len(X_test), -1).astype(dtype)
    n_fit = len(X_train) - val_size
    parts = (X_train[:n_fit], y_train[:n_fit], X_train[n_fit:], y_train[n_fit:], X_test, y_test)
    return _normalise_splits(parts, normalize, 10, image_shape, max_value=255)


def iterate_minibatches(X, y, batch_size, shuffle=True, seed=None):
    """Yield minibatches covering every sample exactly once (one epoch).

    Inputs:
    - X: (N, ...) samples; y: (N, ...) targets, or None to batch X alone.
    - batch_size: samples per batch; the last batch holds the remaining N % batch_size.
    - shuffle: visit samples in a random order (otherwise in order).
    - seed: an int (same seed -> same order), None (fresh randomness), or a
      np.random.Generator; pass one Generator for all epochs to get a new order each epoch.

    Yields (X_batch, y_batch) pairs of shapes (B, ...) and (B, ...), or X_batch alone
    when y is None.
    """
    n = len(X)
    if y is not None and len(y) != n:
        raise ValueError(f"X has {n} samples but y has {len(y)}")
    check_positive_int("batch_size", batch_size)
    order = np.random.default_rng(seed).permutation(n) if shuffle else np.arange(n)
    for start in range(0, n, batch_size):
        idx = order[start:start + batch_size]
        yield X[idx] if y is None else (X[idx], y[idx])
