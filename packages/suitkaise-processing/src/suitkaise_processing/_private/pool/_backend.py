"""The seam between a ``Pool`` and what runs its items.

A backend takes the calls (:class:`._jobs.Job`) of one Pool and runs their chunks: the local worker
processes (:class:`._engine.Engine`) or a Dask cluster (:class:`._dask_backend.DaskEngine`). The Pool,
its modifiers and the result collectors (:mod:`._results`) see only this protocol; a backend for
another engine is one more module that implements it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

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
