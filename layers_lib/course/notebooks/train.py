"""Builds the nbgrader SOURCE notebook `source/task8/[0]task8_train_model.ipynb`.

    python -m layers_lib.course.notebooks.train [--out PATH]   # write the notebook
    python -m layers_lib.course.notebooks.train --check        # exit 1 if PATH is stale
    python -m layers_lib.course.notebooks.train --measure 10   # rerun the solution cell with
                                                               # 10 seeds (threshold evidence)

Every cell's text is a file `content/train/NN_<cell id>.md` (prose) or `.py` (code), NN giving
the order, in the bilingual content format of `texts.py` (`%% en` / `%% ru` blocks; in a code
file the code is a `%% *` block written once, its comments and printed words are in language
blocks); `build(variant)` takes the variant's language and hint level. In a code file, a line `# from train_cells: make_mlp, fit` stands for the source of
those objects of `train_cells.py` (functions and classes through `plain_source`, constants as
their assignment), so the notebook's code is real Python that is tested as such. `build()`
assembles the cells with stable ids and nbgrader schema-v3 metadata and no outputs, so the
written file is byte-for-byte reproducible and `tests/test_train_notebook.py` can tell when
the committed copy is stale.

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
import ast
import contextlib
import functools
import inspect
import sys
import time
from importlib import resources
from pathlib import Path

import nbformat
import numpy as np

import layers_lib.reference as reference
from layers_lib.data import load_digits_split
from layers_lib.training import accuracy

from ..paths import ASSIGNMENT, TRAIN_NOTEBOOK
from . import train_cells
from .cells import (answer_markdown, free_code, given_code, markdown, notebook, solution_code,
                    test_code)
from .code_texts import translate_code
from .solutions import plain_source
from .texts import Variant, language_setup, select, select_code
from .train_cells import ACCURACY_THRESHOLD, LOSS_RATIO, MODULES_NOTEBOOK, NEEDED

__all__ = ["DEFAULT_OUT", "MODULES_NOTEBOOK", "NEEDED", "ACCURACY_THRESHOLD", "LOSS_RATIO",
           "CELLS", "build", "render", "write", "cell_text", "measure_solution", "main"]

DEFAULT_OUT = Path("source") / ASSIGNMENT / TRAIN_NOTEBOOK
CONTENT = resources.files(__package__) / "content" / "train"
INCLUDE = "# from train_cells: "

# The notebook, cell by cell: (cell maker, cell id[, points]).
CELLS = [
    (markdown, "title"),
    (markdown, "setup_intro"),
    (given_code, "setup"),
    (markdown, "data_intro"),
    (given_code, "data"),
    (free_code, "show_digits"),
    (markdown, "warmup_intro"),
    (free_code, "warmup_train"),
    (free_code, "warmup_plot"),
    (markdown, "warmup_after"),
    (markdown, "experiments_intro"),
    (given_code, "helpers"),
    (markdown, "activations_intro"),
    (free_code, "activations"),
    (markdown, "q_activations_question"),
    (answer_markdown, "q_activations", 2),
    (markdown, "batchnorm_intro"),
    (free_code, "batchnorm"),
    (markdown, "batchnorm_pitfall_intro"),
    (free_code, "batchnorm_pitfall"),
    (markdown, "q_batchnorm_question"),
    (answer_markdown, "q_batchnorm", 2),
    (markdown, "dropout_intro"),
    (free_code, "dropout"),
    (markdown, "dropout_pitfall_intro"),
    (free_code, "dropout_pitfall"),
    (markdown, "optimizers_intro"),
    (free_code, "optimizers"),
    (markdown, "learning_rate_intro"),
    (free_code, "learning_rate"),
    (markdown, "q_optimizers_question"),
    (answer_markdown, "q_optimizers", 2),
    (markdown, "best_intro"),
    (markdown, "threshold"),
    (solution_code, "best_model"),
    (free_code, "best_curves"),
    (markdown, "tests_intro"),
    (test_code, "test_best_model_accuracy", 3),
    (test_code, "test_training_loss_decreases", 1),
    (markdown, "errors_intro"),
    (free_code, "confusion"),
    (free_code, "misclassified"),
    (markdown, "mnist_intro"),
    (free_code, "mnist_data"),
    (free_code, "mnist_samples"),
    (markdown, "mnist_mlp_intro"),
    (free_code, "mnist_mlp"),
    (free_code, "mnist_mlp_errors"),
    (markdown, "cnn_intro"),
    (free_code, "cnn_classes"),
    (free_code, "cnn_train"),
    (free_code, "cnn_errors"),
    (markdown, "closing"),
]
# Cells only the advanced track has (its CNN on MNIST).
ADVANCED_CELLS = {"cnn_intro", "cnn_classes", "cnn_train", "cnn_errors"}

# What the prose says about the thresholds; the build fails if a number there is out of date.
# A list holds for every language, a dict gives the words of each language.
PROSE_STATES = {"best_intro": [f"**{ACCURACY_THRESHOLD:.0%}**", f"**{LOSS_RATIO}**"],
                "threshold": {"en": [f"threshold of {ACCURACY_THRESHOLD:.0%}"],
                              "ru": [f"порог {ACCURACY_THRESHOLD:.0%}"]}}


# ----------------------------------------------------------------------------- the cells' text

@functools.cache
def content_files():
    """{cell id: the file holding its text} for every file in content/train."""
    files = {}
    for entry in CONTENT.iterdir():
        if entry.name.endswith((".md", ".py")):
            files[entry.name.split("_", 1)[1].rsplit(".", 1)[0]] = entry
    return files


@functools.cache
def _assignments():
    """{name: source of its assignment} for the constants that train_cells assigns itself."""
    source = inspect.getsource(train_cells)
    return {node.targets[0].id: ast.get_source_segment(source, node)
            for node in ast.parse(source).body
            if isinstance(node, ast.Assign) and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)}


def _source_of(name):
    obj = getattr(train_cells, name)
    if inspect.isclass(obj) or inspect.isfunction(obj):
        return plain_source(obj)
    return _assignments().get(name) or f"{name} = {obj!r}"  # as written there, else its repr


def _join(parts):
    """Sources one after the other: two blank lines around a def or class, else none."""
    text = parts[0]
    for before, part in zip(parts, parts[1:]):
        spaced = any(p.startswith(("def ", "class ", "@")) for p in (before, part))
        text += ("\n\n\n" if spaced else "\n") + part
    return text


def _expand(line, language="en"):
    if not line.startswith(INCLUDE):
        return line
    return translate_code(_join([_source_of(name.strip()) for name in line[len(INCLUDE):].split(",")]),
                          language)


def prose_states(cell_id, language):
    """The phrases the prose of `cell_id` must contain in `language`."""
    states = PROSE_STATES.get(cell_id, [])
    return states.get(language, []) if isinstance(states, dict) else states


def cell_text(cell_id, variant=Variant()):
    """The source of a cell for `variant`: its content file's blocks of the variant's language
    and hint level, with the train_cells objects it names filled in."""
    entry = content_files()[cell_id]
    raw = entry.read_text(encoding="utf-8")
    if entry.name.endswith(".md"):
        text = select(raw, variant)
        for stated in prose_states(cell_id, variant.language):
            if stated not in text:
                raise ValueError(f"{entry.name} should say {stated!r} ({variant.language}): "
                                 "update its numbers")
        return text
    text = "\n".join(_expand(line, variant.language) for line in select_code(raw, variant).splitlines())
    compile(text, entry.name, "exec")  # a syntax error fails the build, not a student's kernel
    return text


def build(variant=Variant()):
    """The source notebook for `variant` as a NotebookNode (no outputs, stable ids). The setup
    cell selects the runtime's language first (nothing for English)."""
    cells = []
    for make, cell_id, *points in CELLS:
        if cell_id in ADVANCED_CELLS and not variant.advanced:
            continue
        text = cell_text(cell_id, variant)
        if cell_id == "setup":
            text = language_setup(variant) + text
        cells.append(make(cell_id, text, *points))
    nb = notebook(cells)
    nbformat.validate(nb)
    return nb


def render(nb=None):
    """The exact text written to disk (nbformat's JSON plus a final newline)."""
    text = nbformat.writes(build() if nb is None else nb)
    return text if text.endswith("\n") else text + "\n"


def write(path=DEFAULT_OUT, variant=Variant()):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(build(variant)), encoding="utf-8")
    return path


# ----------------------------------------------------------------------------- threshold evidence

def measure_solution(seeds=range(10)):
    """Rerun the solution (`train_cells.train_best_model`) with the reference layers, once per seed.

    The names it uses are bound as the notebook binds them: the reference classes in place of
    the student's, the data of the data cell. Runs with one BLAS thread, as the setup cell does.
    Returns a list of dicts: seed, test accuracy, first/last epoch training loss, seconds.
    """
    try:
        from threadpoolctl import threadpool_limits
        one_blas_thread = threadpool_limits(limits=1, user_api="blas")
    except ImportError:
        one_blas_thread = contextlib.nullcontext()
    digits = load_digits_split(dtype=np.float64)  # as the data cell loads it
    names = {name: getattr(reference, name) for name in NEEDED}
    names.update(X_train=digits.X_train, y_train=digits.y_train, X_val=digits.X_val, y_val=digits.y_val)
    with one_blas_thread, train_cells.notebook_names(**names):
        return [_run_solution(seed, digits) for seed in seeds]


def _run_solution(seed, digits):
    start = time.perf_counter()
    model, history = train_cells.train_best_model(seed)
    seconds = time.perf_counter() - start
    return {"seed": seed, "test_accuracy": accuracy(model, digits.X_test, digits.y_test),
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
