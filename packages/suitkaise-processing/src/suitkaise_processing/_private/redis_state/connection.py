"""The Redis client that ``RedisCounter`` and a Share on Redis use, and how its failures surface.

Clients come from the one per-URL client cache of the Redis locks
(:func:`suitkaise_processing._private.concurrency.redis_backend._client`). The URL handed to it
carries the bounded network timeout as query parameters (``socket_timeout`` and
``socket_connect_timeout``), so every timeout gets its own client. Those clients never retry a
command: a write whose connection broke may or may not have been applied, and a silent retry could
apply it twice; the caller gets the error instead, and the next command opens a new connection.
"""

from __future__ import annotations

import urllib.parse
from typing import TYPE_CHECKING

from suitkaise_processing._private.concurrency.redis_backend import _client

if TYPE_CHECKING:
    import redis

DEFAULT_TIMEOUT = 5.0


def check_timeout(timeout: float) -> float:
    """``timeout`` as a float, refused unless it is a finite number of seconds > 0."""
    value = float(timeout)
    if not 0 < value < float("inf"):
        raise ValueError(f"timeout must be a number of seconds > 0, got {timeout!r}")
    return value


def client_for(url: str, timeout: float) -> redis.Redis:
    """This process's client of ``url`` whose every network wait is bounded by ``timeout`` seconds."""
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qsl(parts.query)
    query = [(k, v) for k, v in query if k not in ("socket_timeout", "socket_connect_timeout")]
    query += [("socket_timeout", repr(timeout)), ("socket_connect_timeout", repr(timeout))]
    client = _client(parts._replace(query=urllib.parse.urlencode(query)).geturl())
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    # no silent retry of a command whose connection broke (see the module docstring)
    client.connection_pool.connection_kwargs["retry"] = Retry(NoBackoff(), 0)
    return client


def failure_types() -> tuple[type[Exception], ...]:
    """The redis-py errors that mean the server could not be reached or did not answer in time."""
    import redis

    return (redis.ConnectionError, redis.TimeoutError)
