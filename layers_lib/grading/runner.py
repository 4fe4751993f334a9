"""Run a class's checks and collect the outcome, never raising.

A *scenario* is a function `scenario(cls, check, namespace)` that exercises the class under
test and calls `check(expected, got, quantity, scale, dtype, **diagnosis)` for every quantity
(or `check.fail(quantity, message)` for a failure that is not about values). The student
runtime runs the visible tests (`visible_tests.VISIBLE_TESTS`) as scenarios; the instructor's
hidden checks (`layers_lib.course.hidden_checks`) add their own through `extra_scenarios`.
"""
from __future__ import annotations

import traceback
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping

import numpy as np

from .compare import compare
from .visible_tests import GRADED_NAMES, VISIBLE_TESTS

Scenario = Callable[[Any, "Checker", Mapping[str, Any]], None]


@dataclass
class ClassResult:
    """Outcome of all checks of one class: `failures` is a list of {quantity, message}."""
    name: str
    passed: bool = True
    failures: list = field(default_factory=list)
    comparisons: list = field(default_factory=list)

    def fail(self, quantity, message, comparison=None):
        self.passed = False
        self.failures.append({"quantity": quantity, "message": message})
        if comparison is not None:
            self.comparisons.append(comparison)

    def to_dict(self):
        return {"passed": self.passed, "failures": self.failures}


class StopScenario(Exception):
    """Raised by a Checker after the first failure: the rest of that scenario is skipped."""


class Checker:
    """Compares through the engine for one class; stops the scenario at its first failure."""

    def __init__(self, result: ClassResult):
        self.result = result

    def __call__(self, expected, got, quantity, scale=None, dtype=None, **diagnosis):
        c = compare(expected, got, layer=self.result.name, quantity=quantity, dtype=dtype,
                    scale=scale, **diagnosis)
        if not c.ok:
            self.result.fail(quantity, c.message, c)
            raise StopScenario
        return c

    def fail(self, quantity: str, message: str):
        """A failure that is not a comparison of values (a flag, a count, a structure)."""
        self.result.fail(quantity, f"{self.result.name}: {quantity}: {message}")
        raise StopScenario


def needed_names(name: str) -> tuple:
    """The names the checks of `name` take from the submission (Sequential's visible test also
    uses the student's BatchNormalization and Scaling, as the seed does)."""
    return VISIBLE_TESTS[name][1] if name in VISIBLE_TESTS else (name,)


def visible_scenario(name: str) -> Scenario:
    test, needs = VISIBLE_TESTS[name]
    return lambda cls, check, ns: test(*[ns[n] for n in needs])


def run_class_checks(name: str, namespace: Mapping[str, Any], *, include_visible: bool = True,
                     extra_scenarios: Iterable[tuple[str, Scenario]] = (), seed: int = 0) -> ClassResult:
    """Run the visible test of `name` (and any extra scenarios) on `namespace[name]`.

    Never raises: exceptions, missing classes and numeric warnings become failures.
    """
    result = ClassResult(name)
    missing = [n for n in needed_names(name) if not callable(namespace.get(n))]
    if missing:
        reason = getattr(namespace, "failure_reason", None)
        for n in missing:
            result.fail("load", reason(n) if reason else f"{n} is not defined")
        return result
    cls = namespace.get(name)
    scenarios = [("visible test", visible_scenario(name))] if include_visible else []
    scenarios += list(extra_scenarios)
    check = Checker(result)
    for label, scenario in scenarios:
        np.random.seed(seed)
        try:
            with warnings.catch_warnings(record=True) as caught, np.errstate(
                    over="warn", divide="warn", invalid="warn", under="ignore"):
                warnings.simplefilter("always")
                scenario(cls, check, namespace)
            numeric = [w for w in caught if issubclass(w.category, RuntimeWarning)]
            if numeric:
                result.fail("warnings", f"{name} raised a numeric warning ({label}): "
                                        f"{numeric[0].message} — unstable formula (overflow / log(0))?")
        except StopScenario:
            pass
        except AssertionError as exc:
            result.fail(label, str(exc))
        except Exception as exc:                   # noqa: BLE001 - student code may raise anything
            frame = traceback.extract_tb(exc.__traceback__)[-1]
            result.fail(label, f"{name} raised {type(exc).__name__}: {exc} "
                               f"(in {frame.name}, line {frame.lineno})")
        if not result.passed:
            break
    return result


class SubmissionNamespace(dict):
    """A dict of a submission's names that also knows why a name is missing."""

    def __init__(self, loaded):
        super().__init__(loaded.namespace)
        self.failure_reason = loaded.failure_reason


def as_namespace(loaded_or_namespace):
    """A LoadedSubmission/IsolatedSubmission becomes a SubmissionNamespace; a mapping stays."""
    if hasattr(loaded_or_namespace, "namespace"):
        return SubmissionNamespace(loaded_or_namespace)
    return loaded_or_namespace


def check_submission(loaded, names=GRADED_NAMES) -> dict:
    """{name: ClassResult} of the visible tests for every graded name of a submission."""
    namespace = as_namespace(loaded)
    return {name: run_class_checks(name, namespace) for name in names}
