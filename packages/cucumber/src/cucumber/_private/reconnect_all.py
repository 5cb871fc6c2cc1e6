"""``reconnect_all``: walk an object graph and replace every Reconnector with its live resource."""

from __future__ import annotations

import types
import warnings
from collections.abc import Mapping
from typing import Any, TypeVar

from cucumber._private.reconnectors import Reconnector, ThreadReconnector
from cucumber._private.walk import _slot_names

__all__ = ["reconnect_all"]

T = TypeVar("T")

_SKIP = (
    type(None),
    bool,
    int,
    float,
    complex,
    str,
    bytes,
    bytearray,
    range,
    type,
    types.ModuleType,
    types.FunctionType,
    types.BuiltinFunctionType,
    types.MethodType,
    types.CodeType,
)


def _secret(rc: Reconnector, name: str | None, auth: Mapping[str, Any]) -> Any:
    for key in rc.auth_keys():
        if key not in auth:
            continue
        entry = auth[key]
        if isinstance(entry, Mapping):
            if name is not None and name in entry:
                return entry[name]
            return entry.get("*")
        return entry
    return None


class _Walker:
    def __init__(self, start_threads: bool, auth: Mapping[str, Any]) -> None:
        self.start_threads = start_threads
        self.auth = auth
        self.done: dict[int, Any] = {}  # id(reconnector) -> live resource (shared placeholders)
        self.seen: set[int] = set()
        self.keep: list[Any] = []  # keeps ids stable while walking

    def live(self, rc: Reconnector, name: str | None, path: str) -> Any:
        key = id(rc)
        if key in self.done:
            return self.done[key]
        secret = _secret(rc, name, self.auth)
        value: Any
        try:
            if isinstance(rc, ThreadReconnector):
                value = rc.reconnect(secret, start=self.start_threads)
            else:
                value = rc.reconnect(secret)
        except Exception as exc:
            warnings.warn(
                f"cucumber.reconnect_all: could not reconnect {path} ({rc.type_key}): "
                f"{type(exc).__name__}: {exc}; the Reconnector stays in place",
                RuntimeWarning,
                stacklevel=4,
            )
            value = rc
        self.done[key] = value
        self.keep.append(rc)
        return value

    def fix(self, value: Any, name: str | None, path: str) -> Any:
        """The replacement for ``value`` (itself when nothing changes); walks into containers."""
        if isinstance(value, Reconnector):
            return self.live(value, name, path)
        if isinstance(value, _SKIP):
            return value
        if isinstance(value, tuple):
            items = [self.fix(v, name, f"{path}[{i}]") for i, v in enumerate(value)]
            if any(a is not b for a, b in zip(items, value, strict=True)):
                return type(value)(*items) if hasattr(value, "_fields") else type(value)(items)
            return value
        self.walk(value, name, path)
        return value

    def walk(self, obj: Any, name: str | None, path: str) -> None:
        if id(obj) in self.seen:
            return
        self.seen.add(id(obj))
        self.keep.append(obj)
        if isinstance(obj, dict):
            for key, value in list(obj.items()):
                label = key if isinstance(key, str) else name
                new = self.fix(value, label, f"{path}[{key!r}]")
                if new is not value:
                    obj[key] = new
            return
        if isinstance(obj, list):
            for i, value in enumerate(list(obj)):
                new = self.fix(value, name, f"{path}[{i}]")
                if new is not value:
                    obj[i] = new
            return
        if isinstance(obj, (set, frozenset)):
            changes = [(v, self.fix(v, name, f"{path}{{...}}")) for v in list(obj)]
            if isinstance(obj, set):
                for old, new in changes:
                    if new is not old:
                        obj.discard(old)
                        obj.add(new)
            return
        state = getattr(obj, "__dict__", None)
        if isinstance(state, dict):
            for attr, value in list(state.items()):
                new = self.fix(value, attr, f"{path} -> {attr}")
                if new is not value:
                    _set(obj, state, attr, new)
        for attr in _slot_names(type(obj)):
            try:
                value = getattr(obj, attr)
            except AttributeError:
                continue
            new = self.fix(value, attr, f"{path} -> {attr}")
            if new is not value:
                try:
                    object.__setattr__(obj, attr, new)
                except (AttributeError, TypeError):
                    pass


def _set(obj: Any, state: dict[str, Any], attr: str, value: Any) -> None:
    try:
        state[attr] = value
    except TypeError:  # a mappingproxy or similar
        try:
            object.__setattr__(obj, attr, value)
        except (AttributeError, TypeError):
            pass


def reconnect_all(obj: T, *, start_threads: bool = False, **auth: Any) -> T:
    """Replace every :class:`Reconnector` inside ``obj`` (dicts, lists, sets, tuples, attributes)
    with the live resource it opens, and return ``obj`` (or the live resource if ``obj`` itself
    is a Reconnector).

    ``auth`` maps a type key (``"psycopg2.Connection"``) to ``{"*": default_secret,
    "<attribute name>": secret}`` (or to one secret for all). ``start_threads=True`` starts
    threads that come back from a ``ThreadReconnector``. A resource that fails to reconnect stays
    a Reconnector and a ``RuntimeWarning`` says why; the walk goes on.
    """
    walker = _Walker(start_threads, auth)
    root_name = None
    result: Any = walker.fix(obj, root_name, type(obj).__name__)
    return result  # type: ignore[no-any-return]
