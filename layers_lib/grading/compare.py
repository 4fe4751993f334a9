"""The comparison engine: a student's value against a float64 reference.

One function, :func:`compare`, is shared by the graded tests, the command-line checker and the
widgets. It never raises on bad student values: every problem becomes a failing
:class:`Comparison` whose ``message`` says what is wrong in one paragraph.

Tolerance (see :func:`tolerance_for`): an element passes when

    |got - expected| <= atol + rtol * |expected|,   atol = atol_factor * scale,

with ``scale = max|expected|`` (or a caller-supplied ``scale``, a number or per-element array). The
absolute part is tied to the size of the tensor, because rounding errors of sums and matrix
products are proportional to the magnitude of the terms, not to the (possibly tiny, cancelled)
individual result. When the whole result is a cancellation (batch norm's input gradient for a
batch of 2, the softmax gradient of near one-hot rows) even ``max|expected|`` is too small: the
caller passes the terms' magnitude as ``scale``.

Tolerances cannot rescue ill-conditioned inputs: batch norm over a batch of 2 whose two samples
nearly coincide (|x1 - x2| ~ sqrt(EPS)) while |x| ~ 1e3 loses ~eps*|x|/|x1 - x2| of precision in
any float32 algorithm (PyTorch's own float32 result misses there as well). Test inputs of moderate
size (|x| <= ~10, like the seed's uniform(-10, 10)) stay far inside the tolerance.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from .. import i18n
from ..i18n import tr
from .diagnose import diagnose

# (rtol, atol_factor) per dtype of the student's result. Why these values:
# * float32: eps = 1.2e-7. A sum of n terms carries a rounding error of up to ~n*eps relative to
#   the magnitude of the terms (typically sqrt(n)*eps); for n ~ 1e3 that is ~1e-4 in the worst
#   case and ~4e-6 typically, so 1e-4 leaves a wide margin: a correct float32 solution must never
#   fail by rounding. Wrong formulas are off by far more (factors, signs, whole terms).
# * float64: eps = 2.2e-16; 1e-8 leaves ~1e4-1e5 x margin over the same argument and still
#   catches float32 intermediates sneaking into a float64 computation (errors ~1e-7).
# * float16: eps = 9.8e-4; 1e-2 allows short sums only (float16 is not a grading target).
# Measured: the reference layers run in float32 vs float64 on 2000 random cases (batches 2..256,
# 1..1000 features, |x| up to ~50, 48000 comparisons, term-magnitude scale for the cancelling
# gradients): no failure, worst 0.59 of the tolerance (batch norm output, batch of 2); PyTorch
# float32 vs float64 on seed-like inputs (21000 comparisons): worst 0.13. Since the softmax family
# and batch norm in training mode count roundings instead (magnitude.py: the term magnitudes let
# -16.7 pass for -0.18 there): reference float32 vs float64, 3600 such comparisons of the same
# ranges, worst 0.05; 21 correct algorithms (naive variance, staged backward, log-sum-exp,
# Jacobian matrices, scipy, PyTorch float32) on adversarial inputs (nearly equal samples, a large
# mean over a small spread, near ties at |x| ~ 1e4): worst 0.12 (tests/test_tolerance_blind_spots.py).
_TOLERANCES: dict[np.dtype, tuple[float, float]] = {
    np.dtype(np.float16): (1e-2, 1e-2),
    np.dtype(np.float32): (1e-4, 1e-4),
    np.dtype(np.float64): (1e-8, 1e-8),
}
MAX_POSITIONS = 20  # nan_positions / inf_positions are capped: they are for messages, not analysis


def tolerance_for(dtype: Any) -> tuple[float, float]:
    """Return ``(rtol, atol_factor)`` for a result of ``dtype``.

    Floats wider than float64 and integer/bool results get the float64 values (the reference itself
    is float64). Other kinds (complex, object, strings) raise ``TypeError``.
    """
    dt = np.dtype(dtype)
    if dt in _TOLERANCES:
        return _TOLERANCES[dt]
    if dt.kind in "biuf":
        return _TOLERANCES[np.dtype(np.float64)]
    raise TypeError(f"no tolerance for dtype {dt}")


@dataclass
class Comparison:
    """Result of comparing one quantity of one layer.

    ``expected``/``got`` are float64 copies (shape ``expected_shape`` / ``got_shape``; ``got`` is
    None when the student's value could not be read safely). ``mismatch`` is a bool mask of shape
    ``expected_shape`` (None for structural failures). ``failure`` names the first problem found:
    None (passed), "none", "type", "shape", "dtype" or "values".
    """

    layer: str
    quantity: str
    ok: bool
    message: str
    failure: str | None = None
    expected_shape: tuple[int, ...] = ()
    got_shape: tuple[int, ...] | None = None
    expected_dtype: str | None = None
    got_dtype: str | None = None
    mismatch: np.ndarray | None = field(default=None, repr=False)
    n_mismatched: int = 0
    n_total: int = 0
    max_abs_err: float = 0.0
    max_rel_err: float = 0.0
    max_ratio: float = 0.0  # max of |got-exp| / (atol + rtol|exp|); > 1 means out of tolerance
    worst_index: tuple[int, ...] | None = None
    worst_expected: float | None = None
    worst_got: float | None = None
    nan_count: int = 0
    inf_count: int = 0
    nan_positions: list[tuple[int, ...]] = field(default_factory=list)
    inf_positions: list[tuple[int, ...]] = field(default_factory=list)
    rtol: float | None = None
    atol: float | None = None  # for an elementwise scale: its value at worst_index
    atol_elementwise: np.ndarray | None = field(default=None, repr=False)  # expected_shape
    diagnosis: str | None = None
    expected: np.ndarray | None = field(default=None, repr=False)
    got: np.ndarray | None = field(default=None, repr=False)

    @property
    def status(self) -> str:
        return "pass" if self.ok else "fail"

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable summary (no arrays). Non-finite floats become "nan"/"inf"/"-inf"."""
        out: dict[str, Any] = {}
        for name in ("layer", "quantity", "ok", "failure", "message", "diagnosis",
                     "expected_dtype", "got_dtype", "n_mismatched", "n_total", "nan_count",
                     "inf_count"):
            out[name] = getattr(self, name)
        for name in ("max_abs_err", "max_rel_err", "max_ratio", "worst_expected", "worst_got",
                     "rtol", "atol"):
            out[name] = _json_float(getattr(self, name))
        for name in ("expected_shape", "got_shape", "worst_index"):
            value = getattr(self, name)
            out[name] = None if value is None else [int(v) for v in value]
        out["atol_elementwise"] = self.atol_elementwise is not None
        out["nan_positions"] = [[int(v) for v in p] for p in self.nan_positions]
        out["inf_positions"] = [[int(v) for v in p] for p in self.inf_positions]
        return out


def _json_float(x: float | None) -> float | str | None:
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else str(x)


def compare(expected: Any, got: Any, *, layer: str, quantity: str, rtol: float | None = None,
            atol: float | None = None, dtype: Any = None, scale: float | np.ndarray | None = None,
            hypotheses: Mapping[str, Any] | None = None, numeric: Any = None,
            small_input_ok: bool | None = None, batch_size: int | None = None) -> Comparison:
    """Compare a student's ``got`` with the float64 reference ``expected`` (any shape).

    ``dtype``: the dtype the result must have (float32 in gives float32 out); None skips the check.
    ``rtol``/``atol``: explicit overrides (``atol`` absolute); by default derived from the less
    precise of ``got.dtype`` and ``dtype`` via :func:`tolerance_for`. ``scale``: magnitude of the
    terms the result was computed from, a float or an array broadcastable to ``expected.shape``
    (per element, e.g. from ``layers_lib.grading.magnitude``); default ``max|expected|``. Pass it
    when the exact result is a cancellation (a softmax gradient of a near one-hot row, batch norm's
    input gradient for a batch of 2): a correct solution then carries rounding noise of size
    ``eps * scale``, not ``eps * result``.
    ``hypotheses``/``numeric``/``small_input_ok``/``batch_size`` feed :func:`diagnose`, which runs
    only when the values differ.
    """
    exp = np.array(expected, dtype=np.float64, copy=True)  # the reference is trusted
    want = None if dtype is None else np.dtype(dtype)
    head = f"{layer} {i18n.quantity(quantity)}"
    base = dict(layer=layer, quantity=quantity, expected=exp, expected_shape=exp.shape,
                expected_dtype=None if want is None else str(want), n_total=int(exp.size))
    # --- structural checks: identity and exact type only, no method of `got` is ever called ---
    if got is None:
        return Comparison(ok=False, failure="none", message=f"{head}: {_none_message(quantity)}",
                          **base)
    arr, got_dt, problem = _read_student_value(got, scalar=exp.ndim == 0, quantity=quantity)
    if problem is not None:
        return Comparison(ok=False, failure="type", message=f"{head}: {problem}", **base)
    base.update(got=arr, got_shape=arr.shape, got_dtype=str(got_dt))
    # The less precise of the result's and the required dtype sets the tolerance: a float32 input
    # computed into float64 is only float32-accurate and must be flagged for its dtype, not values.
    tol_dt = got_dt if want is None or want.kind != "f" else _coarser(got_dt, want)
    rtol_d, atol_factor = tolerance_for(tol_dt)
    rtol = rtol_d if rtol is None else float(rtol)
    atol = atol_factor * _scale(exp, scale, tol_dt) if atol is None else float(atol)
    if arr.shape != exp.shape:
        msg = tr("{head}: shape {got}, expected {expected}{hint}", head=head, got=arr.shape,
                 expected=exp.shape, hint=_shape_hint(exp.shape, arr.shape))
        # elementwise tolerances do not fit a wrongly shaped value: judge hypotheses per tensor
        tensor_atol = atol if np.ndim(atol) == 0 else atol_factor * _scale(exp, None, tol_dt)
        diag = diagnose(exp, arr, hypotheses=hypotheses, rtol=rtol, atol=tensor_atol)
        return Comparison(ok=False, failure="shape", diagnosis=diag, rtol=rtol, atol=tensor_atol,
                          message=msg + (f" — {diag}" if diag else ""), **base)
    # --- numeric comparison (also done for a dtype failure, so the widgets can draw values) ---
    stats = _elementwise(exp, arr, rtol, atol)
    result = Comparison(ok=True, failure=None, message="", rtol=rtol, atol=0.0, **base, **stats)
    if np.ndim(atol):
        result.atol_elementwise = atol
        result.atol = float(atol[result.worst_index]) if atol.size else 0.0
    else:
        result.atol = atol
    if result.n_mismatched:
        result.ok, result.failure = False, "values"
        result.diagnosis = diagnose(exp, arr, hypotheses=hypotheses, numeric=numeric,
                                    small_input_ok=small_input_ok, rtol=rtol, atol=atol,
                                    batch_size=batch_size)
    if want is not None and got_dt != want:
        result.ok, result.failure = False, "dtype"
    result.message = _message(result, head, want)
    return result


def _identifier(quantity: str) -> str:
    """ "grad_W" of "grad_W (float32, batch 5)": the attribute or return value it names."""
    return quantity.split(" ", 1)[0]


def _none_message(quantity: str) -> str:
    quantity = _identifier(quantity)
    if quantity in ("output", "loss"):
        return tr("update_output returned None — did you forget `return self.output`?")
    if quantity == "grad_input":
        return tr("update_grad_input returned None — did you forget `return self.grad_input`?")
    if quantity.startswith("grad_"):
        return tr("self.{quantity} is None — did you set it in update_grad_params?", quantity=quantity)
    if quantity.startswith("moving_"):
        return tr("self.{quantity} is None — did you update it in update_output (training mode)?",
                  quantity=quantity)
    return tr("{quantity} is None", quantity=quantity)


def _type_name(t: type) -> str:
    # Read through `type`'s own descriptors, so not even a custom metaclass runs student code.
    module = type.__dict__["__module__"].__get__(t)
    name = type.__dict__["__qualname__"].__get__(t)
    return name if module in ("builtins", "", None) else f"{module}.{name}"


def _read_student_value(got: Any, *, scalar: bool, quantity: str
                        ) -> tuple[np.ndarray | None, np.dtype | None, str | None]:
    """Return ``(float64 copy, original dtype, None)`` or ``(None, None, problem)``.

    Only ``type(got)`` is inspected before the value is accepted: lists, ndarray subclasses and
    objects with custom ``__eq__``/``__array__``/``__array_function__`` are rejected untouched.
    """
    t = type(got)
    quantity = _identifier(quantity)
    if quantity in ("output", "loss"):
        what = tr("update_output returned")
    elif quantity == "grad_input":
        what = tr("update_grad_input returned")
    else:
        what = tr("self.{quantity} is", quantity=quantity)
    if t is np.ndarray:
        if got.dtype.kind not in "biuf":  # object arrays would call their elements' methods
            return None, None, tr("{what} a numpy array of dtype {dtype}, expected floats",
                                  what=what, dtype=got.dtype)
        return np.array(got, dtype=np.float64, copy=True), got.dtype, None
    # identity tests only: `t in (...)` would call a metaclass __eq__
    if scalar and (t is float or t is np.float32 or t is np.float64):
        return np.array(float(got), dtype=np.float64), np.dtype(np.float64 if t is float else t), None
    name = _type_name(t)
    if scalar:
        return None, None, tr("{what} a {name}, expected a float (or a 0-d numpy array)",
                              what=what, name=name)
    if t is list or t is tuple:
        hint = tr("build it with numpy operations (or np.array(...))")
    elif issubclass(t, np.ndarray):
        hint = tr("a subclass of np.ndarray; use a plain np.ndarray")
    elif name.startswith("torch."):
        hint = tr("the layers must work on numpy arrays, not torch tensors")
    else:
        hint = tr("expected a numpy.ndarray")
    return None, None, tr("{what} a {name} — {hint}", what=what, name=name, hint=hint)


def _shape_hint(exp_shape: tuple[int, ...], got_shape: tuple[int, ...]) -> str:
    if len(exp_shape) >= 2 and got_shape == exp_shape[::-1]:
        return " — " + tr("transposed?")
    if tuple(d for d in got_shape if d != 1) == tuple(d for d in exp_shape if d != 1):
        return " — " + tr("an extra or missing axis of size 1 (keepdims / reshape)?")
    if math.prod(got_shape) == math.prod(exp_shape):
        return " — " + tr("same number of elements, wrong reshape?")
    if len(got_shape) < len(exp_shape):
        return " — " + tr("reduced over an axis that should stay?")
    return ""


def _coarser(a: np.dtype, b: np.dtype) -> np.dtype:
    """The dtype with the looser tolerance: a float32 input computed into float64 is still float32
    accurate, so it must be judged (and only flagged for its dtype) at float32 tolerance."""
    return a if tolerance_for(a)[0] >= tolerance_for(b)[0] else b


def _scale(exp: np.ndarray, scale: Any, dt: np.dtype) -> float | np.ndarray:
    """The magnitude the absolute tolerance is proportional to: ``max|expected|``, the caller's
    number, or the caller's per-element magnitudes as an array of ``exp.shape`` (a scale that does
    not broadcast to the reference is the caller's bug and raises)."""
    # A zero scale gets the smallest normal number: effectively an exact zero is required.
    tiny = float(np.finfo(dt).tiny) if dt.kind == "f" else float(np.finfo(np.float64).tiny)
    finite = np.abs(exp[np.isfinite(exp)])
    largest = float(finite.max()) if finite.size else 0.0
    if scale is None:
        return max(largest, tiny)
    s = np.abs(np.asarray(scale, dtype=np.float64))
    if s.ndim == 0:
        return max(float(s), tiny)
    # Per-element magnitudes get a floor of 1e-3 max|expected| (rtol * that is ~eps * max|expected|
    # in float32) so an underestimated magnitude never demands more than the largest element's
    # own rounding.
    return np.maximum(np.broadcast_to(s, exp.shape), max(1e-3 * largest, tiny))


def _elementwise(exp: np.ndarray, got: np.ndarray, rtol: float, atol: float | np.ndarray
                 ) -> dict[str, Any]:
    """All per-element statistics of a same-shape comparison (arrays of shape ``exp.shape``)."""
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        diff = np.abs(got - exp)  # NaN where got is NaN or both are the same infinity
        tol = atol + rtol * np.abs(exp)
        # a non-finite reference is only matched exactly (tol would be inf/NaN there)
        close = np.where(np.isfinite(exp), diff <= tol,
                         (got == exp) | (np.isnan(exp) & np.isnan(got)))
        mismatch = ~close
        finite = np.isfinite(exp) & np.isfinite(got)
        ratio = np.where(tol > 0, diff / np.where(tol > 0, tol, 1.0), np.where(diff > 0, np.inf, 0))
        # non-finite mismatches rank first (ratio inf); matching non-finite pairs count as 0
        ratio = np.where(close, np.nan_to_num(ratio, nan=0.0), np.where(finite, ratio, np.inf))
        absexp = np.abs(exp)
        rel = np.where(absexp > 0, diff / np.where(absexp > 0, absexp, 1.0),
                       np.where(diff > 0, np.inf, 0.0))
    nan_mask = np.isnan(got) & ~np.isnan(exp)
    inf_mask = np.isinf(got) & (got != exp)
    out: dict[str, Any] = dict(
        mismatch=mismatch, n_mismatched=int(mismatch.sum()),
        max_abs_err=float(diff[finite].max()) if finite.any() else 0.0,
        max_rel_err=float(rel[finite].max()) if finite.any() else 0.0,
        max_ratio=float(ratio.max()) if ratio.size else 0.0,
        nan_count=int(nan_mask.sum()), inf_count=int(inf_mask.sum()),
        nan_positions=_positions(nan_mask), inf_positions=_positions(inf_mask))
    if exp.size:
        worst = tuple(int(i) for i in np.unravel_index(int(np.argmax(ratio)), exp.shape))
        out.update(worst_index=worst, worst_expected=float(exp[worst]), worst_got=float(got[worst]))
    return out


def _positions(mask: np.ndarray) -> list[tuple[int, ...]]:
    idx = np.argwhere(mask)[:MAX_POSITIONS]
    return [tuple(int(v) for v in row) for row in idx]


def _fmt(x: float | None) -> str:
    return tr("n/a") if x is None else f"{x:.4g}"


def _index(idx: tuple[int, ...] | None) -> str:
    return "[" + ", ".join(str(i) for i in (idx or ())) + "]"


def _message(c: Comparison, head: str, want: np.dtype | None) -> str:
    """One paragraph for a same-shape comparison (values and/or dtype)."""
    parts: list[str] = []
    if c.failure == "dtype":
        parts.append(tr("{head}: dtype {got}, expected {want} — {want} in gives {want} out "
                        "(keep the input's dtype: np.zeros(shape) is float64, and mixing in a "
                        "float64 array upcasts the result)", head=head, got=c.got_dtype, want=want))
    if c.n_mismatched:
        n_bad = c.nan_count + c.inf_count
        text = (tr("{n} of {total} elements differ", n=c.n_mismatched, total=c.n_total)
                if c.n_total > 1 else tr("the value differs"))
        if c.n_mismatched > n_bad:  # errors are measured over finite elements only
            text += " " + tr("(max abs err {abs_err}, max rel err {rel_err})",
                             abs_err=_fmt(c.max_abs_err), rel_err=_fmt(c.max_rel_err))
        worst = dict(expected=_fmt(c.worst_expected), got=_fmt(c.worst_got))
        text += "; " + (tr("worst at {index}: expected {expected}, got {got}",
                           index=_index(c.worst_index), **worst) if c.worst_index
                        else tr("worst: expected {expected}, got {got}", **worst))
        if c.nan_count and c.inf_count:
            text += "; " + tr("{nan} NaN and {inf} Inf in the result", nan=c.nan_count,
                              inf=c.inf_count)
        elif c.nan_count:
            text += "; " + tr("{n} NaN in the result", n=c.nan_count)
        elif c.inf_count:
            text += "; " + tr("{n} Inf in the result", n=c.inf_count)
        if c.diagnosis:
            text += f" — {c.diagnosis}"
        parts.append(text if parts else f"{head}: {text}")
    elif c.ok:
        fields = dict(head=head, abs_err=_fmt(c.max_abs_err), percent=100 * c.max_ratio)
        parts.append(tr("{head}: OK — all {n} elements within tolerance (max abs err {abs_err}, "
                        "{percent:.2g}% of the tolerance)", n=c.n_total, **fields)
                     if c.n_total != 1 else
                     tr("{head}: OK — the value within tolerance (max abs err {abs_err}, "
                        "{percent:.2g}% of the tolerance)", **fields))
    elif c.failure == "dtype":
        parts.append(tr("values are within tolerance"))
    return "; ".join(parts) if c.failure == "dtype" else parts[0]
