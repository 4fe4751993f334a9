"""The grade of one class, part by part: what a graded cell of `[2]` computes and shows.

    grade = ClassGrade("Linear")
    with grade.checking("visible tests"):
        test_linear(Linear)            # assert_matches / run_step report into the grade
    grade.score()                      # prints the parts, returns the points (nbgrader's partial credit)

Inside `checking`, a failed comparison or an exception of the student's code fails the part it
belongs to (`parts.part_of`) and the checks go on, so the other parts are still decided. A
numeric warning is advice, never a failure. An exception of the checks themselves (the student's
code returned something the test cannot even use) fails every part not yet decided: a part
earns its points only when it was checked and nothing of it failed.
"""
from __future__ import annotations

import contextlib
import contextvars
import traceback
import warnings
from dataclasses import dataclass, field

import numpy as np

from .. import i18n
from ..i18n import tr
from .compare import compare
from .parts import PARTS, advice_for, part_label, part_of, part_of_exception

_current = contextvars.ContextVar("layers_lib_grade", default=None)


class StopScenario(Exception):
    """Raised by a check after recording a failure the rest of its scenario cannot go past."""


class _Failed:
    """What a step of the student's code that raised returns inside `checking`."""

    def __repr__(self):
        return "<the call raised: see the part's failure>"


FAILED = _Failed()


def current_grade():
    """The ClassGrade collecting results now, or None (then checks raise as usual)."""
    return _current.get()


@dataclass
class PartResult:
    points: float
    checked: int = 0
    failure: str | None = None

    @property
    def passed(self):
        return self.checked > 0 and self.failure is None


@dataclass
class ClassGrade:
    name: str
    parts: dict = field(init=False)
    advice: list = field(default_factory=list)
    comparisons: list = field(default_factory=list)     # the failed ones, for the HTML report
    warning_deduction: float = 0.0                        # points off when the code warned
    # the worker hung or died: the remaining checks are skipped (each call would cost a
    # restart, a hang the whole call timeout)
    stopped: str | None = None

    def __post_init__(self):
        self.parts = {p.name: PartResult(p.points) for p in PARTS[self.name]}

    # --- reporting into the grade (used by testkit and the checkers) ---------------------
    def _part(self, quantity: str) -> PartResult:
        return self.parts[part_of(self.name, quantity).name]

    def decided(self, quantity: str) -> bool:
        """True when the part of `quantity` has failed already (no need to check it again)."""
        return self._part(quantity).failure is not None

    def check(self, expected, got, quantity: str, dtype=None, scale=None, **diagnosis):
        """Compare `got` with the float64 `expected` into the part of `quantity`; skipped (None)
        when that part has failed already or the call that made `got` raised."""
        if got is FAILED or self.decided(quantity):
            return None
        comparison = compare(expected, got, layer=self.name, quantity=quantity, dtype=dtype,
                             scale=scale, **diagnosis)
        part = self._part(quantity)
        if comparison.ok:
            part.checked += 1
        elif part.failure is None:
            part.failure = comparison.message
            self.comparisons.append(comparison)
        return comparison

    def condition(self, quantity: str, ok: bool, message: str) -> None:
        """A check that is not a comparison of values (a count, a flag)."""
        if self.decided(quantity):
            return
        if ok:
            self._part(quantity).checked += 1
        else:
            self.fail(quantity, message)

    def fail(self, quantity: str, message: str, part_name: str | None = None) -> None:
        part = self.parts[part_name] if part_name else self._part(quantity)
        if part.failure is None:
            part.failure = message

    def step_raised(self, quantity: str, exc: BaseException) -> None:
        """Record what the student's code raised; after a hang or a crash of the worker, or a
        MemoryError, stop the checks (StopScenario)."""
        from .isolation.errors import CallFailed

        if isinstance(exc, CallFailed):
            self.fail(quantity, str(exc))
            self.stopped = str(exc)
            raise StopScenario
        frames = traceback.extract_tb(exc.__traceback__)
        method = frames[-1].name if frames else None
        part = part_of_exception(self.name, quantity, method)
        where = (" " + tr("(in {method}, line {line})", method=method, line=frames[-1].lineno)
                 if frames else "")
        message = str(exc) if isinstance(exc, AssertionError) else f"{type(exc).__name__}: {exc}"
        self.fail(quantity, tr("{name} raised {message}{where}, computing {quantity}", name=self.name,
                               message=message, where=where, quantity=i18n.quantity(quantity)), part.name)
        if isinstance(exc, MemoryError):    # hit the worker's memory limit: every further call
            self.stopped = tr("{name} ran out of memory", name=self.name)   # would take seconds to
            raise StopScenario                                              # do it again

    # --- running checks ---------------------------------------------------------------------
    @contextlib.contextmanager
    def checking(self, label: str = "checks"):
        """Collect every result of the checks run inside into this grade; never raises."""
        token = _current.set(self)
        before = {name: part.checked for name, part in self.parts.items()}
        try:
            with warnings.catch_warnings(record=True) as caught, np.errstate(
                    over="warn", divide="warn", invalid="warn", under="ignore"):
                warnings.simplefilter("always")
                try:
                    yield self
                except StopScenario:
                    pass
                except Exception as exc:               # noqa: BLE001 - the checks stopped early
                    # parts these checks had not reached yet are not earned on trust
                    failed = [n for n, p in self.parts.items() if p.failure is not None]
                    why = (tr("they cannot go on after the failure of {part}",
                              part=part_label(failed[0])) if failed else
                           f"{type(exc).__name__}: {exc}")
                    for name, part in self.parts.items():
                        if part.failure is None and part.checked == before[name]:
                            part.failure = tr("{name}: {part} was not checked by the {label}: {why}",
                                              name=self.name, part=part_label(name),
                                              label=tr(label), why=why)
            for w in caught:
                if issubclass(w.category, RuntimeWarning):
                    advice = advice_for(str(w.message))
                    if advice not in self.advice:
                        self.advice.append(advice)
        finally:
            _current.reset(token)

    # --- the outcome --------------------------------------------------------------------------
    @property
    def passed(self) -> bool:
        return all(p.passed for p in self.parts.values())

    def points(self) -> float:
        earned = sum(p.points for p in self.parts.values() if p.passed)
        if self.advice:
            earned = max(0.0, earned - self.warning_deduction)
        return round(earned, 6)

    @property
    def max_points(self) -> float:
        return sum(p.points for p in self.parts.values())

    def failures(self) -> list:
        """[{quantity: part, message}] of the failed (or unchecked) parts."""
        out = []
        for name, part in self.parts.items():
            if part.failure is not None:
                out.append({"quantity": name, "message": part.failure})
            elif not part.checked:
                out.append({"quantity": name, "message": tr("{name}: {part} was not checked",
                                                            name=self.name, part=part_label(name))})
        return out

    def report(self) -> str:
        lines = [tr("{name}: {points:g} of {max_points:g} points", name=self.name,
                    points=self.points(), max_points=self.max_points)]
        for name, part in self.parts.items():
            mark = tr("PASS") if part.passed else tr("FAIL")
            lines.append(f"  [{mark}] {part_label(name)} ({part.points:g})")
        for failure in self.failures():
            lines += ["", f"--- {part_label(failure['quantity'])} ---", failure["message"]]
        cost = (tr("{points:g} points off for numeric warnings", points=self.warning_deduction)
                if self.warning_deduction else tr("the warning itself costs no points"))
        for advice in self.advice:
            lines += ["", tr("Advice ({cost}): {advice}", cost=cost, advice=advice)]
        return "\n".join(lines)

    def score(self) -> float:
        """For a graded cell: print the parts (and show the HTML report of what failed); the
        returned number is the cell's value, which nbgrader takes as its partial credit."""
        from .testkit import display_html_report

        print(self.report())
        display_html_report(self.comparisons)
        return self.points()
