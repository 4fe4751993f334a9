"""Tests of layers_lib.data: offline datasets, IDX files, one-hot, splitting, minibatches."""
import gzip

import numpy as np
import pytest

from layers_lib.data import (Standardizer, check_positive_int, iterate_minibatches, load_digits_split,
                             load_mnist_idx, make_moons, make_spirals, one_hot, read_idx, standardize,
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
