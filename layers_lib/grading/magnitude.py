"""Rounding-error scales: how large the terms behind each element of a layer's result are.

A correct implementation in precision eps errs by about eps times the magnitude of the
terms it adds up, not eps times the result: `g - sum(g * p)` in a softmax gradient or the
three-term batch-norm gradient cancel to values far smaller than their terms (for a batch
of 2, BatchNormalization's input gradient is ~1e-5 built from terms ~10). A tolerance
scaled by the result alone would fail correct float32 solutions there.

Each function below returns one array per quantity, shaped like the quantity; the
comparison allows rtol(dtype) * (|expected| + magnitude). Two kinds of bound:

* term magnitudes (`linear`, `scaling`, `elementwise`, `nll`, the log-softmax output, the
  moving statistics): the natural formula evaluated with absolute values, in float64. rtol
  (1e-4 for float32, ~1700 roundings) times the terms covers sums of up to ~1e3 terms.
* rounding counts (the softmax family's gradients and probabilities, batch norm in training
  mode): where the result cancels far below its terms, or where one rounding is amplified
  (the naive variance E[x^2] - E[x]^2, the log-sum-exp rounded at |x| ~ 1e4), "rtol times
  the terms" is ~1700 times the error a correct solution can make and accepts wrong values
  (an expected -0.18 within tolerance of -16.7). These bounds count the worst-case error in
  roundings u of the input's dtype (every correct algorithm we know of: the reference's, a
  staged/CS231n batch-norm backward, the naive variance, log-sum-exp, a Jacobian matrix),
  times SAFETY, converted to rtol units. They are never larger than the term magnitudes
  they replace (`np.minimum` with the previous bound): no tolerance is ever loosened.
"""
import numpy as np

from .compare import tolerance_for

# Margin of a rounding count over the worst case it bounds (worst cases are themselves rarely
# approached: a sum of n terms errs by ~sqrt(n) u typically, n u at worst).
SAFETY = 8.0


def _abs(*arrays):
    return [np.abs(np.asarray(a, dtype=np.float64)) for a in arrays]


def _rounding(x):
    """(u, w): the unit roundoff of x's dtype, and the factor turning an error bound counted in
    roundings into a magnitude: rtol(dtype) * w * count = SAFETY * u * count."""
    dt = np.asarray(x).dtype
    dt = dt if dt.kind == "f" else np.dtype(np.float64)
    u = float(np.finfo(dt).eps) / 2
    return u, SAFETY * u / tolerance_for(dt)[1]


def linear(x, g, W, b):
    ax, ag, aW, ab = _abs(x, g, W, b)
    return {"output": ax @ aW + ab, "grad_input": ag @ aW.T,
            "grad_W": ax.T @ ag, "grad_b": ag.sum(axis=0)}


def _softmax_rows(x):
    """Everything the softmax bounds need, in float64, rows of x (B, n); u of x's dtype."""
    u, w = _rounding(x)
    x = np.asarray(x, dtype=np.float64)
    n = x.shape[1]
    m = x.max(axis=1, keepdims=True)
    shifted = x - m
    e = np.exp(shifted)
    top = np.arange(n) == e.argmax(axis=1)[:, None]            # the (first) maximum of each row
    rest = np.where(top, 0.0, e).sum(axis=1, keepdims=True)    # the mass off the maximum
    lse_rest = np.log1p(rest)                                   # lse - max >= 0
    p = e / (1 + rest)
    # Below u/2 of mass off the maximum, every float algorithm gives that row exactly one-hot
    # (1 + rest rounds to 1, log(1) = 0, exp(0) = 1): no rounding happens at its maximum.
    spread = np.minimum(1.0, 2 * rest / u)  # 0: one-hot at this precision
    c = np.where(top, spread, 1.0)        # 1 where an element's own roundings happen at all
    # relative error of p_j in roundings: the shift x - max and, in log-sum-exp styles, x - lse
    # (2 |x - max|), the sum (n - 1), its log (2 log n), exp and the division; log-sum-exp styles
    # (exp(x - lse)) also round lse at |max|, but never by more than lse - max itself (max is a
    # float, so the nearest float to max + (lse - max) is no farther than max)
    lse_round = np.minimum(np.abs(m) + lse_rest, lse_rest / u)
    E = c * (2 * np.abs(shifted) + n + 2 * np.log(n) + 3) + lse_round
    return dict(u=u, w=w, n=n, m=m, shifted=shifted, p=p, top=top, c=c, spread=spread,
                lse_rest=lse_rest, lse_round=lse_round, E=E)


def softmax(x, g):
    """p = exp(x - max) / sum; dL/dx = p (g - S), S = sum(g p).

    g - S cancels in near one-hot rows, so the bound follows the exact |g - S| and the
    roundings that can happen: none at the maximum of a row that is one-hot at the dtype's
    precision (whose exact gradient is 0 and is computed as 0), the normalising sum's and the
    log-sum-exp's relative error (shared by the row, so it reaches the result through S).
    """
    r = _softmax_rows(x)
    u, w, n, p, c, E = r["u"], r["w"], r["n"], r["p"], r["c"], r["E"]
    x64 = np.asarray(x, dtype=np.float64)
    g = np.asarray(g, dtype=np.float64)
    ag = np.abs(g)
    # previous bound (term magnitudes): never exceeded
    p_mag = p * (1 + np.abs(r["shifted"]) + np.abs(x64))
    old_grad = p_mag * (ag + (ag * p).sum(axis=1, keepdims=True))
    S = (g * p).sum(axis=1, keepdims=True)
    gp = ag * p
    A_S = gp.sum(axis=1, keepdims=True)
    # rounding of the sum S: each addition errs by at most the smaller operand (or u of the sum),
    # and the largest term is free: 2 * sum over the others of min(A_S, |g p| / u)
    largest = np.arange(n) == gp.argmax(axis=1)[:, None]
    sum_err = 2 * np.where(largest, 0.0, np.minimum(A_S, gp / u)).sum(axis=1, keepdims=True)
    count = (p * (np.abs(g - S) * (E + 1)                        # p's error times the bracket
                  + (gp * E).sum(axis=1, keepdims=True)          # S from the p's errors
                  + sum_err + (c * gp).sum(axis=1, keepdims=True))   # S's roundings
             + c * p * (ag + A_S) * (n + 2)                      # p*g - p*S, Jacobian styles
             + np.abs(p * (g - S)))                              # the final product
    return {"output": np.minimum(p_mag, w * p * E), "grad_input": np.minimum(old_grad, w * count)}


def log_softmax(x, g):
    """y = x - max - log(sum exp(x - max)); dL/dx = g - exp(y) * sum(g)."""
    r = _softmax_rows(x)
    w, n, p, c = r["w"], r["n"], r["p"], r["c"]
    x = np.asarray(x, dtype=np.float64)
    shifted = r["shifted"]
    y = shifted - r["lse_rest"]
    g = np.asarray(g, dtype=np.float64)
    ag = np.abs(g)
    old_grad = ag + p * (1 + np.abs(y) + np.abs(x)) * ag.sum(axis=1, keepdims=True)
    # absolute error of y in roundings: x - max, the log of the sum (shared by the row, none in
    # a one-hot row), x - lse; then p = exp(y) (or a softmax recomputed: r["E"])
    err_y = (np.abs(shifted) + np.abs(y) + r["spread"] * (n + 2 * np.log(n) + 2)
             + r["lse_round"])
    T = np.abs(g.sum(axis=1, keepdims=True))
    count = np.abs(g - p * g.sum(axis=1, keepdims=True)) + p * T * (err_y + r["E"] + 2 * c) \
        + p * n * ag.sum(axis=1, keepdims=True)
    # the output keeps its term magnitudes (|y| itself is ~|x - max|: no cancellation to guard)
    return {"output": np.abs(x) + np.abs(shifted) + r["lse_rest"] + 1,
            "grad_input": np.minimum(old_grad, w * count)}


def batch_norm_train(x, g, alpha, eps, moving_mean, moving_variance):
    """Train mode: y = (x - mu) s, s = 1/sqrt(var + eps); dL/dx = s (g - mean g - y mean(g y)).

    Why (errors in roundings u of x's dtype, batch B, per feature):
    * var: two-pass errs by ~B u var, the naive E[x^2] - E[x]^2 (a correct choice) by up to
      (3B + 4) u E[x^2], so s errs relatively by ds = (1.5B + 2) k + 2 with k = E[x^2] s^2
      (k >> 1 where a feature's variance is small next to its mean square).
    * y: x - mu errs by u|x - mu| + the mean's (B + 1) u mean|x| (and by u|x| for x*s - mu*s),
      then s's relative error: |y| ds. The naive-variance factor multiplies |y| once.
    * dL/dx: s's error is shared by the terms, so it multiplies s (g - mean g) and, raised to
      the third power in the y-term (staged backward: std ** -3), 3 s y mean(g y): exact values,
      not term magnitudes, as these two cancel each other for a batch of 2; the y errors enter the
      y-term, the staged backward's dmu adds mean(g y) s mean(x - mu) (2 (B + 1) u s mean|x|),
      and the sums and products round by (B + 4) u of the terms.
    The previous bound multiplied (|x| + |mu|) s by the variance factor, then squared that and
    multiplied by the factor again: ~k^3 where k^1 is the truth. (The naive variance is usable
    while its error stays below var + EPS, 3B u E[x^2] << EPS; the checks' inputs, |x| <= ~11,
    stay far inside.)
    """
    u, w = _rounding(x)
    x, g = np.asarray(x, dtype=np.float64), np.asarray(g, dtype=np.float64)
    batch = x.shape[0]
    mean = x.mean(axis=0)
    var = x.var(axis=0)
    s = 1 / np.sqrt(var + eps)
    y = (x - mean) * s
    ax, ag, ay = np.abs(x), np.abs(g), np.abs(y)
    second_moment = (x * x).mean(axis=0)
    k = second_moment * s * s
    # the previous bound (term magnitudes): never exceeded
    y_mag = (ax + np.abs(mean)) * s * (1 + k)
    old_grad = s * (ag + ag.mean(axis=0) + y_mag * (ag * y_mag).mean(axis=0)) * (1 + k)
    ds = (1.5 * batch + 2) * k + 2
    mean_ax = ax.mean(axis=0)
    y0 = s * (ax + (batch + 2) * mean_ax) + 2 * ay            # y's error apart from s's
    gy = (ag * ay).mean(axis=0)
    centred_g = np.abs(g - g.mean(axis=0))
    y_term = ay * np.abs((g * y).mean(axis=0))
    grad = (ds * s * (centred_g + 3 * y_term)                     # s's error (s^3 in the y-term)
            + s * (y0 * gy + ay * (ag * y0).mean(axis=0))         # y's other errors
            + s * gy * 2 * (batch + 1) * s * mean_ax              # the staged backward's dmu
            + (batch + 4) * s * (ag + ag.mean(axis=0) + ay * gy))  # the sums' and products' roundings
    return {"output": np.minimum(y_mag, w * (y0 + ay * ds)),
            "grad_input": np.minimum(old_grad, w * grad),
            "moving_mean": np.abs(alpha * moving_mean) + (1 - alpha) * ax.mean(axis=0),
            "moving_variance": np.abs(alpha * moving_variance) + (1 - alpha) * second_moment}


def batch_norm_evaluate(x, g, eps, moving_mean, moving_variance):
    s = 1 / np.sqrt(np.asarray(moving_variance, dtype=np.float64) + eps)
    ax, ag, am = _abs(x, g, moving_mean)
    return {"output": (ax + am) * s * (1 + np.abs(moving_variance) * s * s), "grad_input": ag * s}


def scaling(x, g, gamma, beta):
    ax, ag, agamma, abeta = _abs(x, g, gamma, beta)
    return {"output": ax * agamma + abeta, "grad_input": ag * agamma,
            "grad_gamma": (ag * ax).sum(axis=0), "grad_beta": ag.sum(axis=0)}


def elementwise(x, g, output, grad_input, scale=1.0):
    """Activations: the value plus the size of an exp/log term rounded on the way.

    That term is at most `scale` * 2 (`scale` = ELU's alpha): e.g. exp(x) - 1 or
    log(1 + exp(x)) computed naively lose eps absolute, not relative, near 0.
    """
    ax, ag = _abs(x, g)
    term = max(abs(scale), 1.0) * np.minimum(1 + ax, 2.0)
    return {"output": np.abs(output) + term, "grad_input": np.abs(grad_input) + ag * term}


def nll(input, target, clip_eps=None):
    ainput, at = _abs(input, target)
    batch = ainput.shape[0]
    if clip_eps is None:
        return {"loss": np.asarray((at * ainput).sum() / batch), "grad_input": at / batch}
    clipped = np.clip(ainput, clip_eps, 1 - clip_eps)
    # -log(p) >= 0: the loss is a sum of non-negative terms, rounded relative to their size; the
    # one absolute error is the clip at 1 - EPS, which is 1.0 in float32 (log 0 vs -EPS)
    u, w = _rounding(input)
    return {"loss": np.asarray((at * (np.abs(np.log(clipped)) + clip_eps * w / u)).sum() / batch),
            "grad_input": at / clipped / batch}


def conv2d(x, g, W, b):
    """Conv2d (stride 1, "same" padding): every sum of the layer evaluated with absolute values,
    by PyTorch's autograd in float64 on |x|, |W|, |b| and |g|."""
    import torch

    ax, ag, aW, ab = (torch.from_numpy(a) for a in _abs(x, g, W, b))
    for t in (ax, aW, ab):
        t.requires_grad_(True)
    out = torch.nn.functional.conv2d(ax, aW, ab, padding=aW.shape[-1] // 2)
    out.backward(ag)
    return {"output": out.detach().numpy(), "grad_input": ax.grad.numpy(),
            "grad_W": aW.grad.numpy(), "grad_b": ab.grad.numpy()}
