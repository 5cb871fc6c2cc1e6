"""``LocalSemaphore``: at most N holders at once across the threads and processes of one machine.

Across processes: slot ``i`` is data file ``i`` of the name's group (see ``files``); a holder owns one
slot through ``flock(LOCK_EX)`` on it, so a dead holder's slot comes back at once. An acquisition tries
the slots without waiting, starting from a random one; a blocked acquirer polls (20 us growing to 1 ms)
until a slot frees or its timeout passes. Across threads: each process remembers the slots its threads
hold (a second flock on the same descriptor would succeed) under a ``threading.Lock``.

Interrupts (issue 11; see ``local`` for where they can land): a slot's flock and its record in
``mine`` are taken and given back together, so after an interrupt a slot is held (recorded) or free;
a slot recorded just before an interrupt on the way out of ``_try_acquire`` is given back there.
"""

from __future__ import annotations

import fcntl
import random
import secrets
import threading
import time
import weakref
from typing import Any

from suitkaise_processing._private.concurrency.base import BaseSemaphore, deadline_of
from suitkaise_processing._private.concurrency.errors import LockNotHeldError
from suitkaise_processing._private.concurrency.files import (
    LOCK_EX_NB,
    MAX_POLL,
    attach,
    check_name,
    detach,
)
from suitkaise_processing._private.concurrency.stats import StatsRecorder

MAX_SLOTS = 1024  # one descriptor per slot in each process using the semaphore
_now = time.perf_counter


class _SemState:
    """In-process state of one named semaphore: the slots this process holds, and since when."""

    __slots__ = ("guard", "mine")

    def __init__(self) -> None:
        self.guard = threading.Lock()
        self.mine: dict[int, float] = {}  # slot -> perf_counter() when taken


class LocalSemaphore(BaseSemaphore):
    """At most ``max_concurrent`` holders at once, across threads and processes using the name.

    Without a name it gets a unique one (it pickles by name, so it works across processes when passed
    to them). Every process using a name must pass the same ``max_concurrent``. A slot held by a
    process that dies comes back at once.
    """

    def __init__(self, max_concurrent: int, name: str | None = None) -> None:
        if not isinstance(max_concurrent, int) or not 1 <= max_concurrent <= MAX_SLOTS:
            raise ValueError(
                f"max_concurrent must be an int from 1 to {MAX_SLOTS}, got {max_concurrent!r}"
            )
        self.max_concurrent = max_concurrent
        self.name = check_name(name) if name is not None else f"anonymous-{secrets.token_hex(12)}"
        self._stats = StatsRecorder()
        self._node = attach("sem", self.name, max_concurrent, _SemState)
        weakref.finalize(self, detach, self._node)

    def __reduce__(self) -> tuple[Any, ...]:
        return (LocalSemaphore, (self.max_concurrent, self.name))

    def __repr__(self) -> str:
        held = len(self._node.state.mine)
        return f"LocalSemaphore({self.max_concurrent}, name={self.name!r}) <{held} held here>"

    def _try_acquire(self, start: float | None = None) -> bool:
        """One try; counts a success as uncontended, or (``start``: when the wait began) as waited."""
        node = self._node
        st = node.state
        taken = -1  # the slot this call recorded in st.mine
        try:
            with st.guard:
                node.open()
                mine, slots, now = st.mine, self.max_concurrent, _now()
                first = random.randrange(slots)
                for k in range(slots):
                    slot = (first + k) % slots
                    if slot in mine:
                        continue
                    try:
                        fcntl.flock(node.fds[slot], LOCK_EX_NB)
                    except BlockingIOError:
                        continue
                    except BaseException:  # an interrupt right after the flock was taken
                        fcntl.flock(node.fds[slot], fcntl.LOCK_UN)
                        raise
                    mine[slot] = now
                    taken = slot
                    break
            if taken >= 0:
                if start is None:
                    self._stats.acquisitions += 1
                else:
                    self._stats.waited(_now() - start)
        except BaseException:
            if taken >= 0:  # recorded, then interrupted on the way out: give the slot back
                with st.guard:
                    try:
                        del st.mine[taken]
                    finally:
                        fcntl.flock(node.fds[taken], fcntl.LOCK_UN)
            raise
        return taken >= 0

    def acquire(self, blocking: bool = True, timeout: float | None = None) -> bool:
        if self._try_acquire():
            return True
        if not blocking:
            return False
        start = _now()
        deadline = deadline_of(blocking, timeout)
        delay = 20e-6
        while True:
            now = _now()
            if deadline is not None and now >= deadline:
                self._stats.timeouts += 1
                return False
            time.sleep(delay if deadline is None else min(delay, deadline - now))
            delay = min(delay * 2, MAX_POLL)
            if self._try_acquire(start):
                return True

    def release(self) -> None:
        node = self._node
        st = node.state
        with st.guard:
            if not st.mine:
                raise LockNotHeldError(
                    f"release() of LocalSemaphore {self.name!r}, of which this process holds no slot"
                )
            slot = min(st.mine, key=st.mine.__getitem__)  # the oldest (threads share the count)
            since = st.mine[slot]
            try:
                del st.mine[slot]
            finally:  # the record and the flock go together, even when interrupted in between
                fcntl.flock(node.fds[slot], fcntl.LOCK_UN)
        self._stats.held(_now() - since)

    def locked(self) -> bool:
        node = self._node
        st = node.state
        with st.guard:
            node.open()
            for slot in range(self.max_concurrent):
                if slot in st.mine:
                    continue
                try:
                    fcntl.flock(node.fds[slot], LOCK_EX_NB)
                except BlockingIOError:
                    continue
                finally:  # only slots not held here are tried: the unlock is always ours to do
                    fcntl.flock(node.fds[slot], fcntl.LOCK_UN)
                return False
        return True

    @property
    def holders_here(self) -> int:
        """How many slots this process holds now."""
        return len(self._node.state.mine)
