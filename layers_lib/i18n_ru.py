"""The Russian texts of the student runtime: {English template: Russian template} (see `i18n`).

Every `{field}` of an English template appears in its translation with the same format spec;
code identifiers (quantities such as output / grad_W, methods, dtypes), numbers and formulas stay
as they are. `tests/test_i18n.py` checks that every template of the runtime is here and that
nothing here is unused. Course-only texts (the hidden checks) live in `layers_lib/course/`.

Why this file is long: it is one table, the Russian half of every message a student reads.
"""

CATALOG = {
    # --- parts of a grade (parts.py) and what else stands in a failure's place -------------------
    "forward": "прямой проход",
    "backward": "обратный проход",
    "parameter gradients": "градиенты по параметрам",
    "large inputs": "большие входы",
    "loss": "функция потерь",
    "gradient": "градиент",
    "moving statistics": "скользящие статистики",
    "evaluate mode": "режим evaluate",
    # --- settings in the visible tests' quantities (i18n.QUANTITY_PHRASES) -----------------------
    " for large inputs": " при больших входах",
    " (evaluate mode)": " (режим evaluate)",
    " (same mask as forward)": " (та же маска, что в прямом проходе)",
    " (kept values scaled by 1/(1-p))": " (оставленные значения умножены на 1/(1-p))",
    "number of dropped elements": "число обнулённых элементов",
    "update": "шаг обновления",
    "load": "загрузка",
    "checks": "проверки",
    "visible tests": "открытые тесты",
    "numpy warned: {warning}": "предупреждение numpy: {warning}",
    "`np.exp` overflows: in a branch that `np.where` discards the values stay right but the work "
    "is wasted, so compute it only where it is needed, e.g. `np.exp(np.minimum(x, 0))` or "
    "`np.expm1(np.minimum(x, 0))`; before a softmax, subtract the row maximum":
        "`np.exp` переполняется: в ветви, которую `np.where` отбрасывает, значения остаются "
        "верными, но работа делается зря, поэтому вычисляйте экспоненту только там, где она нужна, "
        "например `np.exp(np.minimum(x, 0))` или `np.expm1(np.minimum(x, 0))`; перед softmax "
        "вычитайте максимум по строке",
    "`np.log(0)`: clip the argument first, e.g. `np.log(np.clip(p, EPS, 1 - EPS))`, or work with "
    "log-probabilities (log-sum-exp)":
        "`np.log(0)`: сначала ограничьте аргумент, например `np.log(np.clip(p, EPS, 1 - EPS))`, "
        "или работайте с логарифмами вероятностей (log-sum-exp)",
    "a value overflowed: shift by the maximum (softmax) or clip before `np.exp` or a product":
        "произошло переполнение: вычитайте максимум (softmax) или ограничивайте значения перед "
        "`np.exp` или произведением",
    "an operation produced NaN (inf - inf, 0 * inf, 0 / 0): look for `np.exp` or `np.log` of "
    "extreme values":
        "операция дала NaN (inf - inf, 0 * inf, 0 / 0): ищите `np.exp` или `np.log` от "
        "экстремальных значений",
    "a division by zero: add the epsilon inside the square root / denominator":
        "деление на ноль: добавьте эпсилон под корень / в знаменатель",

    # --- the comparison engine (compare.py) --------------------------------------------------------
    "PASS": "ВЕРНО",
    "FAIL": "НЕВЕРНО",
    "n/a": "н/д",
    "{head}: shape {got}, expected {expected}{hint}": "{head}: форма {got}, а ожидалась {expected}{hint}",
    "transposed?": "транспонировано?",
    "an extra or missing axis of size 1 (keepdims / reshape)?":
        "лишняя или недостающая ось размера 1 (keepdims / reshape)?",
    "same number of elements, wrong reshape?": "число элементов то же — неверный reshape?",
    "reduced over an axis that should stay?":
        "суммирование или усреднение по оси, которая должна остаться?",
    "update_output returned None — did you forget `return self.output`?":
        "update_output вернул None — не забыли `return self.output`?",
    "update_grad_input returned None — did you forget `return self.grad_input`?":
        "update_grad_input вернул None — не забыли `return self.grad_input`?",
    "self.{quantity} is None — did you set it in update_grad_params?":
        "self.{quantity} равно None — вы присваиваете его в update_grad_params?",
    "self.{quantity} is None — did you update it in update_output (training mode)?":
        "self.{quantity} равно None — вы обновляете его в update_output (в режиме обучения)?",
    "{quantity} is None": "{quantity} равно None",
    "update_output returned": "update_output вернул",
    "update_grad_input returned": "update_grad_input вернул",
    "self.{quantity} is": "в self.{quantity} лежит",
    "{what} a numpy array of dtype {dtype}, expected floats":
        "{what} массив numpy с dtype {dtype}, а ожидались числа с плавающей точкой",
    "{what} a {name}, expected a float (or a 0-d numpy array)":
        "{what} объект типа {name}, а ожидалось число float (или 0-мерный массив numpy)",
    "{what} a {name} — {hint}": "{what} объект типа {name} — {hint}",
    "build it with numpy operations (or np.array(...))":
        "вычисляйте результат операциями numpy (или соберите его через np.array(...))",
    "a subclass of np.ndarray; use a plain np.ndarray":
        "это подкласс np.ndarray; используйте обычный np.ndarray",
    "the layers must work on numpy arrays, not torch tensors":
        "слои должны работать с массивами numpy, а не с тензорами torch",
    "expected a numpy.ndarray": "ожидался numpy.ndarray",
    "{head}: dtype {got}, expected {want} — {want} in gives {want} out (keep the input's dtype: "
    "np.zeros(shape) is float64, and mixing in a float64 array upcasts the result)":
        "{head}: dtype {got}, а ожидался {want} — на входе {want}, значит, и на выходе должен быть "
        "{want} (сохраняйте dtype входа: np.zeros(shape) создаёт float64, а примешанный массив "
        "float64 повышает тип результата)",
    "{n} of {total} elements differ": "не совпадают элементов: {n} из {total}",
    "the value differs": "значение не совпадает",
    "(max abs err {abs_err}, max rel err {rel_err})":
        "(макс. абсолютная ошибка {abs_err}, макс. относительная ошибка {rel_err})",
    "worst at {index}: expected {expected}, got {got}":
        "худший элемент {index}: ожидалось {expected}, получено {got}",
    "worst: expected {expected}, got {got}": "ожидалось {expected}, получено {got}",
    "{nan} NaN and {inf} Inf in the result": "в результате {nan} NaN и {inf} Inf",
    "{n} NaN in the result": "в результате {n} NaN",
    "{n} Inf in the result": "в результате {n} Inf",
    "{head}: OK — all {n} elements within tolerance (max abs err {abs_err}, {percent:.2g}% of the "
    "tolerance)":
        "{head}: OK — все элементы ({n}) в пределах допуска (макс. абсолютная ошибка {abs_err}, "
        "{percent:.2g}% от допуска)",
    "{head}: OK — the value within tolerance (max abs err {abs_err}, {percent:.2g}% of the "
    "tolerance)":
        "{head}: OK — значение в пределах допуска (макс. абсолютная ошибка {abs_err}, "
        "{percent:.2g}% от допуска)",
    "values are within tolerance": "значения в пределах допуска",

    # --- diagnoses (diagnose.py) -------------------------------------------------------------------
    "looks like: {name}": "похоже: {name}",
    "correct for small inputs but not for large ones: numerically unstable (use the max shift / "
    "log-sum-exp / log1p(exp(-|x|)))":
        "верно на малых входах, но не на больших: численная неустойчивость (вычитайте максимум / "
        "используйте log-sum-exp / log1p(exp(-|x|)))",
    "produces NaN/Inf where the result is finite: overflow/log(0) (e.g. exp of a large number, or "
    "log of 0)":
        "даёт NaN/Inf там, где результат конечен: переполнение или log(0) (например, exp от "
        "большого числа или логарифм нуля)",
    "agrees with the numerical gradient but not with PyTorch: a convention difference (e.g. the "
    "gradient at the kink x=0, or biased vs unbiased variance)":
        "совпадает с численным градиентом, но не с PyTorch: дело в соглашениях (например, градиент "
        "в точке излома x=0 или смещённая и несмещённая дисперсия)",
    "differs from PyTorch only where the numerical gradient disagrees with PyTorch too (a kink "
    "such as x=0): a convention difference — use PyTorch's value at that point":
        "отличается от PyTorch только там, где с PyTorch расходится и численный градиент (излом, "
        "например x=0): дело в соглашениях — используйте в этой точке значение PyTorch",
    "looks transposed: got.T matches the expected values":
        "похоже, матрица транспонирована: got.T совпадает с ожидаемыми значениями",
    "is all zeros — was it computed and stored (and not reset afterwards)?":
        "состоит из одних нулей — значение вычисляется и сохраняется (и потом не обнуляется)?",
    "looks like the sign is flipped (got ≈ -expected)": "похоже, перепутан знак (got ≈ -expected)",
    "off by a factor of {batch} = the batch size — did you forget to divide by the batch size?":
        "отличается множителем {batch} = размер батча — не забыли разделить на размер батча?",
    "off by a factor of 1/{batch} = 1/the batch size — did you divide by the batch size where you "
    "should not (or twice)?":
        "отличается множителем 1/{batch} = 1/размер батча — вы делите на размер батча там, где не "
        "нужно (или дважды)?",
    "off by a factor of 2 (got ≈ 2 × expected) — a term counted twice?":
        "отличается множителем 2 (got ≈ 2 × expected) — какое-то слагаемое учтено дважды?",
    "off by a factor of 0.5 (got ≈ expected / 2) — a missing factor of 2?":
        "отличается множителем 0.5 (got ≈ expected / 2) — потерян множитель 2?",
    "off by a constant factor of {k:.4g} (got ≈ {k:.4g} × expected)":
        "отличается постоянным множителем {k:.4g} (got ≈ {k:.4g} × expected)",

    # --- text and HTML reports (render.py) ---------------------------------------------------------
    "shape": "форма",
    "expected {expected_shape}, got {got_shape}": "ожидалась {expected_shape}, получена {got_shape}",
    "expected {expected_dtype}": "ожидался {expected_dtype}",
    "not checked": "не проверяется",
    "got {got_dtype} ({want})": "получен {got_dtype} ({want})",
    "mismatched": "не совпадают",
    "{n} of {total}": "{n} из {total}",
    "max abs err": "макс. абсолютная ошибка",
    "max rel err": "макс. относительная ошибка",
    "worst element": "худший элемент",
    "at {index}: expected {expected}, got {got} ({ratio:.3g} x tolerance)":
        "{index}, ожидалось {expected}, получено {got} (ошибка = {ratio:.3g} × допуск)",
    "tolerance": "допуск",
    "|got - expected| <= atol + {rtol:.3g} * |expected|, atol per element from the magnitude of "
    "the terms ({atol:.3g} at the worst element)":
        "|got - expected| <= atol + {rtol:.3g} * |expected|, atol для каждого элемента — по величине "
        "слагаемых ({atol:.3g} в худшем элементе)",
    "{count} at {positions}": "{count} в позициях {positions}",
    "diagnosis": "вероятная причина",
    "expected": "ожидалось",
    "got": "получено",
    "got (* = out of tolerance)": "получено (* = вне допуска)",
    "difference": "разность",
    "diff": "разность",
    "{panel} heatmap {rows}x{cols}": "тепловая карта «{panel}» {rows}x{cols}",
    "{passed} of {total} checks passed": "пройдено проверок: {passed} из {total}",

    # --- the grade of a class (grade.py) -----------------------------------------------------------
    "(in {method}, line {line})": "(в {method}, строка {line})",
    "{name} raised {message}{where}, computing {quantity}":
        "{name}: исключение {message}{where} при вычислении {quantity}",
    "{name} ran out of memory": "{name}: не хватило памяти",
    "they cannot go on after the failure of {part}":
        "после ошибки в части «{part}» проверки не могут продолжаться",
    "{name}: {part} was not checked by the {label}: {why}":
        "{name}: часть «{part}» не проверена ({label}): {why}",
    "{name}: {part} was not checked": "{name}: часть «{part}» не проверена",
    "{name}: {points:g} of {max_points:g} points": "{name}: баллы — {points:g} из {max_points:g}",
    "{points:g} points off for numeric warnings": "за численные предупреждения снято баллов: {points:g}",
    "the warning itself costs no points": "само предупреждение баллов не снимает",
    "Advice ({cost}): {advice}": "Совет ({cost}): {advice}",

    # --- loading a submission (loader.py, runner.py) -----------------------------------------------
    "Loaded {file}: every cell ran.": "{file} загружен: все ячейки выполнены.",
    "Loaded {file} with {n} broken piece(s); only what they define is lost:":
        "{file} загружен; фрагментов с ошибками: {n} — потеряно только то, что в них определено:",
    "no definitions": "нет определений",
    "{name} failed to load ({label}): {message}": "{name} не удалось загрузить ({label}): {message}",
    "{name} is not defined in {file}": "{name} не определён в {file}",
    "{name} is not defined": "{name} не определён",
    "cannot read {path}: {error}": "не удаётся прочитать {path}: {error}",
    "{path}: expected a .ipynb notebook or a .py file": "{path}: ожидался ноутбук .ipynb или файл .py",
    "{path} is not a valid notebook: {error}": "{path} — некорректный ноутбук: {error}",
    "cell {number}": "ячейка {number}",
    "lines {first}-{last}": "строки {first}-{last}",
    "(line {line})": "(строка {line})",
    "{where} raised {error}": "{where}: исключение {error}",

    # --- the static scan (scan.py) -----------------------------------------------------------------
    "the layers must be written with NumPy": "слои нужно писать на NumPy",
    "dynamic imports are not allowed in the submission": "динамический импорт в решении запрещён",
    "imports torch": "импортирует torch",
    "uses torch.autograd": "использует torch.autograd",
    "comes from torch": "взят из torch",
    "imports layers_lib (the course's reference implementation)":
        "импортирует layers_lib (эталонную реализацию курса)",
    "comes from layers_lib (the course's reference implementation)":
        "взят из layers_lib (эталонной реализации курса)",
    "write the layer yourself": "напишите слой сами",
    "calls __import__": "вызывает __import__",
    "is built with __import__": "получен через __import__",
    "uses importlib": "использует importlib",
    "comes from importlib": "взят из importlib",
    "reads sys.modules": "читает sys.modules",
    "comes from sys.modules": "взят из sys.modules",
    "reaching loaded modules is not allowed in the submission":
        "обращаться к загруженным модулям в решении запрещено",
    "calls exec/eval": "вызывает exec/eval",
    "is built with exec/eval": "получен через exec/eval",
    "dynamically built code is not allowed in the submission":
        "динамически построенный код в решении запрещён",
    "{name} {does}: {why}": "{name} {does}: {why}",
    "{name} {comes} ({origin}): {why}": "{name} {comes} ({origin}): {why}",
    "{name} uses {ref}, which {comes} ({origin}): {why}":
        "{name} использует {ref}, который {comes} ({origin}): {why}",
    "{name} uses {ref}; {reason}": "{name} использует {ref}; {reason}",
    "{label} {does} at the top level (blocked in the worker)":
        "{label}: код на верхнем уровне {does} (в рабочем процессе это заблокировано)",

    # --- the isolated worker (isolation/, _worker.py) ----------------------------------------------
    "importing torch is not allowed in the submission: the layers must be written with NumPy":
        "импортировать torch в решении нельзя: слои нужно писать на NumPy",
    "importing layers_lib (the course's reference implementation) is not allowed in the "
    "submission: write the layers yourself":
        "импортировать layers_lib (эталонную реализацию курса) в решении нельзя: напишите слои сами",
    "Flagged by the static scan:": "Замечания статической проверки:",
    "listing the submission's names": "получение списка имён решения",
    "reading {name}": "чтение {name}",
    "setting {name}": "присваивание {name}",
    "the worker could not load the submission": "рабочему процессу не удалось загрузить решение",
    "invalid reply from the worker": "некорректный ответ рабочего процесса",
    "did not finish within {seconds:g} s (infinite loop at the top level?)":
        "не завершилось за {seconds:g} с (бесконечный цикл на верхнем уровне?)",
    "the worker process died ({death}): os._exit, a segfault or the memory limit ({memory_mb} MB)":
        "рабочий процесс завершился ({death}): os._exit, ошибка сегментации или предел памяти "
        "({memory_mb} МБ)",
    "the worker process died ({death}) while running {label}: os._exit, a segfault or the memory "
    "limit ({memory_mb} MB)":
        "рабочий процесс завершился ({death}) во время «{label}»: os._exit, ошибка сегментации или "
        "предел памяти ({memory_mb} МБ)",
    "it closed its channel": "он закрыл канал связи",
    "killed by {signal}": "убит сигналом {signal}",
    "killed by signal {number}": "убит сигналом {number}",
    "exit code {code}": "код выхода {code}",
    "{label} did not return within {seconds:g} s (infinite loop?)":
        "{label}: нет ответа за {seconds:g} с (бесконечный цикл?)",
    "{label} was not run: the time budget for grading this notebook ran out (a class before it "
    "was too slow)":
        "{label}: не запущено — время на проверку этого ноутбука истекло (один из предыдущих "
        "классов работал слишком долго)",
    "{label} was stopped when the time budget for grading this notebook ran out: too slow (or an "
    "infinite loop)":
        "{label}: остановлено, когда истекло время на проверку этого ноутбука: слишком медленно "
        "(или бесконечный цикл)",
    "{label} wrote {size:.1f} MB to stdout/stderr (limit {limit:g} MB): remove the prints from "
    "the layer":
        "{label}: выведено {size:.1f} МБ в stdout/stderr (предел {limit:g} МБ): уберите print из "
        "слоя",
    "the worker sent an invalid reply while running {label} ({why}): its protocol channel was "
    "tampered with?":
        "рабочий процесс прислал некорректный ответ во время «{label}» ({why}): канал связи с ним "
        "подменён?",
    "the worker process could not start ({kind} {why}); its output: {output!r}":
        "не удалось запустить рабочий процесс ({kind} {why}); его вывод: {output!r}",
    "this {name} object lived in a worker process that was restarted after an earlier failure (a "
    "timeout or a crash); create a new one":
        "этот объект {name} жил в рабочем процессе, который перезапущен после предыдущей ошибки "
        "(тайм-аут или падение); создайте новый",
    "(the worker's memory is limited to {memory_mb} MB)":
        "(память рабочего процесса ограничена {memory_mb} МБ)",
    "exit() or sys.exit() was called in {label} (code {code})":
        "{label}: вызван exit() или sys.exit() (код {code})",
    "a method": "метод",
    "{label}: {method} is not implemented yet (its stub still raises NotImplementedError)":
        "{label}: {method} ещё не реализован (заготовка по-прежнему выбрасывает NotImplementedError)",
    "the result is too large to send ({size:.0f} MB)":
        "результат слишком велик для передачи ({size:.0f} МБ)",
    "<the exception's message could not be read>": "<не удалось прочитать сообщение исключения>",

    # --- the checker (cli.py) ----------------------------------------------------------------------
    "Command-line checker: the visible tests of `[2]` on a student's classes.\n\nPATH is the "
    "modules notebook (.ipynb) or a .py file defining the classes. Exit 0 when every\nclass "
    "passes, 1 when any fails, 2 when PATH cannot be read.":
        "Проверка из командной строки: открытые тесты `[2]` на классах студента.\n\nPATH — "
        "ноутбук с модулями (.ipynb) или файл .py с определениями классов. Код выхода 0,\nесли "
        "все классы проходят тесты, 1, если какой-то не проходит, 2, если PATH не удаётся прочитать.",
    "check a modules notebook or .py file": "проверить ноутбук с модулями или файл .py",
    "print the results as JSON": "вывести результаты в формате JSON",
    "run the student's code in this process (for debugging with pdb); by default it runs in an "
    "isolated worker, as in grading":
        "выполнять код студента в этом процессе (для отладки через pdb); по умолчанию он "
        "выполняется в изолированном рабочем процессе, как при оценивании",
    "the language of the messages (default: $LAYERS_LIB_LANGUAGE, else en)":
        "язык сообщений (по умолчанию $LAYERS_LIB_LANGUAGE, иначе en)",
    "error: {error}": "ошибка: {error}",
    "advice: {advice}": "совет: {advice}",
    "{passed} of {total} classes pass; {points:g} of {max_points:g} points":
        "классов, прошедших тесты: {passed} из {total}; баллы: {points:g} из {max_points:g}",

    # --- the dashboard and the gradient inspector (widgets/) ---------------------------------------
    "NOT LOADED": "НЕ ЗАГРУЖЕН",
    "ERROR": "ОШИБКА",
    "error": "ошибка",
    "Error": "Ошибка",
    "class": "класс",
    "status": "статус",
    "details": "подробности",
    "module": "модуль",
    "not loaded (define or run the cell of this class)":
        "не загружен (определите класс или выполните его ячейку)",
    "all checks passed": "все проверки пройдены",
    "{name}: all checks passed": "{name}: все проверки пройдены",
    "{name} is not loaded": "{name} не загружен",
    "{passed} of {total} classes pass": "классов, прошедших проверки: {passed} из {total}",
    "— choose a class —": "— выберите класс —",
    "inspect": "подробно",
    "the checks": "проверки",
    "the reference model": "эталонная модель",
    "the inspector": "инспектор",
    "module [{index}] {name}": "модуль [{index}] {name}",
    "the models have {student} and {reference} modules":
        "в моделях разное число модулей: {student} и {reference}",
    "first divergence: module [{index}] ({direction})":
        "первое расхождение: модуль [{index}] ({direction})",
    "all modules agree with the reference": "все модули совпадают с эталоном",
    "seed": "зерно",
    "batch": "батч",
    "tolerance x": "допуск ×",
    "{quantity} was not computed": "{quantity} не вычислено",
    "{name} cannot be inspected (supported: {supported})":
        "{name} нельзя открыть в инспекторе (поддерживаются: {supported})",
    "BatchNormalization in training mode needs a batch of at least 2":
        "BatchNormalization в режиме обучения нужен батч хотя бы из 2 примеров",
    "the reference could not be computed: {error}": "не удалось вычислить эталон: {error}",
    "comparison of {quantity} failed: {error}": "сравнение {quantity} завершилось ошибкой: {error}",
    "wrong slope at negative inputs (x <= 0): got {k:.4g} x grad_output there":
        "неверный наклон при отрицательных входах (x <= 0): там получено {k:.4g} × grad_output",
    "disagrees with the numerical gradient of your own forward pass where the reference agrees "
    "with it: the backward formula does not match the forward":
        "расходится с численным градиентом вашего собственного прямого прохода там, где эталон с "
        "ним согласуется: формула обратного прохода не соответствует прямому",

    # --- training and plots (training.py, plots.py) ------------------------------------------------
    "training": "обучение",
    "epoch": "эпоха",
    "History(no epochs)": "History(нет эпох)",
    "epoch {epoch}: train loss {loss:.4f}, train acc {acc:.4f}":
        "эпоха {epoch}: потери (обучение) {loss:.4f}, точность (обучение) {acc:.4f}",
    ", val loss {loss:.4f}, val acc {acc:.4f}":
        ", потери (валидация) {loss:.4f}, точность (валидация) {acc:.4f}",
    "({seconds:.2f} s)": "({seconds:.2f} с)",
    "epoch {epoch} batch {batch}": "эпоха {epoch}, батч {batch}",
    "evaluation": "оценка",
    "lower the learning rate or check LogSoftMax stability":
        "уменьшите learning rate или проверьте устойчивость LogSoftMax",
    "{name} must be a 1-D array of integer class labels, got {dtype} of shape {shape}":
        "{name} должен быть одномерным массивом целочисленных меток классов, а получен {dtype} "
        "формы {shape}",
    "(one-hot? pass labels.argmax(axis=1))": "(one-hot? передайте labels.argmax(axis=1))",
    "{where}: model output has shape {shape}, expected ({batch}, {n_classes}) = (batch size, "
    "number of classes); check n_out of the last Linear layer and that every update_output "
    "returns its result":
        "{where}: выход модели имеет форму {shape}, а ожидалась ({batch}, {n_classes}) = (размер "
        "батча, число классов); проверьте n_out последнего слоя Linear и то, что каждый "
        "update_output возвращает свой результат",
    "model output contains NaN or inf at {where} — {hint}":
        "выход модели содержит NaN или inf ({where}) — {hint}",
    "loss became NaN at {where} — {hint}": "функция потерь стала NaN ({where}) — {hint}",
    "loss became infinite at {where} — {hint}": "функция потерь стала бесконечной ({where}) — {hint}",
    "X is empty": "X пуст",
    "y_true has shape {true_shape} but y_pred has {pred_shape}":
        "у y_true форма {true_shape}, а у y_pred — {pred_shape}",
    "{name} has labels outside [0, {n_classes})": "в {name} есть метки вне [0, {n_classes})",
    "X_train has {n_x} samples and y_train {n_y}; they must agree and be non-empty":
        "в X_train примеров {n_x}, а в y_train {n_y}; их число должно совпадать и быть ненулевым",
    "pass both X_val and y_val, or neither": "передайте либо и X_val, и y_val, либо ни одного из них",
    "minibatch": "минибатч",
    "train": "обучение",
    "val": "валидация",
    "accuracy": "доля верных ответов",
    "predicted": "предсказанный класс",
    "true": "истинный класс",
    "no misclassified samples": "ошибок классификации нет",
    "misclassified: true→predicted ({count} in total)":
        "ошибки классификации: истинный→предсказанный (всего {count})",
    "decision regions": "области решений",
    "cm must be a square (C, C) array, got shape {shape}":
        "cm должна быть квадратным массивом (C, C), а её форма {shape}",
    "X, y_true, y_pred have {n_x}, {n_true}, {n_pred} samples":
        "в X, y_true, y_pred разное число примеров: {n_x}, {n_true}, {n_pred}",
    "plot_decision_boundary needs 2-D inputs of shape (N, 2), got {shape}":
        "plot_decision_boundary нужны двумерные входы формы (N, 2), а получена форма {shape}",
}
