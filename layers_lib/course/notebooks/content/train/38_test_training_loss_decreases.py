# Test (1 point): the training loss of best_model went down.
# from train_cells: LOSS_RATIO, check_loss_decreased


assert "best_history" in globals(), (
    "best_history is not defined: keep the History that train(...) returns, "
    "best_history = train(best_model, ...)")
_ratio = check_loss_decreased(best_history, LOSS_RATIO)
