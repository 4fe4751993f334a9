"""Not a cheat, a classic bug: the optimizer rebinds the list items instead of updating the
arrays in place. Through the worker the caller's arrays must stay unchanged, as they would in
one process, so the check still fails."""


def sgd_momentum(variables, gradients, config, state):
    velocities = state.setdefault("velocity", {})
    k = 0
    for group, grads in zip(variables, gradients):
        for i, (variable, gradient) in enumerate(zip(group, grads)):
            v = velocities.get(k, 0) * config["momentum"] + gradient
            velocities[k] = v
            group[i] = variable - config["learning_rate"] * v     # a new array, not in place
            k += 1
