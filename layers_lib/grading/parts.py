"""What each graded class must do, and the points of each part: the partial credit of `[2]`.

A class's points are split over its parts (forward, backward, parameter gradients, evaluation
mode, stability for large inputs ...). Every comparison and every call of the student's code
names a *quantity* ("output", "grad_W", "output (evaluate mode)", "output for large inputs");
`part_of` says which part it decides. A part is earned when it was checked and nothing of it
failed; a numeric warning alone never costs a part (`advice_for` turns it into advice).
"""
from __future__ import annotations

from dataclasses import dataclass

from ..i18n import mark, tr


@dataclass(frozen=True)
class Part:
    """One thing a class must do. `prefixes`: quantities starting with one of them belong to
    it; `markers`: quantities containing one of them do (checked first); `methods`: the
    student's methods whose exceptions count against it."""
    name: str
    points: float
    prefixes: tuple = ()
    markers: tuple = ()
    methods: tuple = ()


LARGE = ("for large inputs", "|x| <= 10000")         # the visible and the hidden stability checks
FORWARD, BACKWARD = ("output",), ("grad_input",)


def _forward(points):
    return Part(mark("forward"), points, FORWARD, methods=("update_output",))


def _backward(points, extra=()):
    return Part(mark("backward"), points, BACKWARD + extra, methods=("update_grad_input",))


def _params(points, names):
    return Part(mark("parameter gradients"), points, names + ("parameter gradients", "get_grad_params"),
                methods=("update_grad_params", "zero_grad_params"))


def _stable(points):
    return Part(mark("large inputs"), points, markers=LARGE)


def _softmax_like():
    return (_forward(0.75), _backward(0.75), _stable(0.5))


def _pointwise(stable):
    return (_forward(0.5), _backward(0.25), _stable(0.25)) if stable else (_forward(0.5), _backward(0.5))


def _criterion():
    return (Part(mark("loss"), 0.5, ("loss",), methods=("update_output",)),
            Part(mark("gradient"), 0.5, BACKWARD, methods=("update_grad_input",)))


PARTS = {
    "Linear": (_forward(0.5), _backward(0.5), _params(1.0, ("grad_W", "grad_b"))),
    "SoftMax": _softmax_like(),
    "LogSoftMax": _softmax_like(),
    "BatchNormalization": (_forward(1.0), _backward(1.0),
                           Part(mark("moving statistics"), 0.5, ("moving_",)),
                           Part(mark("evaluate mode"), 0.5, markers=("evaluate",))),
    "Scaling": (_forward(0.25), _backward(0.25), _params(0.5, ("grad_gamma", "grad_beta"))),
    # Sequential: the container's forward and backward (its parameter lists come from backward)
    "Sequential": (Part("forward", 1.0, FORWARD + ("evaluate()", "train()"), methods=("update_output",)),
                   _backward(1.0, ("grad_gamma", "grad_beta", "get_grad_params", "parameter gradients"))),
    "Dropout": (Part("forward", 1.0, FORWARD + ("number of dropped", "mask"), methods=("update_output",)),
                _backward(0.5),
                Part("evaluate mode", 0.5, markers=("evaluate", "(p = 0)"))),
    "ReLU": _pointwise(stable=False),
    "LeakyReLU": _pointwise(stable=False),
    "ELU": _pointwise(stable=True),
    "SoftPlus": _pointwise(stable=True),
    "NLLCriterionUnstable": _criterion(),
    "NLLCriterion": _criterion(),
    "sgd_momentum": (Part(mark("update"), 1.0, ("",)),),
    "adam_optimizer": (Part(mark("update"), 2.0, ("",)),),
    # the advanced track (optional; only in a release built with --track advanced)
    "Conv2d": (_forward(1.0), _backward(1.0), _params(1.0, ("grad_W", "grad_b"))),
    "MaxPool2d": (_forward(0.75), _backward(0.75)),
    "Flatten": (_forward(0.25), _backward(0.25)),
}
POINTS = {name: sum(p.points for p in parts) for name, parts in PARTS.items()}
# What else stands where a part's name does in a failure's "quantity" (runner, dashboard).
OTHER_LABELS = (mark("load"), mark("checks"))


def part_of(name: str, quantity: str) -> Part:
    """The part of class `name` that `quantity` decides (markers first, then prefixes)."""
    parts = PARTS[name]
    for part in parts:
        if any(m in quantity for m in part.markers):
            return part
    for part in parts:
        if any(quantity.startswith(p) for p in part.prefixes):
            return part
    raise KeyError(f"{name}: no part decides the quantity {quantity!r}")


def part_of_exception(name: str, quantity: str, method: str | None) -> Part:
    """The part an exception counts against: a stability check's own part, else the part of
    the student's method that raised, else the part of the step being run."""
    step = part_of(name, quantity)
    if step.markers:
        return step
    for part in PARTS[name]:
        if method in part.methods:
            return part
    return step


def part_label(name: str) -> str:
    """A part's name (or "load", "checks") as the student reads it, in the course language. The
    names themselves stay English: they are keys (ClassGrade.parts, the checker's JSON)."""
    return tr(name)


def describe_split(name: str) -> str:
    """ "forward 0.5, backward 0.5, parameter gradients 1" (in the course language) """
    return ", ".join(f"{part_label(p.name)} {p.points:g}" for p in PARTS[name])


ADVICE = (
    ("overflow encountered in exp", mark("`np.exp` overflows: in a branch that `np.where` discards the "
     "values stay right but the work is wasted, so compute it only where it is needed, e.g. "
     "`np.exp(np.minimum(x, 0))` or `np.expm1(np.minimum(x, 0))`; before a softmax, subtract the "
     "row maximum")),
    ("divide by zero encountered in log", mark("`np.log(0)`: clip the argument first, e.g. "
     "`np.log(np.clip(p, EPS, 1 - EPS))`, or work with log-probabilities (log-sum-exp)")),
    ("overflow", mark("a value overflowed: shift by the maximum (softmax) or clip before `np.exp` "
                      "or a product")),
    ("invalid value", mark("an operation produced NaN (inf - inf, 0 * inf, 0 / 0): look for "
                           "`np.exp` or `np.log` of extreme values")),
    ("divide by zero", mark("a division by zero: add the epsilon inside the square root / "
                            "denominator")),
)


def advice_for(warning: str) -> str:
    """Advice for a numeric warning the student's code raised."""
    for pattern, advice in ADVICE:
        if pattern in warning:
            return f"{tr(advice)} (numpy: {warning})"
    return tr("numpy warned: {warning}", warning=warning)
