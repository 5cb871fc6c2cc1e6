"""Threading primitives, queues, thread-locals, threads and executors.

Each comes back as a new object with the same configuration and, where it has state, the same
state: a locked Lock is locked, a set Event is set, a Semaphore keeps its counter, a Queue keeps
its items in order. An RLock comes back unlocked (its owner is a thread of the sender).
"""

from __future__ import annotations

import queue
import threading
from typing import Any

from cucumber._private import registry
from cucumber._private.families._util import blank, handles
from cucumber._private.reconnectors import ThreadReconnector

__all__ = ["install"]

_LockType = type(threading.Lock())
_RLockTypes: tuple[type, ...] = tuple({type(threading.RLock()), threading._PyRLock})  # type: ignore[attr-defined]


def _rebuild_lock(locked: bool) -> Any:
    lock = threading.Lock()
    if locked:
        lock.acquire()
    return lock


def _rebuild_rlock() -> Any:
    return threading.RLock()


def _rebuild_semaphore(cls: type[Any], value: int, initial: int | None) -> threading.Semaphore:
    sem: threading.Semaphore = blank(cls)
    if initial is not None:
        threading.BoundedSemaphore.__init__(sem, initial)
    else:
        threading.Semaphore.__init__(sem, value)
    sem._value = value
    return sem


def _rebuild_event(cls: type[Any], is_set: bool) -> threading.Event:
    event: threading.Event = blank(cls)
    threading.Event.__init__(event)
    if is_set:
        event.set()
    return event


def _rebuild_barrier(
    cls: type[Any], parties: int, action: Any, timeout: float | None
) -> threading.Barrier:
    barrier: threading.Barrier = blank(cls)
    threading.Barrier.__init__(barrier, parties, action, timeout)
    return barrier


_QUEUE_INTERNALS = frozenset(
    {
        "maxsize",
        "mutex",
        "not_empty",
        "not_full",
        "all_tasks_done",
        "unfinished_tasks",
        "queue",
        "is_shutdown",
    }
)


def _rebuild_queue(
    cls: type[Any], maxsize: int, items: list[Any], unfinished: int, extra: dict[str, Any]
) -> Any:
    q: queue.Queue[Any] = blank(cls)
    queue.Queue.__init__(q, maxsize)
    for item in items:
        q._put(item)
    q.unfinished_tasks = unfinished
    q.__dict__.update(extra)
    return q


def _rebuild_simple_queue(items: list[Any]) -> queue.SimpleQueue[Any]:
    q: queue.SimpleQueue[Any] = queue.SimpleQueue()
    for item in items:
        q.put(item)
    return q


def _rebuild_local(cls: type[Any], attrs: dict[str, Any]) -> threading.local:
    local: threading.local = blank(cls)
    local.__dict__.update(attrs)
    return local


def _rebuild_thread_pool(
    max_workers: int, prefix: str, initializer: Any, initargs: tuple[Any, ...]
) -> Any:
    from concurrent.futures import ThreadPoolExecutor

    return ThreadPoolExecutor(max_workers, prefix, initializer, initargs)


def _rebuild_process_pool(
    max_workers: int,
    start_method: str | None,
    initializer: Any,
    initargs: tuple[Any, ...],
    max_tasks: int | None,
) -> Any:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context(start_method) if start_method else None
    kwargs: dict[str, Any] = {}
    if max_tasks is not None:
        kwargs["max_tasks_per_child"] = max_tasks
    return ProcessPoolExecutor(max_workers, context, initializer, initargs, **kwargs)


_THREAD_INTERNALS = frozenset(vars(threading.Thread()).keys())
_SEMAPHORE_KEYS = frozenset(vars(threading.BoundedSemaphore()).keys())
_EVENT_KEYS = frozenset(vars(threading.Event()).keys())
_BARRIER_KEYS = frozenset(vars(threading.Barrier(1)).keys())


def _extras(obj: Any, internal: frozenset[str]) -> dict[str, Any] | None:
    """Attributes a subclass added (restored on the rebuilt object), or None for the base class."""
    extra = {k: v for k, v in vars(obj).items() if k not in internal}
    return extra or None


def install() -> None:
    """Register the concurrency handlers."""

    @handles(_LockType, name="threading.Lock (new lock, same locked state)")
    def _lock(obj: Any) -> Any:
        return _rebuild_lock, (obj.locked(),)

    @handles(*_RLockTypes, name="threading.RLock (new, unlocked)")
    def _rlock(obj: Any) -> Any:
        return _rebuild_rlock, ()

    @handles(threading.Condition, name="threading.Condition (new, same lock)")
    def _condition(obj: threading.Condition) -> Any:
        return threading.Condition, (obj._lock,)  # type: ignore[attr-defined]

    @handles(threading.Semaphore, name="threading.Semaphore (new, same counter)")
    def _semaphore(obj: threading.Semaphore) -> Any:
        initial = (
            getattr(obj, "_initial_value", None)
            if isinstance(obj, threading.BoundedSemaphore)
            else None
        )
        return _rebuild_semaphore, (type(obj), obj._value, initial), _extras(obj, _SEMAPHORE_KEYS)

    @handles(threading.Event, name="threading.Event (new, same flag)")
    def _event(obj: threading.Event) -> Any:
        return _rebuild_event, (type(obj), obj.is_set()), _extras(obj, _EVENT_KEYS)

    @handles(threading.Barrier, name="threading.Barrier (new, same parties/action/timeout)")
    def _barrier(obj: threading.Barrier) -> Any:
        return (
            _rebuild_barrier,
            (type(obj), obj.parties, getattr(obj, "_action", None), getattr(obj, "_timeout", None)),
            _extras(obj, _BARRIER_KEYS),
        )

    @handles(queue.Queue, name="queue.Queue (new, same items in order)")
    def _queue(obj: queue.Queue[Any]) -> Any:
        with obj.mutex:
            items = list(obj.queue)
            unfinished = obj.unfinished_tasks
        extra = {k: v for k, v in vars(obj).items() if k not in _QUEUE_INTERNALS}
        return _rebuild_queue, (type(obj), obj.maxsize, items, unfinished, extra)

    @handles(queue.SimpleQueue, name="queue.SimpleQueue (new, same items in order)")
    def _simple_queue(obj: queue.SimpleQueue[Any]) -> Any:
        items: list[Any] = []
        while True:
            try:
                items.append(obj.get_nowait())
            except queue.Empty:
                break
        for item in items:
            obj.put(item)
        return _rebuild_simple_queue, (items,)

    @handles(threading.local, name="threading.local (this thread's attributes)")
    def _local(obj: threading.local) -> Any:
        return _rebuild_local, (type(obj), dict(obj.__dict__))

    @handles(threading.Thread, name="threading.Thread -> ThreadReconnector")
    def _thread(obj: threading.Thread) -> Any:
        extra = {k: v for k, v in vars(obj).items() if k not in _THREAD_INTERNALS}
        return ThreadReconnector, (
            type(obj),
            getattr(obj, "_target", None),
            tuple(getattr(obj, "_args", ())),
            dict(getattr(obj, "_kwargs", {})),
            obj.name,
            obj.daemon,
            extra,
            obj.is_alive(),
        )

    # Executors by name: serializing does not import concurrent.futures (logging with it) or its
    # process module (multiprocessing's queues) in a program that uses neither.
    def _thread_pool(obj: Any) -> Any:
        return _rebuild_thread_pool, (
            obj._max_workers,
            obj._thread_name_prefix,
            obj._initializer,
            obj._initargs,
        )

    registry.add_builtin_by_name(
        "concurrent.futures.thread",
        ("ThreadPoolExecutor",),
        "ThreadPoolExecutor (new executor, same config)",
        lambda _p, obj: _thread_pool(obj),
    )

    def _process_pool(obj: Any) -> Any:
        context = getattr(obj, "_mp_context", None)
        method = context.get_start_method() if context is not None else None
        return _rebuild_process_pool, (
            obj._max_workers,
            method,
            obj._initializer,
            obj._initargs,
            getattr(obj, "_max_tasks_per_child", None),
        )

    registry.add_builtin_by_name(
        "concurrent.futures.process",
        ("ProcessPoolExecutor",),
        "ProcessPoolExecutor (new executor, same config)",
        lambda _p, obj: _process_pool(obj),
    )
