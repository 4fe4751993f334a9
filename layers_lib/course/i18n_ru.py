"""The Russian texts of the hidden checks (instructor only): {English template: Russian template}.

The hidden checks' messages are course texts, so they live here and not in the student kit's
catalog (`layers_lib/i18n_ru.py`, which must not name what the hidden checks test); importing
this module registers them with `i18n.register`. The settings of a quantity (" (float32, batch
5)") are shown translated by `i18n.quantity`; the quantity itself stays English, so a score never
depends on the language. `tests/test_i18n.py` checks that every text of `layers_lib/course` is
here (or in the runtime's catalog) with the same {fields}, and that nothing here is unused.
"""
from layers_lib import i18n

CATALOG = {
    "hidden checks": "скрытые проверки",
    # --- settings: what a quantity was computed on ----------------------------------------------
    " ({dtype}, shape {shape}, |x| <= {bound})": " ({dtype}, форма {shape}, |x| <= {bound})",
    " ({dtype}, batch {batch})": " ({dtype}, батч {batch})",
    " ({dtype}, batch {batch}, {n_in}->{n_out})": " ({dtype}, батч {batch}, {n_in}->{n_out})",
    " ({dtype}, batch {batch}, training step {step})": " ({dtype}, батч {batch}, шаг обучения {step})",
    " ({dtype}, evaluate mode)": " ({dtype}, режим evaluate)",
    " ({dtype}, a fresh layer: they start at 0 and 1)":
        " ({dtype}, новый слой: статистики начинаются с 0 и 1)",
    " ({dtype}, probabilities of exactly 0 and 1)": " ({dtype}, вероятности, равные ровно 0 и 1)",
    " ({dtype}, shape {shape})": " ({dtype}, форма {shape})",
    " ({dtype}, {batch}x{n_in}x{height}x{width} -> {n_out} channels, kernel {k})":
        " ({dtype}, {batch}x{n_in}x{height}x{width} -> каналов: {n_out}, ядро {k})",
    " ({dtype}, {batch}x{channels}x{height}x{width}, kernel {k}, {values})":
        " ({dtype}, {batch}x{channels}x{height}x{width}, ядро {k}, {values})",
    "random values": "случайные значения",
    "negative values": "отрицательные значения",
    "ties": "равные максимумы",
    " after zero_grad_params": " после zero_grad_params",
    " in evaluate mode": " в режиме evaluate",
    " (the forward mask)": " (маска прямого прохода)",
    "mask": "маска",
    " (step {step})": " (шаг {step})",
    "parameter {k} after step {step} ({dtype}; updated in place?)":
        "параметр {k} после шага {step} ({dtype}; обновлён на месте?)",
    # --- diagnoses: what the wrong result looks like ---------------------------------------------
    "computed over axis 0 (the batch) instead of axis 1": "посчитано по оси 0 (по батчу), а не по оси 1",
    "averaged over the batch instead of summed": "усреднено по батчу, а нужно суммировать",
    "averaged over the batch and the pixels instead of summed":
        "усреднено по батчу и пикселям, а нужно суммировать",
    "alpha and 1 - alpha swapped (alpha weighs the OLD value)":
        "alpha и 1 - alpha перепутаны (alpha — вес СТАРОГО значения)",
    "uses the unbiased batch variance instead of the biased one":
        "взята несмещённая дисперсия батча вместо смещённой",
    "evaluate mode uses the batch statistics instead of the moving ones":
        "в режиме evaluate взяты статистики батча вместо скользящих",
    "started at the first batch's statistic instead of {start}":
        "начальное значение — статистика первого батча, а не {start}",
    "kept values are not rescaled by 1/(1-p)": "оставленные значения не умножены на 1/(1-p)",
    "kept values scaled by 1/p: p is the DROP probability":
        "оставленные значения умножены на 1/p: p — вероятность ВЫКИНУТЬ элемент",
    "the loss is summed over the batch, not averaged": "функция потерь просуммирована по батчу, а не усреднена",
    "no clipping: log(0)": "нет обрезки (clip): log(0)",
    # --- failures that are not about values -----------------------------------------------------
    "forward raised {error}: {message} on the first batch of a fresh layer (moving_mean is None): "
    "start the moving statistics at 0 and 1":
        "forward выбросил {error}: {message} на первом батче нового слоя (moving_mean равно None): "
        "начинайте скользящие статистики с 0 и 1",
    "{lists} lists for {modules} modules (expected one list per module, [] for no parameters)":
        "списков: {lists}, модулей: {modules} (нужен один список на модуль, [] — если параметров нет)",
    "a module without parameters must give an empty list": "модуль без параметров должен давать пустой список",
    "modules[{k}].training is still True after evaluate()":
        "modules[{k}].training всё ещё True после evaluate()",
    "modules[{k}].training is still False after train()":
        "modules[{k}].training всё ещё False после train()",
    "dropped {dropped} of {total}, expected {low:.0f}..{high:.0f}":
        "обнулено {dropped} из {total}, ожидалось {low:.0f}..{high:.0f}",
    "whole rows or columns share one value: draw the mask independently for every element":
        "целые строки или столбцы маски одинаковы: выбирайте маску независимо для каждого элемента",
}

i18n.register(CATALOG)
