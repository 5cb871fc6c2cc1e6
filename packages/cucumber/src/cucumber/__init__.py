"""A serializer for (nearly) every Python object, including live resources through Reconnectors.

``cucumber.serialize(obj) -> bytes`` and ``cucumber.deserialize(data) -> obj``; plain data goes at
pickle speed, functions and classes that a fresh interpreter cannot import travel by value, and
live resources (connections, sockets, threads, ...) become ``Reconnector`` placeholders that
``reconnect_all`` opens again. Like pickle, deserializing runs code named in the data: exchange
data only with processes you trust.
"""

from cucumber.__about__ import __version__
from cucumber._private import families as _families
from cucumber._private.api import deserialize, serialize
from cucumber._private.errors import CucumberError, DeserializationError, SerializationError
from cucumber._private.families.runtime import DeadReference
from cucumber._private.ir import deserialize_ir, serialize_ir
from cucumber._private.jsonview import ir_to_json, ir_to_jsonable, to_json, to_jsonable
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

_families.install()

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
