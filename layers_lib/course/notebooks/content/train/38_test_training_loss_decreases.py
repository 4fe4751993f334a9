%% en
# Test (1 point): the training loss of best_model went down.
%% ru
# Тест (1 балл): функция потерь best_model на обучении уменьшилась.
%% *
# from train_cells: LOSS_RATIO, check_loss_decreased


%% en
assert "best_history" in globals(), (
    "best_history is not defined: keep the History that train(...) returns, "
    "best_history = train(best_model, ...)")
%% ru
assert "best_history" in globals(), (
    "best_history не определена: сохраните History, которую возвращает train(...), "
    "best_history = train(best_model, ...)")
%% *
_ratio = check_loss_decreased(best_history, LOSS_RATIO)
