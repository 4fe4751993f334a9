# Test (1 point): the training loss of best_model went down.
LOSS_RATIO = 0.5

assert "best_history" in globals(), (
    "best_history is not defined: keep the History that train(...) returns, "
    "best_history = train(best_model, ...)")
_losses = np.asarray(getattr(best_history, "train_loss", []), dtype=np.float64)
assert _losses.ndim == 1 and _losses.size >= 2, (
    f"best_history has {_losses.size} epoch(s) of training loss: train for at least 2 epochs "
    "and keep the History that train(...) returns")
assert np.all(np.isfinite(_losses)), f"the training loss is not finite: {_losses.tolist()}"
with np.errstate(all="ignore"):  # a zero first loss must not print a warning to stderr
    _ratio = _losses[-1] / _losses[0]
print(f"mean training loss: first epoch {_losses[0]:.4f}, last epoch {_losses[-1]:.4f} "
      f"(ratio {_ratio:.3f}, must be at most {LOSS_RATIO})")
assert _losses[-1] <= LOSS_RATIO * _losses[0], (
    f"the training loss fell only from {_losses[0]:.4f} to {_losses[-1]:.4f}: it must at "
    "least halve. Check the learning rate, the number of epochs and the gradients (tests in [2])")
