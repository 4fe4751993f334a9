"""The exceptions of isolated grading, and the student's exceptions rebuilt from the worker's
description of them.

A failed call must fail the check of one class with a message a student understands, so every
way the worker can fail is a `CallFailed` (an AssertionError for the checks). An exception the
student's code raised is re-raised here with the same type and message and a last traceback
frame naming the student's function and line, as if the code had run in this process; its
class is built here from names only (nothing the worker names is ever imported).
"""
import builtins

from ...i18n import tr


class IsolationError(RuntimeError):
    """The worker cannot be used (it could not start, or the submission was closed)."""


class CallFailed(IsolationError, AssertionError):
    """One call into the student's code failed for a reason other than an exception it raised.

    Also an AssertionError: for the checks it is a failed check of that class, and
    run_class_checks reports its message as it is ("Linear.forward did not return within 20 s
    (infinite loop?)") rather than as an exception with a grader traceback frame."""


class WorkerTimeout(CallFailed):
    """A call did not return within `call_timeout` (the worker was killed)."""


class WorkerCrashed(CallFailed):
    """The worker process died during a call."""


class WorkerProtocolError(CallFailed):
    """The worker sent something that is not a valid reply (the worker was killed)."""


class OutputLimitExceeded(CallFailed):
    """A call wrote more than `output_limit_mb` to stdout/stderr."""


class StaleObjectError(CallFailed):
    """A proxy whose remote object was lost when its worker was restarted."""


class SubmissionRaised(Exception):
    """Base of the exception types re-raised for student exceptions that are not builtin
    `Exception` subclasses (their own classes, SystemExit, KeyboardInterrupt, ...)."""


class BadReply(Exception):
    """Inside the package: a reply that breaks the protocol; it becomes a WorkerProtocolError
    (and a restart) where the call is known."""


_BUILTIN_EXCEPTIONS = {name: cls for name, cls in vars(builtins).items()
                       if isinstance(cls, type) and issubclass(cls, Exception)}
_raised_classes = {}


def printable_text(text, limit=200):
    """A worker-supplied text cut to `limit` characters, unprintable ones replaced by "?"."""
    text = str(text)[:limit]
    return "".join(c if c.isprintable() else "?" for c in text) or "?"


def _raised_class(module, qualname, base=None):
    """An exception class named like the student's, deriving from its builtin base (so numpy's
    _ArrayMemoryError is still a MemoryError) and from SubmissionRaised. Its `__module__` is this
    module (the student's is in `student_module`): nothing ever imports a worker-chosen name."""
    key = (module, qualname, base)
    if key not in _raised_classes and len(_raised_classes) < 1000:
        namespace = {"__module__": __name__, "__qualname__": qualname, "student_module": module}
        bases = (SubmissionRaised,)
        if base in _BUILTIN_EXCEPTIONS and base != "Exception":
            bases = (_BUILTIN_EXCEPTIONS[base], SubmissionRaised)
        try:
            cls = type(qualname, bases, namespace)
        except TypeError:
            cls = type(qualname, (SubmissionRaised,), namespace)
        _raised_classes[key] = cls
    return _raised_classes.get(key, SubmissionRaised)


def student_exception(error, label, memory_mb):
    """(exception, frame or None) for the worker's description `error` of what the student's
    code raised while running `label`; `memory_mb` goes into a MemoryError's message."""
    name, module = printable_text(error["type"], 100), printable_text(error["module"], 100)
    message, args = printable_text(error["message"], 4000), error.get("args")
    exc = None
    if module == "builtins" and name in _BUILTIN_EXCEPTIONS:
        cls = _BUILTIN_EXCEPTIONS[name]
        plain = (type(args) is list and len(args) <= 8
                 and all(type(a) in (str, int, float) for a in args))
        try:
            exc = cls(*args) if plain else cls(message)
        except Exception:          # noqa: BLE001 - constructors with other signatures
            exc = None
        if isinstance(exc, MemoryError):
            exc = MemoryError(message + " " + _memory_note(memory_mb))
    if exc is None:
        if name == "SystemExit":
            message = tr("exit() or sys.exit() was called in {label} (code {code})", label=label,
                         code=message or None)
        base = error.get("base")
        cls = _raised_class(module, name, base if isinstance(base, str) else None)
        if issubclass(cls, MemoryError):
            message += " " + _memory_note(memory_mb)
        try:
            exc = cls(message)
        except Exception:          # noqa: BLE001
            exc = SubmissionRaised(f"{name}: {message}")
    frame = error.get("frame")
    frame = frame if isinstance(frame, dict) else None
    if type(exc) is NotImplementedError and not error["message"]:
        method = printable_text(frame.get("name"), 100) if frame else tr("a method")
        exc = NotImplementedError(tr("{label}: {method} is not implemented yet (its stub still "
                                     "raises NotImplementedError)", label=label, method=method))
    return exc, frame


def _memory_note(memory_mb):
    return tr("(the worker's memory is limited to {memory_mb} MB)", memory_mb=memory_mb)


def raise_with_frame(exc, frame):
    """Raise `exc` from a frame that names the student's function and line, so a traceback
    (and run_class_checks' "(in forward, line 12)") points into the student's code."""
    exc.__suppress_context__ = True
    if not frame:
        raise exc
    try:
        line = min(max(int(frame["line"]), 1), 100000)
        name = printable_text(frame["name"], 100)
        code = compile("\n" * (line - 1) + "raise __iso_exc__",
                       printable_text(frame["file"], 300), "exec")
        code = code.replace(co_name=name, **({"co_qualname": name}
                                             if hasattr(code, "co_qualname") else {}))
    except (KeyError, TypeError, ValueError, SyntaxError):
        raise exc from None
    exec(code, {"__iso_exc__": exc, "__builtins__": {}})
