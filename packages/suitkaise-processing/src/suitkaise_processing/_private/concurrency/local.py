"""``LocalLock``: a mutex shared by name between the threads and processes of one machine.

Across processes: ``flock(LOCK_EX)`` on data file 0 of the name's group (see ``files``); the kernel
drops it when the holder dies. Across threads: a ``threading.Lock`` per name in each process, taken
before the file lock (flock does not exclude threads sharing a descriptor). Uncontended, an
acquire+release is two flock calls, two ``threading.Lock`` calls and two ``perf_counter`` calls.
"""

from __future__ import annotations

import fcntl
import secrets
import threading
import time
import weakref
from typing import Any

from suitkaise_processing._private.concurrency.base import BaseLock, deadline_of
from suitkaise_processing._private.concurrency.errors import LockNotHeldError
from suitkaise_processing._private.concurrency.files import (
    LOCK_EX_NB,
    attach,
    check_name,
    detach,
    flock_wait,
)
from suitkaise_processing._private.concurrency.stats import StatsRecorder

_flock = fcntl.flock
_UN = fcntl.LOCK_UN
_now = time.perf_counter
_ident = threading.get_ident


class _MutexState:
    """In-process state of one named mutex (shared by every ``LocalLock`` of the name in this process)."""

    __slots__ = ("depth", "held", "holder", "owner", "since", "tlock")

    def __init__(self) -> None:
        self.tlock = threading.Lock()
        self.held = False
        self.since = 0.0
        self.holder: StatsRecorder | None = None
        self.owner = 0  # thread id of a reentrant holder
        self.depth = 0  # reentrant depth


class LocalLock(BaseLock):
    """A lock shared by name between threads and processes of this machine.

    ``LocalLock()`` without a name gets a unique one: it works across threads, and across processes
    when passed to them (it pickles by name). ``reentrant=True``: the holding thread may take it again
    (release as many times). A holder that dies releases it at once (the kernel drops its flock).
    """

    def __init__(self, name: str | None = None, *, reentrant: bool = False) -> None:
        self.name = check_name(name) if name is not None else f"anonymous-{secrets.token_hex(12)}"
        self.reentrant = reentrant
        self._stats = StatsRecorder()
        self._node = attach("lock", self.name, 1, _MutexState)
        weakref.finalize(self, detach, self._node)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self.name, self.reentrant))

    def __repr__(self) -> str:
        state = "held here" if self._node.state.held else "not held here"
        return f"LocalLock({self.name!r}{', reentrant=True' if self.reentrant else ''}) <{state}>"

    def acquire(self, blocking: bool = True, timeout: float | None = None) -> bool:
        if timeout is not None:
            deadline_of(blocking, timeout)  # checks the arguments
        node = self._node
        st = node.state
        if self.reentrant and st.held and st.owner == _ident():
            st.depth += 1
            return True
        if st.tlock.acquire(False):
            try:
                _flock(node.fds[0], LOCK_EX_NB)
            except (OSError, ValueError):  # busy, or closed after a fork (fd -1): the slow path
                return self._acquire_slow(blocking, timeout, True)
            stats = self._stats
            st.held = True
            st.holder = stats
            stats.acquisitions += 1
            if self.reentrant:
                st.owner = _ident()
                st.depth = 1
            st.since = _now()
            return True
        return self._acquire_slow(blocking, timeout, False)

    def _acquire_slow(self, blocking: bool, timeout: float | None, have_tlock: bool) -> bool:
        node = self._node
        st = node.state
        start = _now()
        deadline = deadline_of(blocking, timeout)
        if not have_tlock:
            if not blocking:
                return False
            if not st.tlock.acquire(
                timeout=-1 if deadline is None else max(0.0, deadline - _now())
            ):
                self._stats.timeouts += 1
                return False
        try:
            node.open()  # reopens after a fork; a no-op otherwise
            got = flock_wait(node.fds[0], fcntl.LOCK_EX, deadline, blocking)
        except BaseException:
            st.tlock.release()
            raise
        if not got:
            st.tlock.release()
            if blocking:
                self._stats.timeouts += 1
            return False
        self._took(_now() - start)
        return True

    def _took(self, wait: float) -> None:
        st = self._node.state
        st.held = True
        st.holder = self._stats
        self._stats.waited(wait)
        if self.reentrant:
            st.owner = _ident()
            st.depth = 1
        st.since = _now()

    def release(self) -> None:
        node = self._node
        st = node.state
        if not st.held:
            raise LockNotHeldError(
                f"release() of LocalLock {self.name!r}, which this process does not hold"
            )
        if st.owner:  # a reentrant hold
            if st.owner != _ident():
                raise LockNotHeldError(
                    f"release() of reentrant LocalLock {self.name!r} from a thread that does not hold it"
                )
            st.depth -= 1
            if st.depth:
                return
            st.owner = 0
        hold = _now() - st.since
        holder = st.holder
        if holder is not None:
            holder.total_hold += hold
            if hold > holder.max_hold:
                holder.max_hold = hold
        st.held = False
        _flock(node.fds[0], _UN)
        st.tlock.release()

    def locked(self) -> bool:
        if self._node.state.held:
            return True
        if not self._try_acquire():
            return True
        self.release()
        self._stats.acquisitions -= 1
        return False

    def _try_acquire(self) -> bool:
        node = self._node
        st = node.state
        if self.reentrant and st.held and st.owner == _ident():
            st.depth += 1
            return True
        if not st.tlock.acquire(False):
            return False
        try:
            node.open()
            got = flock_wait(node.fds[0], fcntl.LOCK_EX, None, blocking=False)
        except BaseException:
            st.tlock.release()
            raise
        if not got:
            st.tlock.release()
            return False
        st.held = True
        st.holder = self._stats
        self._stats.acquisitions += 1
        if self.reentrant:
            st.owner = _ident()
            st.depth = 1
        st.since = _now()
        return True


def _rebuild(name: str, reentrant: bool) -> LocalLock:
    return LocalLock(name, reentrant=reentrant)
