for learning_rate in (1.0, 100.0):
    np.random.seed(0)
    config = {"learning_rate": learning_rate, "momentum": 0.9}
    try:
        with np.errstate(over="ignore", invalid="ignore"):
            history = fit(make_mlp(ReLU), sgd_momentum, config, epochs=3)
        losses = np.round(history.train_loss, 2).tolist()
%% en
        print(f"learning rate {learning_rate}: training loss per epoch {losses}")
%% ru
        print(f"скорость обучения {learning_rate}: функция потерь на обучении по эпохам {losses}")
%% *
    except FloatingPointError as error:
%% en
        print(f"learning rate {learning_rate}: training stopped: {error}")
%% ru
        print(f"скорость обучения {learning_rate}: обучение остановлено: {error}")
