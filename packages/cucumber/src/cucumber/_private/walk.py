"""A Python-level walk of an object graph, for error paths (``debug=True``) and ``verbose=True``.

The fast path (the C pickler) keeps no path; when it fails and ``debug`` is on, this module walks
the object again, serializing each part on its own, to find the deepest part that fails.
"""

from __future__ import annotations

import io
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any, TextIO

from cucumber._private import registry

__all__ = ["children", "describe_handler", "locate_failure", "print_walk"]

_ATOMIC = (type(None), bool, int, float, complex, str, bytes, bytearray, range, type(...))
_CONTAINERS = (list, tuple, set, frozenset, dict)
#: Cap on the number of lines ``verbose=True`` prints for one object.
MAX_VERBOSE_LINES = 10_000


def _slot_names(t: type) -> Iterator[str]:
    for klass in getattr(t, "__mro__", ()):
        slots = klass.__dict__.get("__slots__", ())
        if isinstance(slots, str):
            slots = (slots,)
        for name in slots:
            if name not in ("__dict__", "__weakref__"):
                yield name


def children(obj: Any) -> list[tuple[str, Any]]:
    """The parts of ``obj`` with the label that extends a path to them (``[3]``, `` -> name``)."""
    if isinstance(obj, (*_ATOMIC, type)):
        return []
    if isinstance(obj, dict):
        return [(f"[{k!r}]", v) for k, v in list(obj.items())]
    if isinstance(obj, (list, tuple)):
        return [(f"[{i}]", v) for i, v in enumerate(obj)]
    if isinstance(obj, (set, frozenset)):
        return [(f"[{i}]", v) for i, v in enumerate(list(obj))]
    parts: list[tuple[str, Any]] = []
    state = getattr(obj, "__dict__", None)
    if isinstance(state, dict):
        parts.extend((f" -> {k}", v) for k, v in list(state.items()))
    for name in _slot_names(type(obj)):
        try:
            parts.append((f" -> {name}", getattr(obj, name)))
        except AttributeError:
            pass
    return parts


def describe_handler(obj: Any) -> str:
    """Name of the handler cucumber uses for ``obj`` (for messages and the verbose walk)."""
    t = type(obj)
    if t in _ATOMIC or t in _CONTAINERS:
        return "builtin (C pickler)"
    handler = registry.lookup(t)
    if handler is None:
        return "pickle default (__reduce_ex__)"
    return handler.name


def _root_label(obj: Any) -> str:
    return type(obj).__name__


def locate_failure(
    obj: Any, fails: Callable[[Any], BaseException | None], budget: float | None = None
) -> tuple[str, Any, BaseException | None]:
    """Follow the failing parts of ``obj`` down to the deepest one.

    ``fails(part)`` returns the exception serializing ``part`` alone raises, or ``None``.
    Returns the path (``Payload -> workers[3] -> lock``), the part and its exception. With a
    ``budget`` (seconds), the search stops when it is spent and returns the path found so far.
    """
    deadline = None if budget is None else time.monotonic() + budget
    path = _root_label(obj)
    current = obj
    error = fails(obj)
    seen = {id(obj)}
    while True:
        if deadline is not None and time.monotonic() > deadline:
            return path + " -> ...", current, error
        if registry.lookup(type(current)) is not None and not isinstance(current, type):
            # A cucumber handler owns this part (and failed, or refused it): it is the culprit.
            return path, current, error
        for label, child in children(current):
            if id(child) in seen:
                continue
            seen.add(id(child))
            child_error = fails(child)
            if child_error is not None:
                path += label
                current, error = child, child_error
                break
        else:
            return path, current, error


def print_walk(obj: Any, *, out: TextIO | None = None, title: str = "serialize") -> None:
    """Print every part of ``obj`` with its path, type and handler (``verbose=True``)."""
    from cucumber._private import families  # the handlers named are those serialize uses

    families.install()
    stream = out if out is not None else sys.stderr
    lines = 0
    seen: set[int] = set()
    stack: list[tuple[str, Any, int]] = [(_root_label(obj), obj, 0)]
    buf = io.StringIO()
    while stack:
        path, part, depth = stack.pop()
        if lines >= MAX_VERBOSE_LINES:
            buf.write(f"cucumber {title}: ... (stopped after {MAX_VERBOSE_LINES} lines)\n")
            break
        t = type(part)
        shared = id(part) in seen and not isinstance(part, _ATOMIC)
        note = " (shared reference, already written)" if shared else ""
        size = f" ({len(part)} items)" if isinstance(part, _CONTAINERS) else ""
        buf.write(
            f"cucumber {title}: {path}: {registry.type_key(t)}{size} -> {describe_handler(part)}{note}\n"
        )
        lines += 1
        if shared:
            continue
        seen.add(id(part))
        kids = children(part)
        stack.extend((path + label, child, depth + 1) for label, child in reversed(kids))
    stream.write(buf.getvalue())
    stream.flush()
