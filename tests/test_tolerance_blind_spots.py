"""No blind spots in the tolerances (issue 10, item 4).

A tolerance much larger than the values it judges accepts wrong values: before this test the
Sequential check accepted -16.7 for an expected -0.18 (the batch-norm bound multiplied its
naive-variance factor in three times). For every check (the visible tests and the hidden
checks of every graded class, run on the reference), every comparison is recorded, and each
element's tolerance ``atol + rtol |expected|`` is measured against the typical size of that
comparison's quantity, the RMS of |expected|: no element may have a tolerance above 1 % of it,
except the cases of ALLOWED, each with the reason why a correct float32 solution needs it.

The bounds are in `layers_lib.grading.magnitude`; `PREVIOUS` below keeps the ones they replaced,
so the test also shows the figures before the fix and proves no tolerance got looser. The last
test holds the new rounding bounds against correct algorithms of other styles on adversarial
inputs (tests/mutants/float_styles.py).
"""
import collections
import re

import numpy as np
import pytest

import layers_lib.grading.grade as grade_module
import layers_lib.reference as L
from layers_lib.course.hidden_checks import run_hidden_checks
from layers_lib.grading import magnitude
from layers_lib.grading.compare import compare
from layers_lib.grading.runner import run_class_checks
from layers_lib.grading.visible_tests import GRADED_NAMES

LIMIT = 0.01      # a tolerance above 1 % of the quantity's typical size is a blind spot
EXACT = 1e-30     # tolerances below this demand an exact zero (e.g. after zero_grad_params)

_STEP = re.compile(r"\bstep \d+")

# (check, quantity with "step N"): (elements allowed over LIMIT, why a correct solution needs it)
_BATCH_OF_2 = ("a batch of 2: dL/dx = +-(g1 - g2)/2 s EPS s^2, its three terms cancel to "
               "EPS/(var + EPS) of their size (1e-4 at var ~ 10) while correct float32 code keeps "
               "~u of the terms; the naive variance E[x^2] - E[x]^2 adds u E[x^2]/(var + EPS) where "
               "a column's two samples nearly coincide (README: 'a correct float32 solution errs "
               "by ~1e-6 there')")
_LSE_AT_1E4 = ("|x| ~ 1e4 in float32: log-sum-exp (a correct, stable style) rounds lse at the row's "
               "maximum, ~u|x| = 6e-4, so every probability of a row whose two largest logits are "
               "close errs by that relatively; with the margin of 8, that is more than 1 % of a "
               "one-hot row's RMS")
ALLOWED = {
    ("SoftMax visible", "grad_input for large inputs"): (1, _LSE_AT_1E4),
    ("SoftMax hidden", "output (float32, shape (3, 7), |x| <= 10000)"): (1, _LSE_AT_1E4),
    ("SoftMax hidden", "grad_input (float32, shape (3, 7), |x| <= 10000)"): (
        2, _LSE_AT_1E4 + "; the gradient of that row (2e-4) is smaller than that error times |g|"),
    ("SoftMax hidden", "grad_input (float64, shape (3, 7), |x| <= 10000)"): (
        1, "a row one-hot below float64's resolution (p_2 ~ 1e-29): its exact gradient ~p_2 |g| "
           "cannot be represented next to 1 (1 + p_2 == 1), every float algorithm errs by about it"),
    ("LogSoftMax hidden", "grad_input (float32, shape (3, 7), |x| <= 10000)"): (1, _LSE_AT_1E4),
    ("BatchNormalization hidden", "grad_input (float32, batch 2, training step N)"): (8, _BATCH_OF_2),
    ("Sequential visible", "grad_input"): (55, _BATCH_OF_2),
}


# --- the bounds before issue 10 (term magnitudes only), to measure against -------------------
def _previous_softmax(x, g):
    x = np.asarray(x, dtype=np.float64)
    shifted = x - x.max(axis=1, keepdims=True)
    p = np.exp(shifted)
    p /= p.sum(axis=1, keepdims=True)
    ag = np.abs(g)
    p_mag = p * (1 + np.abs(shifted) + np.abs(x))
    return {"output": p_mag, "grad_input": p_mag * (ag + (ag * p).sum(axis=1, keepdims=True))}


def _previous_log_softmax(x, g):
    x = np.asarray(x, dtype=np.float64)
    shifted = x - x.max(axis=1, keepdims=True)
    lse = np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    y = shifted - lse
    ag = np.abs(g)
    p = np.exp(y)
    return {"output": np.abs(x) + np.abs(shifted) + np.abs(lse) + 1,
            "grad_input": ag + p * (1 + np.abs(y) + np.abs(x)) * ag.sum(axis=1, keepdims=True)}


def _previous_batch_norm_train(x, g, alpha, eps, moving_mean, moving_variance):
    x, g = np.asarray(x, dtype=np.float64), np.asarray(g, dtype=np.float64)
    mean = x.mean(axis=0)
    s = 1 / np.sqrt(x.var(axis=0) + eps)
    ax, ag = np.abs(x), np.abs(g)
    second_moment = (x * x).mean(axis=0)
    y_mag = (ax + np.abs(mean)) * s * (1 + second_moment * s * s)
    grad_mag = s * (ag + ag.mean(axis=0) + y_mag * (ag * y_mag).mean(axis=0)) * (1 + second_moment * s * s)
    return {"output": y_mag, "grad_input": grad_mag,
            "moving_mean": np.abs(alpha * moving_mean) + (1 - alpha) * ax.mean(axis=0),
            "moving_variance": np.abs(alpha * moving_variance) + (1 - alpha) * second_moment}


def _previous_nll(input, target, clip_eps=None):
    ainput, at = np.abs(np.asarray(input, dtype=np.float64)), np.abs(np.asarray(target, dtype=np.float64))
    batch = ainput.shape[0]
    if clip_eps is None:
        return {"loss": np.asarray((at * ainput).sum() / batch), "grad_input": at / batch}
    clipped = np.clip(ainput, clip_eps, 1 - clip_eps)
    return {"loss": np.asarray((at * (np.abs(np.log(clipped)) + 1)).sum() / batch),
            "grad_input": at / clipped / batch}


PREVIOUS = {"softmax": _previous_softmax, "log_softmax": _previous_log_softmax,
            "batch_norm_train": _previous_batch_norm_train, "nll": _previous_nll}


# --- measuring every check ---------------------------------------------------------------------
def _run_every_check():
    """[(check, quantity, tolerance array, typical size)] of every comparison of every check."""
    recorded = []
    namespace = {n: getattr(L, n) for n in dir(L)}
    real_compare = grade_module.compare

    def recording_compare(expected, got, **kw):
        c = real_compare(expected, got, **kw)
        recorded.append(c)
        return c

    rows = []
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(grade_module, "compare", recording_compare)
        for name in GRADED_NAMES:
            for kind in ("visible", "hidden"):
                recorded.clear()
                result = (run_class_checks(name, namespace) if kind == "visible" else
                          run_hidden_checks(name, namespace))
                assert result.passed, (name, kind, result.failures)
                for c in recorded:
                    exp = c.expected
                    atol = c.atol_elementwise if c.atol_elementwise is not None else c.atol
                    tol = np.broadcast_to(atol + c.rtol * np.abs(exp), exp.shape)
                    finite = np.isfinite(exp)
                    typical = float(np.sqrt(np.mean(exp[finite] ** 2))) if finite.any() else 0.0
                    rows.append((f"{name} {kind}", c.quantity, np.where(finite, tol, 0.0), typical))
    return rows


@pytest.fixture(scope="module")
def measured():
    now = _run_every_check()
    with pytest.MonkeyPatch.context() as mp:
        for fname, previous in PREVIOUS.items():
            mp.setattr(magnitude, fname, previous)
        before = _run_every_check()
    return now, before


def _flagged(rows):
    """{(check, quantity with 'step N'): elements whose tolerance exceeds LIMIT x typical size}"""
    counts = collections.Counter()
    for check, quantity, tol, typical in rows:
        n = int(np.count_nonzero((tol > LIMIT * typical) & (tol > EXACT)))
        if n:
            counts[(check, _STEP.sub("step N", quantity))] += n
    return counts


def _per_check(counts):
    out = collections.Counter()
    for (check, _), n in counts.items():
        out[check] += n
    return out


def test_no_tolerance_is_looser_than_before(measured):
    now, before = measured
    assert [(c, q) for c, q, _, _ in now] == [(c, q) for c, q, _, _ in before]
    for (check, quantity, tol, _), (_, _, old, _) in zip(now, before):
        assert np.all(tol <= old * (1 + 1e-12) + 1e-300), (check, quantity)


def test_no_tolerance_above_one_percent_of_the_typical_size(measured, capsys):
    now, before = measured
    flagged, flagged_before = _flagged(now), _flagged(before)
    elements = collections.Counter()
    for check, _, tol, _ in now:
        elements[check] += tol.size
    after_per_check, before_per_check = _per_check(flagged), _per_check(flagged_before)
    with capsys.disabled():
        print(f"\nelements with a tolerance above {LIMIT:.0%} of the quantity's RMS, per check "
              "(before -> after issue 10):")
        for check in sorted(set(elements), key=lambda c: (GRADED_NAMES.index(c.split()[0]), c)):
            print(f"  {check:30s} {before_per_check[check]:5d} -> {after_per_check[check]:4d}"
                  f"   of {elements[check]}")
        print(f"  {'total':30s} {sum(before_per_check.values()):5d} -> "
              f"{sum(after_per_check.values()):4d}   of {sum(elements.values())}")
    assert elements
    unexplained = {k: n for k, n in flagged.items() if k not in ALLOWED}
    assert not unexplained, f"tolerances above {LIMIT:.0%} of the typical size: {unexplained}"
    over = {k: (n, ALLOWED[k][0]) for k, n in flagged.items() if n > ALLOWED[k][0]}
    assert not over, f"more elements over the limit than allowed (count, allowed): {over}"
    stale = [k for k in ALLOWED if k not in flagged]
    assert not stale, f"allowed cases that no longer occur (remove them): {stale}"


# --- the new bounds against correct algorithms of other styles ----------------------------------
def _bn_inputs(rng):
    for dtype in (np.float32, np.float64):
        for batch in (2, 2, 2, 3, 4, 8, 32, 128):
            n = 8
            kind = rng.integers(4)
            if kind == 0:
                x = rng.uniform(-10, 10, (batch, n))
            elif kind == 1:                    # a large mean, a small spread
                x = rng.uniform(-1, 1, (batch, n)) * 10 ** rng.uniform(-3, 0.5, n) + rng.uniform(-12, 12, n)
            elif kind == 2:                    # nearly coincident samples
                x = rng.uniform(-5, 5, (1, n)) + rng.normal(size=(batch, n)) * 10 ** rng.uniform(-4, -1, n)
            else:
                x = rng.normal(size=(batch, n)) * 10 ** rng.uniform(-2, 1, n) + rng.uniform(-10, 10, n)
            g = rng.uniform(-10, 10, (batch, n)) * rng.uniform(0, 2, n)
            yield x.astype(dtype), g.astype(dtype)


def _softmax_inputs(rng):
    for dtype in (np.float32, np.float64):
        for n in (2, 3, 4, 7, 10, 50):
            kind = rng.integers(5)
            size = [10, 1e4, 100, 1e3, 30][kind]
            x = rng.uniform(-size, size, (int(rng.integers(1, 17)), n))
            if kind >= 2:                      # a competitor close to the maximum
                x[:, rng.integers(n)] = x.max(axis=1) - rng.exponential(rng.choice([0.1, 3, 15, 40]), len(x))
            if rng.random() < 0.2:
                x[:, :2] = x[:, :1]            # exact ties
            g = rng.uniform(-1, 1, x.shape) * rng.choice([1, 10])
            yield x.astype(dtype), g.astype(dtype)


def _torch_reference(x, g, module):
    import torch
    tx = torch.tensor(x.astype(np.float64), requires_grad=True)
    out = module(tx)
    out.backward(torch.tensor(g.astype(np.float64)))
    return out.detach().numpy(), tx.grad.numpy()


def test_correct_algorithms_stay_well_inside_the_rounding_bounds():
    """Measured over 40 rounds of these inputs: worst 0.12 of the tolerance (log-sum-exp softmax,
    whose one rounding of lse at |x| ~ 1e4 the bound counts with the margin of 8)."""
    import torch
    from mutants import float_styles as styles

    rng = np.random.default_rng(2024)
    worst = collections.defaultdict(float)

    def record(key, exp, got, scale, dtype):
        c = compare(exp, got.astype(dtype), layer="style", quantity=key[-1], scale=scale, dtype=dtype)
        worst[key] = max(worst[key], c.max_ratio)

    bn = lambda t: torch.nn.functional.batch_norm(t, None, None, training=True, eps=styles.EPS)  # noqa: E731
    with np.errstate(all="ignore"):
        for _ in range(3):
            for x, g in _bn_inputs(rng):
                ref = _torch_reference(x, g, bn)
                bound = magnitude.batch_norm_train(x, g, 0.9, styles.EPS, 0.0, 1.0)
                for name, style in styles.BATCH_NORM.items():
                    if name == "bn_torch" and x.dtype == np.float64:
                        continue
                    out, grad = style(x, g)
                    record((name, "output"), ref[0], out, bound["output"], x.dtype)
                    record((name, "grad_input"), ref[1], grad, bound["grad_input"], x.dtype)
            for x, g in _softmax_inputs(rng):
                for family, module, bounds in ((styles.SOFTMAX, lambda t: torch.softmax(t, 1), magnitude.softmax),
                                               (styles.LOG_SOFTMAX, lambda t: torch.log_softmax(t, 1),
                                                magnitude.log_softmax)):
                    ref, bound = _torch_reference(x, g, module), bounds(x, g)
                    for name, style in family.items():
                        if name.endswith("_torch") and x.dtype == np.float64:
                            continue
                        out, grad = style(x, g)
                        record((name, "output"), ref[0], out, bound["output"], x.dtype)
                        record((name, "grad_input"), ref[1], grad, bound["grad_input"], x.dtype)
    ratio, key = max((r, k) for k, r in worst.items())
    assert ratio < 0.3, f"{key} uses {ratio:.2f} of its tolerance: the rounding bound is too tight"
