"""Recognise common bug patterns in a failed comparison and explain them in one sentence.

:func:`diagnose` is called by :func:`layers_lib.grading.compare.compare` only when the values (or
the shape) differ. Every check compares ``got`` against a *candidate* array (a hypothesis, a
transposed/scaled reference, a numerical gradient) with the comparison's own tolerance, so a
diagnosis is only given when the candidate explains *all* elements: random wrong values never
match a candidate.
"""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from ..i18n import mark, tr

STABILITY = mark("correct for small inputs but not for large ones: numerically unstable (use the max "
                 "shift / log-sum-exp / log1p(exp(-|x|)))")
NONFINITE = mark("produces NaN/Inf where the result is finite: overflow/log(0) (e.g. exp of a large "
                 "number, or log of 0)")
CONVENTION = mark("agrees with the numerical gradient but not with PyTorch: a convention difference "
                  "(e.g. the gradient at the kink x=0, or biased vs unbiased variance)")
KINK = mark("differs from PyTorch only where the numerical gradient disagrees with PyTorch too (a kink "
            "such as x=0): a convention difference — use PyTorch's value at that point")
# Numerical (central-difference) gradients are accurate to ~1e-6 relative in float64 at best.
NUMERIC_RTOL = 1e-4


def _max_abs(a: np.ndarray) -> float:
    finite = np.abs(a[np.isfinite(a)])
    return float(finite.max()) if finite.size else 0.0


class _Tolerance:
    """The comparison's tolerance, re-scaled to each candidate's own magnitude.

    ``atol`` (a float, or an array of ``expected``'s shape) was proportional to the magnitude of
    ``expected``; a candidate such as ``32 * expected`` carries rounding errors ~32x larger, so its
    absolute tolerance grows by ``max|candidate| / max|expected|`` (it never shrinks).
    """

    def __init__(self, expected: np.ndarray, rtol: float, atol: float | np.ndarray) -> None:
        self.rtol = rtol
        self.atol = np.broadcast_to(atol, expected.shape) if np.ndim(atol) else float(atol)
        self.scale = _max_abs(expected)

    def close(self, got: np.ndarray, candidate: np.ndarray, rtol: float | None = None,
              atol: float | np.ndarray | None = None) -> np.ndarray:
        """Elementwise closeness (bool array of ``got.shape``); NaN matches NaN."""
        rtol = self.rtol if rtol is None else rtol
        atol = self.atol if atol is None else atol
        if self.scale > 0:
            atol = atol * max(1.0, _max_abs(candidate) / self.scale)
        if np.ndim(atol) and np.shape(atol) != got.shape:
            atol = float(np.max(atol))  # a differently shaped candidate: per-tensor tolerance
        with np.errstate(invalid="ignore", over="ignore"):
            return np.isclose(got, candidate, rtol=rtol, atol=atol, equal_nan=True)

    def matches(self, got: np.ndarray, candidate: Any, **kw: Any) -> bool:
        cand = np.asarray(candidate, dtype=np.float64)
        return cand.shape == got.shape and bool(np.all(self.close(got, cand, **kw)))


def diagnose(expected: Any, got: np.ndarray, *, hypotheses: Mapping[str, Any] | None = None,
             numeric: Any = None, small_input_ok: bool | None = None, rtol: float,
             atol: float | np.ndarray, batch_size: int | None = None) -> str | None:
    """Return a short sentence naming the likely bug, or None.

    ``expected``: the float64 reference; ``got``: the student's value as a float64 ``np.ndarray``
    (already read safely by ``compare``; any shape). ``hypotheses``: ``{description: array}`` of
    known wrong results computed from the same inputs; the first one ``got`` matches wins (only
    those with ``got``'s shape are tried, so they also explain shape errors). ``numeric``: a
    central-difference gradient of the same shape as ``expected``. ``small_input_ok``: the same
    layer passed on small inputs. ``rtol``/``atol``: the comparison's tolerance (``atol`` a float
    or an array of ``expected``'s shape). ``batch_size`` names a factor equal to it.
    """
    if type(got) is not np.ndarray:
        raise TypeError("diagnose() needs the float64 copy made by compare()")
    exp = np.asarray(expected, dtype=np.float64)
    g = got.astype(np.float64, copy=False)
    tol = _Tolerance(exp, rtol, atol)
    for name, candidate in (hypotheses or {}).items():
        if tol.matches(g, candidate):
            return tr("looks like: {name}", name=name)
    if g.shape != exp.shape:
        return None  # the remaining patterns are about values of the right shape
    nonfinite = bool(np.any(~np.isfinite(g) & np.isfinite(exp)))
    if small_input_ok:
        return tr(STABILITY)
    if nonfinite:
        return tr(NONFINITE)
    for check in (_convention, _transposed, _all_zeros, _factor):
        found = check(exp, g, tol, numeric=numeric, batch_size=batch_size)
        if found:
            return found
    return None


def _convention(exp: np.ndarray, g: np.ndarray, tol: _Tolerance, *, numeric: Any,
                **_: Any) -> str | None:
    if numeric is None:
        return None
    num = np.asarray(numeric, dtype=np.float64)
    if num.shape != exp.shape:
        return None
    loose = dict(rtol=max(tol.rtol, NUMERIC_RTOL),
                 atol=np.maximum(tol.atol, NUMERIC_RTOL * max(_max_abs(exp), _max_abs(num))))
    ref_agrees = tol.close(exp, num, **loose)
    if ref_agrees.all():
        return None  # the numerical gradient cannot tell the student from the reference here
    if tol.close(g, num, **loose).all():
        return tr(CONVENTION)
    # Central differences at a kink give the average of both sides, so neither convention matches
    # there; but if *every* mismatch sits at such a point (and those are rare), it is a convention.
    mismatch = ~tol.close(g, exp)
    if mismatch.any() and not ref_agrees[mismatch].any() and ref_agrees.mean() > 0.5:
        return tr(KINK)
    return None


def _transposed(exp: np.ndarray, g: np.ndarray, tol: _Tolerance, **_: Any) -> str | None:
    if exp.ndim == 2 and exp.shape[0] == exp.shape[1] > 1 and tol.matches(g.T, exp):
        return tr("looks transposed: got.T matches the expected values")
    return None


def _all_zeros(exp: np.ndarray, g: np.ndarray, tol: _Tolerance, **_: Any) -> str | None:
    if g.size and not g.any() and not tol.matches(g, exp):
        return tr("is all zeros — was it computed and stored (and not reset afterwards)?")
    return None


def _near(k: float, target: float) -> bool:
    return abs(k - target) <= 1e-3 * abs(target)


def _factor(exp: np.ndarray, g: np.ndarray, tol: _Tolerance, *, batch_size: int | None,
            **_: Any) -> str | None:
    """got ≈ k * expected with the least-squares k = <got, exp> / <exp, exp>."""
    e, gg = exp.ravel(), g.ravel()
    denom = float(e @ e)
    if not np.isfinite(denom) or denom == 0.0:
        return None
    k = float(gg @ e) / denom
    if not np.isfinite(k) or k == 0.0 or not tol.matches(g, k * exp):
        return None
    if _near(k, -1.0):
        return tr("looks like the sign is flipped (got ≈ -expected)")
    if batch_size and batch_size > 1:
        if _near(k, batch_size):
            return tr("off by a factor of {batch} = the batch size — did you forget to divide "
                      "by the batch size?", batch=batch_size)
        if _near(k, 1.0 / batch_size):
            return tr("off by a factor of 1/{batch} = 1/the batch size — did you divide by the "
                      "batch size where you should not (or twice)?", batch=batch_size)
    if _near(k, 2.0):
        return tr("off by a factor of 2 (got ≈ 2 × expected) — a term counted twice?")
    if _near(k, 0.5):
        return tr("off by a factor of 0.5 (got ≈ expected / 2) — a missing factor of 2?")
    # A single number always fits some k; only name an arbitrary factor when it explains at
    # least two (non-negligible) elements. A k within 1% of 1 is rounding or a slightly wrong
    # constant, not a recognisable factor.
    if abs(k - 1.0) > 1e-2 and np.count_nonzero(np.abs(exp) > tol.atol) >= 2:
        return tr("off by a constant factor of {k:.4g} (got ≈ {k:.4g} × expected)", k=k)
    return None
