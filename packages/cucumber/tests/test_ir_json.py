"""serialize_ir / deserialize_ir and the JSON views."""

from __future__ import annotations

import dataclasses
import enum
import json
import threading
from typing import Any

import pytest

import cucumber
from cucumber import DeserializationError


@dataclasses.dataclass
class Job:
    name: str
    retries: int
    lock: Any = None


class Level(enum.Enum):
    LOW = 1


def _is_plain(node: Any) -> bool:
    if node is None or isinstance(node, (bool, int, float, str, bytes)):
        return True
    if isinstance(node, list):
        return all(_is_plain(x) for x in node)
    if isinstance(node, dict):
        return all(isinstance(k, str) and _is_plain(v) for k, v in node.items())
    return False


def test_ir_is_plain_data_and_round_trips() -> None:
    shared = [1, 2]
    obj: dict[Any, Any] = {
        "job": Job("build", 3, threading.Lock()),
        "shared": (shared, shared),
        5: {1.5, 2.5},
    }
    obj["self"] = obj
    ir = cucumber.serialize_ir(obj)
    assert _is_plain(ir)
    back = cucumber.deserialize_ir(ir)
    assert back["job"].name == "build"
    assert back["job"].retries == 3
    assert back["job"].lock.acquire(timeout=1)
    assert back["shared"][0] is back["shared"][1]
    assert back[5] == {1.5, 2.5}
    assert back["self"] is back


def test_ir_shows_the_handler() -> None:
    ir = cucumber.serialize_ir(threading.Event())
    assert ir["__cucumber__"] == "reduce"
    assert ir["type"] == "threading.Event"
    assert "threading.Event" in ir["handler"]


def test_ir_of_code_round_trips() -> None:
    offset = 3
    ir = cucumber.serialize_ir(lambda x: x + offset)
    assert cucumber.deserialize_ir(ir)(4) == 7


def test_ir_to_json_is_valid_json() -> None:
    ir = cucumber.serialize_ir({"b": b"\x00\xff", "nan": float("nan"), "lvl": Level.LOW})
    text = cucumber.ir_to_json(ir, indent=2)
    parsed = json.loads(text)
    assert parsed["__cucumber__"] == "dict"
    assert '"base64": "AP8="' in text
    assert cucumber.ir_to_jsonable(ir) == parsed


def test_deserialize_ir_rejects_garbage() -> None:
    with pytest.raises(DeserializationError):
        cucumber.deserialize_ir({"__cucumber__": "no-such-kind"})
    with pytest.raises(DeserializationError):
        cucumber.deserialize_ir({"__cucumber__": "ref", "id": 99})
    with pytest.raises(DeserializationError):
        cucumber.deserialize_ir(object())


def test_to_jsonable_views() -> None:
    job = Job("deploy", 1)
    view = cucumber.to_jsonable(
        {"job": job, "tags": {"b", "a"}, 3: b"hi", "f": float("inf"), "lvl": Level.LOW}
    )
    assert view == {
        "job": {"__type__": f"{Job.__module__}.Job", "name": "deploy", "retries": 1, "lock": None},
        "tags": ["a", "b"],
        "3": {"__bytes__": "aGk="},
        "f": "inf",
        "lvl": 1,
    }


def test_to_json_marks_cycles() -> None:
    a: dict[str, Any] = {"name": "a"}
    a["me"] = a
    assert json.loads(cucumber.to_json(a)) == {"name": "a", "me": "<cycle: builtins.dict>"}
    assert cucumber.to_json([1, 2], indent=1) == "[\n 1,\n 2\n]"


def test_to_jsonable_of_code_and_objects() -> None:
    view = cucumber.to_jsonable({"f": len, "cls": Job, "lock": threading.Lock()})
    assert view["f"] == "<function builtins.len>"
    assert view["cls"] == f"<class {Job.__module__}.Job>"
    assert view["lock"].startswith("<unlocked _thread.lock")
