"""Database connections: sqlite3 (reopened, or carried when in memory) and third-party clients.

Third-party clients are recognised by module and class name, never by importing their library;
they become a :class:`DbReconnector` with host, port, database and user, never the password.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import sqlite3

from cucumber._private import registry
from cucumber._private.reconnectors import (
    SECRET_NAMES,
    DbReconnector,
    SQLiteConnectionReconnector,
    SQLiteCursorReconnector,
    _scrub_url,
)

__all__ = ["DRIVERS", "install"]


def _safe(params: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in params.items():
        if key.lower() in SECRET_NAMES or value is None:
            continue
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        if isinstance(value, str):
            value = _scrub_url(value)
        if isinstance(value, (str, int, float, bool)):
            out[key] = value
    return out


def _psycopg2_params(conn: Any) -> dict[str, Any]:
    getter = getattr(conn, "get_dsn_parameters", None)
    params = dict(getter()) if getter is not None else dict(conn.info.dsn_parameters)
    return _safe(params)


def _psycopg_params(conn: Any) -> dict[str, Any]:
    return _safe(dict(conn.info.get_parameters()))


def _attrs(conn: Any, names: dict[str, str]) -> dict[str, Any]:
    return _safe({arg: getattr(conn, attr, None) for arg, attr in names.items()})


def _pymysql_params(conn: Any) -> dict[str, Any]:
    return _attrs(
        conn,
        {"host": "host", "port": "port", "user": "user", "database": "db", "charset": "charset"},
    )


def _redis_params(client: Any) -> dict[str, Any]:
    pool = getattr(client, "connection_pool", None)
    kwargs = dict(getattr(pool, "connection_kwargs", {}) or {})
    keep = (
        "host",
        "port",
        "db",
        "username",
        "path",
        "ssl",
        "socket_timeout",
        "decode_responses",
        "encoding",
    )
    return _safe({k: kwargs.get(k) for k in keep})


def _pymongo_params(client: Any) -> dict[str, Any]:
    init = dict(getattr(client, "_init_kwargs", {}) or {})
    host = init.get("host")
    if isinstance(host, (list, tuple)):
        host = ",".join(map(str, host))
    params = {"host": host, "port": init.get("port")}
    for key in ("username", "authSource", "replicaset", "tls"):
        if key in init:
            params[key] = init[key]
    return _safe(params)


def _sqlalchemy_params(engine: Any) -> dict[str, Any]:
    url = engine.url
    text = (
        url.render_as_string(hide_password=True) if hasattr(url, "render_as_string") else str(url)
    )
    text = text.replace(":***@", "@")
    return {"url": _scrub_url(text)}


def _duckdb_params(conn: Any) -> dict[str, Any]:
    try:
        rows = conn.execute("PRAGMA database_list").fetchall()
        path = next((row[2] for row in rows if row[1] in ("main", "memory")), None)
    except Exception:
        path = None
    return {"database": path or ":memory:"}


#: (top-level module, class name) -> (driver, type key, extractor)
DRIVERS: dict[tuple[str, str], tuple[str, str, Callable[[Any], dict[str, Any]]]] = {
    ("psycopg2", "connection"): ("psycopg2", "psycopg2.Connection", _psycopg2_params),
    ("psycopg", "Connection"): ("psycopg", "psycopg.Connection", _psycopg_params),
    ("pymysql", "Connection"): ("pymysql", "pymysql.Connection", _pymysql_params),
    ("redis", "Redis"): ("redis", "redis.Redis", _redis_params),
    ("redis", "StrictRedis"): ("redis", "redis.Redis", _redis_params),
    ("pymongo", "MongoClient"): ("pymongo", "pymongo.MongoClient", _pymongo_params),
    ("sqlalchemy", "Engine"): ("sqlalchemy", "sqlalchemy.Engine", _sqlalchemy_params),
    ("duckdb", "DuckDBPyConnection"): ("duckdb", "duckdb.DuckDBPyConnection", _duckdb_params),
}


def _reduce_db(
    driver: str,
    key: str,
    extract: Callable[[Any], dict[str, Any]],
    aliases: tuple[str, ...],
    _pickler: Any,
    obj: Any,
) -> Any:
    return DbReconnector, (driver, key, extract(obj), aliases)


def _db_recogniser(t: type) -> registry.Handler | None:
    for base in getattr(t, "__mro__", (t,)):
        module = getattr(base, "__module__", "") or ""
        top = module.split(".", 1)[0]
        entry = DRIVERS.get((top, base.__name__))
        if entry is None:
            continue
        driver, key, extract = entry
        full_key = registry.type_key(t)
        aliases = (full_key,) if full_key != key else ()

        handler = functools.partial(_reduce_db, driver, key, extract, aliases)
        return registry.Handler(f"{key} -> DbReconnector (no password)", handler)
    return None


def _sqlite_connection(conn: sqlite3.Connection) -> Any:
    import sqlite3  # loaded: conn is one of its objects

    path: str | None = None
    try:
        for _seq, name, file in conn.execute("PRAGMA database_list"):
            if name == "main":
                path = file or None
    except sqlite3.ProgrammingError:  # closed connection
        return SQLiteConnectionReconnector, (None, None, None)
    script = None if path else "\n".join(conn.iterdump())
    return SQLiteConnectionReconnector, (path, script, conn.isolation_level)


def install() -> None:
    """Register the database handlers."""
    # by name: a program that never imports sqlite3 does not load it here
    registry.add_builtin_by_name(
        "sqlite3",
        ("Connection",),
        "sqlite3.Connection -> SQLiteConnectionReconnector",
        lambda _p, obj: _sqlite_connection(obj),
    )
    registry.add_builtin_by_name(
        "sqlite3",
        ("Cursor",),
        "sqlite3.Cursor -> SQLiteCursorReconnector",
        lambda _p, obj: (SQLiteCursorReconnector, (obj.connection, obj.arraysize)),
    )
    registry.add_recogniser(_db_recogniser)
