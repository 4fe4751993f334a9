"""The checks kill every student-style bug of the corpus and keep full marks for correct code.

Each mutant (tests/mutants/__init__.py: one broken class or function, the reference for every
other name) is graded by the real path, the visible tests and the hidden checks
(`run_hidden_checks(..., include_visible=True)`, what a graded cell of [2] runs). It is killed
when it scores less than full points for the class it breaks; it must also lose the part it
breaks. A survivor is a blind spot of the checks: fix the checks, not the mutant.
"""
import collections
import re

import pytest

from layers_lib import i18n
from layers_lib.course.hidden_checks import run_hidden_checks
from layers_lib.grading.parts import PARTS
from layers_lib.grading.visible_tests import ADVANCED_NAMES, GRADED_NAMES
from mutants import CORRECT, MUTANTS, namespace_with


@pytest.fixture(scope="module")
def graded():
    """{mutant: ClassResult}, graded once for the tests of this module."""
    return {key: run_hidden_checks(m.name, namespace_with(m.source), include_visible=True)
            for key, m in MUTANTS.items()}


def test_the_corpus_covers_every_graded_class_with_50_bugs_or_more():
    per_class = collections.Counter(m.name for m in MUTANTS.values())
    assert len(MUTANTS) >= 50
    assert set(per_class) == set(GRADED_NAMES + ADVANCED_NAMES), set(GRADED_NAMES + ADVANCED_NAMES) - set(per_class)
    for key, m in MUTANTS.items():
        assert m.part in {p.name for p in PARTS[m.name]}, key


def test_every_mutant_is_killed(graded, capsys):
    survivors = [key for key, r in graded.items() if r.points >= r.max_points]
    with capsys.disabled():
        print(f"\nmutant kill rate: {len(graded) - len(survivors)}/{len(graded)}")
    assert not survivors, f"blind spots, these bugs earn full marks: {survivors}"


def test_every_mutant_loses_the_part_it_breaks(graded):
    spared = {key: graded[key].parts for key, m in MUTANTS.items() if graded[key].parts[m.part]}
    assert not spared, spared


@pytest.mark.parametrize("case", sorted(CORRECT))
def test_correct_styles_earn_full_marks(case):
    name, source = CORRECT[case]
    result = run_hidden_checks(name, namespace_with(source), include_visible=True)
    assert result.passed and result.points == result.max_points, result.failures


def test_a_russian_course_grades_every_mutant_alike_and_tells_it_in_russian(graded):
    """The language changes what a student reads, never a score: quantities stay English keys
    (grading/parts.py decides the part by them), only their display is translated."""
    with i18n.using("ru"):
        russian = {key: run_hidden_checks(m.name, namespace_with(m.source), include_visible=True)
                   for key, m in MUTANTS.items()}
        # the settings the checks named (" (float32, batch 5)"), where Russian differs from English
        settings = [text for text in i18n._settings if text.startswith(" ") and i18n.quantity(text) != text]
    for key in MUTANTS:
        assert (russian[key].parts, russian[key].points) == (graded[key].parts, graded[key].points), key
        assert [f["quantity"] for f in russian[key].failures] == [f["quantity"] for f in graded[key].failures]
    messages = [f["message"] for r in russian.values() for f in r.failures]
    assert len(messages) >= len(MUTANTS) and len(settings) > 50
    assert not [m for m in messages if not re.search("[а-яА-Я]", m)]
    assert not [(s, m) for m in messages for s in settings if s in m], "a setting shown in English"
    assert sum(" (float32, батч " in m or " (float64, форма " in m for m in messages) >= 5
