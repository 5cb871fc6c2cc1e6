"""Threads that run calls for ``.timeout()`` (daemon workers) and ``.background()`` (a pool)."""

from __future__ import annotations

import _thread
import contextvars
import os
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    import asyncio

T = TypeVar("T")


class _Outcome(Generic[T]):
    """The result or exception of a call run in a worker thread, and a signal when it is done.

    The signal is a plain lock, held until the call finishes (``wait`` acquires it in C: cheaper
    than ``threading.Event``, whose waits go through a Python ``Condition``).
    """

    __slots__ = ("_signal", "error", "on_done", "value")

    def __init__(self, on_done: Callable[[_Outcome[T]], None] | None = None) -> None:
        self._signal = _thread.allocate_lock()
        self._signal.acquire()
        self.value: T | None = None
        self.error: BaseException | None = None
        self.on_done = on_done

    def finish(self) -> None:
        """Called once by the worker when the call has finished."""
        self._signal.release()

    def wait(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for the call; ``True`` if it finished (one waiter)."""
        return self._signal.acquire(timeout=min(timeout, threading.TIMEOUT_MAX))


class DaemonWorkers:
    """Reusable daemon threads for calls that may never return (a timed-out call keeps running).

    Daemon threads never keep the interpreter alive. An idle worker waits for the next call for
    ``idle_seconds`` and then exits; a new worker is started when none is idle.
    """

    def __init__(self, idle_seconds: float = 30.0) -> None:
        self._jobs: queue.SimpleQueue[tuple[Callable[[], Any], _Outcome[Any]]] = queue.SimpleQueue()
        self._idle = 0
        self._lock = threading.Lock()
        self._idle_seconds = idle_seconds

    def submit(
        self, call: Callable[[], T], on_done: Callable[[_Outcome[T]], None] | None = None
    ) -> _Outcome[T]:
        """Run ``call()`` in a daemon worker; return its outcome holder.

        ``on_done(outcome)`` runs in the worker when the call has finished (it must not raise).
        """
        outcome: _Outcome[T] = _Outcome(on_done)
        with self._lock:
            start_new = self._idle == 0
            if not start_new:
                self._idle -= 1
        self._jobs.put((call, outcome))
        if start_new:
            thread = threading.Thread(target=self._work, name="sk-modifiers-timeout", daemon=True)
            thread.start()
        return outcome

    def _work(self) -> None:
        first = True
        while True:
            if first:
                job = self._jobs.get()
                first = False
            else:
                try:
                    job = self._jobs.get(timeout=self._idle_seconds)
                except queue.Empty:
                    with self._lock:
                        # Another submit may have counted on us: only leave if still idle.
                        if self._idle > 0:
                            self._idle -= 1
                            return
                    continue
            call, outcome = job
            try:
                outcome.value = call()
            except BaseException as exc:  # handed to the waiting caller
                outcome.error = exc
            # Count this worker idle *before* waking the caller, so that the caller's next call
            # reuses it instead of starting a new thread.
            with self._lock:
                self._idle += 1
            outcome.finish()
            if outcome.on_done is not None:
                try:
                    outcome.on_done(outcome)
                except BaseException:  # a closed event loop: nobody is waiting any more
                    pass
            del job, call, outcome


_daemon_workers: DaemonWorkers | None = None
_background: ThreadPoolExecutor | None = None
_init_lock = threading.Lock()


def daemon_workers() -> DaemonWorkers:
    """The process-wide daemon workers (created on first use)."""
    global _daemon_workers
    workers = _daemon_workers
    if workers is None:
        with _init_lock:
            if _daemon_workers is None:
                _daemon_workers = DaemonWorkers()
            workers = _daemon_workers
    return workers


def run_in_daemon_thread(call: Callable[[], T]) -> asyncio.Future[T]:
    """Await ``call()`` running in a daemon worker (with the caller's context variables).

    Unlike ``asyncio.to_thread``, a call that never returns does not keep ``asyncio.run`` (which
    waits for the loop's default executor) or the interpreter from finishing.
    """
    import asyncio  # on first async use: see chain.py

    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()
    context = contextvars.copy_context()

    def settle(outcome: _Outcome[T]) -> None:
        if future.done():
            return
        if outcome.error is not None:
            future.set_exception(outcome.error)
        else:
            future.set_result(outcome.value)  # type: ignore[arg-type]

    def on_done(outcome: _Outcome[T]) -> None:
        loop.call_soon_threadsafe(settle, outcome)

    daemon_workers().submit(lambda: context.run(call), on_done)
    return future


def background_executor() -> ThreadPoolExecutor:
    """The process-wide thread pool behind ``.background()`` (created on first use)."""
    global _background
    executor = _background
    if executor is None:
        with _init_lock:
            if _background is None:
                # Background calls often wait (I/O, child processes): allow many at once.
                _background = ThreadPoolExecutor(
                    max_workers=32, thread_name_prefix="sk-modifiers-background"
                )
            executor = _background
    return executor


def submit_background(call: Callable[[], T]) -> Future[T]:
    """Run ``call()`` in the background pool and return its ``Future``."""
    return background_executor().submit(call)


def _forget_after_fork() -> None:
    # Threads do not survive fork: a child starts with fresh pools.
    global _daemon_workers, _background, _init_lock
    _daemon_workers = None
    _background = None
    _init_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_after_fork)
