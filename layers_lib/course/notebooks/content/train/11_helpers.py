import traceback
from functools import partial


# from train_cells: make_mlp, SGD_CONFIG, ADAM_CONFIG, fit, describe, compare
