"""One module namespace per worker for the functions of the main script (and other by-value modules).

A pool worker never imports the user's main script, so the functions defined there arrive by value
(cucumber sends their code and the globals they name). :func:`install` makes every worker rebuild
them into one namespace per module, the way a ``multiprocessing`` worker has one imported copy of
the script:

- ``__main__``: the worker's own ``sys.modules["__main__"]``, so that a pickle that refers to
  ``__main__.name`` finds what arrived by value (with the ``fork`` start method, that module is
  the parent's script as it was when the worker started);
- any other by-value module: the module this process has under that name when it comes from the
  same file (with ``fork``, the parent's module as it was when the worker started), else a dict
  of its own, per module name and file.

The rule for the globals that arrive with a function (:meth:`WorkerNamespaces.merge`):

- a name the namespace does not have yet takes the value from the parent;
- a name it has keeps the worker's value: what the initializer or earlier items assigned stays,
  module-level caches keep filling;
- except that a function or class defined in that module, which the parent redefined since it was
  last sent (a new ``def`` or ``class`` statement ran, e.g. in a notebook), replaces the old one.
"""

from __future__ import annotations

import functools
import sys
import types
from typing import Any

import cucumber

__all__ = ["WorkerNamespaces", "install"]


class WorkerNamespaces:
    """The :class:`cucumber.NamespaceProvider` of a pool worker (see the module docstring)."""

    def __init__(self, *, share_loaded_modules: bool = True) -> None:
        #: ``False`` (a Dask worker, shared by many programs): every module gets a dict of its own
        self._share_loaded = share_loaded_modules
        self._dicts: dict[tuple[str, str | None], dict[str, Any]] = {}
        #: id(namespace) -> the definitions (functions, classes) last sent for each name
        self._sent: dict[int, dict[str, Any]] = {}

    def namespace(self, module: dict[str, Any]) -> dict[str, Any]:
        name = module.get("__name__")
        key = (str(name), module.get("__file__"))
        found = self._dicts.get(key)
        if found is None:
            loaded = sys.modules.get(str(name))
            if self._share_loaded and (
                name == "__main__"
                or (
                    loaded is not None
                    and getattr(loaded, "__file__", None) == module.get("__file__")
                )
            ):
                assert loaded is not None
                found = loaded.__dict__
            else:
                found = dict(module)
            self._dicts[key] = found
            self._sent.setdefault(id(found), {})
        return found

    def merge(self, namespace: dict[str, Any], arrived: dict[str, Any]) -> None:
        sent = self._sent.setdefault(id(namespace), {})
        module = namespace.get("__name__")
        for name, value in arrived.items():
            if _defined_in(value, module):
                previous = sent.get(name, value)
                sent[name] = value
                if previous is not value:  # redefined in the parent
                    namespace[name] = value
                    continue
            namespace.setdefault(name, value)


def _defined_in(value: Any, module: object) -> bool:
    """Whether ``value`` is a function or class defined in ``module`` (cucumber and cloudpickle
    give such definitions the same object each time the parent sends the same one)."""
    return (
        isinstance(value, (types.FunctionType, type, functools._lru_cache_wrapper))
        and getattr(value, "__module__", None) == module
    )


def install() -> None:
    """Make this process (a pool worker) rebuild by-value functions into shared namespaces."""
    cucumber.set_namespace_provider(WorkerNamespaces())
