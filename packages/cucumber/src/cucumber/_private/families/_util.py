"""Helpers shared by the family modules."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cucumber._private import registry

__all__ = ["handles"]


def handles(*types: type, name: str) -> Callable[[Callable[[Any], Any]], Callable[[Any], Any]]:
    """Decorator: install ``reduce(obj)`` as cucumber's handler for ``types`` (and subclasses)."""

    def decorate(reduce: Callable[[Any], Any]) -> Callable[[Any], Any]:
        registry.add_builtin(tuple(types), name, lambda _pickler, obj: reduce(obj))
        return reduce

    return decorate


def blank(cls: Any) -> Any:
    """A new, not yet initialised instance of ``cls`` (``cls.__new__(cls)``)."""
    return cls.__new__(cls)
