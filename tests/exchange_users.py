"""Commands run as real Unix accounts, for the tests of nbgrader's exchange between users
(tests/test_exchange_roundtrip.py, tests/test_browser_nbgrader.py).

Every command runs through `setpriv` with the account's uid, gid and groups and a clean
environment, under `bwrap` in a private mount namespace (see `interpreter_view`). A student does
not see the repository either, only its virtual environment (for nbgrader and JupyterLab): what a
student's machine has is the kit and nbgrader, never the course tooling.
"""
import contextlib
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
TOOLS = ("bwrap", "setpriv", "useradd")


def accounts_problem():
    """None if accounts can be created and commands run as them, else why not."""
    if os.geteuid() != 0:
        return "creates Unix accounts: needs root (CI runs as root)"
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        return f"needs {', '.join(missing)} (bubblewrap and util-linux; `./dev test` installs them as root)"
    return None


def interpreter_view():
    """bwrap arguments that make this Python reachable by any user: here it lives under
    /root/.pyenv and /root is 0700, so an empty /root gets only the installation bound back."""
    prefix = Path(os.path.realpath(sys.base_prefix))
    ancestors = [*reversed(prefix.parents)][1:] + [prefix]
    closed = next((p for p in ancestors if not os.stat(p).st_mode & 0o001), None)
    if closed is None or closed == prefix:
        return []
    args = ["--tmpfs", str(closed)]
    for directory in ancestors[ancestors.index(closed) + 1:-1]:
        args += ["--perms", "0755", "--dir", str(directory)]
    return args + ["--ro-bind", str(prefix), str(prefix)]


def user_command(user, argv, *, cwd, student=True, env=None):
    """The command line that runs argv as the Unix account `user` (real uid/gid, its groups, a
    clean environment: HOME, USER, LOGNAME, PATH with the venv first, LANG, plus `env`)."""
    entry = pwd.getpwnam(user)
    cmd = ["bwrap", "--dev-bind", "/", "/", "--die-with-parent", *interpreter_view()]
    if student:
        cmd += ["--tmpfs", str(ROOT), "--ro-bind", sys.prefix, sys.prefix]
    extra = [f"{k}={v}" for k, v in (env or {}).items()]
    return cmd + ["--chdir", str(cwd), "--", "setpriv", f"--reuid={entry.pw_uid}", f"--regid={entry.pw_gid}",
                  "--init-groups", "--", "env", "-i", f"HOME={entry.pw_dir}", f"USER={user}", f"LOGNAME={user}",
                  f"PATH={VENV_BIN}:/usr/bin:/bin", "LANG=C.UTF-8", "OPENBLAS_NUM_THREADS=1", *extra,
                  *map(str, argv)]


def as_user(user, *argv, cwd, student=True, check=True, env=None):
    """Run argv as the Unix account `user` (see `user_command`)."""
    proc = subprocess.run(user_command(user, argv, cwd=cwd, student=student, env=env),
                          capture_output=True, text=True, timeout=300)
    if check:
        assert proc.returncode == 0, f"{user}: {' '.join(map(str, argv))}\n{proc.stdout}\n{proc.stderr}"
    return proc


def nbgrader(user, *args, cwd, student=True):
    start = time.perf_counter()
    proc = as_user(user, sys.executable, "-m", "nbgrader", *args, cwd=cwd, student=student)
    print(f"{time.perf_counter() - start:5.1f} s  {user}: nbgrader {' '.join(args)}")
    return proc


def end_processes_of(user, timeout=10.0):
    """SIGKILL every process still running as the test account `user` (a server's kernel, say)
    and wait until they are gone: `userdel` refuses an account that still runs a process."""
    uid = pwd.getpwnam(user).pw_uid
    deadline = time.monotonic() + timeout
    while True:
        pids = [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit() and _owner(p) == uid]
        if not pids or time.monotonic() > deadline:
            return pids
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.1)


def _owner(proc_dir):
    try:
        return proc_dir.stat().st_uid
    except OSError:
        return None


@contextlib.contextmanager
def term_accounts(prefix, roles, course_id):
    """Accounts for a term, one per role (`teach` is the instructor; unique names), their homes
    (0700, each with a ~/.jupyter/nbgrader_config.py naming the exchange and, for students, the
    course) and the exchange (0777, nbgrader's mode) under a fresh /tmp directory every account
    can traverse. Yields (base, exchange, {role: user}, {role: home}); everything is removed at
    the end, after every process left running as the accounts."""
    base = Path(tempfile.mkdtemp(prefix=f"{prefix}-", dir="/tmp"))
    base.chmod(0o755)
    tag = secrets.token_hex(3)
    users = {role: f"{prefix}-{tag}-{role}" for role in roles}
    home = {role: base / "home" / name for role, name in users.items()}
    created = []
    try:
        (base / "home").mkdir(mode=0o755)
        exchange = base / "exchange"
        exchange.mkdir()
        exchange.chmod(0o777)
        for role, name in users.items():
            subprocess.run(["useradd", "--no-create-home", "--home-dir", str(home[role]), "--shell", "/bin/sh",
                            "--user-group", name], check=True, capture_output=True)
            created.append(name)
            (home[role] / ".jupyter").mkdir(parents=True)
            config = f"c = get_config()\nc.Exchange.root = {str(exchange)!r}\n"
            if role != "teach":          # the instructor's course id is in the course's config
                config += f"c.CourseDirectory.course_id = {course_id!r}\n"
            (home[role] / ".jupyter" / "nbgrader_config.py").write_text(config)
            subprocess.run(["chown", "-R", f"{name}:{name}", str(home[role])], check=True)
            home[role].chmod(0o700)
        yield base, exchange, users, home
    finally:
        for name in created:
            end_processes_of(name)
            subprocess.run(["userdel", name], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)
