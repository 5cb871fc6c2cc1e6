"""The examples of the suitkaise 0.4 ``cucumber`` pages (quick start, how to use, supported types), run on this kit.

Each test is one example of ``/work/shared/reference/suitkaise-0.4/cucumber-*.md`` with the published import
lines. The supported-types page has no code; its stdlib rows are checked by round trips below (the full
matrix, third-party clients included, is the cucumber package's own support table).
"""

from __future__ import annotations

import collections
import datetime
import decimal
import enum
import fractions
import functools
import io
import json
import logging
import pathlib
import pickle
import queue
import re
import sqlite3
import threading
import typing
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.timeout(120)


class Task:
    def __init__(self, n: int) -> None:
        self.n = n

    def compute(self) -> int:
        return self.n**2


class Node:
    def __init__(self, name: str) -> None:
        self.name = name
        self.parent: Node | None = None
        self.children: list[Node] = []


class Counter:
    def __init__(self) -> None:
        self.count = 0

    def increment(self) -> None:
        self.count += 1

    def decrement(self) -> None:
        self.count -= 1


# ---------------------------------------------------------------- cucumber-quick-start.md


def test_quick_start_serialize_what_pickle_cannot() -> None:
    from suitkaise import cucumber

    my_object = {"tasks": [Task(1), Task(2)], "when": datetime.date(2024, 1, 2)}
    data = cucumber.serialize(my_object)
    assert isinstance(data, bytes)
    restored = cucumber.deserialize(data)
    assert [t.compute() for t in restored["tasks"]] == [1, 4]

    assert cucumber.deserialize(cucumber.serialize(lambda x: x * 2))(21) == 42

    def make_multiplier(n: int) -> Callable[[int], int]:
        return lambda x: x * n

    assert cucumber.deserialize(cucumber.serialize(make_multiplier(3)))(5) == 15

    class LocalTask:  # not importable by name, like a class of __main__ in another process
        def __init__(self, n: int) -> None:
            self.n = n

        def compute(self) -> int:
            return self.n**2

    assert cucumber.deserialize(cucumber.serialize(LocalTask(7))).compute() == 49


def test_quick_start_circular_references() -> None:
    from suitkaise import cucumber

    root = Node("root")
    child = Node("child")
    root.children.append(child)
    child.parent = root
    restored = cucumber.deserialize(cucumber.serialize(root))
    assert restored.children[0].parent.name == "root"
    assert restored.children[0].parent is restored


def test_quick_start_live_resources_become_reconnectors() -> None:
    from suitkaise import cucumber

    conn = sqlite3.connect(":memory:")
    data = cucumber.serialize(conn)
    restored = cucumber.deserialize(data)
    assert isinstance(restored, cucumber.Reconnector)  # not a live connection yet
    live = cucumber.reconnect_all(restored)
    assert isinstance(live, sqlite3.Connection)
    assert live.execute("select 1").fetchone() == (1,)

    with_auth = cucumber.reconnect_all(
        cucumber.deserialize(data), **{"psycopg2.Connection": {"*": "my_password"}}
    )
    assert isinstance(with_auth, sqlite3.Connection)

    lazy = cucumber.deserialize(data)  # no auth needed: reconnects on first access
    assert lazy.execute("select 2").fetchone() == (2,)
    conn.close()


def test_quick_start_debug_verbose_ir_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    from suitkaise import cucumber

    obj = {"task": Task(3), "tags": {"a"}}
    cucumber.deserialize(cucumber.serialize(obj, debug=True))
    cucumber.serialize(obj, verbose=True)
    assert "Task" in capsys.readouterr().err
    ir = cucumber.serialize_ir(obj)
    assert isinstance(ir, dict)
    assert ir["__cucumber_type__"] == "dict"
    json_str = cucumber.to_json(obj)
    assert json.loads(json_str)["__cucumber_type__"] == "dict"


# ---------------------------------------------------------------- cucumber-how-to-use.md


def test_how_to_imports() -> None:
    from suitkaise import cucumber
    from suitkaise.cucumber import (
        deserialize,
        deserialize_ir,
        ir_to_json,
        ir_to_jsonable,
        reconnect_all,
        serialize,
        serialize_ir,
        to_json,
        to_jsonable,
    )

    assert cucumber.serialize is serialize
    for fn in (deserialize, deserialize_ir, ir_to_json, ir_to_jsonable, reconnect_all):
        assert callable(fn)
    for fn in (serialize_ir, to_json, to_jsonable):
        assert callable(fn)


def test_how_to_serialize_errors_name_the_path() -> None:
    from suitkaise import cucumber
    from suitkaise.processing import Pipe

    anchor, point = Pipe.pair()
    try:
        with pytest.raises(cucumber.SerializationError, match=r"dict\['anchor'\]") as plain:
            cucumber.serialize({"anchor": anchor})
        with pytest.raises(cucumber.SerializationError, match="handler") as detailed:
            cucumber.serialize({"anchor": anchor}, debug=True)
        assert "debug=True" in str(plain.value)
        assert "dict['anchor']" in str(detailed.value)
    finally:
        anchor.close()
        point.close()


def test_how_to_deserialize_errors() -> None:
    from suitkaise import cucumber

    data = cucumber.serialize({"payload": Task(1)})
    with pytest.raises(cucumber.DeserializationError):
        cucumber.deserialize(data[: len(data) // 2])
    with pytest.raises(cucumber.DeserializationError):
        cucumber.deserialize(b"not cucumber data", debug=True)
    assert cucumber.deserialize(data, debug=True)["payload"].compute() == 1
    assert cucumber.deserialize(data, verbose=True)["payload"].compute() == 1


def test_how_to_reconnect_all_with_auth_and_threads() -> None:
    from suitkaise import cucumber

    done = threading.Event()

    class Service:
        def __init__(self) -> None:
            self.db = sqlite3.connect(":memory:")
            self.worker = threading.Thread(target=done.set)
            self.done = done

    auth = {
        "psycopg2.Connection": {
            "*": "default_psycopg2_password",
            "analytics_db": "analytics_password",
        },
        "redis.Redis": {"*": "default_redis_password"},
    }
    service = Service()
    restored = cucumber.deserialize(cucumber.serialize(service))
    restored = cucumber.reconnect_all(restored, start_threads=True, **auth)
    assert isinstance(restored.db, sqlite3.Connection)
    restored.worker.join(30)
    assert restored.done.is_set()
    service.db.close()
    restored.db.close()


def test_how_to_ir_round_trip_through_pickle() -> None:
    from suitkaise import cucumber

    obj = {"user": Task(5), "roles": ["admin", "editor"]}
    ir = cucumber.serialize_ir(obj)
    data = pickle.dumps(ir)
    restored = cucumber.deserialize_ir(ir)
    assert restored["user"].compute() == 25
    assert cucumber.deserialize_ir(pickle.loads(data))["roles"] == ["admin", "editor"]
    assert cucumber.serialize_ir(obj, debug=True, verbose=False) == ir


def test_how_to_json_conversion() -> None:
    from suitkaise import cucumber

    obj = {1: "int key", "bytes": b"\x00", "nested": {"a": (1, 2)}}
    jsonable = cucumber.to_jsonable(obj)
    assert json.loads(json.dumps(jsonable)) == jsonable
    assert jsonable["__cucumber_type__"] == "dict"
    json_text = cucumber.to_json(obj)
    assert json.loads(json_text) == jsonable
    assert json_text == json.dumps(jsonable, indent=2, sort_keys=True)
    assert cucumber.to_json(obj, indent=None, sort_keys=False, debug=True, verbose=False)
    ir = cucumber.serialize_ir(obj)
    assert cucumber.ir_to_jsonable(ir) == jsonable
    assert cucumber.ir_to_json(ir) == json_text
    assert json.loads(cucumber.ir_to_json(ir, indent=None, sort_keys=False)) == jsonable
    assert cucumber.to_jsonable(obj, debug=True, verbose=False) == jsonable


def test_how_to_crossing_language_boundaries(tmp_path: Path) -> None:
    from suitkaise import cucumber

    counter = Counter()
    jsonable = cucumber.to_jsonable(counter)
    with open(tmp_path / "counter.json", "w") as f:
        json.dump(jsonable, f)
    loaded = json.loads((tmp_path / "counter.json").read_text())
    assert loaded["__cucumber_type__"]
    assert loaded["__handler__"]
    assert "Counter" in json.dumps(loaded)


# ---------------------------------------------------------------- cucumber-supported-types.md


class Color(enum.Enum):
    RED = 1


class Point(typing.NamedTuple):
    x: int
    y: int


Pair = collections.namedtuple("Pair", "a b")


def _same(a: Any, b: Any) -> bool:
    return bool(a == b)


SUPPORTED: list[tuple[str, Callable[[], Any], Callable[[Any, Any], bool]]] = [
    ("None", lambda: None, _same),
    ("bool", lambda: True, _same),
    ("int", lambda: 10**30, _same),
    ("float", lambda: 1.5, _same),
    ("str", lambda: "text", _same),
    ("bytes", lambda: b"\x00\xff", _same),
    ("list/tuple/set/frozenset/dict", lambda: [(1,), {2}, frozenset({3}), {"k": 4}], _same),
    (
        "datetime",
        lambda: datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc),
        _same,
    ),
    (
        "date/time/timedelta",
        lambda: (datetime.date(2024, 1, 2), datetime.time(3, 4), datetime.timedelta(5)),
        _same,
    ),
    (
        "Decimal/Fraction/UUID",
        lambda: (decimal.Decimal("1.10"), fractions.Fraction(1, 3), uuid.UUID(int=5)),
        _same,
    ),
    ("pathlib", lambda: (pathlib.Path("/tmp/x"), pathlib.PurePath("a/b")), _same),
    ("functools.partial", lambda: functools.partial(int, base=2), lambda a, b: b("101") == 5),
    ("type", lambda: Task, lambda a, b: b(3).compute() == 9),
    ("logging.Logger", lambda: logging.getLogger("compat.cucumber"), lambda a, b: b.name == a.name),
    ("threading.Lock", threading.Lock, lambda a, b: b.acquire(timeout=1)),
    ("threading.Event", threading.Event, lambda a, b: not b.is_set()),
    ("io.StringIO", lambda: io.StringIO("abc"), lambda a, b: b.getvalue() == "abc"),
    ("io.BytesIO", lambda: io.BytesIO(b"abc"), lambda a, b: b.getvalue() == b"abc"),
    ("queue.Queue", lambda: _filled_queue(), lambda a, b: b.get_nowait() == 1),
    ("re.Pattern", lambda: re.compile(r"a+b"), lambda a, b: b.match("aab") is not None),
    ("range", lambda: range(1, 10, 2), _same),
    ("enum.Enum", lambda: Color.RED, lambda a, b: b is Color.RED),
    ("namedtuple / NamedTuple", lambda: (Pair(1, 2), Point(3, 4)), _same),
    ("memoryview", lambda: memoryview(b"abc"), lambda a, b: bytes(b) == b"abc"),
    ("generator -> iterator", lambda: (i for i in range(3)), lambda a, b: list(b) == [0, 1, 2]),
    (
        "property / staticmethod / classmethod",
        lambda: (property(len), staticmethod(len), classmethod(len)),
        lambda a, b: b[0].fget is len,
    ),
]


def _filled_queue() -> queue.Queue[int]:
    q: queue.Queue[int] = queue.Queue()
    q.put(1)
    return q


@pytest.mark.parametrize(("name", "make", "check"), SUPPORTED, ids=[row[0] for row in SUPPORTED])
def test_supported_types_round_trip(
    name: str, make: Callable[[], Any], check: Callable[[Any, Any], bool]
) -> None:
    from suitkaise import cucumber

    original = make()
    restored = cucumber.deserialize(cucumber.serialize(original))
    assert check(make() if name.startswith("generator") else original, restored), name


def test_supported_types_reconnectors() -> None:
    import socket
    import subprocess
    import sys

    from suitkaise import cucumber

    match = re.match(r"a(b)", "abc")
    sock = socket.socket()
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait(30)
    try:
        restored = cucumber.deserialize(cucumber.serialize([match, sock, proc]))
        assert isinstance(restored[0], cucumber.MatchReconnector)
        assert isinstance(restored[1], cucumber.SocketReconnector)
        assert isinstance(restored[2], cucumber.SubprocessReconnector)
        assert restored[0].group(1) == "b"  # lazily reconnected on first access
    finally:
        sock.close()
