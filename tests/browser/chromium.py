"""Debian Chromium for Playwright (its own browser download cannot work offline) and JupyterLab
page helpers through ``window.jupyterapp`` (the server runs with expose_app_in_browser)."""
from __future__ import annotations

import contextlib
import os
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
# Playwright already adds --no-sandbox (unless chromium_sandbox=True), --disable-background-networking,
# --disable-component-update, --no-first-run ...; repeated here so the intent is visible, plus the
# offline flags it does not add (notes §1.3).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-quic", "--no-first-run", "--no-default-browser-check",
                 "--disable-extensions", "--disable-default-apps"]
VIEWPORT = {"width": 1280, "height": 1000}


def chromium_problem() -> str | None:
    """None if the browser can be launched, else why not."""
    if not CHROMIUM.exists():
        return (f"{CHROMIUM} is missing: install Debian's chromium (`apt-get install -y chromium`; "
                "`./dev test` does this when run as root)")
    if not os.access(CHROMIUM, os.X_OK):
        return f"{CHROMIUM} is not executable"
    return None


def open_notebook(page, server, nb_name: str, timeout_ms: int = 60_000) -> None:
    """Open ``nb_name`` (in the server's root) in a fresh workspace and wait until the app is
    restored, the notebook is the current widget and its kernel is idle and connected."""
    page.goto(server.url(f"lab/tree/{nb_name}?reset"), wait_until="domcontentloaded")
    page.wait_for_selector("#jupyterlab-splash", state="detached", timeout=timeout_ms)
    page.wait_for_function("() => typeof window.jupyterapp === 'object'", timeout=timeout_ms)
    page.evaluate("async () => { await window.jupyterapp.started; await window.jupyterapp.restored; }")
    page.wait_for_function(
        """(name) => {
            const w = window.jupyterapp.shell.currentWidget;
            return !!(w && w.context && w.context.path === name && w.sessionContext
                      && w.sessionContext.session && w.sessionContext.session.kernel);
        }""", arg=nb_name, timeout=timeout_ms)
    page.evaluate("async () => { const w = window.jupyterapp.shell.currentWidget;"
                  " await w.context.ready; await w.sessionContext.ready; }")
    wait_kernel_idle(page, timeout_ms)


def wait_kernel_idle(page, timeout_ms: int = 60_000) -> None:
    page.wait_for_function(
        """() => {
            const k = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
            return k.status === 'idle' && k.connectionStatus === 'connected';
        }""", timeout=timeout_ms)


def run_all_cells(page) -> bool:
    """``notebook:run-all-cells`` on the current notebook; resolves after every execute_reply,
    True only if every cell succeeded."""
    return page.evaluate(
        "async () => await window.jupyterapp.commands.execute('notebook:run-all-cells')")


def cell_errors(page) -> list[str]:
    """Text of error outputs in the current notebook (ename: evalue)."""
    return page.evaluate(
        """() => {
            const out = [];
            const cells = window.jupyterapp.shell.currentWidget.content.model.cells;
            for (let i = 0; i < cells.length; i++) {
                const c = cells.get(i);
                if (c.type !== 'code') continue;
                for (let j = 0; j < c.outputs.length; j++) {
                    const o = c.outputs.get(j).toJSON();
                    if (o.output_type === 'error') out.push(`cell ${i}: ${o.ename}: ${o.evalue}`);
                }
            }
            return out;
        }""")


@contextlib.contextmanager
def launched(chromium_path):
    """Debian's Chromium, headless, through Playwright (whose own browser download cannot work
    here); closed at the end."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(chromium_path), headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
