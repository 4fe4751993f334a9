"""Builds the nbgrader SOURCE notebook `source/task8/[0]task8_train_model.ipynb`.

    python -m layers_lib.course.notebooks.train [--out PATH]   # write the notebook
    python -m layers_lib.course.notebooks.train --check        # exit 1 if PATH is stale
    python -m layers_lib.course.notebooks.train --measure 10   # rerun the solution cell with
                                                               # 10 seeds (threshold evidence)

The notebook's text and code live here as strings; `build()` assembles them with stable cell
ids and nbgrader schema-v3 metadata and no outputs, so the written file is byte-for-byte
reproducible and `tests/test_train_notebook.py` can tell when the committed copy is stale.

Cells with nbgrader metadata (grade_id: kind, points):
    setup, data, helpers                 read-only code the tests rely on
    *_question and the other text cells  read-only markdown
    q_activations, q_batchnorm,
    q_optimizers                         manually graded markdown answers, 2 points each
    best_model                           autograded answer (solution region -> stub)
    test_best_model_accuracy             autograded test, 3 points
    test_training_loss_decreases         autograded test, 1 point
Experiment cells carry no metadata: students may change them freely.
"""
import argparse
import contextlib
import io
import sys
import time
from pathlib import Path

import nbformat

from .cells import (answer_markdown, free_code, given_code, markdown, notebook, solution_code,
                    test_code)

DEFAULT_OUT = Path("source") / "task8" / "[0]task8_train_model.ipynb"
MODULES_NOTEBOOK = "[1]task8_modules.ipynb"

# The autograded thresholds. The measurements behind them are quoted in THRESHOLD_TEXT and can
# be repeated with `--measure`.
ACCURACY_THRESHOLD = 0.95
LOSS_RATIO = 0.5

# Names the notebook takes from the student's [1] notebook.
NEEDED = ("Sequential", "Linear", "LogSoftMax", "BatchNormalization", "Scaling", "Dropout",
          "ReLU", "LeakyReLU", "ELU", "SoftPlus", "NLLCriterion", "sgd_momentum", "adam_optimizer")

# Cell makers shared with the other notebook builders (nbgrader schema v3 metadata, stable ids).
_text, _given, _free = markdown, given_code, free_code
_solution, _test, _answer = solution_code, test_code, answer_markdown


# ----------------------------------------------------------------------------- the text

TITLE = r"""
# Task 8, part 0: train a neural network built from your own layers

In this assignment you write a small neural-network framework in NumPy, in the style of
Torch7's `nn` (every layer has a `forward` and a `backward`), check it against PyTorch, and
then use it to train real classifiers. It consists of three notebooks that live in the same
folder:

| notebook | what you do there | how it is graded |
|---|---|---|
| `[1]task8_modules.ipynb` | implement the layers `Linear`, `SoftMax`, `LogSoftMax`, `BatchNormalization`, `Scaling`, `Dropout`, `ReLU`, `LeakyReLU`, `ELU`, `SoftPlus`, the container `Sequential`, the losses `NLLCriterionUnstable` and `NLLCriterion`, and the optimizers `sgd_momentum` and `adam_optimizer` | through the tests in `[2]` |
| `[2]task8_test_modules.ipynb` | run the tests: every layer is compared with PyTorch (output, gradient with respect to the input, gradients of the parameters) | autograded test cells, each worth points; the visible tests now, more hidden tests at grading |
| `[0]task8_train_model.ipynb` (this one) | train networks made of **your** classes on handwritten digits, compare design choices, explain what you see, build your best model | 2 autograded tests and 3 written answers |

## The order to work in

1. Read this introduction (you are doing it).
2. Implement the classes in `[1]`, one at a time. After each class run its tests in `[2]`
   (or the command-line checker below) and fix it before moving on.
3. When every test in `[2]` passes, come back here and run this notebook from top to bottom,
   then answer the questions and build your best model.
4. Before you submit: in **every** notebook, *Kernel → Restart Kernel and Run All Cells*, and
   press **Validate**.

Why this order? This notebook trains with your classes. A wrong gradient shows up here only as
"the loss does not go down", which says nothing about *where* the bug is. The tests in `[2]`
name the layer, the quantity and the worst element.

## How grading works

* **Autograded test cells** carry points. A test cell earns its points when it runs without an
  error **and writes nothing to stderr**. A warning such as
  `RuntimeWarning: overflow encountered in exp` printed inside a test cell counts as a failure,
  so make your layers numerically stable rather than hoping the warning goes away.
* **Hidden tests.** At grading, the test cells of `[2]` contain extra checks you do not see
  (other shapes, float32 and float64, extreme inputs). Passing the visible tests is necessary,
  not sufficient: try your layers on your own inputs too.
* **Manually graded answers** are the markdown cells that say "YOUR ANSWER HERE". A teacher
  reads them; a few precise sentences are better than a page.
* The grader reruns each notebook from scratch in a fresh kernel, with the read-only cells and
  the test cells restored from the original. Editing a test cell changes nothing; the outputs
  saved in your file are ignored.
* **Validate** (the button in the notebook toolbar, or `nbgrader validate` in a terminal)
  runs a notebook the way the grader does and lists the test cells that fail.
* **Command-line checker.** From a terminal in this folder,
  `python -m layers_lib.grading check "[1]task8_modules.ipynb"` loads your classes one by one
  (a broken class does not stop the others), checks each of them and prints a short report
  per class. It is the quickest way to see what is left to do.

## Points in this notebook

The points of `[2]` are written next to each of its test cells. This notebook is worth 10:

| what | cell | points | graded |
|---|---|---|---|
| question on activation functions | `q_activations` | 2 | by a teacher |
| question on batch normalization | `q_batchnorm` | 2 | by a teacher |
| question on optimizers | `q_optimizers` | 2 | by a teacher |
| your best model reaches the accuracy threshold on the test split | `test_best_model_accuracy` | 3 | automatically |
| the training loss of your best model went down | `test_training_loss_decreases` | 1 | automatically |

Nothing in this notebook downloads anything, and with correct layers the whole notebook runs
in well under two minutes.
"""

SETUP_INTRO = r"""
## 0. Setup: load your classes

The next cell imports the tools of the course (`layers_lib.data`, `layers_lib.training`,
`layers_lib.plots`) and loads **your** classes from `[1]task8_modules.ipynb`: it runs the
cells you filled in there (and the given read-only ones), one cell at a time. A cell that
fails costs only the names it defines; everything else still loads. The cell then prints which
names are missing and why. A missing name is replaced by a stand-in that stops any cell using
it with an error that says what went wrong.

After you change `[1]`: save it (Ctrl+S), then rerun this notebook from the top
(*Run → Run All Cells*). Models built before the reload still use the old classes.

The cell also fixes the random seeds. Your layers draw their initial weights and dropout masks
from `np.random`, so with fixed seeds a rerun gives the same numbers.
"""

SETUP_IMPORTS = """
import os
import random
from pathlib import Path

import numpy as np

from layers_lib.data import load_digits_split, make_spirals, one_hot
from layers_lib.grading.loader import SubmissionError, load_submission
from layers_lib.plots import (NotebookFigure, plot_confusion_matrix, plot_decision_boundary,
                              plot_history, plot_misclassified)
from layers_lib.training import accuracy, confusion_matrix, evaluate, predict, train
"""

SETUP_LOAD = '''
try:  # our matrices are tiny: extra BLAS threads only cost time (a lot on a busy server)
    from threadpoolctl import threadpool_limits
    threadpool_limits(limits=1, user_api="blas")
except ImportError:
    pass

MODULES_NOTEBOOK = "{modules}"
NEEDED = {needed}


class MissingName:
    """Stands in for a class or function that did not load; calling it says why."""

    def __init__(self, name, reason):
        self.name, self.reason = name, reason

    def __call__(self, *args, **kwargs):
        raise NameError(f"cannot use {{self.name}}: {{self.reason}}. Fix {{MODULES_NOTEBOOK}}, "
                        "save it and rerun this notebook from the top.")

    def __repr__(self):
        return f"<missing {{self.name}}>"


def find_modules_notebook():
    """Where {modules} is: next to this notebook. (nbgrader autograde runs this
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


try:
    student = load_submission(find_modules_notebook())
    reasons = {{name: student.failure_reason(name) for name in NEEDED}}
except SubmissionError as error:
    student = None
    reasons = {{name: f"{{MODULES_NOTEBOOK}} could not be read ({{error}})" for name in NEEDED}}
missing = [name for name in NEEDED if reasons[name]]
for name in NEEDED:  # bind Sequential, Linear, ... as names of this notebook
    globals()[name] = MissingName(name, reasons[name]) if reasons[name] else student.get(name)

loaded = len(NEEDED) - len(missing)
print(f"Your classes from {{MODULES_NOTEBOOK}}: {{loaded}} of {{len(NEEDED)}} loaded.")
if missing:
    print("MISSING (cells that use these names will stop with this message):")
    for name in missing:
        print(f"  - {{reasons[name]}}")
else:
    print("All loaded: " + ", ".join(NEEDED))

np.random.seed(0)
random.seed(0)
'''

DATA_INTRO = r"""
## 1. The data: handwritten digits

We use the **digits** data set that ships with scikit-learn (so nothing is downloaded):
1797 grey-scale images of $8\times 8$ pixels with intensities $0..16$, ten classes $0..9$.
Each image is one row of 64 numbers. `load_digits_split` shuffles it and splits it, keeping
the share of every class the same in each part:

* **train** (1257 images): the weights are fitted on it;
* **validation** (270 images): you compare settings on it (activation, learning rate, number
  of epochs...);
* **test** (270 images): measured once, at the very end. The autograder measures your best
  model on it. If you chose settings by looking at the test accuracy, it would no longer be an
  honest estimate of how the model does on new images.

Every pixel is *standardised*, $x \mapsto (x - \mu)/\sigma$, with the mean $\mu$ and standard
deviation $\sigma$ of that pixel **over the training part only** (the test images must not
influence anything we fit). Centred inputs of similar scale make the first `Linear` layer
much easier to train than raw intensities $0..16$.

We load the data as float64, so your layers need not worry about dtypes here.

Why not MNIST? Its $60\,000$ training images of $28\times 28$ pixels are about 50 times more
data: in NumPy each experiment would take minutes instead of seconds, and this notebook runs
a dozen of them. (If you have the MNIST files, `layers_lib.data.load_mnist_idx` reads them, for
later curiosity. It is not graded.)
"""

DATA = """
digits = load_digits_split(dtype=np.float64)
X_train, y_train = digits.X_train, digits.y_train
X_val, y_val = digits.X_val, digits.y_val
X_test, y_test = digits.X_test, digits.y_test
print(digits)
print("training images per class:", np.bincount(y_train).tolist())
"""

SHOW_DIGITS = """
pixels = digits.standardizer.inverse_transform(X_train[:24])   # back to intensities 0..16
fig = NotebookFigure(figsize=(12, 2.4), layout="constrained")
for ax, image, label in zip(fig.subplots(2, 12).ravel(), pixels, y_train):
    ax.imshow(image.reshape(8, 8), cmap="gray_r")
    ax.set_title(str(label))
    ax.axis("off")
fig
"""

WARMUP_INTRO = r"""
## 2. Warm-up: why hidden layers?

A classifier here is a `Sequential` whose last layer is `LogSoftMax`. It maps a batch
$X$ of shape $(B, D)$ to log-probabilities of shape $(B, C)$: from the scores $z$ of the last
`Linear` layer,

$$\log p_{ic} = z_{ic} - \log \sum_{k} e^{z_{ik}},$$

and `NLLCriterion` takes the average negative log-probability of the correct class,

$$L = -\frac{1}{B}\sum_{i=1}^{B}\sum_{c=1}^{C} t_{ic}\,\log p_{ic},$$

where $t$ is the one-hot target ($t_{ic} = 1$ when sample $i$ is of class $c$). A model that
guesses uniformly among 10 classes has $L = \ln 10 \approx 2.30$. Remember this number: a loss
stuck at 2.30 means "nothing learnt".

`layers_lib.training.train` runs the usual loop for you, calling only the methods you
implemented:

```python
for epoch in range(epochs):
    for X_batch, y_batch in minibatches(X_train, y_train, batch_size, shuffled):
        target = one_hot(y_batch, n_classes)
        model.zero_grad_params()
        log_probs = model.forward(X_batch)
        loss = criterion.forward(log_probs, target)
        grad = criterion.backward(log_probs, target)
        model.backward(X_batch, grad)
        optimizer(model.get_params(), model.get_grad_params(), config, state)
```

It also stops with a clear error if the output has the wrong shape or becomes NaN, and returns a
`History` with the loss and accuracy of every epoch.

First a two-dimensional toy problem: three interleaved spirals. A model without a hidden layer
(`Linear` followed by `LogSoftMax`) is a *linear* classifier: the border between two classes is
a straight line, and no straight line separates spirals. One hidden layer with a ReLU lets
the border bend.
"""

WARMUP_TRAIN = """
X_spiral, y_spiral = make_spirals(n=300, n_classes=3, noise=0.2, seed=0, dtype=np.float64)
warmup_config = {"learning_rate": 1e-2, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8}

np.random.seed(0)
linear_model = Sequential()
linear_model.add(Linear(2, 3))
linear_model.add(LogSoftMax())

tiny_mlp = Sequential()
for layer in [Linear(2, 32), ReLU(), Linear(32, 3), LogSoftMax()]:
    tiny_mlp.add(layer)

for name, model in [("linear model", linear_model), ("one hidden layer", tiny_mlp)]:
    history = train(model, NLLCriterion(), adam_optimizer, warmup_config, X_spiral, y_spiral,
                    epochs=100, batch_size=32, progress=False)
    print(f"{name:>16}: {history.summary()}")
"""

WARMUP_PLOT = """
fig = NotebookFigure(figsize=(10, 4.5), layout="constrained")
for ax, model, title in zip(fig.subplots(1, 2), [linear_model, tiny_mlp],
                            ["Linear(2, 3)", "Linear(2, 32), ReLU, Linear(32, 3)"]):
    plot_decision_boundary(model, X_spiral, y_spiral, ax=ax)
    ax.set_title(f"{title}: accuracy {accuracy(model, X_spiral, y_spiral):.2f}")
fig
"""

WARMUP_AFTER = r"""
With correct layers the linear model stays near 55% (it can only cut the plane into three
convex pieces with straight borders) and the small MLP gets about 99%. If the right panel
looks like the left one, the gradient does not reach the hidden layer: go back to the tests
of `Sequential`, `ReLU` and `Linear` in `[2]`.
"""

EXPERIMENTS_INTRO = r"""
## 3. Experiments on the digits

Each experiment trains a few networks that differ in **one** setting and plots their curves
together: solid lines are measured on the training data, dashed lines on the validation data.
The next (read-only) cell defines the helpers:

* `make_mlp(activation, batch_norm=False, dropout=0.0, hidden=(64,))` builds, from your
  classes, a multilayer perceptron with one block per entry of `hidden`, then the output
  layer:
  `Linear` → [`BatchNormalization` → `Scaling`] → activation → [`Dropout`] → ... →
  `Linear(., 10)` → `LogSoftMax`.
* `fit(model, optimizer, config, epochs)` trains it on the training split with
  `NLLCriterion`, minibatches of 32, and measures the validation split after every epoch.
* `compare(runs, epochs)` trains several models **under the same conditions**: the same
  initial random state, the same minibatch order. The differences between the curves then
  come from the settings, not from luck. A run that fails prints why; the others still run.

How to read the curves:

* The **training loss** of an epoch is the average over its minibatches, measured *while the
  weights change* (and with dropout active). The **validation loss** is measured after the
  epoch, in evaluation mode.
* One validation image is $1/270 \approx 0.4\%$ of accuracy. Differences of a percent or less
  between two runs are noise: rerun with another `seed=` before concluding anything.
* A gap that grows between the training loss (going down) and the validation loss (flat or
  going up) is **overfitting**: the network memorises the training images.
"""

HELPERS = '''
import traceback
from functools import partial


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


SGD_CONFIG = {"learning_rate": 1e-2, "momentum": 0.9}
ADAM_CONFIG = {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8}


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
'''

ACTIVATIONS_INTRO = r"""
### 3.1 Activation functions

Without a nonlinearity between them, a stack of `Linear` layers is just one `Linear` layer.
The four activations you implemented:

| | $f(x)$ | $f'(x)$ |
|---|---|---|
| `ReLU` | $\max(x, 0)$ | $1$ if $x > 0$, else $0$ |
| `LeakyReLU` | $x$ if $x > 0$, else $a x$ (here $a = 0.03$) | $1$ if $x > 0$, else $a$ |
| `ELU` | $x$ if $x > 0$, else $\alpha\,(e^{x} - 1)$ (here $\alpha = 1$) | $1$ if $x > 0$, else $\alpha e^{x}$ |
| `SoftPlus` | $\log(1 + e^{x})$ | $\sigma(x) = 1/(1 + e^{-x})$ |

The gradient that reaches the first layer is a product of one factor $f'$ per layer, so the
shape of $f'$ matters more the deeper the network. That is why this experiment uses **three**
hidden layers of 64 units (with one hidden layer, all four end up close). Everything else is
the same: SGD with momentum, learning rate 0.01, 15 epochs.

Look at two things: how fast the training loss falls in the first epochs, and where the
validation accuracy ends.
"""

ACTIVATIONS = """
DEEP = (64, 64, 64)
activation_runs = {
    "ReLU": (partial(make_mlp, ReLU, hidden=DEEP), sgd_momentum, SGD_CONFIG),
    "LeakyReLU": (partial(make_mlp, LeakyReLU, hidden=DEEP), sgd_momentum, SGD_CONFIG),
    "ELU": (partial(make_mlp, ELU, hidden=DEEP), sgd_momentum, SGD_CONFIG),
    "SoftPlus": (partial(make_mlp, SoftPlus, hidden=DEEP), sgd_momentum, SGD_CONFIG),
}
activation_histories, activation_models = compare(activation_runs, epochs=15)
plot_history(activation_histories)
"""

Q_ACTIVATIONS_QUESTION = r"""
**Question 1 (2 points).** Using *your* plot above: which activation lowered the training loss
fastest in the first epochs, and which slowest? Give one reason for each, from the formula of
the function or of its derivative. (Think about what the next layer receives, for instance the
mean of the activations, and about how much gradient $f'$ lets through.)
"""

Q_ACTIVATIONS_ANSWER = r"""
With the reference layers: **ELU** is fastest (training loss 0.5 after 3 epochs and 0.23 after
4, when ReLU and LeakyReLU are still at 1.9 and 1.2), **ReLU and LeakyReLU** are almost
identical, and **SoftPlus** is by far the slowest (the loss stays above 2.2 for four epochs and
is still 5 times higher than the others' after 15). After 15 epochs all four reach 94–95%
validation accuracy: the activation changed the speed more than the end result.

* ELU has negative outputs for $x < 0$, so its mean activation is closer to zero than that of
  ReLU: the next `Linear` layer gets roughly centred inputs, which makes its gradient steps
  better conditioned. Its derivative is 1 for $x > 0$ and $e^x$ (not 0) for $x < 0$, so no
  unit is ever completely "dead".
* LeakyReLU with slope 0.03 differs from ReLU only for negative inputs, by a tiny slope: in a
  short training with few dead units, it behaves like ReLU.
* SoftPlus is always positive (SoftPlus(0) = ln 2 ≈ 0.69), so the next layer receives
  un-centred inputs, and its derivative $\sigma(x)$ is at most 1 and about 0.5 near 0: every
  layer roughly halves the gradient, so with three hidden layers the first layers learn slowly.

Grading: 1 point for reading the plot correctly (fastest and slowest, consistent with the
student's own plot), 1 point for a correct reason based on the function or its derivative.
"""

BATCHNORM_INTRO = r"""
### 3.2 Batch normalization

For each feature $j$, `BatchNormalization` normalises over the batch, and `Scaling` then applies
a learned scale $\gamma_j$ and shift $\beta_j$:

$$\mu_j = \frac{1}{B}\sum_{i} x_{ij}, \qquad \sigma_j^2 = \frac{1}{B}\sum_{i} (x_{ij} - \mu_j)^2,
\qquad \hat{x}_{ij} = \frac{x_{ij} - \mu_j}{\sqrt{\sigma_j^2 + \varepsilon}}, \qquad
y_{ij} = \gamma_j\,\hat{x}_{ij} + \beta_j .$$

So whatever the scale of the weights before it, the next layer receives inputs with mean
$\beta$ and standard deviation $\gamma$, which it learns.

**Training mode vs evaluation mode.** During training, $\mu$ and $\sigma^2$ come from the
current batch, and the layer also keeps moving averages
$\text{moving} \leftarrow \alpha\cdot\text{moving} + (1 - \alpha)\cdot\text{batch statistic}$.
After `model.evaluate()` it normalises with these moving averages instead, so the prediction
for an image no longer depends on which other images share its batch. Note that $\alpha$
weights the **old** value: `make_mlp` uses $\alpha = 0.9$. With $\alpha = 0$ (the default)
the moving statistics would be those of the last training batch only.

The experiment: a deeper network, **five** hidden layers of 64 with ReLU, SGD with momentum,
learning rate 0.01, with and without `BatchNormalization` + `Scaling`. The initial weights are
drawn uniformly in $\pm 1/\sqrt{n_\text{in}}$ (PyTorch's default): each such layer shrinks the
signal, and after five of them the output barely depends on the input.
"""

BATCHNORM = """
BIG = (64, 64, 64, 64, 64)
batchnorm_runs = {
    "without batch norm": (partial(make_mlp, ReLU, hidden=BIG), sgd_momentum, SGD_CONFIG),
    "with batch norm": (partial(make_mlp, ReLU, batch_norm=True, hidden=BIG),
                        sgd_momentum, SGD_CONFIG),
}
batchnorm_histories, batchnorm_models = compare(batchnorm_runs, epochs=15)
plot_history(batchnorm_histories)
"""

BATCHNORM_PITFALL_INTRO = r"""
**Pitfall: forgetting `model.evaluate()`.** `train` switches the model to training mode and
`accuracy`, `evaluate` and `predict` switch it to evaluation mode for you. When you call
`model.forward` yourself, the mode is whatever you set last. Here is what a batch-normalised
network does in training mode when it sees one image at a time: the batch mean of a single
image *is* that image, so $x - \mu = 0$ and every image gets the same output.
"""

BATCHNORM_PITFALL = """
import copy

bn_model = batchnorm_models["with batch norm"]
careless = copy.deepcopy(bn_model)  # a copy: training-mode passes also move the averages
careless.train()                    # the mistake: still in training mode
one_at_a_time = [int(careless.forward(X_val[i:i + 1]).argmax()) for i in range(15)]
bn_model.evaluate()                 # the right way
print("training mode, one image per batch:", one_at_a_time)
print("evaluation mode:                   ", bn_model.forward(X_val[:15]).argmax(axis=1).tolist())
print("true labels:                       ", y_val[:15].tolist())
"""

Q_BATCHNORM_QUESTION = r"""
**Question 2 (2 points).** How did `BatchNormalization` + `Scaling` change the training of the
five-layer network in your plot (look at the first epochs)? Explain why. Then explain why a
model with batch normalization must be put in evaluation mode before it is used for
predictions.
"""

Q_BATCHNORM_ANSWER = r"""
With the reference layers, the network **without** batch normalization stays at the loss of
uniform guessing ($\ln 10 \approx 2.30$, validation accuracy 10–36%) for about six epochs
before it starts to learn, and ends at about 91% validation accuracy (its validation loss is
already rising again). **With** batch normalization the validation accuracy is 90% after the
first epoch, the training loss is 0.34 after the second, and the validation accuracy ends at
about 97%.

Why: with weights of scale $1/\sqrt{n}$, each `Linear` + ReLU layer shrinks its input, so after
five layers the output hardly depends on the image and the gradients reaching the first layers
are tiny. Batch normalization rescales the pre-activations of every layer to zero mean and unit
variance (then $\gamma$, $\beta$), so every layer works in the useful range of the ReLU
whatever the scale of the weights, and the gradients keep a reasonable size. The optimiser can
then make progress from the first step.

Evaluation mode: in training mode the layer normalises with the statistics of the current
batch, so a prediction depends on the other images of the batch, and a batch of one image is
normalised to exactly zero (every image gets the same prediction, as the demo shows). In
evaluation mode it uses the moving averages collected during training: the output is a fixed
function of each image. (Also, forward passes in training mode keep updating the moving
averages.)

Grading: 1 point for the observation and the explanation of faster training, 1 point for the
train/evaluate reason.
"""

DROPOUT_INTRO = r"""
### 3.3 Dropout

In training mode, `Dropout(p)` zeroes every element independently **with probability `p`**
and scales the kept ones by $1/(1-p)$, so the expected output equals the input:

$$y = \frac{m \odot x}{1 - p}, \qquad m_{ij} \sim \text{Bernoulli}(1 - p).$$

In evaluation mode it is the identity. `p` is the probability to **drop**, as in PyTorch:
`Dropout(0.2)` keeps 80% of the units. (CS231n's notes use `p` for the probability to *keep*,
a classic source of confusion.) Because each minibatch trains a different random sub-network,
no unit can rely on one particular other unit: this is a regulariser against overfitting.

The experiment: two hidden layers of 128 (a network large enough to memorise the training
set), Adam, 25 epochs, with `p` = 0, 0.2 and 0.5.

What to expect on this data set: the training loss with dropout stays higher (the network is
trained with noise) and the gap between training and validation loss shrinks. The validation
accuracy changes little: 1257 small images are easy, and the differences are about as large as
the noise between seeds. Dropout pays off with larger networks, longer training and harder
data.
"""

DROPOUT = """
WIDE = (128, 128)
dropout_runs = {
    f"p = {p}": (partial(make_mlp, ReLU, dropout=p, hidden=WIDE), adam_optimizer, ADAM_CONFIG)
    for p in (0.0, 0.2, 0.5)
}
dropout_histories, dropout_models = compare(dropout_runs, epochs=25)
plot_history(dropout_histories)
"""

DROPOUT_PITFALL_INTRO = r"""
**The same pitfall with dropout.** In training mode the network keeps dropping units, so its
predictions are random: two forward passes over the same images disagree, and the accuracy is
lower than the model deserves.
"""

DROPOUT_PITFALL = """
dropout_model = dropout_models["p = 0.5"]
dropout_model.train()     # the mistake
first = dropout_model.forward(X_val).argmax(axis=1)
second = dropout_model.forward(X_val).argmax(axis=1)
print(f"training mode:   accuracy {np.mean(first == y_val):.3f} and {np.mean(second == y_val):.3f}")
print(f"                 the two passes disagree on {np.sum(first != second)} of {len(y_val)} images")
dropout_model.evaluate()  # the fix
predictions = dropout_model.forward(X_val).argmax(axis=1)
print(f"evaluation mode: accuracy {np.mean(predictions == y_val):.3f}")
"""

OPTIMIZERS_INTRO = r"""
### 3.4 Optimizers

With gradient $g$ of a parameter $w$ and learning rate $\eta$:

* **SGD with momentum** (`sgd_momentum`): $v \leftarrow \mu v + g$, $\;w \leftarrow w - \eta v$.
  The velocity $v$ accumulates gradients that keep pointing the same way and cancels those
  that oscillate; with $\mu = 0.9$ the step in a steady direction is up to 10 times larger.
  $\mu = 0$ is plain SGD.
* **Adam** (`adam_optimizer`):
  $m \leftarrow \beta_1 m + (1 - \beta_1) g$, $\;v \leftarrow \beta_2 v + (1 - \beta_2) g^2$,
  $\;w \leftarrow w - \eta\,\hat{m}/(\sqrt{\hat{v}} + \epsilon)$ with
  $\hat{m} = m/(1 - \beta_1^t)$ and $\hat{v} = v/(1 - \beta_2^t)$.
  Every parameter gets its own step size: the step is about $\eta$ whatever the scale of its
  gradient.

The experiment: two hidden layers of 64 with ReLU, 15 epochs, with plain SGD and SGD with
momentum at the same learning rate 0.01, and Adam with its usual learning rate 0.001.
"""

OPTIMIZERS = """
optimizer_runs = {
    "SGD, momentum 0": (partial(make_mlp, ReLU, hidden=(64, 64)), sgd_momentum,
                        {"learning_rate": 1e-2, "momentum": 0.0}),
    "SGD, momentum 0.9": (partial(make_mlp, ReLU, hidden=(64, 64)), sgd_momentum, SGD_CONFIG),
    "Adam": (partial(make_mlp, ReLU, hidden=(64, 64)), adam_optimizer, ADAM_CONFIG),
}
optimizer_histories, optimizer_models = compare(optimizer_runs, epochs=15)
plot_history(optimizer_histories)
"""

LEARNING_RATE_INTRO = r"""
**Pitfall: a learning rate that is too high.** Each step overshoots, the weights grow, the
scores $z$ grow, and soon the loss is astronomically large, then `inf` or NaN. `train` stops at
the first non-finite output and names the epoch and the batch. When you see a loss that grows,
jumps around or becomes NaN, divide the learning rate by 10 before looking for a bug. (A NaN
with a *small* learning rate, on the other hand, points at an unstable `LogSoftMax`.) The cell
below silences NumPy's overflow warnings on purpose; in your own runs, read them.
"""

LEARNING_RATE = """
for learning_rate in (1.0, 100.0):
    np.random.seed(0)
    config = {"learning_rate": learning_rate, "momentum": 0.9}
    try:
        with np.errstate(over="ignore", invalid="ignore"):
            history = fit(make_mlp(ReLU), sgd_momentum, config, epochs=3)
        losses = np.round(history.train_loss, 2).tolist()
        print(f"learning rate {learning_rate}: training loss per epoch {losses}")
    except FloatingPointError as error:
        print(f"learning rate {learning_rate}: training stopped: {error}")
"""

Q_OPTIMIZERS_QUESTION = r"""
**Question 3 (2 points).** Rank the three optimizers of your plot by how fast the training loss
fell, and explain the ranking with the update rules above (what does momentum add to plain
SGD, and what does Adam add?). In one more sentence: what happened with the learning rates 1.0
and 100, and why?
"""

Q_OPTIMIZERS_ANSWER = r"""
With the reference layers: **Adam** is fastest (training loss 0.43 after 3 epochs, 0.21
after 4), **SGD with momentum 0.9** is close behind (0.84 and 0.36; both end at about 95%
validation accuracy), and **plain SGD** is far behind (the loss is still 1.3 after 15 epochs,
72% validation accuracy).

* Momentum sums the recent gradients: along a direction where they agree, the effective step
  is up to $1/(1 - \mu) = 10$ times larger, while components that flip sign cancel out. At the
  same learning rate plain SGD makes much smaller steps.
* Adam divides each parameter's step by a running estimate of its gradient's magnitude
  $\sqrt{\hat v}$, so every parameter moves by about $\eta$ per step, however small its
  gradient (e.g. in the first layers), and the bias correction makes the first steps full
  size.

Too large learning rates: every step overshoots the minimum, so the weights and the scores
grow without bound; with 1.0 the loss grows from about 540 to $6\cdot 10^{12}$ in 3 epochs
(the accuracy is far from good), with 100 the output overflows to inf/NaN and `train` stops.

Grading: 1 point for a ranking consistent with the plot and a correct explanation of momentum
and Adam, 1 point for the learning-rate explanation (overshooting, divergence).
"""

BEST_INTRO = r"""
## 4. Your best model

Now combine what you learnt. In the cell below, build a model from your classes (with
`make_mlp`, or layer by layer with `Sequential`), train it with `train(...)` and keep two
names:

* `best_model`: the trained model;
* `best_history`: the `History` that `train` returned.

Rules:

* Use your own classes, the ones the setup cell loaded (the test refuses the reference classes
  of `layers_lib`).
* Train on the training split (`X_train`, `y_train`), and use the validation split to choose
  settings. The test split is for the final measurement only.
* Keep it reasonably fast: the whole notebook should run in a few minutes at most.
* Remember the pitfalls: learning rate (NaN, or a loss that does not move), `Dropout(p)` drops
  with probability `p`, and batch normalization needs a sensible `alpha`.

The two tests after the cell check:

1. (3 points) the accuracy of `best_model` on the **test** split, measured in evaluation mode,
   is at least **{threshold:.0%}**;
2. (1 point) the training loss went down: the mean training loss of the last epoch in
   `best_history` is at most **{ratio}** times that of the first epoch (and you trained for at
   least 2 epochs).
"""

THRESHOLD_TEXT = r"""
**How the threshold was chosen.** The teachers' solution of this cell (an MLP with one hidden
layer, ReLU and dropout, trained with Adam; about one second with the reference layers) was
run with 10 different seeds. Its test accuracy was between **0.9889**
and **0.9926** (mean 0.9922), and its last-epoch training loss was at most 0.004 times its
first-epoch loss. The threshold of {threshold:.0%} lies 3.9 points (about 10 test images)
below the lowest of these runs, so a correct model trained sensibly passes whatever its
random seed.

What broken or badly trained versions of the same MLP reached on the same split (5 seeds
each, unless noted):

| model | test accuracy |
|---|---|
| untrained (random weights) | 0.06 – 0.15 |
| optimizer step with the wrong sign | 0.10 |
| `LogSoftMax` backward returning `grad_output` unchanged | 0.60 – 0.64 |
| Adam with learning rate $10^{{-5}}$, 40 epochs (too low) | 0.75 – 0.80 |
| trained for one epoch only | 0.84 – 0.88 |
| a **linear** model (`Linear(64, 10)` + `LogSoftMax`), Adam, rate 0.01, 30 epochs, 10 seeds | 0.970 – 0.978 |

The last row is an honest warning: digits is an easy data set, and even a well-trained linear
model passes. The test checks that your pipeline trains a working classifier; it cannot detect
every bug. Several wrong layers still reach 97–99% here, because the rest of the network
compensates: a `ReLU` whose backward lets every gradient through, a `Linear` whose
`grad_input` is zero, a `Dropout` that forgets the $1/(1-p)$ scaling or keeps dropping in
evaluation mode, a `BatchNormalization` that never updates its moving averages. Catching
those is the job of the tests in `[2]`.
"""

BEST_MODEL = """
# Build and train your best model here. Define two names:
#   best_model   - the trained model, built from your classes (make_mlp or Sequential)
#   best_history - the History returned by train(...)
### BEGIN SOLUTION
np.random.seed(0)  # reproducible initial weights and dropout masks
best_model = make_mlp(ReLU, dropout=0.3, hidden=(256,))
best_history = train(best_model, NLLCriterion(), adam_optimizer, ADAM_CONFIG, X_train, y_train,
                     epochs=40, batch_size=32, X_val=X_val, y_val=y_val, seed=0, progress=False)
### END SOLUTION
"""

BEST_CURVES = """
print(best_history.summary())
plot_history(best_history)
"""

TESTS_INTRO = r"""
The two graded tests. They are read-only; if one fails, its message says what to change.
"""

TEST_ACCURACY = '''
# Test (3 points): best_model reaches ACCURACY_THRESHOLD on the digits test split.
import warnings

from layers_lib.data import load_digits_split as _load_digits_split

ACCURACY_THRESHOLD = {threshold}


def _all_layers(module):
    yield module
    for child in getattr(module, "modules", None) or []:
        yield from _all_layers(child)


assert "best_model" in globals(), (
    "best_model is not defined: run the cell above that builds and trains it")
_reference = sorted({{f"{{type(m).__module__}}.{{type(m).__name__}}" for m in _all_layers(best_model)
                     if type(m).__module__.split(".")[0] == "layers_lib"}})
assert not _reference, (
    f"best_model contains reference layers from layers_lib ({{', '.join(_reference)}}): build it "
    "from your own classes, the ones the setup cell loaded from {modules}")

_split = _load_digits_split(dtype=np.float64)  # the same split and standardisation as above
with warnings.catch_warnings(), np.errstate(all="ignore"):
    warnings.simplefilter("ignore")
    try:
        best_model.evaluate()
        _output = np.asarray(best_model.forward(_split.X_test))
    except Exception as _error:
        raise AssertionError(f"best_model.forward failed on the test images: "
                             f"{{type(_error).__name__}}: {{_error}}") from _error
assert _output.shape == (len(_split.y_test), 10), (
    f"best_model maps the test images {{_split.X_test.shape}} to an output of shape "
    f"{{_output.shape}}, expected ({{len(_split.y_test)}}, 10): one score per class")
assert np.all(np.isfinite(_output)), (
    "best_model outputs NaN or inf on the test images: lower the learning rate, "
    "or check that LogSoftMax is numerically stable")
_accuracy = float(np.mean(_output.argmax(axis=1) == _split.y_test))
print(f"test accuracy of best_model: {{_accuracy:.4f}} (threshold {{ACCURACY_THRESHOLD}})")
assert _accuracy >= ACCURACY_THRESHOLD, (
    f"test accuracy {{_accuracy:.4f}} is below {{ACCURACY_THRESHOLD}}: train longer or with a better "
    "learning rate, and compare settings on the validation split (section 3)")
'''

TEST_LOSS = '''
# Test (1 point): the training loss of best_model went down.
LOSS_RATIO = {ratio}

assert "best_history" in globals(), (
    "best_history is not defined: keep the History that train(...) returns, "
    "best_history = train(best_model, ...)")
_losses = np.asarray(getattr(best_history, "train_loss", []), dtype=np.float64)
assert _losses.ndim == 1 and _losses.size >= 2, (
    f"best_history has {{_losses.size}} epoch(s) of training loss: train for at least 2 epochs "
    "and keep the History that train(...) returns")
assert np.all(np.isfinite(_losses)), f"the training loss is not finite: {{_losses.tolist()}}"
with np.errstate(all="ignore"):  # a zero first loss must not print a warning to stderr
    _ratio = _losses[-1] / _losses[0]
print(f"mean training loss: first epoch {{_losses[0]:.4f}}, last epoch {{_losses[-1]:.4f}} "
      f"(ratio {{_ratio:.3f}}, must be at most {{LOSS_RATIO}})")
assert _losses[-1] <= LOSS_RATIO * _losses[0], (
    f"the training loss fell only from {{_losses[0]:.4f}} to {{_losses[-1]:.4f}}: it must at "
    "least halve. Check the learning rate, the number of epochs and the gradients (tests in [2])")
'''

ERRORS_INTRO = r"""
## 5. What does your model get wrong?

The **confusion matrix** counts, for every true class (row), how often the model predicted
each class (column): the diagonal holds the correct answers, everything else is a mistake.
Look for the largest off-diagonal cells: which digits does your model confuse? Then look at the
misclassified images themselves: some are hard even for a human at $8 \times 8$ pixels.
"""

CONFUSION = """
test_predictions = predict(best_model, X_test)
print(f"test accuracy: {np.mean(test_predictions == y_test):.4f}")
plot_confusion_matrix(confusion_matrix(y_test, test_predictions, n_classes=10))
"""

MISCLASSIFIED = """
plot_misclassified(digits.standardizer.inverse_transform(X_test), y_test, test_predictions,
                   image_shape=(8, 8), n=16)
"""

CLOSING = r"""
## Before you submit

* *Kernel → Restart Kernel and Run All Cells* in `[1]`, `[2]` and this notebook, in that order,
  and check that nothing stops with an error.
* Press **Validate** in each notebook.
* Check that your three answers above are written in your own words and agree with your own
  plots.
"""


# ----------------------------------------------------------------------------- assembling

def setup_source():
    """The read-only setup cell: imports, the student's classes, seeds."""
    needed = "[" + ", ".join(f'"{name}"' for name in NEEDED) + "]"
    needed = needed.replace('"Dropout", ', '"Dropout",\n          ', 1)
    return (SETUP_IMPORTS.strip("\n") + "\n\n"
            + SETUP_LOAD.format(modules=MODULES_NOTEBOOK, needed=needed).strip("\n"))


def build():
    """The source notebook as a NotebookNode (no outputs, stable ids)."""
    cells = [
        _text("title", TITLE),
        _text("setup_intro", SETUP_INTRO),
        _given("setup", setup_source()),
        _text("data_intro", DATA_INTRO),
        _given("data", DATA),
        _free("show_digits", SHOW_DIGITS),
        _text("warmup_intro", WARMUP_INTRO),
        _free("warmup_train", WARMUP_TRAIN),
        _free("warmup_plot", WARMUP_PLOT),
        _text("warmup_after", WARMUP_AFTER),
        _text("experiments_intro", EXPERIMENTS_INTRO),
        _given("helpers", HELPERS),
        _text("activations_intro", ACTIVATIONS_INTRO),
        _free("activations", ACTIVATIONS),
        _text("q_activations_question", Q_ACTIVATIONS_QUESTION),
        _answer("q_activations", Q_ACTIVATIONS_ANSWER, points=2),
        _text("batchnorm_intro", BATCHNORM_INTRO),
        _free("batchnorm", BATCHNORM),
        _text("batchnorm_pitfall_intro", BATCHNORM_PITFALL_INTRO),
        _free("batchnorm_pitfall", BATCHNORM_PITFALL),
        _text("q_batchnorm_question", Q_BATCHNORM_QUESTION),
        _answer("q_batchnorm", Q_BATCHNORM_ANSWER, points=2),
        _text("dropout_intro", DROPOUT_INTRO),
        _free("dropout", DROPOUT),
        _text("dropout_pitfall_intro", DROPOUT_PITFALL_INTRO),
        _free("dropout_pitfall", DROPOUT_PITFALL),
        _text("optimizers_intro", OPTIMIZERS_INTRO),
        _free("optimizers", OPTIMIZERS),
        _text("learning_rate_intro", LEARNING_RATE_INTRO),
        _free("learning_rate", LEARNING_RATE),
        _text("q_optimizers_question", Q_OPTIMIZERS_QUESTION),
        _answer("q_optimizers", Q_OPTIMIZERS_ANSWER, points=2),
        _text("best_intro", BEST_INTRO.format(threshold=ACCURACY_THRESHOLD, ratio=LOSS_RATIO)),
        _text("threshold", THRESHOLD_TEXT.format(threshold=ACCURACY_THRESHOLD)),
        _solution("best_model", BEST_MODEL),
        _free("best_curves", BEST_CURVES),
        _text("tests_intro", TESTS_INTRO),
        _test("test_best_model_accuracy",
              TEST_ACCURACY.format(threshold=ACCURACY_THRESHOLD, modules=MODULES_NOTEBOOK), points=3),
        _test("test_training_loss_decreases", TEST_LOSS.format(ratio=LOSS_RATIO), points=1),
        _text("errors_intro", ERRORS_INTRO),
        _free("confusion", CONFUSION),
        _free("misclassified", MISCLASSIFIED),
        _text("closing", CLOSING),
    ]
    nb = notebook(cells)
    nbformat.validate(nb)
    return nb


def render(nb=None):
    """The exact text written to disk (nbformat's JSON plus a final newline)."""
    text = nbformat.writes(build() if nb is None else nb)
    return text if text.endswith("\n") else text + "\n"


def write(path=DEFAULT_OUT):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(), encoding="utf-8")
    return path


# ----------------------------------------------------------------------------- threshold evidence

def _cell_source(nb, cell_id):
    return next(cell.source for cell in nb.cells if cell.id == cell_id)


def measure_solution(seeds=range(10)):
    """Rerun the solution cell with the reference layers, once per seed.

    The namespace is what the notebook builds: the setup imports, the reference classes in
    place of the student's, then the data and helper cells; the solution's two seeds
    (`np.random.seed(0)` and `seed=0`) are replaced by each seed in turn. Runs with one BLAS
    thread, as the setup cell does.
    Returns a list of dicts: seed, test accuracy, first/last epoch training loss, seconds.
    """
    try:
        from threadpoolctl import threadpool_limits
        one_blas_thread = threadpool_limits(limits=1, user_api="blas")
    except ImportError:
        one_blas_thread = contextlib.nullcontext()
    with one_blas_thread:
        return [_run_solution(seed) for seed in seeds]


def _run_solution(seed):
    import layers_lib.reference as layers_lib
    from layers_lib.training import accuracy

    nb = build()
    solution = _cell_source(nb, "best_model")
    for marker in ("np.random.seed(0)", "seed=0"):
        if solution.count(marker) != 1:
            raise RuntimeError(f"the solution cell should contain {marker!r} exactly once")
    namespace = {}
    exec(SETUP_IMPORTS, namespace)
    namespace.update({name: getattr(layers_lib, name) for name in NEEDED})
    with contextlib.redirect_stdout(io.StringIO()):  # the data cell prints a summary
        exec(_cell_source(nb, "data"), namespace)
    exec(_cell_source(nb, "helpers"), namespace)
    source = solution.replace("np.random.seed(0)", f"np.random.seed({seed})")
    source = source.replace("seed=0", f"seed={seed}")
    start = time.perf_counter()
    exec(source, namespace)
    seconds = time.perf_counter() - start
    history = namespace["best_history"]
    return {"seed": seed,
            "test_accuracy": accuracy(namespace["best_model"], namespace["X_test"], namespace["y_test"]),
            "first_loss": history.train_loss[0], "last_loss": history.train_loss[-1],
            "seconds": seconds}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help=f"where to write the notebook (default: {DEFAULT_OUT})")
    parser.add_argument("--check", action="store_true",
                        help="do not write; exit 1 if the file at --out differs from build()")
    parser.add_argument("--measure", type=int, metavar="N",
                        help="run the solution cell with N seeds and print the numbers")
    args = parser.parse_args(argv)
    if args.measure:
        rows = measure_solution(range(args.measure))
        for row in rows:
            print(f"seed {row['seed']:2d}: test accuracy {row['test_accuracy']:.4f}, training loss "
                  f"{row['first_loss']:.4f} -> {row['last_loss']:.4f} "
                  f"(ratio {row['last_loss'] / row['first_loss']:.4f}), {row['seconds']:.1f} s")
        accuracies = [row["test_accuracy"] for row in rows]
        ratios = [row["last_loss"] / row["first_loss"] for row in rows]
        print(f"test accuracy: min {min(accuracies):.4f}, mean {sum(accuracies) / len(rows):.4f}, "
              f"max {max(accuracies):.4f}; loss ratio max {max(ratios):.4f}; "
              f"threshold {ACCURACY_THRESHOLD}, ratio limit {LOSS_RATIO}")
        return 0
    if args.check:
        if not args.out.exists() or args.out.read_text(encoding="utf-8") != render():
            print(f"{args.out} is stale: run python -m layers_lib.course.notebooks.train",
                  file=sys.stderr)
            return 1
        print(f"{args.out} is up to date")
        return 0
    print(f"wrote {write(args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
