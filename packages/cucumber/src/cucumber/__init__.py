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
    from cucumber._private.rebuild import NamespaceProvider, set_namespace_provider
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

# module -> the public names it defines; the module is imported, and all its names bound here, when
# one of them is first looked up
_LAZY_MODULES = {
    "cucumber._private.reconnect_all": ("reconnect_all",),
    "cucumber._private.ir": ("serialize_ir", "deserialize_ir"),
    "cucumber._private.jsonview": ("ir_to_jsonable", "ir_to_json", "to_jsonable", "to_json"),
    "cucumber._private.registry": ("register",),
    "cucumber._private.rebuild": ("set_namespace_provider", "NamespaceProvider"),
    "cucumber._private.reconnectors": (
        "Reconnector",
        "DbReconnector",
        "SocketReconnector",
        "PipeReconnector",
        "ThreadReconnector",
        "SubprocessReconnector",
        "MatchReconnector",
        "SQLiteConnectionReconnector",
        "SQLiteCursorReconnector",
    ),
    "cucumber._private.families.runtime": ("DeadReference",),
}
_MODULE_OF = {name: module for module, names in _LAZY_MODULES.items() for name in names}


def __getattr__(name: str) -> Any:
    try:
        module = _MODULE_OF[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    loaded = importlib.import_module(module)
    namespace = globals()
    for public in _LAZY_MODULES[module]:  # later lookups of these names skip this function
        namespace[public] = getattr(loaded, public)
    return namespace[name]


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_MODULE_OF))


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
