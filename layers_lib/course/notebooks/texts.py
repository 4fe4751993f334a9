"""Every text a student reads, in both languages, from one file: the bilingual content format.

A content file (`content/<notebook>/*.md` or `.py`) is a sequence of blocks. A line

    %% en            starts English text          %% ru            its Russian counterpart
    %% en formulas   text for the "formulas given" hint level (the backward formulas)
    %% en derive     text for the "derive" hint level (how to derive them instead)
    %% en advanced   text only the advanced track has (Conv2d, MaxPool2d, Flatten)
    %% *             language-neutral text (code without prose; only in .py files)

starts a block, which runs to the next marker. `select(text, variant)` keeps the blocks of the
variant's language, hint level and track, in file order, joined by a blank line (markdown:
a block is one or more paragraphs). `select_code(text, variant)` keeps the same blocks of a
`.py` file exactly as they stand between the markers (the file minus the marker lines and the
other blocks), so blank lines of the code survive. `problems(text, name)` lists what makes a
file incomplete: a block in one language without its counterpart in the other (the two
languages must have the same sequence of tags), a "formulas" block without a "derive" one, or
prose outside a language block (in a `.py` file: a comment or a string that reads as words).
`tests/test_texts.py` runs it on every content file. (The texts of the code the builders copy
from layers_lib, its docstrings, comments and messages, are translated by `code_texts.py`.)
"""
from __future__ import annotations

import contextlib
import functools
import io
import re
import tokenize
from dataclasses import dataclass, field
from importlib import resources

LANGUAGES = ("en", "ru")
HINT_LEVELS = ("formulas", "derive")
TRACKS = ("basic", "advanced")
TAGS = HINT_LEVELS + ("advanced",)
MARKER = re.compile(r"^%% (\*|[a-z]{2})(?: ([a-z]+))?[ \t]*$")
CONTENT = resources.files(__package__) / "content"

# Lines of a .py content file that are not prose although they read as words.
_NOT_PROSE = re.compile(r"^\s*(# from train_cells: |### (BEGIN|END) (SOLUTION|HIDDEN TESTS)\s*$)")
WORDS = re.compile(r"[^\W\d_]{3,} [^\W\d_]{2,}")   # what reads as words


@dataclass(frozen=True)
class Variant:
    """What the instructor chose at build time: the course language, the track and the hint level."""
    language: str = "en"
    track: str = "basic"
    hints: str = "formulas"

    def __post_init__(self):
        for value, allowed, what in ((self.language, LANGUAGES, "language"), (self.track, TRACKS, "track"),
                                     (self.hints, HINT_LEVELS, "hint level")):
            if value not in allowed:
                raise ValueError(f"unknown {what} {value!r}: choose one of {', '.join(allowed)}")

    @property
    def advanced(self):
        return self.track == "advanced"

    def __str__(self):
        return f"{self.language}, {self.track}, {self.hints}"


VARIANTS = tuple(Variant(language, track, hints)
                 for language in LANGUAGES for track in TRACKS for hints in HINT_LEVELS)


@dataclass(frozen=True)
class Block:
    language: str          # "en", "ru" or "*"
    hints: str | None      # the tag: None, "formulas", "derive" or "advanced"
    text: str              # the body without its leading and trailing blank lines
    line: int              # 1-based line of the marker (0: text before any marker)
    raw: str = field(default="", compare=False)   # the body exactly as written

    def kept_for(self, variant):
        return (self.language in ("*", variant.language)
                and (self.hints is None or self.hints == variant.hints
                     or (self.hints == "advanced" and variant.advanced)))


def blocks(text):
    """The blocks of a content file; text before the first marker is a neutral block."""
    found, current, body, start = [], ("*", None), [], 0
    for number, line in enumerate(text.splitlines(), 1):
        match = MARKER.match(line)
        if match:
            found.append(_block(current, body, start))
            current, body, start = (match.group(1), match.group(2)), [], number
        else:
            body.append(line)
    found.append(_block(current, body, start))
    return [b for b in found if b.text or b.line]


def _block(current, body, start):
    raw = "\n".join(body)
    return Block(*current, raw.strip("\n"), start, raw)


def select(text, variant=Variant()):
    """The file's text for `variant`: its language's blocks and the neutral ones, in order."""
    return "\n\n".join(b.text for b in blocks(text) if b.kept_for(variant) and b.text)


def select_code(text, variant=Variant()):
    """Like `select`, for code: the kept blocks as written (marker lines removed), so a blank
    line before or after a marker stays in the code."""
    return "\n".join(b.raw for b in blocks(text) if b.kept_for(variant)).strip("\n")


def fill(text, **values):
    """`text` with every `{name}` of `values` replaced (other braces, LaTeX's, stay as they are)."""
    for name, value in values.items():
        text = text.replace("{" + name + "}", str(value))
    return text


@functools.cache
def _files(notebook):
    return {entry.name: entry for entry in (CONTENT / notebook).iterdir()
            if entry.name.endswith((".md", ".py"))}


def content_file(notebook, key):
    """The content file `content/<notebook>/NN_<key>.md|.py`."""
    found = [entry for name, entry in sorted(_files(notebook).items())
             if name.split("_", 1)[-1].rsplit(".", 1)[0] == key]
    if len(found) != 1:
        raise LookupError(f"content/{notebook}: {len(found)} files named NN_{key}.md/.py (need one)")
    return found[0]


def content(notebook, key, variant=Variant(), **values):
    """The text of `content/<notebook>/NN_<key>.md` for `variant`, `{name}`s filled from `values`."""
    entry = content_file(notebook, key)
    pick = select_code if entry.name.endswith(".py") else select
    text = pick(entry.read_text(encoding="utf-8"), variant)
    if not text.strip():
        raise ValueError(f"content/{notebook}/{entry.name} has no text for {variant}")
    return fill(text, **values)


def every_content_file():
    """[(name relative to content/, text)] of every content file."""
    return [(f"{folder.name}/{entry.name}", entry.read_text(encoding="utf-8"))
            for folder in sorted(CONTENT.iterdir(), key=lambda f: f.name) if folder.is_dir()
            for entry in sorted(folder.iterdir(), key=lambda f: f.name)
            if entry.name.endswith((".md", ".py"))]


# ----------------------------------------------------------------------------- the runtime language

def language_setup(variant):
    """The lines that select the student runtime's language in a notebook's first code cell
    ("" for English, the runtime's default: the English notebooks stay as they were)."""
    if variant.language == "en":
        return ""
    return f'from layers_lib.i18n import set_language\nset_language("{variant.language}")\n\n'


@contextlib.contextmanager
def runtime_language(language):
    """The student runtime (`layers_lib.i18n`) speaks `language` while the block runs, so text
    the builders take from it (the split of a class's points) comes out in the course language.
    Without `layers_lib.i18n` the block runs unchanged (English)."""
    try:
        from layers_lib import i18n
    except ImportError:
        yield None
        return
    with i18n.using(language):
        yield i18n


# ----------------------------------------------------------------------------- completeness

def _prose_in_code(parsed, language):
    """(line, token) of the comments and string literals that read as words in the neutral
    blocks of a .py content file, tokenized as the `language` build puts the code together."""
    lines, where = [], {}
    for block in parsed:
        if block.language not in ("*", language):
            continue
        for offset, line in enumerate(block.raw.split("\n")):
            lines.append(line)
            if block.language == "*" and not _NOT_PROSE.match(line):
                where[len(lines)] = block.line + 1 + offset     # the line in the file
    kinds = {tokenize.COMMENT, tokenize.STRING, getattr(tokenize, "FSTRING_MIDDLE", tokenize.STRING)}
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO("\n".join(lines) + "\n").readline))
    except (tokenize.TokenError, IndentationError, SyntaxError) as error:
        return [(0, f"(the {language} code does not tokenize: {error})")]
    found = []
    for token in tokens:
        if token.type in kinds and WORDS.search(token.string):
            rows = [row for row in range(token.start[0], token.end[0] + 1) if row in where]
            if rows:
                found.append((where[rows[0]], token.string.strip()[:60]))
    return found


def problems(text, name):
    """Why the content file `name` is not complete in every language and hint level ([] if it is)."""
    found = []
    parsed = blocks(text)
    for block in parsed:
        if block.language not in ("*",) + LANGUAGES:
            found.append(f"{name}:{block.line}: unknown language {block.language!r}")
        if block.hints not in (None,) + TAGS:
            found.append(f"{name}:{block.line}: unknown tag {block.hints!r} "
                         f"(a hint level: {', '.join(HINT_LEVELS)}; or advanced)")
        if block.language == "*":
            if block.hints:
                found.append(f"{name}:{block.line}: a neutral block cannot have a tag")
            if name.endswith(".md") and block.text.strip():
                found.append(f"{name}:{block.line}: text outside a language block (%% en / %% ru)")
        elif not block.text.strip():
            found.append(f"{name}:{block.line}: empty {block.language} block")
    if name.endswith(".py"):
        seen = set()
        for language in LANGUAGES:
            for line, prose in _prose_in_code(parsed, language):
                if (line, prose) not in seen:
                    seen.add((line, prose))
                    found.append(f"{name}:{line}: prose outside a language block: {prose}")
    tags = {lang: [b.hints for b in parsed if b.language == lang] for lang in LANGUAGES}
    if any(tags.values()) and len({tuple(t) for t in tags.values()}) > 1:
        found.append(f"{name}: the languages differ: " + "; ".join(
            f"{lang} has {len(t)} block(s) {t}" for lang, t in tags.items()))
    for lang, t in tags.items():
        if t.count("formulas") != t.count("derive"):
            found.append(f"{name}: {lang} has {t.count('formulas')} 'formulas' and "
                         f"{t.count('derive')} 'derive' block(s): each needs the other")
    return found

