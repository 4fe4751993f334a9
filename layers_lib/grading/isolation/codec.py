"""The two directions of the channel's data: requests pickled for the worker, replies decoded
here by a restricted decoder.

Requests are trusted (the grader made them): a pickle of plain data in which proxies and the
submission's top-level names travel as references (persistent ids). Replies are not: whatever
runs in the worker may forge them, so they are JSON plus raw array bytes, decoded into plain
data only: None/bool/int/float/str, lists, tuples, dicts, `np.ndarray` and NumPy scalars of
numeric dtypes. Any other object (an ndarray subclass, an object with `__eq__`/`__array__`/
`__array_function__`, a lazy object, a torch tensor) stays in the worker and arrives as a
`ForeignValue` (or, for instances of classes, a `RemoteObject` proxy). Nothing here unpickles,
imports or calls anything the worker names.

For fidelity with in-process grading, arguments changed in place by student code (arrays,
lists, dicts: an optimizer's parameters and its `state`) are written back into the caller's
objects, and an argument returned as it is comes back as the caller's own object.
"""
import copyreg
import io
import pickle
import re
import weakref

import numpy as np

from ...i18n import tr
from .errors import BadReply, StaleObjectError, printable_text
from .proxies import (ForeignMeta, ForeignValue, Handle, RemoteClassMeta, RemoteFunction,
                      RemoteMethod, RemoteObject, foreign_class, proxy_class, refuse_pickle)

MAX_DEPTH = 32
_DTYPE = re.compile(r"^[<>|=][biufc][0-9]{1,2}$")

# Classes named after worker-supplied names must never be pickled by reference: pickle would
# import their (student-chosen) module in this process to check them.
_DISPATCH = copyreg.dispatch_table.copy()
_DISPATCH[RemoteClassMeta] = _DISPATCH[ForeignMeta] = refuse_pickle


def walk_arguments(root):
    """The lists, dicts and arrays inside `root`, in the same order as the worker's _walk: a
    reply refers to them by index (in-place changes, an argument returned as it is)."""
    found, seen = [], set()

    def visit(x, depth):
        t = type(x)
        if t is not list and t is not tuple and t is not dict and t is not np.ndarray:
            return
        if id(x) in seen or depth > MAX_DEPTH:
            return
        seen.add(id(x))
        if t is not tuple:
            found.append(x)
        if t is np.ndarray:
            return
        for v in (x.values() if t is dict else x):
            visit(v, depth + 1)

    visit(root, 0)
    return found


def _plain_dumps(request):
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=5)
    pickler.dispatch_table = _DISPATCH
    pickler.dump(request)
    return buffer.getvalue()


class _Pickler(pickle.Pickler):
    """Pickles a request; proxies and top-level names travel as references."""

    def __init__(self, file, codec):
        super().__init__(file, protocol=5)
        self.codec = codec
        self.dispatch_table = _DISPATCH

    def persistent_id(self, obj):
        t = type(obj)
        if t is np.ndarray or t is float or t is int or t is str or t is tuple or t is list:
            return None
        if isinstance(obj, (Handle, RemoteClassMeta, RemoteFunction)):
            return self.codec.reference(obj)
        if isinstance(obj, RemoteMethod):
            raise TypeError("a remote method cannot be sent to the worker")
        return None


def decode_array(node, buf):
    """The array a reply node describes (dtype, shape, offset and size checked against `buf`)."""
    dtype, shape, offset, nbytes = node["d"], node["s"], node["o"], node["n"]
    if type(dtype) is not str or not _DTYPE.match(dtype):
        raise BadReply(f"dtype {printable_text(dtype, 20)} not allowed")
    dt = np.dtype(dtype)
    if (type(shape) is not list or len(shape) > 32
            or not all(type(n) is int and n >= 0 for n in shape)):
        raise BadReply("bad shape")
    count = 1
    for n in shape:
        count *= n
    if (type(offset) is not int or type(nbytes) is not int or offset < 0
            or nbytes != count * dt.itemsize or offset + nbytes > len(buf)):
        raise BadReply("bad array size")
    if count == 0:
        return np.empty(shape, dt)
    return np.frombuffer(buf, dtype=dt, count=count, offset=offset).reshape(shape).copy()


class Codec:
    """Encodes the requests and decodes the replies of one submission's workers.

    Keeps what the handles need: the worker generation (a restarted worker has lost every
    object of the earlier ones), one proxy per live handle, the proxy classes of the
    submission's classes (`classes`), and the releases not yet sent."""

    def __init__(self, owner):
        self.owner = owner                 # the IsolatedSubmission the proxies call into
        self.generation = 0
        self.classes = {}                  # class name -> proxy class (see submission_class)
        self._proxies = weakref.WeakValueDictionary()
        self._released = []

    def start_generation(self):
        """A new worker: handles of the earlier ones are stale from now on."""
        self.generation += 1

    def release_later(self, gen, hid, count):
        self._released.append((gen, hid, count))

    # -- requests -------------------------------------------------------------------------------

    def encode(self, request):
        """`request` (a dict) as bytes, with the releases that are due (they stay due when it
        cannot be encoded); its "target" becomes a reference."""
        releases = self._take_releases()
        request["release"] = releases
        try:
            return self._dumps(request)
        except BaseException:                  # nothing was sent: keep what was pending
            self._released.extend((self.generation, hid, count) for hid, count in releases)
            raise

    def _take_releases(self):
        released, self._released = self._released, []
        merged = {}
        for gen, hid, count in released:
            if gen == self.generation:
                merged[hid] = merged.get(hid, 0) + count
        return [[hid, count] for hid, count in merged.items()]

    def _dumps(self, request):
        if "target" in request:
            request["target"] = self.reference(request["target"])
        try:        # fast path: plain data (proxies refuse plain pickling)
            return _plain_dumps(request)
        except (pickle.PicklingError, TypeError, AttributeError):
            pass
        buffer = io.BytesIO()
        try:
            _Pickler(buffer, self).dump(request)
        except (pickle.PicklingError, TypeError, AttributeError) as exc:
            raise TypeError(f"cannot send this value to the worker: {exc}") from None
        return buffer.getvalue()

    def reference(self, obj):
        """The worker-side reference of a proxy ("h", handle) or of a top-level name ("g", name);
        a trusted function's reference ("t", "module:function") stays as it is."""
        if type(obj) is tuple and len(obj) == 2 and obj[0] == "t" and type(obj[1]) is str:
            return obj
        if isinstance(obj, (RemoteObject, ForeignValue)):
            if obj._iso_sub is not self.owner:
                raise TypeError("a proxy of another submission cannot be sent to this worker")
            if obj._iso_gen != self.generation:
                raise StaleObjectError(tr(
                    "this {name} object lived in a worker process that was restarted after an "
                    "earlier failure (a timeout or a crash); create a new one",
                    name=type(obj).__qualname__))
            return ("h", obj._iso_hid)
        if isinstance(obj, (RemoteClassMeta, RemoteFunction)):
            if isinstance(obj, RemoteFunction):
                sub, name = obj._iso_sub, obj._iso_name
            else:
                sub, name = obj.__dict__.get("_iso_class_sub"), obj.__dict__.get("_iso_name")
            if sub is not self.owner or name is None:
                raise TypeError(f"{obj!r} cannot be sent to this worker")
            return ("g", name)
        return None

    # -- replies --------------------------------------------------------------------------------

    def decode(self, node, buf, objs, depth=0):
        """The value of a reply node; `objs` are the walked arguments of the call ("ref")."""
        if node is None or type(node) in (bool, int, float, str):
            return node
        if depth > 2 * MAX_DEPTH + 4 or type(node) is not dict:
            raise BadReply("unexpected JSON value")
        tag = node["t"]
        if tag == "nd":
            return decode_array(node, buf)
        if tag == "np":
            value = decode_array(node, buf)
            if value.shape != ():
                raise BadReply("a scalar with a shape")
            return value[()]
        if tag in ("list", "tuple"):
            items = [self.decode(v, buf, objs, depth + 1) for v in node["v"]]
            return items if tag == "list" else tuple(items)
        if tag == "dict":
            return {self.decode(k, buf, objs, depth + 1): self.decode(v, buf, objs, depth + 1)
                    for k, v in node["v"]}
        if tag == "ref":
            k = node["k"]
            if type(k) is not int or not 0 <= k < len(objs):
                raise BadReply("bad argument reference")
            return objs[k]
        if tag in ("obj", "for"):
            return self._proxy(node)
        raise BadReply(f"unknown tag {printable_text(tag, 20)}")

    def _proxy(self, node):
        hid, module, qualname = node["h"], printable_text(node["m"]), printable_text(node["q"])
        if type(hid) is not int:
            raise BadReply("bad handle")
        key = (self.generation, hid)
        proxy = self._proxies.get(key)
        if proxy is not None:
            object.__setattr__(proxy, "_iso_count", proxy._iso_count + 1)
            return proxy
        if node["t"] == "obj":
            methods = node["f"]
            if type(methods) is not list or not all(type(m) is str for m in methods):
                raise BadReply("bad method list")
            cls = self.classes.get(node.get("cls")) if module == "submission" else None
            cls = cls or proxy_class(module, qualname)
            proxy = object.__new__(cls)
            object.__setattr__(proxy, "_iso_methods", frozenset(methods))
        else:
            proxy = object.__new__(foreign_class(module, qualname))
            object.__setattr__(proxy, "type_name", f"{module}.{qualname}")
        for name, value in (("_iso_sub", self.owner), ("_iso_gen", self.generation),
                            ("_iso_hid", hid), ("_iso_count", 1)):
            object.__setattr__(proxy, name, value)
        self._proxies[key] = proxy
        return proxy

    def apply_changes(self, changed, buf, objs):
        """Write the worker's in-place changes of the arguments into the caller's objects."""
        arrays, containers = [], []
        for k, value in changed:
            if type(k) is not int or not 0 <= k < len(objs):
                raise BadReply("bad changed-argument index")
            (arrays if type(objs[k]) is np.ndarray else containers).append((objs[k], value))
        for target, value in arrays:
            new = decode_array(value, buf)
            if new.shape == target.shape and target.flags.writeable:
                target[...] = new
        for target, value in containers:
            if type(value) is not list:
                raise BadReply("bad container change")
            if type(target) is list:
                target[:] = [self.decode(v, buf, objs, 1) for v in value]
            else:
                items = {self.decode(k, buf, objs, 1): self.decode(v, buf, objs, 1)
                         for k, v in value}
                target.clear()
                target.update(items)
