"""``LocalLock``: a mutex shared by name between the threads and processes of one machine.

Across processes: ``flock(LOCK_EX)`` on data file 0 of the name's group (see ``files``); the kernel
drops it when the holder dies. Across threads: a ``threading.Lock`` per name in each process, taken
before the file lock (flock does not exclude threads sharing a descriptor). Uncontended, an
acquire+release is two flock calls, two ``threading.Lock`` calls and two ``perf_counter`` calls.

Interrupts (issue 11): a ``KeyboardInterrupt`` from a signal handler, or an exception injected with
``PyThreadState_SetAsyncExc``, is raised when a call returns (and at a function's start and a loop's
backward jump), never between two plain stores. So every take happens inside a ``try`` whose handler
gives back what this call holds (``have`` says whether it holds the thread lock: the non-blocking
take runs as one step of a ``for`` over ``map(tlock.acquire, ...)``, which stores the result with no
interrupt point in between; an unlock of a flock it may not have got is harmless, since only the
thread lock's holder touches the flock). The hold is recorded by plain stores after the last call,
and ``release`` gives back the thread lock in a ``finally``. The lock is therefore held, fully, or
not at all after an interrupt; never half.
"""

from __future__ import annotations

import fcntl
import itertools
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

    __slots__ = ("attempt", "depth", "held", "holder", "owner", "since", "tlock")

    def __init__(self) -> None:
        self.tlock = threading.Lock()
        # ``for have in attempt: break`` is one ``tlock.acquire(False)`` whose result is stored
        # before the next point where an interrupt can be raised (see the interrupt note above).
        self.attempt = map(self.tlock.acquire, itertools.repeat(False))
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
        have = False  # this call holds st.tlock
        try:
            for have in st.attempt:  # noqa: B007 (the loop stores the result)
                break
            if have:
                try:
                    _flock(node.fds[0], LOCK_EX_NB)
                except (OSError, ValueError):  # busy, or closed after a fork (fd -1): the slow path
                    pass
                else:
                    stats = self._stats
                    stats.acquisitions += 1
                    if self.reentrant:  # read only while held: safe to set before
                        st.owner = _ident()
                        st.depth = 1
                    now = _now()
                    # no call from here to the return: no interrupt can fall in between
                    st.held = True
                    st.holder = stats
                    st.since = now
                    return True
            elif not blocking:
                return False
            start = _now()
            deadline = deadline_of(blocking, timeout)
            if not have:
                left = -1.0 if deadline is None else max(0.0, deadline - _now())
                for have in map(st.tlock.acquire, (True,), (left,)):  # noqa: B007
                    break
                if not have:
                    self._stats.timeouts += 1
                    return False
            node.open()  # reopens after a fork; a no-op otherwise
            if not flock_wait(node.fds[0], fcntl.LOCK_EX, deadline, blocking):
                have = False
                st.tlock.release()
                if blocking:
                    self._stats.timeouts += 1
                return False
            self._took(_now() - start)
            return True
        except BaseException:
            if have:  # taken by this call: give back the thread lock and the flock (if it got that)
                st.held = False  # recorded already when the interrupt fell just before the return
                st.owner = 0
                st.depth = 0
                try:
                    _flock(node.fds[0], _UN)
                except (OSError, ValueError):
                    pass
                finally:
                    st.tlock.release()
            raise

    def _took(self, wait: float | None) -> None:
        """Record the hold (``wait`` None: an uncontended one); every call comes before the stores."""
        st = self._node.state
        stats = self._stats
        if wait is None:
            stats.acquisitions += 1
        else:
            stats.waited(wait)
        if self.reentrant:  # read only while held: safe to set before
            st.owner = _ident()
            st.depth = 1
        now = _now()
        st.held = True
        st.holder = stats
        st.since = now

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
            if st.depth > 1:
                st.depth -= 1
                return
        hold = _now() - st.since
        holder = st.holder
        if holder is not None:
            holder.total_hold += hold
            if hold > holder.max_hold:
                holder.max_hold = hold
        # no call from here to the flock's unlock: no interrupt can fall in between
        if st.owner:
            st.owner = 0
            st.depth = 0
        st.held = False
        try:
            _flock(node.fds[0], _UN)
        finally:
            st.tlock.release()

    def locked(self) -> bool:
        node = self._node
        st = node.state
        if st.held:
            return True
        have = False
        try:
            for have in st.attempt:  # noqa: B007 (the loop stores the result)
                break
            if not have:
                return True  # another thread of this process is taking or giving it back
            node.open()
            try:
                _flock(node.fds[0], LOCK_EX_NB)
            except BlockingIOError:
                return True
            return False
        finally:
            if have:  # gives back the flock too, if this call got it
                try:
                    _flock(node.fds[0], _UN)
                except (OSError, ValueError):
                    pass
                finally:
                    st.tlock.release()

    def _try_acquire(self) -> bool:
        node = self._node
        st = node.state
        if self.reentrant and st.held and st.owner == _ident():
            st.depth += 1
            return True
        have = False
        try:
            for have in st.attempt:  # noqa: B007 (the loop stores the result)
                break
            if not have:
                return False
            node.open()
            if not flock_wait(node.fds[0], fcntl.LOCK_EX, None, blocking=False):
                have = False
                st.tlock.release()
                return False
            self._took(None)
            return True
        except BaseException:
            if have:
                st.held = False
                st.owner = 0
                st.depth = 0
                try:
                    _flock(node.fds[0], _UN)
                except (OSError, ValueError):
                    pass
                finally:
                    st.tlock.release()
            raise


def _rebuild(name: str, reentrant: bool) -> LocalLock:
    return LocalLock(name, reentrant=reentrant)
