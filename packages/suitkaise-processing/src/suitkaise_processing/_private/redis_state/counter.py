"""``RedisCounter``: the ``SharedMemoryCounter`` API on a Redis server, for processes on any machine.

Keys, for a counter named N in run_id R (the braces choose the Redis Cluster slot)::

    sk:counter:{R/N}        string: the value, a signed 64-bit integer as Redis stores one
    sk:lock:{counter:R/N}*  ``get_lock()``: a ``RedisLock`` named "counter:R/N" (its keys are
                            described in concurrency.redis_backend)

Every operation is one Redis command or one Lua script (one round trip, atomic on the server):
``increment``/``add``/``+=`` are ``INCRBY``, ``exchange`` is ``SET ... GET``, ``compare_and_swap``
a script. A counter that does not exist reads as 0 and the first write creates it.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any, NoReturn

from shared_counter import wait_until
from suitkaise_processing._private.concurrency.redis_backend import DEFAULT_URL, RedisLock
from suitkaise_processing._private.redis_state.connection import (
    DEFAULT_TIMEOUT,
    check_timeout,
    client_for,
    failure_types,
)
from suitkaise_processing._private.redis_state.errors import CounterBackendError
from suitkaise_processing._private.share.proxies import make_view, pending_op

if TYPE_CHECKING:
    import redis

_LOW, _HIGH = -(2**63), 2**63 - 1
# KEYS: counter; ARGV: expected, new -> 1 swapped, 0 not equal (a missing counter equals 0)
_CAS = """
local current = redis.call('get', KEYS[1]) or '0'
if current == ARGV[1] then
  redis.call('set', KEYS[1], ARGV[2])
  return 1
end
return 0
"""


def _reconnect(name: str, redis_url: str, run_id: str, timeout: float) -> RedisCounter:
    return RedisCounter(name, redis_url=redis_url, run_id=run_id, timeout=timeout)


def _fits(value: int) -> int:
    value = operator.index(value)
    if not _LOW <= value <= _HIGH:
        raise OverflowError(
            f"a RedisCounter holds signed 64-bit values ({_LOW} to {_HIGH}), not {value}; "
            "the value is unchanged"
        )
    return value


class RedisCounter:
    """A named integer in a Redis server that processes on any machine reach, with atomic operations.

    ``RedisCounter("jobs", redis_url="redis://host:6379/0")`` connects to (and, when missing, creates
    with ``initial_value``) the counter; every process that opens the same name, run_id and server
    sees the same value. The API is :class:`shared_counter.SharedMemoryCounter`'s: atomic
    :meth:`increment`, :meth:`decrement`, :meth:`add`, :meth:`fetch_add`, :meth:`compare_and_swap`,
    :meth:`exchange`, ``counter.value = x`` and ``counter.value += n`` (one ``INCRBY``). The value is
    a signed 64-bit integer (``width`` is 8).

    Every network wait is bounded by ``timeout`` seconds; a server that cannot be reached raises
    :class:`CounterBackendError`. The handle pickles as name, run_id, URL and timeout and reconnects
    where it is loaded. Needs ``pip install 'suitkaise-processing[redis]'``.
    """

    __slots__ = (
        "__weakref__",
        "_cas",
        "_client",
        "_closed",
        "_created",
        "_key",
        "_lock",
        "_name",
        "_origin",
        "_run_id",
        "_timeout",
        "_url",
    )

    def __init__(
        self,
        name: str,
        redis_url: str = DEFAULT_URL,
        *,
        run_id: str = "",
        initial_value: int = 0,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        if not isinstance(name, str) or not name or "/" in name or "\0" in name:
            raise ValueError(
                f"a counter name must be a non-empty str without '/' or NUL, got {name!r}"
            )
        if not isinstance(run_id, str) or "/" in run_id or "\0" in run_id:
            raise ValueError(f"run_id must be a str without '/' or NUL, got {run_id!r}")
        self._name = name
        self._run_id = run_id
        self._url = redis_url
        self._timeout = check_timeout(timeout)
        self._key = f"sk:counter:{{{run_id}/{name}}}"
        self._origin = (self._key, "value", ())
        self._closed = False
        self._lock: RedisLock | None = None
        self._client: redis.Redis = client_for(redis_url, self._timeout)
        self._cas = self._client.register_script(_CAS)
        initial = _fits(initial_value)
        self._created = bool(self._do(self._client.set, self._key, initial, nx=True))

    # --- plumbing -----------------------------------------------------------------------------
    def _do(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if self._closed:
            self._raise_closed()
        import redis

        try:
            return fn(*args, **kwargs)
        except failure_types() as exc:
            raise CounterBackendError(
                f"RedisCounter {self._name!r}: the Redis server at {self._url} could not be reached "
                f"within {self._timeout} s ({type(exc).__name__}: {exc}); check that it runs and is "
                "reachable, or raise timeout="
            ) from exc
        except redis.ResponseError as exc:
            if "overflow" in str(exc):
                raise OverflowError(
                    f"RedisCounter {self._name!r} cannot go beyond signed 64 bits; the value is "
                    "unchanged"
                ) from exc
            raise

    def _raise_closed(self) -> NoReturn:
        from shared_counter import CounterClosedError

        raise CounterClosedError(
            f"RedisCounter {self._name!r} was closed; create a new RedisCounter to use it"
        )

    # --- identity -----------------------------------------------------------------------------
    @property
    def name(self) -> str:
        """The counter's name."""
        return self._name

    @property
    def run_id(self) -> str:
        """The counter's run_id (namespace): counters of different run_ids never collide."""
        return self._run_id

    @property
    def redis_url(self) -> str:
        """The URL of the Redis server holding the counter."""
        return self._url

    @property
    def timeout(self) -> float:
        """Seconds any network wait of this handle may take before ``CounterBackendError``."""
        return self._timeout

    @property
    def width(self) -> int:
        """8: the value is a signed 64-bit integer."""
        return 8

    @property
    def created(self) -> bool:
        """Whether this handle created the counter (it did not exist on the server)."""
        return self._created

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called on this handle."""
        return self._closed

    # --- value --------------------------------------------------------------------------------
    def _read(self) -> int:
        """The stored value (a counter that does not exist reads as 0)."""
        return int(self._do(self._client.get, self._key) or 0)

    @property
    def value(self) -> int:
        """The current value; ``counter.value = x`` stores, ``counter.value += n`` adds atomically.

        ``counter.value = counter.value + 1`` is NOT atomic: use :meth:`increment`.
        """
        view: int = make_view(self._read(), self._origin)
        return view

    @value.setter
    def value(self, new: int) -> None:
        op = pending_op(new, self._origin)
        if op is None:
            self._do(self._client.set, self._key, _fits(new))
        elif op[0] == "iadd":
            self.add(op[1])
        elif op[0] == "isub":
            self.add(-operator.index(op[1]))
        else:
            raise TypeError(
                f"counter.value {op[0]}= ... is not atomic; use increment()/add() or compare_and_swap()"
            )

    # --- atomic operations --------------------------------------------------------------------
    def increment(self, n: int = 1) -> int:
        """Atomically add ``n`` (default 1); return the new value."""
        return self.add(n)

    def decrement(self, n: int = 1) -> int:
        """Atomically subtract ``n`` (default 1); return the new value."""
        return self.add(-operator.index(n))

    def add(self, n: int) -> int:
        """Atomically add ``n`` (may be negative); return the new value."""
        return int(self._do(self._client.incrby, self._key, _fits(n)))

    def fetch_add(self, n: int) -> int:
        """Atomically add ``n``; return the value BEFORE the add."""
        n = _fits(n)
        return int(self._do(self._client.incrby, self._key, n)) - n

    def compare_and_swap(self, expected: int, new: int) -> bool:
        """Atomically set the value to ``new`` if it equals ``expected``; return whether it did."""
        args = [_fits(expected), _fits(new)]
        return bool(self._do(self._cas, keys=[self._key], args=args))

    def exchange(self, new: int) -> int:
        """Atomically set the value to ``new``; return the previous value."""
        return int(self._do(self._client.set, self._key, _fits(new), get=True) or 0)

    # --- lock ---------------------------------------------------------------------------------
    def get_lock(self) -> RedisLock:
        """The counter's lock, the same in every process and machine: a :class:`RedisLock` (not
        recursive: take it once per ``with``)."""
        if self._lock is None:
            self._lock = RedisLock(f"counter:{self._run_id}/{self._name}", redis_url=self._url)
        return self._lock

    @property
    def lock(self) -> RedisLock:
        """Same as :meth:`get_lock`."""
        return self.get_lock()

    # --- coordination -------------------------------------------------------------------------
    def wait_for(
        self, predicate_or_value: Callable[[int], object] | int, timeout: float | None = None
    ) -> bool:
        """Wait until the value equals ``predicate_or_value`` (an int) or satisfies it (a callable).

        Polls the server with growing sleeps (0.5 ms up to 50 ms). Returns True when the condition
        holds, False when ``timeout`` seconds passed first (``None``: wait forever).
        """
        return wait_until(self._read, predicate_or_value, timeout)

    # --- lifetime -----------------------------------------------------------------------------
    def close(self) -> None:
        """Stop using this handle (idempotent); the counter stays on the server until :meth:`unlink`."""
        self._closed = True

    def unlink(self) -> None:
        """Delete the counter from the server (a later write creates it again, from 0)."""
        self._do(self._client.delete, self._key)

    def __enter__(self) -> RedisCounter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __reduce__(self) -> tuple[Any, ...]:
        return (_reconnect, (self._name, self._url, self._run_id, self._timeout))

    def __repr__(self) -> str:
        return f"RedisCounter({self._name!r}, redis_url={self._url!r}, run_id={self._run_id!r})"
