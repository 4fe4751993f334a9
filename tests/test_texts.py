"""The bilingual content of the notebooks (`course/notebooks/texts.py`, `content/**`) and the build
variants: every content file complete in both languages and hint levels, the completeness check
itself, all 8 variants of the three notebooks, what each hint level shows and hides, no text of
one language in the other's build, the Russian of the code copied into the notebooks
(`code_texts.py`, `content/code_ru.md`: complete, nothing stale, only texts changed, graded alike)
and one whole course built with `build --into` (slow)."""
import ast
import functools
import re
import subprocess
import sys

import nbformat
import pytest

from layers_lib.course.notebooks import build as course_build
from layers_lib.course.notebooks import code_texts, modules, tests, train
from layers_lib.course.notebooks.texts import (VARIANTS, Variant, blocks, every_content_file, fill,
                                               language_setup, problems, select, select_code)

CONTENT = every_content_file()
BUILDERS = (train.build, modules.build, tests.build)
MATH = re.compile(r"\$\$.+?\$\$|\$[^$]+\$", re.DOTALL)


@functools.cache
def built(variant):
    """The three notebooks of `variant`."""
    return tuple(make(variant) for make in BUILDERS)


@functools.cache
def all_sources(variant):
    return "\n\n".join(cell.source for nb in built(variant) for cell in nb.cells)


def present(text, build):
    """Whether the block `text` is in `build`, its `{PLACEHOLDER}`s filled in by the builder."""
    return all(piece in build for piece in re.split(r"\{[A-Z_]+\}", text))


# ----------------------------------------------------------------------------- the content files

@pytest.mark.parametrize("name,text", CONTENT, ids=[name for name, _ in CONTENT])
def test_every_content_file_is_complete_in_both_languages(name, text):
    assert problems(text, name) == []


def test_the_content_covers_every_notebook():
    folders = {name.split("/")[0] for name, _ in CONTENT}
    assert folders == {"train", "modules", "tests"}
    names = {name for name, _ in CONTENT}
    for key in [*modules.BASIC_NAMES, *modules.ADVANCED_NAMES, "intro", "contract", "dashboard"]:
        assert any(re.fullmatch(rf"modules/\d\d_{key.lower()}\.md", n) for n in names), key
    formulas = [name for name, text in CONTENT if any(b.hints == "formulas" for b in blocks(text))]
    # every section with a backward formula has both hint levels (the optimizers have none)
    for key in ["linear", "softmax", "logsoftmax", "batchnormalization", "scaling", "dropout", "relu",
                "leakyrelu", "elu", "softplus", "sequential", "nllcriterionunstable", "nllcriterion"]:
        assert any(n.endswith(f"_{key}.md") for n in formulas), key


# ----------------------------------------------------------------------------- problems() itself

def test_a_file_in_english_only_is_incomplete():
    found = problems("%% en\nThe layer computes the output.\n", "x.md")
    assert any("the languages differ" in p for p in found), found
    found = problems("%% en\nOne.\n%% ru\nОдин.\n%% en\nTwo.\n", "x.md")
    assert any("the languages differ" in p for p in found), found


def test_a_formulas_block_needs_a_derive_block():
    text = "%% en\nForward.\n%% en formulas\n$$g = 1$$\n%% ru\nПрямой.\n%% ru formulas\n$$g = 1$$\n"
    found = problems(text, "x.md")
    assert any("'formulas'" in p and "each needs the other" in p for p in found), found
    assert problems(text + "%% en derive\nDerive g.\n%% ru derive\nВыведите g.\n", "x.md") == []
    found = problems(text + "%% en derive\nDerive g.\n", "x.md")
    assert any("ru has 1 'formulas' and 0 'derive'" in p for p in found), found
    ordered = ("%% en\nForward.\n%% en formulas\n$$g = 1$$\n%% en derive\nDerive g.\n"
               "%% ru\nПрямой.\n%% ru formulas\n$$g = 1$$\n%% ru derive\nВыведите g.\n")
    assert problems(ordered, "x.md") == []


def test_prose_outside_a_language_block_is_found():
    found = problems("Some words before any marker.\n%% en\nText.\n%% ru\nТекст.\n", "x.md")
    assert any("text outside a language block" in p for p in found), found
    found = problems("%% *\nNeutral prose in markdown.\n%% en\nText.\n%% ru\nТекст.\n", "x.md")
    assert any("text outside a language block" in p for p in found), found


def test_a_comment_or_printed_words_outside_a_language_block_are_found():
    found = problems("x = 1\ny = x + 1  # add one to the value\n", "x.py")
    assert any("prose outside a language block" in p and "add one" in p for p in found), found
    found = problems('%% *\nvalue = 3\nprint(f"the value is {value}")\n', "x.py")
    assert any("the value is" in p for p in found), found
    found = problems('print("обучающих изображений:", 3)\n', "x.py")      # Russian too
    assert any("prose outside" in p for p in found), found
    # the line number is the file's
    assert any(p.startswith("x.py:2:") for p in problems("x = 1\ny = x  # copy the value\n", "x.py"))


def test_code_split_across_blocks_is_checked_as_a_whole():
    text = ("for name in [\n%% en\n    \"first name\",\n%% ru\n    \"первое имя\",\n%% *\n]:\n"
            "    print(name)\n")
    assert problems(text, "x.py") == []
    assert select_code(text, Variant("ru")) == 'for name in [\n    "первое имя",\n]:\n    print(name)'
    clean = ("import numpy as np\n\n# from train_cells: make_mlp, fit\n%% en\nx = 1  # one sample\n"
             "%% ru\nx = 1  # один объект\n%% *\n### BEGIN SOLUTION\ny = np.zeros(x)\n### END SOLUTION\n")
    assert problems(clean, "x.py") == []


def test_select_keeps_the_variant_blocks_in_order():
    text = ("%% en\nIntro.\n%% ru\nВведение.\n%% en formulas\nF.\n%% en derive\nD.\n"
            "%% ru formulas\nФ.\n%% ru derive\nВ.\n%% en advanced\nA.\n%% ru advanced\nП.\n")
    assert problems(text, "x.md") == []
    assert select(text, Variant()) == "Intro.\n\nF."
    assert select(text, Variant("ru", "advanced", "derive")) == "Введение.\n\nВ.\n\nП."
    code = "a = 1\n\n%% en\nb = 2  # two\n%% ru\nb = 2  # два\n%% *\n\nc = 3\n"
    assert select_code(code, Variant()) == "a = 1\n\nb = 2  # two\n\nc = 3"   # blank lines kept
    assert fill("{TOTAL} of $\\frac{a}{b}$", TOTAL=3) == "3 of $\\frac{a}{b}$"


def test_unknown_values_are_refused():
    with pytest.raises(ValueError, match="language"):
        Variant("de")
    assert any("unknown tag" in p for p in problems("%% en hint\nA.\n%% ru hint\nБ.\n", "x.md"))


# ----------------------------------------------------------------------------- the 8 variants

@pytest.mark.parametrize("variant", VARIANTS, ids=str)
def test_every_variant_builds_three_valid_notebooks(variant):
    train_nb, modules_nb, tests_nb = built(variant)
    for nb in (train_nb, modules_nb, tests_nb):
        nbformat.validate(nb)
        ids = [cell.id for cell in nb.cells]
        assert len(ids) == len(set(ids))
        for cell in nb.cells:
            if cell.cell_type == "code":
                compile(cell.source, cell.id, "exec")
    solutions = {c.id for c in modules_nb.cells if c.id.endswith("_solution")}
    graded = {c.id for c in tests_nb.cells if c.metadata.get("nbgrader", {}).get("grade")}
    advanced = {"conv2d", "maxpool2d", "flatten"}
    assert ({f"{k}_solution" for k in advanced} <= solutions) == variant.advanced
    assert ({f"test_{k}" for k in advanced} <= graded) == variant.advanced
    assert len(graded) == len(modules.section_names(variant))
    assert ("Conv2d" in "".join(c.source for c in train_nb.cells)) == variant.advanced   # [0]'s title


def test_the_default_variant_is_what_the_builders_build_by_default():
    assert [nbformat.writes(nb) for nb in built(Variant())] == [nbformat.writes(b()) for b in BUILDERS]
    assert "set_language" not in all_sources(Variant())        # English notebooks stay as they were


@pytest.mark.parametrize("variant", [v for v in VARIANTS if v.language == "ru"][:2], ids=str)
def test_russian_notebooks_select_the_runtime_language_where_it_can_run(variant):
    train_nb, modules_nb, tests_nb = built(variant)
    call = language_setup(variant).strip()
    assert train_nb.cells[[c.id for c in train_nb.cells].index("setup")].source.startswith(call)
    assert tests_nb.cells[[c.id for c in tests_nb.cells].index("setup")].source.startswith(call)
    cells = {c.id: c.source for c in modules_nb.cells}
    assert 'set_language("ru")' in cells["dashboard"]
    assert "layers_lib" not in cells["imports"]      # the worker runs it: layers_lib is blocked there
    headings = [c.source for c in tests_nb.cells if c.id.startswith("about_test_")]
    assert "### `Linear` (2 балла: " in headings[0]
    assert "всего " in tests_nb.cells[0].source


def test_points_read_naturally_in_both_languages():
    assert [tests.points_phrase(p) for p in (0.5, 1, 2)] == ["0.5 point", "1 point", "2 points"]
    assert [tests.points_phrase(p, "ru") for p in (0.5, 1, 2, 5, 11, 21, 23, 28, 1.5)] == [
        "0.5 балла", "1 балл", "2 балла", "5 баллов", "11 баллов", "21 балл", "23 балла", "28 баллов",
        "1.5 балла"]
    assert tests.TOTAL == 23 and tests.total(Variant(track="advanced")) == 28


# ----------------------------------------------------------------------------- hint levels, languages

def _blocks_of(language, tags):
    """[(file name, block)] of `language` whose tag is in `tags`."""
    return [(name, b) for name, text in CONTENT for b in blocks(text)
            if b.language == language and b.hints in tags and b.text.strip()]


@pytest.mark.parametrize("language", ["en", "ru"])
def test_derive_hides_every_backward_formula_and_keeps_the_forward_ones(language):
    derive = all_sources(Variant(language, "advanced", "derive"))
    formulas = all_sources(Variant(language, "advanced", "formulas"))
    for name, block in _blocks_of(language, {"formulas"}):
        assert present(block.text, formulas), name
        assert not present(block.text, derive), f"{name}:{block.line}: a formulas block is in the derive build"
        others = "\n".join(b.text for b in blocks(dict(CONTENT)[name])
                           if b.language == language and b.hints != "formulas")
        for math in MATH.findall(block.text):
            if "=" in math and math not in others:
                assert math not in derive, f"{name}:{block.line}: {math[:60]} leaks into derive"
        # a display that starts with the forward formula keeps it in the derive block
        display = re.match(r"\$\$(.+?), \\qquad", block.text, re.DOTALL)
        if display and "\\partial" not in display.group(1):
            assert display.group(1) in derive, f"{name}: the forward formula is missing in derive"
    for name, block in _blocks_of(language, {"derive"}):
        assert present(block.text, derive) and not present(block.text, formulas), name
    for name, block in _blocks_of(language, {None, "advanced"}):
        if name.endswith("_derive_docstrings.md"):       # reflowed into the derive docstrings
            continue
        assert present(block.text, derive) and present(block.text, formulas), f"{name}:{block.line}"


def _release_view(source):
    """What the release shows of a solution cell: the solution regions cleared."""
    return re.sub(r"(?ms)^[ \t]*### BEGIN SOLUTION.*?### END SOLUTION[ \t]*$", "", source)


def _without_docstrings(source):
    tree = ast.parse(source)
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (isinstance(body, list) and body and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str)):
            node.body = body[1:] or [ast.Pass()]
    return ast.dump(tree)


@pytest.mark.parametrize("language", ["en", "ru"])
def test_derive_docstrings_of_the_solution_cells_keep_the_backward_to_themselves(language):
    formulas = {c.id: c.source for c in built(Variant(language, "advanced", "formulas"))[1].cells}
    derive = {c.id: c.source for c in built(Variant(language, "advanced", "derive"))[1].cells}
    assert formulas.keys() == derive.keys()
    leaks = re.compile(r"dL/d|sigmoid|the gradient is|градиент равен|@ W\.T|\.T @|backward:")
    for cell_id, source in derive.items():
        if cell_id.endswith("_solution"):
            assert not leaks.search(_release_view(source)), (cell_id, leaks.search(_release_view(source)))
            assert _without_docstrings(source) == _without_docstrings(formulas[cell_id]), cell_id
    assert leaks.search(_release_view(formulas["linear_solution"]))      # the formulas level keeps them
    assert "self.grad_input" in _release_view(derive["linear_solution"])  # the stand-in docstring


@pytest.mark.parametrize("hints", ["formulas", "derive"])
def test_no_block_of_one_language_is_in_the_other_languages_build(hints):
    for language, other in (("en", "ru"), ("ru", "en")):
        build = all_sources(Variant(language, "advanced", hints))
        for name, block in _blocks_of(other, {None, "advanced", hints}):
            same = {b.text for b in blocks(dict(CONTENT)[name]) if b.language == language}
            if block.text not in same:             # a heading or a formula written alike in both
                assert not present(block.text, build), f"{name}:{block.line}: {other} text in the {language} build"
        assert ("Обратный проход" in build or "обратный проход" in build) == (language == "ru")


def test_stale_numbers_are_checked_in_every_language(monkeypatch):
    monkeypatch.setitem(train.PROSE_STATES, "threshold", {"en": ["threshold of 95%"], "ru": ["порог 99%"]})
    train.build(Variant())
    with pytest.raises(ValueError, match=r"33_threshold.md should say 'порог 99%' \(ru\)"):
        train.build(Variant("ru"))


# ----------------------------------------------------------------------------- the course config

def test_the_variant_comes_from_the_course_config(tmp_path):
    text = (course_build.ROOT / "nbgrader_config.py").read_text(encoding="utf-8")
    changed = course_build.config_with_variant(text, Variant("ru", "advanced", "derive"))
    (tmp_path / "nbgrader_config.py").write_text(changed, encoding="utf-8")
    assert course_build.configured_variant(tmp_path) == Variant("ru", "advanced", "derive")
    assert course_build.config_with_variant(changed, Variant("ru", "advanced", "derive")) == changed
    bare = re.sub(r"(?m)^c\.CourseBuild\..*\n", "", text)
    assert course_build.config_with_variant(bare, Variant("ru")).count("c.CourseBuild.") == 3
    assert course_build.configured_variant(tmp_path / "nowhere") == Variant()


def test_check_takes_no_variant_options(capsys):
    with pytest.raises(SystemExit):
        course_build.main(["check", "--language", "ru"])
    assert "nbgrader_config.py" in capsys.readouterr().err


@pytest.mark.slow
def test_build_into_a_directory_makes_a_whole_russian_advanced_derive_course(russian_advanced_derive_course,
                                                                           tmp_path):
    course = russian_advanced_derive_course           # autograded in test_course.py
    assert course_build.configured_variant(course) == Variant("ru", "advanced", "derive")
    for folder in ("source", "release"):
        names = sorted(p.name for p in (course / folder / "task8").glob("*.ipynb"))
        assert names == ["[0]task8_train_model.ipynb", "[1]task8_modules.ipynb",
                         "[2]task8_test_modules.ipynb"], folder
    release = {p.name: nbformat.read(p, as_version=4) for p in (course / "release" / "task8").glob("*.ipynb")}
    modules_text = "\n".join(c.source for c in release["[1]task8_modules.ipynb"].cells)
    assert "Продвинутая часть: `Conv2d" in modules_text and "YOUR CODE HERE" in modules_text
    assert "### BEGIN SOLUTION" not in modules_text and "class Conv2d" in modules_text
    tests_text = "\n".join(c.source for c in release["[2]task8_test_modules.ipynb"].cells)
    assert 'set_language("ru")' in tests_text and "BEGIN HIDDEN TESTS" not in tests_text
    assert "test_conv2d" in tests_text
    check = subprocess.run([sys.executable, "-m", "layers_lib.course.notebooks", "check", "--into", str(course)],
                           capture_output=True, text=True, cwd=tmp_path)
    assert check.returncode == 0, check.stderr[-3000:]
    assert (course / "demo_submissions" / "ada_complete").is_dir()


# ----------------------------------------------------------------------------- the code's texts

RUSSIAN = [v for v in VARIANTS if v.language == "ru"]
_CYRILLIC = re.compile(r"[а-яА-ЯёЁ]")


@functools.cache
def code_texts_of_the_russian_builds():
    """[(CodeText, translated, the source's first line)] of the texts of all code the builders
    copy into a Russian notebook, in every Russian variant (built afresh: `built` is cached)."""
    with code_texts.recording_code_texts() as seen:
        for variant in RUSSIAN:
            for make in BUILDERS:
                make(variant)
    return [(unit, translated, head) for language, unit, translated, head in seen]


def test_every_text_of_the_copied_code_has_its_russian_and_every_entry_is_used():
    entries, keep = code_texts.code_catalog("ru")
    seen = code_texts_of_the_russian_builds()
    missing = sorted({f"{head[:40]!r} line {unit.line}: {unit.key[:70]!r}"
                      for unit, translated, head in seen
                      if unit.prose and not translated and unit.key not in keep})
    assert not missing, ("texts of the copied code without Russian in content/code_ru.md:\n"
                         + "\n".join(missing))
    used = {unit.key for unit, _, _ in seen if not unit.quantity}
    stale = sorted(key[:70] for key in set(entries) | keep if key not in used)
    assert not stale, "entries of content/code_ru.md no copied code has:\n" + "\n".join(stale)
    assert len(entries) > 100 and "for large inputs" in keep


def test_the_code_catalog_keeps_every_field_and_formula_and_is_russian():
    entries, _ = code_texts.code_catalog("ru")
    for english, russian in entries.items():
        assert code_texts.braces(english) == code_texts.braces(russian), (english[:60], russian[:60])
        assert _CYRILLIC.search(russian), english[:60]
        assert not _CYRILLIC.search(english), english[:60]
    # the labels of the class docstrings (the derive level strips the lines that start with
    # "backward") stand at the start of the same lines in both languages
    labels = re.compile(r"^\s*(forward|backward|train|evaluate)\b")
    for unit, translated, _ in code_texts_of_the_russian_builds():
        if translated:
            russian = entries[unit.key]
            found = [[labels.match(line).group(1) for line in text.split("\n") if labels.match(line)]
                     for text in (unit.text, russian)]
            assert found[0] == found[1], unit.text[:60]


def test_quantities_and_data_keys_stay_english():
    seen = code_texts_of_the_russian_builds()
    quantities = {unit.key for unit, _, _ in seen if unit.quantity}
    assert {"output (evaluate mode)", "number of dropped elements", "grad_input for large inputs",
            "variable {k} after step {step + 1} (updated in place?)"} <= quantities
    assert not any(translated for unit, translated, _ in seen if unit.quantity)
    tests_ru = all_sources(Variant("ru", "advanced"))
    for kept in ['"output (evaluate mode)"', '"number of dropped elements"', '" for large inputs"',
                 '"learning_rate"', '"Linear", "grad_W"', 'grade.checking("visible tests")']:
        assert kept in tests_ru, kept


def _code_cells(notebook):
    return {c.id: c.source for c in notebook.cells if c.cell_type == "code"}


@pytest.mark.parametrize("hints", ["formulas", "derive"])
def test_the_russian_code_cells_compile_and_differ_from_the_english_only_in_their_texts(hints):
    for english_nb, russian_nb in zip(built(Variant("en", "advanced", hints)),
                                      built(Variant("ru", "advanced", hints))):
        english, russian = _code_cells(english_nb), _code_cells(russian_nb)
        assert english.keys() == russian.keys()
        for cell_id, source in russian.items():
            compile(source, cell_id, "exec")
            if cell_id not in ("setup", "dashboard"):         # these select the runtime's language
                assert code_texts.code_shape(source) == code_texts.code_shape(english[cell_id]), cell_id
    train_cells, modules_cells, tests_cells = map(_code_cells, built(Variant("ru", "advanced", hints)))
    assert '"""Базовый класс всех слоёв.' in modules_cells["module_contract"]
    assert "ожидает {what} формы" in modules_cells["linear_solution"]
    assert "# на месте: на один временный массив" in modules_cells["linear_solution"]
    assert ('hypotheses={"функция потерь просуммирована по батчу, а не усреднена"'
            in tests_cells["test_nllcriterion"])
    assert 'f"Dropout(p={p}) на форме {shape}: выброшено {dropped}' in tests_cells["test_dropout"]
    assert ('print(f"Ваши классы из {MODULES_NOTEBOOK}: загружено {loaded} из {len(names)}.")'
            in train_cells["setup"])
    assert "падает и говорит, что изменить" in train_cells["test_best_model_accuracy"]


def test_translated_functions_have_the_english_ast_but_for_their_texts():
    from layers_lib.contract import Criterion
    from layers_lib.grading import visible_tests
    from layers_lib.reference import Dropout, Linear
    from layers_lib.course.notebooks import solutions, train_cells
    for obj in (Criterion, Linear, Dropout, visible_tests.test_dropout, visible_tests.nll_test,
                train_cells.MissingName, train_cells.check_loss_decreased, train_cells.compare):
        english = solutions.plain_source(obj)
        russian = code_texts.translate_code(english, "ru")
        assert russian != english and _CYRILLIC.search(russian), obj
        # the same names, numbers, calls and f-string fields: only the texts differ
        assert code_texts.code_shape(russian) == code_texts.code_shape(english), obj


def test_the_russian_visible_tests_grade_as_the_english_ones():
    """The Russian test_dropout and test_nllcriterion decide the same parts on a correct and a
    buggy class; only the messages are Russian."""
    from layers_lib.course.notebooks import demo_bugs, solutions
    from layers_lib.grading import visible_tests
    from layers_lib.grading.grade import ClassGrade
    from layers_lib.reference import Dropout, NLLCriterion

    class NoRescale(Dropout):
        update_output = demo_bugs.dropout_without_rescale

    class Summed(NLLCriterion):
        def update_output(self, input, target):
            return NLLCriterion.update_output(self, input, target) * input.shape[0]

    def grade(language, test, helpers, name, cls):
        namespace = dict(vars(visible_tests))
        for function in helpers + [test]:
            exec(code_texts.translate_code(solutions.plain_source(function), language), namespace)
        result = ClassGrade(name)
        with result.checking("visible tests"):
            namespace[test.__name__](cls)
        return {part: (r.checked > 0, r.failure is None) for part, r in result.parts.items()}, \
            " ".join(r.failure or "" for r in result.parts.values())

    cases = [(visible_tests.test_dropout, [], "Dropout", Dropout, NoRescale,
              "сохранённые значения не умножены"),
             (visible_tests.test_nllcriterion, [visible_tests.nll_test], "NLLCriterion", NLLCriterion,
              Summed, "функция потерь просуммирована по батчу")]
    for test, helpers, name, right, wrong, russian_hint in cases:
        for cls in (right, wrong):
            english, english_text = grade("en", test, helpers, name, cls)
            russian, russian_text = grade("ru", test, helpers, name, cls)
            assert english == russian, (name, cls)
            assert all(ok for _, ok in russian.values()) == (cls is right), (name, cls, russian)
        assert russian_hint in russian_text and russian_hint not in english_text


def test_translate_code_rewrites_only_the_texts(monkeypatch):
    source = '''def f(x, name):
    """Return the value.

    Details on two
    lines."""
    # a comment on
    # two lines
    y = x + 1  # add one
    assert_that(y > 0, name, "output for large inputs", f"{name}: the value {y:.2f} is "
                f"not positive, got {x}")
    return {"learning_rate": y}'''
    catalog = {code_texts.normalized(k): v for k, v in {
        "Return the value. Details on two lines.": "Вернуть значение.\n\nПодробности\nв три\nстроки.",
        "a comment on two lines": "комментарий\nна двух\nстроках",
        "add one": "прибавить один",
        "output for large inputs": "выход при больших входах",      # a quantity: stays English
        "{name}: the value {y:.2f} is not positive, got {x}":
            "{name}: получено {x},\nа значение {y:.2f} не положительно",
    }.items()}
    monkeypatch.setattr(code_texts, "code_catalog", lambda language: (catalog, set()))
    russian = code_texts.translate_code(source, "ru")
    assert russian == '''def f(x, name):
    """Вернуть значение.

    Подробности
    в три
    строки."""
    # комментарий
    # на двух
    # строках
    y = x + 1  # прибавить один
    assert_that(y > 0, name, "output for large inputs", f"{name}: получено {x}, "
                f"а значение {y:.2f} не положительно")
    return {"learning_rate": y}'''
    assert code_texts.translate_code(source, "en") == source
    shape = code_texts.code_shape
    assert shape('x = f(1, "a", f"{y:.2f} {z}")') == shape('x = f(1, "б", f"{z} и {y:.2f}")')
    assert shape("x = f(1)") != shape("x = f(2)") and shape('f"{y:.2f}"') != shape('f"{y:.3f}"')
    catalog[code_texts.normalized("add one")] = 'прибавить "один"'      # would end the string early
    catalog[code_texts.normalized("{name}: the value {y:.2f} is not positive, got {x}")] = '{x}: " + {name}'
    with pytest.raises(ValueError, match="does not compile|differs from the English"):
        code_texts.translate_code(source, "ru")
