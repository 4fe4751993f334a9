"""A private scratch directory for one sandboxed run, owned by the sandbox account.

    <tmp>/task8-sandbox-XXXX/      root, 0711 (the account can pass, not list)
        work/                      the kernel's working directory: the checked notebooks
        home/                      HOME, MPLCONFIGDIR, IPython's profile
        kernel/                    the kernel's connection file and IPC sockets

`lock_kernel_dir` hands kernel/ back to root once the kernel has bound its sockets, so code in
the sandbox can neither read the connection key again nor replace a socket.
"""
import os
import shutil
import tempfile


class Scratch:
    def __init__(self, account, prefix="task8-sandbox-"):
        self.account = account
        self.root = tempfile.mkdtemp(prefix=prefix)
        os.chmod(self.root, 0o711)
        self.work = self._subdir("work")
        self.home = self._subdir("home")
        self.kernel = self._subdir("kernel")

    def _subdir(self, name):
        path = os.path.join(self.root, name)
        os.mkdir(path, 0o700)
        self._give(path)
        return path

    def _give(self, path):
        if self.account.privileged:
            os.chown(path, self.account.uid, self.account.gid)

    def add_file(self, name, data, directory=None):
        """Write `data` (bytes) as `name` in work/ (or `directory`), readable by the account."""
        if os.path.basename(name) != name or name in ("", ".", ".."):
            raise ValueError(f"not a plain file name: {name!r}")
        path = os.path.join(directory or self.work, name)
        with open(path, "xb") as f:
            f.write(data)
        os.chmod(path, 0o600)
        self._give(path)
        return path

    def give(self, path):
        """Make a file the grader wrote (a connection file) readable by the account only."""
        os.chmod(path, 0o600)
        self._give(path)

    def lock_kernel_dir(self):
        """After start-up: kernel/ belongs to root again; the connection file is removed."""
        for entry in os.listdir(self.kernel):
            if entry.endswith(".json"):
                os.unlink(os.path.join(self.kernel, entry))
        if self.account.privileged:
            os.chown(self.kernel, 0, 0)
        os.chmod(self.kernel, 0o755)

    def cleanup(self):
        shutil.rmtree(self.root, ignore_errors=True)
