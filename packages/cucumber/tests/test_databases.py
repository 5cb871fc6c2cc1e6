"""Database clients: sqlite reconnectors and third-party clients recognised by name, without secrets."""

from __future__ import annotations

import sqlite3
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cucumber_support_cases import FakePsycopg2Connection, FakeRedis

import cucumber
from cucumber import DbReconnector, SQLiteConnectionReconnector


def test_memory_database_keeps_rows_after_reconnect_all() -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER)")
    conn.executemany("INSERT INTO t VALUES (?, ?)", [("a", 1), ("b", 2)])
    conn.commit()
    back = cucumber.deserialize(cucumber.serialize({"db": conn}))
    conn.close()
    assert isinstance(back["db"], SQLiteConnectionReconnector)
    live = cucumber.reconnect_all(back)
    try:
        assert live["db"].execute("SELECT k, v FROM t ORDER BY k").fetchall() == [
            ("a", 1),
            ("b", 2),
        ]
    finally:
        live["db"].close()


def test_file_database_reopens_by_path(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (x)")
    conn.execute("INSERT INTO t VALUES (42)")
    conn.commit()
    rc = cucumber.deserialize(cucumber.serialize(conn))
    conn.close()
    assert rc.path == str(path)
    assert rc.script is None  # the file is reopened, its contents are not copied
    live = rc.reconnect()
    try:
        assert live.execute("SELECT x FROM t").fetchall() == [(42,)]
    finally:
        live.close()


def test_password_never_written() -> None:
    data = cucumber.serialize({"pg": FakePsycopg2Connection(), "cache": FakeRedis()})
    assert b"s3cr3t" not in data
    back = cucumber.deserialize(data)
    assert isinstance(back["pg"], DbReconnector)
    assert back["pg"].params == {
        "host": "db.example",
        "port": "5432",
        "dbname": "shop",
        "user": "alice",
    }
    assert back["cache"].params["host"] == "cache.example"
    assert "password" not in back["cache"].params


def test_password_inside_a_url_is_scrubbed() -> None:
    class Engine:
        def __init__(self) -> None:
            self.url = types.SimpleNamespace(
                render_as_string=lambda hide_password=True: "postgresql://bob:***@h:5432/app"
            )

    Engine.__module__ = "sqlalchemy.engine.base"
    data = cucumber.serialize(Engine())
    rc = cucumber.deserialize(data)
    assert rc.type_key == "sqlalchemy.Engine"
    assert rc.params["url"] == "postgresql://bob@h:5432/app"


@pytest.fixture
def fake_psycopg2() -> Iterator[list[dict[str, Any]]]:
    """A stand-in ``psycopg2`` module whose ``connect`` records its arguments."""
    calls: list[dict[str, Any]] = []
    module = types.ModuleType("psycopg2")

    def connect(**kwargs: Any) -> Any:
        calls.append(kwargs)
        return types.SimpleNamespace(kind="live connection", **kwargs)

    module.connect = connect  # type: ignore[attr-defined]
    sys.modules["psycopg2"] = module
    yield calls
    del sys.modules["psycopg2"]


class Service:
    def __init__(self) -> None:
        self.main_db = FakePsycopg2Connection()
        self.analytics_db = FakePsycopg2Connection()


def test_reconnect_all_uses_auth_per_type_and_attribute(
    fake_psycopg2: list[dict[str, Any]],
) -> None:
    back = cucumber.deserialize(cucumber.serialize(Service()))
    live = cucumber.reconnect_all(
        back,
        **{"psycopg2.Connection": {"*": "default_password", "analytics_db": "analytics_secret"}},
    )
    assert live.main_db.kind == "live connection"
    assert live.main_db.password == "default_password"
    assert live.analytics_db.password == "analytics_secret"
    assert live.main_db.host == "db.example"
    assert len(fake_psycopg2) == 2


def test_reconnect_with_mapping_overrides_options(fake_psycopg2: list[dict[str, Any]]) -> None:
    rc = cucumber.deserialize(cucumber.serialize(FakePsycopg2Connection()))
    live = rc.reconnect({"password": "pw", "host": "replica.example"})
    assert (live.host, live.password) == ("replica.example", "pw")
