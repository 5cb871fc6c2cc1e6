"""The intermediate representation (IR): how cucumber takes an object apart, as plain data.

Every IR node is a scalar (``None``, ``bool``, ``int``, ``float``, ``str``, ``bytes``), a list, or a
dict tagged with ``"__cucumber_type__"`` (the marker names of suitkaise 0.4):

- ``{"__cucumber_type__": "list" | "tuple" | "set" | "frozenset", "__object_id__": n, "items": [...]}``
- ``{"__cucumber_type__": "dict", "__object_id__": n, "items": [[key, value], ...]}``
- ``{"__cucumber_type__": "bytearray", "__object_id__": n, "data": b"..."}``
- ``{"__cucumber_type__": "global", "module": "pkg.mod", "name": "Qual.Name"}`` (a class or function by
  reference)
- ``{"__cucumber_type__": "reduce", "__object_id__": n, "type": "mod.Class", "__handler__": "...",
  "func": node, "args": node, "state": node, "listitems": [...], "dictitems": [[k, v], ...],
  "setstate": node}``
- ``{"__cucumber_type__": "ref", "__object_id__": n}``: the node with that id again (shared and circular
  references)

``__object_id__`` numbers the nodes in the order they are built. The IR is built by the same handlers
as :func:`cucumber.serialize`, so it shows exactly what is written; it is meant for inspection and
debugging, not speed.
"""

from __future__ import annotations

import copyreg
import importlib
import io
import sys
import types
from typing import Any

from cucumber._private import families, registry
from cucumber._private.errors import DeserializationError, SerializationError
from cucumber._private.pickler import PROTOCOL, CucumberPickler
from cucumber._private.walk import describe_handler, locate_failure, print_walk

#: Without ``debug``, the search for the failing part stops after this many seconds.
PATH_SEARCH_BUDGET = 0.5

__all__ = ["TAG", "deserialize_ir", "serialize_ir"]

TAG = "__cucumber_type__"
ID = "__object_id__"
HANDLER = "__handler__"
_SCALARS = (type(None), bool, int, float, str, bytes)
_SEQUENCES: dict[type[Any], str] = {
    list: "list",
    tuple: "tuple",
    set: "set",
    frozenset: "frozenset",
}


def _whichmodule(obj: Any, name: str) -> str:
    module = getattr(obj, "__module__", None)
    if isinstance(module, str):
        return module
    for mod_name, mod in list(sys.modules.items()):
        if mod_name == "__main__" or mod is None:
            continue
        try:
            if _getattribute(mod, name) is obj:
                return mod_name
        except AttributeError:
            continue
    return "__main__"


def _getattribute(obj: Any, qualname: str) -> Any:
    for part in qualname.split("."):
        if part == "<locals>":
            raise AttributeError(f"cannot look up local object {qualname!r}")
        obj = getattr(obj, part)
    return obj


class _Builder:
    def __init__(self) -> None:
        self.memo: dict[int, int] = {}
        self.keep: list[Any] = []
        families.install()  # the IR shows the handlers serialize uses
        self.pickler = CucumberPickler(io.BytesIO(), protocol=PROTOCOL)

    def _new_id(self, obj: Any) -> int:
        n = len(self.memo)
        self.memo[id(obj)] = n
        self.keep.append(obj)
        return n

    def build(self, obj: Any) -> Any:
        t = type(obj)
        if t in _SCALARS:
            return obj
        ref = self.memo.get(id(obj))
        if ref is not None:
            return {TAG: "ref", ID: ref}
        kind = _SEQUENCES.get(t)
        if kind is not None:
            n = self._new_id(obj)
            return {TAG: kind, ID: n, "items": [self.build(item) for item in obj]}
        if t is dict:
            n = self._new_id(obj)
            return {
                TAG: "dict",
                ID: n,
                "items": [[self.build(k), self.build(v)] for k, v in obj.items()],
            }
        if t is bytearray:
            n = self._new_id(obj)
            return {TAG: "bytearray", ID: n, "data": bytes(obj)}
        return self._reduce(obj)

    def _global(self, obj: Any, name: str | None = None) -> dict[str, Any]:
        qualname = name or getattr(obj, "__qualname__", None) or obj.__name__
        return {TAG: "global", "module": _whichmodule(obj, qualname), "name": qualname}

    def _reduce_value(self, obj: Any) -> tuple[Any, str]:
        t = type(obj)
        handler = registry.lookup(t)
        if handler is not None:
            value = handler.fn(self.pickler, obj)
            if value is not NotImplemented:
                return value, handler.name
        if isinstance(obj, type) or t is types.FunctionType:
            return getattr(obj, "__qualname__", obj.__name__), "global (by reference)"
        if t is types.BuiltinFunctionType and (
            obj.__self__ is None or isinstance(obj.__self__, types.ModuleType)
        ):
            return obj.__qualname__, "global (by reference)"
        reducer = copyreg.dispatch_table.get(t)
        if reducer is not None:
            return reducer(obj), "copyreg"
        return obj.__reduce_ex__(PROTOCOL), "pickle default (__reduce_ex__)"

    def _reduce(self, obj: Any) -> Any:
        try:
            value, handler_name = self._reduce_value(obj)
        except SerializationError:
            raise
        except Exception as exc:
            raise SerializationError(
                f"cannot take {registry.type_key(type(obj))} apart: {exc}"
            ) from exc
        if isinstance(value, str):
            return self._global(obj, value)
        if not isinstance(value, tuple) or not 2 <= len(value) <= 6:
            raise SerializationError(
                f"the reducer of {registry.type_key(type(obj))} returned {value!r}"
            )
        func, args, *rest = value
        rest += [None] * (4 - len(rest))
        state, listitems, dictitems, setstate = rest
        n = self._new_id(obj)
        node: dict[str, Any] = {
            TAG: "reduce",
            ID: n,
            "type": registry.type_key(type(obj)),
            HANDLER: handler_name,
            "func": self.build(func),
            "args": self.build(tuple(args)),
        }
        if state is not None:
            node["state"] = self.build(state)
        if listitems is not None:
            node["listitems"] = [self.build(item) for item in listitems]
        if dictitems is not None:
            node["dictitems"] = [[self.build(k), self.build(v)] for k, v in dictitems]
        if setstate is not None:
            node["setstate"] = self.build(setstate)
        return node


def _ir_failure(part: Any) -> BaseException | None:
    try:
        _Builder().build(part)
    except Exception as exc:
        return exc
    return None


def serialize_ir(obj: Any, *, debug: bool = False, verbose: bool = False) -> Any:
    """The IR of ``obj``: nested dicts/lists/scalars showing how cucumber takes it apart.

    Raises :class:`SerializationError` naming the path to the part that failed; ``debug=True`` also
    names its handler and never cuts the search short, ``verbose=True`` prints the walk over the
    object to stderr (as :func:`cucumber.serialize` does).
    """
    if verbose:
        print_walk(obj, title="serialize_ir")
    try:
        return _Builder().build(obj)
    except RecursionError as exc:
        raise SerializationError(
            f"cannot build the IR of {type(obj).__name__} object: it is nested too deeply "
            f"(more than about {sys.getrecursionlimit()} levels)"
        ) from exc
    except Exception as exc:
        path, part, error = locate_failure(obj, _ir_failure, None if debug else PATH_SEARCH_BUDGET)
        reason = str(error if error is not None else exc)
        kind = registry.type_key(type(part))
        where = f"{kind}, handler: {describe_handler(part)}" if debug else kind
        hint = "" if debug else " (serialize_ir(obj, debug=True) also names the handler used)"
        raise SerializationError(
            f"cannot build the IR of {path} ({where}): {reason}{hint}"
        ) from exc


class _Loader:
    def __init__(self) -> None:
        self.memo: dict[int, Any] = {}

    def _remember(self, node: dict[str, Any], obj: Any) -> Any:
        self.memo[node[ID]] = obj
        return obj

    def load(self, node: Any) -> Any:
        if isinstance(node, _SCALARS):
            return node
        if isinstance(node, list):
            return [self.load(item) for item in node]
        if not isinstance(node, dict) or TAG not in node:
            raise DeserializationError(f"not an IR node: {type(node).__name__}")
        kind = node[TAG]
        if kind == "ref":
            try:
                return self.memo[node[ID]]
            except KeyError:
                raise DeserializationError(
                    f"IR node refers to id {node[ID]} before it is built (a cycle through a tuple or constructor arguments)"
                ) from None
        if kind == "list":
            out: list[Any] = self._remember(node, [])
            out.extend(self.load(item) for item in node["items"])
            return out
        if kind == "set":
            s: set[Any] = self._remember(node, set())
            s.update(self.load(item) for item in node["items"])
            return s
        if kind in ("tuple", "frozenset"):
            items = [self.load(item) for item in node["items"]]
            return self._remember(node, tuple(items) if kind == "tuple" else frozenset(items))
        if kind == "dict":
            d: dict[Any, Any] = self._remember(node, {})
            for k, v in node["items"]:
                d[self.load(k)] = self.load(v)
            return d
        if kind == "bytearray":
            return self._remember(node, bytearray(node["data"]))
        if kind == "global":
            module = importlib.import_module(node["module"])
            return _getattribute(module, node["name"])
        if kind == "reduce":
            return self._load_reduce(node)
        raise DeserializationError(f"unknown IR node kind {kind!r}")

    def _load_reduce(self, node: dict[str, Any]) -> Any:
        func = self.load(node["func"])
        args = self.load(node["args"])
        obj = self._remember(node, func(*args))
        if "state" in node:
            state = self.load(node["state"])
            if "setstate" in node:
                self.load(node["setstate"])(obj, state)
            else:
                _build(obj, state)
        for item in node.get("listitems", ()):
            obj.append(self.load(item))
        for k, v in node.get("dictitems", ()):
            obj[self.load(k)] = self.load(v)
        return obj


def _build(obj: Any, state: Any) -> None:
    """pickle's BUILD opcode: ``__setstate__``, or instance dict and slot state."""
    setstate = getattr(obj, "__setstate__", None)
    if setstate is not None:
        setstate(state)
        return
    slotstate = None
    if isinstance(state, tuple) and len(state) == 2:
        state, slotstate = state
    if state:
        obj.__dict__.update(state)
    if slotstate:
        for k, v in slotstate.items():
            setattr(obj, k, v)


def deserialize_ir(ir: Any) -> Any:
    """Rebuild the object an IR describes (the inverse of :func:`serialize_ir`)."""
    try:
        return _Loader().load(ir)
    except DeserializationError:
        raise
    except Exception as exc:
        raise DeserializationError(f"cannot rebuild from IR: {type(exc).__name__}: {exc}") from exc
