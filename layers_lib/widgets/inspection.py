"""The computation behind the GradientInspector: run a student's layer on chosen inputs and compare
every quantity with a float64 reference (PyTorch), with hints where the pattern is recognisable.

Kept apart from the widget (`inspector.py`) so it can be tested and reused without ipywidgets.
Nothing here raises because of the student's code: exceptions become the Inspection's error.
"""
from __future__ import annotations

import contextlib
import copy
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..grading import magnitude
from ..grading.loader import describe_exception
from ..grading.compare import Comparison, compare, tolerance_for
from ..grading.testkit import torch_forward_backward
from ..i18n import mark, tr

INSPECTABLE = ("Linear", "SoftMax", "LogSoftMax", "BatchNormalization", "Scaling", "Dropout",
               "ReLU", "LeakyReLU", "ELU", "SoftPlus", "Conv2d", "MaxPool2d", "Flatten")
PARAM_GRADS = {"Linear": ("grad_W", "grad_b"), "Scaling": ("grad_gamma", "grad_beta"),
               "Conv2d": ("grad_W", "grad_b")}
# The advanced track's layers take images (batch, n_in channels, IMAGE_SIZE, IMAGE_SIZE)
IMAGE_LAYERS = ("Conv2d", "MaxPool2d", "Flatten")
IMAGE_SIZE, CONV_KERNEL, POOL_KERNEL = 6, 3, 2
EXTRA = {"BatchNormalization": ("moving_mean", "moving_variance")}
ELEMENTWISE = ("SoftMax", "LogSoftMax", "BatchNormalization", "Dropout", "ReLU", "LeakyReLU",
               "ELU", "SoftPlus")          # output has the input's shape: n_out is not used
UNSTABLE = ("SoftMax", "LogSoftMax", "ELU", "SoftPlus")  # probe small inputs for a stability hint
NUMERIC_MAX = 4096   # central differences only up to this many input elements
NUMERIC_STEP = 1e-6
DEFAULT_ARGS = {"LeakyReLU": (0.05,), "ELU": (0.7,), "Dropout": (0.5,), "BatchNormalization": (0.8,)}


def quantities_of(name: str) -> tuple[str, ...]:
    return ("output", "grad_input") + PARAM_GRADS.get(name, ()) + EXTRA.get(name, ())


@dataclass
class Inspection:
    """Result of one run: comparisons per quantity, or the error that stopped the run."""
    name: str
    comparisons: dict[str, Comparison] = field(default_factory=dict)
    error: str | None = None
    x: np.ndarray | None = None
    g: np.ndarray | None = None
    numeric: np.ndarray | None = None


@contextlib.contextmanager
def quiet_numerics():
    """No numeric warnings printed (overflow is what the inspector is for)."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        yield


def _make(layer: Any, name: str, n_in: int, n_out: int) -> Any:
    """A fresh student layer: a copy of the given instance, or the class built with spec args."""
    if isinstance(layer, type):
        if name == "Linear":
            return layer(n_in, n_out)
        if name == "Scaling":
            return layer(n_in)
        if name == "Conv2d":
            return layer(n_in, n_out, CONV_KERNEL)
        if name == "MaxPool2d":
            return layer(POOL_KERNEL)
        return layer(*DEFAULT_ARGS.get(name, ()))
    return copy.deepcopy(layer)


def _set_params(inst: Any, name: str, rng: np.random.Generator, n_in: int, n_out: int,
                dtype: np.dtype) -> dict[str, np.ndarray]:
    """Give the layer parameters drawn from rng (in dtype); returns them."""
    if name == "Linear":
        bound = 1 / np.sqrt(n_in)
        p = {"W": rng.uniform(-bound, bound, (n_in, n_out)).astype(dtype),
             "b": rng.uniform(-bound, bound, n_out).astype(dtype)}
    elif name == "Conv2d":
        bound = 1 / np.sqrt(n_in * CONV_KERNEL ** 2)
        p = {"W": rng.uniform(-bound, bound, (n_out, n_in, CONV_KERNEL, CONV_KERNEL)).astype(dtype),
             "b": rng.uniform(-bound, bound, n_out).astype(dtype)}
    elif name == "Scaling":
        p = {"gamma": rng.uniform(-2, 2, n_in).astype(dtype),
             "beta": rng.uniform(-2, 2, n_in).astype(dtype)}
    elif name == "BatchNormalization":
        p = {"moving_mean": np.zeros(n_in, dtype), "moving_variance": np.ones(n_in, dtype)}
    else:
        return {}
    for k, v in p.items():
        setattr(inst, k, v.copy())
    return p


def _run_student(inst: Any, name: str, x: np.ndarray, g: np.ndarray, seed: int) -> dict[str, Any]:
    if hasattr(inst, "train"):
        inst.train()
    if name == "Dropout":
        np.random.seed(seed)
    out = inst.forward(x)
    grad = inst.backward(x, g)
    got = {"output": out, "grad_input": grad}
    if name in PARAM_GRADS:
        try:
            grads = list(inst.get_grad_params())
        except Exception:                                     # noqa: BLE001
            grads = [getattr(inst, q, None) for q in PARAM_GRADS[name]]
        for q, v in zip(PARAM_GRADS[name], grads + [None] * 2):
            got[q] = v
    for q in EXTRA.get(name, ()):
        got[q] = getattr(inst, q, None)
    return got


def _reference(name: str, inst: Any, params: dict, x: np.ndarray, g: np.ndarray,
               got: dict) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """float64 reference values and per-element magnitudes (None: max|expected|)."""
    import torch

    x64, g64 = x.astype(np.float64), g.astype(np.float64)
    if name == "Linear":
        t = torch.nn.Linear(*params["W"].shape).double()
        with torch.no_grad():
            t.weight.copy_(torch.from_numpy(params["W"].astype(np.float64).T))
            t.bias.copy_(torch.from_numpy(params["b"].astype(np.float64)))
        r = torch_forward_backward(x, g, t)
        exp = {"output": r.output, "grad_input": r.grad_input,
               "grad_W": r.layer.weight.grad.numpy().T.copy(), "grad_b": r.layer.bias.grad.numpy()}
        return exp, magnitude.linear(x, g, params["W"], params["b"])
    if name == "Conv2d":
        t = torch.nn.Conv2d(params["W"].shape[1], params["W"].shape[0], CONV_KERNEL, padding=CONV_KERNEL // 2)
        with torch.no_grad():
            t.double().weight.copy_(torch.from_numpy(params["W"].astype(np.float64)))
            t.bias.copy_(torch.from_numpy(params["b"].astype(np.float64)))
        r = torch_forward_backward(x, g, t)
        exp = {"output": r.output, "grad_input": r.grad_input,
               "grad_W": r.layer.weight.grad.numpy(), "grad_b": r.layer.bias.grad.numpy()}
        return exp, magnitude.conv2d(x, g, params["W"], params["b"])
    if name in ("MaxPool2d", "Flatten"):
        r = torch_forward_backward(x, g, torch.nn.MaxPool2d(POOL_KERNEL) if name == "MaxPool2d"
                                   else torch.nn.Flatten())
        return {"output": r.output, "grad_input": r.grad_input}, {}
    if name == "Scaling":
        xt = torch.tensor(x64, requires_grad=True)
        gamma = torch.tensor(params["gamma"].astype(np.float64), requires_grad=True)
        beta = torch.tensor(params["beta"].astype(np.float64), requires_grad=True)
        out = xt * gamma + beta
        out.backward(torch.from_numpy(g64))
        exp = {"output": out.detach().numpy(), "grad_input": xt.grad.numpy(),
               "grad_gamma": gamma.grad.numpy(), "grad_beta": beta.grad.numpy()}
        return exp, magnitude.scaling(x, g, params["gamma"], params["beta"])
    if name in ("SoftMax", "LogSoftMax"):
        mod = torch.nn.Softmax(dim=1) if name == "SoftMax" else torch.nn.LogSoftmax(dim=1)
        r = torch_forward_backward(x, g, mod)
        mag = (magnitude.softmax if name == "SoftMax" else magnitude.log_softmax)(x, g)
        return {"output": r.output, "grad_input": r.grad_input}, mag
    if name == "BatchNormalization":
        if x.shape[0] < 2:
            raise ValueError(tr("BatchNormalization in training mode needs a batch of at least 2"))
        alpha = float(getattr(inst, "alpha", DEFAULT_ARGS[name][0]))
        eps = float(getattr(inst, "EPS", 1e-3))
        t = torch.nn.BatchNorm1d(x.shape[1], eps=eps, momentum=1 - alpha, affine=False)
        r = torch_forward_backward(x, g, t)
        mean0, var0 = params["moving_mean"].astype(np.float64), params["moving_variance"].astype(np.float64)
        exp = {"output": r.output, "grad_input": r.grad_input,
               "moving_mean": alpha * mean0 + (1 - alpha) * x64.mean(axis=0),
               "moving_variance": alpha * var0 + (1 - alpha) * x64.var(axis=0)}
        return exp, magnitude.batch_norm_train(x, g, alpha, eps, mean0, var0)
    if name == "Dropout":
        p = float(getattr(inst, "p", 0.5))
        out = got["output"]
        kept = (np.asarray(out) != 0) if type(out) is np.ndarray and out.shape == x.shape \
            else np.ones(x.shape, bool)
        return ({"output": np.where(kept, x64 / (1 - p), 0.0),
                 "grad_input": np.where(kept, g64 / (1 - p), 0.0)}, {})
    alpha = 1.0
    if name == "ReLU":
        mod = torch.nn.ReLU()
    elif name == "LeakyReLU":
        mod = torch.nn.LeakyReLU(float(getattr(inst, "slope", DEFAULT_ARGS[name][0])))
    elif name == "ELU":
        alpha = float(getattr(inst, "alpha", DEFAULT_ARGS[name][0]))
        mod = torch.nn.ELU(alpha)
    elif name == "SoftPlus":
        mod = torch.nn.Softplus()
    else:
        raise ValueError(f"no reference for {name}")
    r = torch_forward_backward(x, g, mod)
    return ({"output": r.output, "grad_input": r.grad_input},
            magnitude.elementwise(x, g, r.output, r.grad_input, alpha))


def numeric_grad_input(make_layer, x: np.ndarray, g: np.ndarray,
                       step: float = NUMERIC_STEP) -> np.ndarray | None:
    """Central-difference d(sum(forward(x) * g))/dx in float64 on fresh student layers.

    ``make_layer()`` returns a ready layer (same parameters each call). None if anything fails.
    """
    x64, g64 = x.astype(np.float64), g.astype(np.float64)
    if x64.size > NUMERIC_MAX:
        return None
    try:
        layer = make_layer()
        grad = np.zeros_like(x64)
        for idx in np.ndindex(*x64.shape):
            h = step * max(1.0, abs(x64[idx]))
            xp, xm = x64.copy(), x64.copy()
            xp[idx] += h
            xm[idx] -= h
            fp = float(np.sum(np.asarray(layer.forward(xp), dtype=np.float64) * g64))
            fm = float(np.sum(np.asarray(layer.forward(xm), dtype=np.float64) * g64))
            grad[idx] = (fp - fm) / (2 * h)
        return grad
    except Exception:                                          # noqa: BLE001
        return None


def _shapes(name: str, batch: int, n_in: int, width_out: int) -> tuple[tuple, tuple]:
    """(input shape, grad_output shape) of the inspected run; image layers get
    (batch, n_in channels, IMAGE_SIZE, IMAGE_SIZE) images."""
    if name not in IMAGE_LAYERS:
        return (batch, n_in), (batch, width_out)
    image, size = (batch, n_in, IMAGE_SIZE, IMAGE_SIZE), IMAGE_SIZE
    return image, {"Conv2d": (batch, width_out, size, size),
                   "MaxPool2d": (batch, n_in, size // POOL_KERNEL, size // POOL_KERNEL),
                   "Flatten": (batch, n_in * size * size)}[name]


def inspect_layer(layer: Any, *, name: str | None = None, seed: int = 0, batch_size: int = 4,
                  n_in: int = 5, n_out: int = 3, input_range: float = 10.0,
                  dtype: Any = np.float32, tol_scale: float = 1.0,
                  numeric: bool = True) -> Inspection:
    """Run the student's ``layer`` (class or instance) once and compare every quantity."""
    name = name or (layer.__name__ if isinstance(layer, type) else type(layer).__name__)
    result = Inspection(name)
    dtype = np.dtype(dtype)
    if name not in INSPECTABLE:
        result.error = tr("{name} cannot be inspected (supported: {supported})", name=name,
                          supported=", ".join(INSPECTABLE))
        return result
    width_out = n_in if name in ELEMENTWISE or name == "Scaling" else n_out
    rng = np.random.default_rng(seed)
    x_shape, g_shape = _shapes(name, batch_size, n_in, width_out)
    x = rng.uniform(-input_range, input_range, x_shape).astype(dtype)
    g = rng.uniform(-1, 1, g_shape).astype(dtype)
    if name in ("ReLU", "LeakyReLU", "ELU"):
        x.flat[::7] = 0                                            # the kink is part of the test
    param_rng_state = rng.bit_generator.state
    result.x, result.g = x, g

    def fresh(dt=dtype):
        inst = _make(layer, name, n_in, width_out)
        prng = np.random.default_rng()
        prng.bit_generator.state = param_rng_state
        params = _set_params(inst, name, prng, n_in, width_out, dt)
        return inst, params

    with quiet_numerics():
        try:
            inst, params = fresh()
            got = _run_student(inst, name, x.copy(), g.copy(), seed)
        except Exception as exc:                               # noqa: BLE001
            result.error = describe_exception(exc, name)
            return result
        try:
            expected, mags = _reference(name, inst, params, x, g, got)
        except Exception as exc:                               # noqa: BLE001
            result.error = tr("the reference could not be computed: {error}",
                              error=f"{type(exc).__name__}: {exc}")
            return result
        num = None
        if numeric and name != "Dropout":
            def make64():
                inst64, _ = fresh(np.float64)
                if hasattr(inst64, "train"):
                    inst64.train()
                return inst64
            num = numeric_grad_input(make64, x, g)
        result.numeric = num
        small_ok = None
        if name in UNSTABLE and input_range > 10:
            small_ok = _passes_on_small_inputs(layer, name, x, g, seed, n_in, width_out, dtype)
        rtol = tolerance_for(dtype)[0] * tol_scale
        for q in quantities_of(name):
            exp = np.asarray(expected[q], dtype=np.float64)
            mag = mags.get(q)
            scale = (np.abs(exp).max() if exp.size else 0.0) if mag is None else mag
            kw: dict[str, Any] = {}
            if q == "grad_input":
                kw["numeric"] = num
                kw["small_input_ok"] = small_ok
            if q == "output":
                kw["small_input_ok"] = small_ok
            if q.startswith("grad_") and q != "grad_input":
                kw["batch_size"] = batch_size
            want = dtype if q not in EXTRA.get(name, ()) else None
            try:
                result.comparisons[q] = compare(exp, got.get(q), layer=name, quantity=q,
                                                dtype=want, rtol=rtol,
                                                scale=np.asarray(scale) * tol_scale, **kw)
            except Exception as exc:                           # noqa: BLE001
                result.error = tr("comparison of {quantity} failed: {error}", quantity=q,
                                  error=f"{type(exc).__name__}: {exc}")
        _backward_hint(name, result, x, g)
    return result


BACKWARD_HINT = mark("disagrees with the numerical gradient of your own forward pass where the "
                     "reference agrees with it: the backward formula does not match the forward")


def _backward_hint(name: str, result: Inspection, x: np.ndarray, g: np.ndarray) -> None:
    """Diagnoses compare() cannot make without knowing the layer (set only when it found none)."""
    c = result.comparisons.get("grad_input")
    if c is None or c.ok or c.diagnosis or c.mismatch is None or c.got is None:
        return
    hint = None
    if name == "LeakyReLU" and c.got.shape == x.shape:
        neg = (x <= 0) & (g != 0)
        if neg.any() and not c.mismatch[~neg].any():
            ratios = c.got[neg] / g.astype(np.float64)[neg]
            k = float(np.median(ratios))
            if np.allclose(ratios, k, rtol=1e-3, atol=1e-12):
                hint = tr("wrong slope at negative inputs (x <= 0): got {k:.4g} x grad_output there", k=k)
    if hint is None and result.numeric is not None:
        num, bad = result.numeric, c.mismatch
        tol = 1e-4 * max(1.0, float(np.abs(c.expected).max()))
        if (np.abs(num - c.expected)[bad] <= tol).all() and (np.abs(num - c.got)[bad] > tol).any():
            hint = tr(BACKWARD_HINT)
    if hint:
        c.diagnosis = hint
        c.message = f"{c.message} — {hint}"


def _passes_on_small_inputs(layer, name, x, g, seed, n_in, width_out, dtype) -> bool | None:
    """Does the student's layer pass on the same inputs scaled to |x| <= 5?"""
    try:
        small = (x.astype(np.float64) * (5.0 / max(1e-300, float(np.abs(x).max())))).astype(dtype)
        inst = _make(layer, name, n_in, width_out)
        got = _run_student(inst, name, small, g.copy(), seed)
        expected, mags = _reference(name, inst, {}, small, g, got)
        return all(compare(expected[q], got[q], layer=name, quantity=q, scale=mags.get(q)).ok
                   for q in ("output", "grad_input"))
    except Exception:                                          # noqa: BLE001
        return None
