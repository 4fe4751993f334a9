"""What the checks hold instead of the student's objects: proxies of objects that stay in the
worker.

Calling a proxy class constructs a remote instance; attribute reads and writes and method calls
are forwarded to the worker; class attributes (`BatchNormalization.EPS`) are readable on the
proxy class; a module-level function (an optimizer) runs remotely on copies of its arguments.
No special method is forwarded (no `__eq__`, `__array__`, `__len__`, ...), so the grader never
runs student code by accident, and a value the worker cannot send as plain data arrives as an
inert `ForeignValue` that the comparison engine rejects by type.

A proxy knows its submission (`_iso_sub`), the worker generation it lives in and its handle
there; when the last reference dies here, the worker is told to release the object.
"""


def refuse_pickle(self, protocol=None):
    """`__reduce_ex__` of proxies: they travel to the worker only as references."""
    raise TypeError(f"{type(self).__qualname__} proxies are sent to the worker by reference only")


class Handle:
    """Something the worker keeps alive for us; released when the last reference here dies."""
    __slots__ = ()
    __reduce_ex__ = __reduce__ = refuse_pickle

    def __del__(self):
        try:
            sub = object.__getattribute__(self, "_iso_sub")
            sub._release_later(self._iso_gen, self._iso_hid, self._iso_count)
        except Exception:          # noqa: BLE001 - interpreter shutdown, half-built object
            pass


class ForeignValue(Handle):
    """A value the worker cannot send as plain data (it stays there): inert, compares by
    identity, and its class is named after the student's type, so the comparison engine reports
    e.g. "update_output returned a submission.LazyArray — expected a numpy.ndarray"."""
    __slots__ = ("_iso_sub", "_iso_gen", "_iso_hid", "_iso_count", "type_name", "__weakref__")

    def __repr__(self):
        return f"<ForeignValue: a {self.type_name} left in the worker>"


class ForeignMeta(type):
    """Metaclass of the ForeignValue classes (so that pickling refuses them, see codec)."""


class RemoteObject(Handle):
    """Proxy of an object in the worker (an instance of a student or reference class).

    Attribute reads and writes and method calls are forwarded; no special method is (no
    `__eq__`, `__array__`, `__len__`, ...): the grader never runs student code by accident."""
    __slots__ = ("_iso_sub", "_iso_gen", "_iso_hid", "_iso_count", "_iso_methods", "__weakref__")

    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__") or name.startswith("_iso_"):
            raise AttributeError(name)
        sub = object.__getattribute__(self, "_iso_sub")
        label = f"{type(self).__qualname__}.{name}"
        if name in self._iso_methods:
            return RemoteMethod(sub, self, name, label)
        return sub._getattr(self, name, label)

    def __setattr__(self, name, value):
        if name.startswith("_iso_"):
            object.__setattr__(self, name, value)
        else:
            self._iso_sub._setattr(self, name, value, f"{type(self).__qualname__}.{name}")

    def __repr__(self):
        t = type(self)
        return f"<isolated {t.__module__}.{t.__qualname__} object #{self._iso_hid}>"


class RemoteClassMeta(type):
    """Metaclass of proxy classes: calling constructs remotely, class attributes are forwarded."""

    def __getattr__(cls, name):
        if name.startswith("__") and name.endswith("__") or name.startswith("_iso_"):
            raise AttributeError(name)
        sub, remote = cls.__dict__.get("_iso_class_sub"), cls.__dict__.get("_iso_name")
        if sub is None or remote is None:
            raise AttributeError(name)
        return sub._getattr(cls, name, f"{remote}.{name}")

    def __setattr__(cls, name, value):
        sub, remote = cls.__dict__.get("_iso_class_sub"), cls.__dict__.get("_iso_name")
        if name.startswith("_iso_") or name.startswith("__") or sub is None or remote is None:
            type.__setattr__(cls, name, value)
        else:
            sub._setattr(cls, name, value, f"{remote}.{name}")

    def __call__(cls, *args, **kwargs):
        sub, remote = cls.__dict__.get("_iso_class_sub"), cls.__dict__.get("_iso_name")
        if sub is None or remote is None:
            raise TypeError(f"{cls.__qualname__} objects cannot be created from the grader")
        return sub._call(cls, None, args, kwargs, f"{remote}.__init__")

    def __repr__(cls):
        return f"<isolated class {cls.__module__}.{cls.__qualname__}>"


class RemoteMethod:
    """A bound method (or class attribute function) of a remote object."""
    __slots__ = ("_sub", "_target", "_name", "_label")

    __reduce_ex__ = __reduce__ = refuse_pickle

    def __init__(self, sub, target, name, label):
        self._sub, self._target, self._name, self._label = sub, target, name, label

    def __call__(self, *args, **kwargs):
        return self._sub._call(self._target, self._name, args, kwargs, self._label)

    def __repr__(self):
        return f"<isolated method {self._label}>"


class RemoteFunction:
    """A module-level function of the submission (an optimizer), run in the worker. Arrays,
    lists and dicts it changes in place are written back into the caller's objects."""
    __slots__ = ("_iso_sub", "_iso_name", "__name__", "__qualname__")
    __reduce_ex__ = __reduce__ = refuse_pickle

    def __init__(self, sub, name):
        self._iso_sub, self._iso_name = sub, name
        self.__name__ = self.__qualname__ = name

    def __call__(self, *args, **kwargs):
        return self._iso_sub._call(self, None, args, kwargs, self._iso_name)

    def __repr__(self):
        return f"<isolated function {self._iso_name}>"


def _new_class(meta, base, module, qualname):
    return meta(qualname, (base,), {"__module__": module, "__qualname__": qualname,
                                    "__slots__": ()})


def submission_class(sub, name):
    """The proxy class of the submission's class `name`: calling it constructs in sub's worker."""
    cls = _new_class(RemoteClassMeta, RemoteObject, "submission", name)
    type.__setattr__(cls, "_iso_class_sub", sub)
    type.__setattr__(cls, "_iso_name", name)
    return cls


_foreign_classes = {}
_proxy_classes = {}


def _cached_class(cache, meta, base, module, qualname):
    """A class named after a worker-supplied type (at most 1000 of them, then `base`)."""
    key = (module, qualname)
    if key not in cache and len(cache) < 1000:
        cache[key] = _new_class(meta, base, module, qualname)
    return cache.get(key, base)


def foreign_class(module, qualname):
    """The ForeignValue class named after the worker's type `module.qualname`."""
    return _cached_class(_foreign_classes, ForeignMeta, ForeignValue, module, qualname)


def proxy_class(module, qualname):
    """The (inert) proxy class of an instance whose class is not one of the submission's."""
    return _cached_class(_proxy_classes, RemoteClassMeta, RemoteObject, module, qualname)
