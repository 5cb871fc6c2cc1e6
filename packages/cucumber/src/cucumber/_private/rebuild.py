"""Rebuilding what :mod:`.namespaces` and the pickler send by value: functions of by-value modules,
their code objects, closure cells, modules by name, ``lru_cache`` wrappers.

This module imports no cloudpickle (nor anything beyond the standard library's core): a process
that only *receives* functions (a pool worker loading its first task) rebuilds them without loading
the pickler, whose import costs several milliseconds of every cold start. The payloads name these
functions by their place here (``cucumber._private.rebuild.make_function``, ...): keep the names.

Rebuilding, two modes (per process):

- no :class:`NamespaceProvider` installed (the default): the functions of one payload and module
  share a fresh dict holding the globals they arrived with, as in cloudpickle; every payload makes
  new function objects.
- a provider installed with :func:`set_namespace_provider`: the functions of a module run in the
  dict that ``provider.namespace(module)`` returns (typically one per module per process), the
  globals they arrived with go to ``provider.merge(namespace, globals)``, and a tracker id already
  known in this process gives back the object rebuilt before (its state is not applied again: a
  closure's cells and the function's attributes keep what this process made of them).
  ``namespace`` may return ``None`` for a payload: its functions (and their ``lru_cache`` wrappers)
  are then rebuilt the default way (a Dask worker running in the client's own process does so for
  the client's payloads, outside its tasks).
  Install the provider before deserializing (a pool worker does it first thing).
"""

from __future__ import annotations

import builtins
import functools
import itertools
import os
import sys
import threading
import types
import weakref
from collections.abc import Callable
from typing import Any, Protocol

__all__ = [
    "NamespaceProvider",
    "function_setstate",
    "import_module",
    "make_cell",
    "make_code",
    "make_empty_cell",
    "make_function",
    "make_lru_cache",
    "set_namespace_provider",
    "track",
    "tracker_id_of",
]


class NamespaceProvider(Protocol):
    """Decides which dict the functions of a by-value module run in, in this process."""

    def namespace(self, module: dict[str, Any]) -> dict[str, Any] | None:
        """The globals dict for the functions of ``module`` (its ``__name__``, ``__file__``, ...);
        ``None``: rebuild them the default way."""
        ...

    def merge(self, namespace: dict[str, Any], arrived: dict[str, Any]) -> None:
        """Put the globals a function arrived with into its ``namespace``."""
        ...


_provider: NamespaceProvider | None = None

# tracker id <-> object, for functions and lru_cache wrappers of by-value modules
_ids: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()
_objects: weakref.WeakValueDictionary[str, Any] = weakref.WeakValueDictionary()
_lock = threading.Lock()
#: id -> function, for the functions make_function made in a provider's namespace whose state was
#: not applied yet; a load that fails between the two leaves its entry (one function, never reused)
_fresh: dict[int, types.FunctionType] = {}
#: the same for the functions made the default way while a provider is installed (it declined)
_declined: dict[int, types.FunctionType] = {}


#: tracker ids: a random prefix per process (new in a forked child) and a counter (a function
#: rebuilt the same way in each round trip of one process, a class's methods with cloudpickle's
#: class tracker, gets a new id every time: ~0.2 us instead of ~0.5 for 16 random bytes)
_id_prefix = os.urandom(8).hex()
_id_counter = itertools.count()


def _new_id_prefix() -> None:
    global _id_prefix
    _id_prefix = os.urandom(8).hex()


if hasattr(os, "register_at_fork"):  # not on Windows (no fork there)
    os.register_at_fork(after_in_child=_new_id_prefix)


def set_namespace_provider(provider: NamespaceProvider | None) -> None:
    """Make the functions of by-value modules deserialized from now on in this process run in the
    namespaces of ``provider`` (``None``: a fresh dict per payload, the default)."""
    global _provider
    _provider = provider


def tracker_id_of(obj: Any) -> str:
    """The tracker id of a function or wrapper about to be sent (made on its first send)."""
    tracker_id = _ids.get(obj)  # a read needs no lock (one dict lookup under the GIL)
    if tracker_id is not None:
        return tracker_id
    with _lock:
        tracker_id = _ids.get(obj)
        if tracker_id is None:
            tracker_id = f"{_id_prefix}{next(_id_counter):x}"
            _ids[obj] = tracker_id
            if _provider is not None:  # only a provider's rebuilding looks objects up by id
                _objects[tracker_id] = obj
    return tracker_id


def track(tracker_id: str, obj: Any) -> None:
    with _lock:
        _ids[obj] = tracker_id
        _objects[tracker_id] = obj


def make_code(*args: Any) -> types.CodeType:
    """Rebuild a code object from the ``types.CodeType`` arguments :func:`.namespaces.reduce_code` sent
    (``types.CodeType`` itself has no importable name)."""
    return types.CodeType(*args)


def make_empty_cell() -> types.CellType:
    """A closure cell with nothing in it (yet)."""
    return types.CellType()


def make_cell(contents: Any) -> types.CellType:
    """A closure cell holding ``contents``."""
    return types.CellType(contents)


def import_module(name: str) -> types.ModuleType:
    """The module ``name`` of this process, imported if needed (a module sent by reference)."""
    __import__(name)
    return sys.modules[name]


def make_function(
    code: types.CodeType,
    module: dict[str, Any],
    closure: tuple[types.CellType, ...] | None,
    tracker_id: str,
) -> types.FunctionType:
    """Rebuild a function of a by-value module (its state follows: :func:`function_setstate`)."""
    provider = _provider
    if provider is not None:
        namespace = provider.namespace(module)
        if namespace is not None:
            known = _objects.get(tracker_id)
            if type(known) is types.FunctionType:
                return known
            namespace.setdefault("__builtins__", builtins)
            func = types.FunctionType(code, namespace, None, None, closure)
            track(tracker_id, func)
            _fresh[id(func)] = func
            return func
    module["__builtins__"] = builtins
    func = types.FunctionType(code, module, None, None, closure)
    if provider is not None:
        _declined[id(func)] = func
    return func


def function_setstate(
    func: types.FunctionType, state: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    attributes, slots = state
    arrived: dict[str, Any] = slots.pop("__globals__")
    provider = _provider
    if provider is None or _declined.pop(id(func), None) is func:
        func.__globals__.update(arrived)
    else:
        provider.merge(func.__globals__, arrived)
        if _fresh.pop(id(func), None) is not func:
            return  # an object rebuilt before: it keeps what this process made of it
    func.__dict__.update(attributes)
    cells = slots.pop("__closure__")
    slots.pop("_cloudpickle_submodules")  # held only so that those modules were imported
    if cells is not None:
        assert func.__closure__ is not None
        for mine, sent in zip(func.__closure__, cells, strict=True):
            try:
                mine.cell_contents = sent.cell_contents
            except ValueError:  # an empty cell
                continue
    for name, value in slots.items():
        setattr(func, name, value)


def make_lru_cache(
    tracker_id: str, wrapped: Callable[..., Any], maxsize: int | None, typed: bool
) -> Any:
    """Rebuild an ``lru_cache`` wrapper (the one rebuilt before, when a provider is installed and
    made ``wrapped``: a function it made is tracked, one made the default way is not)."""
    if _provider is None or wrapped not in _ids:
        return functools.lru_cache(maxsize=maxsize, typed=typed)(wrapped)
    known = _objects.get(tracker_id)
    if known is not None:
        return known
    wrapper = functools.lru_cache(maxsize=maxsize, typed=typed)(wrapped)
    track(tracker_id, wrapper)
    return wrapper
