BIG = (64, 64, 64, 64, 64)
batchnorm_runs = {
%% en
    "without batch norm": (partial(make_mlp, ReLU, hidden=BIG), sgd_momentum, SGD_CONFIG),
    "with batch norm": (partial(make_mlp, ReLU, batch_norm=True, hidden=BIG),
                        sgd_momentum, SGD_CONFIG),
%% ru
    "без батч-нормализации": (partial(make_mlp, ReLU, hidden=BIG), sgd_momentum, SGD_CONFIG),
    "с батч-нормализацией": (partial(make_mlp, ReLU, batch_norm=True, hidden=BIG),
                             sgd_momentum, SGD_CONFIG),
%% *
}
batchnorm_histories, batchnorm_models = compare(batchnorm_runs, epochs=15)
plot_history(batchnorm_histories)
