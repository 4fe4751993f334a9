"""The course language in the code the notebooks copy from layers_lib.

The builders copy English code into the notebooks: the reference classes and the contract
(`[1]`, `modules.py`), the visible tests (`[2]`, `tests.py`) and the functions and constants of
`train_cells.py` (`[0]`, the `# from train_cells:` lines of `train.py`). For a course in another
language `translate_code(source, language)` rewrites the texts of that code from one catalog,
`content/code_<language>.md` (its format: `code_catalog`): docstrings, comments and string
literals (adjacent literals as one string, f-strings with their fields as written). Names,
numbers and the expressions of f-strings stay as they are, and so do the quantities that the
grading matches by prefix (`QUANTITY_ARGUMENTS`); a translation that changes more than the
texts fails the build (`code_shape`). English code is returned unchanged.

`tests/test_texts.py` records every text of the copied code in the Russian builds
(`recording_code_texts`): each that reads as words needs its entry, and each entry must be used.
"""
import ast
import contextlib
import functools
import io
import re
import tokenize
from dataclasses import dataclass, field

from .texts import CONTENT, WORDS, blocks

CODE_CATALOG = "code_{language}.md"
# Calls whose string argument names a *quantity*: `grading/parts.py` decides the graded part by
# its prefix ("output", "grad_W") and markers ("evaluate", "for large inputs"), so it stays
# English (the runtime translates what it shows). {function: position of the quantity argument}
QUANTITY_ARGUMENTS = {"assert_matches": 3, "assert_that": 2, "run_step": 0}
QUANTITY_KEYWORDS = ("quantity", "where")
_NBGRADER_MARKER = re.compile(r"^### (BEGIN|END) (SOLUTION|HIDDEN TESTS)\s*$")
_STRING_START = re.compile(r"([A-Za-z]*)('''|\"\"\"|'|\")")
_BRACES = re.compile(r"\{[^{}]*\}")


def normalized(text):
    """`text` with every run of white space one space: how catalog keys are compared (so an
    English text rewrapped in the code keeps its translation)."""
    return " ".join(text.split())


def braces(text):
    """The `{...}` groups of `text`, sorted (f-string fields, formula indices)."""
    return sorted(_BRACES.findall(text))


@dataclass
class CodeText:
    """One text of a piece of code: a docstring or other string (adjacent string literals
    together: they are one string), or a comment (consecutive full-line comments at the same
    column together: they are one text)."""
    kind: str                 # "string" or "comment"
    text: str                 # as written: a string's body (dedented if multi-line), a comment's words
    line: int                 # 1-based line of the source where it starts
    start: int                # offsets in the source of what a translation replaces
    end: int
    layout: dict = field(default_factory=dict, repr=False)
    quantity: bool = False    # a quantity argument (see QUANTITY_ARGUMENTS): never translated

    @property
    def key(self):
        return normalized(self.text)

    @property
    def prose(self):
        """Whether the text reads as words (then the catalog must translate it)."""
        words = normalized(_BRACES.sub("", self.text) if self.layout.get("f") else self.text)
        return bool(WORDS.search(words)) and not self.quantity


def _offsets(source):
    starts, total = [], 0
    for line in source.splitlines(keepends=True):
        starts.append(total)
        total += len(line)
    starts.append(total)
    return lambda row, col: starts[row - 1] + col


def _quantity_positions(source):
    """(line, column) of the strings that are quantity arguments of a call."""
    lines = source.splitlines()
    found = set()
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
        candidates = [k.value for k in node.keywords if k.arg in QUANTITY_KEYWORDS]
        if name in QUANTITY_ARGUMENTS and len(node.args) > QUANTITY_ARGUMENTS[name]:
            candidates.append(node.args[QUANTITY_ARGUMENTS[name]])
        for value in candidates:
            if isinstance(value, (ast.Constant, ast.JoinedStr)):
                line = lines[value.lineno - 1]      # col_offset counts UTF-8 bytes
                found.add((value.lineno, len(line.encode()[:value.col_offset].decode())))
    return found


def code_texts(source):
    """The CodeTexts of `source` (Python that tokenizes), in order."""
    at = _offsets(source)
    lines = source.splitlines()
    tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    quantities = _quantity_positions(source)
    found = []
    for token in tokens:                                              # the comments
        if token.type != tokenize.COMMENT or _NBGRADER_MARKER.match(token.string):
            continue
        (row, col), (_, end_col) = token.start, token.end
        prefix = re.match(r"#+ ?", token.string).group(0)
        own_line = not lines[row - 1][:col].strip()
        previous = found[-1] if found else None
        if (own_line and previous and previous.layout["own_line"]
                and previous.layout["col"] == col and previous.layout["last_row"] == row - 1):
            previous.text += "\n" + token.string[len(prefix):]
            previous.end, previous.layout["last_row"] = at(row, end_col), row
            continue
        found.append(CodeText("comment", token.string[len(prefix):], row, at(row, col), at(row, end_col),
                              {"prefix": prefix, "col": col, "own_line": own_line, "last_row": row}))
    index = 0
    while index < len(tokens):                                        # the strings
        if tokens[index].type != tokenize.STRING:
            index += 1
            continue
        group, between = [tokens[index]], []
        index += 1
        while index < len(tokens) and tokens[index].type in (tokenize.STRING, tokenize.NL,
                                                             tokenize.COMMENT):
            if tokens[index].type == tokenize.STRING:
                group.append(tokens[index])
            elif tokens[index].type == tokenize.COMMENT:
                between.append(tokens[index])
            index += 1
        unit = _string_text(group, at)
        if unit is not None:
            unit.quantity = group[0].start in quantities
            unit.layout["comments_inside"] = bool(between) and between[0].start < group[-1].start
            found.append(unit)
    return sorted(found, key=lambda u: u.start)


def _string_text(group, at):
    pieces = []
    for token in group:
        prefix, quote = _STRING_START.match(token.string).groups()
        if "b" in prefix.lower():
            return None
        pieces.append((prefix, quote, token.string[len(prefix) + len(quote):-len(quote)]))
    is_f = any("f" in prefix.lower() for prefix, _, _ in pieces)
    (row, col), (end_row, end_col) = group[0].start, group[-1].end
    layout = {"f": is_f, "pieces": len(pieces), "prefix": pieces[0][0].replace("f", "").replace("F", ""),
              "quote": pieces[0][1], "lines": end_row - row + 1,
              "continuation": group[1].start[1] if len(group) > 1 else col}
    if len(pieces) == 1 and len(pieces[0][1]) == 3:                  # a docstring
        body = pieces[0][2]
        core = body.strip()
        lead, trail = body[:len(body) - len(body.lstrip())], body[len(body.rstrip()):]
        first, *rest = core.split("\n")
        indents = [len(r) - len(r.lstrip()) for r in rest if r.strip()]
        indent = min(indents) if indents else col
        text = "\n".join([first] + [r[indent:] for r in rest])
        layout.update(block=True, lead=lead, trail=trail, indent=" " * indent)
    else:
        if any(len(quote) == 3 for _, quote, _ in pieces):
            raise ValueError(f"line {row}: a triple-quoted string among adjacent strings")
        text = "".join(body if "f" in prefix.lower() or not is_f else
                       body.replace("{", "{{").replace("}", "}}") for prefix, _, body in pieces)
        layout.update(block=False, lead=text[:len(text) - len(text.lstrip())],
                      trail=text[len(text.rstrip()):])
        text = text.strip()
    return CodeText("string", text, row, at(row, col), at(end_row, end_col), layout)


@functools.cache
def code_catalog(language):
    """({normalized English: translation as written}, {normalized English kept as it is}) of
    `content/code_<language>.md` (empty for English or a language without one).

    The file is a sequence of pairs: a `%% en` block (the English text as in the code: a
    docstring dedented, a string's body without quotes, a comment without `#`; wrapped at
    will) and the `%% <language>` block of its translation, whose lines are the lines of the
    docstring or comment (of the string's pieces, where the code splits it into adjacent
    literals). A `%% en keep` block is a text that stays English. `%% *` blocks are comments.
    """
    if language == "en":
        return {}, set()
    path = CONTENT / CODE_CATALOG.format(language=language)
    if not path.is_file():
        return {}, set()
    entries, keep, pending = {}, set(), None
    for block in blocks(path.read_text(encoding="utf-8")):
        where = f"content/{path.name}:{block.line}"
        if block.language == "*":
            if pending:
                raise ValueError(f"{where}: a comment between an English text and its translation")
            continue
        text = "\n".join(line.rstrip() for line in block.text.split("\n"))
        if block.language == "en" and block.hints == "keep" and pending is None:
            if normalized(text) in entries or normalized(text) in keep:
                raise ValueError(f"{where}: a second entry for {normalized(text)[:60]!r}")
            keep.add(normalized(text))
        elif block.language == "en" and block.hints is None and pending is None:
            pending = (normalized(text), where)
        elif block.language == language and block.hints is None and pending is not None:
            if pending[0] in entries or pending[0] in keep:
                raise ValueError(f"{pending[1]}: a second entry for {pending[0][:60]!r}")
            entries[pending[0]] = text
            pending = None
        else:
            raise ValueError(f"{where}: expected %% en, its %% {language} or %% en keep, "
                             f"not %% {block.language} {block.hints or ''}")
    if pending:
        raise ValueError(f"{pending[1]}: an English text without its translation")
    return entries, keep


_recorders = []


@contextlib.contextmanager
def recording_code_texts():
    """Collects [(language, CodeText, translated, the source's first line)] of every
    `translate_code` call while the block runs (the catalog's completeness test)."""
    seen = []
    _recorders.append(seen)
    try:
        yield seen
    finally:
        _recorders.remove(seen)


def _rendered(unit, translation):
    """The source that replaces `unit` for its `translation` (as the catalog writes it)."""
    layout = unit.layout
    lines = translation.split("\n")
    if unit.kind == "comment":
        prefix = layout["prefix"]
        if not layout["own_line"]:
            return prefix + normalized(translation)
        return ("\n" + " " * layout["col"]).join(
            prefix + line if line.strip() else prefix.rstrip() for line in lines)
    if layout["block"]:
        body = layout["lead"] + lines[0] + "".join(
            "\n" + (layout["indent"] + line if line.strip() else "") for line in lines[1:])
        return f'{layout["prefix"]}{layout["quote"]}{body}{layout["trail"]}{layout["quote"]}'
    parts = [normalized(line) for line in lines if line.strip()]
    if layout["pieces"] == 1 or layout["lines"] == 1 or layout["comments_inside"]:
        parts = [" ".join(parts)]             # one literal: it need not stand in brackets
    parts = [part + " " for part in parts[:-1]] + parts[-1:]
    parts[0], parts[-1] = layout["lead"] + parts[0], parts[-1] + layout["trail"]

    def literal(part):
        f = "f" if layout["f"] and ("{" in part or "}" in part) else ""
        return f'{layout["prefix"]}{f}{layout["quote"]}{part}{layout["quote"]}'

    return ("\n" + " " * layout["continuation"]).join(literal(part) for part in parts)


def code_shape(source):
    """The AST of `source` without its texts: string constants empty, an f-string only its
    fields (sorted: a translation may put them in another order)."""
    class Blank(ast.NodeTransformer):
        def visit_JoinedStr(self, node):
            fields = sorted(ast.dump(v) for v in node.values if isinstance(v, ast.FormattedValue))
            return ast.Constant(value=tuple(fields))

        def visit_Constant(self, node):
            return ast.Constant(value="") if isinstance(node.value, str) else node

    return ast.dump(Blank().visit(ast.parse(source)))


def translate_code(source, language):
    """`source` with its docstrings, comments and strings in `language`, from the catalog
    (a text the catalog lacks stays English; a quantity argument always does). Fails if the
    translation changed anything but the texts."""
    if language == "en":
        return source
    entries, keep = code_catalog(language)
    head = source.split("\n", 1)[0]
    done = []
    for unit in code_texts(source):
        translation = None if unit.quantity or unit.key in keep else entries.get(unit.key)
        for recorder in _recorders:
            recorder.append((language, unit, translation is not None, head))
        if translation is not None:
            done.append((unit, _rendered(unit, translation)))
    out = source
    for unit, text in sorted(done, key=lambda d: d[0].start, reverse=True):
        out = out[:unit.start] + text + out[unit.end:]
    try:
        same = code_shape(out) == code_shape(source)
    except SyntaxError as error:
        raise ValueError(f"the {language} code of `{head}` does not compile ({error}): check "
                         f"content/{CODE_CATALOG.format(language=language)}") from None
    if not same:
        raise ValueError(f"the {language} code of `{head}` differs from the English in more than "
                         f"its texts: check content/{CODE_CATALOG.format(language=language)}")
    return out
