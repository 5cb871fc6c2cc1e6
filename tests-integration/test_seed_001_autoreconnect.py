"""Seed 001, section ``autoreconnect``: both examples, with fake ``psycopg2``/``redis`` clients.

cucumber recognises database clients by module and class name, so the fakes in ``kit_fake_drivers/``
(put on ``sys.path`` only for these tests) take the same path a real client does: serialized as a
``DbReconnector`` without the password, reconnected in the child with the auth given to ``@autoreconnect``.
"""

from __future__ import annotations

import sqlite3
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kit_examples_workers as w
import pytest

from suitkaise import cucumber
from suitkaise.processing import Skprocess, autoreconnect

pytestmark = pytest.mark.timeout(120)

FAKES = Path(__file__).parent / "kit_fake_drivers"


@pytest.fixture
def fake_drivers(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.syspath_prepend(str(FAKES))  # children started now inherit this path
    try:
        yield
    finally:
        for name in ("psycopg2", "redis"):
            sys.modules.pop(name, None)


@autoreconnect(
    start_threads=True,
    **{
        "psycopg2.Connection": {"*": "secret"},
        "redis.Redis": {"*": "redis_pass"},
    },
)
class MyProcess(Skprocess):
    def __init__(self, db_connection: Any, cache_connection: Any) -> None:
        self.db = db_connection
        self.cache = cache_connection

    def __run__(self) -> None:
        # db and cache are automatically reconnected
        self.tell((self.db.execute("select 1"), self.cache.get("key")))


@pytest.mark.usefixtures("fake_drivers")
def test_first_example_reconnects_db_and_cache_with_their_auth() -> None:
    import psycopg2  # the fake
    import redis

    db = psycopg2.connect(host="db.local", port=5432, dbname="app", user="me", password="hunter2")
    cache = redis.Redis(host="cache.local", port=6379, password="cache-secret")
    process = MyProcess(db, cache)

    data = cucumber.serialize(process)
    assert b"hunter2" not in data  # the password never travels
    assert b"cache-secret" not in data

    process.start()
    try:
        executed, got = process.listen(timeout=60)
    finally:
        process.stop()
        assert process.wait(timeout=60)
    assert executed == ("select 1", "app", "secret")  # reconnected with the "*" auth
    assert got == "key@cache.local:6379 auth=redis_pass"


@autoreconnect(
    **{
        "psycopg2.Connection": {
            "*": "default_password",  # default for all psycopg2 connections
            "analytics_db": "analytics_secret",  # specific override for analytics_db attr
        },
    }
)
class MultiProcess(Skprocess):
    def __init__(self) -> None:
        import psycopg2

        self.main_db = psycopg2.connect(dbname="main", password="x")  # uses "*" auth
        self.analytics_db = psycopg2.connect(
            dbname="analytics", password="y"
        )  # "analytics_db" auth
        self.process_config.runs = 1

    def __run__(self) -> None:
        self.seen = (self.main_db.execute("q1"), self.analytics_db.execute("q2"))

    def __result__(self) -> Any:
        return self.seen


@pytest.mark.usefixtures("fake_drivers")
def test_multiple_connections_default_and_per_attribute_auth() -> None:
    main, analytics = MultiProcess().run()
    assert main == ("q1", "main", "default_password")
    assert analytics == ("q2", "analytics", "analytics_secret")


# --- a real resource: sqlite ------------------------------------------------------------------------


@autoreconnect()
class SqliteWriter(Skprocess):
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self.process_config.runs = 3

    def __run__(self) -> None:
        self.db.execute("insert into t values (?)", (self.current_run,))
        self.db.commit()

    def __result__(self) -> list[int]:
        rows = [r[0] for r in self.db.execute("select x from t order by x")]
        self.db.close()
        return rows


def test_sqlite_file_connection_is_live_in_the_child(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "data.db")
    db.execute("create table t (x integer)")
    db.commit()
    try:
        assert SqliteWriter(db).run() == [0, 1, 2]
        assert [r[0] for r in db.execute("select x from t order by x")] == [0, 1, 2]
    finally:
        db.close()


# --- start_threads ----------------------------------------------------------------------------------


@autoreconnect(start_threads=True)
class WithThread(Skprocess):
    def __init__(self, marker: str) -> None:
        self.worker = threading.Thread(target=w.write_marker, args=(marker,), daemon=True)
        self.process_config.runs = 1

    def __run__(self) -> None:
        self.worker.join(60)

    def __result__(self) -> bool:
        return not self.worker.is_alive()


def test_start_threads_starts_a_deserialized_thread(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    assert WithThread(str(marker)).run() is True
    assert marker.read_text() == "written by the thread"
