"""The seam between a ``Pool`` and what runs its items.

A backend takes the calls (:class:`._jobs.Job`) of one Pool and runs their chunks: the local worker
processes (:class:`._engine.Engine`) or a Dask cluster (:class:`._dask_backend.DaskEngine`). The Pool,
its modifiers and the result collectors (:mod:`._results`) see only this protocol; a backend for
another engine is one more module that implements it. :class:`JobsBackend` is what both backends
do alike with their jobs (round-robin chunks, learned item times, ``close()``).
"""

from __future__ import annotations

import abc
import threading
import time
from collections.abc import Callable
from typing import Protocol

from suitkaise_processing._private import wire
from suitkaise_processing._private.errors import PoolError
from suitkaise_processing._private.pool._jobs import Batching, Chunk, Job
from suitkaise_processing._private.pool._protocol import PoolState
from suitkaise_processing._private.pool._unsendable import unsendable_argument


class Backend(Protocol):
    """What a Pool asks of the thing that runs its items."""

    #: life stage (open, closing, closed, terminated)
    state: PoolState
    #: what happens to the running items of a call that is stopped (for error messages)
    stop_note: str

    @property
    def batching(self) -> Batching:
        """How adaptive chunks are sized for this backend's cost per chunk."""
        ...

    @property
    def size(self) -> int:
        """How many items can run at once (worker processes, or the cluster's threads)."""
        ...

    def submit(self, make_job: Callable[[int], Job]) -> Job:
        """Register a new job built by ``make_job(job_id)``."""
        ...

    def estimate(self, fn_blob: bytes) -> float | None:
        """Seconds per item measured for this function in earlier calls, if any."""
        ...

    def run_until(self, done: Callable[[], bool], deadline: float | None) -> bool:
        """Run until ``done()`` (evaluated under the backend's lock) is true; ``False`` if the
        ``time.monotonic()`` ``deadline`` passed first."""
        ...

    def finish(self, job: Job, *, kill: bool = False) -> None:
        """The consumer of ``job`` is done with it; with ``kill``, stop its running items if possible."""
        ...

    def wake(self) -> None:
        """Safe from a finalizer (no lock): a job was abandoned, look at the jobs again."""
        ...

    def close(self) -> None:
        """Finish what was started, then release the workers (idempotent)."""
        ...

    def terminate(self) -> None:
        """Stop now; unfinished calls raise ``PoolError`` (idempotent)."""
        ...


def time_left(deadline: float | None) -> float | None:
    """Seconds until ``deadline`` (a ``time.monotonic()`` value; <= 0 once passed), ``None`` without one."""
    return None if deadline is None else deadline - time.monotonic()


class JobsBackend(abc.ABC):
    """What both backends do alike with their jobs: take chunks from them in turn, remember the item
    time each function showed, refuse new jobs once broken or closed, cut a chunk at an item that
    cannot be sent, and ``close()``: finish the started calls, fail those whose input was not read to
    the end, then let the backend stop its workers (:meth:`_stop_workers`, under the lock) and
    release what it holds (:meth:`_release`)."""

    state: PoolState
    broken: BaseException | None
    _lock: threading.Lock
    _cond: threading.Condition
    _jobs: list[Job]
    _next_job: int
    #: the next job to take a chunk from, round robin
    _rr: int
    #: seconds per item by function bytes, the most recent last (:meth:`estimate`)
    _item_times: dict[bytes, float]

    @abc.abstractmethod
    def idle(self) -> bool:
        """Nothing in flight and nothing that could be dispatched (under the lock)."""

    @abc.abstractmethod
    def run_until(self, done: Callable[[], bool], deadline: float | None) -> bool:
        """See :meth:`Backend.run_until`."""

    @abc.abstractmethod
    def _encode(self, chunk: Chunk) -> bool:
        """Encode ``chunk`` once; ``False`` if none of its items can be sent (their errors filed)."""

    @abc.abstractmethod
    def _stop_workers(self) -> None:
        """Under the lock, once the pool is closed: stop the workers and wake the waiting callers."""

    @abc.abstractmethod
    def _release(self) -> None:
        """After the lock is released: release the pool's resources."""

    def _new_job(self, make_job: Callable[[int], Job]) -> Job:
        """``make_job(job_id)``, unless the pool is broken or no longer open (under the lock)."""
        if self.broken is not None:
            raise PoolError(f"the pool is broken: {self.broken}") from self.broken
        if self.state is not PoolState.OPEN:
            raise PoolError(f"the pool is {self.state}; create a new Pool to run more work")
        job = make_job(self._next_job)
        self._next_job += 1
        return job

    def estimate(self, fn_blob: bytes) -> float | None:
        """Seconds per item measured for this function in earlier calls, if any."""
        with self._lock:
            return self._item_times.get(fn_blob)

    def _remember_item_time(self, job: Job) -> None:
        """Keep what ``job`` measured for its function (the last 128 functions; under the lock)."""
        if job.item_time is not None and not job.skprocess:
            self._item_times.pop(job.fn_blob, None)
            self._item_times[job.fn_blob] = job.item_time
            if len(self._item_times) > 128:
                del self._item_times[next(iter(self._item_times))]

    def _next_chunk(self) -> Chunk | None:
        """The next encoded chunk, taking the jobs in turn (under the lock)."""
        jobs = self._jobs
        count = len(jobs)
        for _ in range(count):
            job = jobs[self._rr % count]
            self._rr += 1
            while True:
                chunk = job.next_chunk()
                if chunk is None:
                    break
                if self._encode(chunk):
                    return chunk
        return None

    @staticmethod
    def _cut_unsendable(chunk: Chunk, where: str) -> bool:
        """``chunk`` could not be encoded: file the error of its first item that cannot be sent,
        keep (encoded by reference) the items before it; ``False`` if there are none."""
        index, err = unsendable_argument(chunk.items, chunk.start, where)
        chunk.job.add_part(chunk.start + index, [], err, 0.0)
        if index == 0:
            return False
        chunk.items = chunk.items[:index]
        chunk.payload = wire.encode_by_reference(chunk.items)
        return True

    def close(self) -> None:
        """Finish what was started, then release the workers (idempotent)."""
        with self._lock:
            if self.state in (PoolState.CLOSED, PoolState.TERMINATED):
                return
            self.state = PoolState.CLOSING
        self.run_until(self.idle, None)
        with self._cond:
            if self.state is PoolState.TERMINATED:
                return
            self.state = PoolState.CLOSED
            for job in self._jobs:
                job.fail(
                    PoolError("the pool was closed before this call finished reading its input")
                )
            self._jobs.clear()
            self._stop_workers()
        self._release()
