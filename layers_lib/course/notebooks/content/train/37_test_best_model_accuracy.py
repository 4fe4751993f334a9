# Test (3 points): best_model reaches ACCURACY_THRESHOLD on the digits test split.
import warnings

from layers_lib.data import load_digits_split as _load_digits_split

ACCURACY_THRESHOLD = 0.95


def _all_layers(module):
    yield module
    for child in getattr(module, "modules", None) or []:
        yield from _all_layers(child)


assert "best_model" in globals(), (
    "best_model is not defined: run the cell above that builds and trains it")
_reference = sorted({f"{type(m).__module__}.{type(m).__name__}" for m in _all_layers(best_model)
                     if type(m).__module__.split(".")[0] == "layers_lib"})
assert not _reference, (
    f"best_model contains reference layers from layers_lib ({', '.join(_reference)}): build it "
    "from your own classes, the ones the setup cell loaded from [1]task8_modules.ipynb")

_split = _load_digits_split(dtype=np.float64)  # the same split and standardisation as above
with warnings.catch_warnings(), np.errstate(all="ignore"):
    warnings.simplefilter("ignore")
    try:
        best_model.evaluate()
        _output = np.asarray(best_model.forward(_split.X_test))
    except Exception as _error:
        raise AssertionError(f"best_model.forward failed on the test images: "
                             f"{type(_error).__name__}: {_error}") from _error
assert _output.shape == (len(_split.y_test), 10), (
    f"best_model maps the test images {_split.X_test.shape} to an output of shape "
    f"{_output.shape}, expected ({len(_split.y_test)}, 10): one score per class")
assert np.all(np.isfinite(_output)), (
    "best_model outputs NaN or inf on the test images: lower the learning rate, "
    "or check that LogSoftMax is numerically stable")
_accuracy = float(np.mean(_output.argmax(axis=1) == _split.y_test))
print(f"test accuracy of best_model: {_accuracy:.4f} (threshold {ACCURACY_THRESHOLD})")
assert _accuracy >= ACCURACY_THRESHOLD, (
    f"test accuracy {_accuracy:.4f} is below {ACCURACY_THRESHOLD}: train longer or with a better "
    "learning rate, and compare settings on the validation split (section 3)")
