"""The code of `[0]task8_train_model.ipynb` (layers_lib/course/notebooks/train_cells.py), run here
with the reference classes on tiny data, and the cells the builder makes from it."""
import ast
import builtins
import inspect
import symtable
from pathlib import Path
from types import SimpleNamespace

import nbformat
import numpy as np
import pytest

import layers_lib.reference as reference
from layers_lib import contract
from layers_lib.course.notebooks import cells, train
from layers_lib.course.notebooks import train_cells as tc
from layers_lib.course.notebooks.solutions import plain_source
from layers_lib.training import History

NEEDED = {name: getattr(reference, name) for name in tc.NEEDED}


@pytest.fixture
def notebook():
    """The reference classes and 30 + 10 random 'images' bound as the notebook binds them."""
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 64)), np.arange(40) % 10
    with tc.notebook_names(**NEEDED, X_train=X[:30], y_train=y[:30], X_val=X[30:], y_val=y[30:]):
        yield


def write_modules_notebook(path, objects):
    sources = ["import numpy as np"] + [inspect.getsource(obj) for obj in objects]
    nbformat.write(cells.notebook([nbformat.v4.new_code_cell(s) for s in sources]), str(path))


def layer_names(model):
    return [type(m).__name__ for m in model.modules]


# ----------------------------------------------------------------------------- binding names

def test_notebook_names_binds_and_restores():
    assert tc.Sequential is None and not hasattr(tc, "extra")
    with tc.notebook_names(Sequential=reference.Sequential, extra=1):
        assert tc.Sequential is reference.Sequential and tc.extra == 1
    assert tc.Sequential is None and not hasattr(tc, "extra")


# ----------------------------------------------------------------------------- setup cell

def test_missing_name_says_what_failed_and_what_to_do():
    missing = tc.MissingName("Linear", "Linear is not defined in [1]task8_modules.ipynb")
    assert repr(missing) == "<missing Linear>"
    with pytest.raises(NameError, match=r"cannot use Linear: Linear is not defined .*Fix "
                                        r"\[1\]task8_modules.ipynb, save it and rerun"):
        missing(2, 3)


def test_find_modules_notebook(tmp_path, monkeypatch):
    here = tmp_path / "autograded" / "alice" / "task8"
    submitted = tmp_path / "submitted" / "alice" / "task8" / tc.MODULES_NOTEBOOK
    here.mkdir(parents=True)
    monkeypatch.chdir(here)
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    assert tc.find_modules_notebook() == tc.MODULES_NOTEBOOK     # a student's kernel
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    assert tc.find_modules_notebook() == tc.MODULES_NOTEBOOK     # nothing submitted
    submitted.parent.mkdir(parents=True)
    submitted.write_text("{}")
    assert tc.find_modules_notebook() == str(submitted)          # autograde before the copy
    (here / tc.MODULES_NOTEBOOK).write_text("{}")
    assert tc.find_modules_notebook() == tc.MODULES_NOTEBOOK     # the copy is there


def test_load_classes_and_print_loaded(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    write_modules_notebook(tmp_path / tc.MODULES_NOTEBOOK,
                           [contract.Module, reference.Sequential, reference.Linear])
    classes, reasons = tc.load_classes(tc.MODULES_NOTEBOOK)
    assert set(classes) == set(reasons) == set(tc.NEEDED)
    assert reasons["Linear"] is None and classes["Linear"].__name__ == "Linear"
    assert classes["Linear"] is not reference.Linear
    assert isinstance(classes["ReLU"], tc.MissingName)
    assert reasons["ReLU"] == "ReLU is not defined in [1]task8_modules.ipynb"
    tc.print_loaded(reasons)
    out = capsys.readouterr().out
    assert "2 of 13 loaded" in out and "MISSING" in out and "  - ReLU is not defined" in out
    tc.print_loaded(dict.fromkeys(tc.NEEDED))
    assert "13 of 13 loaded.\nAll loaded: Sequential, Linear," in capsys.readouterr().out


def test_load_classes_without_the_notebook(tmp_path):
    classes, reasons = tc.load_classes(str(tmp_path / "absent.ipynb"))
    assert all(isinstance(c, tc.MissingName) for c in classes.values())
    assert all("[1]task8_modules.ipynb could not be read" in reason for reason in reasons.values())


# ----------------------------------------------------------------------------- helpers cell

def test_make_mlp_builds_the_documented_layers(notebook):
    assert layer_names(tc.make_mlp(reference.ReLU)) == ["Linear", "ReLU", "Linear", "LogSoftMax"]
    model = tc.make_mlp(lambda: reference.LeakyReLU(slope=0.1), batch_norm=True, dropout=0.5,
                        hidden=(8, 4))
    assert layer_names(model) == ["Linear", "BatchNormalization", "Scaling", "LeakyReLU", "Dropout",
                                  "Linear", "BatchNormalization", "Scaling", "LeakyReLU", "Dropout",
                                  "Linear", "LogSoftMax"]
    assert model.modules[1].alpha == 0.9 and model.modules[4].p == 0.5
    assert [m.W.shape for m in model.modules if type(m).__name__ == "Linear"] == [(64, 8), (8, 4), (4, 10)]
    assert model.forward(np.random.default_rng(0).normal(size=(3, 64))).shape == (3, 10)


def test_fit_trains_on_the_bound_split(notebook):
    history = tc.fit(tc.make_mlp(reference.ReLU, hidden=(8,)), reference.sgd_momentum,
                     tc.SGD_CONFIG, epochs=2, batch_size=10)
    assert isinstance(history, History)
    assert history.epochs == 2 and len(history.val_acc) == 2 and history.batches_per_epoch == 3


def test_compare_starts_every_run_from_the_same_state(notebook, capsys):
    build = lambda: tc.make_mlp(reference.ReLU, hidden=(8,))  # noqa: E731
    runs = {"a": (build, reference.adam_optimizer, tc.ADAM_CONFIG),
            "b": (build, reference.adam_optimizer, tc.ADAM_CONFIG)}
    histories, models = tc.compare(runs, epochs=2)
    assert histories["a"].train_loss == histories["b"].train_loss
    np.testing.assert_array_equal(models["a"].modules[0].W, models["b"].modules[0].W)
    out = capsys.readouterr().out
    assert out.count("epoch 2: train loss") == 2 and "FAILED" not in out


def test_compare_reports_a_failed_run_and_raises_when_all_fail(notebook, capsys):
    broken = tc.MissingName("Linear", "Linear is not defined in [1]task8_modules.ipynb")
    runs = {"broken": (broken, reference.adam_optimizer, tc.ADAM_CONFIG),
            "fine": (lambda: tc.make_mlp(reference.ReLU, hidden=(8,)), reference.adam_optimizer,
                     tc.ADAM_CONFIG)}
    histories, _ = tc.compare(runs, epochs=1)
    assert list(histories) == ["fine"]
    assert "broken: FAILED: NameError: cannot use Linear" in capsys.readouterr().out
    with pytest.raises(RuntimeError, match=r"every run failed .*\[1\]task8_modules.ipynb"):
        tc.compare({"broken": runs["broken"]}, epochs=1)


def test_describe_points_into_the_students_notebook():
    code = compile("def forward(x):\n    raise ValueError('bad shape')\n",
                   f"<{tc.MODULES_NOTEBOOK} cell 3>", "exec")
    namespace = {}
    exec(code, namespace)
    with pytest.raises(ValueError) as inside:
        namespace["forward"](1)
    assert tc.describe(inside.value) == (
        "ValueError: bad shape (in forward, <[1]task8_modules.ipynb cell 3> line 2)")
    with pytest.raises(KeyError) as outside:
        {}["x"]
    assert tc.describe(outside.value) == "KeyError: 'x'"
    with pytest.raises(RuntimeError) as empty:
        raise RuntimeError()
    assert tc.describe(empty.value) == "RuntimeError"


# ----------------------------------------------------------------------------- solution, tests

def test_train_best_model_is_reproducible(notebook):
    (model, history), (_, again) = tc.train_best_model(seed=1), tc.train_best_model(seed=1)
    assert history.epochs == 40 and history.train_loss == again.train_loss
    assert layer_names(model) == ["Linear", "ReLU", "Dropout", "Linear", "LogSoftMax"]


def test_check_own_classes_refuses_layers_lib_classes(notebook):
    tc.check_own_classes(SimpleNamespace(modules=[SimpleNamespace()]))
    nested = reference.Sequential()
    nested.add(reference.ReLU())
    with pytest.raises(AssertionError, match=r"layers_lib.reference.activations.ReLU, "
                                             r"layers_lib.reference.layers.Sequential\): build it"):
        tc.check_own_classes(SimpleNamespace(modules=[nested]))
    lookalike = type("Linear", (), {"__module__": "layers_lib_copy.layers"})
    with pytest.raises(AssertionError, match=r"setup cell loaded from \[1\]task8_modules.ipynb"):
        tc.check_own_classes(lookalike())


class Fixed:
    """A model whose output is given: `output(X_test, y_test)` -> array."""

    def __init__(self, output):
        self.output, self.training = output, True

    def evaluate(self):
        self.training = False

    def forward(self, X):
        from layers_lib.data import load_digits_split
        assert not self.training, "check_test_accuracy must measure in evaluation mode"
        return self.output(X, load_digits_split(dtype=np.float64).y_test)


def test_check_test_accuracy(capsys):
    perfect = Fixed(lambda X, y: np.log(np.eye(10)[y] + 1e-3))
    assert tc.check_test_accuracy(perfect, tc.ACCURACY_THRESHOLD) == 1.0
    assert "test accuracy of best_model: 1.0000 (threshold 0.95)" in capsys.readouterr().out
    cases = [(Fixed(lambda X, y: np.zeros((len(y), 10))), "is below 0.95: train longer"),
             (Fixed(lambda X, y: np.zeros((len(y), 3))), r"output of shape \(270, 3\), expected \(270, 10\)"),
             (Fixed(lambda X, y: np.full((len(y), 10), np.nan)), "outputs NaN or inf"),
             (Fixed(lambda X, y: np.exp(np.full((len(y), 10), 1e6))), "outputs NaN or inf"),
             (Fixed(lambda X, y: 1 / 0), "forward failed on the test images: ZeroDivisionError")]
    for model, message in cases:
        with pytest.raises(AssertionError, match=message):
            tc.check_test_accuracy(model, tc.ACCURACY_THRESHOLD)


@pytest.mark.parametrize("losses, message", [
    (None, "has 0 epoch"), ([2.0], "has 1 epoch"), ([2.0, np.inf], "not finite"),
    ([2.0, 1.5], "fell only from 2.0000 to 1.5000: it must at least halve"),
])
def test_check_loss_decreased_fails_with_a_reason(losses, message):
    history = SimpleNamespace() if losses is None else SimpleNamespace(train_loss=losses)
    with pytest.raises(AssertionError, match=message):
        tc.check_loss_decreased(history, tc.LOSS_RATIO)


def test_check_loss_decreased_passes(capsys):
    assert tc.check_loss_decreased(SimpleNamespace(train_loss=[2.0, 1.0, 0.5]), 0.5) == 0.25
    assert "(ratio 0.250, must be at most 0.5)" in capsys.readouterr().out
    assert np.isnan(tc.check_loss_decreased(SimpleNamespace(train_loss=[0.0, 0.0]), 0.5))  # no warning


# ----------------------------------------------------------------------------- the built cells

def test_cells_take_their_code_from_train_cells():
    sources = {cell.id: cell.source for cell in train.build().cells}
    for cell_id, objects in {"setup": [tc.MissingName, tc.find_modules_notebook, tc.load_classes],
                             "helpers": [tc.make_mlp, tc.fit, tc.describe, tc.compare, tc.train_recipe],
                             "test_best_model_accuracy": [tc.check_own_classes, tc.check_test_accuracy],
                             "test_training_loss_decreases": [tc.check_loss_decreased]}.items():
        for obj in objects:
            assert plain_source(obj) in sources[cell_id], (cell_id, obj.__name__)
    assert "MODULES_NOTEBOOK = '[1]task8_modules.ipynb'\n" in sources["setup"]
    assert "BEST_RECIPE = dict(" in sources["best_model"]          # written as literals: parse_recipe
    from layers_lib.recipe import parse_recipe
    assert parse_recipe(sources["best_model"]) == parse_recipe(f"BEST_RECIPE = {tc.BEST_RECIPE!r}")
    assert f"ACCURACY_THRESHOLD = {tc.ACCURACY_THRESHOLD!r}\n" in sources["test_best_model_accuracy"]
    assert f"LOSS_RATIO = {tc.LOSS_RATIO!r}\n" in sources["test_training_loss_decreases"]
    code = "\n".join(s for s in sources.values())
    assert train.INCLUDE not in code and "train_cells" not in code and "{{" not in code


def test_content_files_are_the_cells_in_order():
    files = train.content_files()
    ids = [cell_id for _, cell_id, *_ in train.CELLS]
    assert sorted(files) == sorted(ids), "every cell has one content file, and no file is left over"
    assert sorted(files.values(), key=lambda f: f.name) == [files[i] for i in ids], "NN_ gives the order"
    for make, cell_id, *_ in train.CELLS:
        prose = make in (cells.markdown, cells.answer_markdown)
        assert files[cell_id].name.endswith(".md" if prose else ".py"), cell_id
    assert Path(str(files["title"])).is_relative_to(Path(train.__file__).parent), "package data"


def test_stale_numbers_in_the_prose_fail_the_build(monkeypatch):
    monkeypatch.setitem(train.PROSE_STATES, "best_intro", ["**99%**"])
    with pytest.raises(ValueError, match=r"32_best_intro.md should say '\*\*99%\*\*'"):
        train.build()


def _global_names(table):
    """(names bound at module level, names read as globals anywhere) of a symbol table."""
    bound, read = set(), set()
    for symbol in table.get_symbols():
        if table.get_type() == "module" and (symbol.is_assigned() or symbol.is_imported()
                                             or symbol.is_namespace()):
            bound.add(symbol.get_name())
        elif symbol.is_referenced() and (table.get_type() == "module" or symbol.is_global()):
            read.add(symbol.get_name())
    for child in table.get_children():
        read |= _global_names(child)[1]
    return bound, read


def test_every_name_a_cell_uses_is_defined_by_an_earlier_cell():
    """What a linter would say of the notebook as one program (the cells share their globals)."""
    defined = set(dir(builtins))
    for cell in train.build().cells:
        if cell.cell_type != "code":
            continue
        bound, read = _global_names(symtable.symtable(cell.source, cell.id, "exec"))
        assert not read - defined - bound, f"{cell.id} uses undefined names {sorted(read - defined - bound)}"
        defined |= bound | (set(tc.NEEDED) if cell.id == "setup" else set())


def test_cells_import_only_the_student_runtime():
    for cell in train.build().cells:
        if cell.cell_type == "code":
            for node in ast.walk(ast.parse(cell.source)):
                names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                         else [node.module] if isinstance(node, ast.ImportFrom) else [])
                for name in names:
                    assert not name.startswith(("layers_lib.reference", "layers_lib.course")), cell.id
                    assert name.split(".")[0] in {"layers_lib", "os", "random", "pathlib", "numpy",
                                                  "threadpoolctl", "traceback", "functools",
                                                  "warnings", "copy"}, (cell.id, name)


def test_measure_solution_runs_the_function_of_the_solution_cell(monkeypatch):
    calls = []

    def fake(seed):
        calls.append((seed, tc.Linear, len(tc.X_train)))
        return tc.make_mlp(tc.ReLU, hidden=(4,)), SimpleNamespace(train_loss=[2.0, 1.0])

    monkeypatch.setattr(tc, "train_best_model", fake)
    rows = train.measure_solution(seeds=[3, 4])
    assert calls == [(3, reference.Linear, 1257), (4, reference.Linear, 1257)]
    assert [(r["seed"], r["first_loss"], r["last_loss"]) for r in rows] == [(3, 2.0, 1.0), (4, 2.0, 1.0)]
    assert tc.Linear is None  # unbound again
