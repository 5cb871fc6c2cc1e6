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
    assert ir["__cucumber_type__"] == "reduce"
    assert ir["type"] == "threading.Event"
    assert "threading.Event" in ir["__handler__"]


def test_ir_of_code_round_trips() -> None:
    offset = 3
    ir = cucumber.serialize_ir(lambda x: x + offset)
    assert cucumber.deserialize_ir(ir)(4) == 7


def test_ir_to_json_is_valid_json() -> None:
    ir = cucumber.serialize_ir({"b": b"\x00\xff", "nan": float("nan"), "lvl": Level.LOW})
    text = cucumber.ir_to_json(ir)
    parsed = json.loads(text)
    assert parsed["__cucumber_type__"] == "dict"
    assert '"base64": "AP8="' in text
    assert {"__cucumber_json__": "float", "value": "nan"} in parsed["items"][1]
    assert cucumber.ir_to_jsonable(ir) == parsed
    assert text == json.dumps(parsed, indent=2, sort_keys=True)  # 0.4 defaults
    assert cucumber.ir_to_json(ir, indent=None, sort_keys=False) == json.dumps(
        cucumber.ir_to_jsonable(ir)
    )


def test_deserialize_ir_rejects_garbage() -> None:
    with pytest.raises(DeserializationError):
        cucumber.deserialize_ir({"__cucumber_type__": "no-such-kind"})
    with pytest.raises(DeserializationError):
        cucumber.deserialize_ir({"__cucumber_type__": "ref", "__object_id__": 99})
    with pytest.raises(DeserializationError):
        cucumber.deserialize_ir(object())


def test_to_jsonable_is_the_json_form_of_the_ir_and_marks_every_dict() -> None:
    obj = {"job": Job("deploy", 1), 3: b"hi", "f": float("inf")}
    view = cucumber.to_jsonable(obj)
    assert view == cucumber.ir_to_jsonable(cucumber.serialize_ir(obj))
    assert view["__cucumber_type__"] == "dict"
    keys = [key for key, _ in view["items"]]
    assert keys == ["job", 3, "f"]  # non-string keys stay what they are
    assert view["items"][1][1] == {"__cucumber_json__": "bytes", "base64": "aGk="}
    assert view["items"][0][1]["__handler__"]
    assert cucumber.to_jsonable({})["__cucumber_type__"] == "dict"


def test_to_json_defaults_debug_and_verbose(capsys: pytest.CaptureFixture[str]) -> None:
    a: dict[str, Any] = {"name": "a"}
    a["me"] = a
    parsed = json.loads(cucumber.to_json(a))
    assert parsed["items"][1][1] == {"__cucumber_type__": "ref", "__object_id__": 0}
    assert cucumber.to_json([1, 2], indent=1, sort_keys=False) == (
        '{\n "__cucumber_type__": "list",\n "__object_id__": 0,\n "items": [\n  1,\n  2\n ]\n}'
    )
    cucumber.to_json([1], debug=True, verbose=True)
    assert capsys.readouterr().err.startswith("cucumber serialize_ir: ")
    cucumber.to_jsonable([1], verbose=True)
    assert "list" in capsys.readouterr().err


def test_serialize_ir_debug_names_the_path_and_handler() -> None:
    class Bad:
        def __reduce__(self) -> Any:
            raise RuntimeError("no way")

    payload = {"ok": 1, "inner": [Bad()]}
    with pytest.raises(cucumber.SerializationError, match=r"inner.*debug=True") as plain:
        cucumber.serialize_ir(payload)
    assert "no way" in str(plain.value)
    with pytest.raises(cucumber.SerializationError, match="handler") as detailed:
        cucumber.serialize_ir(payload, debug=True)
    assert "no way" in str(detailed.value)
