"""The sandbox every piece of student code runs in during autograde (instructor side).

    policy.py     the bubblewrap command: namespaces, read-only binds, an unprivileged user, limits
    account.py    the unprivileged account (a system user when root, a mapped uid otherwise)
    files.py      submitted files checked before anything copies them (symlinks, devices, size)
    scratch.py    a private scratch directory per run, owned by the sandbox account
    runtime.py    the package tree the sandbox sees: the student kit plus the hidden checks
    kernel.py     a Jupyter kernel manager whose kernels start inside the sandbox

What a sandbox sees: the operating system's /usr (read-only), the Python installation and the
virtual environment (read-only), the runtime package tree (read-only), its scratch directory
(read-write, only that student's checked notebooks) and a private /tmp. Not the course directory:
no gradebook.db, source/, release/, autograded/, submitted/ of anyone, no reference solution,
no editable install of layers_lib. No network (a private network namespace with no interface
up), a private PID namespace (every process in it ends when it ends), its own IPC and UTS
namespaces, no capabilities, no_new_privs, and limits on processes, file size and memory.
"""
from .account import SandboxAccount, sandbox_account
from .files import SubmissionFileError, checked_notebooks
from .policy import SandboxPolicy, SandboxUnavailable
from .scratch import Scratch

__all__ = ["SandboxAccount", "SandboxPolicy", "SandboxUnavailable", "Scratch",
           "SubmissionFileError", "checked_notebooks", "sandbox_account"]
