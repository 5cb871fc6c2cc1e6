"""Threads that run calls for ``.timeout()`` (daemon workers) and ``.background()`` (a pool)."""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class _Outcome(Generic[T]):
    """The result or exception of a call run in a worker thread, with an event when done."""

    __slots__ = ("done", "error", "value")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.value: T | None = None
        self.error: BaseException | None = None


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

    def submit(self, call: Callable[[], T]) -> _Outcome[T]:
        """Run ``call()`` in a daemon worker; return its outcome holder."""
        outcome: _Outcome[T] = _Outcome()
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
            outcome.done.set()
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
