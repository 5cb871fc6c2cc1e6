"""``ReadWriteLock``: many readers or one writer, across the threads and processes of one machine.

Across processes (data files of the name's group, see ``files``)::

    file 0  gate:   a writer holds it (LOCK_EX) from its arrival until it owns file 1, so readers that come
                    after a waiting writer queue behind it (no writer starvation); a reader takes it
                    only for the moment of taking file 1
    file 1  region: LOCK_SH while this process has readers, LOCK_EX while it has the writer

Across threads: a condition variable per name in each process keeps the count of this process's readers
(the first takes the process's LOCK_SH, the last drops it) and lets a waiting writer block new readers.
The kernel drops a dead process's locks at once. Not reentrant: a thread holding a read lock that asks
for another while a writer waits deadlocks, as with most read-write locks.
"""

from __future__ import annotations

import asyncio
import collections
import fcntl
import secrets
import threading
import time
import weakref
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from suitkaise_processing._private.concurrency.base import ASYNC_MAX_POLL, deadline_of
from suitkaise_processing._private.concurrency.errors import LockNotHeldError, LockTimeoutError
from suitkaise_processing._private.concurrency.files import (
    LOCK_EX_NB,
    LOCK_SH_NB,
    Node,
    attach,
    check_name,
    detach,
    flock_wait,
)
from suitkaise_processing._private.concurrency.stats import LockStats, StatsRecorder

_now = time.perf_counter
GATE, REGION = 0, 1


class _RWState:
    """In-process state of one named read-write lock."""

    def __init__(self) -> None:
        # ``with st.mutex``, never ``with st.cond``: Condition.__enter__/__exit__ are Python
        # functions, and an interrupt at their start or end left the mutex held for ever.
        self.mutex = threading.Lock()
        self.cond = threading.Condition(self.mutex)
        self.readers = 0  # this process's readers (the process holds REGION shared while > 0)
        self.writer = False  # this process's writer holds, or is taking, REGION exclusive
        self.waiting_writers = 0
        self.busy = False  # the first reader is taking the file lock
        self.sleepers = 0  # threads in cond.wait(): notify only when there are some
        self.read_since: collections.deque[float] = collections.deque()
        self.write_since = 0.0


def _take_file(
    node: Node[_RWState], exclusive: bool, deadline: float | None, blocking: bool
) -> bool:
    """Take this process's file lock (readers: shared, writer: exclusive) through the gate.

    Called by one thread of the process at a time (the first reader, ``st.busy``, or the writer), so
    an unlock of the gate or region it may not have got is always harmless.
    """
    if node.presence < 0:
        node.open()  # after a fork
    gate, region = node.fds[GATE], node.fds[REGION]
    op = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
    got = False
    try:
        try:
            try:
                fcntl.flock(gate, LOCK_EX_NB)
            except BlockingIOError:
                if not flock_wait(gate, fcntl.LOCK_EX, deadline, blocking):
                    return False
            try:
                fcntl.flock(region, op | fcntl.LOCK_NB)
                got = True
            except BlockingIOError:
                got = flock_wait(region, op, deadline, blocking)
        finally:
            fcntl.flock(gate, fcntl.LOCK_UN)
    except BaseException:  # an interrupt after the region was taken (up to the gate's unlock)
        fcntl.flock(region, fcntl.LOCK_UN)
        raise
    return got


class ReadWriteLock:
    """Many readers or one writer; a waiting writer blocks new readers.

    ``ReadWriteLock("name")`` is the same lock in every process of the machine (and pickles by name);
    without a name it gets a unique one. ``with rw.read():`` / ``with rw.write():`` (both take
    ``timeout=`` and raise ``LockTimeoutError`` when it passes), ``async with rw.read_async():``, or the
    explicit ``acquire_read`` / ``release_read`` / ``acquire_write`` / ``release_write``.
    """

    def __init__(self, name: str | None = None) -> None:
        self.name = check_name(name) if name is not None else f"anonymous-{secrets.token_hex(12)}"
        self._stats = StatsRecorder()
        self._node = attach("rw", self.name, 2, _RWState)
        weakref.finalize(self, detach, self._node)

    def __reduce__(self) -> tuple[Any, ...]:
        return (ReadWriteLock, (self.name,))

    def __repr__(self) -> str:
        st = self._node.state
        return (
            f"ReadWriteLock({self.name!r}) <readers here: {st.readers}, writer here: {st.writer}>"
        )

    @property
    def stats(self) -> LockStats:
        """Reads and writes of this object in this process (a snapshot)."""
        return self._stats.snapshot()

    # --- readers -------------------------------------------------------------------------------
    # An interrupt (issue 11; see ``local``) can land after each call. Every change of the state
    # is made under ``st.mutex`` by plain stores after the last call, and a ``counted`` / ``got``
    # flag set with it tells the handler to undo it when an interrupt lands before the return.
    def acquire_read(self, blocking: bool = True, timeout: float | None = None) -> bool:
        start = _now()
        deadline = None if timeout is None else deadline_of(blocking, timeout)
        st = self._node.state
        counted = False  # this call is one of st.readers
        first = False  # this call set st.busy: it takes the region for the process
        try:
            with st.mutex:
                if not _wait_for(st, _readers_may_enter, deadline, blocking):
                    return self._gave_up(blocking)
                if st.readers:
                    st.readers += 1
                    counted = True
                else:
                    st.busy = True
                    first = True
            if first:
                got = _take_file(self._node, False, deadline, blocking)
                with st.mutex:
                    st.busy = False
                    first = False
                    if got:
                        st.readers = 1
                        counted = True
                    if st.sleepers:
                        st.cond.notify_all()
                if not got:
                    return self._gave_up(blocking)
            self._took_read(start)
        except BaseException:
            if first:  # interrupted while taking the region: give it back (if it got it)
                with st.mutex:
                    st.busy = False
                    try:
                        fcntl.flock(self._node.fds[REGION], fcntl.LOCK_UN)
                    finally:
                        st.cond.notify_all()
            elif counted:
                self.release_read()
            raise
        return True

    def release_read(self) -> None:
        st = self._node.state
        with st.mutex:
            if not st.readers:
                raise LockNotHeldError(
                    f"release_read() of ReadWriteLock {self.name!r} with no reader here"
                )
            since = st.read_since.popleft() if st.read_since else None
            st.readers -= 1
            if not st.readers:
                try:
                    fcntl.flock(self._node.fds[REGION], fcntl.LOCK_UN)
                finally:
                    if st.sleepers:
                        st.cond.notify_all()
        if since is not None:
            self._stats.held(_now() - since)

    # --- writers -------------------------------------------------------------------------------
    def acquire_write(self, blocking: bool = True, timeout: float | None = None) -> bool:
        start = _now()
        deadline = None if timeout is None else deadline_of(blocking, timeout)
        st = self._node.state
        claimed = False  # this call set st.writer
        got = False  # ... and holds the region
        try:
            with st.mutex:
                st.waiting_writers += 1
                try:
                    ready = _wait_for(st, _writer_may_enter, deadline, blocking)
                except BaseException:
                    st.waiting_writers -= 1
                    st.cond.notify_all()  # readers held back by this writer may go
                    raise
                st.waiting_writers -= 1
                if not ready:
                    st.cond.notify_all()
                    return self._gave_up(blocking)
                st.writer = True
                claimed = True
            got = _take_file(self._node, True, deadline, blocking)
            if not got:
                with st.mutex:
                    st.writer = False
                    claimed = False
                    st.cond.notify_all()
                return self._gave_up(blocking)
            wait = _now() - start
            if wait > 20e-6:
                self._stats.waited(wait)
            else:
                self._stats.acquisitions += 1
            st.write_since = _now()
        except BaseException:
            if got:
                self.release_write()
            elif claimed:  # interrupted while taking the region: give it back (if it got it)
                with st.mutex:
                    st.writer = False
                    try:
                        fcntl.flock(self._node.fds[REGION], fcntl.LOCK_UN)
                    finally:
                        st.cond.notify_all()
            raise
        return True

    def release_write(self) -> None:
        st = self._node.state
        with st.mutex:
            if not st.writer:
                raise LockNotHeldError(
                    f"release_write() of ReadWriteLock {self.name!r} with no writer here"
                )
            since = st.write_since
            try:
                fcntl.flock(self._node.fds[REGION], fcntl.LOCK_UN)
            finally:
                st.writer = False
                if st.sleepers:
                    st.cond.notify_all()
        self._stats.held(_now() - since)

    def locked(self) -> bool:
        """Whether a writer holds it (here or in another process)."""
        st = self._node.state
        with st.mutex:
            if st.writer:
                return True
            if st.readers or st.busy:
                return False
            self._node.open()
            region = self._node.fds[REGION]
            try:
                fcntl.flock(region, LOCK_SH_NB)
            except BlockingIOError:
                return True
            finally:  # no reader or writer here: the region is not ours, an unlock is harmless
                fcntl.flock(region, fcntl.LOCK_UN)
            return False

    # --- context managers ----------------------------------------------------------------------
    @contextmanager
    def read(self, timeout: float | None = None) -> Iterator[None]:
        """``with rw.read():`` shared access; ``LockTimeoutError`` after ``timeout`` seconds."""
        if not self.acquire_read(timeout=timeout):
            raise self._timeout_error("read", timeout)
        try:
            yield
        finally:
            self.release_read()

    @contextmanager
    def write(self, timeout: float | None = None) -> Iterator[None]:
        """``with rw.write():`` exclusive access; ``LockTimeoutError`` after ``timeout`` seconds."""
        if not self.acquire_write(timeout=timeout):
            raise self._timeout_error("write", timeout)
        try:
            yield
        finally:
            self.release_write()

    async def acquire_read_async(self, timeout: float | None = None) -> bool:
        return await _poll(lambda: self.acquire_read(blocking=False), timeout)

    async def acquire_write_async(self, timeout: float | None = None) -> bool:
        return await _poll(lambda: self.acquire_write(blocking=False), timeout)

    @asynccontextmanager
    async def read_async(self, timeout: float | None = None) -> AsyncIterator[None]:
        """``async with rw.read_async():`` like :meth:`read` without blocking the event loop."""
        if not await self.acquire_read_async(timeout):
            raise self._timeout_error("read", timeout)
        try:
            yield
        finally:
            self.release_read()

    @asynccontextmanager
    async def write_async(self, timeout: float | None = None) -> AsyncIterator[None]:
        """``async with rw.write_async():`` like :meth:`write` without blocking the event loop."""
        if not await self.acquire_write_async(timeout):
            raise self._timeout_error("write", timeout)
        try:
            yield
        finally:
            self.release_write()

    # --- helpers -------------------------------------------------------------------------------
    def _took_read(self, start: float) -> bool:
        now = _now()
        wait = now - start
        if wait > 20e-6:
            self._stats.waited(wait)
        else:
            self._stats.acquisitions += 1
        self._node.state.read_since.append(now)
        return True

    def _gave_up(self, blocking: bool) -> bool:
        if blocking:
            self._stats.timeouts += 1
        return False

    def _timeout_error(self, mode: str, timeout: float | None) -> LockTimeoutError:
        return LockTimeoutError(
            f"ReadWriteLock {self.name!r}: no {mode} access after {timeout} s; "
            "raise the timeout or find the holder (see .stats)"
        )


def _readers_may_enter(st: _RWState) -> bool:
    return not (st.writer or st.waiting_writers or st.busy)


def _writer_may_enter(st: _RWState) -> bool:
    return not (st.writer or st.readers or st.busy)


def _wait_for(
    st: _RWState, ready: Callable[[_RWState], bool], deadline: float | None, blocking: bool
) -> bool:
    """With ``st.mutex`` held: wait until ``ready(st)``; ``False`` when it is not and ``blocking`` is
    false or ``deadline`` passes. (A function of its own: on CPython 3.13.0 an interrupt on the
    backward jump of a loop written directly in a ``with`` block skipped the release, gh-130279.)"""
    while not ready(st):
        if not blocking:
            return False
        if deadline is None:
            left = None
        else:
            left = deadline - _now()
            if left <= 0:
                return False
        st.sleepers += 1
        try:
            st.cond.wait(left)
        finally:
            st.sleepers -= 1
    return True


async def _poll(attempt: Callable[[], bool], timeout: float | None) -> bool:
    deadline = deadline_of(True, timeout)
    delay = 20e-6
    while not attempt():
        now = _now()
        if deadline is not None and now >= deadline:
            return False
        await asyncio.sleep(delay if deadline is None else min(delay, deadline - now))
        delay = min(delay * 2, ASYNC_MAX_POLL)
    return True
