"""@autoreconnect: live resources of an Skprocess are reconnected in the child before __prerun__."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

import cucumber
from suitkaise_processing import Skprocess, autoreconnect


class FakeClientReconnector(cucumber.Reconnector):
    """Stands in for a database client placeholder: reconnecting returns what auth it got."""

    type_key = "fakedb.Connection"

    def __init__(self, name: str) -> None:
        self.name = name

    def reconnect(self, auth: Any = None) -> dict[str, Any]:
        return {"client": self.name, "auth": auth}


@autoreconnect(
    start_threads=True,
    **{
        "fakedb.Connection": {
            "*": "default_password",  # default for all fakedb connections
            "analytics_db": "analytics_secret",  # specific override for the analytics_db attr
        },
    },
)
class MultiConnections(Skprocess):
    def __init__(self) -> None:
        self.main_db = FakeClientReconnector("main")
        self.analytics_db = FakeClientReconnector("analytics")
        self.process_config.runs = 1
        self.seen_in_prerun: Any = None

    def __prerun__(self) -> None:
        self.seen_in_prerun = (self.main_db, self.analytics_db)

    def __run__(self) -> None:
        pass

    def __result__(self) -> Any:
        return self.seen_in_prerun


@pytest.mark.timeout(60)
def test_reconnected_before_prerun_with_default_and_per_attribute_auth() -> None:
    main, analytics = MultiConnections().run()
    assert main == {"client": "main", "auth": "default_password"}
    assert analytics == {"client": "analytics", "auth": "analytics_secret"}


@autoreconnect()
class UsesSqlite(Skprocess):
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self.process_config.runs = 2

    def __run__(self) -> None:
        self.db.execute("INSERT INTO t VALUES (?)", (self.current_run,))
        self.db.commit()

    def __result__(self) -> list[int]:
        rows = [r[0] for r in self.db.execute("SELECT x FROM t ORDER BY x")]
        self.db.close()
        return rows


class NoAutoreconnect(Skprocess):
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self.process_config.runs = 1

    def __run__(self) -> None:
        pass

    def __result__(self) -> str:
        return type(self.db).__name__


@pytest.mark.timeout(60)
def test_sqlite_connection_is_live_again_in_the_child(tmp_path: Path) -> None:
    path = tmp_path / "data.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE t (x INTEGER)")
    db.commit()
    try:
        assert UsesSqlite(db).run() == [0, 1]
        # without the decorator the child sees the placeholder
        assert NoAutoreconnect(db).run() == "SQLiteConnectionReconnector"
    finally:
        db.close()


def test_autoreconnect_rejects_bad_use() -> None:
    with pytest.raises(TypeError, match="dict"):
        autoreconnect(**{"fakedb.Connection": "not a dict"})
    with pytest.raises(TypeError, match="Skprocess"):
        autoreconnect()(int)
