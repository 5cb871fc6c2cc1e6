"""Objects a Share hands out: they behave like the values they stand for and route writes.

- ``int``, ``float`` and ``str`` values come back as *views*: real instances of a subclass, equal to
  the value. Their in-place operators (``+=``, ``-=``, ...) return a view that remembers the
  operation, and assigning it back to the same place (what ``share.counter += 1`` does) sends one
  atomic "add 1" command instead of a plain overwrite.
- ``list``, ``dict``, ``set``, iterators and other objects come back as proxies: reads run on this
  process's up-to-date snapshot; mutations and method calls run in the coordinator, atomically.
"""

from __future__ import annotations

import copy
import inspect
import operator
import sys
from collections.abc import Iterable, Iterator
from typing import Any, Protocol

import suitkaise_processing._private.share.meta as meta
from suitkaise_processing._private.share.client import augmented_attribute, augmented_subscript
from suitkaise_processing._private.share.kinds import kind_of
from suitkaise_processing._private.share.layout import (
    KIND_DICT,
    KIND_FLOAT,
    KIND_INT,
    KIND_ITERATOR,
    KIND_LIST,
    KIND_OBJECT,
    KIND_SET,
    KIND_STR,
)
from suitkaise_processing._private.share.protocol import OP_CALL, OP_DEL, OP_IOP, OP_SET, Path

Origin = tuple[str, str, Path]


class Router(Protocol):
    """What proxies need from their Share."""

    def _sk_id(self) -> str: ...

    def _sk_read(self, name: str, wait: bool = True) -> Any: ...

    def _sk_post(self, op: str, name: str, path: Path, args: tuple[Any, ...]) -> None: ...

    def _sk_call(self, op: str, name: str, path: Path, args: tuple[Any, ...]) -> Any: ...


# ---------------------------------------------------------------------------------------------- views


class _View:
    """Mixin of the value views: where the value came from and the in-place operation applied."""

    _sk_origin: Origin | None = None
    _sk_op: tuple[str, Any] | None = None


def _plain(value: Any) -> Any:
    """The value without any view or proxy around it (proxies become a deep copy of their snapshot)."""
    if isinstance(value, _Proxy):
        return copy.deepcopy(value._sk_value())
    t = type(value)
    if t is IntView:
        return int(value)
    if t is FloatView:
        return float(value)
    if t is StrView:
        return str(value)
    return value


def make_view(value: Any, origin: Origin | None, op: tuple[str, Any] | None = None) -> Any:
    """Wrap an ``int``/``float``/``str`` in its view; return anything else unchanged."""
    t = type(value)
    if t is int:
        view: Any = IntView(value)
    elif t is float:
        view = FloatView(value)
    elif t is str:
        view = StrView(value)
    else:
        return value
    view._sk_origin = origin
    if op is not None:
        view._sk_op = op
    return view


def _inplace(opname: str, base: type) -> Any:
    binary = getattr(operator, opname[1:] + ("_" if opname in ("iand", "ior") else ""))

    def method(self: Any, other: Any) -> Any:
        other = _plain(other)
        result = binary(base(self), other)
        if self._sk_op is not None or self._sk_origin is None:
            return result  # a second in-place step: plain value semantics
        return make_view(result, self._sk_origin, (opname, other))

    method.__name__ = f"__{opname}__"
    return method


class IntView(int, _View):
    """An ``int`` read from a Share; ``+=`` and friends on it become atomic commands."""

    def __reduce__(self) -> tuple[Any, ...]:
        return (int, (int(self),))


class FloatView(float, _View):
    """A ``float`` read from a Share; ``+=`` and friends on it become atomic commands."""

    def __reduce__(self) -> tuple[Any, ...]:
        return (float, (float(self),))


class StrView(str, _View):
    """A ``str`` read from a Share; ``+=`` on it becomes an atomic append."""

    def __reduce__(self) -> tuple[Any, ...]:
        return (str, (str(self),))


_NUMERIC_OPS = [
    "iadd",
    "isub",
    "imul",
    "itruediv",
    "ifloordiv",
    "imod",
    "ipow",
    "ilshift",
    "irshift",
    "iand",
    "ior",
    "ixor",
]
for _name in _NUMERIC_OPS:
    setattr(IntView, f"__{_name}__", _inplace(_name, int))
for _name in ("iadd", "isub", "imul", "itruediv", "ifloordiv", "imod", "ipow"):
    setattr(FloatView, f"__{_name}__", _inplace(_name, float))
for _name in ("iadd", "imul"):
    setattr(StrView, f"__{_name}__", _inplace(_name, str))


def pending_op(value: Any, origin: Origin) -> tuple[str, Any] | None:
    """The in-place operation to send if ``value`` is a view made by ``x += ...`` at ``origin``."""
    if isinstance(value, _View) and value._sk_op is not None and value._sk_origin == origin:
        return value._sk_op
    return None


def is_same_proxy(value: Any, origin: Origin) -> bool:
    """Whether ``value`` is the proxy of ``origin`` itself (``share.items += [...]`` assigns it back)."""
    return isinstance(value, _Proxy) and value._sk_origin() == origin


def wrap(share: Router, name: str, path: Path, value: Any) -> Any:
    """The view or proxy presenting ``value`` found at ``share.<name><path>``."""
    return wrap_kind(share, name, path, kind_of(value), value)


def wrap_kind(share: Router, name: str, path: Path, kind: int, value: Any = None) -> Any:
    """Like :func:`wrap` when the kind is known (``value`` is only used for views and plain kinds)."""
    if kind in (KIND_INT, KIND_FLOAT, KIND_STR):
        return make_view(value, (share._sk_id(), name, path))
    cls = _PROXY_CLASSES.get(kind)
    if cls is None:
        return value
    return cls(share, name, path)


# ---------------------------------------------------------------------------------------------- proxies


def _rebuild_plain(value: Any) -> Any:
    return value


class _Proxy:
    """Base of the proxies: the Share, the attribute name and the path inside its value."""

    __slots__ = ("_sk_name", "_sk_path", "_sk_share")
    __hash__ = None  # type: ignore[assignment]
    _sk_share: Router
    _sk_name: str
    _sk_path: Path

    def __init__(self, share: Router, name: str, path: Path = ()) -> None:
        object.__setattr__(self, "_sk_share", share)
        object.__setattr__(self, "_sk_name", name)
        object.__setattr__(self, "_sk_path", path)

    # -- plumbing
    def _sk_origin(self) -> Origin:
        return (self._sk_share._sk_id(), self._sk_name, self._sk_path)

    def _sk_value(self, wait: bool = True) -> Any:
        value = self._sk_share._sk_read(self._sk_name, wait)
        for kind, key in self._sk_path:
            value = getattr(value, key) if kind == "a" else value[key]
        return value

    def _sk_item(self, key: Any, frame: Any) -> Any:
        """``value[key]`` for ``proxy[key]``: without waiting for queued writes when the read is only
        the first half of ``proxy[key] += ...`` (the operation is sent, not the value)."""
        if augmented_subscript(frame):
            try:
                return self._sk_value(wait=False)[key]
            except (LookupError, AttributeError):
                pass  # not there yet in the committed value: wait for the queued writes
        return self._sk_value()[key]

    def _sk_child(self, step: tuple[str, Any], value: Any) -> Any:
        return wrap(self._sk_share, self._sk_name, (*self._sk_path, step), value)

    def _sk_post(self, method: str, *args: Any) -> None:
        self._sk_share._sk_post(OP_CALL, self._sk_name, self._sk_path, (method, args, {}))

    def _sk_call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        return self._sk_share._sk_call(
            OP_CALL, self._sk_name, self._sk_path, (method, args, kwargs)
        )

    def _sk_store(self, step: tuple[str, Any], value: Any) -> None:
        """``proxy[key] = value`` / ``proxy.attr = value``, atomic for ``+=`` and friends."""
        path = (*self._sk_path, step)
        op = pending_op(value, (self._sk_share._sk_id(), self._sk_name, path))
        if op is not None:
            self._sk_share._sk_post(OP_IOP, self._sk_name, path, op)
        elif is_same_proxy(value, (self._sk_share._sk_id(), self._sk_name, path)):
            return
        else:
            self._sk_share._sk_post(OP_SET, self._sk_name, path, (_plain(value),))

    def _sk_delete(self, step: tuple[str, Any]) -> None:
        self._sk_share._sk_call(OP_DEL, self._sk_name, (*self._sk_path, step), ())

    # -- reads common to every proxy
    def __repr__(self) -> str:
        return repr(self._sk_value())

    def __str__(self) -> str:
        return str(self._sk_value())

    def __format__(self, spec: str) -> str:
        return format(self._sk_value(), spec)

    def __eq__(self, other: object) -> bool:
        return bool(self._sk_value() == _plain(other))

    def __ne__(self, other: object) -> bool:
        return bool(self._sk_value() != _plain(other))

    def __lt__(self, other: Any) -> Any:
        return self._sk_value() < _plain(other)

    def __le__(self, other: Any) -> Any:
        return self._sk_value() <= _plain(other)

    def __gt__(self, other: Any) -> Any:
        return self._sk_value() > _plain(other)

    def __ge__(self, other: Any) -> Any:
        return self._sk_value() >= _plain(other)

    def __bool__(self) -> bool:
        return bool(self._sk_value())

    def __len__(self) -> int:
        return len(self._sk_value())

    def __contains__(self, item: object) -> bool:
        return _plain(item) in self._sk_value()

    def __iter__(self) -> Iterator[Any]:
        return iter(list(self._sk_value()))

    def __copy__(self) -> Any:
        return copy.copy(self._sk_value())

    def __deepcopy__(self, memo: dict[int, Any]) -> Any:
        return copy.deepcopy(self._sk_value(), memo)

    def __reduce__(self) -> tuple[Any, ...]:
        # A proxy that crosses a process boundary becomes a copy of its value; pass the Share
        # itself to share the live attribute.
        return (_rebuild_plain, (copy.deepcopy(self._sk_value()),))


class ListProxy(_Proxy):
    """A ``list`` in a Share."""

    __slots__ = ()

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return copy.deepcopy(self._sk_value()[index])
        return self._sk_child(("i", index), self._sk_item(index, sys._getframe(1)))

    def __setitem__(self, index: Any, item: Any) -> None:
        if isinstance(index, slice):
            self._sk_call("__setitem__", index, [_plain(x) for x in item])
            return
        path = (*self._sk_path, ("i", index))
        op = pending_op(item, (self._sk_share._sk_id(), self._sk_name, path))
        if op is not None:
            self._sk_share._sk_post(OP_IOP, self._sk_name, path, op)
        elif not is_same_proxy(item, (self._sk_share._sk_id(), self._sk_name, path)):
            self._sk_call("__setitem__", index, _plain(item))  # IndexError must reach the caller

    def __delitem__(self, index: Any) -> None:
        self._sk_call("__delitem__", index)

    def __reversed__(self) -> Iterator[Any]:
        items: list[Any] = list(self._sk_value())
        return iter(items[::-1])

    def __add__(self, other: Any) -> list[Any]:
        return list(self._sk_value()) + list(_plain(other))

    def __radd__(self, other: Any) -> list[Any]:
        return list(_plain(other)) + list(self._sk_value())

    def __mul__(self, n: int) -> list[Any]:
        return list(self._sk_value()) * n

    __rmul__ = __mul__

    def __iadd__(self, other: Iterable[Any]) -> ListProxy:  # type: ignore[misc]
        self.extend(other)
        return self

    def __imul__(self, n: int) -> ListProxy:
        self._sk_call("__imul__", n)
        return self

    def append(self, item: Any) -> None:
        """Append ``item`` (sent without waiting; exact under contention)."""
        self._sk_post("append", _plain(item))

    def extend(self, items: Iterable[Any]) -> None:
        """Append every item of ``items``."""
        self._sk_post("extend", [_plain(x) for x in items])

    def insert(self, index: int, item: Any) -> None:
        """Insert ``item`` before ``index``."""
        self._sk_post("insert", index, _plain(item))

    def remove(self, item: Any) -> None:
        """Remove the first ``item`` (``ValueError`` if absent)."""
        self._sk_call("remove", _plain(item))

    def pop(self, index: int = -1) -> Any:
        """Remove and return the item at ``index`` (atomically: two processes never pop the same item)."""
        return self._sk_call("pop", index)

    def clear(self) -> None:
        """Remove every item."""
        self._sk_post("clear")

    def sort(self, *, key: Any = None, reverse: bool = False) -> None:
        """Sort in place, in the coordinator."""
        self._sk_call("sort", key=key, reverse=reverse)

    def reverse(self) -> None:
        """Reverse in place."""
        self._sk_post("reverse")

    def index(self, item: Any, *args: int) -> int:
        """Index of the first ``item`` (on the current snapshot)."""
        return int(self._sk_value().index(_plain(item), *args))

    def count(self, item: Any) -> int:
        """Occurrences of ``item`` (on the current snapshot)."""
        return int(self._sk_value().count(_plain(item)))

    def copy(self) -> list[Any]:
        """A plain copy of the current value."""
        return copy.deepcopy(list(self._sk_value()))


class DictProxy(_Proxy):
    """A ``dict`` in a Share; ``share.d[k] += 1`` is atomic."""

    __slots__ = ()

    def __getitem__(self, key: Any) -> Any:
        return self._sk_child(("i", key), self._sk_item(key, sys._getframe(1)))

    def __setitem__(self, key: Any, value: Any) -> None:
        self._sk_store(("i", key), value)

    def __delitem__(self, key: Any) -> None:
        self._sk_delete(("i", key))

    def __ior__(self, other: Any) -> DictProxy:
        self.update(other)
        return self

    def __or__(self, other: Any) -> dict[Any, Any]:
        return dict(self._sk_value()) | dict(_plain(other))

    def get(self, key: Any, default: Any = None) -> Any:
        """``d[key]`` if present, else ``default``."""
        value = self._sk_value()
        if key in value:
            return self._sk_child(("i", key), value[key])
        return default

    def keys(self) -> Any:
        """The keys (of a snapshot)."""
        return dict(self._sk_value()).keys()

    def values(self) -> Any:
        """The values (of a snapshot)."""
        return copy.deepcopy(dict(self._sk_value())).values()

    def items(self) -> Any:
        """The items (of a snapshot)."""
        return copy.deepcopy(dict(self._sk_value())).items()

    def copy(self) -> dict[Any, Any]:
        """A plain copy of the current value."""
        return copy.deepcopy(dict(self._sk_value()))

    def update(self, *args: Any, **kwargs: Any) -> None:
        """Update from a mapping or pairs and keyword arguments (sent without waiting)."""
        items = dict(*[_plain(a) for a in args], **kwargs)
        self._sk_post("update", {k: _plain(v) for k, v in items.items()})

    def pop(self, key: Any, *default: Any) -> Any:
        """Remove ``key`` and return its value, atomically."""
        return self._sk_call("pop", key, *default)

    def popitem(self) -> tuple[Any, Any]:
        """Remove and return the last inserted pair, atomically."""
        result: tuple[Any, Any] = self._sk_call("popitem")
        return result

    def setdefault(self, key: Any, default: Any = None) -> Any:
        """``d[key]``, inserting ``default`` first if absent (atomic)."""
        return self._sk_call("setdefault", key, _plain(default))

    def clear(self) -> None:
        """Remove every item."""
        self._sk_post("clear")


class SetProxy(_Proxy):
    """A ``set`` in a Share."""

    __slots__ = ()

    def add(self, item: Any) -> None:
        """Add ``item``."""
        self._sk_post("add", _plain(item))

    def discard(self, item: Any) -> None:
        """Remove ``item`` if present."""
        self._sk_post("discard", _plain(item))

    def remove(self, item: Any) -> None:
        """Remove ``item`` (``KeyError`` if absent)."""
        self._sk_call("remove", _plain(item))

    def pop(self) -> Any:
        """Remove and return an arbitrary item, atomically."""
        return self._sk_call("pop")

    def clear(self) -> None:
        """Remove every item."""
        self._sk_post("clear")

    def update(self, *others: Iterable[Any]) -> None:
        """Add every item of ``others``."""
        self._sk_post("update", *[{_plain(x) for x in o} for o in others])

    def difference_update(self, *others: Iterable[Any]) -> None:
        """Remove every item of ``others``."""
        self._sk_post("difference_update", *[{_plain(x) for x in o} for o in others])

    def intersection_update(self, *others: Iterable[Any]) -> None:
        """Keep only items also in ``others``."""
        self._sk_post("intersection_update", *[{_plain(x) for x in o} for o in others])

    def symmetric_difference_update(self, other: Iterable[Any]) -> None:
        """Keep items in exactly one of the two."""
        self._sk_post("symmetric_difference_update", {_plain(x) for x in other})

    def __ior__(self, other: Iterable[Any]) -> SetProxy:  # type: ignore[misc]
        self.update(other)
        return self

    def __isub__(self, other: Iterable[Any]) -> SetProxy:  # type: ignore[misc]
        self.difference_update(other)
        return self

    def __iand__(self, other: Iterable[Any]) -> SetProxy:  # type: ignore[misc]
        self.intersection_update(other)
        return self

    def __ixor__(self, other: Iterable[Any]) -> SetProxy:  # type: ignore[misc]
        self.symmetric_difference_update(other)
        return self

    def __or__(self, other: Any) -> set[Any]:
        return set(self._sk_value()) | set(_plain(other))

    def __and__(self, other: Any) -> set[Any]:
        return set(self._sk_value()) & set(_plain(other))

    def __sub__(self, other: Any) -> set[Any]:
        return set(self._sk_value()) - set(_plain(other))

    def __xor__(self, other: Any) -> set[Any]:
        return set(self._sk_value()) ^ set(_plain(other))

    def copy(self) -> set[Any]:
        """A plain copy of the current value."""
        return set(self._sk_value())

    def __getattr__(self, name: str) -> Any:
        # read-only set methods (union, issubset, ...) on a snapshot
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(set(self._sk_value()), name)


class IteratorProxy(_Proxy):
    """An iterator in a Share: ``next()`` takes the next value atomically (each value goes to one caller)."""

    __slots__ = ()

    def __iter__(self) -> IteratorProxy:
        return self

    def __next__(self) -> Any:
        return self._sk_share._sk_call(OP_CALL, self._sk_name, self._sk_path, ("__next__", (), {}))

    def __repr__(self) -> str:
        return f"<shared iterator share.{self._sk_name}>"

    def __len__(self) -> int:
        raise TypeError("a shared iterator has no len()")

    def __bool__(self) -> bool:
        return True


class _RemoteMethod:
    """A method of a shared object that runs in the coordinator."""

    __slots__ = ("_method", "_name", "_path", "_post", "_share")

    def __init__(self, share: Router, name: str, path: Path, method: str, post: bool) -> None:
        self._share = share
        self._name = name
        self._path = path
        self._method = method
        self._post = post

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        payload = (
            self._method,
            tuple(_plain(a) for a in args),
            {k: _plain(v) for k, v in kwargs.items()},
        )
        if self._post:
            self._share._sk_post(OP_CALL, self._name, self._path, payload)
            return None
        return self._share._sk_call(OP_CALL, self._name, self._path, payload)

    def __repr__(self) -> str:
        return f"<shared method share.{self._name}...{self._method}>"


class ObjectProxy(_Proxy):
    """Any other object in a Share (an ``Sktimer``, a user class, ...).

    Attribute and property reads and methods that write nothing (per ``_shared_meta``) run on the
    snapshot; other methods run in the coordinator and return their real result.
    """

    __slots__ = ()

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__") and attr.endswith("__"):
            raise AttributeError(attr)
        if augmented_attribute(
            sys._getframe(1)
        ):  # share.obj.n += 1: no wait, the operation is sent
            try:
                snapshot = self._sk_value(wait=False)
                inst = getattr(snapshot, "__dict__", None)
                if isinstance(inst, dict) and attr in inst:
                    return self._sk_child(("a", attr), inst[attr])
            except AttributeError:
                pass
        value = self._sk_value()
        cls = type(value)
        static = inspect.getattr_static(cls, attr, _MISSING)
        inst = getattr(value, "__dict__", None)
        if isinstance(inst, dict) and attr in inst:
            return self._sk_child(("a", attr), inst[attr])
        if static is _MISSING:
            return getattr(value, attr)  # __getattr__ of the object, or AttributeError
        if isinstance(static, (staticmethod, classmethod)) or not _is_method(static):
            result = getattr(value, attr)
            if isinstance(static, property):
                return self._sk_child(("a", attr), result)
            return result
        mode = meta.method_mode(cls, attr, static)
        if mode == meta.LOCAL:
            return getattr(value, attr)
        return _RemoteMethod(self._sk_share, self._sk_name, self._sk_path, attr, mode == meta.POST)

    def __setattr__(self, attr: str, value: Any) -> None:
        self._sk_store(("a", attr), value)

    def __delattr__(self, attr: str) -> None:
        self._sk_delete(("a", attr))

    def __getitem__(self, key: Any) -> Any:
        return self._sk_child(("i", key), self._sk_item(key, sys._getframe(1)))

    def __setitem__(self, key: Any, value: Any) -> None:
        self._sk_store(("i", key), value)

    def __delitem__(self, key: Any) -> None:
        self._sk_delete(("i", key))

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._sk_call("__call__", *args, **kwargs)


def _is_method(attr: Any) -> bool:
    return inspect.isfunction(attr) or (inspect.ismethoddescriptor(attr) and callable(attr))


class _Missing:
    pass


_MISSING: Any = _Missing()

_PROXY_CLASSES: dict[int, type[_Proxy]] = {
    KIND_LIST: ListProxy,
    KIND_DICT: DictProxy,
    KIND_SET: SetProxy,
    KIND_OBJECT: ObjectProxy,
    KIND_ITERATOR: IteratorProxy,
}
