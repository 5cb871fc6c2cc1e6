"""A rate limit's schedule on a Redis server: every process on any machine that opens it shares it.

Key, for a limit named N (the braces choose the Redis Cluster slot)::

    sk:ratelimit:{N}    hash   next: the earliest free slot, in microseconds of the server's clock
                               last: when the last call started, in microseconds of the server's clock

Both operations are one Lua script each (one round trip, atomic on the server), and read the time
with the server's ``TIME``: machines never compare their own clocks, only durations (the waits the
scripts return) cross the network. Each script sets the key to expire one second after its last
time passed, so nothing stays on the server once the limit is idle, and a key that expired reads
as "no call yet" (the same schedule). What the algorithm does with the two times is
``sk_modifiers.RateSchedule``'s contract.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from suitkaise_processing._private.redis_state.connection import client_for, failure_types
from suitkaise_processing._private.redis_state.errors import RateLimitBackendError

if TYPE_CHECKING:
    import redis

_NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local step = tonumber(ARGV[1])
"""
# KEYS: the hash; ARGV: interval (us) -> microseconds until the booked slot
_RESERVE = (
    _NOW
    + """
local slot = math.max(now, tonumber(redis.call('HGET', KEYS[1], 'next') or '0'))
redis.call('HSET', KEYS[1], 'next', string.format('%d', slot + step))
redis.call('PEXPIRE', KEYS[1], math.ceil((slot + step - now) / 1000) + 1000)
return slot - now
"""
)
# KEYS: the hash; ARGV: interval (us) -> 0: started now; else microseconds to wait before asking again
_START = (
    _NOW
    + """
local last = redis.call('HGET', KEYS[1], 'last')
if last and now < tonumber(last) + step then
  return tonumber(last) + step - now
end
local nxt = math.max(now + step, tonumber(redis.call('HGET', KEYS[1], 'next') or '0'))
redis.call('HSET', KEYS[1], 'last', string.format('%d', now), 'next', string.format('%d', nxt))
redis.call('PEXPIRE', KEYS[1], math.ceil((nxt - now) / 1000) + 1000)
return 0
"""
)


def _us(interval: float) -> int:
    return max(1, math.ceil(interval * 1e6))


class RedisSchedule:
    """The ``RateSchedule`` of a rate limit named ``name`` on the Redis server at ``url``."""

    __slots__ = ("_client", "_reserve", "_start", "key", "name", "timeout", "url")

    def __init__(self, url: str, name: str, timeout: float) -> None:
        self.url = url
        self.name = name
        self.timeout = timeout
        self.key = f"sk:ratelimit:{{{name}}}"
        self._client: redis.Redis = client_for(url, timeout)
        self._reserve = self._client.register_script(_RESERVE)
        self._start = self._client.register_script(_START)

    def _run(self, script: Callable[..., Any], interval: float) -> float:
        try:
            waited = script(keys=[self.key], args=[_us(interval)])
        except failure_types() as exc:
            raise RateLimitBackendError(
                f"rate limit {self.name!r}: the Redis server at {self.url} could not be reached "
                f"within {self.timeout} s ({type(exc).__name__}: {exc}); check that it runs and is "
                "reachable, or raise RateLimit(timeout=...)"
            ) from exc
        return int(waited) / 1e6

    def reserve(self, interval: float) -> float:
        return self._run(self._reserve, interval)

    def start(self, interval: float) -> float:
        return self._run(self._start, interval)

    def __reduce__(self) -> tuple[Any, ...]:
        return (RedisSchedule, (self.url, self.name, self.timeout))

    def __repr__(self) -> str:
        return f"<RedisSchedule {self.name!r} at {self.url}>"
