"""The code of `[0]task8_train_model.ipynb` that is more than a few straight lines, as real Python.

The cells themselves are the snippets `content/train/NN_<cell id>.py`. A snippet line
`# from train_cells: make_mlp, fit` is replaced by the builder (`train.py`) with the source of
these objects: `plain_source` for functions and classes, the assignment as written here for
constants (`name = repr(value)` for MODULES_NOTEBOOK, which comes from `course.paths`).
So students run exactly this code, and `tests/test_train_cells.py` tests it here.

Everything copied into the notebook runs in a student's kernel, where only the student runtime
is installed: it may use numpy and `layers_lib.data`, `training`, `plots`, `grading`, never
`layers_lib.reference` or `layers_lib.course`.

In the notebook these functions use the notebook's globals: the student's classes, which the
setup cell binds, and the data of the data cell. In this module those names are None until
`notebook_names(...)` binds them (for the tests and `train.measure_solution`).
"""
import contextlib
import os
import traceback
import warnings
from pathlib import Path

import numpy as np

from layers_lib.data import load_digits_split
from layers_lib.grading.loader import SubmissionError, load_submission
from layers_lib.recipe import build_model, needed_classes, validate_recipe
from layers_lib.plots import live_history
from layers_lib.training import cast_parameters, train

from ..paths import MODULES_NOTEBOOK

# Names the notebook takes from the student's [1] notebook (the advanced track's CNN section
# takes ADVANCED_NEEDED too).
NEEDED = ("Sequential", "Linear", "LogSoftMax", "BatchNormalization", "Scaling", "Dropout",
          "ReLU", "LeakyReLU", "ELU", "SoftPlus", "NLLCriterion", "sgd_momentum", "adam_optimizer")
ADVANCED_NEEDED = ("Conv2d", "MaxPool2d", "Flatten")

# The autograded thresholds. The measurements behind them are quoted in
# content/train/33_threshold.md and can be repeated with `python -m ...train --measure 10`.
ACCURACY_THRESHOLD = 0.95
LOSS_RATIO = 0.5

SGD_CONFIG = {"learning_rate": 1e-2, "momentum": 0.9}
ADAM_CONFIG = {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8}

# Globals of the notebook that the functions below use (see notebook_names).
Sequential = Linear = BatchNormalization = Scaling = Dropout = LogSoftMax = ReLU = None
NLLCriterion = adam_optimizer = None
Conv2d = MaxPool2d = Flatten = None
X_train = y_train = X_val = y_val = None
mnist = None


@contextlib.contextmanager
def notebook_names(**names):
    """Bind `names` (the classes, X_train, ...) as globals of this module while the block runs,
    as the notebook's earlier cells do for the copied functions; restore them afterwards."""
    module = globals()
    saved = {name: module[name] for name in names if name in module}
    module.update(names)
    try:
        yield
    finally:
        for name in names:
            if name in saved:
                module[name] = saved[name]
            else:
                del module[name]


# ----------------------------------------------------------------------------- the setup cell

class MissingName:
    """Stands in for a class or function that did not load; calling it says why."""

    def __init__(self, name, reason):
        self.name, self.reason = name, reason

    def __call__(self, *args, **kwargs):
        raise NameError(f"cannot use {self.name}: {self.reason}. Fix {MODULES_NOTEBOOK}, "
                        "save it and rerun this notebook from the top.")

    def __repr__(self):
        return f"<missing {self.name}>"


def find_modules_notebook():
    """Where MODULES_NOTEBOOK is: next to this notebook. (nbgrader autograde runs this
    notebook before it copies [1] into <course>/autograded/<student>/<assignment>; then the
    student's submitted copy is read.)"""
    here = Path.cwd()
    if (here / MODULES_NOTEBOOK).exists() or os.environ.get("NBGRADER_EXECUTION") != "autograde":
        return MODULES_NOTEBOOK
    if len(here.parents) >= 3 and here.parents[1].name == "autograded":
        submitted = here.parents[2] / "submitted" / here.parent.name / here.name / MODULES_NOTEBOOK
        if submitted.exists():
            return str(submitted)
    return MODULES_NOTEBOOK


def load_classes(path, names=NEEDED):
    """The `names` (NEEDED by default) from the notebook at `path`: ({name: object}, {name: reason}).

    A name that did not load maps to a MissingName, and its reason says why (None if it loaded).
    """
    try:
        student = load_submission(path)
        reasons = {name: student.failure_reason(name) for name in names}
    except SubmissionError as error:
        student = None
        reasons = {name: f"{MODULES_NOTEBOOK} could not be read ({error})" for name in names}
    classes = {name: MissingName(name, reasons[name]) if reasons[name] else student.get(name)
               for name in names}
    return classes, reasons


def print_loaded(reasons):
    """How many of the names of `reasons` loaded, and why the others did not."""
    names = list(reasons)
    missing = [name for name in names if reasons[name]]
    loaded = len(names) - len(missing)
    print(f"Your classes from {MODULES_NOTEBOOK}: {loaded} of {len(names)} loaded.")
    if missing:
        print("MISSING (cells that use these names will stop with this message):")
        for name in missing:
            print(f"  - {reasons[name]}")
    else:
        print("All loaded: " + ", ".join(names))


# ----------------------------------------------------------------------------- the helpers cell

def make_mlp(activation, batch_norm=False, dropout=0.0, hidden=(64,), n_in=64, n_classes=10):
    """An MLP of your classes: per hidden layer Linear, [BatchNormalization, Scaling],
    activation, [Dropout]; then Linear(., n_classes) and LogSoftMax.

    activation: a class such as ReLU, or any function returning a new layer,
    e.g. lambda: LeakyReLU(slope=0.1).
    """
    model = Sequential()
    width = n_in
    for size in hidden:
        model.add(Linear(width, size))
        if batch_norm:
            model.add(BatchNormalization(alpha=0.9))  # moving statistics: 90% old, 10% new
            model.add(Scaling(size))
        model.add(activation())
        if dropout > 0:
            model.add(Dropout(dropout))              # dropout = probability to DROP a unit
        width = size
    model.add(Linear(width, n_classes))
    model.add(LogSoftMax())
    return model


def fit(model, optimizer, config, epochs, batch_size=32, seed=0):
    """Train on the digits training split; returns the History (validation every epoch)."""
    return train(model, NLLCriterion(), optimizer, config, X_train, y_train, epochs=epochs,
                 batch_size=batch_size, X_val=X_val, y_val=y_val, n_classes=10, seed=seed,
                 progress=False)


def describe(error):
    """The error in one line; for an error inside your classes, also where it happened."""
    frame = traceback.extract_tb(error.__traceback__)[-1]
    where = ""
    if MODULES_NOTEBOOK in frame.filename:
        where = f" (in {frame.name}, {frame.filename} line {frame.lineno})"
    message = f": {error}" if str(error) else ""
    return f"{type(error).__name__}{message}{where}"


def compare(runs, epochs, seed=0):
    """runs: {name: (build, optimizer, config)}, where build() returns a new model.

    Trains every run from the same random state; returns ({name: History}, {name: model}).
    A run that fails prints why and is left out; if every run fails, compare raises.
    """
    histories, models = {}, {}
    for name, (build, optimizer, config) in runs.items():
        np.random.seed(seed)
        try:
            model = build()
            histories[name] = fit(model, optimizer, config, epochs, seed=seed)
            models[name] = model
            print(f"{name:>24}: {histories[name].summary()}")
        except Exception as error:  # one broken run should not hide the others
            print(f"{name:>24}: FAILED: {describe(error)}")
    if not histories:
        raise RuntimeError("every run failed (see above): fix your classes in "
                           f"{MODULES_NOTEBOOK} first, the tests in [2] show where")
    return histories, models


# ----------------------------------------------------------------------------- the solution cell

# The teachers' solution of the best_model cell; `train.py --measure N` re-trains it.
BEST_RECIPE = dict(hidden=(256,), activation="ReLU", dropout=0.3, optimizer="adam_optimizer",
                   config={"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8},
                   epochs=40, batch_size=32)


def train_recipe(recipe, seed=0):
    """Build the recipe's network from your classes and train it on the training split, as
    the grader does (layers_lib.recipe.build_model, then train); returns (model, history)."""
    recipe = validate_recipe(recipe)   # a clear message for an unknown key or a bad value
    classes = {name: globals()[name] for name in needed_classes(recipe)}
    np.random.seed(seed)               # reproducible initial weights and dropout masks
    model = build_model(classes, recipe)
    history = train(model, classes["NLLCriterion"](), classes[recipe["optimizer"]],
                    recipe["config"], X_train, y_train, epochs=recipe["epochs"],
                    batch_size=recipe["batch_size"], X_val=X_val, y_val=y_val, seed=seed,
                    progress=False)
    return model, history


def train_best_model(seed):
    """The teachers' solution, trained with `seed`."""
    return train_recipe(BEST_RECIPE, seed)


# ----------------------------------------------------------------------------- real MNIST

# The MLP and the CNN of the MNIST sections, the teachers' settings: with correct classes the MLP
# (batch norm) reaches >= 97 % and the CNN >= 98 % test accuracy (benchmarks/bench_mnist.py).
MNIST_MLP = {"epochs": 4, "batch_size": 128, "learning_rate": 3e-3}
MNIST_CNN = {"epochs": 3, "batch_size": 64, "learning_rate": 2e-3}


def train_on_mnist(model, epochs, batch_size, learning_rate, images=False, seed=0):
    """Train `model` with your adam_optimizer on MNIST's training split (50,000 images; as
    (N, 1, 28, 28) images with `images`), the learning rate halved after every epoch,
    validating every epoch, with a progress bar and live curves; returns the History.
    The parameters are cast to the images' float32 first (float32 products are twice as fast)."""
    shape = (-1, 1, 28, 28) if images else (-1, 784)
    cast_parameters(model, mnist.X_train.dtype)
    config = {**ADAM_CONFIG, "learning_rate": learning_rate}
    draw = live_history()

    def after_epoch(history):
        config["learning_rate"] /= 2          # train() passes this same dict to the optimizer
        if draw is not None:
            draw(history)

    np.random.seed(seed)
    return train(model, NLLCriterion(), adam_optimizer, config, mnist.X_train.reshape(shape),
                 mnist.y_train, epochs=epochs, batch_size=batch_size,
                 X_val=mnist.X_val.reshape(shape), y_val=mnist.y_val, n_classes=10, seed=seed,
                 on_epoch=after_epoch)


def make_cnn(channels=(8, 16), n_classes=10):
    """A small CNN of your classes for (B, 1, 28, 28) images: two blocks of Conv2d(3x3, "same"),
    ReLU and MaxPool2d(2) (28 -> 14 -> 7), then Flatten and Linear(c2 * 7 * 7, n_classes) and
    LogSoftMax."""
    model = Sequential()
    width = 1
    for size in channels:
        model.add(Conv2d(width, size, 3))
        model.add(ReLU())
        model.add(MaxPool2d(2))
        width = size
    model.add(Flatten())
    model.add(Linear(width * 7 * 7, n_classes))
    model.add(LogSoftMax())
    return model


# ----------------------------------------------------------------------------- the test cells

def all_modules(module):
    """The module and, recursively, the modules of every container in it."""
    yield module
    for child in getattr(module, "modules", None) or []:
        yield from all_modules(child)


def check_own_classes(model):
    """Fails if `model` contains a class of layers_lib (the reference or the course code)."""
    borrowed = sorted({f"{type(m).__module__}.{type(m).__name__}" for m in all_modules(model)
                       if type(m).__module__.startswith("layers_lib")})
    assert not borrowed, (
        f"best_model contains reference layers from layers_lib ({', '.join(borrowed)}): build it "
        f"from your own classes, the ones the setup cell loaded from {MODULES_NOTEBOOK}")


def check_test_accuracy(model, threshold):
    """The accuracy of `model` on the digits test split, in evaluation mode; fails, saying what
    to change, if the model cannot be measured or stays below `threshold`."""
    split = load_digits_split(dtype=np.float64)  # the same split and standardisation as above
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            model.evaluate()
            output = np.asarray(model.forward(split.X_test))
        except Exception as error:
            raise AssertionError(f"best_model.forward failed on the test images: "
                                 f"{type(error).__name__}: {error}") from error
    assert output.shape == (len(split.y_test), 10), (
        f"best_model maps the test images {split.X_test.shape} to an output of shape "
        f"{output.shape}, expected ({len(split.y_test)}, 10): one score per class")
    assert np.all(np.isfinite(output)), (
        "best_model outputs NaN or inf on the test images: lower the learning rate, "
        "or check that LogSoftMax is numerically stable")
    accuracy = float(np.mean(output.argmax(axis=1) == split.y_test))
    print(f"test accuracy of best_model: {accuracy:.4f} (threshold {threshold})")
    assert accuracy >= threshold, (
        f"test accuracy {accuracy:.4f} is below {threshold}: train longer or with a better "
        "learning rate, and compare settings on the validation split (section 3)")
    return accuracy


def check_loss_decreased(history, ratio):
    """The last-epoch / first-epoch training loss of `history`; fails if it is above `ratio`
    or cannot be measured (fewer than 2 epochs, not finite)."""
    losses = np.asarray(getattr(history, "train_loss", []), dtype=np.float64)
    assert losses.ndim == 1 and losses.size >= 2, (
        f"best_history has {losses.size} epoch(s) of training loss: train for at least 2 epochs "
        "and keep the History that train(...) returns")
    assert np.all(np.isfinite(losses)), f"the training loss is not finite: {losses.tolist()}"
    with np.errstate(all="ignore"):  # a zero first loss must not print a warning to stderr
        measured = losses[-1] / losses[0]
    print(f"mean training loss: first epoch {losses[0]:.4f}, last epoch {losses[-1]:.4f} "
          f"(ratio {measured:.3f}, must be at most {ratio})")
    assert losses[-1] <= ratio * losses[0], (
        f"the training loss fell only from {losses[0]:.4f} to {losses[-1]:.4f}: it must at "
        "least halve. Check the learning rate, the number of epochs and the gradients (tests in [2])")
    return measured
