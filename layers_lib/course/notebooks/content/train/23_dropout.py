WIDE = (128, 128)
dropout_runs = {
    f"p = {p}": (partial(make_mlp, ReLU, dropout=p, hidden=WIDE), adam_optimizer, ADAM_CONFIG)
    for p in (0.0, 0.2, 0.5)
}
dropout_histories, dropout_models = compare(dropout_runs, epochs=25)
plot_history(dropout_histories)
