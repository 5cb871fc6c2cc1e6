"""``Pool(cluster=...)``: the Pool's calls run as Dask tasks on a ``distributed`` cluster.

Imported only when a Pool is given a cluster (``distributed`` is the optional extra
``suitkaise-processing[dask]``). The calls are the same :class:`._jobs.Job` objects as on local
workers, so ordering, errors, read-ahead, progress and modifiers behave the same; only the running
differs:

- Each chunk (sized by ``Job`` with :data:`DASK_BATCHING`: a Dask task costs ~1-2 ms, so chunks
  carry ~0.2 s of work, up to one per thread when items are tiny) is one task,
  :func:`._dask_task.run_batch`, whose arguments and result are plain bytes and tuples (see that
  module): Dask never walks into the items. The function is serialized once per call with cucumber
  (lambdas and closures travel by value); large ones are scattered once instead of inlined.
- No thread of its own: the caller threads waiting in :meth:`DaskEngine.run_until` read the input
  and submit chunks (at most :data:`_INFLIGHT_PER_THREAD` per cluster thread in flight, and within a
  lazy call's read-ahead), and one of them at a time (the *leader*) takes the finished tasks: the
  client's event loop waits for each task and fetches its result as soon as it completes
  (:meth:`DaskEngine._collect`, like ``distributed.as_completed`` with results) and puts it on a
  queue the leader waits on, so a result costs one thread switch; the leader files it into its job
  and wakes the other callers.
- In the worker, each task runs in the state of its client program (:data:`PROGRAM`: functions,
  initialized pools, the namespaces of by-value modules) and, with ``forward_logs``, carries its
  items' log records back in its result; the leader hands them to this process's handlers before it
  files the task's results (:mod:`._dask_worker` says why not ``Client.forward_logging()``).
- A worker lost mid-task: Dask reschedules the task on another worker; a task whose workers died
  more than ``distributed.scheduler.allowed-failures`` times fails with ``KilledWorker``. A chunk of
  several items then runs again item by item, one such item in flight at a time (a worker's death
  counts against every task it holds, queued ones too), so the item that kills its worker fails alone
  with ``WorkerDiedError`` and the others give their results.
- Cancelling a call (an error in ``map``, a timeout, a closed iterator) cancels its tasks that have not
  started. A task already running finishes on its worker (Dask cannot stop a running task) and its
  result is dropped.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import logging
import queue
import socket
import threading
import time
import uuid
import weakref
from collections import deque
from collections.abc import Callable
from typing import Any

from suitkaise_processing._private import wire
from suitkaise_processing._private.errors import PoolError, WorkerDiedError
from suitkaise_processing._private.logforward import handle_forwarded
from suitkaise_processing._private.pool._backend import JobsBackend, time_left
from suitkaise_processing._private.pool._dask_task import DECODE_FAILED, DONE, PoolArgs, run_batch
from suitkaise_processing._private.pool._jobs import Batching, Chunk, Job
from suitkaise_processing._private.pool._legacy_errors import as_legacy_pool_error
from suitkaise_processing._private.pool._protocol import PoolState

try:
    import distributed
except ImportError as exc:  # pragma: no cover - the test environment has the extra
    raise PoolError(
        "Pool(cluster=...) runs on Dask, which is not installed: "
        "pip install 'suitkaise-processing[dask]' (or pip install distributed)"
    ) from exc

# distributed is not fully annotated: its entry points are handled as Any
_Client: Any = distributed.Client
_KilledWorker: type[Exception] = distributed.KilledWorker

#: a Dask task costs ~1-2 ms of scheduler and network time: chunks of ~0.2 s keep that near 1%,
#: tiny items get at least 50 ms of work per task (up to one task per thread), and a call of unknown
#: item time starts on the largest chunks (4 per thread): each wave of tasks costs a round trip
#: through the scheduler (~10 ms), so learning on small chunks first, as local workers do, would
#: cost more than it saves
DASK_BATCHING = Batching(target=0.2, min_work=0.05, ramp=1)
#: tasks per second the pool asks of the scheduler at most when its whole cluster is busy: the
#: scheduler ran 290-610 tasks/s on the shared 2-core test machine (about 1,000 on a core of its
#: own), so a large cluster gets longer chunks instead of a saturated scheduler (docs/scaling.md)
_SCHEDULER_TASKS_PER_S = 250.0
#: tasks in flight per cluster thread: one running, one waiting on the scheduler
_INFLIGHT_PER_THREAD = 2
#: a function of more bytes than this is scattered to the workers once, not inlined in every task
_SCATTER_BYTES = 64 * 1024
#: the cluster's thread count is asked again (in the background) when older than this (seconds)
_SIZE_TTL = 2.0
#: this process among the clients of a cluster: its by-value modules get namespaces of their own
#: in the Dask workers (:mod:`._dask_worker`); a forked child keeps it, as it keeps cucumber's ids
#: of the functions it sends
PROGRAM = uuid.uuid4().hex


_NO_ITEM_TIMEOUT = (
    "Pool(cluster=...) cannot enforce item_timeout: a Dask worker cannot stop a running task; "
    "bound the whole call with .timeout(seconds) instead"
)


def _close_client(client: Any) -> None:
    try:
        client.close()
    except Exception:
        pass


def _as_client(cluster: object) -> tuple[Any, bool]:
    """A ``distributed.Client`` for ``cluster``, and whether the pool owns (closes) it."""
    if isinstance(cluster, _Client):
        return cluster, False
    if isinstance(cluster, str) or hasattr(cluster, "scheduler_address"):
        try:
            return _Client(cluster, set_as_default=False), True
        except OSError as exc:
            raise PoolError(
                f"Pool(cluster={cluster!r}): could not connect to the Dask scheduler: {exc}; "
                "check the address (tcp://host:port) and that the scheduler runs"
            ) from exc
    raise TypeError(
        "Pool(cluster=...) takes a distributed.Client, a Dask cluster object or a scheduler address "
        f"such as 'tcp://127.0.0.1:8786', not {type(cluster).__name__}"
    )


class _Task:
    __slots__ = ("chunk", "future", "isolated")

    def __init__(self, chunk: Chunk, future: Any, isolated: bool) -> None:
        self.chunk = chunk
        self.future = future
        #: a suspect item (see ``DaskEngine._suspects``)
        self.isolated = isolated


class DaskEngine(JobsBackend):
    """The :class:`._backend.Backend` of a Pool whose workers are a Dask cluster."""

    stop_note = (
        "its tasks still running finish on their Dask workers (Dask cannot stop a running task) "
        "and their results are dropped"
    )

    def __init__(
        self,
        cluster: object,
        initializer: Callable[..., object] | None,
        initargs: tuple[Any, ...],
        *,
        recycling: object = None,
        item_timeout: float | None = None,
        forward_logs: bool = True,
    ) -> None:
        if recycling is not None:
            raise PoolError(
                "Pool(cluster=...) takes no max_tasks_per_child or max_memory_per_child: Dask "
                "manages its workers (give them a memory limit: dask worker --memory-limit)"
            )
        if item_timeout is not None:
            raise PoolError(_NO_ITEM_TIMEOUT)
        self._client, owned = _as_client(cluster)
        self.state = PoolState.OPEN
        self.broken: BaseException | None = None
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._token = uuid.uuid4().hex[:12]
        #: the same for every task of this pool (``_dask_task.run_batch``'s ``pool``)
        self._pool_args: PoolArgs = (
            self._token,
            None if initializer is None else wire.serialize((initializer, tuple(initargs))),
            socket.gethostname(),
            PROGRAM,
            logging.getLogger().getEffectiveLevel() if forward_logs else None,
        )
        self._jobs: list[Job] = []
        self._next_job = 1
        self._next_key = 0
        self._rr = 0
        #: tasks in flight by Dask key
        self._tasks: dict[str, _Task] = {}
        #: finished tasks ``(key, status, value or exception)``, put by the client's event loop
        #: (:meth:`_collect`), taken by the leader; ``None`` only wakes it (:meth:`wake`)
        self._arrivals: queue.SimpleQueue[tuple[str, str, Any] | None] = queue.SimpleQueue()
        #: a caller thread waits on the arrivals; the others wait on the condition
        self._leader = False
        #: single-item chunks of a chunk whose workers kept dying, run one at a time: a Dask worker
        #: holds more tasks than it runs, and its death counts against each of them, so two suspects
        #: in flight together could blame each other (counted in their job's ``inflight``)
        self._suspects: deque[Chunk] = deque()
        self._isolated_key: str | None = None
        #: per job id: (fn_key, the function's bytes or their scattered future)
        self._functions: dict[int, tuple[bytes, Any]] = {}
        self._item_times: dict[bytes, float] = {}
        self._size = 1
        self._size_at: float | None = None
        self.finalizer = weakref.finalize(self, _close_client, self._client) if owned else None

    # --- the cluster --------------------------------------------------------------------------
    @property
    def size(self) -> int:
        """Threads of the cluster's workers (at least 1): asked once, then refreshed in the
        background when older than :data:`_SIZE_TTL` (:meth:`_refresh_size`): a call never waits
        for that round trip, which cost ~2.5 ms after an idle moment (15-20% of a 1,000-item map
        made every few seconds)."""
        now = time.monotonic()
        if self._size_at is None:
            try:
                threads = sum(self._client.nthreads().values())
            except Exception as exc:
                raise PoolError(f"the Dask scheduler did not answer: {exc}") from exc
            self._size = max(1, int(threads))
            self._size_at = now
        elif now - self._size_at > _SIZE_TTL:
            self._size_at = now  # one refresh at a time
            self._client.loop.add_callback(self._refresh_size)
        return self._size

    async def _refresh_size(self) -> None:
        """On the client's event loop: ask the scheduler for the workers' threads again."""
        try:
            threads = await self._client.scheduler.ncores()
        except Exception:  # the scheduler is gone: the next task submitted says so
            return
        self._size = max(1, int(sum(threads.values())))

    @property
    def batching(self) -> Batching:
        """:data:`DASK_BATCHING`, with chunks long enough that all the cluster's threads together
        finish at most :data:`_SCHEDULER_TASKS_PER_S` tasks per second."""
        target = max(DASK_BATCHING.target, self.size / _SCHEDULER_TASKS_PER_S)
        return DASK_BATCHING._replace(target=target)

    # --- jobs ---------------------------------------------------------------------------------
    def submit(self, make_job: Callable[[int], Job]) -> Job:
        """Register a new job built by ``make_job(job_id)``."""
        size = self.size  # before the lock: it may ask the scheduler
        dropped: list[Any] = []
        try:
            return self._submit_locked(make_job, size, dropped)
        finally:
            self._cancel(dropped)

    def _submit_locked(self, make_job: Callable[[int], Job], size: int, dropped: list[Any]) -> Job:
        with self._cond:
            job = self._new_job(make_job)
            if job.item_timeout is not None:
                job.close()
                raise PoolError(_NO_ITEM_TIMEOUT)
            if not job.exhausted:
                self._jobs.append(job)
                self._functions[job.id] = self._ship_function(job.fn_blob)
                dropped += self._dispatch(size)
            return job

    def _ship_function(self, fn_blob: bytes) -> tuple[bytes, Any]:
        key = hashlib.blake2b(fn_blob, digest_size=16).digest()
        if len(fn_blob) <= _SCATTER_BYTES:
            return key, fn_blob
        return key, self._client.scatter(fn_blob, hash=False)

    def finish(self, job: Job, *, kill: bool = False) -> None:
        """The consumer of ``job`` is done with it: its tasks not yet started are cancelled (running
        ones finish on their workers, whatever ``kill`` says: Dask cannot stop a running task)."""
        with self._cond:
            futures = self._finish_locked(job)
            self._cond.notify_all()  # the callers waiting on the condition
            self.wake()  # ... and the leader, waiting on the arrivals
        self._cancel(futures)

    def _finish_locked(self, job: Job) -> list[Any]:
        self._remember_item_time(job)
        job.close()
        if job in self._jobs:
            self._jobs.remove(job)
        self._functions.pop(job.id, None)
        futures = []
        for key, task in list(self._tasks.items()):
            if task.chunk.job is job:
                del self._tasks[key]
                job.inflight -= 1
                futures.append(task.future)
                if task.isolated:
                    self._isolated_key = None
        for chunk in [c for c in self._suspects if c.job is job]:
            self._suspects.remove(chunk)
            job.inflight -= 1
        return futures

    def _cancel(self, futures: list[Any]) -> None:
        if futures:
            try:
                self._client.cancel(futures)
            except Exception:  # the client is closing: its futures go with it
                pass

    def idle(self) -> bool:
        """Nothing in flight and nothing that could be dispatched (under the lock)."""
        if self.state is PoolState.TERMINATED or self.broken is not None:
            return True
        return (
            not self._tasks
            and not self._suspects
            and not any(job.dispatchable() for job in self._jobs)
        )

    def wake(self) -> None:
        """Interrupt the leader's wait in :meth:`run_until` (new input, an abandoned job); safe
        anywhere, a finalizer included (no lock)."""
        self._arrivals.put(None)

    # --- dispatch -----------------------------------------------------------------------------
    def _encode(self, chunk: Chunk) -> bool:
        """Encode ``chunk`` once; an unencodable item fails alone (the rest of the chunk is cut)."""
        if chunk.payload is not None:
            return True
        try:
            chunk.payload = wire.encode_by_reference(chunk.items)
            chunk.job.note_bytes(len(chunk.payload), len(chunk.items))
            return True
        except Exception:
            pass
        return self._cut_unsendable(chunk, "a Dask worker")

    def _drop_abandoned(self) -> list[Any]:
        futures: list[Any] = []
        for job in [j for j in self._jobs if j.abandoned]:
            futures += self._finish_locked(job)
        return futures

    def _dispatch(self, size: int) -> list[Any]:
        """Submit chunks while fewer than the cluster can hold are in flight (under the lock);
        returns the futures of abandoned jobs, to cancel once the lock is released."""
        dropped = self._drop_abandoned()
        if self.state is PoolState.TERMINATED or self.broken is not None:
            return dropped
        while self._suspects and self._isolated_key is None:
            suspect = self._suspects.popleft()
            if not suspect.job.closed and self._encode(suspect):
                self._submit([suspect], isolated=True)
            else:  # its call ended (or was told why it cannot be sent)
                suspect.job.inflight -= 1
        limit = _INFLIGHT_PER_THREAD * size
        wave: list[Chunk] = []
        while len(self._tasks) + len(wave) < limit:
            chunk = self._next_chunk()
            if chunk is None:
                break
            wave.append(chunk)
        if wave:
            self._submit(wave)
        return dropped

    def _submit(self, chunks: list[Chunk], *, isolated: bool = False) -> None:
        """Submit ``chunks`` as tasks in one graph update (one message for the scheduler to handle,
        instead of one per chunk); a suspect (``isolated``, alone) is already counted in flight."""
        keys: list[str] = []
        fn_keys: list[Any] = []
        fn_refs: list[Any] = []
        modes: list[int] = []
        starts: list[int] = []
        payloads: list[bytes] = []
        for chunk in chunks:
            job = chunk.job
            fn_key, fn_ref = self._functions[job.id]
            self._next_key += 1
            keys.append(f"sk-pool-{self._token}-{job.id}-{chunk.start}-{self._next_key}")
            fn_keys.append(fn_key)
            fn_refs.append(fn_ref)
            modes.append(chunk.mode_word or job.mode_word)
            starts.append(chunk.start)
            assert chunk.payload is not None
            payloads.append(chunk.payload)
        futures = self._client.map(
            run_batch,
            fn_keys,
            fn_refs,
            modes,
            starts,
            payloads,
            [self._pool_args] * len(chunks),
            key=keys,
            pure=False,
        )
        for chunk, key, future in zip(chunks, keys, futures, strict=True):
            self._tasks[key] = _Task(chunk, future, isolated)
            if isolated:
                self._isolated_key = key
            else:
                chunk.job.inflight += 1
            self._client.loop.add_callback(self._collect, future)

    # --- results ------------------------------------------------------------------------------
    async def _collect(self, future: Any) -> None:
        """On the client's event loop: wait for one task, fetch its result, hand it to the leader."""
        try:
            (value,) = await self._client.gather([future], asynchronous=True)
        # cancelled by us (distributed's CancelledError), or the client is closing (asyncio's)
        except (concurrent.futures.CancelledError, asyncio.CancelledError):
            self._arrivals.put((future.key, "cancelled", None))
        except Exception as exc:  # the task itself failed (a lost worker, ...)
            self._arrivals.put((future.key, "error", exc))
        else:
            self._arrivals.put((future.key, "finished", value))

    def _take_arrivals(self, timeout: float | None) -> None:
        """As the leader (the lock released): wait up to ``timeout`` for finished tasks, then file
        every one that arrived (under the lock again)."""
        self._leader = True
        self._lock.release()
        arrived: list[tuple[str, str, Any] | None] = []
        try:
            try:
                arrived.append(self._arrivals.get(timeout=timeout))
            except queue.Empty:
                pass
            while True:
                try:
                    arrived.append(self._arrivals.get_nowait())
                except queue.Empty:
                    break
            # the items' log records, before their results reach the caller (outside the lock:
            # the user's handlers run here)
            for entry in arrived:
                if entry is not None and entry[1] == "finished":
                    for record in entry[2][-1]:
                        handle_forwarded(record)
        finally:  # also on Ctrl-C: what was taken belongs to other calls too, file it
            self._lock.acquire()
            self._leader = False
            self._file_arrivals(arrived)

    def _file_arrivals(self, arrived: list[tuple[str, str, Any] | None]) -> None:
        """File finished tasks into their jobs and wake the callers (under the lock)."""
        for entry in arrived:
            if entry is None:
                continue
            key, status, value = entry
            task = self._tasks.pop(key, None)
            if task is None:  # its call ended: dropped
                continue
            task.chunk.job.inflight -= 1
            if task.isolated:
                self._isolated_key = None
            try:
                self._file(task.chunk, status, value)
            except Exception as exc:  # filing must not lose the other results: fail the call
                task.chunk.job.fail(exc)
        self._cond.notify_all()

    def _file(self, chunk: Chunk, status: str, result: Any) -> None:
        """File the outcome of one finished task into its job (under the lock)."""
        job = chunk.job
        if status == "cancelled":
            return
        if status == "error":
            self._file_task_error(chunk, result)
            return
        tag = result[0]
        if tag == DECODE_FAILED:
            # pickled by reference to something only this process can import: send it by value
            try:
                chunk.payload = wire.serialize(chunk.items)
            except Exception as exc:
                _fail_chunk(
                    chunk,
                    f"the argument of item {chunk.start} could not be serialized by value for a "
                    "Dask worker",
                    exc,
                )
            else:
                job.requeue([chunk])
            return
        if tag != DONE:  # INIT_FAILED
            cause = wire.unpack_error(result[1], "the initializer", PoolError)
            err = PoolError(
                f"the pool's initializer raised on a Dask worker: {type(cause).__name__}: {cause}"
            )
            err.__cause__ = cause
            self._break(err)
            return
        _, blob, packed, elapsed, _ = result
        try:
            values: list[Any] = wire.decode(blob)
        except Exception as exc:
            _fail_chunk(
                chunk,
                f"the results of items {chunk.start}.. could not be deserialized in the parent",
                exc,
            )
            return
        error = (
            None
            if packed is None
            else as_legacy_pool_error(
                wire.unpack_error(packed, f"item {chunk.start + len(values)}", PoolError)
            )
        )
        if len(blob) > 65536:
            job.note_bytes(len(blob), len(values))
        job.add_part(chunk.start, values, error, elapsed)

    def _file_task_error(self, chunk: Chunk, exc: BaseException) -> None:
        job = chunk.job
        killed = isinstance(exc, _KilledWorker)
        if killed and len(chunk.items) > 1:
            # which item killed the workers? each runs again alone, so only that one fails
            for i in range(len(chunk.items)):
                self._suspects.append(Chunk(job, chunk.start + i, chunk.items[i : i + 1]))
                job.inflight += 1
            return
        if killed:
            err: PoolError = WorkerDiedError(
                f"the Dask workers running item {chunk.start} died ({exc}); Dask gave up after "
                "distributed.scheduler.allowed-failures tries. If the item crashes the "
                "interpreter or runs out of memory, fix or skip it"
            )
        else:
            err = PoolError(
                f"the Dask task of items {chunk.start}..{chunk.start + len(chunk.items) - 1} failed "
                f"before running them: {type(exc).__name__}: {exc}; check that suitkaise-processing "
                "is installed on the Dask workers, in the same version"
            )
        err.__cause__ = exc
        job.add_part(chunk.start, [], err, 0.0)

    def _break(self, error: BaseException) -> None:
        self.broken = error
        for job in self._jobs:
            job.fail(error)
        self._jobs.clear()

    # --- waiting ------------------------------------------------------------------------------
    def run_until(self, done: Callable[[], bool], deadline: float | None) -> bool:
        """Dispatch and wait until ``done()`` (evaluated under the lock) is true; ``False`` if
        ``deadline`` passed."""
        size = self.size
        while True:
            with self._cond:
                dropped = self._dispatch(size)
                if not dropped:
                    if done():
                        return True
                    if self.state is PoolState.TERMINATED:
                        raise PoolError("the pool was terminated")
                    remaining = time_left(deadline)
                    if remaining is not None and remaining <= 0:
                        return False
                    if self._leader:
                        self._cond.wait(remaining)
                    else:
                        self._take_arrivals(remaining)
                    continue
            self._cancel(dropped)

    # --- shutdown -----------------------------------------------------------------------------
    def _stop_workers(self) -> None:
        """Under the lock, once closed (:meth:`JobsBackend.close`): wake the waiting callers (the
        cluster's workers are Dask's)."""
        self._cond.notify_all()  # the callers waiting on the condition
        self.wake()  # ... and the leader, waiting on the arrivals

    def terminate(self) -> None:
        """Cancel every task; unfinished calls raise ``PoolError`` (idempotent)."""
        with self._cond:
            if self.state is PoolState.TERMINATED:
                return
            self.state = PoolState.TERMINATED
            error = PoolError("the pool was terminated")
            for job in self._jobs:
                job.fail(error)
            self._jobs.clear()
            futures = [task.future for task in self._tasks.values()]
            self._tasks.clear()
            self._suspects.clear()
            self._cond.notify_all()  # the callers waiting on the condition
            self.wake()  # ... and the leader, waiting on the arrivals
        self._cancel(futures)
        self._release()

    def _release(self) -> None:
        with self._cond:
            self._functions.clear()
        if self.finalizer is not None:
            self.finalizer()


def _fail_chunk(chunk: Chunk, what: str, cause: Exception) -> None:
    """Fail the items of ``chunk`` from its first one with a PoolError saying ``what`` went wrong."""
    err = PoolError(f"{what}: {type(cause).__name__}: {cause}")
    err.__cause__ = cause
    chunk.job.add_part(chunk.start, [], err, 0.0)
