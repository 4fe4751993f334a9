"""A Jupyter kernel manager whose kernels start inside the sandbox.

The kernel talks to the grader over IPC sockets in the scratch's kernel/ directory (a network
namespace has no loopback shared with the grader; Unix sockets in a bound directory cross it).
The connection file, with the message-signing key, is readable by the sandbox account only and
is deleted as soon as the kernel is up (`Scratch.lock_kernel_dir`), so code started later in the
sandbox cannot sign messages to the kernel or replace its sockets.
"""
import os

from jupyter_client.manager import AsyncKernelManager


class SandboxedKernelManager(AsyncKernelManager):
    """AsyncKernelManager that wraps the kernel command in `policy.command(...)`."""

    def attach_sandbox(self, policy, scratch, env):
        self.sandbox_policy = policy
        self.scratch = scratch
        self.sandbox_env = dict(env)
        self.transport = "ipc"
        self.ip = os.path.join(scratch.kernel, "k")
        self.connection_file = os.path.join(scratch.kernel, "connection.json")

    def write_connection_file(self, **kwargs):
        super().write_connection_file(**kwargs)
        self.scratch.give(self.connection_file)

    # PR_SET_DUMPABLE 0: other processes of the sandbox account (the isolated worker that runs
    # the student's code next to the [2] kernel) can neither ptrace the kernel nor read its memory
    NOT_DUMPABLE = "--IPKernelApp.exec_lines=['import ctypes; ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)']"

    # the kernel's parent is the sandbox (bubblewrap's --die-with-parent ends it with the grader):
    # 1 means "no parent to poll", and it keeps ipykernel from printing its "Ctrl-C will not
    # work" note to the grader's terminal for every kernel
    NO_PARENT_POLL = "--IPKernelApp.parent_handle=1"

    harden = False

    def format_kernel_cmd(self, extra_arguments=None):
        cmd = super().format_kernel_cmd(extra_arguments) + [self.NO_PARENT_POLL]
        if self.harden:
            cmd.append(self.NOT_DUMPABLE)
        return self.sandbox_policy.command(cmd, self.scratch, env=self.sandbox_env)
