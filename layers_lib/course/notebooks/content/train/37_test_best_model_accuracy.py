%% en
# Test (3 points): best_model reaches ACCURACY_THRESHOLD on the digits test split.
%% ru
# Тест (3 балла): best_model достигает ACCURACY_THRESHOLD на тестовой выборке digits.
%% *
import warnings

from layers_lib.data import load_digits_split

# from train_cells: ACCURACY_THRESHOLD, all_modules, check_own_classes, check_test_accuracy


%% en
assert "best_model" in globals(), (
    "best_model is not defined: run the cell above that builds and trains it")
%% ru
assert "best_model" in globals(), (
    "best_model не определена: выполните ячейку выше, которая её собирает и обучает")
%% *
check_own_classes(best_model)
_accuracy = check_test_accuracy(best_model, ACCURACY_THRESHOLD)
