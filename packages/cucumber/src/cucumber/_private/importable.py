"""Decide whether a module can be imported by name in a fresh interpreter (cached per module).

Functions and classes of modules a fresh interpreter cannot import must travel by value:
``__main__``, modules without ``__spec__``, modules whose ``__spec__.name`` differs from their
``__name__``, and modules the standard import system would not find (pytest's
``--import-mode=importlib`` test modules, Jupyter cells, ``exec``-created modules).
"""

from __future__ import annotations

import os
import sys
import threading
from importlib.machinery import ModuleSpec
from types import ModuleType
from typing import Any

__all__ = ["module_importable_elsewhere"]

_cache: dict[str, bool] = {}
_lock = threading.RLock()


def _origin(spec: ModuleSpec | None) -> str | None:
    if spec is None or spec.origin is None:
        return None
    if spec.origin in ("built-in", "frozen"):
        return spec.origin
    try:
        return os.path.realpath(spec.origin)
    except (OSError, ValueError):
        return spec.origin


def _fresh_find_spec(name: str) -> ModuleSpec | None:
    """``find_spec`` as a fresh interpreter would run it: through the finders, not ``sys.modules``."""
    parent_name, _, _ = name.rpartition(".")
    path: Any = None
    if parent_name:
        if not module_importable_elsewhere(parent_name):
            return None
        parent = sys.modules.get(parent_name)
        path = getattr(parent, "__path__", None)
        if path is None:
            return None
    for finder in sys.meta_path:
        finder_module = type(finder).__module__ or ""
        if finder_module.startswith(("_pytest", "pytest")):
            # Test-runner hooks do not exist in a child interpreter.
            continue
        find_spec = getattr(finder, "find_spec", None)
        if find_spec is None:
            continue
        try:
            spec = find_spec(name, path)
        except Exception:
            continue
        if spec is not None:
            return spec  # type: ignore[no-any-return]
    return None


def _decide(name: str) -> bool:
    if name == "__main__":
        return False
    module = sys.modules.get(name)
    if not isinstance(module, ModuleType):
        return False
    spec = getattr(module, "__spec__", None)
    if spec is None:
        return name in sys.builtin_module_names
    if spec.name != name:
        return False
    if name in sys.builtin_module_names:
        return True
    found = _fresh_find_spec(name)
    if found is None:
        return False
    here, there = _origin(spec), _origin(found)
    # Namespace packages have no origin; otherwise the file found must be the file loaded.
    return here is None or there is None or here == there


def module_importable_elsewhere(name: str) -> bool:
    """True when a fresh interpreter with this ``sys.path`` would import the same module by ``name``."""
    result = _cache.get(name)
    if result is None:
        with _lock:
            result = _cache.get(name)
            if result is None:
                result = _decide(name)
                _cache[name] = result
    return result
