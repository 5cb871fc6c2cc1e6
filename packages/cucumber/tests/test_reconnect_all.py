"""reconnect_all: replacement in every container, shared placeholders, failures, threads."""

from __future__ import annotations

import threading
import warnings
from typing import Any, NamedTuple

import pytest

import cucumber
from cucumber import Reconnector


class Flaky(Reconnector):
    type_key = "tests.Flaky"

    def __init__(self, fail: bool) -> None:
        self.fail = fail
        self.calls = 0

    def reconnect(self, auth: Any = None) -> Any:
        self.calls += 1
        if self.fail:
            raise ConnectionError("server unreachable")
        return ("live", auth)


class Pair(NamedTuple):
    a: Any
    b: Any


class Holder:
    __slots__ = ("slot",)

    def __init__(self, value: Any) -> None:
        self.slot = value


def test_replaces_in_dicts_lists_tuples_sets_attributes_and_slots() -> None:
    rc = Flaky(False)
    graph: dict[str, Any] = {
        "list": [rc],
        "tuple": (1, rc),
        "named": Pair(rc, 2),
        "set": {rc},
        "slots": Holder(rc),
    }
    out = cucumber.reconnect_all(graph, **{"tests.Flaky": "pw"})
    assert out is graph
    assert graph["list"][0][0] == "live"
    assert graph["tuple"][1][0] == "live"
    assert isinstance(graph["named"], Pair)
    assert graph["named"].a[0] == "live"
    assert next(iter(graph["set"]))[0] == "live"
    assert graph["slots"].slot[0] == "live"
    assert rc.calls == 1  # one placeholder shared in five places opens one resource


def test_auth_star_and_attribute_names() -> None:
    class Obj:
        def __init__(self) -> None:
            self.primary = Flaky(False)
            self.special = Flaky(False)

    out = cucumber.reconnect_all(Obj(), **{"tests.Flaky": {"*": "default", "special": "other"}})
    assert out.primary == ("live", "default")
    assert out.special == ("live", "other")


def test_a_failed_reconnect_leaves_the_placeholder_and_warns() -> None:
    bad, good = Flaky(True), Flaky(False)
    graph = {"bad": bad, "good": good}
    with pytest.warns(RuntimeWarning, match="could not reconnect .*server unreachable"):
        cucumber.reconnect_all(graph)
    assert graph["bad"] is bad
    assert graph["good"][0] == "live"


def test_top_level_reconnector_is_replaced() -> None:
    assert cucumber.reconnect_all(Flaky(False)) == ("live", None)


def test_cycles_do_not_loop() -> None:
    graph: dict[str, Any] = {"rc": Flaky(False)}
    graph["self"] = graph
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cucumber.reconnect_all(graph)
    assert graph["rc"][0] == "live"


@pytest.mark.timeout(60)
def test_start_threads() -> None:
    done = threading.Event()
    thread = threading.Thread(target=done.set, name="setter")
    back = cucumber.deserialize(cucumber.serialize({"t": thread, "done": done}))
    assert isinstance(back["t"], cucumber.ThreadReconnector)
    live = cucumber.reconnect_all(back, start_threads=True)
    live["t"].join(30)
    assert live["done"].is_set()  # the target was the rebuilt event, shared through the payload


def test_threads_are_not_started_by_default() -> None:
    thread = threading.Thread(target=print, name="idle")
    live = cucumber.reconnect_all(cucumber.deserialize(cucumber.serialize(thread)))
    assert isinstance(live, threading.Thread)
    assert not live.is_alive()
    assert live.name == "idle"


def test_a_reconnector_without_secret_opens_on_first_use() -> None:
    import pickle
    import re
    import sqlite3

    conn = sqlite3.connect(":memory:")
    conn.execute("create table t (x)")
    conn.execute("insert into t values (7)")
    back = cucumber.deserialize(cucumber.serialize(conn))
    assert isinstance(back, cucumber.SQLiteConnectionReconnector)
    assert back.execute("select x from t").fetchone() == (7,)  # reconnects once, then forwards
    assert back.execute("select count(*) from t").fetchone() == (1,)
    with pytest.raises(AttributeError, match="reconnect"):
        back._private_name  # noqa: B018
    conn.close()

    match = cucumber.deserialize(cucumber.serialize(re.match("a(b)", "abc")))
    assert isinstance(match, cucumber.MatchReconnector)
    assert match.group(1) == "b"
    again = pickle.loads(pickle.dumps(match))
    assert "_opened_on_use" not in again.__dict__  # the opened resource does not travel
    assert again.group(1) == "b"


def test_a_database_client_needing_a_password_does_not_open_on_use() -> None:
    placeholder = cucumber.DbReconnector("redis", "redis.Redis", {"host": "127.0.0.1", "port": 1})
    with pytest.raises(AttributeError, match="reconnect"):
        placeholder.ping  # noqa: B018
