import traceback
from functools import partial


def make_mlp(activation, batch_norm=False, dropout=0.0, hidden=(64,), n_in=64, n_classes=10):
    """An MLP of your classes: per hidden layer Linear, [BatchNormalization, Scaling],
    activation, [Dropout]; then Linear(., n_classes) and LogSoftMax.

    activation: a class such as ReLU, or any function returning a new layer,
    e.g. lambda: LeakyReLU(slope=0.1).
    """
    model = Sequential()
    width = n_in
    for size in hidden:
        model.add(Linear(width, size))
        if batch_norm:
            model.add(BatchNormalization(alpha=0.9))  # moving statistics: 90% old, 10% new
            model.add(Scaling(size))
        model.add(activation())
        if dropout > 0:
            model.add(Dropout(dropout))              # dropout = probability to DROP a unit
        width = size
    model.add(Linear(width, n_classes))
    model.add(LogSoftMax())
    return model


SGD_CONFIG = {"learning_rate": 1e-2, "momentum": 0.9}
ADAM_CONFIG = {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8}


def fit(model, optimizer, config, epochs, batch_size=32, seed=0):
    """Train on the digits training split; returns the History (validation every epoch)."""
    return train(model, NLLCriterion(), optimizer, config, X_train, y_train, epochs=epochs,
                 batch_size=batch_size, X_val=X_val, y_val=y_val, n_classes=10, seed=seed,
                 progress=False)


def describe(error):
    """The error in one line; for an error inside your classes, also where it happened."""
    frame = traceback.extract_tb(error.__traceback__)[-1]
    where = ""
    if MODULES_NOTEBOOK in frame.filename:
        where = f" (in {frame.name}, {frame.filename} line {frame.lineno})"
    message = f": {error}" if str(error) else ""
    return f"{type(error).__name__}{message}{where}"


def compare(runs, epochs, seed=0):
    """runs: {name: (build, optimizer, config)}, where build() returns a new model.

    Trains every run from the same random state; returns ({name: History}, {name: model}).
    A run that fails prints why and is left out; if every run fails, compare raises.
    """
    histories, models = {}, {}
    for name, (build, optimizer, config) in runs.items():
        np.random.seed(seed)
        try:
            model = build()
            histories[name] = fit(model, optimizer, config, epochs, seed=seed)
            models[name] = model
            print(f"{name:>24}: {histories[name].summary()}")
        except Exception as error:  # one broken run should not hide the others
            print(f"{name:>24}: FAILED: {describe(error)}")
    if not histories:
        raise RuntimeError("every run failed (see above): fix your classes in "
                           f"{MODULES_NOTEBOOK} first, the tests in [2] show where")
    return histories, models
