"""A readable JSON view of any object (lossy where JSON must be).

Rules: ``None``/``bool``/``int``/``str`` stay; finite floats stay, ``nan``/``inf`` become strings;
``bytes``/``bytearray`` become ``{"__bytes__": "<base64>"}``; dicts keep string keys and other keys
become ``repr(key)``; lists, tuples and sets become lists (sets sorted by ``repr``); enum members
become their value; dates and times ISO strings; ``Decimal``, ``UUID`` and paths strings;
functions and classes ``"<function mod.name>"``/``"<class mod.name>"``; other objects
``{"__type__": "mod.Class", <attributes>...}``; a reference back to an object being written
(a cycle) becomes ``"<cycle: mod.Class>"``; anything else its ``repr``.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
import decimal
import enum
import json
import math
import os
import types
import uuid
from typing import Any

from cucumber._private.registry import type_key
from cucumber._private.walk import _slot_names

__all__ = ["to_json", "to_jsonable"]

#: Objects nested deeper than this are shown as ``"<too deep: mod.Class>"``.
MAX_DEPTH = 200


def _jsonable(obj: Any, active: set[int], depth: int) -> Any:
    if obj is None or isinstance(obj, (bool, int, str)):
        return obj if not isinstance(obj, enum.Enum) else _jsonable(obj.value, active, depth)
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else repr(obj)
    if isinstance(obj, (bytes, bytearray, memoryview)):
        return {"__bytes__": base64.b64encode(bytes(obj)).decode("ascii")}
    if isinstance(obj, enum.Enum):
        return _jsonable(obj.value, active, depth)
    if isinstance(obj, (datetime.date, datetime.time)):
        return obj.isoformat()
    if isinstance(obj, datetime.timedelta):
        return obj.total_seconds()
    if isinstance(obj, (decimal.Decimal, uuid.UUID, os.PathLike, complex)):
        return str(obj)
    if isinstance(obj, type):
        return f"<class {obj.__module__}.{obj.__qualname__}>"
    if isinstance(obj, (types.FunctionType, types.BuiltinFunctionType, types.MethodType)):
        return f"<function {getattr(obj, '__module__', None)}.{getattr(obj, '__qualname__', repr(obj))}>"
    if isinstance(obj, types.ModuleType):
        return f"<module {obj.__name__}>"
    if id(obj) in active:
        return f"<cycle: {type_key(type(obj))}>"
    if depth >= MAX_DEPTH:
        return f"<too deep: {type_key(type(obj))}>"
    active.add(id(obj))
    try:
        return _container(obj, active, depth + 1)
    finally:
        active.discard(id(obj))


def _container(obj: Any, active: set[int], depth: int) -> Any:
    if isinstance(obj, dict):
        return {
            (k if isinstance(k, str) else repr(k)): _jsonable(v, active, depth)
            for k, v in obj.items()
        }
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v, active, depth) for v in obj]
    if isinstance(obj, (set, frozenset)):
        return [_jsonable(v, active, depth) for v in sorted(obj, key=repr)]
    if dataclasses.is_dataclass(obj):
        out: dict[str, Any] = {"__type__": type_key(type(obj))}
        for f in dataclasses.fields(obj):
            out[f.name] = _jsonable(getattr(obj, f.name), active, depth)
        return out
    attrs: dict[str, Any] = {}
    state = getattr(obj, "__dict__", None)
    if isinstance(state, dict):
        attrs.update(state)
    for name in _slot_names(type(obj)):
        if hasattr(obj, name):
            attrs[name] = getattr(obj, name)
    if attrs:
        out = {"__type__": type_key(type(obj))}
        for k, v in attrs.items():
            out[str(k)] = _jsonable(v, active, depth)
        return out
    return repr(obj)


def to_jsonable(obj: Any) -> Any:
    """A JSON-compatible view of ``obj`` (dicts, lists, strings, numbers); lossy, see the module rules."""
    return _jsonable(obj, set(), 0)


def to_json(obj: Any, indent: int | None = None) -> str:
    """``json.dumps(to_jsonable(obj), indent=indent)``."""
    return json.dumps(to_jsonable(obj), indent=indent)
