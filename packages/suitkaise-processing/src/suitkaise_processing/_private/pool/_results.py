"""What the caller gets back: lists, result iterators and their async forms."""

from __future__ import annotations

import concurrent.futures
import os
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Generator, Iterator
from typing import Any

from suitkaise_processing._private.pool._backend import Backend
from suitkaise_processing._private.pool._errors import PoolTimeoutError
from suitkaise_processing._private.pool._jobs import Job


def _deadline(timeout: float | None) -> float | None:
    return None if timeout is None else time.monotonic() + timeout


def collect(engine: Backend, job: Job, timeout: float | None, what: str) -> list[Any]:
    """Run ``job`` to the end and return its results as a list (the whole call within ``timeout``)."""
    out: list[Any] = []
    failed = False

    def done() -> bool:
        values, error = job.take()
        if values:
            out.extend(values)
        if error is not None:
            raise error
        return job.complete()

    try:
        if not engine.run_until(done, _deadline(timeout)):
            failed = True
            raise PoolTimeoutError(
                f"{what} did not finish within {timeout}s; {engine.stop_note}. "
                "Raise the timeout, or use imap to get results as they come"
            )
    except BaseException as exc:
        # an item's own exception cancels the rest; anything else (Ctrl-C, timeout) also stops workers
        engine.finish(job, kill=failed or not isinstance(exc, Exception))
        raise
    engine.finish(job)
    return out


def in_background(
    run: Callable[[], list[Any]], stop: Callable[[], None]
) -> concurrent.futures.Future[list[Any]]:
    """Run ``run()`` (a call already submitted to the engine) in a collector thread; its ``Future``.

    The Future stays pending until the call ends, so ``cancel()`` works until then: it calls
    ``stop()`` (the call is cancelled and the workers running its items are replaced), and ``run()``
    then ends on its own. An ``.asynced()`` call awaits this Future, so cancelling the awaiting task
    does the same.
    """
    future: concurrent.futures.Future[list[Any]] = concurrent.futures.Future()

    def on_done(done: concurrent.futures.Future[list[Any]]) -> None:
        if done.cancelled():
            stop()

    def runner() -> None:
        try:
            value = run()
        except BaseException as exc:
            if future.set_running_or_notify_cancel():
                future.set_exception(exc)
            return
        if future.set_running_or_notify_cancel():
            future.set_result(value)

    future.add_done_callback(on_done)
    _collectors().submit(runner)
    return future


_collector_pool: concurrent.futures.ThreadPoolExecutor | None = None
_collector_lock = threading.Lock()


def _collectors() -> concurrent.futures.ThreadPoolExecutor:
    """Threads that collect background calls (reused: starting a thread per call costs ~0.1 ms).

    Like ``.background()`` elsewhere, the interpreter waits for the calls they collect at exit.
    """
    global _collector_pool
    with _collector_lock:
        if _collector_pool is None:
            _collector_pool = concurrent.futures.ThreadPoolExecutor(
                max_workers=64, thread_name_prefix="sk-pool-collect"
            )
        return _collector_pool


def _forget_after_fork() -> None:
    global _collector_pool, _collector_lock
    _collector_pool = None
    _collector_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_after_fork)


class ResultIterator(Iterator[Any]):
    """Results of ``imap``/``unordered_imap`` as they come; ``timeout`` bounds each wait for the next one.

    Reads its input lazily (a bounded number of items ahead of you). Raises an item's exception when it
    reaches it, after which it is finished. ``close()`` (or dropping the iterator) cancels the rest.
    """

    def __init__(self, engine: Backend, job: Job, timeout: float | None, what: str) -> None:
        self._engine = engine
        self._job = job
        self._timeout = timeout
        self._what = what
        self._buffer: deque[Any] = deque()
        self._error: BaseException | None = None
        self._finished = False

    def __iter__(self) -> ResultIterator:
        return self

    def __next__(self) -> Any:
        if self._buffer:
            return self._buffer.popleft()
        if self._error is not None:
            error, self._error = self._error, None
            raise error
        if self._finished:
            raise StopIteration
        job = self._job
        got: list[list[Any]] = []
        errors: list[BaseException] = []

        def ready() -> bool:
            values, error = job.take()
            if values:
                got.append(values)
            if error is not None:
                errors.append(error)
                return True
            return bool(values) or job.complete()

        try:
            arrived = self._engine.run_until(ready, _deadline(self._timeout))
        except BaseException:
            self._stop(kill=True)
            raise
        if not arrived:
            self._stop(kill=True)
            raise PoolTimeoutError(
                f"{self._what}: no next result within {self._timeout}s; {self._engine.stop_note}"
            )
        for values in got:
            self._buffer.extend(values)
        if errors:
            self._stop(kill=False)
            self._error = errors[0]
        elif job.complete():
            self._stop(kill=False)
        return self.__next__()

    def _stop(self, *, kill: bool) -> None:
        if not self._finished:
            self._finished = True
            self._engine.finish(self._job, kill=kill)

    def close(self) -> None:
        """Stop early: items not yet run are dropped (idempotent)."""
        self._buffer.clear()
        self._error = None
        self._stop(kill=False)

    def cancel(self) -> None:
        """Stop now from any thread: the workers running its items are stopped and replaced."""
        self._engine.finish(self._job, kill=True)

    def __del__(self) -> None:
        # No lock here (the garbage collector may run anywhere): the pump drops abandoned jobs.
        if not self._finished:
            self._job.abandoned = True
            try:
                self._engine.wake()
            except Exception:
                pass


class AsyncResults(AsyncIterator[Any]):
    """``imap.asynced()`` / ``unordered_imap.asynced()``: ``await`` it for the list of results, or
    ``async for`` over it to get them one by one without blocking the event loop."""

    def __init__(self, iterator: ResultIterator) -> None:
        self._it = iterator

    def __aiter__(self) -> AsyncResults:
        return self

    async def __anext__(self) -> Any:
        import asyncio  # imported by the first async call: a Pool program that never awaits skips it

        sentinel = object()
        try:
            value = await asyncio.to_thread(next, self._it, sentinel)
        except asyncio.CancelledError:
            self._it.cancel()
            raise
        if value is sentinel:
            raise StopAsyncIteration
        return value

    async def _collect(self) -> list[Any]:
        import asyncio

        try:
            return await asyncio.to_thread(list, self._it)
        except asyncio.CancelledError:
            self._it.cancel()
            raise

    def __await__(self) -> Generator[Any, None, list[Any]]:
        return self._collect().__await__()

    async def aclose(self) -> None:
        """Stop early (like ``ResultIterator.close``)."""
        self._it.close()
