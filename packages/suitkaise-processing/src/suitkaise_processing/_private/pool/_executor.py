"""``Pool.submit``: single calls run by the pool's workers, each with a ``concurrent.futures.Future``.

Every submitted call becomes one item of the pool's *submissions job* (:class:`Submissions`, one
long-lived job per pool, registered with the engine at the first ``submit``), sent to a worker as a
chunk of its own; the job's function is :func:`._task.run_task` and each item is a task
``(fn_blob, args, kwargs)``. A task is encoded in the caller's thread, so an argument that cannot be
sent fails ``submit()`` itself. One job for all submissions keeps the engine's per-round work
independent of the number of calls in flight.

States of a future (those of ``concurrent.futures``): *pending* while its task waits in the job's
queue (``cancel()`` succeeds, and the task never runs), *running* from the moment the engine takes
the task to send it to a worker (:meth:`Submissions.next_chunk`; ``cancel()`` then returns
``False``), *finished* when its result or exception arrived. An exception is the worker's own (same
type, with the worker's traceback as ``__cause__``), as for ``map``.

Who completes the futures: the engine has no thread of its own; a thread waiting for results pumps it
(leader/follower, see :mod:`._engine`). Waiting on a future (``result()``, ``exception()``) does the
same (:class:`SubmittedFuture`), so ``submit(fn, x).result()`` costs no thread switch in the parent:
the waiting thread sends the call and reads its result. Futures must also complete while nobody waits
on them (fire and forget, callbacks, ``as_completed``, ``asyncio``): a *courier* thread
(:class:`Submitter`, started by the first ``submit``) looks every ``WATCH`` seconds for outstanding
calls that no waiting thread pumps and pumps until none is left. It is woken at once by what waits
without pumping (``add_done_callback``, which ``asyncio`` uses, and ``concurrent.futures.wait`` /
``as_completed``, through the future's waiter list) and by a waiting thread that stops while calls
are still outstanding. Waking it on every ``submit`` instead would cost a thread switch per call. It
exits ``LINGER`` seconds after the last call. Outcomes are taken from the job under the engine's lock
(a future is then *taken*) and set on the futures outside it (a future's callbacks may submit again).
At interpreter exit the outstanding calls finish before the workers are stopped (as with
``ProcessPoolExecutor``).
"""

from __future__ import annotations

import atexit
import concurrent.futures
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from typing import Any, cast

from suitkaise_processing._private import wire
from suitkaise_processing._private.errors import PoolError
from suitkaise_processing._private.pool._backend import Backend
from suitkaise_processing._private.pool._jobs import CallSpec, Chunk, Job
from suitkaise_processing._private.pool._protocol import PoolState
from suitkaise_processing._private.pool._task import Task, run_task

#: seconds between the courier thread's looks for calls that nobody pumps
WATCH = 0.005
#: seconds the courier thread stays after the last outstanding call
LINGER = 2.0

_Outcome = tuple["SubmittedFuture", Any, "BaseException | None"]


class _Waiters(list[Any]):
    """``Future._waiters`` of a submitted future (a CPython detail stable since 3.2):
    ``concurrent.futures.wait`` and ``as_completed`` append their waiter here, which wakes the
    courier at once, so that the future completes without the courier's ``WATCH`` delay."""

    __slots__ = ("_submitter",)

    def __init__(self, submitter: weakref.ReferenceType[Submitter]) -> None:
        super().__init__()
        self._submitter = submitter

    def append(self, waiter: Any) -> None:
        super().append(waiter)
        _wake(self._submitter)


def _wake(ref: weakref.ReferenceType[Submitter]) -> None:
    submitter = ref()
    if submitter is not None:
        submitter.wake()


class SubmittedFuture(concurrent.futures.Future[Any]):
    """The future of one submitted call: a ``concurrent.futures.Future`` whose ``result()`` and
    ``exception()`` pump the pool from the waiting thread while it is not done."""

    def __init__(self, submitter: Submitter) -> None:
        super().__init__()
        self._submitter = weakref.ref(submitter)  # a kept future does not keep the pool alive
        self._waiters = _Waiters(self._submitter)
        #: its outcome was taken from the job (under the engine's lock); a thread sets it next
        self.taken = False

    def add_done_callback(self, fn: Callable[[concurrent.futures.Future[Any]], object]) -> None:
        super().add_done_callback(fn)
        if not self.done():
            _wake(self._submitter)  # complete it without the courier's WATCH delay

    def _wait(self, timeout: float | None) -> float | None:
        """Pump until the outcome is taken; what is left of ``timeout``."""
        submitter = self._submitter()
        if submitter is None or (timeout is not None and timeout <= 0):
            return timeout
        deadline = None if timeout is None else time.monotonic() + timeout
        submitter.wait_for(self, deadline)
        return None if deadline is None else max(0.0, deadline - time.monotonic())

    def result(self, timeout: float | None = None) -> Any:
        if not self.done():
            timeout = self._wait(timeout)
        return super().result(timeout)

    def exception(self, timeout: float | None = None) -> BaseException | None:
        if not self.done():
            timeout = self._wait(timeout)
        return super().exception(timeout)


class Submissions(Job):
    """The pool's submitted calls as one engine job: a queue of tasks, one chunk per task.

    The engine uses it under its lock; :attr:`queue` is guarded by :attr:`lock` too, since ``submit``
    adds tasks without the engine's lock (the engine takes them at its next dispatch).
    """

    def __init__(self, job_id: int, spec: CallSpec) -> None:
        super().__init__(job_id, spec, ())
        self.exhausted = False  # more tasks may always come
        self.lock = threading.Lock()
        #: submitted, not yet taken by the engine: (future, task, encoded chunk payload)
        self.queue: deque[tuple[SubmittedFuture, Task, bytes]] = deque()
        #: taken by the engine, by item index
        self.running: dict[int, SubmittedFuture] = {}
        #: results and exceptions to be taken (by the courier or a waiting thread) and set
        self.finished: deque[_Outcome] = deque()

    def add(self, future: SubmittedFuture, task: Task, payload: bytes) -> bool:
        """Queue one task (any thread); ``False`` when the job was closed (the pool closed)."""
        with self.lock:
            if self.closed:
                return False
            self.queue.append((future, task, payload))
            return True

    def queued(self) -> list[SubmittedFuture]:
        """The futures still waiting in the queue (any thread)."""
        with self.lock:
            return [future for future, _, _ in self.queue]

    def outstanding(self) -> bool:
        """Whether a task is queued or running, or an outcome waits to be taken."""
        return bool(self.queue or self.running or self.finished)

    def take_outcomes(self) -> list[_Outcome]:
        """The outcomes that arrived, each future marked *taken* (under the engine's lock)."""
        outcomes = list(self.finished)
        self.finished.clear()
        for future, _, _ in outcomes:
            future.taken = True
        return outcomes

    # --- the engine's side ----------------------------------------------------------------------
    def dispatchable(self) -> bool:
        return not self.closed and bool(self.pending or self.queue)

    def next_chunk(self) -> Chunk | None:
        if self.closed:
            return None
        if self.pending:  # a chunk re-queued after its worker died
            return self.pending.popleft()
        with self.lock:
            return self._first_queued()

    def _first_queued(self) -> Chunk | None:
        """Under ``self.lock``: the first queued call not cancelled, as a chunk. (A loop of its own,
        not inside the ``with``: on CPython 3.13.0 an interrupt on a ``while`` loop's backward jump
        skips the ``with``'s release, gh-130279.)"""
        while self.queue:
            future, task, payload = self.queue.popleft()
            if not future.set_running_or_notify_cancel():
                continue  # cancelled while queued: it never runs
            index = self.read
            self.read += 1
            self.running[index] = future
            chunk = Chunk(self, index, [task])
            chunk.payload = payload
            return chunk
        return None

    def add_part(
        self, start: int, values: list[Any], error: BaseException | None, elapsed: float
    ) -> None:
        running = self.running
        for index, value in enumerate(values, start):
            future = running.pop(index, None)
            if future is not None:
                self.finished.append((future, value, None))
        if error is not None:
            future = running.pop(start + len(values), None)
            if future is not None:
                self.finished.append((future, None, error))

    def fail(self, error: BaseException) -> None:
        super().fail(error)
        outcomes: list[_Outcome] = [(future, None, error) for future in self.running.values()]
        self.running.clear()
        with self.lock:
            outcomes += [(future, None, error) for future, _, _ in self.queue]
            self.queue.clear()
        self.finished.extend(outcomes)


def _deliver(outcomes: list[_Outcome]) -> None:
    for future, value, error in outcomes:
        try:
            if error is None:
                future.set_result(value)
            else:
                future.set_exception(error)
        except concurrent.futures.InvalidStateError:
            pass  # a queued future cancelled while the pool failed it


class Submitter:
    """``submit()`` of one pool: encodes calls, queues them on the submissions job, and runs the
    courier thread that completes their futures."""

    def __init__(
        self,
        engine: Backend,
        encode: Callable[[str, Callable[..., Any]], bytes],
        item_timeout: float | None,
    ) -> None:
        self._engine = engine
        self._encode = encode
        self._item_timeout = item_timeout
        self._lock = threading.Lock()
        self._job: Submissions | None = None
        self._run_blob: bytes | None = None
        self._thread: threading.Thread | None = None
        self._wakeup = threading.Event()
        self._exiting = False
        #: threads pumping in :meth:`wait_for` (the courier leaves the pump to them)
        self._waiting = 0

    def submit(
        self, fn: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> concurrent.futures.Future[Any]:
        """Queue ``fn(*args, **kwargs)``; its future."""
        if self._engine.state is not PoolState.OPEN:
            raise PoolError(f"the pool is {self._engine.state}; create a new Pool to run more work")
        if not callable(fn):
            raise TypeError(
                f"pool.submit: the first argument must be a function, not {type(fn).__name__}"
            )
        blob = self._encode("pool.submit", fn)
        task: Task = (blob, args, kwargs)
        try:
            payload = wire.encode_by_reference([task])
        except Exception as exc:
            detailed = wire.explain_failure((args, kwargs), exc)
            raise PoolError(
                f"pool.submit: the arguments of {getattr(fn, '__name__', fn)!r} could not be "
                f"serialized to send them to a worker: {type(detailed).__name__}: {detailed}"
            ) from detailed
        future = SubmittedFuture(self)
        if not self._submissions().add(future, task, payload):
            raise PoolError(f"the pool is {self._engine.state}; create a new Pool to run more work")
        self._start_courier()
        self._engine.wake()  # a thread pumping the engine now sends it at once
        return future

    def wake(self) -> None:
        """Have the courier pump now (a thread waits on a future without pumping itself)."""
        self._start_courier()
        self._wakeup.set()

    def wait_for(self, future: SubmittedFuture, deadline: float | None) -> None:
        """Pump the engine from this thread until ``future``'s outcome is taken (or ``deadline``),
        then set the outcomes this thread took."""
        job = self._job
        if job is None:
            return
        batch: list[_Outcome] = []

        def taken() -> bool:
            if job.finished:
                batch.extend(job.take_outcomes())
            return future.taken or future.done()

        with self._lock:
            self._waiting += 1
        try:
            self._engine.run_until(taken, deadline)
        finally:
            with self._lock:
                self._waiting -= 1
            _deliver(batch)
            if job.outstanding():  # other calls: the courier takes over
                self.wake()

    def cancel_queued(self) -> None:
        """Cancel every future whose call has not started (``shutdown(cancel_futures=True)``)."""
        job = self._job
        if job is not None:
            for future in job.queued():
                future.cancel()

    def _submissions(self) -> Submissions:
        with self._lock:
            job = self._job
            if job is None or job.closed:  # the first submit, or the pool closed (submit raises)
                if self._run_blob is None:
                    self._run_blob = wire.serialize(run_task)
                spec = CallSpec(
                    name="pool.submit",
                    target=run_task,
                    fn_blob=self._run_blob,
                    skprocess=False,
                    star=False,
                    ordered=False,
                    lazy=False,
                    workers=self._engine.size,
                    chunksize=1,
                    estimate=None,
                    progress=None,
                    item_timeout=self._item_timeout,
                )
                made = self._engine.submit(lambda job_id: Submissions(job_id, spec))
                job = self._job = cast(Submissions, made)
            return job

    # --- the courier ----------------------------------------------------------------------------
    def _start_courier(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._courier, name="sk-pool-futures", daemon=True
                )
                self._thread.start()
                _couriers.add(self)

    def _courier(self) -> None:
        """The courier thread: every ``WATCH`` s (or when woken), pumps if calls are outstanding and
        no thread waiting on a future pumps already; exits ``LINGER`` s after the last one, or once
        the pool is closed and nothing is left."""
        job = self._job
        last = time.monotonic()
        while job is not None:
            self._wakeup.clear()
            if job.outstanding():
                if self._exiting or not self._waiting:
                    self._serve(job)
                last = time.monotonic()
            elif self._exiting or job.closed or time.monotonic() - last > LINGER:
                with self._lock:
                    if self._exiting or not job.queued():  # else a submit came just now
                        self._thread = None
                        return
                continue
            self._wakeup.wait(WATCH)

    def _serve(self, job: Submissions) -> None:
        """Pump the engine until no submitted call is outstanding, setting the outcomes as they
        arrive."""
        batch: list[_Outcome] = []

        def ready() -> bool:
            if job.finished:
                batch.extend(job.take_outcomes())
                return True
            return not job.outstanding()

        while True:
            self._engine.run_until(ready, None)
            if not batch:
                return
            _deliver(batch)
            batch.clear()

    def stop(self) -> None:
        """At interpreter exit: let the outstanding calls finish, then end the courier."""
        with self._lock:
            self._exiting = True
            thread = self._thread
        if thread is not None:
            self._wakeup.set()
            thread.join()


#: pools whose courier ran: stopped before the engines' exit finalizers release the workers
_couriers: weakref.WeakSet[Submitter] = weakref.WeakSet()


@atexit.register
def _stop_couriers() -> None:
    # registered after multiprocessing's exit function (imported first), so it runs before it
    for submitter in list(_couriers):
        submitter.stop()
