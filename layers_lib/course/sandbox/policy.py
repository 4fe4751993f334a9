"""The bubblewrap command a sandboxed program runs under.

    policy = SandboxPolicy(sandbox_account(), readonly=[kit_dir], memory_mb=4096)
    argv = policy.command([python, "-m", "ipykernel_launcher", "-f", conn], scratch,
                          env={"PYTHONPATH": kit_dir})

Namespaces: PID (the program's processes end with it: bubblewrap is their init and
`--die-with-parent` ends it with the grader), network (no interface up: no network at all),
IPC, UTS, mount (a new root: only what is bound below exists). As root the program then drops
to the sandbox account with `setpriv` (no capabilities, no_new_privs, no supplementary groups);
otherwise bubblewrap's user namespace maps it to an unprivileged uid. `prlimit` sets the
limits: processes of the account, file size, data segment, core dumps off.
"""
import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import PurePosixPath


class SandboxUnavailable(RuntimeError):
    """bubblewrap (or setpriv/prlimit) is missing, or namespaces do not work here."""


def _python_roots():
    """The read-only trees Python needs: the installation, the virtual environment."""
    roots = {os.path.realpath(sys.base_prefix), os.path.realpath(sys.prefix)}
    return sorted(roots)


# /usr holds the programs and libraries; the merged-/usr links recreate /bin, /lib, ...
_SYSTEM_LINKS = {"/bin": "usr/bin", "/sbin": "usr/sbin", "/lib": "usr/lib", "/lib64": "usr/lib64"}
_SYSTEM_FILES = ("/etc/ld.so.cache", "/etc/fonts", "/etc/localtime", "/etc/mime.types")


@dataclass
class SandboxPolicy:
    account: object
    readonly: list = field(default_factory=list)     # extra trees, bound read-only
    hidden: list = field(default_factory=list)       # paths replaced by an empty tmpfs
    memory_mb: int = 4096                            # RLIMIT_DATA of the program (0: none)
    max_processes: int = 256                         # RLIMIT_NPROC of the account
    max_file_mb: int = 64                            # RLIMIT_FSIZE
    bwrap: str = field(default_factory=lambda: shutil.which("bwrap") or "")

    def check(self):
        """Raise SandboxUnavailable with what to install when a piece is missing."""
        missing = [name for name, path in (("bwrap", self.bwrap), ("setpriv", shutil.which("setpriv")),
                                           ("prlimit", shutil.which("prlimit"))) if not path]
        if missing:
            raise SandboxUnavailable(
                f"{', '.join(missing)} not found: the autograde sandbox needs bubblewrap and "
                "util-linux (Debian: apt-get install bubblewrap util-linux)")

    def command(self, argv, scratch, env=None, cwd=None):
        """argv to run `argv` sandboxed, with `scratch` (a Scratch) as its only writable tree."""
        self.check()
        cmd = [self.bwrap, "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
               "--unshare-cgroup-try", "--die-with-parent", "--new-session"]
        if not self.account.privileged:
            cmd += ["--unshare-user", "--uid", str(self.account.uid), "--gid", str(self.account.gid)]
        cmd += ["--ro-bind", "/usr", "/usr"]
        for link, target in _SYSTEM_LINKS.items():
            if os.path.islink(link) or not os.path.exists(link):
                cmd += ["--symlink", target, link]
            else:
                cmd += ["--ro-bind", link, link]
        for path in _SYSTEM_FILES:
            if os.path.exists(path):
                cmd += ["--ro-bind", path, path]
        cmd += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/dev/shm", "--tmpfs", "/tmp"]
        for path in self._parents([*_python_roots(), *self.readonly, scratch.root]):
            cmd += ["--perms", "0755", "--dir", path]
        for path in [*_python_roots(), *self.readonly]:
            cmd += ["--ro-bind", path, path]
        for path in self.hidden:
            if os.path.exists(path):
                cmd += ["--tmpfs", path]
        cmd += ["--bind", scratch.root, scratch.root, "--chdir", cwd or scratch.work,
                "--clearenv"]
        base_env = {"PATH": f"{os.path.dirname(sys.executable)}:/usr/bin:/bin", "LANG": "C.UTF-8",
                    "HOME": scratch.home, "USER": self.account.name, "LOGNAME": self.account.name,
                    "MPLCONFIGDIR": os.path.join(scratch.home, ".matplotlib"), "MPLBACKEND": "Agg",
                    "TMPDIR": "/tmp", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
                    "MKL_NUM_THREADS": "1", "PYTHONDONTWRITEBYTECODE": "1"}
        for key, value in {**base_env, **(env or {})}.items():
            cmd += ["--setenv", key, str(value)]
        cmd += ["--", "prlimit", f"--nproc={self.max_processes}", "--core=0",
                f"--fsize={self.max_file_mb * 2**20}"]
        if self.memory_mb:
            cmd += [f"--data={self.memory_mb * 2**20}"]
        cmd += ["--"]
        if self.account.privileged:
            cmd += ["setpriv", f"--reuid={self.account.uid}", f"--regid={self.account.gid}",
                    "--clear-groups", "--no-new-privs", "--inh-caps=-all", "--bounding-set=-all",
                    "--"]
        return cmd + list(argv)

    @staticmethod
    def _parents(paths):
        """The directories bubblewrap must create (world-readable) to bind `paths` under."""
        parents = set()
        for path in paths:
            for parent in list(PurePosixPath(path).parents)[:-1]:
                parents.add(str(parent))
        return sorted(parents, key=lambda p: (p.count("/"), p))
