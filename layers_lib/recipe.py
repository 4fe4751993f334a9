"""A training recipe: the architecture and hyper-parameters of a model, as plain data.

    BEST_RECIPE = dict(hidden=(256,), activation="ReLU", dropout=0.3, optimizer="adam_optimizer",
                       config={"learning_rate": 1e-3}, epochs=40, batch_size=32)
    model = build_model(classes, BEST_RECIPE)        # classes: {"Linear": Linear, ...}

`[0]`'s best model is a recipe because its points must be earned where the student's kernel
cannot reach: during autograde the grader builds the recipe's network from the student's own
classes, trains it itself (in a sandbox, on the training split) and measures it on held-back
data whose labels never leave the grader. The same two functions build and train it in the
student's notebook, so what the student sees is what the grader measures.
"""
import ast

ACTIVATIONS = ("ReLU", "LeakyReLU", "ELU", "SoftPlus")
OPTIMIZERS = ("sgd_momentum", "adam_optimizer")
LIMITS = {"layers": 4, "width": 1024, "epochs": 100, "batch_size": 1024}
DEFAULTS = {"hidden": (64,), "activation": "ReLU", "batch_norm": False, "dropout": 0.0,
            "optimizer": "adam_optimizer", "config": {"learning_rate": 1e-3},
            "epochs": 20, "batch_size": 32}


class RecipeError(ValueError):
    """A recipe the grader cannot build or train: the message says what to change."""


def _number(key, value, low, high, integer=False):
    kinds = (int,) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or not low <= value <= high:
        kind = "an integer" if integer else "a number"
        raise RecipeError(f"{key} must be {kind} from {low} to {high}, not {value!r}")
    return value


def validate_recipe(recipe):
    """The recipe with its defaults filled in, or RecipeError saying what is wrong."""
    if not isinstance(recipe, dict):
        raise RecipeError(f"the recipe must be a dict, not {type(recipe).__name__}")
    unknown = sorted(set(recipe) - set(DEFAULTS), key=str)
    if unknown:
        raise RecipeError(f"unknown recipe keys {unknown}; the keys are {sorted(DEFAULTS)}")
    out = {**DEFAULTS, **recipe}
    hidden = out["hidden"]
    if not isinstance(hidden, (tuple, list)) or len(hidden) > LIMITS["layers"]:
        raise RecipeError(f"hidden must be a tuple of at most {LIMITS['layers']} layer sizes, "
                          f"not {hidden!r}")
    out["hidden"] = tuple(_number("a hidden size", h, 1, LIMITS["width"], integer=True) for h in hidden)
    if out["activation"] not in ACTIVATIONS:
        raise RecipeError(f"activation must be one of {ACTIVATIONS}, not {out['activation']!r}")
    if not isinstance(out["batch_norm"], bool):
        raise RecipeError(f"batch_norm must be True or False, not {out['batch_norm']!r}")
    _number("dropout", out["dropout"], 0.0, 0.95)
    if out["optimizer"] not in OPTIMIZERS:
        raise RecipeError(f"optimizer must be one of {OPTIMIZERS}, not {out['optimizer']!r}")
    config = out["config"]
    if not isinstance(config, dict) or not all(isinstance(k, str) for k in config):
        raise RecipeError(f"config must be a dict of hyper-parameters, not {config!r}")
    out["config"] = {k: _number(f"config[{k!r}]", v, -1e6, 1e6) for k, v in config.items()}
    _number("epochs", out["epochs"], 1, LIMITS["epochs"], integer=True)
    _number("batch_size", out["batch_size"], 1, LIMITS["batch_size"], integer=True)
    return out


def parse_recipe(source, name="BEST_RECIPE"):
    """The recipe assigned to `name` in a cell's source, read without running it: its value
    must be written with literals only (numbers, strings, tuples, dicts, `dict(...)`)."""
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise RecipeError(f"the cell that defines {name} has a syntax error: {exc.msg} "
                          f"(line {exc.lineno})") from None
    value = None
    for node in tree.body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name) and node.targets[0].id == name):
            value = node.value
    if value is None:
        raise RecipeError(f"no assignment `{name} = ...` at the top level of the cell")
    if (isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "dict"
            and not value.args and all(k.arg for k in value.keywords)):
        value = ast.Dict(keys=[ast.Constant(k.arg) for k in value.keywords],
                         values=[k.value for k in value.keywords])
    try:
        return validate_recipe(ast.literal_eval(value))
    except (ValueError, TypeError, SyntaxError, RecursionError) as exc:
        if isinstance(exc, RecipeError):
            raise
        raise RecipeError(f"{name} must be written with literal values only (numbers, strings, "
                          "tuples, dicts): the grader reads it without running your code") from None


def build_model(classes, recipe):
    """The recipe's MLP from `classes` ({name: class}): per hidden size Linear,
    [BatchNormalization, Scaling], activation, [Dropout]; then Linear(., 10) and LogSoftMax.

    Inputs: 64 features (8x8 digits); outputs (B, 10) log-probabilities."""
    recipe = validate_recipe(recipe)
    model = classes["Sequential"]()
    width = 64
    for size in recipe["hidden"]:
        model.add(classes["Linear"](width, size))
        if recipe["batch_norm"]:
            model.add(classes["BatchNormalization"](alpha=0.9))
            model.add(classes["Scaling"](size))
        model.add(classes[recipe["activation"]]())
        if recipe["dropout"] > 0:
            model.add(classes["Dropout"](recipe["dropout"]))
        width = size
    model.add(classes["Linear"](width, 10))
    model.add(classes["LogSoftMax"]())
    return model


def needed_classes(recipe):
    """The class and function names the recipe uses."""
    recipe = validate_recipe(recipe)
    names = ["Sequential", "Linear", recipe["activation"], "LogSoftMax", "NLLCriterion",
             recipe["optimizer"]]
    if recipe["batch_norm"]:
        names += ["BatchNormalization", "Scaling"]
    if recipe["dropout"] > 0:
        names.append("Dropout")
    return names
