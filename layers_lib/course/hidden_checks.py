"""Hidden checks (instructor only): stricter than the visible tests, a list of scenarios per class.

Each scenario exercises the student's class in one setting (dtype, shapes, value range, mode)
and compares every quantity with a float64 reference (PyTorch where one exists, the formula
otherwise) through the comparison engine. No reference solution is involved: where a check
needs modules around the class under test it uses `layers_lib.grading.fixtures`.

Graded cells of `[2]` call `assert_class_passes` between `### BEGIN/END HIDDEN TESTS`, so the
release never names this module; the instructor's checker (`python -m layers_lib.course check`)
runs the visible tests and these.
"""
import numpy as np

from layers_lib.grading import magnitude
from layers_lib.grading.fixtures import Roll, Sine
from layers_lib.grading.grade import ClassGrade
from layers_lib.grading.parts import part_label
from layers_lib.grading.runner import as_namespace, missing_names, run_class_checks, run_scenarios
from layers_lib.grading.testkit import (binomial_interval, display_html_report,
                                        run_step, torch_forward_backward)
from layers_lib.grading.visible_tests import ADVANCED_NAMES, GRADED_NAMES, graded_names
from layers_lib.i18n import mark, setting, tr

from .hidden_checks_advanced import ADVANCED_HIDDEN_CHECKS
from .hidden_common import DTYPES, ZEROED, random_data as _data, run_layer as _run_layer
from .i18n_ru import CATALOG as _RUSSIAN  # noqa: F401 - registers the Russian texts

SHAPES = ((1, 5), (3, 7), (16, 4))          # batch 1, non-square
HIDDEN_LABEL = mark("hidden checks")        # "... was not checked by the hidden checks: ..."


# --- per-class checks: each takes (cls, check, namespace) -----------------------------------

def _elementwise_checks(name, make, make_torch, alpha=1.0):
    def scenario(cls, check, ns):
        import torch
        for dtype in DTYPES:
            for shape in SHAPES:
                for low, high in ((-10, 10), (-1e4, 1e4)):
                    x, g = _data(shape, dtype, low, high), _data(shape, dtype, -1, 1)
                    if name != "SoftPlus":
                        x.flat[::3] = 0                           # exact zeros: the kink
                    where = setting(" ({dtype}, shape {shape}, |x| <= {bound})", dtype=np.dtype(dtype).name,
                                    shape=shape, bound=f"{high:g}")
                    out, grad = _run_layer(make(cls), x, g, where=where)
                    ref = torch_forward_backward(x, g, make_torch(torch))
                    scale = magnitude.elementwise(x, g, ref.output, ref.grad_input, alpha)
                    check(ref.output, out, "output" + where, scale["output"], dtype)
                    check(ref.grad_input, grad, "grad_input" + where, scale["grad_input"], dtype)
    return [scenario]


def _softmax_checks(torch_name, bound):
    def scenario(cls, check, ns):
        import torch
        for dtype in DTYPES:
            for shape in SHAPES:
                small_ok = None
                for low, high in ((-10, 10), (-1e4, 1e4)):
                    x, g = _data(shape, dtype, low, high), _data(shape, dtype, -1, 1)
                    where = setting(" ({dtype}, shape {shape}, |x| <= {bound})", dtype=np.dtype(dtype).name,
                                    shape=shape, bound=f"{high:g}")
                    out, grad = _run_layer(cls(), x, g, where=where)
                    ref = torch_forward_backward(x, g, getattr(torch.nn, torch_name)(dim=1))
                    scale = getattr(magnitude, bound)(x, g)
                    axis0 = getattr(torch.nn, torch_name)(dim=0).double()(torch.from_numpy(
                        x.astype(np.float64))).detach().numpy()
                    check(ref.output, out, "output" + where, scale["output"], dtype,
                          small_input_ok=small_ok,
                          hypotheses={tr("computed over axis 0 (the batch) instead of axis 1"): axis0})
                    check(ref.grad_input, grad, "grad_input" + where, scale["grad_input"], dtype,
                          small_input_ok=small_ok)
                    small_ok = True
    return [scenario]


def _linear(cls, check, ns):
    import torch
    for dtype in DTYPES:
        # (6, 6): a square W, where grad_output @ W (instead of W.T) has the right shape
        for batch, n_in, n_out in ((1, 3, 4), (5, 7, 2), (16, 32, 8), (4, 6, 6)):
            torch_layer = torch.nn.Linear(n_in, n_out)
            layer = cls(n_in, n_out)
            layer.W = torch_layer.weight.detach().numpy().T.astype(dtype)
            layer.b = torch_layer.bias.detach().numpy().astype(dtype)
            x, g = _data((batch, n_in), dtype), _data((batch, n_out), dtype)
            where = setting(" ({dtype}, batch {batch}, {n_in}->{n_out})", dtype=np.dtype(dtype).name,
                            batch=batch, n_in=n_in, n_out=n_out)
            out, grad = _run_layer(layer, x, g, params=True, where=where)
            ref = torch_forward_backward(x, g, torch_layer)
            scale = magnitude.linear(x, g, layer.W, layer.b)
            check(ref.output, out, "output" + where, scale["output"], dtype)
            check(ref.grad_input, grad, "grad_input" + where, scale["grad_input"], dtype)
            grads = layer.get_grad_params()
            check(ref.layer.weight.grad.numpy().T, grads[0], "grad_W" + where, scale["grad_W"], dtype,
                  batch_size=batch)
            check(ref.layer.bias.grad.numpy(), grads[1], "grad_b" + where, scale["grad_b"], dtype,
                  batch_size=batch, hypotheses={tr("averaged over the batch instead of summed"):
                                                ref.layer.bias.grad.numpy() / batch})
            layer.zero_grad_params()
            for k, zero in enumerate(layer.get_grad_params()):
                check(np.zeros(np.shape(zero)), zero, f"get_grad_params()[{k}]" + ZEROED)


def _batchnorm(cls, check, ns):
    import torch
    eps = cls.EPS
    for dtype in DTYPES:
        for batch, n in ((2, 3), (32, 16)):
            alpha = 0.8
            layer = cls(alpha)
            layer.moving_mean = np.zeros(n, dtype)
            layer.moving_variance = np.ones(n, dtype)
            torch_bn = torch.nn.BatchNorm1d(n, eps=eps, momentum=1 - alpha, affine=False)
            mean, var = np.zeros(n), np.ones(n)
            for step in range(3):
                x, g = _data((batch, n), dtype, -5, 5) + 3 * step, _data((batch, n), dtype)
                where = setting(" ({dtype}, batch {batch}, training step {step})",
                                dtype=np.dtype(dtype).name, batch=batch, step=step + 1)
                out, grad = _run_layer(layer, x, g, where=where)
                ref = torch_forward_backward(x, g, torch_bn)
                scale = magnitude.batch_norm_train(x, g, alpha, eps, mean, var)
                batch_mean, batch_var = x.astype(np.float64).mean(axis=0), x.astype(np.float64).var(axis=0)
                unbiased = alpha * var + (1 - alpha) * batch_var * batch / (batch - 1)
                swapped = (1 - alpha) * mean + alpha * batch_mean
                mean = alpha * mean + (1 - alpha) * batch_mean
                var = alpha * var + (1 - alpha) * batch_var
                check(ref.output, out, "output" + where, scale["output"], dtype)
                check(ref.grad_input, grad, "grad_input" + where, scale["grad_input"], dtype)
                check(mean, layer.moving_mean, "moving_mean" + where, scale["moving_mean"],
                      hypotheses={tr("alpha and 1 - alpha swapped (alpha weighs the OLD value)"): swapped})
                check(var, layer.moving_variance, "moving_variance" + where, scale["moving_variance"],
                      hypotheses={tr("uses the unbiased batch variance instead of the biased one"): unbiased})
            layer.evaluate()
            x, g = _data((batch, n), dtype), _data((batch, n), dtype)
            where = setting(" ({dtype}, evaluate mode)", dtype=np.dtype(dtype).name)
            out, grad = _run_layer(layer, x, g, where=where)
            expected = (x - mean) / np.sqrt(var + eps)
            scale = magnitude.batch_norm_evaluate(x, g, eps, mean, var)
            batch_stats = (x - x.astype(np.float64).mean(0)) / np.sqrt(x.astype(np.float64).var(0) + eps)
            check(expected, out, "output" + where, scale["output"], dtype,
                  hypotheses={tr("evaluate mode uses the batch statistics instead of the moving ones"):
                              batch_stats})
            check(g / np.sqrt(var + eps), grad, "grad_input" + where, scale["grad_input"], dtype)
    for dtype in DTYPES:                        # last: a failure here ends the scenario
        _fresh_batchnorm(cls, check, dtype, 0.8)


def _fresh_batchnorm(cls, check, dtype, alpha):
    """A fresh layer (moving statistics None, as __init__ leaves them) on its first training
    batch: they start at 0 and 1 ([1] says so), e.g. not at the first batch's statistics."""
    n = 5
    x = _data((8, n), dtype, -5, 5) + 2
    where = setting(" ({dtype}, a fresh layer: they start at 0 and 1)", dtype=np.dtype(dtype).name)
    try:
        layer = cls(alpha)
        layer.forward(x)
    except Exception as exc:                    # noqa: BLE001 - student code may raise anything
        from layers_lib.grading.isolation.errors import CallFailed
        if isinstance(exc, CallFailed):         # a hang or a crash: stop the checks
            check.grade.step_raised("moving_mean" + where, exc)
        check.fail("moving_mean" + where, tr("forward raised {error}: {message} on the first batch "
                                             "of a fresh layer (moving_mean is None): start the "
                                             "moving statistics at 0 and 1",
                                             error=type(exc).__name__, message=exc))
    x64 = x.astype(np.float64)
    mean, var = (1 - alpha) * x64.mean(axis=0), alpha + (1 - alpha) * x64.var(axis=0)
    scale = magnitude.batch_norm_train(x, x, alpha, cls.EPS, np.zeros(n), np.ones(n))
    for quantity, expected, first, start in (("moving_mean", mean, x64.mean(axis=0), 0),
                                             ("moving_variance", var, x64.var(axis=0), 1)):
        got = getattr(layer, quantity)
        # np.zeros(n) is float64: judged at the precision of the data (float32 at best), not
        # failed for a dtype the visible tests never fix either
        if type(got) is np.ndarray and got.dtype.kind == "f" and got.dtype.itemsize > x.dtype.itemsize:
            got = got.astype(x.dtype)
        check(expected, got, quantity + where, scale[quantity],
              hypotheses={tr("started at the first batch's statistic instead of {start}", start=start): first})


def _scaling(cls, check, ns):
    for dtype in DTYPES:
        for batch, n in ((1, 4), (9, 6)):
            layer = cls(n)
            layer.gamma, layer.beta = _data(n, dtype, -2, 2), _data(n, dtype, -2, 2)
            x, g = _data((batch, n), dtype), _data((batch, n), dtype)
            where = setting(" ({dtype}, batch {batch})", dtype=np.dtype(dtype).name, batch=batch)
            out, grad = _run_layer(layer, x, g, params=True, where=where)
            x64, g64 = x.astype(np.float64), g.astype(np.float64)
            scale = magnitude.scaling(x, g, layer.gamma, layer.beta)
            check(x64 * layer.gamma + layer.beta, out, "output" + where, scale["output"], dtype)
            check(g64 * layer.gamma, grad, "grad_input" + where, scale["grad_input"], dtype)
            grads = layer.get_grad_params()
            check((g64 * x64).sum(0), grads[0], "grad_gamma" + where, scale["grad_gamma"], dtype)
            check(g64.sum(0), grads[1], "grad_beta" + where, scale["grad_beta"], dtype)


def _sequential(cls, check, ns):
    """Ungraded fixture modules (two parameterised, two mixing features) in the student's
    Sequential, against the same chain in PyTorch."""
    import torch
    n = 6
    for dtype in DTYPES:
        fixtures = [Sine(_data(n, dtype, 0.5, 1.5)), Roll(1), Sine(_data(n, dtype, -1.5, -0.5)), Roll(2)]
        model = cls()
        for module in fixtures:
            model.add(module)
        x, g = _data((4, n), dtype, -2, 2), _data((4, n), dtype)
        where = f" ({np.dtype(dtype).name}, Sine-Roll-Sine-Roll)"
        out, grad = _run_layer(model, x, g, params=True, where=where)
        twin = torch.nn.Sequential(*[m.torch_twin() for m in fixtures])
        ref = torch_forward_backward(x, g, twin)
        check(ref.output, out, "output" + where, None, dtype)
        check(ref.grad_input, grad, "grad_input" + where, None, dtype)
        params = model.get_grad_params()
        if len(params) != len(fixtures):
            check.fail("get_grad_params()", tr("{lists} lists for {modules} modules (expected one list "
                                               "per module, [] for no parameters)",
                                               lists=len(params), modules=len(fixtures)))
        for k in (0, 2):
            check(ref.layer[k].params[0].grad.numpy(), params[k][0], f"get_grad_params()[{k}][0]" + where,
                  None, dtype)
        if len(params[1]) or len(params[3]):
            check.fail("get_grad_params()", tr("a module without parameters must give an empty list"))
        model.evaluate()
        for k, module in enumerate(model.modules):
            if module.training:
                check.fail("evaluate()", tr("modules[{k}].training is still True after evaluate()", k=k))
        model.train()
        for k, module in enumerate(model.modules):
            if not module.training:
                check.fail("train()", tr("modules[{k}].training is still False after train()", k=k))


def _dropout(cls, check, ns):
    for dtype in DTYPES:
        for p in (0.2, 0.5, 0.9):
            layer = cls(p)
            layer.train()
            x = _data((200, 50), dtype, 1, 2)
            where = f" ({np.dtype(dtype).name}, p = {p})"
            out = run_step("output" + where, layer.forward, x)
            kept = np.asarray(out) != 0 if type(out) is np.ndarray else np.ones(x.shape, bool)
            check(np.where(kept, x / (1 - p), 0), out, "output" + where, None, dtype,
                  hypotheses={tr("kept values are not rescaled by 1/(1-p)"): np.where(kept, x, 0),
                              tr("kept values scaled by 1/p: p is the DROP probability"):
                                  np.where(kept, x / p, 0)})
            low, high = binomial_interval(1 - 1e-6, x.size, p)
            dropped = int((~kept).sum())
            check.condition("number of dropped elements" + where, low <= dropped <= high,
                            tr("dropped {dropped} of {total}, expected {low:.0f}..{high:.0f}",
                               dropped=dropped, total=x.size, low=low, high=high))
            rows, cols = kept.all(axis=1) | (~kept).all(axis=1), kept.all(axis=0) | (~kept).all(axis=0)
            if p == 0.5:
                check.condition(setting("mask") + where, not (rows.all() or cols.all()),
                                tr("whole rows or columns share one value: draw the mask "
                                   "independently for every element"))
            g = _data(x.shape, dtype, 1, 2)
            same_mask = "grad_input" + setting(" (the forward mask)") + where
            grad = run_step(same_mask, layer.backward, x, g)
            check(np.where(kept, g / (1 - p), 0), grad, same_mask, None, dtype)
            layer.evaluate()
            evaluate = setting(" in evaluate mode") + where
            check(x, run_step("output" + evaluate, layer.forward, x), "output" + evaluate, None, dtype)
            check(g, run_step("grad_input" + evaluate, layer.backward, x, g), "grad_input" + evaluate,
                  None, dtype)


def _nll(unstable):
    def scenario(cls, check, ns):
        import torch
        for dtype in DTYPES:
            for batch, n in ((1, 3), (7, 10)):
                logits = np.random.uniform(-20, 20, (batch, n))
                labels = np.random.randint(n, size=batch)
                target = np.zeros((batch, n), dtype)
                target[np.arange(batch), labels] = 1
                log_p = torch.log_softmax(torch.from_numpy(logits), 1).numpy()
                x = (np.exp(log_p) if unstable else log_p).astype(dtype)
                if unstable:
                    x = x.clip(cls.EPS, 1 - cls.EPS)
                crit = cls()
                where = setting(" ({dtype}, batch {batch})", dtype=np.dtype(dtype).name, batch=batch)
                loss = run_step("loss" + where, crit.forward, x, target)
                grad = run_step("grad_input" + where, crit.backward, x, target)
                tx = torch.tensor(x.astype(np.float64), requires_grad=True)
                t_loss = torch.nn.NLLLoss()(torch.log(tx) if unstable else tx, torch.from_numpy(labels))
                t_loss.backward()
                scale = magnitude.nll(x, target, cls.EPS if unstable else None)
                check(t_loss.item(), loss, "loss" + where, scale["loss"],
                      hypotheses={tr("the loss is summed over the batch, not averaged"): t_loss.item() * batch})
                check(tx.grad.numpy(), grad, "grad_input" + where, scale["grad_input"], dtype,
                      batch_size=batch)
            if unstable:
                _probabilities_zero_and_one(cls, check, dtype)
    return [scenario]


def _probabilities_zero_and_one(cls, check, dtype):
    """Probabilities of exactly 0 and 1, the target on a 0: only the clip keeps loss and
    gradient finite (-log(EPS) and -1/EPS per sample). The formula is the reference here:
    PyTorch's clamp has a zero gradient outside the range, the task's clipped formula does not."""
    x = np.array([[1, 0, 0], [0, 1, 0], [0.5, 0.5, 0], [0.2, 0.3, 0.5]], dtype)
    labels = np.array([1, 1, 2, 0])
    target = np.eye(3, dtype=dtype)[labels]
    where = setting(" ({dtype}, probabilities of exactly 0 and 1)", dtype=np.dtype(dtype).name)
    loss = run_step("loss" + where, cls().forward, x, target)
    grad = run_step("grad_input" + where, cls().backward, x, target)
    clipped = np.clip(x.astype(np.float64), cls.EPS, 1 - cls.EPS)
    scale = magnitude.nll(x, target, cls.EPS)
    check(-(target * np.log(clipped)).sum() / len(x), loss, "loss" + where, scale["loss"],
          hypotheses={tr("no clipping: log(0)"): np.inf})
    check(-target / clipped / len(x), grad, "grad_input" + where, scale["grad_input"], dtype)


def _optimizer(name):
    def scenario(cls, check, ns):
        import torch
        for dtype in DTYPES:
            shapes = [(3, 4), (4,), (2, 2)]
            ours = [[_data(shapes[0], dtype, -1, 1), _data(shapes[1], dtype, -1, 1)], [],
                    [_data(shapes[2], dtype, -1, 1)]]
            flat = [p for group in ours for p in group]
            theirs = [torch.tensor(p.astype(np.float64), requires_grad=True) for p in flat]
            if name == "sgd_momentum":
                config = {"learning_rate": 0.1, "momentum": 0.9}
                torch_opt = torch.optim.SGD(theirs, lr=0.1, momentum=0.9)
            else:
                config = {"learning_rate": 0.05, "beta1": 0.8, "beta2": 0.9, "epsilon": 1e-6}
                torch_opt = torch.optim.Adam(theirs, lr=0.05, betas=(0.8, 0.9), eps=1e-6)
            state = {}
            for step in range(5):
                grads = [[_data(p.shape, dtype, -1, 1) for p in group] for group in ours]
                for t, gr in zip(theirs, [g for group in grads for g in group]):
                    t.grad = torch.from_numpy(gr.astype(np.float64))
                run_step("update" + setting(" (step {step})", step=step + 1), cls, ours, grads, config, state)
                torch_opt.step()
                for k, (p, t) in enumerate(zip(flat, theirs)):
                    check(t.detach().numpy(), p, setting("parameter {k} after step {step} ({dtype}; updated "
                                                         "in place?)", k=k, step=step + 1,
                                                         dtype=np.dtype(dtype).name), None, dtype)
    return [scenario]


HIDDEN_CHECKS = {
    "Linear": [_linear],
    "SoftMax": _softmax_checks("Softmax", "softmax"),
    "LogSoftMax": _softmax_checks("LogSoftmax", "log_softmax"),
    "BatchNormalization": [_batchnorm],
    "Scaling": [_scaling],
    "Sequential": [_sequential],
    "Dropout": [_dropout],
    "ReLU": _elementwise_checks("ReLU", lambda c: c(), lambda t: t.nn.ReLU()),
    "LeakyReLU": _elementwise_checks("LeakyReLU", lambda c: c(0.05), lambda t: t.nn.LeakyReLU(0.05)),
    "ELU": _elementwise_checks("ELU", lambda c: c(0.7), lambda t: t.nn.ELU(0.7), alpha=0.7),
    "SoftPlus": _elementwise_checks("SoftPlus", lambda c: c(), lambda t: t.nn.Softplus()),
    "NLLCriterionUnstable": _nll(unstable=True),
    "NLLCriterion": _nll(unstable=False),
    "sgd_momentum": _optimizer("sgd_momentum"),
    "adam_optimizer": _optimizer("adam_optimizer"),
}
HIDDEN_CHECKS.update(ADVANCED_HIDDEN_CHECKS)
assert tuple(HIDDEN_CHECKS) == GRADED_NAMES + ADVANCED_NAMES, "every graded name has hidden checks, in order"


def run_hidden_checks(name, loaded, include_visible=False, seed=0):
    """ClassResult of the hidden checks of `name` (and the visible test with `include_visible`)."""
    return run_class_checks(name, as_namespace(loaded), include_visible=include_visible, seed=seed,
                            extra_scenarios=[(HIDDEN_LABEL, s) for s in HIDDEN_CHECKS[name]])


def check_submission(loaded, names=None):
    """{name: ClassResult} of the visible tests and the hidden checks of every graded name (the
    advanced track's too when the submission defines any of them)."""
    namespace = as_namespace(loaded)
    return {name: run_hidden_checks(name, namespace, include_visible=True)
            for name in names or graded_names(namespace)}


# Points off a class whose code raised a numeric warning (values decide: 0 by default; the
# warning is shown as advice either way). The one place an instructor sets it.
WARNING_DEDUCTION = 0.0


def check_hidden(grade: ClassGrade, loaded) -> ClassGrade:
    """For a graded cell: run the hidden checks of `grade.name` into the cell's grade."""
    namespace = as_namespace(loaded)
    if missing_names(grade.name, namespace):
        return grade
    return run_scenarios(grade, namespace, [(HIDDEN_LABEL, s) for s in HIDDEN_CHECKS[grade.name]])


def assert_class_passes(name, loaded):
    """For a graded cell: raise AssertionError with every failure's message.

    A passing class prints nothing. A failing one first displays the static HTML report
    (heatmaps of expected, got and difference), which nbgrader's feedback and nbconvert keep,
    where widgets cannot render.
    """
    result = run_hidden_checks(name, loaded)
    if not result.passed:
        display_html_report(result.comparisons)
        raise AssertionError("\n".join(f"[{part_label(f['quantity'])}] {f['message']}"
                                       for f in result.failures))
