"""Autograde step (last in the chain) that keeps student HTML and JavaScript out of grader views.

Everything in an autograded notebook came from the student: the markdown cells, and every output,
because the outputs are produced by a kernel that runs the student's code (it can `display` any
MIME bundle, open any widget, write any notebook metadata through the widget state). nbgrader
turns these notebooks into HTML for `generate_feedback` and for the formgrader with nbconvert's
classic template, which puts `text/html` outputs into the page as they are, wraps
`application/javascript` in `<script>`, loads the widget manager for widget views and renders
markdown cells (raw HTML included) without sanitising them (nbgrader's own `feedback` and
`formgrade` templates override the markdown block and ignore `HTMLExporter.sanitize_html`).

Why this file is long: one step, but it has to know every active thing a notebook can carry
(MIME types, markdown HTML, MathJax commands, image metadata, widget state) and keep the course's
own report HTML through an allow-list parser; split up, those rules would be harder to audit.

`NeutralizeActiveContent` rewrites the notebook so that those views render only inert content:

* outputs (`display_data`, `execute_result`) keep only plain data (`text/plain`, `image/png`,
  `image/jpeg`, `application/json`). Every other representation (`text/html`, `text/markdown`,
  `text/latex`, `image/svg+xml`, `application/javascript`, `application/vnd.*` such as widget
  views, anything unknown) is removed and the output gets a `text/plain` that says so, followed
  by the removed source as text (nbconvert and JupyterLab escape `text/plain`). One exception,
  so that the static HTML reports of the course (`layers_lib.grading.render`) survive in the
  feedback: a `text/html` made only of an allowlist of inert tags, attributes, URLs and inline
  styles (:func:`clean_html`) stays, re-serialised from its parse (every text and attribute
  escaped, tags balanced), not copied;
* the widget state in the notebook metadata (`metadata.widgets`) is removed;
* a markdown cell whose rendering (nbconvert's own `markdown2html`) contains raw HTML, anything
  outside the allowlist (`javascript:`/`data:` links, mermaid blocks, ...), dangerous MathJax
  commands (`\\href`, `\\require`, ...) or fails to render is replaced by its source as a code
  block (escaped by the renderer) under a note; other markdown cells are left untouched;
* a raw cell whose source is not clean HTML is HTML-escaped;
* a cell of an unknown type becomes a raw cell of its escaped source, an execution count that
  is not an integer is cleared (nbconvert writes both unescaped);
* `width`/`height` in output metadata that are not numbers are dropped (nbconvert writes them
  unquoted into `<img>`: `"1 onerror=alert(1)"` would be an event handler).

Install it last in `Autograde.autograde_preprocessors` (after `SaveAutoGrades`: grading is
unchanged) and in `HTMLExporter.preprocessors` (generate_feedback and formgrader, also for
notebooks autograded before the step existed): :func:`install`.
"""
import html
import json
import re
from html.parser import HTMLParser

import nbformat
from traitlets import Bool, Integer

from nbgrader.preprocessors import NbGraderPreprocessor

#: representations kept as they are: nbconvert and JupyterLab render them as text or as a picture
PASSIVE_MIMETYPES = ("text/plain", "image/png", "image/jpeg", "application/json")
#: representations whose source is shown as text after the note
TEXT_MIMETYPES = ("text/html", "text/markdown", "text/latex", "image/svg+xml",
                  "application/javascript", "text/javascript")
#: ids allowed in a kept text/html output: the anchors of the course's reports
OUTPUT_ID_PREFIX = "gi-"
NOTE = "[neutralised by the grader: {} not rendered, shown as text]"
WIDGET_NOTE = "[neutralised by the grader: an interactive widget ({}), not shown in grader views]"
MARKDOWN_NOTE = ("*[neutralised by the grader: this cell contained HTML, links or commands that "
                 "could run code; its source is shown as text]*")

# ----------------------------------------------------------------------------- the allowlist
_VOID = {"img", "br", "hr", "input", "col", "wbr"}
_TAGS = {"a", "b", "i", "em", "strong", "u", "s", "del", "ins", "mark", "small", "sub", "sup",
         "code", "pre", "kbd", "samp", "var", "span", "div", "p", "br", "hr", "wbr",
         "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "ul", "ol", "li", "dl", "dt", "dd",
         "table", "thead", "tbody", "tfoot", "tr", "td", "th", "caption", "colgroup", "col",
         "figure", "figcaption", "img", "input", "abbr", "cite", "q", "details", "summary"}
#: contents dropped with the element (they are never text)
_DROP_CONTENT = {"script", "style", "template", "iframe", "object", "embed", "noscript",
                 "textarea", "title", "xmp", "noembed", "noframes", "svg", "math", "select"}
_GLOBAL_ATTRS = {"class", "id", "title", "style", "lang", "dir"}
_TAG_ATTRS = {"a": {"href"}, "img": {"src", "alt", "width", "height"},
              "td": {"colspan", "rowspan", "align"}, "th": {"colspan", "rowspan", "align", "scope"},
              "ol": {"start", "type"}, "col": {"span"}, "colgroup": {"span"},
              "input": {"type", "checked", "disabled"}, "details": {"open"}, "q": {"cite"}}
_DATA_ATTR = re.compile(r"data-[a-z0-9_.\-]+\Z")
_NUMBER = re.compile(r"\s*\d{1,5}(%|px)?\s*\Z")
_CHECKED_VALUES = {"colspan": _NUMBER, "rowspan": _NUMBER, "width": _NUMBER, "height": _NUMBER,
                   "start": _NUMBER, "span": _NUMBER,
                   "align": re.compile(r"(left|right|center|justify)\Z", re.I),
                   "scope": re.compile(r"(row|col|rowgroup|colgroup)\Z", re.I),
                   "dir": re.compile(r"(ltr|rtl|auto)\Z", re.I),
                   "lang": re.compile(r"[A-Za-z0-9\-]{1,35}\Z")}
_TYPES = re.compile(r"(1|a|i|disc|circle|square)\Z", re.I)       # <ol type>, <ul type>
#: classes that make a page script act on the element (mermaid renders diagrams with links)
_ACTIVE_CLASSES = re.compile(r"(^|\s)(mermaid|jp-Mermaid|jupyter-widgets|widget-\S*|"
                             r"tex2jax_process|mathjax\S*)(\s|$)", re.I)
_SCHEME = re.compile(r"([a-z][a-z0-9+.\-]*):", re.I)
_LINK_SCHEMES = {"http", "https", "mailto"}
_IMAGE_DATA = re.compile(r"data:image/(png|jpeg|gif|webp|svg\+xml);base64,[A-Za-z0-9+/=\s]*\Z",
                         re.I)
_CSS_PROPERTIES = {
    "background", "background-color", "color", "opacity", "font-family", "font-size",
    "font-weight", "font-style", "font-variant-numeric", "text-align", "text-decoration",
    "vertical-align", "line-height", "white-space", "word-break", "overflow-wrap", "display",
    "gap", "flex-wrap", "flex-direction", "align-items", "justify-content", "border",
    "border-top", "border-right", "border-bottom", "border-left", "border-color",
    "border-style", "border-width", "border-left-color", "border-radius", "border-collapse",
    "border-spacing", "outline", "outline-offset", "padding", "padding-top", "padding-right",
    "padding-bottom", "padding-left", "margin", "margin-top", "margin-right",
    "margin-bottom", "margin-left", "width", "height", "max-width", "min-width", "max-height",
    "min-height", "image-rendering", "list-style", "list-style-type"}
_CSS_VALUE = re.compile(r"[#\w\s.,%+\-()!]*\Z")
_CSS_FUNCTION = re.compile(r"([a-z\-]+)\s*\(", re.I)
_CSS_FUNCTIONS = {"var", "rgb", "rgba", "hsl", "hsla", "calc"}

#: MathJax commands that make links, load extensions or add classes, styles and HTML
_TEX_COMMANDS = re.compile(r"\\(href|url|require|class|cssId|style|unicode|html|data|mmlToken|"
                           r"texttip|mathtip|toggle|FormatHTML|bbox)(?![A-Za-z])")


def _control_free(value):
    """The value as a browser reads a URL: no whitespace or control characters anywhere."""
    return "".join(ch for ch in value if ord(ch) > 0x20 and ord(ch) != 0x7f)


def safe_url(value, image=False):
    """True for a relative URL or a fragment, for http(s) and mailto (links), for http(s) and a
    base64 data:image (images). Character references are already decoded by the parser."""
    url = _control_free(value)
    m = _SCHEME.match(url)
    if m is None:
        return True                                         # relative: no scheme
    scheme = m.group(1).lower()
    if image:
        return scheme in {"http", "https"} or (scheme == "data" and bool(_IMAGE_DATA.match(url)))
    return scheme in _LINK_SCHEMES


def safe_style(value):
    """True for declarations of allowlisted properties with plain values (no url(), no
    expression(), no escapes, comments or quotes)."""
    for declaration in value.split(";"):
        if not declaration.strip():
            continue
        prop, sep, val = declaration.partition(":")
        if not sep or prop.strip().lower() not in _CSS_PROPERTIES or not _CSS_VALUE.match(val):
            return False
        if any(f.lower() not in _CSS_FUNCTIONS for f in _CSS_FUNCTION.findall(val)):
            return False
    return True


class _Cleaner(HTMLParser):
    def __init__(self, id_prefix=None):
        super().__init__(convert_charrefs=True)
        self.out, self.open, self.problems, self.dropping = [], [], [], []
        self.id_prefix = id_prefix

    def _attr_ok(self, tag, name, value):
        if name.startswith("on"):
            return False
        if not (name in _GLOBAL_ATTRS or name in _TAG_ATTRS.get(tag, ()) or _DATA_ATTR.match(name)):
            return False
        if name in ("href", "src", "cite"):
            return safe_url(value, image=name == "src")
        if name == "style":
            return safe_style(value)
        if name == "class":
            return not _ACTIVE_CLASSES.search(value)
        if name == "id" and self.id_prefix is not None:
            return value.startswith(self.id_prefix)    # not the ids of the grader's page
        if name == "type":
            return value.lower() == "checkbox" if tag == "input" else bool(_TYPES.match(value))
        if name in _CHECKED_VALUES:
            return bool(_CHECKED_VALUES[name].match(value))
        return True

    def _attrs(self, tag, attrs):
        kept = []
        for name, value in attrs:
            value = "" if value is None else value
            if self._attr_ok(tag, name, value):
                kept.append(f' {name}="{html.escape(value, quote=True)}"')
            else:
                self.problems.append(f"<{tag} {name}={value[:60]!r}>")
        if tag == "input" and ' type="' not in "".join(kept):
            self.problems.append("<input> that is not a checkbox")
            return None
        return "".join(kept)

    def handle_starttag(self, tag, attrs):
        if self.dropping:
            if tag == self.dropping[-1]:
                self.dropping.append(tag)
            return
        if tag not in _TAGS:
            self.problems.append(f"<{tag}>")
            if tag in _DROP_CONTENT:
                self.dropping.append(tag)
            return
        kept = self._attrs(tag, attrs)
        if kept is None:
            return
        self.out.append(f"<{tag}{kept}>")
        if tag not in _VOID:
            self.open.append(tag)

    def handle_startendtag(self, tag, attrs):
        if self.dropping:
            return
        if tag not in _TAGS:
            self.problems.append(f"<{tag}/>")
            return
        self.handle_starttag(tag, attrs)
        if tag not in _VOID and self.open and self.open[-1] == tag:
            self.handle_endtag(tag)

    def handle_endtag(self, tag):
        if self.dropping:
            if tag == self.dropping[-1]:
                self.dropping.pop()
            return
        if tag in self.open:
            while self.open:
                top = self.open.pop()
                self.out.append(f"</{top}>")
                if top == tag:
                    break

    def handle_data(self, data):
        if self.dropping:
            return
        if not {"pre", "code"} & set(self.open) and _TEX_COMMANDS.search(data):
            # MathJax typesets text outside <pre>/<code> of the page (its Safe extension already
            # refuses javascript: in \\href; this keeps such commands out altogether)
            self.problems.append("MathJax command " + _TEX_COMMANDS.search(data).group(0))
        self.out.append(html.escape(data, quote=False))

    def handle_comment(self, data):
        # dropped; and flagged, as browsers and this parser disagree on odd comments ("<!-->")
        self.problems.append(f"<!--{data[:40]}-->")

    def handle_decl(self, decl):
        self.problems.append(f"<!{decl[:40]}>")

    def unknown_decl(self, data):
        self.problems.append(f"<![{data[:40]}]>")

    def handle_pi(self, data):
        self.problems.append(f"<?{data[:40]}>")

    def close(self):
        super().close()
        self.out.extend(f"</{t}>" for t in reversed(self.open))
        self.open = []


def clean_html(fragment, id_prefix=None):
    """(html, problems): the fragment re-serialised from its parse with only allowlisted tags,
    attributes, URLs and styles, every text and attribute value escaped, every element closed;
    `problems` lists what was dropped (empty: the fragment was entirely inert). With
    `id_prefix`, an `id` must start with it (an output cannot take the id of an element of the
    formgrader's page, such as a score field named after a grade_id)."""
    cleaner = _Cleaner(id_prefix)
    cleaner.feed(fragment)
    cleaner.close()
    return "".join(cleaner.out), cleaner.problems


# ----------------------------------------------------------------------------- outputs
def _text(value):
    if isinstance(value, list):
        return "".join(str(v) for v in value)
    return value if isinstance(value, str) else json.dumps(value, default=str)


def _cap(text, limit):
    if not limit or len(text) <= limit:
        return text
    return text[:limit] + f"\n[... {len(text) - limit} characters cut]"


_SIZE = re.compile(r"\d{1,6}(\.\d{1,6})?\Z")


def _clean_sizes(metadata):
    """Drop `width`/`height` that are not plain numbers, at the top and per MIME type:
    nbconvert writes them into <img> *unquoted* (`width={{ width | escape_html }}`), so
    "1 onerror=alert(1)" would become an event handler."""
    changed = False
    for scope in [metadata] + [v for v in metadata.values() if isinstance(v, dict)]:
        for key in ("width", "height"):
            if key not in scope:
                continue
            value = scope[key]
            ok = (isinstance(value, (int, float)) and not isinstance(value, bool)) or \
                (isinstance(value, str) and _SIZE.match(value))
            if not ok:
                del scope[key]
                changed = True
    return changed


def neutralize_output(output, keep_clean_html=True, max_chars=100_000):
    """Rewrite one output in place (see the module docstring); True when it changed."""
    if output.get("output_type") not in ("display_data", "execute_result"):
        return False
    metadata = output.get("metadata")
    sizes = _clean_sizes(metadata) if isinstance(metadata, dict) else False
    data = output.get("data") or {}
    active = [m for m in data if m not in PASSIVE_MIMETYPES]
    if not active:
        return sizes
    kept_html = None
    if keep_clean_html and "text/html" in active:
        cleaned, problems = clean_html(_text(data["text/html"]), id_prefix=OUTPUT_ID_PREFIX)
        if not problems:
            kept_html = cleaned
    removed = [m for m in active if not (m == "text/html" and kept_html is not None)]
    new = {m: v for m, v in data.items() if m in PASSIVE_MIMETYPES}
    if kept_html is not None:
        new["text/html"] = kept_html
    if removed:
        sources = [_cap(_text(data[m]), max_chars) for m in removed if m in TEXT_MIMETYPES]
        if sources:
            text = "\n\n".join([NOTE.format(", ".join(removed))] + sources)
        else:
            text = WIDGET_NOTE.format(", ".join(removed)) if any(
                "widget" in m for m in removed) else NOTE.format(", ".join(removed))
            if "text/plain" in new and not any("widget" in m for m in removed):
                text += "\n" + _text(new["text/plain"])
        new["text/plain"] = text
    output["data"] = type(data)(new) if isinstance(data, dict) else new
    if isinstance(metadata, dict):
        for m in list(metadata):
            if m in removed or m == "text/html":
                del metadata[m]
        if removed:
            metadata["neutralized"] = list(removed)
    return True


# ----------------------------------------------------------------------------- markdown cells
def _render_markdown(source, attachments, escape):
    from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath
    renderer = IPythonRenderer(escape=escape, attachments=attachments or {})
    return MarkdownWithMath(renderer=renderer).render(source)


def markdown_problems(source, attachments=None):
    """What makes a markdown source unsafe to render as nbconvert does (empty list: safe)."""
    try:
        raw = _render_markdown(source, attachments, escape=False)
        escaped = _render_markdown(source, attachments, escape=True)
    except Exception as exc:                    # noqa: BLE001 - e.g. a missing attachment
        return [f"rendering fails: {type(exc).__name__}"]
    problems = [] if raw == escaped else ["raw HTML"]
    return problems + clean_html(raw)[1]


def as_code_block(source):
    """Markdown that shows `source` verbatim: a fence longer than any run of backticks in it."""
    longest = max((len(r) for r in re.findall(r"`+", source)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{MARKDOWN_NOTE}\n\n{fence}\n{source}\n{fence}\n"


# ----------------------------------------------------------------------------- the step
class NeutralizeActiveContent(NbGraderPreprocessor):
    """Turn student HTML/JavaScript (outputs, widget state, markdown and raw cells) into text."""

    keep_clean_html = Bool(
        True, help="Keep text/html outputs made only of allowlisted inert HTML (the course's "
                   "static reports), re-serialised; False: every text/html becomes text."
    ).tag(config=True)

    max_chars = Integer(
        100_000, help="Characters of a neutralised output's source kept as text (0: all)."
    ).tag(config=True)

    def preprocess(self, nb, resources):
        changed = 0
        if "widgets" in nb.metadata:
            del nb.metadata["widgets"]
            changed += 1
        for index, cell in enumerate(nb.cells):
            if cell.get("cell_type") not in ("code", "markdown", "raw"):
                # nbconvert writes an unknown cell's `type` unescaped: "unknown type {{ cell.type }}"
                nb.cells[index] = cell = nbformat.v4.new_raw_cell(
                    html.escape(_text(cell.get("source", "")), quote=False))
                changed += 1
            if cell.cell_type == "code":
                count = cell.get("execution_count")
                if count is not None and (not isinstance(count, int) or isinstance(count, bool)):
                    cell.execution_count = None          # written unescaped into the prompt
                    changed += 1
                for output in cell.get("outputs", []):
                    changed += neutralize_output(output, self.keep_clean_html, self.max_chars)
            elif cell.cell_type == "markdown":
                source = _text(cell.get("source", ""))
                problems = markdown_problems(source, cell.get("attachments"))
                if problems:
                    self.log.warning("markdown cell %d shown as text: %s", index,
                                     ", ".join(problems[:5]))
                    fallback = as_code_block(source)
                    cell.source = fallback if not markdown_problems(fallback) else MARKDOWN_NOTE
                    changed += 1
            elif cell.cell_type == "raw":
                source = _text(cell.get("source", ""))
                if clean_html(source)[1]:
                    cell.source = html.escape(source, quote=False)
                    changed += 1
        if changed:
            self.log.info("neutralised %d active item(s) of the student's notebook", changed)
        return nb, resources


def install(c):
    """Put the step last in `c.Autograde.autograde_preprocessors` (after the configured chain,
    or nbgrader's default one) and in `c.HTMLExporter.preprocessors` (generate_feedback and
    formgrader render through HTMLExporter). Call it after `configure_autograde(c, ...)`."""
    from nbgrader.converters import Autograde
    if "autograde_preprocessors" in c.Autograde:
        chain = list(c.Autograde.autograde_preprocessors)
    else:
        chain = list(Autograde.class_traits()["autograde_preprocessors"].default())
    c.Autograde.autograde_preprocessors = [p for p in chain if p is not NeutralizeActiveContent] \
        + [NeutralizeActiveContent]
    exporter = list(c.HTMLExporter.preprocessors) if "preprocessors" in c.HTMLExporter else []
    c.HTMLExporter.preprocessors = [p for p in exporter if p is not NeutralizeActiveContent] \
        + [NeutralizeActiveContent]
    return c
