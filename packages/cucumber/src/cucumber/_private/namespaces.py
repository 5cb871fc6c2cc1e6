"""Functions of by-value modules: how they travel (the sending side; :mod:`.rebuild` receives).

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

Rebuilding (and the namespace providers a receiving process may install) is :mod:`.rebuild`: it
imports no cloudpickle, so a process that only receives functions never loads the pickler.
"""

from __future__ import annotations

import sys
import types
from typing import Any

from cloudpickle import cloudpickle as _cp

from cucumber._private.importable import module_importable_elsewhere
from cucumber._private.rebuild import (
    function_setstate,
    make_code,
    make_function,
    make_lru_cache,
    tracker_id_of,
)

__all__ = [
    "lru_cache_by_value",
    "reduce_code",
    "reduce_lru_cache",
    "reduce_module_function",
]

# Payloads of earlier cucumber 0.x releases name the rebuild functions here: keep them loading.
_function_setstate = function_setstate

#: The position of ``co_filename`` in the ``types.CodeType`` arguments cloudpickle returns.
_FILENAME_ARG = 10
_MODULE_KEYS = ("__package__", "__name__", "__path__", "__file__")
if _cp._code_reduce(_cp._make_empty_cell.__code__)[1][_FILENAME_ARG] != "<dynamic-code>":
    raise ImportError(  # pragma: no cover - depends on the installed cloudpickle
        "cucumber cannot keep file names in code objects with this cloudpickle (its code reduction "
        "changed): pip install 'cloudpickle>=3.0,<4'"
    )


# --- sending -------------------------------------------------------------------------------------
def reduce_code(code: types.CodeType) -> Any:
    """cloudpickle's reduction of a code object, with the real file name instead of
    ``"<dynamic-code>"``, rebuilt by :func:`.rebuild.make_code`."""
    _constructor, args = _cp._code_reduce(code)  # (types.CodeType, its arguments)
    args = list(args)
    args[_FILENAME_ARG] = code.co_filename
    return make_code, tuple(args)


def reduce_module_function(pickler: Any, func: types.FunctionType) -> Any:
    """The reduction of a function defined in a by-value module (see the module docstring)."""
    module = pickler.globals_ref.get(id(func.__globals__))
    if module is None:
        func_globals = func.__globals__
        module = {k: func_globals[k] for k in _MODULE_KEYS if k in func_globals}
        pickler.globals_ref[id(func_globals)] = module
    closure = None
    if func.__closure__ is not None:
        closure = tuple(types.CellType() for _ in func.__code__.co_freevars)
    return (
        make_function,
        (func.__code__, module, closure, tracker_id_of(func)),
        _function_state(func),
        None,
        None,
        function_setstate,
    )


#: code object -> the global names it (and the code nested in it) uses, as cloudpickle computes them;
#: held strongly: cloudpickle's own cache is weakly keyed, and a rebuilt class in this process drops
#: its entries (cloudpickle's ``_class_setstate`` frees code objects equal to the cached ones), so a
#: same-process round trip walked the bytecode of every method again (most of its time, P6)
_global_names: dict[types.CodeType, dict[str, None]] = {}
_GLOBAL_NAMES_KEPT = 4096


def _function_state(func: types.FunctionType) -> tuple[dict[str, Any], dict[str, Any]]:
    """cloudpickle's ``(func.__dict__, slots)`` state of a function (``_function_getstate``), with
    the global names of its code cached here."""
    code = func.__code__
    names = _global_names.get(code)
    if names is None:
        if len(_global_names) >= _GLOBAL_NAMES_KEPT:
            _global_names.clear()
        names = _global_names[code] = _cp._extract_code_globals(code)
    func_globals = func.__globals__
    sent = {name: func_globals[name] for name in names if name in func_globals}
    closure = func.__closure__
    values: list[Any] = list(sent.values())
    if closure is not None:
        for cell in closure:
            try:
                values.append(cell.cell_contents)
            except ValueError:  # an empty cell
                continue
    slots = {
        "__name__": func.__name__,
        "__qualname__": func.__qualname__,
        "__annotations__": func.__annotations__,
        "__kwdefaults__": func.__kwdefaults__,
        "__defaults__": func.__defaults__,
        "__module__": func.__module__,
        "__doc__": func.__doc__,
        "__closure__": closure,
        "_cloudpickle_submodules": _cp._find_imported_submodules(code, values),
        "__globals__": sent,
    }
    return dict(func.__dict__), slots


def reduce_lru_cache(wrapper: Any) -> Any:
    """The reduction of an ``lru_cache`` wrapper of a by-value module's function."""
    params = wrapper.cache_parameters()
    return make_lru_cache, (
        tracker_id_of(wrapper),
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
