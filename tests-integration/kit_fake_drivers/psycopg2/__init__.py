"""A fake ``psycopg2``: ``connect(**options)`` returns a ``connection`` that remembers its options."""

from __future__ import annotations

import threading
from typing import Any


class connection:  # psycopg2's real class name
    """A live connection: holds a lock (so plain pickle refuses it, like a real one)."""

    def __init__(self, options: dict[str, Any]) -> None:
        self._options = dict(options)
        self._lock = threading.Lock()
        self.closed = 0

    def get_dsn_parameters(self) -> dict[str, Any]:
        """What psycopg2 reports: every option except the password."""
        return {k: v for k, v in self._options.items() if k != "password"}

    @property
    def password(self) -> Any:
        return self._options.get("password")

    def execute(self, sql: str) -> tuple[str, str, Any]:
        """Pretend to run ``sql``: returns which database ran it with which password."""
        return (sql, self._options.get("dbname", ""), self._options.get("password"))

    def close(self) -> None:
        self.closed = 1


def connect(**options: Any) -> connection:
    """Open a (fake) connection."""
    if "password" not in options:
        raise RuntimeError("fake psycopg2: password authentication failed (no password given)")
    return connection(options)
