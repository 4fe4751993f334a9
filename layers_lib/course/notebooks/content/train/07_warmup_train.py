X_spiral, y_spiral = make_spirals(n=300, n_classes=3, noise=0.2, seed=0, dtype=np.float64)
warmup_config = {"learning_rate": 1e-2, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8}

np.random.seed(0)
linear_model = Sequential()
linear_model.add(Linear(2, 3))
linear_model.add(LogSoftMax())

tiny_mlp = Sequential()
for layer in [Linear(2, 32), ReLU(), Linear(32, 3), LogSoftMax()]:
    tiny_mlp.add(layer)

%% en
for name, model in [("linear model", linear_model), ("one hidden layer", tiny_mlp)]:
%% ru
for name, model in [("линейная модель", linear_model), ("один скрытый слой", tiny_mlp)]:
%% *
    history = train(model, NLLCriterion(), adam_optimizer, warmup_config, X_spiral, y_spiral,
                    epochs=100, batch_size=32, progress=False)
    print(f"{name:>16}: {history.summary()}")
