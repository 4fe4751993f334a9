"""Autograde step that replaces nbgrader's `Execute`: grading survives kernels that die or hang.

With stock `Execute`, a kernel that dies (`os._exit`, a segfault, the OOM killer) or ignores the
timeout interrupt fails the student's whole assignment. `ResilientExecute` gives that cell an
error output instead (0 points if it is a graded cell), restarts the kernel, replays the
notebook's earlier non-graded code cells (imports, the setup that loads the submission) and
continues with the next cell. The kernel also runs with a memory limit (RLIMIT_DATA), so a
memory bomb raises MemoryError in the student's code instead of exhausting the machine, and a
cell's output is capped while it runs.
"""
import copy
import resource

import nbformat
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from traitlets import Bool, Integer

from nbgrader import utils
from nbgrader.preprocessors import Execute


class ResilientExecute(Execute):
    """nbgrader's Execute, surviving dead and unresponsive kernels, with a memory limit."""

    memory_limit_mb = Integer(
        0, help="RLIMIT_DATA of the kernel process in MiB (0: no limit). Allocations beyond it "
                "raise MemoryError in the student's code."
    ).tag(config=True)

    max_kernel_restarts = Integer(
        3, help="Restarts per notebook; after that, every remaining code cell fails unexecuted."
    ).tag(config=True)

    max_output_chars = Integer(
        10_000_000, help="Characters of output kept per cell while it runs (0: no limit); the "
                         "rest is dropped, with a note. Error outputs and the fact that something "
                         "was written to stderr are always kept (both score 0)."
    ).tag(config=True)

    replay_after_restart = Bool(
        True, help="After a restart, re-run the earlier code cells that are not graded cells "
                   "(imports, setup) so that the following cells find their state."
    ).tag(config=True)

    def preprocess(self, nb, resources=None, km=None):
        self._restarts = 0
        self._gave_up = None
        return super().preprocess(nb, resources, km)

    def start_new_kernel(self, **kwargs):
        super().start_new_kernel(**kwargs)
        self._limit_memory()

    def _limit_memory(self):
        if self.memory_limit_mb <= 0:
            return
        provisioner = getattr(self.km, "provisioner", None)
        pid = getattr(provisioner, "pid", None) or getattr(getattr(provisioner, "process", None), "pid", None)
        if pid is None:
            self.log.warning("Cannot limit the kernel's memory: no process id")
            return
        limit = self.memory_limit_mb * 1024 * 1024
        try:
            resource.prlimit(pid, resource.RLIMIT_DATA, (limit, limit))
        except (OSError, ValueError) as exc:
            self.log.warning("Cannot limit the kernel's memory: %s", exc)

    def output(self, outs, msg, display_id, cell_index):
        cap = self.max_output_chars
        kind = msg.get("msg_type")
        if cap <= 0 or kind not in ("stream", "display_data", "execute_result"):
            return super().output(outs, msg, display_id, cell_index)
        content = msg.get("content") or {}
        if kind == "stream":
            size = len(content.get("text", ""))
        else:
            size = sum(len(str(v)) for v in (content.get("data") or {}).values())
        used = self._output_chars
        if used + size > cap:
            if kind != "stream":
                self._truncated.add("display")
                return None
            name = content.get("name", "stdout")
            if name in self._truncated:
                return None
            self._truncated.add(name)
            keep = max(0, cap - used)
            note = f"\n... output truncated: more than {cap} characters in this cell ...\n"
            msg = dict(msg, content=dict(content, text=content.get("text", "")[:keep] + note))
            size = keep
        self._output_chars = used + size
        return super().output(outs, msg, display_id, cell_index)

    def _reset_cell_state(self):
        """Per-cell state of the output cap: characters kept so far, streams already cut."""
        self._output_chars = 0
        self._truncated = set()

    def preprocess_cell(self, cell, resources, index):
        self._reset_cell_state()
        if self._gave_up:
            if cell.cell_type == "code" and cell.source.strip():
                cell.outputs = [error_output("KernelGaveUp", self._gave_up)]
            return cell, self.resources
        try:
            return super().preprocess_cell(cell, resources, index)
        except (DeadKernelError, CellTimeoutError) as exc:
            dead = isinstance(exc, DeadKernelError)
            what = ("the kernel died while running this cell (os._exit, a crash or out of memory)"
                    if dead else self.timeout_message(self._get_timeout(cell)))
            self.log.error("Cell %d: %s; restarting the kernel", index, what)
            cell.outputs.append(error_output(type(exc).__name__, what))
            self._recover(index)
            return cell, self.resources

    def timeout_message(self, timeout):
        return "the kernel did not respond to the interrupt after the timeout"

    def _recover(self, index):
        self._restarts += 1
        if self._restarts > self.max_kernel_restarts:
            self._gave_up = f"not executed: the kernel failed {self._restarts} times in this notebook"
            return
        try:
            self._restart_kernel()
        except Exception as exc:                        # noqa: BLE001 - report in the notebook
            self._gave_up = f"not executed: the kernel could not be restarted ({exc})"
            return
        if not self.replay_after_restart:
            return
        for j in range(index):
            original = self.nb.cells[j]
            if original.cell_type != "code" or utils.is_grade(original) or not original.source.strip():
                continue
            replay = copy.deepcopy(original)
            try:
                super().preprocess_cell(replay, self.resources, j)
            except (DeadKernelError, CellTimeoutError):
                self._gave_up = "not executed: the kernel failed again while re-running earlier cells"
                return
            finally:
                self.nb.cells[j] = original

    def _restart_kernel(self):
        mode, self.shutdown_kernel = self.shutdown_kernel, "immediate"
        try:
            self._cleanup_kernel()
        except Exception as exc:                        # noqa: BLE001 - it is dead anyway
            self.log.warning("Cleaning up the old kernel: %s", exc)
        finally:
            self.shutdown_kernel = mode
        self.km = self.create_kernel_manager()
        self.start_new_kernel()
        self.start_new_kernel_client()
        self.wait_for_reply(self.kc.kernel_info())


def error_output(ename, evalue):
    return nbformat.v4.new_output("error", ename=ename, evalue=evalue,
                                  traceback=[f"{ename}: {evalue}"])
