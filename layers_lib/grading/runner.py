"""Run a class's checks into a part-by-part grade, never raising.

A *scenario* is a function `scenario(cls, check, namespace)` that exercises the class under
test and calls `check(expected, got, quantity, scale, dtype, **diagnosis)` for every quantity
(or `check.fail(quantity, message)` for a failure that is not about values). The visible tests
(`visible_tests.VISIBLE_TESTS`) report through `testkit.assert_matches` instead; both land in
the same `grade.ClassGrade`. The student runtime runs the visible tests; the instructor's hidden
checks (`layers_lib.course.hidden_checks`) add their scenarios through `extra_scenarios`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping

import numpy as np

from .. import i18n
from ..i18n import mark, tr
from .grade import ClassGrade, StopScenario
from .visible_tests import GRADED_NAMES, VISIBLE_TESTS, graded_names  # noqa: F401 - GRADED_NAMES re-exported

Scenario = Callable[[Any, "Checker", Mapping[str, Any]], None]
VISIBLE_LABEL = mark("visible tests")


@dataclass
class ClassResult:
    """Outcome of all checks of one class: `failures` is a list of {quantity, message}
    (the quantity is the failed part, or "load"); `parts` {part: passed}; `advice` the
    warnings' advice (costing nothing)."""
    name: str
    passed: bool = True
    failures: list = field(default_factory=list)
    comparisons: list = field(default_factory=list)
    points: float = 0.0
    max_points: float = 0.0
    parts: dict = field(default_factory=dict)
    advice: list = field(default_factory=list)

    @classmethod
    def from_grade(cls, grade: ClassGrade) -> "ClassResult":
        return cls(grade.name, grade.passed, grade.failures(), list(grade.comparisons), grade.points(),
                   grade.max_points, {n: p.passed for n, p in grade.parts.items()}, list(grade.advice))

    def fail(self, quantity, message, comparison=None):
        self.passed = False
        self.points = 0.0
        self.failures.append({"quantity": quantity, "message": message})
        if comparison is not None:
            self.comparisons.append(comparison)

    def to_dict(self):
        return {"passed": self.passed, "points": self.points, "max_points": self.max_points,
                "parts": self.parts, "failures": self.failures, "advice": self.advice}


class Checker:
    """`check(...)` of the scenarios: compares through the engine into the grade."""

    def __init__(self, grade: ClassGrade):
        self.grade = grade

    def __call__(self, expected, got, quantity, scale=None, dtype=None, **diagnosis):
        return self.grade.check(expected, got, quantity, dtype=dtype, scale=scale, **diagnosis)

    def condition(self, quantity: str, ok: bool, message: str):
        """A check that is not about values (a count, a flag); the scenario goes on."""
        self.grade.condition(quantity, ok, f"{self.grade.name}: {i18n.quantity(quantity)}: {message}")

    def fail(self, quantity: str, message: str):
        """A failure that is not a comparison of values (a flag, a count, a structure); the
        rest of the scenario is skipped (it may depend on what failed)."""
        self.grade.fail(quantity, f"{self.grade.name}: {i18n.quantity(quantity)}: {message}")
        raise StopScenario


def needed_names(name: str) -> tuple:
    """The names the checks of `name` take from the submission (Sequential's visible test also
    uses the student's BatchNormalization and Scaling, as the seed does)."""
    return VISIBLE_TESTS[name][1] if name in VISIBLE_TESTS else (name,)


def visible_scenario(name: str) -> Scenario:
    test, needs = VISIBLE_TESTS[name]
    return lambda cls, check, ns: test(*[ns[n] for n in needs])


def missing_names(name: str, namespace: Mapping[str, Any]) -> list:
    """(name, reason) of what the checks of `name` need and the submission does not define."""
    reason = getattr(namespace, "failure_reason", None)
    return [(n, reason(n) if reason else tr("{name} is not defined", name=n))
            for n in needed_names(name) if not callable(namespace.get(n))]


def run_scenarios(grade: ClassGrade, namespace: Mapping[str, Any],
                  scenarios: Iterable[tuple[str, Scenario]], seed: int = 0) -> ClassGrade:
    """Run each scenario into `grade` (from the same global NumPy seed)."""
    cls = namespace.get(grade.name)
    for label, scenario in scenarios:
        if grade.stopped:
            break
        np.random.seed(seed)
        with grade.checking(label):
            scenario(cls, Checker(grade), namespace)
    return grade


def run_class_checks(name: str, namespace: Mapping[str, Any], *, include_visible: bool = True,
                     extra_scenarios: Iterable[tuple[str, Scenario]] = (), seed: int = 0) -> ClassResult:
    """Run the visible test of `name` (and any extra scenarios) on `namespace[name]`.

    Never raises: exceptions and missing classes become failures of their parts.
    """
    missing = missing_names(name, namespace)
    if missing:
        result = ClassResult(name, max_points=ClassGrade(name).max_points)
        for _, reason in missing:
            result.fail("load", reason)
        return result
    scenarios = [(VISIBLE_LABEL, visible_scenario(name))] if include_visible else []
    grade = run_scenarios(ClassGrade(name), namespace, [*scenarios, *extra_scenarios], seed)
    return ClassResult.from_grade(grade)


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


def check_submission(loaded, names=None) -> dict:
    """{name: ClassResult} of the visible tests for every graded name of a submission (the
    advanced track's too when it defines any of them)."""
    namespace = as_namespace(loaded)
    return {name: run_class_checks(name, namespace) for name in names or graded_names(namespace)}
