"""Which handler reduces objects of a type: user registrations, the ``__cucumber_reduce__`` hook,
cucumber's own families, third-party recognisers, and cloudpickle's code handling.

The decision is made once per type and cached, so the pickler's hot path is one dict lookup.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = [
    "Handler",
    "Reducer",
    "Recogniser",
    "add_builtin",
    "add_builtin_by_name",
    "add_recogniser",
    "clear_cache",
    "lookup",
    "register",
    "type_key",
]

#: A reducer takes the object and returns a pickle reduce value: ``(callable, args[, state, ...])``.
Reducer = Callable[[Any], Any]
#: A handler is called by the pickler with itself and the object; it returns a reduce value or
#: ``NotImplemented`` (meaning: let pickle do its default for this object).
HandlerFn = Callable[[Any, Any], Any]
#: A recogniser looks at a type (never importing anything) and returns a handler or ``None``.
Recogniser = Callable[[type], "Handler | None"]


@dataclass(frozen=True)
class Handler:
    """A named way to reduce objects of a type (the name appears in debug messages)."""

    name: str
    fn: HandlerFn


_user: dict[type, Reducer] = {}
_builtin: dict[type, Handler] = {}
_recognisers: list[Recogniser] = []
_cache: dict[type, Handler | None] = {}
#: module name -> [(qualified name, handler)]: cucumber's handlers for types of modules not imported
#: yet (see :func:`add_builtin_by_name`)
_by_name: dict[str, list[tuple[str, Handler]]] = {}
#: The per-type cache is emptied when it reaches this many types.
MAX_CACHED_TYPES = 4096
_lock = threading.RLock()


def type_key(t: type) -> str:
    """``"module.QualName"`` of a type, the key used in messages and in ``auth`` mappings."""
    return (
        f"{getattr(t, '__module__', '?')}.{getattr(t, '__qualname__', getattr(t, '__name__', '?'))}"
    )


def clear_cache() -> None:
    """Forget every per-type decision (after a registration changed the rules)."""
    with _lock:
        _cache.clear()


def register(type_: type, reducer: Reducer) -> None:
    """Teach cucumber to serialize objects of ``type_`` (and its subclasses) with ``reducer``.

    ``reducer(obj)`` returns what ``__reduce__`` would: ``(callable, args)`` or
    ``(callable, args, state)``; ``callable(*args)`` rebuilds the object in the receiving process
    (it is serialized too, so it may be a lambda). Later registrations replace earlier ones.
    """
    if not isinstance(type_, type):
        raise TypeError(f"register() needs a type as its first argument, got {type_!r}")
    if not callable(reducer):
        raise TypeError(f"register() needs a callable reducer, got {reducer!r}")
    with _lock:
        _user[type_] = reducer
        _cache.clear()


def add_builtin(types: tuple[type, ...] | type, name: str, fn: HandlerFn) -> None:
    """Install one of cucumber's own handlers for ``types`` (and their subclasses)."""
    if isinstance(types, type):
        types = (types,)
    with _lock:
        for t in types:
            _builtin[t] = Handler(name, fn)
        _cache.clear()


def add_builtin_by_name(module: str, qualnames: tuple[str, ...], name: str, fn: HandlerFn) -> None:
    """:func:`add_builtin` for types named ``module.qualname``, without importing ``module``.

    No object of such a type exists before its module is imported, so the handler is bound to the
    type now if the module is imported, else when a type of that module (or a subclass of one) is
    first classified: serializing never pays for importing sqlite3 or ``concurrent.futures.process``
    in a program that uses neither.
    """
    with _lock:
        _by_name.setdefault(module, []).extend((q, Handler(name, fn)) for q in qualnames)
        _bind_by_name(module)
        _cache.clear()


def _bind_by_name(module: str) -> None:
    """Bind the by-name handlers of ``module`` to its types if it is imported (holding ``_lock``)."""
    loaded = sys.modules.get(module)
    if loaded is None:
        return
    for qualname, handler in _by_name.pop(module):
        target: Any = loaded
        for part in qualname.split("."):
            target = getattr(target, part)
        _builtin[target] = handler


def add_recogniser(recogniser: Recogniser) -> None:
    """Install a recogniser consulted for types no registration covers."""
    with _lock:
        _recognisers.append(recogniser)
        _cache.clear()


def _hook_handler(obj: Any) -> Any:
    return obj.__cucumber_reduce__()


_HOOK = Handler("__cucumber_reduce__ hook", lambda _p, obj: _hook_handler(obj))


def _user_handler(reducer: Reducer, t: type) -> Handler:
    return Handler(f"register({type_key(t)})", lambda _p, obj: reducer(obj))


def _classify(t: type) -> Handler | None:
    if hasattr(t, "__cucumber_reduce__") and not isinstance(
        t.__dict__.get("__cucumber_reduce__"), type
    ):
        return _HOOK
    mro: tuple[type, ...] = getattr(t, "__mro__", (t,))
    for base in mro:
        reducer = _user.get(base)
        if reducer is not None:
            return _user_handler(reducer, base)
    if _by_name:
        with _lock:
            for base in mro:
                if getattr(base, "__module__", None) in _by_name:
                    _bind_by_name(base.__module__)
    for base in mro:
        handler = _builtin.get(base)
        if handler is not None:
            return handler
    for recogniser in _recognisers:
        handler = recogniser(t)
        if handler is not None:
            return handler
    return None


def lookup(t: type) -> Handler | None:
    """The handler for objects of exact type ``t`` (``None``: pickle's default), cached."""
    try:
        return _cache[t]
    except KeyError:
        pass
    except TypeError:  # unhashable metaclass instance: decide every time
        return _classify(t)
    with _lock:
        handler = _classify(t)
        if len(_cache) >= MAX_CACHED_TYPES:
            # Programs that make classes on the fly (a class per call) must not grow this forever.
            _cache.clear()
        _cache[t] = handler
    return handler


def cache() -> dict[type, Handler | None]:
    """The live per-type cache (read by the pickler's hot path)."""
    return _cache
