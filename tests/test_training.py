"""Tests of layers_lib.training and layers_lib.plots, with the reference layer classes."""
import io

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from matplotlib.figure import Figure

from layers_lib.reference import (Linear, LogSoftMax, Module, NLLCriterion, ReLU, Sequential, adam_optimizer,
                        sgd_momentum)
from layers_lib.data import load_digits_split, make_moons, make_spirals
from layers_lib.plots import (live_history, plot_confusion_matrix, plot_decision_boundary,
                              plot_history, plot_misclassified)
from layers_lib.training import (History, accuracy, cast_parameters, confusion_matrix, evaluate,
                                 forward_in_batches, predict, train)

SGD = (sgd_momentum, {"learning_rate": 0.05, "momentum": 0.9})
ADAM = (adam_optimizer, {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8})


def mlp(*sizes, seed=0):
    """Linear/ReLU stack ending in LogSoftMax, with seeded initialisation."""
    np.random.seed(seed)
    model = Sequential()
    for k, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        model.add(Linear(n_in, n_out))
        model.add(ReLU() if k < len(sizes) - 2 else LogSoftMax())
    return model


@pytest.fixture(scope="module")
def digits():
    return load_digits_split(seed=0)


# --------------------------------------------------------------------------- learning

def test_training_on_moons_reduces_loss_and_generalises():
    X, y = make_moons(400, noise=0.1, seed=0)
    X_test, y_test = make_moons(400, noise=0.1, seed=1)
    model = mlp(2, 32, 32, 2)
    opt, config = ADAM
    history = train(model, NLLCriterion(), opt, dict(config, learning_rate=1e-2), X, y,
                    epochs=30, batch_size=32, progress=False)
    assert history.train_loss[-1] < 0.1 * history.train_loss[0]
    assert accuracy(model, X_test, y_test) >= 0.97


@pytest.mark.parametrize("optimizer", [SGD, ADAM], ids=["sgd_momentum", "adam"])
def test_digits_mlp_reaches_95_percent(digits, optimizer):
    opt, config = optimizer
    model = mlp(64, 64, 10)
    history = train(model, NLLCriterion(), opt, dict(config), digits.X_train, digits.y_train,
                    epochs=20, batch_size=32, X_val=digits.X_val, y_val=digits.y_val, progress=False)
    assert history.train_loss[-1] < 0.2 * history.train_loss[0]
    assert history.val_loss[-1] < history.val_loss[0]
    assert history.val_acc[-1] >= 0.93
    assert accuracy(model, digits.X_test, digits.y_test) >= 0.95
    assert history.wall_time < 10  # ~0.2 s on a laptop; guards against an accidental O(N^2) loop


def test_history_records_every_epoch_and_batch(digits):
    history = train(mlp(64, 16, 10), NLLCriterion(), *SGD, digits.X_train, digits.y_train, epochs=3,
                    batch_size=100, X_val=digits.X_val, y_val=digits.y_val, progress=False)
    assert isinstance(history, History) and history.epochs == 3
    assert history.batches_per_epoch == 13  # ceil(1257 / 100): the partial batch counts
    assert len(history.batch_loss) == 39
    for series in (history.train_loss, history.train_acc, history.val_loss, history.val_acc,
                   history.epoch_time):
        assert len(series) == 3
    assert all(0 <= a <= 1 for a in history.train_acc + history.val_acc)
    assert history.wall_time == pytest.approx(sum(history.epoch_time)) and history.wall_time > 0
    # The epoch loss is the sample-weighted mean of its batch losses (last batch holds 57).
    weights = np.array([100] * 12 + [57])
    assert history.train_loss[0] == pytest.approx(np.dot(history.batch_loss[:13], weights) / 1257)
    assert "val acc" in history.summary()


def test_training_is_reproducible_with_seeds(digits):
    def run(seed):
        return train(mlp(64, 16, 10), NLLCriterion(), *ADAM, digits.X_train, digits.y_train,
                     epochs=2, batch_size=64, seed=seed, progress=False).batch_loss
    assert run(3) == run(3)
    assert run(3) != run(4)


def test_float32_data_trains_float32_outputs(digits):
    model = mlp(64, 16, 10)
    train(model, NLLCriterion(), *SGD, digits.X_train, digits.y_train, epochs=1, batch_size=64,
          progress=False)
    assert forward_in_batches(model, digits.X_val).dtype == np.float32


def test_cast_parameters_makes_the_whole_step_float32_and_the_optimizer_updates_the_copies(digits):
    model, twin = mlp(64, 16, 10), mlp(64, 16, 10)
    assert cast_parameters(model, np.float32) == 8           # W, b, grad_W, grad_b of both Linear
    assert cast_parameters(model, np.float32) == 0
    for group in model.get_params() + model.get_grad_params():
        assert [a.dtype for a in group] == [np.float32] * len(group)
    histories = [train(m, NLLCriterion(), *SGD, digits.X_train, digits.y_train, epochs=2, batch_size=64,
                       seed=0, progress=False) for m in (model, twin)]
    first = model.modules[0]
    assert first.W.dtype == np.float32 and first.W is model.get_params()[0][0]   # trained in place
    assert forward_in_batches(model, digits.X_val).dtype == np.float32
    # the same training as in float64, up to float32 rounding
    np.testing.assert_allclose(histories[0].batch_loss, histories[1].batch_loss, rtol=1e-3)


class ListKeeper(Module):
    """Keeps its parameters in a list as well: get_params() does not read the attributes."""

    def __init__(self):
        super().__init__()
        self.W = np.ones((2, 2))
        self.params = [self.W]

    def get_params(self):
        return self.params


def test_cast_parameters_leaves_a_module_it_cannot_cast_consistently_as_it_was():
    keeper = ListKeeper()
    W = keeper.W
    model = Sequential()
    model.add(keeper)
    assert cast_parameters(model, np.float32) == 0
    assert keeper.W is W and keeper.params[0] is W and W.dtype == np.float64


class Spy(Module):
    """A wrapper recording the mode of every forward call and every optimizer step."""

    def __init__(self, inner):
        super().__init__()
        self.inner, self.modes = inner, []

    def update_output(self, input):
        self.modes.append(self.training)
        self.output = self.inner.forward(input)
        return self.output

    def backward(self, input, grad_output):
        self.grad_input = self.inner.backward(input, grad_output)
        return self.grad_input

    def zero_grad_params(self):
        self.inner.zero_grad_params()

    def get_params(self):
        return self.inner.get_params()

    def get_grad_params(self):
        return self.inner.get_grad_params()

    def train(self):
        super().train()
        self.inner.train()

    def evaluate(self):
        super().evaluate()
        self.inner.evaluate()


def test_train_mode_for_steps_evaluate_mode_for_validation_and_mode_restored(digits):
    model = Spy(mlp(64, 16, 10))
    model.evaluate()
    calls = []

    def optimizer(variables, gradients, config, state):
        # The gradients handed over are the model's, fresh from this step's backward.
        assert len(variables) == len(gradients) == 4
        assert all(len(v) == len(g) for v, g in zip(variables, gradients))
        state["steps"] = state.get("steps", 0) + 1
        calls.append(state["steps"])
        sgd_momentum(variables, gradients, config, state)

    train(model, NLLCriterion(), optimizer, dict(SGD[1]), digits.X_train[:200], digits.y_train[:200],
          epochs=2, batch_size=50, X_val=digits.X_val, y_val=digits.y_val, progress=False)
    # Per epoch: 4 training forwards, then one evaluation forward (270 val samples < 1024).
    assert model.modes == [True] * 4 + [False] + [True] * 4 + [False]
    assert calls == list(range(1, 9))  # one state dict kept across all steps
    assert model.training is False and model.inner.training is False


# --------------------------------------------------------------------------- errors

class NaiveLogSoftMax(Module):
    """A typical student bug: log(softmax) without the max shift; exp overflows."""

    def update_output(self, input):
        e = np.exp(input)
        self.output = np.log(e / e.sum(axis=1, keepdims=True))
        return self.output

    def update_grad_input(self, input, grad_output):
        self.grad_input = grad_output - np.exp(self.output) * grad_output.sum(axis=1, keepdims=True)
        return self.grad_input


def test_unstable_log_softmax_is_reported_with_epoch_and_batch():
    raw = load_digits_split(normalize=None)  # pixels 0..16, so logits grow fast
    np.random.seed(0)
    model = Sequential()
    for layer in (Linear(64, 64, dtype=np.float32), ReLU(), Linear(64, 10, dtype=np.float32),
                  NaiveLogSoftMax()):
        model.add(layer)
    with np.errstate(all="ignore"), pytest.raises(FloatingPointError,
                                                  match=r"NaN.* at epoch \d+ batch \d+ — lower the "
                                                        r"learning rate or check LogSoftMax stability"):
        train(model, NLLCriterion(), sgd_momentum, {"learning_rate": 0.5, "momentum": 0.9},
              raw.X_train, raw.y_train, epochs=5, batch_size=32, progress=False)


def test_nan_input_is_reported_at_the_first_batch(digits):
    X = np.full_like(digits.X_train, np.nan)
    with pytest.raises(FloatingPointError, match="at epoch 1 batch 1"):
        train(mlp(64, 10), NLLCriterion(), *SGD, X, digits.y_train, epochs=1, batch_size=32,
              progress=False)


class NaNAfter(NLLCriterion):
    """NLLCriterion whose loss turns NaN at its ``n``-th forward call."""

    def __init__(self, n):
        super().__init__()
        self.calls, self.n = 0, n

    def update_output(self, input, target):
        self.calls += 1
        loss = super().update_output(input, target)
        return input.dtype.type(np.nan) if self.calls >= self.n else loss


def test_nan_loss_names_epoch_and_batch(digits):
    # 1257 samples / batch 500 = 3 batches per epoch, so call 6 is epoch 2, batch 3.
    with pytest.raises(FloatingPointError, match="loss became NaN at epoch 2 batch 3 — lower the learning rate"):
        train(mlp(64, 10), NaNAfter(6), *SGD, digits.X_train, digits.y_train, epochs=3,
              batch_size=500, progress=False)


def test_wrong_output_width_is_a_clear_error(digits):
    with pytest.raises(ValueError, match=r"shape \(32, 5\), expected \(32, 10\).*last Linear"):
        train(mlp(64, 5), NLLCriterion(), *SGD, digits.X_train, digits.y_train, epochs=1,
              batch_size=32, n_classes=10, progress=False)


@pytest.mark.parametrize("kwargs, message", [
    (dict(y_train="onehot"), "one-hot"),
    (dict(epochs=0), "epochs"),
    (dict(batch_size=0), "batch_size"),
    (dict(X_val="only"), "both X_val and y_val"),
])
def test_bad_arguments(digits, kwargs, message):
    args = dict(X_train=digits.X_train, y_train=digits.y_train, epochs=1, batch_size=32)
    if kwargs.get("y_train") == "onehot":
        kwargs["y_train"] = np.eye(10, dtype=np.int64)[digits.y_train]
    if kwargs.get("X_val") == "only":
        kwargs["X_val"] = digits.X_val
    args.update(kwargs)
    opt, config = SGD
    with pytest.raises(ValueError, match=message):
        train(mlp(64, 10), NLLCriterion(), opt, config, progress=False, **args)


def test_progress_false_is_silent_and_progress_true_draws_a_bar(digits, capsys):
    args = (NLLCriterion(), *SGD, digits.X_train, digits.y_train)
    assert live_history() is None  # outside IPython there is nothing to redraw
    train(mlp(64, 10), *args, epochs=2, batch_size=64, progress=False, on_epoch=live_history())
    assert capsys.readouterr() == ("", "")  # so live plotting outside IPython is a no-op too
    train(mlp(64, 10), *args, epochs=2, batch_size=64, progress=True)
    assert "2/2" in capsys.readouterr().err


# --------------------------------------------------------------------------- evaluation helpers

def test_predict_accuracy_evaluate_agree(digits):
    model = mlp(64, 16, 10)
    model.train()
    out = forward_in_batches(model, digits.X_val, batch_size=7)  # batch size must not matter
    np.testing.assert_allclose(out, forward_in_batches(model, digits.X_val, batch_size=1000), rtol=1e-6)
    labels = predict(model, digits.X_val)
    assert labels.dtype == np.int64 and labels.shape == (270,)
    np.testing.assert_array_equal(labels, out.argmax(axis=1))
    assert accuracy(model, digits.X_val, digits.y_val) == pytest.approx(np.mean(labels == digits.y_val))
    loss, acc = evaluate(model, NLLCriterion(), digits.X_val, digits.y_val, 10, batch_size=64)
    assert loss == pytest.approx(-out[np.arange(270), digits.y_val].mean(), rel=1e-5)
    assert acc == pytest.approx(np.mean(labels == digits.y_val))
    assert model.training is True  # evaluation helpers restore the mode


def test_confusion_matrix():
    cm = confusion_matrix(np.array([0, 0, 1, 2, 2, 2]), np.array([0, 1, 1, 2, 0, 2]), 4)
    expected = np.zeros((4, 4), dtype=np.int64)
    expected[0, 0] = expected[0, 1] = expected[1, 1] = expected[2, 0] = 1
    expected[2, 2] = 2
    np.testing.assert_array_equal(cm, expected)
    with pytest.raises(ValueError, match=r"outside \[0, 3\)"):
        confusion_matrix(np.array([0, 3]), np.array([0, 1]), 3)
    with pytest.raises(ValueError, match="shape"):
        confusion_matrix(np.array([0, 1]), np.array([0]), 3)


# --------------------------------------------------------------------------- plots

def _renders(fig):
    assert isinstance(fig, Figure)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    assert buffer.getvalue().startswith(b"\x89PNG")
    # Jupyter displays the figure through this even when pyplot was never imported.
    assert fig._repr_png_().startswith(b"\x89PNG")


def test_plots_return_renderable_figures(digits):
    model = mlp(64, 16, 10)
    h1 = train(model, NLLCriterion(), *SGD, digits.X_train, digits.y_train, epochs=2, batch_size=64,
               X_val=digits.X_val, y_val=digits.y_val, progress=False)
    h2 = train(mlp(64, 16, 10), NLLCriterion(), *ADAM, digits.X_train, digits.y_train, epochs=2,
               batch_size=64, progress=False)
    single = plot_history(h1)
    assert len(single.axes) == 2
    assert len(single.axes[0].lines) == 3  # minibatch, train, val
    compare = plot_history({"sgd": h1, "adam": h2})
    assert [line.get_label() for line in compare.axes[1].lines] == ["sgd train", "sgd val", "adam train"]
    y_pred = predict(model, digits.X_test)
    cm = confusion_matrix(digits.y_test, y_pred, 10)
    figs = [single, compare, plot_confusion_matrix(cm), plot_confusion_matrix(cm, normalize=True),
            plot_misclassified(digits.X_test, digits.y_test, y_pred, (8, 8), n=5),
            plot_misclassified(digits.X_test, digits.y_test, digits.y_test, (8, 8))]
    n_wrong = int(np.sum(y_pred != digits.y_test))
    assert sum(ax.has_data() for ax in figs[4].axes) == min(5, n_wrong)
    for fig in figs:
        _renders(fig)


def test_decision_boundary_on_spirals():
    X, y = make_spirals(300, 3, noise=0.2, seed=0)
    model = mlp(2, 32, 3)
    model.train()
    fig = plot_decision_boundary(model, X, y, resolution=50)
    _renders(fig)
    assert model.training is True
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        plot_decision_boundary(model, np.zeros((4, 3), np.float32), np.zeros(4, np.int64))


def test_live_history_redraws_one_display_per_epoch_in_ipython(digits, monkeypatch):
    import IPython
    import IPython.display

    shown, updates = [], []

    class Handle:
        def update(self, obj):
            updates.append(obj)

    def display(obj, display_id=None):
        assert display_id is True  # an updatable display, not a new output per epoch
        shown.append(obj)
        return Handle()

    monkeypatch.setattr(IPython, "get_ipython", lambda: object())
    monkeypatch.setattr(IPython.display, "display", display)
    train(mlp(64, 10), NLLCriterion(), *SGD, digits.X_train, digits.y_train, epochs=3, batch_size=256,
          progress=False, on_epoch=live_history())
    assert len(shown) == 1 and len(updates) == 2
    assert all(isinstance(fig, Figure) for fig in shown + updates)


def test_on_epoch_is_called_with_the_history_after_every_epoch(digits):
    seen = []
    history = train(mlp(64, 10), NLLCriterion(), *SGD, digits.X_train, digits.y_train, epochs=3,
                    batch_size=256, X_val=digits.X_val, y_val=digits.y_val, progress=False,
                    on_epoch=lambda h: seen.append((h, h.epochs, len(h.val_loss))))
    assert [(epochs, n_val) for _, epochs, n_val in seen] == [(1, 1), (2, 2), (3, 3)]
    assert all(h is history for h, _, _ in seen)


def test_training_does_not_import_plots_or_ipython():
    import ast
    import inspect

    import layers_lib.training as training

    imported = set()
    for node in ast.walk(ast.parse(inspect.getsource(training))):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            imported.add(("." * node.level) + (node.module or ""))
    assert not {name for name in imported if "plots" in name or name.startswith("IPython")}, imported
