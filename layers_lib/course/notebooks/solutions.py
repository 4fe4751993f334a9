"""One source of truth: the solution cells of `[1]task8_modules.ipynb` are layers_lib's code.

`solution_cell_source(obj)` takes a class or function of layers_lib and returns the source of
its notebook cell: the code as it is, with the body of every method the student writes
wrapped in `### BEGIN SOLUTION` / `### END SOLUTION` (after the docstring, so the release keeps
signatures and docstrings and replaces the body by the stub). `python -m layers_lib.course.notebooks.solutions
--check` compares the source notebook with layers_lib and fails when they drift apart.
"""
import ast
import inspect
import textwrap

# Methods students implement; everything else in a class (constructor, plumbing) is given.
STUDENT_METHODS = {"update_output", "update_grad_input", "update_grad_params", "zero_grad_params"}
STUDENT_METHODS_BY_CLASS = {"Sequential": {"update_output", "update_grad_input"}}


def _body_span(func, lines):
    """(first, last) 0-based line numbers of a function's body after its docstring."""
    body = func.body
    if (body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)):
        body = body[1:]
    if not body:
        return None
    return body[0].lineno - 1, body[-1].end_lineno - 1


def _wrap(lines, first, last):
    indent = lines[first][:len(lines[first]) - len(lines[first].lstrip())]
    return (lines[:first] + [f"{indent}### BEGIN SOLUTION"] + lines[first:last + 1]
            + [f"{indent}### END SOLUTION"] + lines[last + 1:])


def solution_cell_source(obj):
    """Notebook source of a layers_lib class or function, student parts marked."""
    source = textwrap.dedent(inspect.getsource(obj)).rstrip("\n")
    lines = source.splitlines()
    tree = ast.parse(source).body[0]
    if isinstance(tree, ast.FunctionDef):
        spans = [_body_span(tree, lines)]
    else:
        wanted = STUDENT_METHODS_BY_CLASS.get(tree.name, STUDENT_METHODS)
        spans = [_body_span(node, lines) for node in tree.body
                 if isinstance(node, ast.FunctionDef) and node.name in wanted]
    for first, last in sorted((s for s in spans if s), reverse=True):
        lines = _wrap(lines, first, last)
    return "\n".join(lines)


def plain_source(obj):
    """Notebook source of a given (read-only) class or function: the code as it is."""
    return textwrap.dedent(inspect.getsource(obj)).rstrip("\n")
