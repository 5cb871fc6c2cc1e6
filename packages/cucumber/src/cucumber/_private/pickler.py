"""The pickler: cloudpickle's C-accelerated Pickler with cucumber's per-type dispatch.

Builtin atomic and container types (int, str, bytes, list, dict, ...) never reach Python code:
the C pickler only calls ``reducer_override`` for other objects, and that method costs one dict
lookup by exact type when the type needs nothing special. cloudpickle's ``dispatch_table`` (a
``ChainMap`` that the C pickler would query for every object) is hidden; its reducers are served
from the same per-type cache instead.
"""

from __future__ import annotations

import copyreg
import functools
import types
from typing import Any

import cloudpickle
from cloudpickle import cloudpickle as _cp

from cucumber._private import registry
from cucumber._private.importable import module_importable_elsewhere
from cucumber._private.namespaces import (
    lru_cache_by_value,
    reduce_code,
    reduce_lru_cache,
    reduce_module_function,
)
from cucumber._private.rebuild import import_module, make_cell, make_empty_cell

__all__ = ["PROTOCOL", "CucumberPickler", "install_code_handlers"]

PROTOCOL = 5

# cucumber builds on these internals of cloudpickle 3.x (checked once, at import).
_NEEDED = (
    "_dynamic_class_reduce",
    "_class_reduce",
    "_BUILTIN_TYPE_NAMES",
    "_module_reduce",
    "_code_reduce",
    "_make_empty_cell",
    "_extract_code_globals",
    "_find_imported_submodules",
)
_missing = [name for name in _NEEDED if not hasattr(_cp, name)] + [
    name
    for name in ("_dispatch_table", "_dynamic_function_reduce", "_function_reduce")
    if not hasattr(cloudpickle.Pickler, name)
]
if _missing:  # pragma: no cover - depends on the installed cloudpickle
    raise ImportError(
        f"cucumber needs cloudpickle 3.x; the installed cloudpickle {getattr(cloudpickle, '__version__', '?')} "
        f"lacks {', '.join(_missing)}: pip install 'cloudpickle>=3.0,<4'"
    )


#: Functions and classes already found to travel by reference (module attributes of importable
#: modules): id -> the object itself (held, so the id cannot be reused). Cleared by
#: :func:`forget_by_reference` when a by-reference save fails (an attribute was rebound).
_by_reference: dict[int, Any] = {}


def forget_by_reference() -> None:
    """Drop the cached by-reference decisions."""
    _by_reference.clear()


def _function_handler(pickler: Any, obj: types.FunctionType) -> Any:
    if _by_reference.get(id(obj)) is obj:
        return NotImplemented
    module = getattr(obj, "__module__", None)
    if not isinstance(module, str):
        return pickler._dynamic_function_reduce(obj)
    if not module_importable_elsewhere(module):
        if obj.__globals__.get("__name__") == module:
            return reduce_module_function(pickler, obj)
        return pickler._dynamic_function_reduce(obj)
    result = pickler._function_reduce(obj)
    if result is NotImplemented:
        _by_reference[id(obj)] = obj
    return result


def _class_handler(_pickler: Any, obj: type) -> Any:
    if _by_reference.get(id(obj)) is obj:
        return NotImplemented
    module = getattr(obj, "__module__", None)
    if isinstance(module, str) and not module_importable_elsewhere(module):
        if obj in _cp._BUILTIN_TYPE_NAMES:
            return _cp._class_reduce(obj)
        return _cp._dynamic_class_reduce(obj)
    result = _cp._class_reduce(obj)
    if result is NotImplemented:
        _by_reference[id(obj)] = obj
    return result


def _lru_cache_handler(_pickler: Any, obj: Any) -> Any:
    return reduce_lru_cache(obj) if lru_cache_by_value(obj) else NotImplemented


def _module_handler(_pickler: Any, obj: types.ModuleType) -> Any:
    if module_importable_elsewhere(obj.__name__):
        return import_module, (obj.__name__,)
    return _cp._module_reduce(obj)


def _cell_handler(_pickler: Any, obj: types.CellType) -> Any:
    try:
        contents = obj.cell_contents
    except ValueError:  # an empty cell
        return make_empty_cell, ()
    return make_cell, (contents,)


def _code_recogniser(t: type) -> registry.Handler | None:
    if issubclass(t, type):
        return registry.Handler("class (by reference if importable, else by value)", _class_handler)
    return None


def install_code_handlers() -> None:
    """Register cloudpickle's reducers and cucumber's by-value rules for code objects (functions,
    code, modules, cells: rebuilt by :mod:`.rebuild`, which a receiving process loads without
    cloudpickle)."""
    for t, reducer in _cp.Pickler._dispatch_table.items():
        if not isinstance(t, type):
            continue
        registry.add_builtin(t, f"cloudpickle {reducer.__name__}", _wrap(reducer))
    registry.add_builtin(
        types.FunctionType,
        "function (by reference if importable, else by value)",
        _function_handler,
    )
    registry.add_builtin(
        types.ModuleType, "module (by reference if importable, else by value)", _module_handler
    )
    registry.add_builtin(
        types.CodeType, "code (by value, with its file name)", lambda _p, obj: reduce_code(obj)
    )
    registry.add_builtin(types.CellType, "closure cell", _cell_handler)
    registry.add_builtin(
        functools._lru_cache_wrapper,
        "lru_cache wrapper (by reference if importable, else by value)",
        _lru_cache_handler,
    )
    registry.add_recogniser(_code_recogniser)


def _wrap(reducer: Any) -> registry.HandlerFn:
    return lambda _pickler, obj: reducer(obj)


_cache = registry.cache()
_MISSING: Any = object()
_lookup = registry.lookup


class CucumberPickler(cloudpickle.Pickler):  # type: ignore[misc]
    """cloudpickle's Pickler with cucumber's handlers; used by :func:`cucumber.serialize`."""

    @property
    def dispatch_table(self) -> Any:
        # Hidden on purpose: the C pickler then falls back to copyreg's plain dict, and
        # cloudpickle's reducers are served by reducer_override from the per-type cache.
        raise AttributeError("dispatch_table")

    def reducer_override(
        self, obj: Any, _get: Any = _cache.get, _type: type = type, _missing: Any = _MISSING
    ) -> Any:
        # The hot path for instances of plain user classes: one dict lookup, then NotImplemented.
        try:
            handler = _get(_type(obj), _missing)
        except TypeError:  # a metaclass without __hash__
            handler = _missing
        if handler is None:
            return NotImplemented
        if handler is _missing:
            handler = _lookup(_type(obj))
            if handler is None:
                return NotImplemented
        return handler.fn(self, obj)


# Make sure copyreg's table exists (the C pickler reads it when dispatch_table is hidden).
assert isinstance(copyreg.dispatch_table, dict)
