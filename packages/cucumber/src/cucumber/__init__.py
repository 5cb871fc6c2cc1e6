"""A serializer for (nearly) every Python object, including live resources through Reconnectors.

``cucumber.serialize(obj) -> bytes`` and ``cucumber.deserialize(data) -> obj``; plain data goes at
pickle speed, functions and classes that a fresh interpreter cannot import travel by value, and
live resources (connections, sockets, threads, ...) become ``Reconnector`` placeholders that
``reconnect_all`` opens again. Like pickle, deserializing runs code named in the data: exchange
data only with processes you trust.

Importing cucumber is cheap: the pickler and its families of handlers load on the first
``serialize`` (a process that only deserializes never loads them), and the other names (the IR and
JSON views, ``reconnect_all``, the Reconnector classes, ``register``) on first use (PEP 562
``__getattr__``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from cucumber.__about__ import __version__
from cucumber._private.api import deserialize, serialize
from cucumber._private.errors import CucumberError, DeserializationError, SerializationError

if TYPE_CHECKING:
    from cucumber._private.families.runtime import DeadReference
    from cucumber._private.ir import deserialize_ir, serialize_ir
    from cucumber._private.jsonview import ir_to_json, ir_to_jsonable, to_json, to_jsonable
    from cucumber._private.namespaces import NamespaceProvider, set_namespace_provider
    from cucumber._private.reconnect_all import reconnect_all
    from cucumber._private.reconnectors import (
        DbReconnector,
        MatchReconnector,
        PipeReconnector,
        Reconnector,
        SocketReconnector,
        SQLiteConnectionReconnector,
        SQLiteCursorReconnector,
        SubprocessReconnector,
        ThreadReconnector,
    )
    from cucumber._private.registry import register

# public name -> the module that defines it, imported when the name is first looked up
_LAZY = {
    "reconnect_all": "cucumber._private.reconnect_all",
    "serialize_ir": "cucumber._private.ir",
    "deserialize_ir": "cucumber._private.ir",
    "ir_to_jsonable": "cucumber._private.jsonview",
    "ir_to_json": "cucumber._private.jsonview",
    "to_jsonable": "cucumber._private.jsonview",
    "to_json": "cucumber._private.jsonview",
    "register": "cucumber._private.registry",
    "Reconnector": "cucumber._private.reconnectors",
    "DbReconnector": "cucumber._private.reconnectors",
    "SocketReconnector": "cucumber._private.reconnectors",
    "PipeReconnector": "cucumber._private.reconnectors",
    "ThreadReconnector": "cucumber._private.reconnectors",
    "SubprocessReconnector": "cucumber._private.reconnectors",
    "MatchReconnector": "cucumber._private.reconnectors",
    "SQLiteConnectionReconnector": "cucumber._private.reconnectors",
    "SQLiteCursorReconnector": "cucumber._private.reconnectors",
    "DeadReference": "cucumber._private.families.runtime",
    "set_namespace_provider": "cucumber._private.namespaces",
    "NamespaceProvider": "cucumber._private.namespaces",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "serialize",
    "deserialize",
    "reconnect_all",
    "serialize_ir",
    "deserialize_ir",
    "ir_to_jsonable",
    "ir_to_json",
    "to_jsonable",
    "to_json",
    "register",
    "set_namespace_provider",
    "NamespaceProvider",
    "Reconnector",
    "DbReconnector",
    "SocketReconnector",
    "PipeReconnector",
    "ThreadReconnector",
    "SubprocessReconnector",
    "MatchReconnector",
    "SQLiteConnectionReconnector",
    "SQLiteCursorReconnector",
    "DeadReference",
    "CucumberError",
    "SerializationError",
    "DeserializationError",
    "__version__",
]
