"""Every client cucumber recognises by name (psycopg 3, pymysql, pymongo, duckdb) becomes a
``DbReconnector`` with its non-secret options only; values that cannot travel are dropped."""

from __future__ import annotations

import sqlite3
import types
from typing import Any

import cucumber
from cucumber import DbReconnector


def _named(module: str, name: str, cls: type) -> type:
    """Make ``cls`` look like ``module.name`` of a driver that is not installed here."""
    cls.__module__ = module
    cls.__name__ = cls.__qualname__ = name
    return cls


def _round_trip(obj: Any) -> DbReconnector:
    data = cucumber.serialize(obj)
    assert b"s3cr3t" not in data
    back = cucumber.deserialize(data)
    assert isinstance(back, DbReconnector)
    return back


def test_psycopg3_connection_keeps_its_parameters_but_not_the_password() -> None:
    class Conn:
        def __init__(self) -> None:
            params = {"host": "pg.example", "port": "5432", "password": "s3cr3t", "user": "ann"}
            self.info = types.SimpleNamespace(get_parameters=lambda: dict(params))

    back = _round_trip(_named("psycopg.connection", "Connection", Conn)())
    assert (back.driver, back.type_key) == ("psycopg", "psycopg.Connection")
    assert back.params == {"host": "pg.example", "port": "5432", "user": "ann"}


def test_psycopg2_connection_without_get_dsn_parameters_reads_info() -> None:
    class Conn:
        def __init__(self) -> None:
            self.info = types.SimpleNamespace(
                dsn_parameters={"host": "old.example", "dbname": "shop", "password": "s3cr3t"}
            )

    back = _round_trip(_named("psycopg2.extensions", "connection", Conn)())
    assert back.params == {"host": "old.example", "dbname": "shop"}


def test_pymysql_connection_attributes_become_options() -> None:
    class Conn:
        def __init__(self) -> None:
            self.host = "mysql.example"
            self.port = 3306
            self.user = b"bob"  # pymysql keeps bytes: sent as text
            self.db = None  # no database chosen: left out
            self.charset = "utf8mb4"
            self.password = b"s3cr3t"

    back = _round_trip(_named("pymysql.connections", "Connection", Conn)())
    assert back.driver == "pymysql"
    assert back.params == {
        "host": "mysql.example",
        "port": 3306,
        "user": "bob",
        "charset": "utf8mb4",
    }


def test_pymongo_client_with_several_hosts_and_a_secret_in_the_url() -> None:
    class Client:
        def __init__(self) -> None:
            self._init_kwargs = {
                "host": ["mongodb://root:s3cr3t@a.example", "b.example"],
                "port": 27017,
                "authSource": "admin",
                "tls": True,
                "password": "s3cr3t",
            }

    back = _round_trip(_named("pymongo.mongo_client", "MongoClient", Client)())
    assert back.type_key == "pymongo.MongoClient"
    assert back.params["port"] == 27017
    assert back.params["authSource"] == "admin"
    assert back.params["tls"] is True
    assert "s3cr3t" not in back.params["host"]
    assert back.params["host"].endswith("a.example,b.example")


def test_duckdb_connection_remembers_its_database_file() -> None:
    class Conn:
        def __init__(self, rows: list[tuple[int, str, str]]) -> None:
            self.rows = rows

        def execute(self, sql: str) -> Any:
            assert sql == "PRAGMA database_list"
            return types.SimpleNamespace(fetchall=lambda: self.rows)

    cls = _named("duckdb", "DuckDBPyConnection", Conn)
    assert _round_trip(cls([(0, "main", "/data/x.duckdb")])).params == {
        "database": "/data/x.duckdb"
    }
    assert _round_trip(cls([])).params == {"database": ":memory:"}


def test_duckdb_connection_that_cannot_answer_is_in_memory() -> None:
    class Closed:
        def execute(self, sql: str) -> Any:
            raise sqlite3.ProgrammingError("closed")

    back = _round_trip(_named("duckdb", "DuckDBPyConnection", Closed)())
    assert back.params == {"database": ":memory:"}


def test_subclass_of_a_known_client_is_recognised_under_both_names() -> None:
    base = _named("redis.client", "Redis", type("Base", (), {}))

    class MyRedis(base):  # type: ignore[misc, valid-type]
        def __init__(self) -> None:
            self.connection_pool = types.SimpleNamespace(
                connection_kwargs={"host": "r.example", "password": "s3cr3t"}
            )

    back = _round_trip(MyRedis())
    assert back.type_key == "redis.Redis"
    assert len(back.aliases) == 1
    assert back.aliases[0].endswith("MyRedis")
    assert back.params == {"host": "r.example"}
