"""The seam between a ``Pool`` and what runs its items.

A backend takes the calls (:class:`._jobs.Job`) of one Pool and runs their chunks: the local worker
processes (:class:`._engine.Engine`) or a Dask cluster (:class:`._dask_backend.DaskEngine`). The Pool,
its modifiers and the result collectors (:mod:`._results`) see only this protocol; a backend for
another engine is one more module that implements it. :class:`ClosingBackend` is the ``close()``
both backends share.
"""

from __future__ import annotations

import abc
import threading
from collections.abc import Callable
from typing import Protocol

from suitkaise_processing._private.errors import PoolError
from suitkaise_processing._private.pool._jobs import Batching, Job
from suitkaise_processing._private.pool._protocol import PoolState


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


class ClosingBackend(abc.ABC):
    """The ``close()`` both backends share: finish the calls that were started, fail those whose
    input was not read to the end, then let the backend stop its workers (:meth:`_stop_workers`,
    under the lock) and release what it holds (:meth:`_release`)."""

    state: PoolState
    _lock: threading.Lock
    _cond: threading.Condition
    _jobs: list[Job]

    @abc.abstractmethod
    def idle(self) -> bool:
        """Nothing in flight and nothing that could be dispatched (under the lock)."""

    @abc.abstractmethod
    def run_until(self, done: Callable[[], bool], deadline: float | None) -> bool:
        """See :meth:`Backend.run_until`."""

    @abc.abstractmethod
    def _stop_workers(self) -> None:
        """Under the lock, once the pool is closed: stop the workers and wake the waiting callers."""

    @abc.abstractmethod
    def _release(self) -> None:
        """After the lock is released: release the pool's resources."""

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
