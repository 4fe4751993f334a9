"""Helpers for the browser test (tests/test_browser.py): a throw-away JupyterLab server, Debian
Chromium driven by Playwright, and the notebook the test runs. See /work/shared/notes/widgets.md."""
