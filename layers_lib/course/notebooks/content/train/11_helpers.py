import traceback
from functools import partial

from layers_lib.recipe import build_model, needed_classes, validate_recipe


# from train_cells: make_mlp, SGD_CONFIG, ADAM_CONFIG, fit, describe, compare, train_recipe
