"""What the hidden checks of both tracks share (instructor only): dtypes, data, one run of a layer."""
import numpy as np

from layers_lib.grading.testkit import custom_forward_backward, run_step
from layers_lib.i18n import setting

DTYPES = (np.float32, np.float64)
ZEROED = setting(" after zero_grad_params")      # get_grad_params()[k] after zero_grad_params


def random_data(shape, dtype, low=-10, high=10):
    """Uniform values in [low, high) of `shape`, cast to `dtype`."""
    return np.random.uniform(low, high, shape).astype(dtype)


def run_layer(layer, x, g, params=False, where=""):
    """(output, grad_input) of one forward and backward of `layer`; with `params`,
    update_grad_params runs a second time (it must set the gradients, not add to them).
    `where` names the setting in the quantities, so an exception fails the right part."""
    run = custom_forward_backward(x, g, layer, return_params_grad=params, where=where)
    if params:
        run_step("parameter gradients" + where, layer.update_grad_params, x, g)
    return run.output, run.grad_input
