"""The course language: every text the student runtime shows exists in English and Russian.

    from layers_lib import i18n
    i18n.set_language("ru")                 # the release's setup cells do this
    tr("{layer} {quantity}: OK", layer="Linear", quantity="output")

The English text is the key: `tr(template, **fields)` looks the template up in the catalog of
the current language (English needs none) and fills in the fields with `str.format` (only when
fields are given, so a text without fields is returned as it is). A text missing from a catalog
falls back to English; `tests/test_i18n.py` fails when any template of the runtime lacks its
Russian entry, or an entry has other `{fields}` than its English key, or is used nowhere.

Module-level constants are marked with `mark(text)` (which returns the text unchanged, for the
catalog test) and translated where they are shown, `tr(CONSTANT)`: the language may be chosen
after the module was imported. Identifiers shared with the code (quantities such as "output" or
"grad_W", dtypes, method names) are never translated.

A quantity names what a check compares ("output", "grad_W (float32, batch 5)") and decides the
graded part it belongs to (`grading/parts.py`), so it stays English wherever it travels and the
score never depends on the language; `quantity(text)` shows it in the course language where a
student reads it: the identifier stays, the phrases naming the setting are translated. A phrase
is known once it was built with `setting(template, **fields)` or listed in QUANTITY_PHRASES.

The language lives in the environment variable LAYERS_LIB_LANGUAGE ("en" when unset or unknown),
so processes started from here inherit it; `set_language` sets it. The isolated worker gets the
language and the catalog from the grader (see `grading/isolation/channel.py`), since it starts
with a minimal environment. The catalog of the student runtime is `layers_lib/i18n_ru.py`;
course code (which must not ship in the student kit) adds its own texts with `register`.
"""
from __future__ import annotations

import contextlib
import os
import re

# Imported now, not on first use: the isolated worker loads this module privately (with the
# training loop) and blocks any later import of layers_lib there.
from . import i18n_ru

LANGUAGES = ("en", "ru")
DEFAULT = "en"
ENVIRONMENT = "LAYERS_LIB_LANGUAGE"

_RUNTIME = {"ru": i18n_ru.CATALOG}                                  # the student runtime's texts
_registered = {lang: {} for lang in LANGUAGES if lang != DEFAULT}   # course catalogs


def _check(lang):
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}: the course exists in "
                         f"{', '.join(repr(x) for x in LANGUAGES)}")
    return lang


def language():
    """The current course language ("en" or "ru")."""
    lang = os.environ.get(ENVIRONMENT, DEFAULT)
    return lang if lang in LANGUAGES else DEFAULT


def set_language(lang):
    """Choose the course language for this process and the processes it starts."""
    os.environ[ENVIRONMENT] = _check(lang)


@contextlib.contextmanager
def using(lang):
    """Temporarily switch the language (a notebook builder, a test)."""
    before = os.environ.get(ENVIRONMENT)
    set_language(lang)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(ENVIRONMENT, None)
        else:
            os.environ[ENVIRONMENT] = before


def runtime_catalog(lang=None):
    """{English template: translation} of the student runtime for `lang` (default: the current
    language); {} for English."""
    return _RUNTIME.get(_check(lang or language()), {})


def register(catalog, lang="ru"):
    """Add course texts {English template: translation} (e.g. the hidden checks' messages,
    kept out of the student kit). An English key the runtime or an earlier registration
    translates differently is an error."""
    if _check(lang) == DEFAULT:
        raise ValueError("English needs no catalog: the English text is the key")
    known = {**runtime_catalog(lang), **_registered[lang]}
    clashes = sorted(key for key, text in catalog.items() if key in known and known[key] != text)
    if clashes:
        raise ValueError(f"these texts already have another {lang} translation: {clashes}")
    _registered[lang].update(catalog)


def tr(template, /, **fields):
    """`template` in the current language, formatted with `fields` (str.format) when given."""
    lang = language()
    text = template
    if lang != DEFAULT:
        text = _RUNTIME[lang].get(template) or _registered[lang].get(template) or template
    return text.format(**fields) if fields else text


def mark(template):
    """A module-level text to be translated where it is shown (`tr(CONSTANT)`): returned as it
    is; the mark lets the catalog test find it."""
    return template


# Fixed phrases of the visible tests' quantities (the hidden checks build theirs with `setting`).
QUANTITY_PHRASES = (mark(" for large inputs"), mark(" (evaluate mode)"), mark(" (same mask as forward)"),
                    mark(" (kept values scaled by 1/(1-p))"), mark("number of dropped elements"),
                    mark("parameter gradients"))
_settings = {phrase: (phrase, {}) for phrase in QUANTITY_PHRASES}   # English text -> (template, fields)
_pattern_cache = {}


def setting(template, /, **fields):
    """The English text of a quantity's setting, e.g. `setting(" ({dtype}, batch {batch})",
    dtype="float32", batch=5)` -> " (float32, batch 5)"; `quantity` will show it translated.
    The catalog tests read `setting(...)` calls as they read `tr(...)` calls."""
    text = template.format(**fields)
    _settings[text] = (template, fields)
    return text


def _phrase_pattern():
    # one alternation, longest first; a phrase that starts or ends with a letter matches whole words
    key = (id(_settings), len(_settings))           # settings are only ever added
    if key not in _pattern_cache:
        parts = [("(?<!\\w)" if text[0].isalnum() else "") + re.escape(text)
                 + ("(?!\\w)" if text[-1].isalnum() else "")
                 for text in sorted(_settings, key=len, reverse=True)]
        _pattern_cache.clear()
        _pattern_cache[key] = re.compile("|".join(parts))
    return _pattern_cache[key]


def quantity(text):
    """A quantity as the student reads it, in the course language: "grad_W (float32, batch 5)"
    -> "grad_W (float32, батч 5)". Identifiers, numbers and unknown words stay as they are."""
    if language() == DEFAULT or not text:
        return text
    return _phrase_pattern().sub(_translated_setting, text)


def _translated_setting(match):
    template, fields = _settings[match.group(0)]
    # a text field ("random values") is itself a marked text; numbers and dtypes stay
    return tr(template, **{k: tr(v) if isinstance(v, str) else v for k, v in fields.items()})
