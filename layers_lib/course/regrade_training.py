"""`[0]`'s autograded points, earned where student code cannot fake them.

The student's kernel only names a recipe (`BEST_RECIPE`, read from the cell's source without
running it). The grader then, in a sandboxed worker that sees the student kit and nothing else
(no scikit-learn data files, no network):
  1. builds the recipe's network from the student's own classes (`layers_lib.recipe`),
  2. trains it with the student's criterion and optimizer on the digits training split, by
     the kit's `train` loop, seed fixed,
  3. asks the network for its outputs on held-back images (the test split, with noise added
     here): their labels never leave this process,
and computes the accuracy and the loss (a log-softmax of whatever the network outputs, so a
forward cannot declare its own loss) from those outputs here.

Nothing the student's kernel returns is used: a patched `accuracy`, a forward that looks the
labels up, a model of other classes or one trained on the test split earn nothing.
"""
from dataclasses import dataclass, field

import numpy as np

from layers_lib.data import load_digits_split
from layers_lib.grading.isolation import BLOCKED_IMPORTS, IsolatedSubmission
from layers_lib.grading.isolation.errors import IsolationError
from layers_lib.recipe import RecipeError, needed_classes, parse_recipe

from .notebooks.train_cells import ACCURACY_THRESHOLD, LOSS_RATIO

NOISE = 0.1              # standard deviations of noise on the held-back (standardised) images
_DATA_SEED = 20261202

RETRAIN_BLOCKED = {**BLOCKED_IMPORTS,
                   **{name: f"importing {name} is not allowed in the submission: build the "
                            "model from your own classes" for name in ("sklearn", "scipy")}}


@dataclass
class TrainingVerdict:
    accuracy: float = float("nan")
    loss_before: float = float("nan")
    loss_after: float = float("nan")
    problem: str = ""                 # why nothing could be measured ("" when measured)
    notes: list = field(default_factory=list)

    @property
    def accuracy_ok(self):
        return not self.problem and self.accuracy >= ACCURACY_THRESHOLD

    @property
    def loss_ok(self):
        return not self.problem and self.loss_after <= LOSS_RATIO * self.loss_before

    def accuracy_report(self):
        if self.problem:
            return self.problem
        return (f"measured by the grader: your BEST_RECIPE, re-trained from your classes, reaches "
                f"{self.accuracy:.4f} on held-back images (threshold {ACCURACY_THRESHOLD})")

    def loss_report(self):
        if self.problem:
            return self.problem
        ratio = self.loss_after / self.loss_before if self.loss_before > 0 else float("inf")
        return (f"measured by the grader: the loss on held-back images fell from "
                f"{self.loss_before:.4f} (untrained) to {self.loss_after:.4f} (ratio {ratio:.3f}, "
                f"must be at most {LOSS_RATIO})")


def held_back_data():
    """(X_train, y_train, X_held, y_held): the training split as students have it; the test
    split with noise, so that no copy of the data set matches it."""
    split = load_digits_split(dtype=np.float64)
    rng = np.random.default_rng(_DATA_SEED)
    held = split.X_test + NOISE * rng.standard_normal(split.X_test.shape)
    return split.X_train, split.y_train, held, split.y_test


def cross_entropy(output, labels):
    """Mean negative log-likelihood of `labels` under a softmax of `output` (any real scores)."""
    shifted = output - output.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(-log_probs[np.arange(len(labels)), labels].mean())


def _outputs(model, X, label):
    model.evaluate()
    out = model.forward(X)
    model.train()
    if type(out) is not np.ndarray or out.shape != (len(X), 10):
        raise RecipeError(f"{label}: the network maps {X.shape} to "
                          f"{getattr(out, 'shape', type(out).__name__)}, expected ({len(X)}, 10)")
    out = out.astype(np.float64)
    if not np.all(np.isfinite(out)):
        raise RecipeError(f"{label}: the network outputs NaN or inf (learning rate too high, or "
                          "an unstable LogSoftMax)")
    return out


def regrade_training(modules_path, recipe_source, *, launcher=None, timeout=60.0):
    """A TrainingVerdict for the recipe in `recipe_source` and the classes of `modules_path`."""
    try:
        recipe = parse_recipe(recipe_source)
    except RecipeError as exc:
        return TrainingVerdict(problem=f"BEST_RECIPE: {exc}")
    X_train, y_train, X_held, y_held = held_back_data()
    try:
        with IsolatedSubmission(modules_path, call_timeout=timeout, launcher=launcher,
                                blocked_imports=RETRAIN_BLOCKED) as student:
            missing = [name for name in needed_classes(recipe) if name not in student.namespace]
            if missing:
                reasons = "; ".join(student.failure_reason(name) for name in missing)
                return TrainingVerdict(problem=f"the recipe needs {', '.join(missing)}: {reasons}")
            classes = {name: student.namespace[name] for name in needed_classes(recipe)}
            np.random.seed(0)
            model = student.call_trusted("layers_lib.recipe:build_model", classes, recipe,
                                         label="building BEST_RECIPE from your classes")
            before = cross_entropy(_outputs(model, X_held, "untrained"), y_held)
            student.call_trusted(
                "layers_lib.training:train", model, classes["NLLCriterion"](),
                classes[recipe["optimizer"]], recipe["config"], X_train, y_train,
                epochs=recipe["epochs"], batch_size=recipe["batch_size"], seed=0, progress=False,
                label="training BEST_RECIPE")
            out = _outputs(model, X_held, "trained")
    except RecipeError as exc:
        return TrainingVerdict(problem=str(exc))
    except IsolationError as exc:
        return TrainingVerdict(problem=f"the grader could not train BEST_RECIPE: {exc}")
    except Exception as exc:                          # noqa: BLE001 - the student's exception
        return TrainingVerdict(problem=f"re-training BEST_RECIPE failed: {type(exc).__name__}: "
                                       f"{str(exc)[:500]}")
    accuracy = float(np.mean(out.argmax(axis=1) == y_held))
    return TrainingVerdict(accuracy=accuracy, loss_before=before,
                           loss_after=cross_entropy(out, y_held))
