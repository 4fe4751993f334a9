optimizer_runs = {
%% en
    "SGD, momentum 0": (partial(make_mlp, ReLU, hidden=(64, 64)), sgd_momentum,
                        {"learning_rate": 1e-2, "momentum": 0.0}),
    "SGD, momentum 0.9": (partial(make_mlp, ReLU, hidden=(64, 64)), sgd_momentum, SGD_CONFIG),
%% ru
    "SGD, импульс 0": (partial(make_mlp, ReLU, hidden=(64, 64)), sgd_momentum,
                       {"learning_rate": 1e-2, "momentum": 0.0}),
    "SGD, импульс 0.9": (partial(make_mlp, ReLU, hidden=(64, 64)), sgd_momentum, SGD_CONFIG),
%% *
    "Adam": (partial(make_mlp, ReLU, hidden=(64, 64)), adam_optimizer, ADAM_CONFIG),
}
optimizer_histories, optimizer_models = compare(optimizer_runs, epochs=15)
plot_history(optimizer_histories)
