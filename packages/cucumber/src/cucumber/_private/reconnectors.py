"""``Reconnector`` placeholders: what a live resource becomes when it crosses a process boundary.

A Reconnector carries what is needed to open the resource again (never a secret) and its
``reconnect(auth=None)`` opens it. :func:`cucumber.reconnect_all` replaces every Reconnector in an
object graph with the live resource.
"""

from __future__ import annotations

import importlib
import os
import re
import socket
import subprocess
import threading
from collections.abc import Callable, Mapping
from typing import Any

__all__ = [
    "DbReconnector",
    "MatchReconnector",
    "PipeReconnector",
    "Reconnector",
    "SQLiteConnectionReconnector",
    "SQLiteCursorReconnector",
    "SocketReconnector",
    "SubprocessReconnector",
    "ThreadReconnector",
]


class Reconnector:
    """Placeholder for a live resource (connection, socket, thread, ...) that was serialized.

    ``type_key`` is the ``"module.ClassName"`` of the original resource; ``auth`` mappings given to
    :func:`cucumber.reconnect_all` are looked up by it (and by the names in ``aliases``).
    Subclasses implement :meth:`reconnect`.
    """

    type_key: str = "?"
    aliases: tuple[str, ...] = ()
    #: Whether using the placeholder like the resource opens it (no secret needed): ``r.execute(...)``
    #: on a restored sqlite connection reconnects once, as suitkaise 0.4 did. Database clients that
    #: need a password say ``False`` and wait for ``reconnect(auth)`` / ``reconnect_all``.
    lazy: bool = True

    def __getattr__(self, name: str) -> Any:
        # Only reached for names the placeholder itself does not have.
        if name.startswith("_") or not type(self).lazy:
            raise AttributeError(
                f"{type(self).__name__} has no attribute {name!r}: call reconnect() (or "
                "cucumber.reconnect_all) to get the live resource"
            )
        live = self.__dict__.get("_opened_on_use")
        if live is None:
            live = self.reconnect()
            self.__dict__["_opened_on_use"] = live
        return getattr(live, name)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_opened_on_use", None)  # a resource opened on use does not travel
        return state

    def auth_keys(self) -> tuple[str, ...]:
        """Keys under which ``reconnect_all(**auth)`` looks up secrets for this resource."""
        return (self.type_key, *self.aliases)

    def reconnect(self, auth: Any = None) -> Any:
        """Open the resource again and return it (``auth``: a secret or a mapping of options)."""
        raise NotImplementedError(f"{type(self).__name__} does not implement reconnect()")

    def _describe(self) -> str:
        return ""

    def __repr__(self) -> str:
        detail = self._describe()
        return f"<{type(self).__name__} for {self.type_key}{': ' + detail if detail else ''}>"


# --------------------------------------------------------------------------- databases


def _scrub_url(value: str) -> str:
    """Remove a password from a URL-like string (``scheme://user:secret@host``)."""
    return re.sub(r"(://[^:/@\s]*):[^@/\s]*@", r"\1@", value)


#: Connection parameters that are never written, whatever the driver calls them.
SECRET_NAMES = frozenset(
    {
        "password",
        "passwd",
        "pass",
        "pwd",
        "secret",
        "token",
        "api_key",
        "apikey",
        "access_token",
        "auth",
        "credentials",
    }
)


class DbReconnector(Reconnector):
    """Placeholder for a database client (psycopg2/psycopg, pymysql, redis, pymongo, sqlalchemy,
    duckdb, ...): carries the driver, host, port, database, user and other non-secret options,
    never the password. ``reconnect(auth)`` calls the driver with the options plus the password
    (``auth`` is the password string, or a mapping of options that override the stored ones).
    """

    lazy = False  # most servers need the password: reconnect(auth) or reconnect_all(**auth)

    def __init__(
        self, driver: str, type_key: str, params: Mapping[str, Any], aliases: tuple[str, ...] = ()
    ) -> None:
        self.driver = driver
        self.type_key = type_key
        self.aliases = aliases
        self.params = {k: v for k, v in params.items() if k.lower() not in SECRET_NAMES}

    def _describe(self) -> str:
        shown = {
            k: self.params[k]
            for k in ("host", "port", "dbname", "database", "db", "user", "url")
            if k in self.params
        }
        return ", ".join(f"{k}={v!r}" for k, v in shown.items())

    def reconnect(self, auth: Any = None) -> Any:
        """Connect again through the driver, adding the password from ``auth``."""
        options = dict(self.params)
        if isinstance(auth, Mapping):
            options.update(auth)
        elif auth is not None:
            options[_PASSWORD_ARG.get(self.driver, "password")] = auth
        return _CONNECTORS[self.driver](options)


_PASSWORD_ARG = {"pymysql": "password", "redis": "password"}


def _connect_psycopg2(options: dict[str, Any]) -> Any:
    return importlib.import_module("psycopg2").connect(**options)


def _connect_psycopg(options: dict[str, Any]) -> Any:
    return importlib.import_module("psycopg").connect(**options)


def _connect_pymysql(options: dict[str, Any]) -> Any:
    return importlib.import_module("pymysql").connect(**options)


def _connect_redis(options: dict[str, Any]) -> Any:
    return importlib.import_module("redis").Redis(**options)


def _connect_pymongo(options: dict[str, Any]) -> Any:
    return importlib.import_module("pymongo").MongoClient(**options)


def _connect_sqlalchemy(options: dict[str, Any]) -> Any:
    sqlalchemy = importlib.import_module("sqlalchemy")
    url = sqlalchemy.engine.make_url(options.pop("url"))
    password = options.pop("password", None)
    if password is not None:
        url = url.set(password=password)
    return sqlalchemy.create_engine(url, **options)


def _connect_duckdb(options: dict[str, Any]) -> Any:
    return importlib.import_module("duckdb").connect(**options)


_CONNECTORS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "psycopg2": _connect_psycopg2,
    "psycopg": _connect_psycopg,
    "pymysql": _connect_pymysql,
    "redis": _connect_redis,
    "pymongo": _connect_pymongo,
    "sqlalchemy": _connect_sqlalchemy,
    "duckdb": _connect_duckdb,
}


class SQLiteConnectionReconnector(Reconnector):
    """Placeholder for a ``sqlite3.Connection``: a file database reopens by path; an in-memory
    database carries its contents (as SQL) and is rebuilt. Later calls to :meth:`reconnect`
    return the same connection (so cursors of it share it)."""

    type_key = "sqlite3.Connection"

    def __init__(self, path: str | None, script: str | None, isolation_level: str | None) -> None:
        self.path = path
        self.script = script
        self.isolation_level = isolation_level
        self._live: Any = None

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_live"] = None
        return state

    def _describe(self) -> str:
        return self.path if self.path else ":memory:"

    def reconnect(self, auth: Any = None) -> Any:
        """Open the database (or rebuild the in-memory one) and return the connection."""
        if self._live is None:
            import sqlite3

            level: Any = self.isolation_level
            conn = sqlite3.connect(self.path or ":memory:", isolation_level=level)
            if self.script:
                conn.executescript(self.script)
                conn.commit()
            self._live = conn
        return self._live


class SQLiteCursorReconnector(Reconnector):
    """Placeholder for a ``sqlite3.Cursor``: reconnects its connection and returns a new cursor
    (with the same ``arraysize``); rows not yet fetched are not carried."""

    type_key = "sqlite3.Cursor"

    def __init__(self, connection: SQLiteConnectionReconnector, arraysize: int) -> None:
        self.connection = connection
        self.arraysize = arraysize

    def reconnect(self, auth: Any = None) -> Any:
        """A new cursor on the reconnected connection."""
        conn = (
            self.connection.reconnect(auth)
            if isinstance(self.connection, Reconnector)
            else self.connection
        )
        cursor = conn.cursor()
        cursor.arraysize = self.arraysize
        return cursor


# --------------------------------------------------------------------------- OS resources


class SocketReconnector(Reconnector):
    """Placeholder for a ``socket.socket``: family, type, protocol, timeout and the addresses.
    ``reconnect()`` connects again to the peer (a connected socket), binds and listens again
    (a listening socket), or returns a new unconnected socket."""

    type_key = "socket.socket"

    def __init__(
        self,
        family: int,
        type_: int,
        proto: int,
        timeout: float | None,
        peer: Any,
        local: Any,
        listening: bool,
    ) -> None:
        self.family = family
        self.type = type_
        self.proto = proto
        self.timeout = timeout
        self.peer = peer
        self.local = local
        self.listening = listening

    def _describe(self) -> str:
        if self.peer is not None:
            return f"connected to {self.peer!r}"
        if self.listening:
            return f"listening on {self.local!r}"
        return "unconnected"

    def reconnect(self, auth: Any = None) -> socket.socket:
        """A new socket, connected or listening like the original."""
        sock = socket.socket(self.family, self.type, self.proto)
        try:
            sock.settimeout(self.timeout)
            if self.peer is not None:
                sock.connect(self.peer)
            elif self.listening and self.local is not None:
                sock.bind(self.local)
                sock.listen()
        except BaseException:
            sock.close()
            raise
        return sock


class PipeReconnector(Reconnector):
    """Placeholder for one end of an ``os.pipe()`` (or a FIFO) wrapped in a file object.

    A named FIFO reopens by path. An anonymous pipe cannot be joined from another process, so
    ``reconnect()`` makes a new pipe and returns the end with the same mode; the other end is then
    in :attr:`other_end`.
    """

    type_key = "os.pipe"

    def __init__(self, mode: str, path: str | None, text: bool, encoding: str | None) -> None:
        self.mode = mode
        self.path = path
        self.text = text
        self.encoding = encoding
        self.other_end: Any = None

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["other_end"] = None
        return state

    def _describe(self) -> str:
        return f"{'read' if 'r' in self.mode else 'write'} end" + (
            f" of {self.path}" if self.path else ""
        )

    def reconnect(self, auth: Any = None) -> Any:
        """The same end of a new pipe (or of the named FIFO)."""
        reading = "r" in self.mode
        suffix = "" if self.text else "b"
        if self.path is not None:
            return open(
                self.path,
                ("r" if reading else "w") + suffix,
                encoding=self.encoding if self.text else None,
            )
        r, w = os.pipe()
        read_end = os.fdopen(r, "r" + suffix, encoding=self.encoding if self.text else None)
        write_end = os.fdopen(w, "w" + suffix, encoding=self.encoding if self.text else None)
        if reading:
            self.other_end = write_end
            return read_end
        self.other_end = read_end
        return write_end


class SubprocessReconnector(Reconnector):
    """Placeholder for a ``subprocess.Popen``: the command, its pid and return code at the time
    it was serialized (``pid``, ``returncode``), and whether its streams were pipes.
    ``reconnect()`` starts the same command again (a process cannot be adopted by another one);
    the environment is not carried (it may hold secrets)."""

    type_key = "subprocess.Popen"

    def __init__(
        self,
        args: Any,
        pid: int,
        returncode: int | None,
        pipes: tuple[bool, bool, bool],
        text: bool,
    ) -> None:
        self.args = args
        self.pid = pid
        self.returncode = returncode
        self.pipes = pipes
        self.text = text

    def _describe(self) -> str:
        return f"{self.args!r} (pid {self.pid}, returncode {self.returncode})"

    def reconnect(self, auth: Any = None) -> subprocess.Popen[Any]:
        """Start the command again, with pipes where the original had them."""
        stdin, stdout, stderr = (subprocess.PIPE if p else None for p in self.pipes)
        return subprocess.Popen(
            self.args,
            stdin=stdin,
            stdout=stdout,
            stderr=stderr,
            text=self.text,
            shell=isinstance(self.args, str),
        )


class ThreadReconnector(Reconnector):
    """Placeholder for a ``threading.Thread`` (or subclass): target, arguments, name, daemon flag
    and the subclass's own attributes. ``reconnect(start=False)`` builds a new, not yet started
    thread (started when ``start`` is true; ``reconnect_all(start_threads=True)`` does that)."""

    type_key = "threading.Thread"

    def __init__(
        self,
        cls: type[Any],
        target: Any,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        name: str,
        daemon: bool,
        extra: dict[str, Any],
        was_alive: bool,
    ) -> None:
        self.cls = cls
        self.target = target
        self.args = args
        self.kwargs = kwargs
        self.name = name
        self.daemon = daemon
        self.extra = extra
        self.was_alive = was_alive

    def _describe(self) -> str:
        return f"{self.name!r}{' (was running)' if self.was_alive else ''}"

    def reconnect(self, auth: Any = None, *, start: bool = False) -> threading.Thread:
        """A new thread like the original; started when ``start`` is true."""
        cls: Any = self.cls
        thread: threading.Thread = cls.__new__(cls)
        threading.Thread.__init__(
            thread,
            target=self.target,
            name=self.name,
            args=self.args,
            kwargs=self.kwargs,
            daemon=self.daemon,
        )
        thread.__dict__.update(self.extra)
        if start:
            thread.start()
        return thread


class MatchReconnector(Reconnector):
    """Placeholder for a ``re.Match``: the pattern, the string, ``pos``/``endpos`` and the span.

    Its ``group()``, ``groups()``, ``groupdict()`` and ``span()`` answer without reconnecting;
    ``reconnect()`` runs the pattern again and returns a real ``re.Match`` with the same span.
    """

    type_key = "re.Match"

    def __init__(
        self,
        pattern: re.Pattern[Any],
        string: Any,
        pos: int,
        endpos: int,
        spans: tuple[tuple[int, int], ...],
        groupindex: dict[str, int],
    ) -> None:
        self.pattern = pattern
        self.string = string
        self.pos = pos
        self.endpos = endpos
        self.spans = spans
        self.groupindex = groupindex

    def _describe(self) -> str:
        return f"{self.pattern.pattern!r} at {self.spans[0]}"

    def _index(self, group: int | str) -> int:
        return self.groupindex[group] if isinstance(group, str) else group

    def span(self, group: int | str = 0) -> tuple[int, int]:
        """Like ``re.Match.span``."""
        return self.spans[self._index(group)]

    def group(self, group: int | str = 0) -> Any:
        """Like ``re.Match.group`` (one group)."""
        start, end = self.span(group)
        return None if start < 0 else self.string[start:end]

    def groups(self, default: Any = None) -> tuple[Any, ...]:
        """Like ``re.Match.groups``."""
        return tuple(
            default if self.spans[i][0] < 0 else self.group(i) for i in range(1, len(self.spans))
        )

    def groupdict(self, default: Any = None) -> dict[str, Any]:
        """Like ``re.Match.groupdict``."""
        return {
            name: (default if self.spans[i][0] < 0 else self.group(i))
            for name, i in self.groupindex.items()
        }

    def reconnect(self, auth: Any = None) -> re.Match[Any]:
        """Run the pattern again and return the match with the same span."""
        start = self.spans[0][0]
        first: re.Match[Any] | None = self.pattern.match(self.string, start, self.endpos)
        if first is not None and first.span() == self.spans[0]:
            return first
        match: re.Match[Any]
        for match in self.pattern.finditer(self.string, self.pos, self.endpos):
            if match.span() == self.spans[0]:
                return match
        raise ValueError(
            f"the pattern {self.pattern.pattern!r} no longer matches at {self.spans[0]}"
        )
