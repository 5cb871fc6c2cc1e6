"""A fake ``redis``: ``Redis(**kwargs)`` with a ``connection_pool.connection_kwargs`` like the real one."""

from __future__ import annotations

import threading
from typing import Any


class _Pool:
    def __init__(self, kwargs: dict[str, Any]) -> None:
        self.connection_kwargs = kwargs
        self._lock = threading.Lock()


class Redis:
    """A client whose ``get(key)`` answers ``"<key>@<host>:<port> auth=<password>"``."""

    def __init__(self, **kwargs: Any) -> None:
        self.connection_pool = _Pool(dict(kwargs))

    def get(self, key: str) -> str:
        kw = self.connection_pool.connection_kwargs
        return f"{key}@{kw.get('host')}:{kw.get('port')} auth={kw.get('password')}"
