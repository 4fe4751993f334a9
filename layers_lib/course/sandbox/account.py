"""The unprivileged account sandboxed code runs as.

As root (CI, a grading server), a system user `task8-sandbox` is created once (no home, no
shell) and the sandbox drops to it with `setpriv`. It owns nothing of the course, so even a
file the policy forgot to hide is protected by its permissions. Without root, bubblewrap maps
the caller to an unprivileged uid inside a user namespace (the course files stay the caller's,
so the read-only binds are what protects them).
"""
import os
import pwd
import subprocess
from dataclasses import dataclass

DEFAULT_NAME = "task8-sandbox"


@dataclass(frozen=True)
class SandboxAccount:
    uid: int
    gid: int
    name: str
    privileged: bool        # True: we are root and drop to uid/gid; False: user namespace


def sandbox_account(name=DEFAULT_NAME):
    """The account to run sandboxed code as, created when missing and we are root."""
    if os.geteuid() != 0:
        return SandboxAccount(uid=65534, gid=65534, name="nobody", privileged=False)
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        proc = subprocess.run(["useradd", "--system", "--no-create-home", "--home-dir",
                               "/nonexistent", "--shell", "/usr/sbin/nologin", "--user-group",
                               name], capture_output=True, text=True)
        if proc.returncode not in (0, 9):          # 9: created meanwhile by a parallel grader
            raise RuntimeError(f"cannot create the sandbox user {name!r}: {proc.stderr.strip()}")
        entry = pwd.getpwnam(name)
    if entry.pw_uid == 0 or entry.pw_gid == 0:
        raise RuntimeError(f"the sandbox user {name!r} must not be root")
    return SandboxAccount(uid=entry.pw_uid, gid=entry.pw_gid, name=name, privileged=True)
