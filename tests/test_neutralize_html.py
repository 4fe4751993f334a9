"""Student HTML/JavaScript never becomes active HTML in grader views (issue 10, item 5).

Unit tests of `layers_lib.course.nbgrader_steps.neutralize` (outputs, markdown and raw cells, the
widget state, the allowlist, `install`), then the end-to-end check: a crafted autograded notebook
full of payloads, after the step, rendered with nbconvert's HTMLExporter and nbgrader's own
`feedback` and `formgrade` templates exactly as `nbgrader generate_feedback` and the formgrader
do, holds no payload-controlled script, event handler, javascript: URL, frame, SVG or widget.
Finally the static HTML report (`layers_lib.grading.render`) with payloads in names and messages.
"""
import copy
import html
import os
import re

import nbformat
import numpy as np
import pytest
from nbformat.v4 import (new_code_cell, new_markdown_cell, new_notebook, new_output,
                         new_raw_cell)
from traitlets.config import Config

from layers_lib.course.nbgrader_steps.neutralize import (MARKDOWN_NOTE, NeutralizeActiveContent,
                                                         as_code_block, clean_html, install,
                                                         markdown_problems, neutralize_output,
                                                         safe_style, safe_url)
from layers_lib.grading.compare import compare
from layers_lib.grading.render import report_to_html, to_html, to_text

MARK = "XSS1337"          # every payload carries it: it may appear as text, never as active HTML
PAYLOADS_HTML = [
    f"<script>alert('{MARK}')</script>",
    f"<img src=x onerror=alert('{MARK}')>",
    f'<a href="javascript:alert(\'{MARK}\')">click</a>',
    f'<a href="jav&#x61;script:alert(\'{MARK}\')">entity</a>',
    f'<a href="java\tscript:alert(\'{MARK}\')">tab</a>',
    f'<a href=" JAVASCRIPT:alert(\'{MARK}\')">case</a>',
    f'<svg><script>alert("{MARK}")</script></svg>',
    f'<svg onload="alert(\'{MARK}\')"></svg>',
    f'<iframe src="data:text/html,<script>alert(\'{MARK}\')</script>"></iframe>',
    f'<div style="background:url(javascript:alert(\'{MARK}\'))">x</div>',
    f'<div style="width:expression(alert(\'{MARK}\'))">x</div>',
    f'<object data="javascript:alert(\'{MARK}\')"></object>',
    f'<form action="javascript:alert(\'{MARK}\')"><button>go</button></form>',
    f'<!--><script>alert("{MARK}")</script>-->',
    f'<details open ontoggle=alert("{MARK}")>',
    f'<math><mtext><table><mglyph><style><img src=x onerror=alert("{MARK}")>',
    f'<div>$\\href{{javascript:alert("{MARK}")}}{{x}}$</div>',
    f'<base href="javascript:alert(\'{MARK}\')//">',
    f'<meta http-equiv="refresh" content="0;url=javascript:alert(\'{MARK}\')">',
    f'<pre class="mermaid">graph TD; A-->B; click A "javascript:alert(\'{MARK}\')"</pre>',
]
PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC"
SVG_WITH_SCRIPT = (f'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(\'{MARK}\')">'
                   f'<script>alert("{MARK}")</script><a href="javascript:alert(1)"><text>x</text>'
                   f"</a></svg>")
PAYLOADS_MARKDOWN = [
    f"<script>alert('{MARK}')</script>",
    f"A written answer <img src=x onerror=alert({MARK})> with inline HTML.",
    f"[click me](javascript:alert('{MARK}'))",
    f"[entity](JaVa&#115;cript:alert('{MARK}'))",
    f"<javascript:alert('{MARK}')>",
    f"![pic](javascript:alert('{MARK}'))",
    f"[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgnWFNTMTMzNycpPC9zY3JpcHQ+)  {MARK}",
    f"Math: $\\href{{javascript:alert('{MARK}')}}{{x}}$",
    f"```mermaid\ngraph TD; A-->B; click A \"javascript:alert('{MARK}')\"\n```",
    f"```mermaid\n<img src=x onerror=alert({MARK})>\n```",      # nbconvert does not escape it
    f"![missing](attachment:nope.png) {MARK}",
    f"<div onmouseover=\"alert('{MARK}')\">hover</div>",
    f"<!-- {MARK} --><style>body{{background:url(javascript:alert({MARK}))}}</style>",
]
#: rendered as text by nbconvert already (not valid inline HTML, code): may stay as they are
PAYLOADS_MARKDOWN_INERT = [
    f"<img src=x onerror=alert('{MARK}')>",           # a quote in an unquoted value: no tag
    f"````\n```\n<script>alert('{MARK}')</script>",   # an unclosed fence: code to the end
    f"`<script>alert('{MARK}')</script>`",
]


# ----------------------------------------------------------------------------- a detector
DANGEROUS_TAGS = {"iframe", "frame", "object", "embed", "svg", "math", "form", "base", "meta",
                  "link", "style", "template", "applet", "portal", "script"}
URL_ATTRS = {"href", "src", "action", "formaction", "data", "xlink:href", "content", "poster"}


def active(page, mark=MARK):
    """Payload-controlled active HTML in a page, parsed as a browser parses it (html5lib, the
    WHATWG algorithm, vendored by bleach): a script carrying the marker, an on* handler, a
    javascript:/vbscript:/data:text URL, a frame/object/svg/math/form/base/meta carrying the
    marker, a widget view or widget state, a mermaid block, MathJax \\href outside <pre>/<code>."""
    from bleach._vendor import html5lib
    found = []

    def walk(el, ancestors):
        tag = el.tag.rsplit("}", 1)[-1].lower() if isinstance(el.tag, str) else ""
        inside = ancestors | {tag}
        text = "".join(el.itertext()) if tag in DANGEROUS_TAGS else ""
        attrs = {k.rsplit("}", 1)[-1].lower(): v or "" for k, v in el.attrib.items()}
        for name, value in attrs.items():
            url = "".join(ch for ch in value if ord(ch) > 0x20).lower()
            if name.startswith("on") and mark in value:
                found.append(f"<{tag} {name}>")
            if name in URL_ATTRS and re.search(r"(^|url=)(javascript|vbscript|data:text)", url):
                found.append(f"<{tag} {name}={value[:40]!r}>")
            if name == "style" and mark in value:
                found.append(f"<{tag} style>")
            if name == "type" and "jupyter.widget" in value:
                found.append(f"<{tag} type={value}>")
            if name == "class" and "mermaid" in value.lower():
                found.append(f"<{tag} class={value}>")
        if tag in DANGEROUS_TAGS and (mark in text or any(mark in v for v in attrs.values())):
            found.append(f"<{tag}> with the marker")
        if el.text and mark in el.text and "\\href" in el.text and not inside & {"pre", "code"}:
            found.append("MathJax \\href outside <pre>/<code>")
        for child in el:
            walk(child, inside)
            if child.tail and mark in child.tail and "\\href" in child.tail \
                    and not inside & {"pre", "code"}:
                found.append("MathJax \\href outside <pre>/<code>")

    walk(html5lib.parse(page, namespaceHTMLElements=False), set())
    return found


def test_the_detector_sees_every_html_payload_when_nothing_is_done():
    for payload in PAYLOADS_HTML:
        assert active(payload), payload


# ----------------------------------------------------------------------------- the allowlist
@pytest.mark.parametrize("payload", PAYLOADS_HTML)
def test_clean_html_flags_every_payload_and_its_output_is_inert(payload):
    cleaned, problems = clean_html(payload)
    assert problems, payload
    assert active(cleaned) == [] or "\\href" in payload, (payload, cleaned)
    assert "<script" not in cleaned.lower() and "onerror" not in cleaned.lower()


def test_clean_html_balances_tags_and_escapes_text_and_attributes():
    cleaned, problems = clean_html('<a href="#x" title="a&quot;b">open <b>bold</a> 1 &lt; 2 <div>')
    assert problems == []
    assert cleaned == '<a href="#x" title="a&quot;b">open <b>bold</b></a> 1 &lt; 2 <div></div>'


def test_urls_and_styles():
    for url in ("#gi-check-0", "other.ipynb#x", "https://example.org/a?b=1", "mailto:a@b.c",
                "files/x.png", "a/b:c"):
        assert safe_url(url), url
    for url in ("javascript:alert(1)", " jaVa\tscript:x", "vbscript:x", "data:text/html,x",
                "file:///etc/passwd"):
        assert not safe_url(url), url
    assert safe_url("data:image/png;base64,iVBORw0KGgo=", image=True)
    assert not safe_url("data:image/png;base64,iVBORw0KGgo=")          # not as a link
    assert not safe_url("data:text/html;base64,PHNjcmlwdD4=", image=True)
    assert safe_style("background:#1a2b3c;color:#fff;padding:1px 3px;outline:2px solid #d00000")
    assert safe_style("font-family:var(--jp-code-font-family,monospace);font-size:12px")
    for bad in ("background:url(x.png)", "width:expression(alert(1))", "position:fixed",
                "color:red;behavior:url(x.htc)", "background:\\75rl(x)", "color:red/*x*/"):
        assert not safe_style(bad), bad


def _comparisons(layer="Linear", quantity="grad_W", message_extra=""):
    rng = np.random.default_rng(0)
    expected = rng.standard_normal((4, 5))
    got = expected.copy()
    got[1, 2] += 1.0
    got[0, 0] = np.nan
    big = rng.standard_normal((30, 20))
    cs = [compare(expected, got, layer=layer, quantity=quantity),
          compare(big, big * 1.01, layer=layer, quantity="output"),
          compare(expected, expected, layer=layer, quantity="grad_input")]
    return cs


def test_the_course_report_passes_the_allowlist_unchanged():
    report = report_to_html(_comparisons())
    cleaned, problems = clean_html(report)
    assert problems == []
    assert cleaned == report


# ----------------------------------------------------------------------------- outputs
def _display(data, metadata=None, kind="display_data"):
    if kind == "execute_result":
        return new_output("execute_result", data=data, metadata=metadata or {}, execution_count=1)
    return new_output("display_data", data=data, metadata=metadata or {})


@pytest.mark.parametrize("payload", PAYLOADS_HTML)
def test_html_payload_output_becomes_text_with_a_note(payload):
    out = _display({"text/html": payload, "text/plain": "<IPython.core.display.HTML object>"})
    assert neutralize_output(out)
    assert set(out.data) == {"text/plain"}
    text = out.data["text/plain"]
    assert text.startswith("[neutralised by the grader: text/html") and payload in text
    assert out.metadata["neutralized"] == ["text/html"]


@pytest.mark.parametrize("mime, payload", [
    ("image/svg+xml", SVG_WITH_SCRIPT),
    ("application/javascript", f"alert('{MARK}')"),
    ("text/markdown", f"[x](javascript:alert('{MARK}'))"),
    ("text/latex", f"$\\href{{javascript:alert('{MARK}')}}{{x}}$"),
    ("application/vnd.custom.thing+json", {"html": f"<script>{MARK}</script>"}),
])
def test_other_active_representations_are_removed(mime, payload):
    out = _display({mime: payload, "text/plain": "repr"}, metadata={mime: {"isolated": True}})
    assert neutralize_output(out)
    assert set(out.data) == {"text/plain"} and mime not in out.metadata
    assert out.data["text/plain"].startswith(f"[neutralised by the grader: {mime}")


def test_widget_views_become_a_note_and_passive_data_stays():
    png = PNG
    view = {"model_id": "abc", "version_major": 2, "version_minor": 0}
    out = _display({"application/vnd.jupyter.widget-view+json": view,
                    "text/plain": "HTML(value='<img src=x onerror=alert(1)>')", "image/png": png})
    assert neutralize_output(out)
    assert out.data["image/png"] == png
    assert out.data["text/plain"].startswith("[neutralised by the grader: an interactive widget")
    plain = _display({"text/plain": "3.5", "image/png": png}, kind="execute_result")
    before = copy.deepcopy(plain)
    assert not neutralize_output(plain) and plain == before      # partial credit untouched
    stream = new_output("stream", name="stdout", text=f"<script>{MARK}</script>")
    assert not neutralize_output(stream)                          # rendered escaped by nbconvert


def test_an_output_cannot_take_the_id_of_an_element_of_the_grader_page():
    out = _display({"text/html": '<div id="test_linear">score</div>', "text/plain": "x"})
    assert neutralize_output(out) and set(out.data) == {"text/plain"}
    ok = _display({"text/html": '<div id="gi-check-0">report</div>', "text/plain": "x"})
    assert neutralize_output(ok) and ok.data["text/html"] == '<div id="gi-check-0">report</div>'


def test_image_sizes_that_are_not_numbers_are_dropped():
    png = "iVBORw0KGgo="
    out = _display({"image/png": png, "text/plain": "x"},
                   metadata={"image/png": {"width": "1 onerror=alert(1)", "height": 20},
                             "width": "30", "height": True})
    assert neutralize_output(out)
    assert out.metadata == {"image/png": {"height": 20}, "width": "30"}
    assert out.data == {"image/png": png, "text/plain": "x"}
    assert not neutralize_output(out)


def test_the_course_report_output_is_kept_and_can_be_refused():
    report = report_to_html(_comparisons())
    out = _display({"text/html": report, "text/plain": "<IPython.core.display.HTML object>"})
    assert neutralize_output(out)
    assert out.data["text/html"] == report and "neutralized" not in out.metadata
    strict = _display({"text/html": report, "text/plain": "x"})
    assert neutralize_output(strict, keep_clean_html=False)
    assert set(strict.data) == {"text/plain"}


# ----------------------------------------------------------------------------- cells
def test_benign_markdown_is_left_alone():
    source = ("# Answer\n\nBatch norm *normalises* with $\\mu$ and $x<0$; $$\\frac{a}{b}$$\n\n"
              "- [x] done\n\n| a | b |\n|:-|-:|\n| 1 | 2 |\n\n```python\nx = 1 < 2\n```\n\n"
              "[docs](https://pytorch.org) [back](#Answer) ~~no~~ `code`")
    assert markdown_problems(source) == []


@pytest.mark.parametrize("payload", PAYLOADS_MARKDOWN_INERT)
def test_markdown_that_renders_as_text_may_stay(payload):
    from layers_lib.course.nbgrader_steps.neutralize import _render_markdown
    assert active(_render_markdown(payload, {}, escape=False)) == []
    assert markdown_problems(as_code_block(payload)) == []


@pytest.mark.parametrize("payload", PAYLOADS_MARKDOWN)
def test_markdown_payload_is_shown_as_a_code_block(payload):
    assert markdown_problems(payload), payload
    fallback = as_code_block(payload)
    assert fallback.startswith(MARKDOWN_NOTE) and payload in fallback
    assert markdown_problems(fallback) == []


def _step():
    return NeutralizeActiveContent()


def test_the_step_rewrites_cells_outputs_and_widget_state():
    nb = new_notebook()
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {
        "m": {"model_name": "HTMLModel",
              "state": {"value": f"<img src=x onerror=alert('{MARK}')>"}}}}}
    benign = "Plain *answer* with $x^2$."
    nb.cells = [new_markdown_cell(benign), new_markdown_cell(PAYLOADS_MARKDOWN[1]),
                new_raw_cell(f"<script>alert('{MARK}')</script>"), new_raw_cell("plain raw text"),
                new_code_cell("display(HTML(...))",
                              outputs=[_display({"text/html": PAYLOADS_HTML[0]})])]
    nb, _ = _step().preprocess(nb, {})
    assert "widgets" not in nb.metadata
    assert nb.cells[0].source == benign
    assert nb.cells[1].source.startswith(MARKDOWN_NOTE)
    assert nb.cells[2].source == html.escape(f"<script>alert('{MARK}')</script>", quote=False)
    assert nb.cells[3].source == "plain raw text"
    assert set(nb.cells[4].outputs[0].data) == {"text/plain"}
    nbformat.validate(nb)
    again = copy.deepcopy(nb)
    _step().preprocess(again, {})
    assert again == nb                                    # idempotent (it also runs at export)


def test_the_instructors_markdown_passes_unchanged():
    """The step leaves the course's own markdown alone (raw HTML there would be shown as text)."""
    root = os.path.join(os.path.dirname(__file__), "..", "source", "task8")
    cells = [c for path in sorted(os.listdir(root)) if path.endswith(".ipynb")
             for c in nbformat.read(os.path.join(root, path), as_version=4).cells
             if c.cell_type == "markdown"]
    assert len(cells) > 20
    assert [(c.source[:60], markdown_problems(c.source)) for c in cells
            if markdown_problems(c.source)] == []


def test_install_appends_the_step_last_and_once():
    from nbgrader.converters import Autograde
    from layers_lib.course.nbgrader_steps.config import configure_autograde
    c = Config()
    configure_autograde(c)                     # installs the step already
    before = list(c.Autograde.autograde_preprocessors)
    assert before[-1] is NeutralizeActiveContent
    before = before[:-1]
    install(c)
    install(c)
    assert list(c.Autograde.autograde_preprocessors) == before + [NeutralizeActiveContent]
    assert list(c.HTMLExporter.preprocessors) == [NeutralizeActiveContent]
    fresh = install(Config())
    default = list(Autograde.class_traits()["autograde_preprocessors"].default())
    assert list(fresh.Autograde.autograde_preprocessors) == default + [NeutralizeActiveContent]


# ----------------------------------------------------------------------------- feedback HTML
def _templates():
    import nbgrader.converters.generate_feedback as gf
    here = os.path.dirname(gf.__file__)
    base = os.path.abspath(os.path.join(here, "..", "server_extensions", "formgrader", "templates"))
    css = os.path.abspath(os.path.join(here, "..", "server_extensions", "formgrader", "static",
                                       "node_modules", "bootstrap", "dist", "css"))
    return base, css


def render(nb, template="feedback", config=None):
    """The notebook as nbgrader renders it: generate_feedback's HTMLExporter setup (template,
    template dirs, CSSHTMLHeaderPreprocessor after the exporter's own preprocessors), or the
    formgrader's (`formgrade`)."""
    from nbconvert.exporters import HTMLExporter
    from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
    base, css = _templates()
    c = Config()
    if config is not None:
        c.merge(config)
    c.HTMLExporter.template_name = template
    c.HTMLExporter.extra_template_basedirs = [base]
    c.HTMLExporter.extra_template_paths = [css]
    exporter = HTMLExporter(config=c)
    exporter.register_preprocessor(CSSHTMLHeaderPreprocessor(config=c), enabled=True)
    resources = {"nbgrader": {"notebook": "[2]task8_test_modules", "score": 1.0, "max_score": 3.0,
                              "late_penalty": 0},
                 "notebook_id": "[2]task8_test_modules", "index": 0, "total": 1, "base_url": "",
                 "submission_id": "s", "assignment_id": "task8"}
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    return body


def _meta(grade_id, *, grade, solution, locked, points=None, cell_type="code"):
    meta = {"schema_version": 3, "grade": grade, "solution": solution, "locked": locked,
            "task": False, "grade_id": grade_id, "cell_type": cell_type, "score": 1.0}
    if grade:
        meta["points"] = points
    return {"nbgrader": meta}


def image_outputs():
    """Pictures whose sizes nbconvert writes unquoted into <img>."""
    return [_display({"image/png": PNG, "text/plain": "<Figure>"},
                     metadata={"image/png": {"width": f"1 onerror=alert('{MARK}')"}}),
            _display({"image/jpeg": PNG, "text/plain": "<Figure>"},
                     metadata={"height": f"1 onload=alert('{MARK}')"})]


def crafted_notebook(invalid=True):
    """An autograded notebook as the student's kernel and the student can leave it; `invalid`:
    with parts nbformat rejects (nbconvert refuses to export it: the step repairs them)."""
    nb = new_notebook()
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {
        "version_major": 2, "version_minor": 0, "state": {"m1": {
            "model_name": "HTMLModel", "model_module": "@jupyter-widgets/controls",
            "model_module_version": "2.0.0",
            "state": {"value": f"<img src=x onerror=alert('{MARK}')>"}}}}}
    html_outputs = [_display({"text/html": p, "text/plain": "<IPython.core.display.HTML object>"})
                    for p in PAYLOADS_HTML]
    html_outputs[1].metadata = {"text/html": {"isolated": True}}
    others = [
        _display({"image/svg+xml": SVG_WITH_SCRIPT, "text/plain": "<Figure>"}),
        _display({"application/javascript": f"alert('{MARK}')", "text/plain": "<Javascript>"}),
        _display({"text/markdown": f"<img src=x onerror=alert({MARK})> [a](javascript:{MARK})"}),
        _display({"text/latex": f"$\\href{{javascript:alert('{MARK}')}}{{x}}$"}),
        _display({"application/vnd.jupyter.widget-view+json": {"model_id": "m1", "version_major": 2,
                                                               "version_minor": 0},
                  "text/plain": "HTML(value=...)"}),
        _display({"text/html": f"<b>{MARK}</b>", "text/plain": "x"}, kind="execute_result"),
        new_output("stream", name="stdout", text=f"<script>alert('{MARK}')</script>\n"),
        *image_outputs(),
        new_output("error", ename="ValueError", evalue=f"<img src=x onerror=alert('{MARK}')>",
                   traceback=[f"ValueError: <script>alert('{MARK}')</script>"]),
    ]
    report = report_to_html(_comparisons(layer=f"<script>alert('{MARK}')</script>"))
    nb.cells = [
        new_markdown_cell("# [2] Tests\n\nRun every cell.", metadata=_meta(
            "intro", grade=False, solution=False, locked=True, cell_type="markdown")),
        new_code_cell("from layers import *", outputs=html_outputs[:10]),
        new_code_cell("test_linear()", outputs=html_outputs[10:] + others + [
            _display({"text/html": report, "text/plain": "<IPython.core.display.HTML object>"})],
            metadata=_meta("test_linear", grade=True, solution=False, locked=True, points=2)),
        *[new_markdown_cell(p, metadata=_meta(f"answer_{i}", grade=True, solution=True,
                                              locked=False, points=1, cell_type="markdown"))
          for i, p in enumerate(PAYLOADS_MARKDOWN)],
        *[new_markdown_cell(p) for p in PAYLOADS_MARKDOWN + PAYLOADS_MARKDOWN_INERT],
        new_raw_cell(f"<img src=x onerror=alert('{MARK}')><script>alert('{MARK}')</script>"),
        new_markdown_cell("A normal answer: $\\sigma(x) = 1 / (1 + e^{-x})$ and *emphasis*."),
    ]
    nb.cells[-2].metadata["raw_mimetype"] = "text/html"
    if not invalid:
        return nb
    nb.cells[1].execution_count = f"<img src=x onerror=alert('{MARK}')>"
    nb.cells.append(nbformat.from_dict({"cell_type": "widget", "metadata": {}, "source": MARK,
                                        "type": f"<script>alert('{MARK}')</script>"}))
    return nb


def test_without_the_step_the_feedback_runs_the_payloads():
    """Control: the crafted notebook is dangerous as nbgrader renders it (proves the detector)."""
    nb = crafted_notebook(invalid=False)
    # (a missing attachment even makes the export fail: the step turns that cell into text)
    nb.cells = [c for c in nb.cells if "attachment:" not in c.source]
    page = render(nb)
    found = active(page)
    assert any("script" in f for f in found) and any("onerror" in f for f in found)
    assert any("javascript" in f for f in found) and any("svg" in f for f in found)
    images = active(render(new_notebook(cells=[new_code_cell("plot()", outputs=image_outputs())])))
    assert images == ["<img onerror>", "<img onload>"]      # nbconvert's unquoted image sizes
    assert '<script type="application/vnd.jupyter.widget-view+json">' in page
    # nbgrader's templates leave out the widget manager and state; nbconvert's own load both
    classic = render(nb, "classic")
    assert '<script type="application/vnd.jupyter.widget-state+json">' in classic
    assert "@jupyter-widgets/html-manager" in classic


@pytest.mark.parametrize("template", ["feedback", "formgrade", "classic", "lab"])
def test_feedback_html_after_the_step_has_no_active_payload(template):
    nb, _ = _step().preprocess(crafted_notebook(), {})
    page = render(nb, template)
    assert active(page) == []
    assert "jupyter-widgets" not in page and "widget-state" not in page
    # what the student wrote is still there, as text
    assert html.escape(f"<script>alert('{MARK}')</script>", quote=False) in page
    assert "neutralised by the grader" in page
    # the course's static report survives, with the payload in its layer name escaped
    assert 'class="gi-report-list"' in page and "gi-heatmap" in page
    assert "A normal answer" in page and "<em>emphasis</em>" in page
    assert "html-manager" not in page
    # the whole page parses as normal HTML to its end (nothing swallowed into a raw-text element)
    from bleach._vendor import html5lib
    tree = html5lib.parse(page, namespaceHTMLElements=False)
    assert "emphasis" in ["".join(e.itertext()) for e in tree.iter("em")]


def test_installed_in_the_html_exporter_it_also_covers_notebooks_not_autograded_with_it():
    config = install(Config())
    page = render(crafted_notebook(invalid=False), config=config)
    assert active(page) == []
    assert 'class="gi-report-list"' in page


# ----------------------------------------------------------------------------- the static report
def test_report_escapes_names_messages_and_diagnoses():
    payload = f"<img src=x onerror=alert('{MARK}')><script>alert('{MARK}')</script>"
    cs = _comparisons(layer=payload, quantity=payload)
    for c in cs:
        c.message = payload
        c.diagnosis = payload
    for page in [report_to_html(cs), *(to_html(c, anchor=payload) for c in cs)]:
        assert active(page) == [], page[:300]
        assert "<script" not in page and "<img src=x" not in page
        assert html.escape(payload) in page
        assert clean_html(page)[1] == []                   # still the allowlisted vocabulary
    assert payload in to_text(cs[0])                        # the text report is text
