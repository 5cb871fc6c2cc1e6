"""A rate limit's schedule in shared memory: every process of one machine that has it shares it.

Layout: two 64-bit ``SharedMemoryCounter`` s in the run_id ``r<8 hex digits>`` (the OS names start
with ``sk_``, see ``shared_counter``'s names)::

    counter "n"   next: the earliest free slot, in ``time.monotonic_ns()``
    counter "l"   last: when the last call started, in ``time.monotonic_ns()``

``CLOCK_MONOTONIC`` is one clock for every process of a machine, so the times of different
processes compare. Each word changes only by compare-and-swap (the counter's atomic operation; a
process killed inside one does not leave its lock taken: waiters recover it), retried when another
process changed the word first:

- ``reserve``: ``next`` from ``cur`` to ``max(now, cur) + interval``; the slot is ``max(now, cur)``.
- ``start``: ``last`` from ``old`` to ``now``, only when ``now >= old + interval`` (else: wait
  ``old + interval - now``). Of two processes starting at once, one swaps, the other sees the new
  ``last`` and waits: two starts are never less than one interval apart. Then ``next`` is raised to
  at least ``now + interval`` (skipped when it is already there, the usual case with waiters).

A process killed between the two swaps of ``start`` leaves ``next`` lower than it should be: the
next booking gets an early slot, and its own ``start`` makes it wait the rest. A process killed
after booking a slot costs that one slot, nothing more.

The creator (the Pool) unlinks both counters; the copies its workers unpickle only connect. What
the algorithm does with the two times is ``sk_modifiers.RateSchedule``'s contract.
"""

from __future__ import annotations

import math
import secrets
import time
from typing import Any

from shared_counter import SharedMemoryCounter

#: the value of "last" before any call started: long enough ago for any interval
_NEVER = -(2**62)


def _ns(interval: float) -> int:
    return max(1, math.ceil(interval * 1e9))


class SharedMemorySchedule:
    """The ``RateSchedule`` of a rate limit shared by the processes of one machine."""

    __slots__ = ("_last", "_next", "run_id")

    def __init__(self, run_id: str, *, create: bool) -> None:
        self.run_id = run_id
        self._next = SharedMemoryCounter("n", create, run_id, 0, width=8)
        try:
            self._last = SharedMemoryCounter("l", create, run_id, _NEVER, width=8)
        except BaseException:
            if create:
                self._next.unlink()
            raise

    @classmethod
    def create(cls) -> SharedMemorySchedule:
        """A new schedule (its creator must :meth:`unlink` it)."""
        return cls(f"r{secrets.token_hex(4)}", create=True)

    def reserve(self, interval: float) -> float:
        step = _ns(interval)
        nxt = self._next
        while True:
            cur = int(nxt.value)
            now = time.monotonic_ns()
            slot = max(now, cur)
            if nxt.compare_and_swap(cur, slot + step):
                return (slot - now) / 1e9

    def start(self, interval: float) -> float:
        step = _ns(interval)
        last, nxt = self._last, self._next
        while True:
            old = int(last.value)
            now = time.monotonic_ns()
            if now < old + step:
                return (old + step - now) / 1e9
            if last.compare_and_swap(old, now):
                break
        while True:
            cur = int(nxt.value)
            if cur >= now + step or nxt.compare_and_swap(cur, now + step):
                return 0.0

    def unlink(self) -> None:
        """Remove both counters (creator only; idempotent)."""
        self._next.unlink()
        self._last.unlink()

    def __reduce__(self) -> tuple[Any, ...]:
        return (_connect, (self.run_id,))

    def __repr__(self) -> str:
        return f"<SharedMemorySchedule {self.run_id}>"


def _connect(run_id: str) -> SharedMemorySchedule:
    return SharedMemorySchedule(run_id, create=False)
