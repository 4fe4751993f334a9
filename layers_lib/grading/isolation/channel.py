"""The worker process and the channel to it: start it with its limits, send a request, read
the reply within a deadline, and kill it when anything goes wrong.

A failure costs one call, never the grading: a call that does not return within `call_timeout`,
a worker that dies (`os._exit`, a segfault, the memory limit) and a call that writes more than
`output_limit` bytes to stdout/stderr raise a `CallFailed` with a clear message, the worker is
killed, and the next request starts a fresh one. `memory_mb` caps the worker's address space
(RLIMIT_AS, set by the worker): a huge allocation raises MemoryError there.

The worker runs `_worker.py` as a script (`python -I -B -u`) in a new session, with a scratch
working directory and a minimal environment. Its stdin/stdout carry the protocol (8-byte
big-endian length, then a pickle; the reply: 8-byte length, 4-byte JSON length, JSON, 16-byte
aligned array bytes). The student's prints and warnings go to a file, never to the grader's
stdout/stderr; the first 64 KB are kept (`output`).

Cost (2 shared cores): a round trip ~40-90 us, a small method call ~0.2 ms (vs ~6 us in one
process), worker start + load ~0.3 s; the full check of the reference (~10,000 calls) 3.5-4.2 s
against 3.1-4.3 s in one process, with `torch.set_num_threads(1)` in the grading process. With
torch's default threads it varied from 5 to 20 s: torch's OpenMP threads keep spinning after
each tiny op and take the CPU the worker needs (they also make in-process grading 2-4x slower).
"""
import json
import os
import pickle
import select
import signal
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

import layers_lib

from ... import i18n
from ...i18n import tr
from .errors import (BadReply, IsolationError, OutputLimitExceeded, WorkerCrashed,
                     WorkerProtocolError, WorkerTimeout, printable_text)

WORKER = Path(__file__).parents[1] / "_worker.py"
# The directory holding the layers_lib package (the repository or site-packages): the worker
# loads layers_lib.contract and layers_lib.grading.fixtures privately from there.
PACKAGE_ROOT = str(Path(layers_lib.__file__).resolve().parent.parent)
OUTPUT_HEAD = 64 * 1024


class _Timeout(Exception):
    pass


class _Died(Exception):
    pass


class Resources:
    """What must be cleaned up: the worker process, its capture file, the scratch directory.

    Owned by the IsolatedSubmission (its finalizer calls `close`, so it must not refer back to
    the submission); the channel starts and kills the process in it."""

    def __init__(self):
        self.proc = None
        self.out = None
        self.tmpdir = tempfile.mkdtemp(prefix="isolated-submission-")

    def kill(self):
        proc, self.proc = self.proc, None
        if proc is None:
            return None
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        for stream in (proc.stdin, proc.stdout):
            try:
                stream.close()
            except OSError:
                pass
        return proc.returncode

    def close(self):
        self.kill()
        if self.out is not None:
            self.out.close()
            self.out = None
        import shutil
        shutil.rmtree(self.tmpdir, ignore_errors=True)


class WorkerChannel:
    """One worker process at a time, in `resources`; see the module docstring.

    `filename` names the submission in the worker's tracebacks; `output_limit` is in bytes;
    `blocked_imports` maps a top-level module name to the ImportError message the worker gives.
    `restarts` counts the workers killed after a failure. Not thread-safe: the submission
    serialises the calls."""

    def __init__(self, resources, *, filename, call_timeout, memory_mb, output_limit,
                 blocked_imports, launcher=None):
        self.resources = resources
        self.filename = filename
        self.call_timeout = call_timeout
        self.memory_mb = memory_mb
        self.output_limit = output_limit
        self.blocked_imports = blocked_imports
        self.launcher = launcher
        self.restarts = 0
        self._output_head = bytearray()

    @property
    def running(self):
        return self.resources.proc is not None

    def start(self):
        """Start a worker and wait for its handshake; IsolationError when it cannot start."""
        res = self.resources
        if res.out is None:
            fd = os.open(os.path.join(res.tmpdir, "output"), os.O_RDWR | os.O_CREAT | os.O_APPEND)
            res.out = os.fdopen(fd, "r+b", buffering=0)
        language = i18n.language()
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8",
               "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
               i18n.ENVIRONMENT: language}
        workdir = os.path.join(res.tmpdir, "cwd")
        os.makedirs(workdir, exist_ok=True)
        argv, root = [sys.executable, "-I", "-B", "-u", str(WORKER)], PACKAGE_ROOT
        if self.launcher is not None:       # e.g. the autograde sandbox: its own argv and tree
            argv, root, workdir = self.launcher()
        res.proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=res.out, cwd=workdir, env=env, close_fds=True,
            start_new_session=True)
        os.set_blocking(res.proc.stdin.fileno(), False)
        # The course language and its catalog travel in the config: a launcher (the sandbox)
        # may clear the environment, and the worker imports nothing of layers_lib to translate.
        config = {"memory_mb": self.memory_mb, "output_cap": self.output_limit + 4 * 2**20,
                  "max_reply": self._max_reply(),
                  "blocked": {name: tr(message) for name, message in self.blocked_imports.items()},
                  "filename": self.filename, "root": root, "cwd": workdir, "seed": 0,
                  "language": language, "messages": dict(i18n.runtime_catalog(language))}
        data = pickle.dumps(config)
        deadline = _now() + max(self.call_timeout, 60.0)
        try:
            self._write(struct.pack(">Q", len(data)) + data, deadline)
            header, _ = self._read_reply(deadline)
            if header != {"value": "ready"}:
                raise BadReply("no start-up handshake")
        except (_Timeout, _Died, BadReply) as why:
            self.restart()
            raise IsolationError(tr("the worker process could not start ({kind} {why}); its "
                                    "output: {output!r}", kind=type(why).__name__, why=why,
                                    output=self.output()[-2000:])) from None

    def exchange(self, data, label):
        """Send the pickled request `data` to the live worker and read its reply (the JSON
        header, a view of the array bytes), within the call timeout. `label` names the call in
        the CallFailed raised when the worker hangs, dies, floods or breaks the protocol."""
        before = self._output_size()
        deadline = _now() + self.call_timeout
        budget_end = budget_deadline()
        if budget_end is not None:
            if budget_end <= _now():
                raise WorkerTimeout(tr("{label} was not run: the time budget for grading this "
                                       "notebook ran out (a class before it was too slow)",
                                       label=label))
            deadline = min(deadline, budget_end)
        try:
            self._write(struct.pack(">Q", len(data)) + data, deadline)
            header, buf = self._read_reply(deadline)
        except _Timeout:
            self.restart()
            if budget_end is not None and deadline == budget_end:
                raise WorkerTimeout(tr("{label} was stopped when the time budget for grading "
                                       "this notebook ran out: too slow (or an infinite loop)",
                                       label=label)) from None
            raise WorkerTimeout(tr("{label} did not return within {seconds:g} s (infinite loop?)",
                                   label=label, seconds=self.call_timeout)) from None
        except _Died:
            death = self._death()
            crashed = WorkerCrashed(tr("the worker process died ({death}) while running {label}: "
                                       "os._exit, a segfault or the memory limit ({memory_mb} MB)",
                                       death=death, label=label, memory_mb=self.memory_mb))
            crashed.death = death
            raise crashed from None
        except BadReply as why:
            raise self.protocol_failure(label, why) from None
        except BaseException:
            # interrupted mid-exchange (KeyboardInterrupt): the reply would be read by the next
            # call, so this worker is out of step; a fresh one serves the next call
            self.restart()
            raise
        grown = self._output_size() - before
        if grown > self.output_limit:
            self.collect_output(force=True)
            raise OutputLimitExceeded(tr(
                "{label} wrote {size:.1f} MB to stdout/stderr (limit {limit:g} MB): remove the "
                "prints from the layer", label=label, size=grown / 2**20,
                limit=self.output_limit / 2**20))
        self.collect_output()
        return header, buf

    def protocol_failure(self, label, why):
        """Kill the worker; the WorkerProtocolError to raise for the invalid reply to `label`."""
        self.restart()
        return WorkerProtocolError(tr("the worker sent an invalid reply while running {label} "
                                      "({why}): its protocol channel was tampered with?",
                                      label=label, why=printable_text(why)))

    def restart(self):
        """Kill the worker; the next request starts a fresh one."""
        if self.resources.proc is not None:
            self.collect_output(force=True)
            self.resources.kill()
            self.restarts += 1

    def _death(self):
        proc = self.resources.proc
        code = None
        if proc is not None:
            try:
                code = proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                code = None
        self.restart()
        if code is None:
            return tr("it closed its channel")
        if code < 0:
            try:
                return tr("killed by {signal}", signal=signal.Signals(-code).name)
            except ValueError:
                return tr("killed by signal {number}", number=-code)
        return tr("exit code {code}", code=code)

    # -- framing --------------------------------------------------------------------------------

    def _max_reply(self):
        return min(self.memory_mb, 1024) * 2**20

    def _write(self, data, deadline):
        fd = self.resources.proc.stdin.fileno()
        view = memoryview(data)
        while len(view):
            try:
                view = view[os.write(fd, view):]
                continue
            except BlockingIOError:
                pass
            except (BrokenPipeError, ConnectionResetError):
                raise _Died from None
            remaining = deadline - _now()
            if remaining <= 0:
                raise _Timeout
            select.select([], [fd], [], remaining)

    @staticmethod
    def _read_some(fd, deadline):
        while True:
            remaining = deadline - _now()
            if remaining <= 0:
                raise _Timeout
            readable, _, _ = select.select([fd], [], [], remaining)
            if readable:
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    raise _Died
                return chunk

    @staticmethod
    def _read_into(fd, buf, got, deadline):
        view = memoryview(buf)
        n = len(buf)
        while got < n:
            remaining = deadline - _now()
            if remaining <= 0:
                raise _Timeout
            readable, _, _ = select.select([fd], [], [], remaining)
            if not readable:
                continue
            k = os.readv(fd, [view[got:]])
            if k == 0:
                raise _Died
            got += k

    def _read_reply(self, deadline):
        fd = self.resources.proc.stdout.fileno()
        first = self._read_some(fd, deadline)
        while len(first) < 8:
            first += self._read_some(fd, deadline)
        total = struct.unpack(">Q", first[:8])[0]
        if total < 4 or total > self._max_reply() + 2**20:
            raise BadReply(f"announced a reply of {total} bytes")
        if len(first) - 8 > total:
            raise BadReply("more data than announced")
        buf = bytearray(total)
        buf[:len(first) - 8] = first[8:]
        self._read_into(fd, buf, len(first) - 8, deadline)
        size = struct.unpack(">I", buf[:4])[0]
        if size > total - 4:
            raise BadReply("bad header length")
        try:
            header = json.loads(bytes(buf[4:4 + size]).decode("ascii"))
        except (ValueError, RecursionError, UnicodeDecodeError) as exc:
            raise BadReply(f"invalid JSON: {exc}") from None
        start = 4 + size + (-(4 + size) % 16)
        return header, memoryview(buf)[start:]

    # -- student output -------------------------------------------------------------------------

    def output(self):
        """The first 64 KB the student's code wrote to stdout/stderr, as text."""
        self.collect_output(force=True)
        return self._output_head.decode("utf-8", "replace")

    def _output_size(self):
        out = self.resources.out
        return os.fstat(out.fileno()).st_size if out is not None else 0

    def collect_output(self, force=False):
        """Keep the first 64 KB of output; empty the file when it grows (the worker appends)."""
        out = self.resources.out
        if out is None:
            return
        size = os.fstat(out.fileno()).st_size
        if not size or not force and size < 2**20:
            return
        need = OUTPUT_HEAD - len(self._output_head)
        if need > 0:
            out.seek(0)
            self._output_head += out.read(min(need, size))
        os.ftruncate(out.fileno(), 0)


def _now():
    import time
    return time.monotonic()


def budget_deadline():
    """The monotonic time at which grading must stop, from TASK8_GRADING_DEADLINE (a Unix
    time the autograde sandbox sets for its kernel), or None outside autograde."""
    import time
    value = os.environ.get("TASK8_GRADING_DEADLINE")
    if not value:
        return None
    try:
        return time.monotonic() + (float(value) - time.time())
    except ValueError:
        return None
