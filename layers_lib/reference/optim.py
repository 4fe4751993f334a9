"""Optimizers with the task8 signature `opt(variables, gradients, config, state)`.

`variables = model.get_params()` and `gradients = model.get_grad_params()` are lists of
lists (one list per module; nested Sequentials nest further). Each parameter is updated
in place; `state` is a dict the optimizer keeps its buffers in between calls, keyed by
the parameter's position. Both match torch.optim step for step.
"""
import numpy as np


def iterate_params(variables, gradients):
    """Yield (parameter, gradient) pairs from the nested lists of `get_params`/`get_grad_params`."""
    for variable, gradient in zip(variables, gradients):
        if isinstance(variable, (list, tuple)):
            yield from iterate_params(variable, gradient)
        else:
            yield variable, gradient


def sgd_momentum(variables, gradients, config, state):
    """SGD with momentum, as torch.optim.SGD(lr, momentum):

        v <- momentum * v + g        (v starts at 0, so the first v is g)
        w <- w - learning_rate * v

    config: {'learning_rate': float, 'momentum': float}; state['velocity'][k] holds v.
    """
    velocities = state.setdefault('velocity', {})
    for k, (variable, gradient) in enumerate(iterate_params(variables, gradients)):
        velocity = velocities.get(k)
        if velocity is None:
            velocity = velocities[k] = np.zeros_like(variable)
        velocity *= config['momentum']
        velocity += gradient
        variable -= config['learning_rate'] * velocity


def adam_optimizer(variables, gradients, config, state):
    """Adam, as torch.optim.Adam(lr, betas=(beta1, beta2), eps=epsilon):

        t <- t + 1
        m <- beta1 * m + (1 - beta1) * g
        v <- beta2 * v + (1 - beta2) * g^2
        w <- w - learning_rate * (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + epsilon)

    config: {'learning_rate', 'beta1', 'beta2', 'epsilon'}; state holds 'm', 'v' (dicts of
    arrays keyed by parameter position) and the step count 't'.
    """
    lr, beta1, beta2, eps = (config['learning_rate'], config['beta1'], config['beta2'],
                             config['epsilon'])
    first, second = state.setdefault('m', {}), state.setdefault('v', {})
    state['t'] = t = state.get('t', 0) + 1
    correction1, correction2 = 1 - beta1 ** t, 1 - beta2 ** t
    for k, (variable, gradient) in enumerate(iterate_params(variables, gradients)):
        m = first.get(k)
        if m is None:
            m = first[k] = np.zeros_like(variable)
            second[k] = np.zeros_like(variable)
        v = second[k]
        m *= beta1
        m += (1 - beta1) * gradient
        v *= beta2
        v += (1 - beta2) * gradient * gradient
        denominator = np.sqrt(v / correction2) + eps
        variable -= (lr / correction1) * m / denominator
