"""`IsolatedSubmission`: a submission whose code runs in a worker process, with the interface of
`loader.LoadedSubmission`, so the checks grade it as if it had been loaded here.

    with IsolatedSubmission("[1]task8_modules.ipynb") as loaded:
        results = check_submission(loaded)          # or run_class_checks / assert_class_passes

The pieces run one by one in a fresh interpreter, as the loader runs them (a broken piece costs
only its names; one that hangs or kills the worker is left out when a fresh worker replays the
submission), and `namespace` maps each name to a proxy (`proxies`). This class is the facade:
the process and its limits are the `channel`'s, the data format the `codec`'s.

Fidelity with in-process grading: arrays are passed by value, but in-place changes of the
arguments are written back and NumPy scalar types are kept (a float32 loss stays `np.float32`);
the worker's `np.random` is reseeded from a fingerprint of the grader's global RNG whenever that
changes (deterministic results) and NumPy's error state (`np.errstate`) is forwarded; numeric
RuntimeWarnings are re-raised here as warnings so the checks still see them; the student's
exceptions keep their type, message and line (`errors`).
Not the same: values passed to the worker are copies (only in-place changes of call arguments
come back, not later changes to an array stored with `layer.W = array`), and the student's RNG
use does not advance the grader's `np.random`, so test data and messages can differ from
in-process grading (pass/fail of the demo submissions does not).
"""
import os
import struct
import threading
import warnings
import weakref
import zlib
from pathlib import Path

import numpy as np

from ...i18n import mark, tr
from ..loader import SubmissionNames, defined_names, read_pieces
from ..scan import scan_submission
from .channel import Resources, WorkerChannel
from .codec import Codec, walk_arguments
from .errors import (BadReply, IsolationError, OutputLimitExceeded, WorkerCrashed,
                     WorkerProtocolError, WorkerTimeout, printable_text, raise_with_frame,
                     student_exception)
from .proxies import RemoteFunction, RemoteMethod, submission_class

# {module: the worker's ImportError}; translated when a worker starts (channel)
BLOCKED_IMPORTS = {
    "torch": mark("importing torch is not allowed in the submission: the layers must be written "
                  "with NumPy"),
    "layers_lib": mark("importing layers_lib (the course's reference implementation) is not "
                       "allowed in the submission: write the layers yourself"),
}
DEFAULT_CALL_TIMEOUT = 20.0
_METHOD_MARK = object()


class _PieceFailed(Exception):
    def __init__(self, index, message):
        super().__init__(message)
        self.index = index


def _channel_setting(name, doc):
    return property(lambda self: getattr(self._channel, name),
                    lambda self, value: setattr(self._channel, name, value), doc=doc)


class IsolatedSubmission(SubmissionNames):
    """A submission whose code runs in a worker process; see the module docstring.

    `call_timeout`: seconds one call (a method, a constructor, an attribute read, loading one
    piece) may take (default: $TASK8_CALL_TIMEOUT, else 20). `memory_mb`: the worker's address-space limit. `output_limit_mb`: stdout +
    stderr one call may write. `fail_flagged`: leave statically flagged names out of `namespace`
    (their checks then fail with `flagged_reason`); with False they are graded, and only the
    worker's import block stands in their way. `launcher`: None, or a callable returning
    (argv, package root, working directory) of the worker to start (the autograde sandbox).

    Raises SubmissionError (from the loader) when the file cannot be read, IsolationError when
    no worker can be started at all.
    """

    call_timeout = _channel_setting("call_timeout", "Seconds one call may take.")
    memory_mb = _channel_setting("memory_mb", "The worker's address-space limit.")
    output_limit = _channel_setting("output_limit", "Bytes of stdout + stderr one call may write.")
    blocked_imports = _channel_setting("blocked_imports", "{module: the worker's ImportError}.")
    restarts = _channel_setting("restarts", "Workers killed after a failed call.")

    def __init__(self, path, *, call_timeout=None, memory_mb=2048, output_limit_mb=16,
                 fail_flagged=True, blocked_imports=None, launcher=None):
        if call_timeout is None:    # the autograde sandbox sets a shorter one: a hang costs less
            call_timeout = os.environ.get("TASK8_CALL_TIMEOUT") or DEFAULT_CALL_TIMEOUT
        self.path = str(path)
        self.namespace = {}
        self.errors = []                   # (label, names it would define, message)
        self._name = Path(path).name
        settings = {"call_timeout": float(call_timeout), "memory_mb": int(memory_mb),
                    "output_limit": int(output_limit_mb * 2**20),
                    "blocked_imports": dict(BLOCKED_IMPORTS if blocked_imports is None
                                            else blocked_imports)}
        self.worker_warnings = []          # every warning the student's code raised (capped)
        self.calls = 0
        self._lock = threading.RLock()
        self._res = Resources()
        self._finalizer = weakref.finalize(self, Resources.close, self._res)
        self._channel = WorkerChannel(self._res, filename=self._name, launcher=launcher,
                                      **settings)
        self._codec = Codec(self)
        self._bad = set()                  # pieces that hung or killed the worker
        self._recording = True
        self._piece_errors = {}            # piece index -> message (first load only)
        self._rng_sent = None
        self._err_sent = None
        pieces = read_pieces(path)
        self._pieces = [(p.label, p.source, sorted(defined_names(p.source))) for p in pieces]
        self.flags, self._flag_reasons = scan_submission(pieces)
        self._closed = False
        try:
            self._ensure_worker()
            header, buf = self._exchange({"op": "names"}, tr("listing the submission's names"))
            if not isinstance(header, dict) or not isinstance(header.get("value"), dict):
                raise WorkerProtocolError("the worker did not list the submission's names")
            self._build_namespace(header["value"], buf, fail_flagged)
        except BaseException:
            self.close()
            raise
        self._recording = False
        self.errors.extend((self._pieces[i][0], set(self._pieces[i][2]), message)
                           for i, message in sorted(self._piece_errors.items()))

    # -- public ---------------------------------------------------------------------------------

    def flagged_reason(self, name):
        """Why the static scan flags `name` (None when it does not)."""
        return self._flag_reasons.get(name)

    def failure_reason(self, name):
        reason = self.flagged_reason(name)
        if reason is not None and name not in self.namespace:
            return reason
        return super().failure_reason(name)

    def summary(self):
        text = super().summary()
        if self.flags:
            text += "\n".join(["", tr("Flagged by the static scan:"), *(f"  {f}" for f in self.flags)])
        return text

    @property
    def output(self):
        """The first 64 KB the student's code wrote to stdout/stderr, as text."""
        with self._lock:
            return self._channel.output()

    def close(self):
        """Kill the worker and remove its files (also done when the object is collected)."""
        with self._lock:
            if not self._closed:
                self._channel.collect_output(force=True)
            self._closed = True
            self._finalizer()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- namespace --------------------------------------------------------------------------------

    def _build_namespace(self, names, buf, fail_flagged):
        for name, info in names.items():
            if not isinstance(name, str) or not isinstance(info, dict):
                raise WorkerProtocolError("invalid name listing")
            if fail_flagged and name in self._flag_reasons:
                continue
            kind = info.get("kind")
            if kind == "class":
                cls = submission_class(self, name)
                self._codec.classes[name] = cls
                self.namespace[name] = cls
            elif kind == "function":
                self.namespace[name] = RemoteFunction(self, name)
            elif kind == "value":
                try:
                    self.namespace[name] = self._codec.decode(info["v"], buf, [], 0)
                except (BadReply, KeyError, TypeError, ValueError):
                    pass

    def call_trusted(self, function, *args, label=None, **kwargs):
        """Call one of the worker's trusted functions ("layers_lib.recipe:build_model",
        "layers_lib.training:train") there, with proxies and plain data as arguments."""
        return self._call(("t", function), None, args, kwargs, label or function)

    # -- operations used by the proxies -------------------------------------------------------

    def _call(self, target, attr, args, kwargs, label):
        objs = walk_arguments((args, kwargs))
        return self._request({"op": "call", "target": target, "attr": attr,
                              "args": args, "kwargs": kwargs}, label, objs)[0]

    def _getattr(self, target, name, label):
        value = self._request({"op": "getattr", "target": target, "name": name},
                              tr("reading {name}", name=label), [], allow_method=True)[0]
        if value is _METHOD_MARK:
            return RemoteMethod(self, target, name, label)
        return value

    def _setattr(self, target, name, value, label):
        self._request({"op": "setattr", "target": target, "name": name, "value": value},
                      tr("setting {name}", name=label), [])

    def _release_later(self, gen, hid, count):
        self._codec.release_later(gen, hid, count)

    # -- the request cycle ----------------------------------------------------------------------

    def _request(self, request, label, objs, allow_method=False):
        """Send one operation, return (decoded value, raw header); raise the student's exception
        or an IsolationError. In-place changes to `objs` (the walked arguments) are applied."""
        with self._lock:
            self._ensure_worker()
            header, buf = self._exchange(request, label)
            self.calls += 1
            if not isinstance(header, dict):
                raise self._channel.protocol_failure(label, "the reply is not an object")
            try:
                self._codec.apply_changes(header.get("changed") or [], buf, objs)
                self._reemit(header.get("warnings") or [])
                if "error" in header:
                    error = header["error"]
                    if not isinstance(error, dict):
                        raise BadReply("invalid error")
                    exc, frame = student_exception(error, label, self.memory_mb)
                elif "value" in header:
                    value = header["value"]
                    if allow_method and isinstance(value, dict) and value.get("t") == "meth":
                        return _METHOD_MARK, header
                    return self._codec.decode(value, buf, objs, 0), header
                else:
                    raise BadReply("no value")
            except (BadReply, KeyError, TypeError, ValueError, IndexError, OverflowError) as why:
                raise self._channel.protocol_failure(label, why) from None
        raise_with_frame(exc, frame)

    def _exchange(self, request, label):
        """Send `request` to the live worker and read its reply, within the call timeout."""
        ctx = self._context()
        request.update(ctx)
        data = self._codec.encode(request)
        self._rng_sent = ctx.get("reseed", self._rng_sent)
        self._err_sent = ctx.get("errstate", self._err_sent)
        return self._channel.exchange(data, label)

    def _context(self):
        """The grader's NumPy state the worker must follow: RNG fingerprint, error state."""
        ctx = {}
        fingerprint = _rng_fingerprint()
        if fingerprint != self._rng_sent:
            ctx["reseed"] = fingerprint
        err = np.geterr()
        if err != self._err_sent:
            ctx["errstate"] = err
        return ctx

    def _reemit(self, caught):
        for entry in caught[:5]:
            if type(entry) is not list or len(entry) != 4:
                continue
            category, message, filename, lineno = entry
            message = printable_text(message, 1000)
            if len(self.worker_warnings) < 100:
                self.worker_warnings.append(f"{printable_text(category, 60)}: {message}")
            if category == "RuntimeWarning":
                warnings.warn_explicit(message, RuntimeWarning, printable_text(filename, 300),
                                       lineno if type(lineno) is int else 0, module="submission")

    # -- loading the submission into a worker -----------------------------------------------------

    def _ensure_worker(self):
        if self._channel.running:
            return
        if self._closed:
            raise IsolationError("this IsolatedSubmission was closed")
        for _ in range(len(self._pieces) + 2):
            self._codec.start_generation()
            self._rng_sent = self._err_sent = None
            self._channel.start()
            try:
                self._replay()
                return
            except _PieceFailed as failed:
                self._bad.add(failed.index)
                if self._recording:
                    self._piece_errors[failed.index] = str(failed)
        raise IsolationError(tr("the worker could not load the submission"))

    def _replay(self):
        for index, (label, source, names) in enumerate(self._pieces):
            if index in self._bad:     # as the loader does for a broken piece: its names are gone
                self._exchange({"op": "forget", "names": names}, label)
                continue
            try:
                header, _ = self._exchange({"op": "exec", "source": source, "label": label,
                                            "filename": f"<{self._name} {label}>",
                                            "names": names}, label)
            except WorkerTimeout:
                raise _PieceFailed(index, tr("did not finish within {seconds:g} s (infinite loop at "
                                             "the top level?)", seconds=self.call_timeout)) from None
            except WorkerCrashed as exc:
                raise _PieceFailed(index, tr("the worker process died ({death}): os._exit, a segfault "
                                             "or the memory limit ({memory_mb} MB)",
                                             death=getattr(exc, "death", "?"),
                                             memory_mb=self.memory_mb)) from None
            except (WorkerProtocolError, OutputLimitExceeded) as exc:
                self._channel.restart()
                raise _PieceFailed(index, str(exc)) from None
            if not isinstance(header, dict):
                raise _PieceFailed(index, tr("invalid reply from the worker"))
            if self._recording and "load_error" in header:
                self._piece_errors.setdefault(index, printable_text(header["load_error"], 2000))


_rng_cache = []


def _rng_fingerprint():
    """A checksum of NumPy's global MT19937 state (key and position). Reads the 2.5 KB state
    through the bit generator's ctypes interface (~1 us; np.random.get_state() takes ~75 us)."""
    try:
        bit_generator = np.random.mtrand._rand._bit_generator
        if not _rng_cache or _rng_cache[0] is not bit_generator:
            import ctypes
            _rng_cache[:] = [bit_generator, bit_generator.ctypes.state_address, ctypes.string_at]
        _, address, string_at = _rng_cache
        return zlib.crc32(string_at(address, 624 * 4 + 4))
    except (AttributeError, ImportError, TypeError):
        state = np.random.get_state()
        return zlib.crc32(struct.pack("<i", int(state[2])), zlib.crc32(state[1].tobytes()))
