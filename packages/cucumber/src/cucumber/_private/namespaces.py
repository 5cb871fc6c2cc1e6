"""Functions of by-value modules: how they travel, how they are rebuilt, which globals they see.

A module is *by value* when a fresh interpreter cannot import it by name (``__main__``, a module
loaded from a path, pytest's ``--import-mode=importlib`` test modules, ``exec``-created modules;
see :mod:`.importable`). A function defined in such a module travels as

``make_function(code, module, closure, tracker_id)`` with state ``(attributes, slots)``

- ``code``: its code object, file name included (:func:`reduce_code`), so that tracebacks in the
  receiving process name the real file and line, and show the source line when the file exists;
- ``module``: the module's identity, ``{"__name__", "__file__", "__package__", "__path__"}`` as far
  as the module has them; one dict per module and payload (the pickle memo shares it);
- ``closure``: empty cells, filled by the state (a closure may refer to the function itself);
- ``tracker_id``: a random hex id naming the function object in the process that first sent it
  (a weak table in the sender; also in a receiver with a provider, so that sending a received
  function on keeps its id);
- the state: cloudpickle's ``(func.__dict__, slots)``; ``slots["__globals__"]`` holds the globals
  the code names, with the values they had in the sending process.

``functools.lru_cache`` wrappers of such functions travel as
``make_lru_cache(tracker_id, wrapped, maxsize, typed)`` (pickle would send them by reference to a
name the receiving process does not have).

Rebuilding, two modes (per process):

- no :class:`NamespaceProvider` installed (the default): the functions of one payload and module
  share a fresh dict holding the globals they arrived with, as in cloudpickle; every payload makes
  new function objects.
- a provider installed with :func:`set_namespace_provider`: the functions of a module run in the
  dict that ``provider.namespace(module)`` returns (typically one per module per process), the
  globals they arrived with go to ``provider.merge(namespace, globals)``, and a tracker id already
  known in this process gives back the object rebuilt before (its state is not applied again: a
  closure's cells and the function's attributes keep what this process made of them).
  Install the provider before deserializing (a pool worker does it first thing).
"""

from __future__ import annotations

import builtins
import functools
import sys
import threading
import types
import uuid
import weakref
from collections.abc import Callable
from typing import Any, Protocol

from cloudpickle import cloudpickle as _cp

from cucumber._private.importable import module_importable_elsewhere

__all__ = [
    "NamespaceProvider",
    "lru_cache_by_value",
    "make_function",
    "make_lru_cache",
    "reduce_code",
    "reduce_lru_cache",
    "reduce_module_function",
    "set_namespace_provider",
]

#: The position of ``co_filename`` in the ``types.CodeType`` arguments cloudpickle returns.
_FILENAME_ARG = 10
_MODULE_KEYS = ("__package__", "__name__", "__path__", "__file__")
if _cp._code_reduce(_cp._make_empty_cell.__code__)[1][_FILENAME_ARG] != "<dynamic-code>":
    raise ImportError(  # pragma: no cover - depends on the installed cloudpickle
        "cucumber cannot keep file names in code objects with this cloudpickle (its code reduction "
        "changed): pip install 'cloudpickle>=3.0,<4'"
    )


class NamespaceProvider(Protocol):
    """Decides which dict the functions of a by-value module run in, in this process."""

    def namespace(self, module: dict[str, Any]) -> dict[str, Any]:
        """The globals dict for the functions of ``module`` (its ``__name__``, ``__file__``, ...)."""
        ...

    def merge(self, namespace: dict[str, Any], arrived: dict[str, Any]) -> None:
        """Put the globals a function arrived with into its ``namespace``."""
        ...


_provider: NamespaceProvider | None = None

# tracker id <-> object, for functions and lru_cache wrappers of by-value modules
_ids: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()
_objects: weakref.WeakValueDictionary[str, Any] = weakref.WeakValueDictionary()
_lock = threading.Lock()
#: id -> function, for the functions make_function made whose state was not applied yet (provider
#: set); a load that fails between the two leaves its entry (one function, never reused)
_fresh: dict[int, types.FunctionType] = {}


def set_namespace_provider(provider: NamespaceProvider | None) -> None:
    """Make the functions of by-value modules deserialized from now on in this process run in the
    namespaces of ``provider`` (``None``: a fresh dict per payload, the default)."""
    global _provider
    _provider = provider


def _tracker_id(obj: Any) -> str:
    with _lock:
        tracker_id = _ids.get(obj)
        if tracker_id is None:
            tracker_id = uuid.uuid4().hex
            _ids[obj] = tracker_id
            _objects[tracker_id] = obj
    return tracker_id


def _track(tracker_id: str, obj: Any) -> None:
    with _lock:
        _ids[obj] = tracker_id
        _objects[tracker_id] = obj


# --- sending -------------------------------------------------------------------------------------
def reduce_code(code: types.CodeType) -> Any:
    """cloudpickle's reduction of a code object, with the real file name instead of
    ``"<dynamic-code>"``."""
    constructor, args = _cp._code_reduce(code)
    args = list(args)
    args[_FILENAME_ARG] = code.co_filename
    return constructor, tuple(args)


def reduce_module_function(pickler: Any, func: types.FunctionType) -> Any:
    """The reduction of a function defined in a by-value module (see the module docstring)."""
    module = pickler.globals_ref.get(id(func.__globals__))
    if module is None:
        func_globals = func.__globals__
        module = {k: func_globals[k] for k in _MODULE_KEYS if k in func_globals}
        pickler.globals_ref[id(func_globals)] = module
    closure = None
    if func.__closure__ is not None:
        closure = tuple(_cp._make_empty_cell() for _ in func.__code__.co_freevars)
    return (
        make_function,
        (func.__code__, module, closure, _tracker_id(func)),
        _cp._function_getstate(func),
        None,
        None,
        _function_setstate,
    )


def reduce_lru_cache(wrapper: Any) -> Any:
    """The reduction of an ``lru_cache`` wrapper of a by-value module's function."""
    params = wrapper.cache_parameters()
    return make_lru_cache, (
        _tracker_id(wrapper),
        wrapper.__wrapped__,
        params["maxsize"],
        params["typed"],
    )


def lru_cache_by_value(wrapper: Any) -> bool:
    """Whether an ``lru_cache`` wrapper must travel by value: pickle's by-reference form (its
    ``__qualname__`` in its ``__module__``) would not find it in a fresh interpreter."""
    module_name = getattr(wrapper, "__module__", None)
    if not isinstance(module_name, str) or not module_importable_elsewhere(module_name):
        return True
    target: Any = sys.modules.get(module_name)
    for part in str(getattr(wrapper, "__qualname__", "")).split("."):
        target = getattr(target, part, None)
    return target is not wrapper


# --- receiving -----------------------------------------------------------------------------------
def make_function(
    code: types.CodeType,
    module: dict[str, Any],
    closure: tuple[types.CellType, ...] | None,
    tracker_id: str,
) -> types.FunctionType:
    """Rebuild a function of a by-value module (its state follows: :func:`_function_setstate`)."""
    provider = _provider
    if provider is None:
        module["__builtins__"] = builtins
        return types.FunctionType(code, module, None, None, closure)
    known = _objects.get(tracker_id)
    if type(known) is types.FunctionType:
        return known
    namespace = provider.namespace(module)
    namespace.setdefault("__builtins__", builtins)
    func = types.FunctionType(code, namespace, None, None, closure)
    _track(tracker_id, func)
    _fresh[id(func)] = func
    return func


def _function_setstate(
    func: types.FunctionType, state: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    attributes, slots = state
    arrived: dict[str, Any] = slots.pop("__globals__")
    provider = _provider
    if provider is None:
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
    """Rebuild an ``lru_cache`` wrapper (the one rebuilt before, when a provider is installed)."""
    if _provider is None:
        return functools.lru_cache(maxsize=maxsize, typed=typed)(wrapped)
    known = _objects.get(tracker_id)
    if known is not None:
        return known
    wrapper = functools.lru_cache(maxsize=maxsize, typed=typed)(wrapped)
    _track(tracker_id, wrapper)
    return wrapper
