"""Criteria against torch.nn.NLLLoss and optimizers against torch.optim, in float64."""
import numpy as np
import pytest
import torch

import layers_lib.reference as L
from helpers import assert_close
from layers_lib.grading import magnitude

DTYPES = [np.float32, np.float64]


def torch_nll(log_probs, labels):
    t_in = torch.tensor(np.asarray(log_probs, dtype=np.float64), requires_grad=True)
    loss = torch.nn.NLLLoss()(t_in, torch.from_numpy(labels).long())
    loss.backward()
    return loss.item(), t_in.grad.numpy()


def one_hot(labels, n, dtype):
    out = np.zeros((len(labels), n), dtype)
    out[np.arange(len(labels)), labels] = 1
    return out


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batch, n", [(1, 3), (2, 4), (17, 10)])
@pytest.mark.parametrize("as_labels", [False, True])
def test_nll_criterion_matches_torch(dtype, batch, n, as_labels):
    logits = np.random.uniform(-5, 5, (batch, n))
    log_probs = torch.log_softmax(torch.from_numpy(logits), dim=1).numpy().astype(dtype)
    labels = np.random.randint(n, size=batch)
    target = labels if as_labels else one_hot(labels, n, dtype)
    crit = L.NLLCriterion()
    loss = crit.forward(log_probs, target)
    grad = crit.backward(log_probs, target)
    t_loss, t_grad = torch_nll(log_probs, labels)
    scale = magnitude.nll(log_probs, one_hot(labels, n, np.float64))
    assert np.asarray(loss).dtype == dtype and grad.dtype == dtype
    assert_close(np.asarray(t_loss), np.asarray(loss), "NLLCriterion loss", dtype, scale["loss"])
    assert_close(t_grad, grad, "NLLCriterion grad_input", dtype, scale["grad_input"])
    assert crit.output == loss


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batch, n", [(1, 3), (2, 4), (17, 10)])
@pytest.mark.parametrize("as_labels", [False, True])
def test_nll_criterion_unstable_matches_torch(dtype, batch, n, as_labels):
    probs = np.random.uniform(0, 1, (batch, n))
    probs = (probs / probs.sum(1, keepdims=True)).astype(dtype)
    labels = np.random.randint(n, size=batch)
    target = labels if as_labels else one_hot(labels, n, dtype)
    crit = L.NLLCriterionUnstable()
    loss = crit.forward(probs, target)
    grad = crit.backward(probs, target)
    t_in = torch.tensor(probs.astype(np.float64), requires_grad=True)
    t_loss = torch.nn.NLLLoss()(torch.log(t_in), torch.from_numpy(labels).long())
    t_loss.backward()
    scale = magnitude.nll(probs, one_hot(labels, n, np.float64), L.NLLCriterionUnstable.EPS)
    assert_close(np.asarray(t_loss.item()), np.asarray(loss), "loss", dtype, scale["loss"])
    assert_close(t_in.grad.numpy(), grad, "grad_input", dtype, scale["grad_input"])


@pytest.mark.parametrize("dtype", DTYPES)
def test_criteria_stay_finite_on_extreme_inputs(dtype):
    """Logits of +-1e4 through LogSoftMax + NLLCriterion; probabilities of exactly 0 and 1."""
    logits = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 5e3]], dtype=dtype)
    labels = np.array([1, 0])
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        log_probs = L.LogSoftMax().forward(logits)
        crit = L.NLLCriterion()
        loss, grad = crit.forward(log_probs, labels), crit.backward(log_probs, labels)
        probs = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], dtype=dtype)
        unstable = L.NLLCriterionUnstable()
        prob_labels = np.array([1, 1])   # sample 0 has p = 0 for its class, sample 1 has p = 1
        u_loss, u_grad = unstable.forward(probs, prob_labels), unstable.backward(probs, prob_labels)
    t_loss, t_grad = torch_nll(log_probs, labels)
    assert_close(np.asarray(t_loss), np.asarray(loss), "loss", dtype)
    assert_close(t_grad, grad, "grad_input", dtype)
    assert np.isfinite(u_loss) and np.isfinite(u_grad).all()
    # The clip caps the loss at -log(EPS) per sample; averaged over the batch of 2.
    assert_close(np.asarray(-np.log(1e-15) / 2 - np.log(1 - 1e-15) / 2), np.asarray(u_loss), "loss", dtype)


def test_criterion_rejects_bad_targets():
    crit = L.NLLCriterion()
    x = np.zeros((3, 4))
    with pytest.raises(ValueError, match="target shape"):
        crit.forward(x, np.zeros((3, 5)))
    with pytest.raises(ValueError, match="labels"):
        crit.forward(x, np.array([0, 1]))
    with pytest.raises(ValueError, match=r"\[0, 4\)"):
        crit.forward(x, np.array([0, 1, 4]))


def make_model(dtype, seed):
    np.random.seed(seed)
    model = L.Sequential()
    model.add(L.Linear(6, 5, dtype=dtype))
    model.add(L.ReLU())
    inner = L.Sequential()
    inner.add(L.Linear(5, 4, dtype=dtype))
    inner.add(L.Scaling(4, dtype=dtype))
    model.add(inner)
    return model


def torch_params(model):
    return [torch.tensor(p.astype(np.float64), requires_grad=True) for p, _ in
            L.iterate_params(model.get_params(), model.get_grad_params())]


@pytest.mark.parametrize("name", ["sgd", "adam"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_optimizers_match_torch_step_for_step(name, dtype):
    model = make_model(dtype, 3)
    params = torch_params(model)
    if name == "sgd":
        config, optimizer = {"learning_rate": 0.05, "momentum": 0.9}, L.sgd_momentum
        torch_opt = torch.optim.SGD(params, lr=0.05, momentum=0.9)
    else:
        config = {"learning_rate": 0.01, "beta1": 0.8, "beta2": 0.95, "epsilon": 1e-7}
        optimizer = L.adam_optimizer
        torch_opt = torch.optim.Adam(params, lr=0.01, betas=(0.8, 0.95), eps=1e-7)
    state = {}
    for step in range(6):
        grads = [np.random.uniform(-1, 1, p.shape).astype(dtype) for p in params]
        # Give the model these gradients through its own get_grad_params lists.
        flat_grads = [g for g in L.iterate_params(model.get_grad_params(), model.get_grad_params())]
        for (target, _), g in zip(flat_grads, grads):
            target[...] = g
        for p, g in zip(params, grads):
            p.grad = torch.from_numpy(g.astype(np.float64))
        live = [p for p, _ in L.iterate_params(model.get_params(), model.get_grad_params())]
        optimizer(model.get_params(), model.get_grad_params(), config, state)
        torch_opt.step()
        after = [p for p, _ in L.iterate_params(model.get_params(), model.get_grad_params())]
        assert all(a is b for a, b in zip(live, after)), "parameters must be updated in place"
        for k, (ours, theirs) in enumerate(zip(after, params)):
            assert ours.dtype == dtype
            assert_close(theirs.detach().numpy(), ours, f"{name} step {step} parameter {k}", dtype)
