"""``RedisLock`` and ``RedisSemaphore``: the same interface, with their state in a Redis server.

redis-py is imported only when one of them is created (extra ``suitkaise-processing[redis]``).

Keys, for a lock or semaphore named N (the braces make them one Redis Cluster slot)::

    sk:lock:{N}          string: the holder's random token, with a TTL (PX) of ``ttl``
    sk:sem:{N}           sorted set: holder token -> expiry in server milliseconds; the key has a TTL too
    sk:lock|sem:{N}:fence  integer: the last fencing token; created at the server clock in microseconds,
                         then INCR by each acquisition, kept 10x ``ttl`` after the last one
    sk:lock|sem:{N}:signal  list: a release pushes one item (PX 1000) to wake one BLPOP-ing waiter

Every step is one Lua script (one round trip, atomic): acquire = SET NX PX (or the sorted-set count)
plus INCR of the fence; release and extend act only when the caller's token is still the holder's.
Fencing tokens increase across acquisitions, and also across a server restart that lost the data
(the fence is re-created at the server clock, which is past every token it gave: tokens grow by one
per acquisition, far slower than the clock's microseconds), as long as the server's clock does not
go back. A watchdog thread (one per process) renews the TTL of every held lock at a third of its
``ttl``; a holder that dies, or is paused or cut off for longer than ``ttl``, loses the lock, and its
later ``release()`` raises ``LockNotHeldError``. Every key expires: nothing stays behind.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import threading
import time
from typing import TYPE_CHECKING, Any

from suitkaise_processing._private.concurrency.base import BaseLock, BaseSemaphore, deadline_of
from suitkaise_processing._private.concurrency.errors import LockBackendError, LockNotHeldError
from suitkaise_processing._private.concurrency.files import check_name
from suitkaise_processing._private.concurrency.stats import StatsRecorder

if TYPE_CHECKING:
    import redis

DEFAULT_URL = "redis://localhost:6379/0"
IDLE_WAKE = 1.0  # the watchdog thread's longest sleep (seconds)
_now = time.perf_counter

_FENCE = """
local function fence(key, ttl)
  if redis.call('exists', key) == 0 then
    local t = redis.call('time')
    redis.call('set', key, t[1] .. string.format('%06d', tonumber(t[2])))
  end
  local token = redis.call('incr', key)
  redis.call('pexpire', key, ttl * 10)
  return token
end
"""
_SIGNAL = """
local function signal(key)
  redis.call('del', key)
  redis.call('lpush', key, 1)
  redis.call('pexpire', key, 1000)
end
"""
_NOW_MS = """
local t = redis.call('time')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""
# KEYS: lock, fence; ARGV: token, ttl_ms -> fencing token (> 0), or -(ms until the holder's TTL ends + 1)
LOCK_ACQUIRE = (
    _FENCE
    + """
if redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return fence(KEYS[2], tonumber(ARGV[2]))
end
local left = redis.call('pttl', KEYS[1])
if left < 0 then left = 1000 end
return -(left + 1)
"""
)
# KEYS: lock, signal; ARGV: token -> 1 released, 0 not the holder
LOCK_RELEASE = (
    _SIGNAL
    + """
if redis.call('get', KEYS[1]) == ARGV[1] then
  redis.call('del', KEYS[1])
  signal(KEYS[2])
  return 1
end
return 0
"""
)
# KEYS: lock; ARGV: token, ttl_ms -> 1 extended, 0 not the holder
LOCK_EXTEND = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""
# KEYS: set, fence; ARGV: token, ttl_ms, max -> fencing token, or -(ms until the first holder ends + 1)
SEM_ACQUIRE = (
    _FENCE
    + _NOW_MS
    + """
local ttl = tonumber(ARGV[2])
redis.call('zremrangebyscore', KEYS[1], '-inf', now)
if redis.call('zcard', KEYS[1]) < tonumber(ARGV[3]) then
  redis.call('zadd', KEYS[1], now + ttl, ARGV[1])
  if redis.call('pttl', KEYS[1]) < ttl then redis.call('pexpire', KEYS[1], ttl) end
  return fence(KEYS[2], ttl)
end
local first = redis.call('zrange', KEYS[1], 0, 0, 'WITHSCORES')
return -(math.max(tonumber(first[2]) - now, 0) + 1)
"""
)
# KEYS: set, signal; ARGV: token -> 1 released, 0 not a holder (or its TTL had run out)
SEM_RELEASE = (
    _SIGNAL
    + _NOW_MS
    + """
local expiry = redis.call('zscore', KEYS[1], ARGV[1])
redis.call('zrem', KEYS[1], ARGV[1])
if expiry and tonumber(expiry) > now then
  signal(KEYS[2])
  return 1
end
return 0
"""
)
# KEYS: set; ARGV: token, ttl_ms -> 1 extended, 0 not a holder
SEM_EXTEND = (
    _NOW_MS
    + """
local ttl = tonumber(ARGV[2])
local expiry = redis.call('zscore', KEYS[1], ARGV[1])
if expiry and tonumber(expiry) > now then
  redis.call('zadd', KEYS[1], 'XX', now + ttl, ARGV[1])
  if redis.call('pttl', KEYS[1]) < ttl then redis.call('pexpire', KEYS[1], ttl) end
  return 1
end
return 0
"""
)
# KEYS: set; ARGV: max -> 1 when every slot is taken
SEM_FULL = (
    _NOW_MS
    + """
redis.call('zremrangebyscore', KEYS[1], '-inf', now)
if redis.call('zcard', KEYS[1]) >= tonumber(ARGV[1]) then return 1 end
return 0
"""
)


# --- clients: one per URL in each process ---------------------------------------------------------
_clients: dict[str, redis.Redis] = {}
_clients_lock = threading.Lock()


def _client(url: str) -> redis.Redis:
    with _clients_lock:
        client = _clients.get(url)
        if client is None:
            try:
                import redis
            except ImportError as exc:
                raise ImportError(
                    "RedisLock and RedisSemaphore need redis-py: pip install 'suitkaise-processing[redis]'"
                ) from exc
            client = redis.Redis.from_url(url)
            _clients[url] = client
        return client


def _backend_error(exc: Exception, url: str) -> LockBackendError:
    return LockBackendError(
        f"the Redis server at {url} could not serve the lock ({type(exc).__name__}: {exc}); "
        "check that it is running and reachable"
    )


class _Scripts:
    """The registered Lua scripts of one client (EVALSHA, reloaded by redis-py after a restart)."""

    def __init__(self, client: redis.Redis) -> None:
        self.lock_acquire = client.register_script(LOCK_ACQUIRE)
        self.lock_release = client.register_script(LOCK_RELEASE)
        self.lock_extend = client.register_script(LOCK_EXTEND)
        self.sem_acquire = client.register_script(SEM_ACQUIRE)
        self.sem_release = client.register_script(SEM_RELEASE)
        self.sem_extend = client.register_script(SEM_EXTEND)
        self.sem_full = client.register_script(SEM_FULL)


# --- the watchdog: one thread per process renews every held TTL -----------------------------------
class _Watchdog:
    def __init__(self) -> None:
        self.cond = threading.Condition(threading.Lock())
        self.due: dict[str, tuple[float, _RedisPrimitive]] = {}  # token -> (next renewal, holder)
        self.thread: threading.Thread | None = None
        self.wake_at = 0.0  # when the thread wakes next by itself

    def add(self, token: str, holder: _RedisPrimitive) -> None:
        due = _now() + holder.ttl / 3
        with self.cond:
            self.due[token] = (due, holder)
            if self.thread is None:
                self.thread = threading.Thread(
                    target=self._run, name="sk-redis-lock-watchdog", daemon=True
                )
                self.thread.start()
            elif due < self.wake_at:  # wake the thread only when it would sleep past this renewal
                self.cond.notify()

    def remove(self, token: str) -> None:
        with self.cond:
            self.due.pop(token, None)

    def _run(self) -> None:
        while True:
            with self.cond:
                now = _now()
                ready = [(token, holder) for token, (at, holder) in self.due.items() if at <= now]
                for token, holder in ready:
                    self.due[token] = (now + holder.ttl / 3, holder)
                if not ready:
                    # idle: look again within a second, so that a new hold needs no wake-up call
                    nearest = min((at for at, _ in self.due.values()), default=now + IDLE_WAKE)
                    self.wake_at = min(nearest, now + IDLE_WAKE)
                    self.cond.wait(self.wake_at - now)
                    continue
            for token, holder in ready:
                try:
                    kept = holder._renew(token)
                except Exception:
                    kept = True  # the server is unreachable for now: try again at the next turn
                if not kept:
                    self.remove(token)


_watchdog = _Watchdog()


def _after_fork_in_child() -> None:
    global _watchdog, _clients_lock
    _watchdog = _Watchdog()
    _clients_lock = threading.Lock()
    _clients.clear()


os.register_at_fork(after_in_child=_after_fork_in_child)


class _RedisPrimitive:
    """What RedisLock and RedisSemaphore share: the client, the scripts, waiting, renewal."""

    kind = ""
    name: str
    ttl: float
    redis_url: str
    renew: bool
    _stats: StatsRecorder
    _async_max_poll = 0.02

    def _setup(self, name: str, redis_url: str, ttl: float, renew: bool) -> None:
        if not ttl > 0:
            raise ValueError(f"ttl must be > 0 seconds, got {ttl}")
        self.name = check_name(name)
        self.redis_url = redis_url
        self.ttl = float(ttl)
        self.renew = renew
        self._ttl_ms = max(1, int(self.ttl * 1000))
        self._key = f"sk:{self.kind}:{{{self.name}}}"
        self._fence_key = self._key + ":fence"
        self._signal_key = self._key + ":signal"
        self._client = _client(redis_url)
        self._scripts = _Scripts(self._client)
        self._stats = StatsRecorder()
        self._guard = threading.Lock()
        self._tokens: dict[str, int] = {}  # held token -> fencing token (insertion order = age)
        self._since: dict[str, float] = {}

    def _attempt(self, token: str) -> Any:
        raise NotImplementedError

    def _release_script(self, token: str) -> Any:
        raise NotImplementedError

    def _renew(self, token: str, ttl: float | None = None) -> bool:
        raise NotImplementedError

    def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        import redis

        try:
            return fn(*args, **kwargs)
        except (redis.ConnectionError, redis.TimeoutError, redis.ResponseError) as exc:
            raise _backend_error(exc, self.redis_url) from exc

    def _try_acquire(self) -> bool:
        return self._try_once() > 0

    def _try_once(self) -> int:
        """One attempt: > 0 when taken (then counted), else -(ms until it may free up + 1)."""
        token = secrets.token_hex(16)
        result = int(self._attempt(token))
        if result > 0:
            self._took(token, result)
        return result

    def _took(self, token: str, fence: int) -> None:
        with self._guard:
            self._tokens[token] = fence
            self._since[token] = _now()
        self._stats.acquisitions += 1
        if self.renew:
            _watchdog.add(token, self)

    async def _try_acquire_async(self) -> bool:
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(None, self._try_acquire)
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            # the attempt may still succeed in its thread: give back what it takes
            future.add_done_callback(
                lambda f: (
                    self.release()
                    if not f.cancelled() and f.exception() is None and f.result()
                    else None
                )
            )
            raise

    def acquire(self, blocking: bool = True, timeout: float | None = None) -> bool:
        start = _now()
        deadline = deadline_of(blocking, timeout)
        result = self._try_once()
        if result > 0:
            return True
        if not blocking:
            return False
        while True:
            wait = -result / 1000
            if deadline is not None:
                left = deadline - _now()
                if left <= 0:
                    self._stats.timeouts += 1
                    return False
                wait = min(wait, left)
            # a release wakes one waiter at once; the others try again when the holder's TTL ends
            self._call(self._client.blpop, [self._signal_key], timeout=max(0.001, min(wait, 1.0)))
            result = self._try_once()
            if result > 0:
                self._stats.acquisitions -= 1
                self._stats.waited(_now() - start)
                return True

    def _pop_token(self) -> str:
        with self._guard:
            if not self._tokens:
                raise LockNotHeldError(
                    f"release() of {type(self).__name__} {self.name!r}, which this object does not hold"
                )
            token = next(iter(self._tokens))
            del self._tokens[token]
            self._stats.held(_now() - self._since.pop(token))
        return token

    def release(self) -> None:
        token = self._pop_token()
        _watchdog.remove(token)
        if not int(self._release_script(token)):
            raise LockNotHeldError(
                f"{type(self).__name__} {self.name!r} was lost before release(): its TTL of {self.ttl} s "
                "ran out (the holder was paused or cut off, or the server restarted) and another owner "
                "may have it; use the fencing token (.token) to reject stale writes"
            )

    def extend(self, ttl: float | None = None) -> None:
        """Push the oldest hold's expiry to ``ttl`` (default: the object's) from now; raises
        ``LockNotHeldError`` when it is no longer the holder."""
        with self._guard:
            token = next(iter(self._tokens), None)
        if token is None or not self._renew(token, ttl):
            raise LockNotHeldError(
                f"extend() of {type(self).__name__} {self.name!r}, which is not held (any more)"
            )

    @property
    def token(self) -> int | None:
        """The fencing token of the current (oldest) hold: larger for every later acquisition."""
        with self._guard:
            return next(iter(self._tokens.values()), None)


class RedisLock(_RedisPrimitive, BaseLock):
    """A lock in a Redis server: ``SET NX PX`` with a random owner token, fencing tokens, a TTL watchdog.

    ``RedisLock("name", redis_url="redis://host:6379/0", ttl=30.0)``. While held, a thread of this
    process renews the TTL every ``ttl / 3`` s (``renew=False``: never; call ``extend()`` yourself).
    ``lock.token`` is the fencing token of the current hold. Pickles by name and URL.
    """

    kind = "lock"

    def __init__(
        self, name: str, redis_url: str = DEFAULT_URL, ttl: float = 30.0, *, renew: bool = True
    ) -> None:
        self._setup(name, redis_url, ttl, renew)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_lock, (self.name, self.redis_url, self.ttl, self.renew))

    def __repr__(self) -> str:
        return f"RedisLock({self.name!r}, redis_url={self.redis_url!r}, ttl={self.ttl})"

    def _attempt(self, token: str) -> Any:
        return self._call(
            self._scripts.lock_acquire,
            keys=[self._key, self._fence_key],
            args=[token, self._ttl_ms],
        )

    def _release_script(self, token: str) -> Any:
        return self._call(
            self._scripts.lock_release, keys=[self._key, self._signal_key], args=[token]
        )

    def _renew(self, token: str, ttl: float | None = None) -> bool:
        ms = self._ttl_ms if ttl is None else max(1, int(ttl * 1000))
        return bool(self._call(self._scripts.lock_extend, keys=[self._key], args=[token, ms]))

    def locked(self) -> bool:
        return bool(self._call(self._client.exists, self._key))


class RedisSemaphore(_RedisPrimitive, BaseSemaphore):
    """At most ``max_concurrent`` holders at once, in a Redis server (a sorted set of holder tokens).

    Same guarantees as :class:`RedisLock`: owner tokens, TTL watchdog, fencing tokens; a dead holder's
    slot comes back after its TTL. Every user of the name must pass the same ``max_concurrent``.
    """

    kind = "sem"

    def __init__(
        self,
        name: str,
        max_concurrent: int,
        redis_url: str = DEFAULT_URL,
        ttl: float = 30.0,
        *,
        renew: bool = True,
    ) -> None:
        if not isinstance(max_concurrent, int) or max_concurrent < 1:
            raise ValueError(f"max_concurrent must be an int >= 1, got {max_concurrent!r}")
        self.max_concurrent = max_concurrent
        self._setup(name, redis_url, ttl, renew)

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            _rebuild_semaphore,
            (self.name, self.max_concurrent, self.redis_url, self.ttl, self.renew),
        )

    def __repr__(self) -> str:
        return (
            f"RedisSemaphore({self.name!r}, {self.max_concurrent}, redis_url={self.redis_url!r}, "
            f"ttl={self.ttl})"
        )

    def _attempt(self, token: str) -> Any:
        return self._call(
            self._scripts.sem_acquire,
            keys=[self._key, self._fence_key],
            args=[token, self._ttl_ms, self.max_concurrent],
        )

    def _release_script(self, token: str) -> Any:
        return self._call(
            self._scripts.sem_release, keys=[self._key, self._signal_key], args=[token]
        )

    def _renew(self, token: str, ttl: float | None = None) -> bool:
        ms = self._ttl_ms if ttl is None else max(1, int(ttl * 1000))
        return bool(self._call(self._scripts.sem_extend, keys=[self._key], args=[token, ms]))

    def locked(self) -> bool:
        return bool(
            self._call(self._scripts.sem_full, keys=[self._key], args=[self.max_concurrent])
        )


def _rebuild_lock(name: str, redis_url: str, ttl: float, renew: bool) -> RedisLock:
    return RedisLock(name, redis_url, ttl, renew=renew)


def _rebuild_semaphore(
    name: str, max_concurrent: int, redis_url: str, ttl: float, renew: bool
) -> RedisSemaphore:
    return RedisSemaphore(name, max_concurrent, redis_url, ttl, renew=renew)
