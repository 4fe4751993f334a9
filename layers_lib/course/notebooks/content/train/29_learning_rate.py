for learning_rate in (1.0, 100.0):
    np.random.seed(0)
    config = {"learning_rate": learning_rate, "momentum": 0.9}
    try:
        with np.errstate(over="ignore", invalid="ignore"):
            history = fit(make_mlp(ReLU), sgd_momentum, config, epochs=3)
        losses = np.round(history.train_loss, 2).tolist()
        print(f"learning rate {learning_rate}: training loss per epoch {losses}")
    except FloatingPointError as error:
        print(f"learning rate {learning_rate}: training stopped: {error}")
