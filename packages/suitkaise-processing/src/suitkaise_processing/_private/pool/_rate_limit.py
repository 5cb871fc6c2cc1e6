"""Rate limits that hold across the workers of a Pool, and across machines on Redis.

Two ways in, one mechanism:

- ``pool.map(fn.rate_limit(5), items)``: the function's own ``.rate_limit()`` (``sk_modifiers``).
  Alone, every worker would unpickle its own copy of the limiter, so ``n`` workers would allow
  ``n * 5`` calls per second. The pool serializes every function inside
  ``sk_modifiers.sharing_rate_limits``: each limiter met on the way (the function's, or one in
  its closure or globals sent by value) travels with a :class:`SharedMemorySchedule` that the pool
  created for it, the same one for the same limiter object in every call of this pool.
- ``Pool(rate_limit=5)`` or ``Pool(rate_limit=RateLimit(5, backend="redis://...", name="api"))``:
  every item of every call of the pool waits for the pool's limit (:class:`Limited` wraps the
  function before it is serialized). On Redis, every pool and process on any machine that opens
  the same server and name shares the limit.

A limit lets calls start at least ``1 / per_second`` seconds apart, measured when the limiter
releases them (``sk_modifiers.RateSchedule``): any window of one second holds at most
``per_second`` starts. The wait happens inside the item, in the worker.

The pool unlinks the shared-memory schedules it created when it is closed, terminated or
collected (or at exit); Redis keys expire on their own one second after the limit goes idle.
"""

from __future__ import annotations

import math
import threading
import weakref
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from sk_modifiers import RateLimiter, RateSchedule, sharing_rate_limits
from suitkaise_processing._private.errors import PoolError

if TYPE_CHECKING:
    from suitkaise_processing._private.pool._rate_shm import SharedMemorySchedule

_REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


class RateLimit:
    """A rate limit shared by processes: calls start at least ``1 / per_second`` seconds apart.

    ``RateLimit(per_second, *, backend=None, name=None, timeout=5.0)``, given to
    ``Pool(rate_limit=...)`` (a plain number means ``RateLimit(number)``):

    - ``backend=None``: the limit lives in shared memory, created by the pool it is given to; the
      pool's workers share it.
    - ``backend="redis://host:port/db"``: the limit lives in that Redis server under ``name``
      (required); every pool and process, on any machine, that uses the same server and name
      shares it. ``timeout`` bounds each network wait (then ``RateLimitBackendError``).
      Needs ``pip install 'suitkaise-processing[redis]'``.
    """

    __slots__ = ("backend", "name", "per_second", "timeout")

    def __init__(
        self,
        per_second: float,
        *,
        backend: str | None = None,
        name: str | None = None,
        timeout: float = 5.0,
    ) -> None:
        if (
            isinstance(per_second, bool)
            or not isinstance(per_second, (int, float))
            or not math.isfinite(per_second)
            or per_second <= 0
        ):
            raise ValueError(
                f"RateLimit(per_second={per_second!r}): give the calls per second, a number > 0"
            )
        if backend is not None and (
            not isinstance(backend, str) or not backend.startswith(_REDIS_SCHEMES)
        ):
            raise ValueError(
                f"RateLimit(backend={backend!r}): give a Redis URL ('redis://host:port/db'), "
                "or None for a limit in shared memory that the pool's workers share"
            )
        if backend is None and name is not None:
            raise ValueError(
                f"RateLimit(name={name!r}) names a limit on Redis: give backend='redis://...' too "
                "(a limit in shared memory belongs to the pool it is given to)"
            )
        if backend is not None and (not isinstance(name, str) or not name):
            raise ValueError(
                "RateLimit(backend='redis://...') needs name='...': the processes that share the "
                "limit open it by that name"
            )
        if (
            isinstance(timeout, bool)
            or not isinstance(timeout, (int, float))
            or not 0 < timeout < math.inf
        ):
            raise ValueError(f"RateLimit(timeout={timeout!r}): give seconds > 0")
        self.per_second = float(per_second)
        self.backend = backend
        self.name = name
        self.timeout = float(timeout)

    def __repr__(self) -> str:
        if self.backend is None:
            return f"RateLimit({self.per_second:g})"
        return f"RateLimit({self.per_second:g}, backend={self.backend!r}, name={self.name!r})"


def as_rate_limit(value: RateLimit | float | None) -> RateLimit | None:
    """``Pool(rate_limit=...)``: a :class:`RateLimit`, a number of calls per second, or ``None``."""
    if value is None or isinstance(value, RateLimit):
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(
            f"Pool(rate_limit=...) takes calls per second (a number) or a RateLimit, "
            f"not {type(value).__name__}"
        )
    return RateLimit(value)


class Limited:
    """``fn`` whose every call first waits for ``limiter`` (a pool's ``rate_limit=``)."""

    __slots__ = ("fn", "limiter")

    def __init__(self, fn: Any, limiter: RateLimiter) -> None:
        self.fn = fn
        self.limiter = limiter

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.limiter.acquire()
        return self.fn(*args, **kwargs)

    def __reduce__(self) -> tuple[Any, ...]:
        return (Limited, (self.fn, self.limiter))

    def __repr__(self) -> str:
        return f"<{self.fn!r} under {self.limiter!r}>"


def runner_of(fn: Any, make_runner: Callable[[Any], Callable[..., Any]]) -> Callable[..., Any]:
    """In a worker: the runner ``make_runner`` builds for an ``Skprocess`` class, still under the
    pool's limit when the class came :class:`Limited`."""
    if type(fn) is Limited:
        return Limited(make_runner(fn.fn), fn.limiter)
    return make_runner(fn)


def _unlink(schedules: list[SharedMemorySchedule]) -> None:
    while schedules:
        schedules.pop().unlink()


class PoolRateLimits:
    """The rate limits one Pool shares with its workers: its own ``rate_limit=`` and the
    ``.rate_limit()`` of every function it sends. Owns the shared-memory schedules it creates."""

    def __init__(self, limit: RateLimit | float | None) -> None:
        self._lock = threading.Lock()
        self._created: list[SharedMemorySchedule] = []
        self._released = False
        #: id(limiter) -> (the limiter, kept alive so the id stays its own; its shared schedule)
        self._shared: dict[int, tuple[RateLimiter, RateSchedule]] = {}
        self._finalizer = weakref.finalize(self, _unlink, self._created)
        self.limit = as_rate_limit(limit)
        self._limiter: RateLimiter | None = None
        if self.limit is not None:
            self._limiter = RateLimiter(self.limit.per_second, self._schedule_of(self.limit))

    def _schedule_of(self, limit: RateLimit) -> RateSchedule:
        if limit.backend is None:
            return self._new_schedule()
        from suitkaise_processing._private.redis_state.rate_schedule import RedisSchedule

        assert limit.name is not None  # RateLimit checked it
        return RedisSchedule(limit.backend, limit.name, limit.timeout)

    def _new_schedule(self) -> SharedMemorySchedule:
        if self._released:
            raise PoolError("the pool is closed; create a new Pool to run more work")
        # imported on first use: it loads shared_counter, which a Pool without rate limits never needs
        from suitkaise_processing._private.pool._rate_shm import SharedMemorySchedule

        schedule = SharedMemorySchedule.create()
        self._created.append(schedule)
        return schedule

    def _schedule_for(self, limiter: RateLimiter) -> RateSchedule:
        with self._lock:
            known = self._shared.get(id(limiter))
            if known is None:
                known = (limiter, self._new_schedule())
                self._shared[id(limiter)] = known
            return known[1]

    def prepare(self, fn: Any) -> Any:
        """What the pool serializes for ``fn``: under the pool's own limit, if it has one."""
        return fn if self._limiter is None else Limited(fn, self._limiter)

    def sharing(self) -> AbstractContextManager[None]:
        """Serialize inside this block: the function's rate limits become pool-wide."""
        return sharing_rate_limits(self._schedule_for)

    def release(self) -> None:
        """Unlink every shared-memory schedule this pool created (idempotent)."""
        with self._lock:
            self._released = True
            self._shared.clear()
        self._finalizer()
