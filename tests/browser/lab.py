"""A private JupyterLab server for one test: loopback only, random token, isolated Jupyter dirs.

Nothing of the user's or the venv's Jupyter configuration is read or written: JUPYTER_CONFIG_DIR,
JUPYTERLAB_SETTINGS_DIR, JUPYTERLAB_WORKSPACES_DIR, JUPYTER_RUNTIME_DIR and IPYTHONDIR point into a
temporary directory, which also holds the "quiet" configuration (no news / update toasts, no
windowed notebook, no autosave) and the server log.
"""
from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

# Default setting overrides (labconfig/default_setting_overrides.json), see notes §1.2.
QUIET_SETTINGS = {
    "@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/notebook-extension:tracker": {"windowingMode": "none",
                                                "autoStartDefaultKernel": True},
    "@jupyterlab/docmanager-extension:plugin": {"autosave": False},
    "@jupyterlab/apputils-extension:sessionDialogs": {"skipKernelRestartDialog": True},
}
# Frontend plugins switched off for the test server only (labconfig/page_config.json).
DISABLED_LAB_EXTENSIONS = {"@jupyterlab/apputils-extension:announcements": True,
                           "@jupyter/nbgrader": True}
# Server extensions switched off (the user-level config dir overrides the venv's .d files).
NBGRADER_SERVER_EXTENSIONS = ("formgrader", "validate_assignment", "assignment_list", "course_list")
DISABLED_SERVER_EXTENSIONS = {f"nbgrader.server_extensions.{x}": False
                              for x in NBGRADER_SERVER_EXTENSIONS}
# The frontend plugins of @jupyter/nbgrader that go with each server extension (create-assignment
# is frontend-only: an instructor's tool, it goes with formgrader; the menu goes with any of them).
NBGRADER_LAB_PLUGINS = {"formgrader": ("formgrader", "create-assignment"),
                        "validate_assignment": ("validate-assignment",),
                        "assignment_list": ("assignment-list",), "course_list": ("course-list",)}


@dataclass
class RunAs:
    """Start the server as another Unix account (``start_lab(run_as=...)``): ``command(argv, env,
    cwd)`` returns the full command line that runs ``argv`` in ``cwd`` as that account with exactly
    the variables ``env`` (the private Jupyter dirs) plus what the account needs (HOME, PATH ...);
    the private dirs are handed to ``uid``:``gid`` before the start."""
    uid: int
    gid: int
    command: Callable[[list[str], dict[str, str], Path], list[str]]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LabServer:
    proc: subprocess.Popen
    base_url: str
    token: str
    root_dir: Path
    runtime_dir: Path
    log_path: Path

    def url(self, path: str) -> str:
        sep = "&" if "?" in path else "?"
        return f"{self.base_url}/{path.lstrip('/')}{sep}token={self.token}"

    def log(self, tail: int = 6000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-tail:]
        except OSError:
            return "(no server log)"

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM the server's process group (the server shuts its kernels down on SIGTERM),
        SIGKILL it if it does not exit in time, then end any kernel of this server still alive.
        Kernels run in their own session, so they are found by their connection file, which lives
        in this server's private runtime dir."""
        if self.proc.poll() is None:
            _signal_group(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                _signal_group(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        for pid in _pids_mentioning(str(self.runtime_dir)):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        pass


def _pids_mentioning(text: str) -> list[int]:
    """Processes whose command line contains ``text`` (here: a private temporary path)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmdline:
            found.append(int(entry.name))
    return found


def _nbgrader_switches(nbgrader) -> tuple[dict[str, bool], dict[str, bool]]:
    """(disabledExtensions, jpserver_extensions) for ``start_lab(nbgrader=...)``: False turns all
    of nbgrader off (the default), True keeps all of it, a collection of server-extension names
    (e.g. ``{"assignment_list", "validate_assignment", "course_list"}``, a student's) keeps those
    and their frontend plugins."""
    if nbgrader is False:
        return DISABLED_LAB_EXTENSIONS, DISABLED_SERVER_EXTENSIONS
    keep = set(NBGRADER_SERVER_EXTENSIONS if nbgrader is True else nbgrader)
    unknown = keep - set(NBGRADER_SERVER_EXTENSIONS)
    if unknown:
        raise ValueError(f"unknown nbgrader server extensions {sorted(unknown)}")
    lab = {k: v for k, v in DISABLED_LAB_EXTENSIONS.items() if k != "@jupyter/nbgrader"}
    server = {}
    for name in NBGRADER_SERVER_EXTENSIONS:
        server[f"nbgrader.server_extensions.{name}"] = name in keep
        if name not in keep:
            lab.update({f"@jupyter/nbgrader:{plugin}": True for plugin in NBGRADER_LAB_PLUGINS[name]})
    return lab, server


def _write_config(base: Path, nbgrader=False) -> dict[str, str]:
    """The private dirs and the quiet configuration under ``base``; returns the variables that
    point Jupyter at them."""
    disabled_lab, server_extensions = _nbgrader_switches(nbgrader)
    dirs = {name: base / name for name in ("config", "data", "settings", "workspaces", "runtime",
                                         "ipython")}
    for d in dirs.values():
        d.mkdir(parents=True, exist_ok=True)
    labconfig = dirs["config"] / "labconfig"
    labconfig.mkdir(exist_ok=True)
    (labconfig / "page_config.json").write_text(
        json.dumps({"disabledExtensions": disabled_lab}))
    (labconfig / "default_setting_overrides.json").write_text(json.dumps(QUIET_SETTINGS))
    (dirs["config"] / "jupyter_server_config.json").write_text(
        json.dumps({"ServerApp": {"jpserver_extensions": server_extensions}}))
    return dict(JUPYTER_CONFIG_DIR=str(dirs["config"]),
                JUPYTER_DATA_DIR=str(dirs["data"]),       # e.g. the notebook-signing key
                JUPYTERLAB_SETTINGS_DIR=str(dirs["settings"]),
                JUPYTERLAB_WORKSPACES_DIR=str(dirs["workspaces"]),
                JUPYTER_RUNTIME_DIR=str(dirs["runtime"]),
                IPYTHONDIR=str(dirs["ipython"]),
                PYTHONUNBUFFERED="1")


def _hand_over(work_dir: Path, run_as: RunAs) -> None:
    for path in [work_dir, *work_dir.rglob("*")]:
        os.chown(path, run_as.uid, run_as.gid, follow_symlinks=False)


def start_lab(root_dir: Path, work_dir: Path, timeout: float = 60.0, attempts: int = 3, *,
              nbgrader=False, run_as: RunAs | None = None) -> LabServer:
    """Start ``python -m jupyterlab`` serving ``root_dir``; returns once /api/status answers.

    A free port is picked here (the server gets --port_retries=0); if another process grabs it
    before the server binds, the start is retried on a new port.

    ``nbgrader``: False (the default) switches nbgrader's lab extension and server extensions
    off; True keeps them all; a collection of server-extension names keeps only those (see
    ``_nbgrader_switches``). ``run_as``: the server runs as another account (see ``RunAs``)."""
    private = _write_config(work_dir, nbgrader)
    env = dict(os.environ, **private)
    for var in ("JUPYTER_TOKEN", "JUPYTER_TOKEN_FILE", "JUPYTER_PATH"):
        env.pop(var, None)
    if run_as is not None:
        _hand_over(work_dir, run_as)
    last_error = ""
    for attempt in range(attempts):
        token = secrets.token_hex(24)
        port = free_port()
        log_path = work_dir / f"lab-{attempt}.log"
        cmd = [sys.executable, "-m", "jupyterlab", "--no-browser",
               "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
               f"--ServerApp.root_dir={root_dir}", f"--IdentityProvider.token={token}",
               "--ServerApp.terminals_enabled=False",
               "--LabApp.expose_app_in_browser=True", "--LabApp.news_url=None",
               "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
               "--LabApp.extension_manager=readonly"]
        if os.geteuid() == 0 and run_as is None:   # containers / CI run the tests as root
            cmd.append("--allow-root")
        if run_as is not None:
            cmd = run_as.command(cmd, private, root_dir)
        with open(log_path, "wb") as log:       # a file, not a pipe: an unread pipe stalls the server
            proc = subprocess.Popen(cmd, env=env, cwd=root_dir, stdout=log, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True)
        server = LabServer(proc, f"http://127.0.0.1:{port}", token, root_dir,
                           Path(env["JUPYTER_RUNTIME_DIR"]), log_path)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                break
            try:
                with urllib.request.urlopen(server.url("api/status"), timeout=2) as r:
                    if r.status == 200:
                        return server
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.25)
        last_error = server.log()
        server.stop()
        if "already in use" not in last_error:
            break
    raise RuntimeError(f"JupyterLab did not start (see {work_dir}); server log:\n{last_error}")
