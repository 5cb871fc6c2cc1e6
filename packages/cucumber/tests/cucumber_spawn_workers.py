"""Helpers that spawned children import by name (test modules are not importable there)."""

from __future__ import annotations

import sys
from typing import Any

import cucumber


def call_loaded(data: bytes, *args: Any) -> Any:
    """Deserialize ``data`` in this (child) process and call the result with ``args``."""
    return cucumber.deserialize(data)(*args)


def call_method(data: bytes, method: str, *args: Any) -> Any:
    """Deserialize an object and call one of its methods."""
    return getattr(cucumber.deserialize(data), method)(*args)


def module_present(name: str) -> bool:
    """Whether a module of that name is imported in this child."""
    return name in sys.modules


def importable_helper(x: int) -> int:
    """A module-level function of an importable module (travels by reference)."""
    return x + 1000
