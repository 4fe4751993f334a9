import os
import random
from pathlib import Path

import numpy as np

from layers_lib.data import load_digits_split, make_spirals, one_hot
from layers_lib.grading.loader import SubmissionError, load_submission
from layers_lib.plots import (NotebookFigure, plot_confusion_matrix, plot_decision_boundary,
                              plot_history, plot_misclassified)
from layers_lib.training import accuracy, confusion_matrix, evaluate, predict, train

%% en
try:  # our matrices are tiny: extra BLAS threads only cost time (a lot on a busy server)
%% ru
try:  # матрицы у нас крошечные: лишние потоки BLAS только отнимают время (особенно на загруженном сервере)
%% *
    from threadpoolctl import threadpool_limits
    threadpool_limits(limits=1, user_api="blas")
except ImportError:
    pass

# from train_cells: MODULES_NOTEBOOK, NEEDED


# from train_cells: MissingName, find_modules_notebook, load_classes, print_loaded


classes, reasons = load_classes(find_modules_notebook())
%% en
globals().update(classes)  # bind Sequential, Linear, ... as names of this notebook
%% ru
globals().update(classes)  # Sequential, Linear, ... становятся именами этого ноутбука
%% *
print_loaded(reasons)

np.random.seed(0)
random.seed(0)
