"""Page helpers for nbgrader's JupyterLab extension and its formgrader, driven by Playwright
(tests/test_browser_nbgrader.py). Selectors are nbgrader 0.9's own (its lab extension's
assignment list, the notebook toolbar's Validate button, formgrader's Backbone pages), as its
ui-tests use them: nbgrader/tests/ui-tests/{assignment_list,validate_assignment}.spec.ts."""
from __future__ import annotations

import json
import re

# Requests to anything but this machine are aborted: the test runs offline on any machine, and
# does the same with or without a network (formgrader's pages ask a CDN for MathJax).
NOT_LOOPBACK = re.compile(r"^https?://(?!127\.0\.0\.1[:/])")


def offline(context) -> None:
    context.route(NOT_LOOPBACK, lambda route: route.abort())


def open_lab(page, server, timeout_ms: int) -> None:
    """JupyterLab's main page, restored. No ``?reset`` here: the assignment list's links are
    ``#`` anchors, and a hash change on a ``?reset`` URL makes Lab reset the workspace again
    (closing the Assignments tab); the workspace directory is private and fresh anyway."""
    page.goto(server.url("lab"), wait_until="domcontentloaded")
    page.wait_for_selector("#jupyterlab-splash", state="detached", timeout=timeout_ms)
    page.wait_for_function("() => typeof window.jupyterapp === 'object'", timeout=timeout_ms)
    page.evaluate("async () => { await window.jupyterapp.started; await window.jupyterapp.restored; }")


def open_assignments_tab(page) -> None:
    """Nbgrader → Assignment List, as a student does."""
    page.locator('#jp-menu-panel .lm-MenuBar-itemLabel:text-is("Nbgrader")').click()
    page.locator('.lm-Menu li[data-command="nbgrader:open-assignment-list"]').click()
    page.locator("#nbgrader-assignment-list #assignments").wait_for(state="visible")


def assignment_rows(page, name: str, n: int, timeout_ms: int):
    """The rows of one list of the Assignments tab ("released", "fetched", "submitted") once it
    has loaded without error and holds ``n`` rows."""
    for part in ("loading", "error"):
        page.locator(f"#{name}_assignments_list_{part}").wait_for(state="hidden", timeout=timeout_ms)
    page.wait_for_function(
        "([sel, n]) => document.querySelectorAll(sel).length === n",
        arg=[f"#{name}_assignments_list > .list_item", n], timeout=timeout_ms)
    error = page.locator(f"#{name}_assignments_list_error")
    assert error.is_hidden(), f"{name} assignments: {error.inner_text()}"
    return page.locator(f"#{name}_assignments_list > .list_item")


def collapse_id(course_id: str, assignment_id: str) -> str:
    """The element id nbgrader gives a fetched assignment's notebook list (its ``escape_id``:
    spaces become underscores, then everything but ``A-Za-z0-9-_`` is dropped)."""
    return re.sub(r"[^A-Za-z0-9\-_]", "", f"nbgrader-{course_id}-{assignment_id}".replace(" ", "_"))


def wait_notebook(page, path: str, timeout_ms: int) -> None:
    """Until the notebook at ``path`` is the current widget with an idle, connected kernel."""
    page.wait_for_function(
        """(path) => {
            const w = window.jupyterapp.shell.currentWidget;
            const k = w && w.context && w.context.path === path && w.sessionContext
                      && w.sessionContext.session && w.sessionContext.session.kernel;
            return !!k && k.status === 'idle' && k.connectionStatus === 'connected';
        }""", arg=path, timeout=timeout_ms)


def kernel_json(page, code: str, timeout_ms: int):
    """Run ``code`` in the current notebook's kernel (not in a cell) and parse what it prints."""
    out = page.evaluate(
        """async ([code, timeout]) => {
            const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
            const future = kernel.requestExecute({code, store_history: false, silent: false});
            const chunks = [];
            future.onIOPub = (msg) => {
                if (msg.header.msg_type === 'stream') chunks.push(msg.content.text);
                if (msg.header.msg_type === 'error') chunks.push(msg.content.ename + ': ' + msg.content.evalue);
            };
            const reply = await Promise.race([future.done,
                new Promise((_, reject) => setTimeout(() => reject(new Error('kernel timeout')), timeout))]);
            return chunks.join('');
        }""", [code, timeout_ms])
    try:
        return json.loads(out)
    except json.JSONDecodeError:
        raise AssertionError(f"the kernel printed {out!r}") from None


# ----------------------------------------------------------------------------- formgrader
def formgrader_ready(page, timeout_ms: int) -> None:
    """A formgrader submission page whose grades and comments are loaded. (Offline, its MathJax
    <script> fails, so formgrade.js's init stops before the keyboard shortcuts: the Escape
    shortcut does not exist, and focus has to leave an input the ordinary way, with Tab.)"""
    page.wait_for_function(
        "() => window.formgrader && formgrader.grades && formgrader.grades.loaded"
        " && formgrader.comments && formgrader.comments.loaded", timeout=timeout_ms)


def formgrader_settled(page, timeout_ms: int) -> None:
    """Until formgrader's scrolling is over: focusing an input scrolls the page to it with a
    jQuery animation, and a screenshot taken meanwhile can catch the page mid-scroll."""
    page.wait_for_function("() => !$('body, html').is(':animated')", timeout=timeout_ms)


def _save_field(page, selector: str, value: str, api: str, what: str, timeout_ms: int) -> dict:
    """Type `value` into a formgrader field and leave it (Tab): formgrader saves on "change" with
    a PUT to /formgrader/api/<api>/; returns the saved object as the server answers."""
    box = page.locator(selector)
    box.scroll_into_view_if_needed()
    box.click()
    box.fill(value)
    with page.expect_response(lambda r: f"/formgrader/api/{api}/" in r.url and r.request.method == "PUT",
                              timeout=timeout_ms) as response:
        page.keyboard.press("Tab")
    assert response.value.ok, f"saving {what}: HTTP {response.value.status}"
    formgrader_settled(page, timeout_ms)
    return response.value.json()


def enter_score(page, grade_id: str, score: float, timeout_ms: int) -> dict:
    """A manual score for the grade cell `grade_id`; returns the saved grade."""
    return _save_field(page, f'input.score[id="{grade_id}"]', f"{score:g}", "grade",
                       f"the score of {grade_id}", timeout_ms)


def enter_comment(page, grade_id: str, text: str, timeout_ms: int) -> dict:
    """A comment for the grade cell `grade_id`; returns the saved comment."""
    return _save_field(page, f'textarea.comment[id="{grade_id}-comment"]', text, "comment",
                       f"the comment of {grade_id}", timeout_ms)
