"""Builds `source/task8/[1]task8_modules.ipynb`: the text of each section plus the solution
cells taken from layers_lib itself (see solutions.py).   python -m layers_lib.course.notebooks.modules

The texts are the content files `content/modules/NN_<key>.md` (the bilingual format of
`texts.py`): `intro`, `contract`, one section per class or function (key: its name in lower
case; the backward formulas in `formulas` / `derive` blocks) and `dashboard`. `build(variant)`
takes the variant's language and hint level; the advanced track adds the sections of
`visible_tests.ADVANCED_NAMES` (Conv2d, MaxPool2d, Flatten) after the basic ones.

The solution cells keep the reference's docstrings (the release keeps them too). At the "derive"
hint level they must not give the backward formulas away: `without_backward` drops from the
class docstring every line that starts with "backward" (with its deeper-indented continuation
lines) and every clause from "dL/d..." or "backward" on, and sentences that name the derivative
("the gradient is ...", "sigmoid"); the docstrings of `update_grad_input` and
`update_grad_params` become the text of `content/modules/90_derive_docstrings.md`.

In another language the code's docstrings, comments and messages come from the catalog
`content/code_<language>.md` (`code_texts.translate_code`), translated before the derive level
strips them: the Russian keeps the labels and formulas on the lines the stripping looks at, and
"градиент равен" stands for "the gradient is".
"""
import ast
import inspect
import re
import textwrap

import layers_lib.reference as L
from layers_lib import contract as base
from layers_lib.grading import visible_tests
from layers_lib.reference import activations, criteria, layers, optim

from .cells import free_code, given_code, markdown, notebook, solution_code
from .code_texts import translate_code
from .solutions import plain_source, solution_cell_source
from .texts import Variant, content, language_setup

BASIC_NAMES = ("Linear", "SoftMax", "LogSoftMax", "BatchNormalization", "Scaling", "Dropout", "ReLU",
               "LeakyReLU", "ELU", "SoftPlus", "Sequential", "NLLCriterionUnstable", "NLLCriterion",
               "sgd_momentum", "adam_optimizer")
ADVANCED_NAMES = tuple(getattr(visible_tests, "ADVANCED_NAMES", ()))

IMPORTS = "import numpy as np"

DASHBOARD_CODE = """
import os
if not os.environ.get("NBGRADER_EXECUTION"):
{language}    from layers_lib.widgets import dashboard
    display(dashboard(globals()))
"""


def section_names(variant=Variant()):
    """The classes and functions of the notebook, in order."""
    return BASIC_NAMES + (ADVANCED_NAMES if variant.advanced else ())


def text(key, variant=Variant()):
    """The markdown of `content/modules/NN_<key>.md` for `variant`."""
    return content("modules", key, variant)


def _imports_needed(objects):
    """`from module import name` lines for the names the solution cells use that their module
    imports at its top (numpy as np is the notebook's own import), e.g. `sliding_window_view`."""
    lines = []
    for obj in objects:
        module_source = inspect.getsource(inspect.getmodule(obj))
        used = {node.id for node in ast.walk(ast.parse(textwrap.dedent(inspect.getsource(obj))))
                if isinstance(node, ast.Name)}
        for node in ast.parse(module_source).body:
            if isinstance(node, ast.ImportFrom) and not node.level and node.module != "numpy":
                for alias in node.names:
                    if (alias.asname or alias.name) in used:
                        line = f"from {node.module} import {alias.name}" + (
                            f" as {alias.asname}" if alias.asname else "")
                        if line not in lines:
                            lines.append(line)
    return lines


BACKWARD_METHODS = ("update_grad_input", "update_grad_params")
_CLAUSE = re.compile(r"dL/d|\bbackward\b")
_SENTENCE = re.compile(r"\s*[^.]*\b(the gradient is|градиент равен|sigmoid)\b[^.]*\.?")


def _strip_backward(doc):
    """A class docstring (as written, indentation included) without what it says about backward."""
    kept, skip_deeper = [], None
    for line in doc.split("\n"):
        indent = len(line) - len(line.lstrip())
        if skip_deeper is not None and line.strip() and indent > skip_deeper:
            continue                               # continuation of a "backward" line
        skip_deeper = None
        if line.strip().startswith("backward"):
            skip_deeper = indent
            continue
        match = _CLAUSE.search(line)
        if match:
            cut = max(line.rfind(";", 0, match.start()), line.rfind(",", 0, match.start()))
            if cut <= len(line) - len(line.lstrip()):
                continue
            line = line[:cut].rstrip() + "."
        shorter = _SENTENCE.sub("", line)
        if line.strip() and not shorter.strip():
            continue
        kept.append(shorter)
    return "\n".join(kept)


def _derive_docstrings(variant):
    """{method: docstring} for the backward methods at the "derive" level, in the variant's language."""
    found, name = {}, None
    for line in text("derive_docstrings", variant).splitlines():
        head, sep, rest = line.partition(": ")
        if sep and head in BACKWARD_METHODS:
            name, found[head] = head, rest
        elif name:
            found[name] += " " + line.strip()
    return found


def _docstring_source(text_, indent):
    one_line = f'{indent}"""{text_}"""'
    if len(one_line) <= 99:
        return [one_line]
    wrapped = textwrap.wrap(text_, 96 - len(indent))
    return [f'{indent}"""{wrapped[0]}', *(indent + w for w in wrapped[1:]), f'{indent}"""']


def without_backward(source, variant):
    """The solution cell `source` with docstrings that keep the backward formulas to themselves."""
    lines = source.split("\n")
    tree = ast.parse(source).body[0]
    nodes = [tree] + [n for n in getattr(tree, "body", []) if isinstance(n, ast.FunctionDef)]
    replacements = []
    for node in nodes:
        body = node.body
        if not (body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)):
            continue
        doc = body[0]
        indent = " " * doc.col_offset
        if isinstance(node, ast.FunctionDef) and node.name in BACKWARD_METHODS:
            new = _docstring_source(_derive_docstrings(variant)[node.name], indent)
        elif isinstance(node, ast.ClassDef):
            stripped = _strip_backward(doc.value.value)
            if stripped == doc.value.value:
                continue
            new = f'{indent}"""{stripped}"""'.split("\n")
        else:
            continue
        replacements.append((doc.lineno - 1, doc.end_lineno - 1, new))
    for first, last, new in sorted(replacements, reverse=True):
        lines[first:last + 1] = new
    return "\n".join(lines)


def given_source(obj, variant=Variant()):
    """The source of a given class or function, its texts in the variant's language."""
    return translate_code(plain_source(obj), variant.language)


def solution_source(name, variant=Variant()):
    """The solution cell of `name`: the reference's code, student parts marked, its texts in
    the variant's language (translated before the derive level strips the docstrings)."""
    source = translate_code(solution_cell_source(getattr(L, name)), variant.language)
    return without_backward(source, variant) if variant.hints == "derive" else source


def build(variant=Variant()):
    """The source notebook for `variant` as a NotebookNode."""
    names = section_names(variant)
    imports = "\n".join([IMPORTS, *_imports_needed(getattr(L, name) for name in names)])
    cells = [markdown("intro", text("intro", variant)), given_code("imports", imports),
             markdown("contract", text("contract", variant)),
             given_code("module_contract", given_source(base.Module, variant)),
             given_code("criterion_contract", given_source(base.Criterion, variant))]
    for name in names:
        key = name.lower()
        cells.append(markdown(f"about_{key}", text(key, variant)))
        if name == "sgd_momentum":
            cells.append(given_code("iterate_params", given_source(optim.iterate_params, variant)))
        cells.append(solution_code(f"{key}_solution", solution_source(name, variant)))
    # The language goes in the dashboard cell: the imports cell also runs in the grader's
    # worker, where layers_lib cannot be imported; the dashboard cell runs only in Jupyter.
    setup = language_setup(variant).strip("\n")
    dashboard = DASHBOARD_CODE.format(language=textwrap.indent(setup + "\n", "    ") if setup else "")
    cells += [markdown("about_dashboard", text("dashboard", variant)), free_code("dashboard", dashboard)]
    return notebook(cells)


SOLUTION_NAMES = list(BASIC_NAMES)
MODULES = (base, layers, activations, criteria, optim)
