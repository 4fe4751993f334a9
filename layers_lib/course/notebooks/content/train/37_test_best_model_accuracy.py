# Test (3 points): best_model reaches ACCURACY_THRESHOLD on the digits test split.
import warnings

from layers_lib.data import load_digits_split

# from train_cells: ACCURACY_THRESHOLD, all_modules, check_own_classes, check_test_accuracy


assert "best_model" in globals(), (
    "best_model is not defined: run the cell above that builds and trains it")
check_own_classes(best_model)
_accuracy = check_test_accuracy(best_model, ACCURACY_THRESHOLD)
