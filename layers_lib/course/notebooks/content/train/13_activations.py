DEEP = (64, 64, 64)
activation_runs = {
    "ReLU": (partial(make_mlp, ReLU, hidden=DEEP), sgd_momentum, SGD_CONFIG),
    "LeakyReLU": (partial(make_mlp, LeakyReLU, hidden=DEEP), sgd_momentum, SGD_CONFIG),
    "ELU": (partial(make_mlp, ELU, hidden=DEEP), sgd_momentum, SGD_CONFIG),
    "SoftPlus": (partial(make_mlp, SoftPlus, hidden=DEEP), sgd_momentum, SGD_CONFIG),
}
activation_histories, activation_models = compare(activation_runs, epochs=15)
plot_history(activation_histories)
