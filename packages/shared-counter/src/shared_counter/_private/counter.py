"""``SharedMemoryCounter``: a named, picklable integer in shared memory with atomic operations."""

from __future__ import annotations

import operator
from collections.abc import Callable
from types import TracebackType
from typing import Any, NoReturn, cast

from shared_counter._private import core as _core
from shared_counter._private.errors import CounterClosedError
from shared_counter._private.lock import CounterLock
from shared_counter._private.names import validate
from shared_counter._private.waiting import wait_until


class _Closed:
    """Stands in for the core of a closed handle: every use raises ``CounterClosedError``."""

    __slots__ = ("_what",)

    def __init__(self, what: str) -> None:
        self._what = what

    def __getattr__(self, attr: str) -> NoReturn:
        raise CounterClosedError(
            f"counter {self._what} was closed; connect again with "
            "SharedMemoryCounter(name, run_id=...) to use it"
        )


def _reconnect(name: str, run_id: str, width: int) -> SharedMemoryCounter:
    """Unpickle a counter: connect to it by name in the receiving process."""
    return SharedMemoryCounter(name, create=False, run_id=run_id, width=width)


class SharedMemoryCounter:
    """A named integer in shared memory that any process can connect to, with atomic operations.

    ``SharedMemoryCounter("tasks", create=True, run_id="app")`` creates the counter;
    ``SharedMemoryCounter("tasks", run_id="app")`` connects to it from any process. The handle is
    picklable (it travels as name, run_id and width and reconnects on arrival).

    Atomic without any lock from the caller: :meth:`increment`, :meth:`decrement`, :meth:`add`,
    :meth:`fetch_add`, :meth:`compare_and_swap`, :meth:`exchange`, storing ``counter.value = x``,
    and the statements ``counter.value += n`` / ``counter.value -= n``. For any other
    read-modify-write, hold :meth:`get_lock`.

    Args:
        name: the counter's name (no ``/`` or NUL; short enough for the platform's IPC names).
        create: create the counter (True) or connect to an existing one (False).
        run_id: namespace: counters of different run_ids never collide.
        initial_value: the value when creating (ignored when connecting).
        width: 4 (32-bit, default) or 8 (64-bit) byte range when creating; when connecting, the
            counter's own width is used.
        exist_ok: with ``create=True``, connect instead of raising when the counter exists.

    Raises:
        CounterNotFoundError: connecting to a counter that does not exist.
        CounterExistsError: creating a counter that exists (without ``exist_ok``).
        ValueError: invalid name, run_id or width. OverflowError: ``initial_value`` out of range.
    """

    __slots__ = ("__weakref__", "_core", "_created", "_lock", "_names")

    def __init__(
        self,
        name: str,
        create: bool = False,
        run_id: str = "",
        initial_value: int = 0,
        *,
        width: int = 4,
        exist_ok: bool = False,
    ) -> None:
        self._core: _core.Core = cast(_core.Core, _Closed("(never opened)"))
        name, run_id = validate(name, run_id)
        width = _core.check_width(width)
        names = _core.Names.of(name, run_id)
        self._created = False
        if create:
            initial = operator.index(initial_value)
            low, high = _core.value_range(width)
            if not low <= initial <= high:
                raise OverflowError(
                    f"initial_value {initial} does not fit width={width} ({low} to {high})"
                    + ("; use width=8 for 64-bit values" if width == 4 else "")
                )
            try:
                core = _core.create(names, initial, width)
                self._created = True
            except FileExistsError:
                if not exist_ok:
                    raise
                core = _core.connect(names)
        else:
            core = _core.connect(names)
        self._core = core
        self._names = core.names
        self._lock = CounterLock(self)

    # --- identity ---------------------------------------------------------------------------
    @property
    def name(self) -> str:
        """The counter's name."""
        return self._names.name

    @property
    def run_id(self) -> str:
        """The counter's run_id (namespace)."""
        return self._names.run_id

    @property
    def width(self) -> int:
        """4 (32-bit range) or 8 (64-bit range)."""
        return self._core.width

    @property
    def created(self) -> bool:
        """Whether this handle created the counter (the creator is the one that should unlink it)."""
        return self._created

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called on this handle."""
        return isinstance(self._core, _Closed)

    # --- value ------------------------------------------------------------------------------
    @property
    def value(self) -> int:
        """The current value; ``counter.value = x`` stores atomically.

        ``counter.value += n`` and ``counter.value -= n`` are atomic adds (the int returned here
        remembers its counter). ``counter.value = counter.value + 1`` is NOT atomic: use
        :meth:`increment` or hold :meth:`get_lock`.
        """
        return self._core.get_value()

    @value.setter
    def value(self, new: int) -> None:
        self._core.set_value(new)

    # --- atomic operations -------------------------------------------------------------------
    def increment(self, n: int = 1) -> int:
        """Atomically add ``n`` (default 1); return the new value."""
        return self._core.add(n)

    def decrement(self, n: int = 1) -> int:
        """Atomically subtract ``n`` (default 1); return the new value."""
        return self._core.add(-n)

    def add(self, n: int) -> int:
        """Atomically add ``n`` (may be negative); return the new value."""
        return self._core.add(n)

    def fetch_add(self, n: int) -> int:
        """Atomically add ``n``; return the value BEFORE the add."""
        return self._core.fetch_add(n)

    def compare_and_swap(self, expected: int, new: int) -> bool:
        """Atomically set the value to ``new`` if it equals ``expected``; return whether it did."""
        return self._core.compare_and_swap(operator.index(expected), operator.index(new))

    def exchange(self, new: int) -> int:
        """Atomically set the value to ``new``; return the previous value."""
        return self._core.exchange(operator.index(new))

    # --- lock ---------------------------------------------------------------------------------
    def get_lock(self) -> CounterLock:
        """The counter's cross-process recursive lock (the same lock in every connected process)."""
        return self._lock

    @property
    def lock(self) -> CounterLock:
        """Same as :meth:`get_lock`."""
        return self._lock

    # --- coordination -------------------------------------------------------------------------
    def wait_for(
        self, predicate_or_value: Callable[[int], object] | int, timeout: float | None = None
    ) -> bool:
        """Wait until the value equals ``predicate_or_value`` (an int) or satisfies it (a callable).

        Polls with growing sleeps (0.5 ms up to 50 ms), never busy-spinning. Returns True when the
        condition holds, False when ``timeout`` seconds passed first (``None``: wait forever).
        """
        return wait_until(self._core.load, predicate_or_value, timeout)

    # --- lifetime -----------------------------------------------------------------------------
    def close(self) -> None:
        """Disconnect this handle (idempotent). The counter lives on until :meth:`unlink`.

        The process unmaps the counter once no handle of it is left (at the latest at the next
        garbage collection).
        """
        core = self._core
        if isinstance(core, _Closed):
            return
        self._core = cast(_core.Core, _Closed(self._names.describe()))

    def unlink(self) -> None:
        """Delete the counter (value and lock) so that nobody can connect anymore.

        Call it once, from the creator. Calling it again is harmless. Handles already connected keep
        working until closed; this handle stays usable too.
        """
        self._names.unlink()

    def __enter__(self) -> SharedMemoryCounter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __reduce__(self) -> tuple[Any, ...]:
        return (_reconnect, (self._names.name, self._names.run_id, self.width))

    def __repr__(self) -> str:
        core = self._core
        value = "<closed>" if isinstance(core, _Closed) else str(core.load())
        return (
            f"SharedMemoryCounter(name={self._names.name!r}, run_id={self._names.run_id!r}, "
            f"value={value})"
        )
