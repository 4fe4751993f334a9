"""The worker process of `layers_lib.grading.isolation`: runs one student's submission.

Started by the grader as a script in a fresh interpreter,

    python -I -B -u .../layers_lib/grading/_worker.py

never imported by the grader and never as part of the `layers_lib` package: only the standard
library and NumPy are loaded, so `layers_lib` is not in `sys.modules` where student code could
reach it. (Fixture modules the grader sends are loaded privately, see `_trusted_module`.)

Channel: the worker's original stdin/stdout (moved to private descriptors at start); fd 0 then
reads /dev/null and fd 1 and 2 (the student's prints, warnings, tracebacks) go to the file the
grader passed as stderr.

    request  grader -> worker: 8-byte big-endian length, then a pickle. Trusted: the grader
             made it (arrays, numbers, strings, fixture modules; remote objects by handle).
    reply    worker -> grader: 8-byte length, 4-byte JSON length, JSON, raw array bytes (each
             16-byte aligned). The grader decodes it with a restricted decoder: only plain data
             (None/bool/int/float/str, lists, tuples, dicts, ndarrays and NumPy scalars of
             numeric dtypes) and tagged references to objects that stay here ("obj", "for").

Everything here is reachable by student code, so nothing here is trusted by the grader.

Why this file is long: it runs as a standalone script and may import nothing of layers_lib
(student code shares its interpreter), so its channel, encoder, import guard and piece loader
cannot be split into modules of the package.
"""
import builtins
import io
import json
import os
import pickle
import struct
import sys
import traceback
import types
import warnings

# Private references, so a student patching `builtins` or `numpy` in this process does not
# break the protocol code below (it would only break their own grading).
_type, _id, _len, _isinstance, _getattr, _setattr, _callable, _str, _repr, _dir = (
    type, id, len, isinstance, getattr, setattr, callable, str, repr, dir)
_list, _tuple, _dict, _int, _float, _bool = list, tuple, dict, int, float, bool
_BaseException, _MemoryError = BaseException, MemoryError
_real_import = builtins.__import__
_os_read, _os_write = os.read, os.write
_json_dumps = json.JSONEncoder(allow_nan=True, separators=(",", ":")).encode
_extract_tb = traceback.extract_tb
_catch_warnings, _simplefilter = warnings.catch_warnings, warnings.simplefilter

_WORKER_FILE = os.path.abspath(__file__)
MAX_DEPTH = 32               # deeper structures are sent as a reference ("for")

_state = types.SimpleNamespace(trusted=False, blocked={}, ns=None, filename="submission",
                               labels={}, memory_mb=0, max_reply=0, messages={})
_objects = {}                # handle -> object (kept alive while the grader holds a proxy)
_handles = {}                # id(object) -> handle
_sent = {}                   # handle -> number of times sent, minus releases
_next_handle = [1]
_stash = {}                  # privately loaded layers_lib modules (not in sys.modules)
# The only layers_lib modules the grader may send objects of: the contract and the ungraded
# fixture modules of the checks, and (for re-training [0]'s best model) the recipe builder and
# the training loop with the data helpers and the texts (i18n) it imports. Nothing else of
# layers_lib is loaded here.
_TRUSTED_MODULES = ("layers_lib.contract", "layers_lib.grading.fixtures", "layers_lib.recipe",
                    "layers_lib.training", "layers_lib.data", "layers_lib.idx")
# The functions the grader may call here by name (target ("t", "module:function")).
_TRUSTED_CALLS = ("layers_lib.recipe:build_model", "layers_lib.training:train")
_method_cache = {}           # id(type) -> (type, [method names])


def tr(template, **fields):
    """`layers_lib.i18n.tr` without layers_lib: the grader sends the catalog of the course
    language in the start-up config (English: none, the template is the text)."""
    text = _state.messages.get(template) or template
    return text.format(**fields) if fields else text


# --- channel ----------------------------------------------------------------------------------

def _setup_channel():
    proto_in, proto_out = os.dup(0), os.dup(1)          # dup() makes them non-inheritable
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(2, 1)                                       # stdout -> the grader's capture file
    return proto_in, proto_out


def _read_exact(fd, n):
    chunks, got = [], 0
    while got < n:
        chunk = _os_read(fd, min(n - got, 1 << 20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        got += _len(chunk)
    return b"".join(chunks)


def _write_all(fd, data):
    view = memoryview(data)
    while _len(view):
        view = view[_os_write(fd, view):]


def _send(fd, header, buffers):
    head = _json_dumps(header).encode("ascii")
    start = 4 + _len(head)
    pad = -start % 16
    total = start + pad + sum(_len(b) + (-_len(b) % 16) for b in buffers)
    if total > _state.max_reply:
        return _send(fd, {"error": _error_dict(_MemoryError(
            tr("the result is too large to send ({size:.0f} MB)", size=total / 2**20)))}, [])
    parts = [struct.pack(">QI", total, _len(head)), head, b"\0" * pad]
    for b in buffers:
        parts.append(b)
        parts.append(b"\0" * (-_len(b) % 16))
    _write_all(fd, b"".join(parts))


# --- imports: student code may not load torch or layers_lib --------------------------------

class _Blocker:
    """First meta path finder: refuses blocked top-level packages to untrusted code."""

    def find_spec(self, fullname, path=None, target=None):
        if _state.trusted:
            return None
        message = _state.blocked.get(fullname.partition(".")[0])
        if message is not None:
            raise ImportError(message, name=fullname)
        return None


def _guarded_import(name, globals=None, locals=None, fromlist=(), level=0):
    if level == 0:
        message = _state.blocked.get(_str(name).partition(".")[0])
        if message is not None:
            raise ImportError(message, name=name)
        if name == "builtins" and _state.ns is not None:
            return _state.student_builtins_module
    return _real_import(name, globals, locals, fromlist, level)


def _trusted_module(name, root):
    """A layers_lib module for unpickling a fixture object, kept out of sys.modules."""
    if name in _stash:
        return _stash[name]
    if name not in _TRUSTED_MODULES:
        raise ImportError(f"the grader may not send objects of {name}", name=name)
    _state.trusted = True
    saved_path = _list(sys.path)
    try:
        if root and root not in sys.path:
            sys.path.insert(0, root)
        __import__(name)
    finally:
        _state.trusted = False
        sys.path[:] = saved_path
        for key in _list(sys.modules):
            if key == "layers_lib" or key.startswith("layers_lib."):
                _stash[key] = sys.modules.pop(key)
    return _stash[name]


class _Unpickler(pickle.Unpickler):
    root = None

    def find_class(self, module, name):
        if module == "layers_lib" or module.startswith("layers_lib."):
            obj = _trusted_module(module, self.root)
            for part in name.split("."):
                obj = _getattr(obj, part)
            return obj
        return super().find_class(module, name)

    def persistent_load(self, pid):
        kind = pid[0]
        if kind == "h":
            try:
                return _objects[pid[1]]
            except KeyError:
                raise LookupError("the object no longer exists in the worker") from None
        if kind == "g":
            try:
                return _state.ns[pid[1]]
            except KeyError:
                raise NameError(f"name '{pid[1]}' is not defined") from None
        raise pickle.UnpicklingError(f"unknown reference {pid!r}")


# --- encoding of results (worker -> grader) ---------------------------------------------------

_NUMERIC_KINDS = "biufc"


def _type_names(t):
    try:
        module = type.__dict__["__module__"].__get__(t)
        qualname = type.__dict__["__qualname__"].__get__(t)
    except _BaseException:
        return "?", "?"
    return (_str(module) if _type(module) is _str else "?"), (
        _str(qualname) if _type(qualname) is _str else "?")


def _methods_of(t):
    entry = _method_cache.get(_id(t))
    if entry is not None and entry[0] is t:
        return entry[1]
    names = []
    try:
        for name in _dir(t):
            if name.startswith("__") and name.endswith("__"):
                continue
            try:
                if _callable(_getattr(t, name)):
                    names.append(name)
            except _BaseException:
                pass
    except _BaseException:
        pass
    _method_cache[_id(t)] = (t, names)
    return names


def _handle(obj):
    hid = _handles.get(_id(obj))
    if hid is None or _objects.get(hid) is not obj:
        hid = _next_handle[0]
        _next_handle[0] += 1
        _objects[hid] = obj
        _handles[_id(obj)] = hid
        _sent[hid] = 0
    _sent[hid] += 1
    return hid


def _release(pairs):
    for hid, count in pairs:
        if hid in _sent:
            _sent[hid] -= count
            if _sent[hid] <= 0:
                obj = _objects.pop(hid)
                _handles.pop(_id(obj), None)
                del _sent[hid]


class _Encoder:
    """Encodes a value as JSON-able structure plus raw array buffers."""

    def __init__(self, refs=None):
        self.buffers, self.offset = [], 0
        self.refs = refs or {}                  # id -> index of a call argument (same object)

    def array(self, a, tag="nd"):
        dt = a.dtype
        if dt.kind not in _NUMERIC_KINDS or dt.fields is not None or dt.subdtype is not None:
            return self.foreign(a, f"ndarray of dtype {dt}")
        data = a.tobytes()
        entry = {"t": tag, "d": dt.str, "s": [_int(n) for n in a.shape], "o": self.offset,
                 "n": _len(data)}
        self.buffers.append(data)
        self.offset += _len(data) + (-_len(data) % 16)
        return entry

    def foreign(self, x, qualname=None):
        module, name = _type_names(_type(x))
        return {"t": "for", "h": _handle(x), "m": module, "q": qualname or name}

    def obj(self, x, t):
        module, name = _type_names(t)
        top = _state.ns.get(name) if module == "submission" else None
        return {"t": "obj", "h": _handle(x), "m": module, "q": name,
                "cls": name if top is t else None, "f": _methods_of(t)}

    def __call__(self, x, depth=0):
        t = _type(x)
        if x is None or t is _bool or t is _int or t is _float or t is _str:
            return x
        ref = self.refs.get(_id(x))
        if ref is not None and ref[1] is x:
            return {"t": "ref", "k": ref[0]}
        if t is _np_ndarray:
            return self.array(x)
        if t in _NP_SCALARS:
            return self.array(_np_asarray(x), "np")
        if depth >= MAX_DEPTH:
            return self.foreign(x)
        if t is _list or t is _tuple:
            return {"t": "list" if t is _list else "tuple", "v": [self(v, depth + 1) for v in x]}
        if t is _dict:
            return {"t": "dict", "v": [[self(k, depth + 1), self(v, depth + 1)]
                                       for k, v in _list(x.items())]}
        if issubclass(t, _np_ndarray):
            module, name = _type_names(t)
            return self.foreign(x, f"{name} (a subclass of np.ndarray)")
        module, _ = _type_names(t)
        if module == "submission" or module == "layers_lib" or module.startswith("layers_lib."):
            if not issubclass(t, type):
                return self.obj(x, t)
        return self.foreign(x)


def _error_dict(exc):
    t = _type(exc)
    module, name = _type_names(t)
    try:
        message = _str(exc)[:4000]
    except _BaseException:
        message = tr("<the exception's message could not be read>")
    try:
        args = _list(exc.args) if all(_type(a) in (_str, _int, _float) for a in exc.args) else None
        args = [a[:4000] if _type(a) is _str else a for a in args] if args is not None else None
    except _BaseException:
        args = None
    frame = None
    try:
        frames = [f for f in _extract_tb(exc.__traceback__) if f.filename != _WORKER_FILE]
        if frames:
            f = frames[-1]
            frame = {"name": _str(f.name), "line": _int(f.lineno or 0), "file": _str(f.filename),
                     "label": _state.labels.get(f.filename)}
    except _BaseException:
        pass
    base = None
    try:
        for klass in t.__mro__:
            if _type_names(klass)[0] == "builtins":
                base = _type_names(klass)[1]
                break
    except _BaseException:
        pass
    return {"type": name, "module": module, "base": base, "message": message, "args": args,
            "frame": frame}


# --- walking call arguments: in-place changes are mirrored back to the grader -----------------

def _walk(root):
    """Exact lists, dicts and ndarrays reachable from `root` through lists, tuples and dict
    values, in first-visit order (the grader walks its original arguments the same way)."""
    found, seen = [], set()

    def visit(x, depth):
        t = _type(x)
        if t is not _list and t is not _tuple and t is not _dict and t is not _np_ndarray:
            return
        if _id(x) in seen or depth > MAX_DEPTH:
            return
        seen.add(_id(x))
        if t is not _tuple:
            found.append(x)
        if t is _np_ndarray:
            return
        for v in (x.values() if t is _dict else x):
            visit(v, depth + 1)

    visit(root, 0)
    return found


def _snapshot(x):
    t = _type(x)
    if t is _np_ndarray:
        return x.copy()
    if t is _list:
        return _list(x)
    return _list(x.items())


def _changed(x, before):
    t = _type(x)
    if t is _np_ndarray:
        return (x.shape != before.shape or x.dtype != before.dtype
                or x.tobytes() != before.tobytes())
    now = _list(x) if t is _list else _list(x.items())
    if _len(now) != _len(before):
        return True
    if t is _list:
        return any(a is not b for a, b in zip(now, before))
    return any(k1 is not k2 and k1 != k2 or v1 is not v2
               for (k1, v1), (k2, v2) in zip(now, before))


# --- operations -------------------------------------------------------------------------------

def _resolve(target):
    kind, key = target
    if kind == "t":
        if key not in _TRUSTED_CALLS:
            raise LookupError(f"the grader may not call {key!r} here")
        module, _, name = key.partition(":")
        return _getattr(_trusted_module(module, _Unpickler.root), name)
    if kind == "g":
        try:
            return _state.ns[key]
        except KeyError:
            raise NameError(f"name '{key}' is not defined") from None
    try:
        return _objects[key]
    except KeyError:
        raise LookupError("the object no longer exists in the worker") from None


def _run(fn, args, kwargs):
    """Call fn(*args, **kwargs); reply with the result (or error), changed arguments, warnings."""
    walked = _walk((args, kwargs))
    before = [_snapshot(x) for x in walked]
    with _catch_warnings(record=True) as caught:
        _simplefilter("always")
        try:
            result, error = fn(*args, **kwargs), None
        except _BaseException as exc:          # noqa: BLE001 - student code may raise anything
            result, error = None, exc
    refs = {_id(x): (k, x) for k, x in enumerate(walked)}
    enc = _Encoder(refs)
    changed = []
    for k, (x, b) in enumerate(zip(walked, before)):
        if _changed(x, b):
            if _type(x) is _np_ndarray:
                changed.append([k, enc.array(x)])
            elif _type(x) is _list:
                changed.append([k, [enc(v, 1) for v in x]])
            else:
                changed.append([k, [[enc(kk, 1), enc(v, 1)] for kk, v in _list(x.items())]])
    header = {"changed": changed, "warnings": _warnings_of(caught)}
    if error is not None:
        header["error"] = _error_dict(error)
    else:
        header["value"] = enc(result)
    return header, enc.buffers


def _warnings_of(caught):
    out = []
    for w in caught[:20]:
        try:
            category = _type_names(w.category)[1]
            entry = [category, _str(w.message)[:1000], _str(w.filename)[:300], _int(w.lineno or 0)]
        except _BaseException:
            continue
        if entry not in out:
            out.append(entry)
        if _len(out) >= 5:
            break
    return out


def _op_exec(source, filename, label, names):
    _state.labels[filename] = label
    try:
        code = compile(source, filename, "exec")
        exec(code, _state.ns)
        return {"value": None}, []
    except _BaseException as exc:              # noqa: BLE001 - student code may raise anything
        for name in names:
            _state.ns.pop(name, None)
        return {"load_error": _describe(exc)}, []


def _describe(exc):
    """The loader's one-line description of a piece that failed (same wording)."""
    if _isinstance(exc, SyntaxError):
        return f"SyntaxError: {exc.msg} " + tr("(line {line})", line=exc.lineno)
    last = _extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
    last = [f for f in last if f.filename != _WORKER_FILE]
    where = " " + tr("(line {line})", line=last[0].lineno) if last else ""
    return f"{_type(exc).__name__}: {exc}{where}"


def _op_names():
    enc = _Encoder()
    names = {}
    for name, value in _list(_state.ns.items()):
        if name.startswith("__") or name in _state.base_names and value is _state.base_names[name]:
            continue
        if _isinstance(value, type):
            names[name] = {"kind": "class", "f": _methods_of(value)}
        elif _isinstance(value, types.ModuleType):
            continue
        elif _callable(value):
            names[name] = {"kind": "function"}
        else:
            v = enc(value)
            if _type(v) is not _dict or v.get("t") not in ("for", "obj"):
                names[name] = {"kind": "value", "v": v}
    return {"value": names}, enc.buffers


def _op_getattr(obj, name):
    value = _getattr(obj, name)
    if _type(value) in (types.MethodType, types.FunctionType, types.BuiltinMethodType,
                        types.BuiltinFunctionType, staticmethod, classmethod):
        return {"value": {"t": "meth"}}, []
    enc = _Encoder()
    return {"value": enc(value)}, enc.buffers


def _op_setattr(obj, name, value):
    _setattr(obj, name, value)
    return {"value": None}, []


def _dispatch(request):
    op = request["op"]
    if op == "call":
        obj = _resolve(request["target"])
        fn = obj if request["attr"] is None else _getattr(obj, request["attr"])
        return _run(fn, request["args"], request["kwargs"])
    if op == "getattr":
        return _op_getattr(_resolve(request["target"]), request["name"])
    if op == "setattr":
        return _op_setattr(_resolve(request["target"]), request["name"], request["value"])
    if op == "exec":
        return _op_exec(request["source"], request["filename"], request["label"],
                        request["names"])
    if op == "names":
        return _op_names()
    if op == "forget":                     # a piece that hung or crashed: drop what it defines
        for name in request["names"]:
            _state.ns.pop(name, None)
        return {"value": None}, []
    if op == "ping":
        return {"value": None}, []
    raise ValueError(f"unknown operation {op!r}")


def _context(request):
    if request.get("release"):
        _release(request["release"])
    if request.get("reseed") is not None:
        _np_seed(request["reseed"])
    if request.get("errstate") is not None:
        _np_seterr(**request["errstate"])


# --- start-up ---------------------------------------------------------------------------------

def _limit(resource, which, value):
    soft, hard = resource.getrlimit(which)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    resource.setrlimit(which, (value, value))


def _init(config):
    import resource
    import signal
    _state.blocked = dict(config["blocked"])
    _state.filename = config["filename"]
    _state.memory_mb = config["memory_mb"]
    _state.max_reply = config["max_reply"]
    _state.messages = dict(config.get("messages") or {})
    if config.get("language"):          # for the trusted modules loaded here (the training loop)
        os.environ["LAYERS_LIB_LANGUAGE"] = config["language"]
    _Unpickler.root = config.get("root")
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)       # too much output: EFBIG, not death
    _limit(resource, resource.RLIMIT_CORE, 0)
    _limit(resource, resource.RLIMIT_AS, config["memory_mb"] * 2**20)
    _limit(resource, resource.RLIMIT_FSIZE, config["output_cap"])
    sys.meta_path.insert(0, _Blocker())
    os.chdir(config["cwd"])


def main():
    global _np_ndarray, _NP_SCALARS, _np_asarray, _np_seed, _np_seterr
    proto_in, proto_out = _setup_channel()
    size = struct.unpack(">Q", _read_exact(proto_in, 8))[0]
    config = pickle.loads(_read_exact(proto_in, size))
    _init(config)
    import numpy as np
    _np_ndarray, _np_asarray = np.ndarray, np.asarray
    _np_seed, _np_seterr = np.random.seed, np.seterr
    _NP_SCALARS = frozenset(np.dtype(c).type for c in "?bhilqpBHILQPefdgFDG")
    try:
        import resource
        _limit(resource, resource.RLIMIT_NPROC, 0)      # no fork/threads (ignored for root)
    except (ImportError, ValueError, OSError):
        pass
    np.random.seed(config.get("seed", 0))
    import random
    random.seed(config.get("seed", 0))

    module = types.ModuleType("submission")
    sys.modules["submission"] = module
    _state.ns = module.__dict__
    _state.base_names = {"np": np, "numpy": np}
    student_builtins = dict(builtins.__dict__)
    student_builtins["__import__"] = _guarded_import
    fake = types.ModuleType("builtins", builtins.__doc__)
    fake.__dict__.update(student_builtins)
    _state.student_builtins_module = fake
    _state.ns.update({"__builtins__": fake.__dict__, "np": np, "numpy": np})
    # `import __main__` must not hand student code this module (and _trusted_module with it)
    sys.modules["__main__"] = types.ModuleType("__main__")
    _send(proto_out, {"value": "ready"}, [])

    while True:
        try:
            size = struct.unpack(">Q", _read_exact(proto_in, 8))[0]
            data = _read_exact(proto_in, size)
        except EOFError:
            os._exit(0)
        buffers = []
        try:
            request = _Unpickler(io.BytesIO(data)).load()
            _context(request)
            header, buffers = _dispatch(request)
        except _BaseException as exc:          # noqa: BLE001
            header, buffers = {"error": _error_dict(exc), "changed": [], "warnings": []}, []
        try:
            _send(proto_out, header, buffers)
        except (_MemoryError, ValueError, TypeError, OverflowError) as exc:
            _send(proto_out, {"error": _error_dict(exc), "changed": [], "warnings": []}, [])


if __name__ == "__main__":
    main()
