"""``Pool``: parallel batch processing with persistent workers."""

from __future__ import annotations

import concurrent.futures
import functools
import os
import sys
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar, cast

from sk_modifiers import modifiable
from suitkaise_processing._private import wire
from suitkaise_processing._private.errors import PoolError
from suitkaise_processing._private.pool._backend import Backend
from suitkaise_processing._private.pool._engine import Engine
from suitkaise_processing._private.pool._errors import PoolTimeoutError
from suitkaise_processing._private.pool._item_timeout import check_item_timeout
from suitkaise_processing._private.pool._jobs import CallSpec, Job
from suitkaise_processing._private.pool._recycling import recycling
from suitkaise_processing._private.pool._results import (
    AsyncResults,
    ResultIterator,
    collect,
    in_background,
)
from suitkaise_processing._private.pool._signatures import (
    imap_signature,
    map_signature,
    star_imap_signature,
    star_map_signature,
)

if TYPE_CHECKING:
    from suitkaise_processing._private.pool._calls import IterCall, ListCall, Method

P = ParamSpec("P")
R = TypeVar("R")
_Fn = Callable[..., Any]
_Items = Iterable[Any]
_Args = tuple[_Fn, _Items, "float | None", "float | None"]


def _cpu_count() -> int:
    counter = getattr(os, "process_cpu_count", None)
    if counter is not None:
        return int(counter() or 1)
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


def _cluster_backend(cluster: object, *args: Any, **options: Any) -> Backend:
    """``Pool(cluster=...)``: the items run as Dask tasks (imports ``distributed``)."""
    from suitkaise_processing._private.pool._dask_backend import DaskEngine

    return DaskEngine(cluster, *args, **options)


def _is_skprocess_class(fn: object) -> bool:
    # an Skprocess subclass exists only once its module was imported: no import needed to rule it out
    base = sys.modules.get("suitkaise_processing._private.skprocess.base")
    return base is not None and isinstance(fn, type) and issubclass(fn, base.Skprocess)


class PoolCall:
    """``pool.imap`` / ``pool.unordered_imap``: call it, or derive a modified call with
    ``.timeout(seconds)`` (per next result), ``.item_timeout(seconds)`` (per item),
    ``.background()`` (a ``Future`` of the list) or ``.asynced()`` (await it for the list, or
    ``async for`` over it); chainable."""

    __slots__ = ("_asynced", "_background", "_item_timeout", "_kind", "_pool", "_star", "_timeout")

    def __init__(
        self,
        pool: Pool,
        kind: str,
        star: bool,
        timeout: float | None = None,
        background: bool = False,
        asynced: bool = False,
        item_timeout: float | None = None,
    ) -> None:
        self._pool = pool
        self._kind = kind
        self._star = star
        self._timeout = timeout
        self._background = background
        self._asynced = asynced
        self._item_timeout = item_timeout

    def _derive(self, **changes: Any) -> PoolCall:
        fields: dict[str, Any] = {
            "timeout": self._timeout,
            "background": self._background,
            "asynced": self._asynced,
            "item_timeout": self._item_timeout,
        }
        fields.update(changes)
        return PoolCall(self._pool, self._kind, self._star, **fields)

    def timeout(self, seconds: float) -> PoolCall:
        """Limit the time: the whole call for ``map``/``unordered_map``, each wait for the next result
        for ``imap``/``unordered_imap``. On expiry ``PoolTimeoutError`` is raised and the workers running
        the call's items are stopped and replaced."""
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0:
            raise ValueError(f"timeout must be a number of seconds >= 0, got {seconds!r}")
        return self._derive(timeout=float(seconds))

    def item_timeout(self, seconds: float) -> PoolCall:
        """Limit each item to ``seconds``: an item that runs longer fails with ``ItemTimeoutError``
        (its worker is stopped and replaced; the other items are not affected). Overrides the
        pool's ``item_timeout``."""
        limit = check_item_timeout(seconds, f"pool.{self._kind}.item_timeout()")
        return self._derive(item_timeout=limit)

    def background(self) -> PoolCall:
        """Run the call in a background thread: calling returns a ``concurrent.futures.Future`` of the
        list of results (iterators are collected to a list)."""
        if self._asynced:
            raise PoolError("choose either .background() or .asynced(), not both")
        return self._derive(background=True)

    def asynced(self) -> PoolCall:
        """An awaitable call: ``await pool.map.asynced()(fn, items)`` gives the list; for ``imap`` and
        ``unordered_imap`` the result can also be iterated with ``async for``."""
        if self._background:
            raise PoolError("choose either .background() or .asynced(), not both")
        return self._derive(asynced=True)

    def __call__(self, fn_or_process: Callable[..., Any], iterable: Iterable[Any]) -> Any:
        """Apply ``fn_or_process`` to every item of ``iterable``."""
        pool = self._pool
        # Submitted here, in the caller's thread, so that a close() that follows lets it finish.
        # A background call collects everything: its input is read like map's (not lazily), so
        # close() waits for all of it instead of stopping at the read-ahead limit.
        results = pool._iterate(
            self._kind,
            fn_or_process,
            iterable,
            self._star,
            self._timeout,
            lazy=not self._background,
            item_timeout=self._item_timeout,
        )
        if self._asynced:
            return AsyncResults(results)
        if self._background:
            return in_background(lambda: list(results), results.cancel)
        return results

    def __repr__(self) -> str:
        mods = "".join(
            m
            for m, on in (
                (f".timeout({self._timeout})", self._timeout is not None),
                (f".item_timeout({self._item_timeout})", self._item_timeout is not None),
                (".background()", self._background),
                (".asynced()", self._asynced),
            )
            if on
        )
        star = ".star()" if self._star else ""
        return f"<pool{star}.{self._kind}{mods}>"


class _CallDescriptor:
    def __init__(self, kind: str, star: bool, doc: str) -> None:
        self._kind = kind
        self._star = star
        self.__doc__ = doc

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    def __get__(self, obj: object, owner: type | None = None) -> Any:
        if isinstance(obj, (Pool, StarPool)):
            return PoolCall(_pool_of(obj), self._kind, self._star)
        return self


_IMAP_DOC = """An iterator of results in input order, computed ahead while you consume them.

Reads its input lazily (bounded read-ahead). ``.timeout(s)`` bounds each wait for the next result;
``.background()``/``.asynced()`` collect to a list (``.asynced()`` also supports ``async for``).
"""
_UNORDERED_IMAP_DOC = (
    """An iterator of results in completion order: the fastest way to get results."""
)


_MAP_DOC = """Apply a function (or ``Skprocess`` class) to every item; a list in input order.

Blocks until every item is done. The first failing item (in input order) raises its own exception,
with the worker's traceback as ``__cause__``; the rest is cancelled. Modifiers: ``.timeout(s)``
(whole call), ``.background()``, ``.asynced()``, ``.retry()``, ``.rate_limit()``.
"""
_UNORDERED_MAP_DOC = """Like ``map`` but the list is in completion order (fastest items first)."""
_STAR_DOC = "``pool.{kind}`` with every item unpacked as arguments: ``fn(*item)``."


def _pool_of(owner: Pool | StarPool) -> Pool:
    return owner._pool if isinstance(owner, StarPool) else owner


def _iter_method(
    kind: str, star: bool, doc: str, signature: Callable[P, R]
) -> Method[IterCall[P, R]]:
    """``imap``/``unordered_imap`` of ``Pool`` or of ``StarPool``, typed like ``signature``."""
    return cast("Method[IterCall[P, R]]", _CallDescriptor(kind, star, doc))


def _call_args(
    fn_or_process: _Fn,
    iterable: _Items,
    *,
    timeout: float | None = None,
    item_timeout: float | None = None,
) -> _Args:
    """The arguments of a ``map`` call, as the native async and background forms receive them."""
    return fn_or_process, iterable, timeout, item_timeout


def _item_timeout_step(call: _Fn, seconds: float) -> _Fn:
    """``pool.map.item_timeout(seconds)``: the call, with ``item_timeout=seconds``."""
    return functools.partial(call, item_timeout=check_item_timeout(seconds, "item_timeout()"))


def _list_method(
    owner: str, kind: str, star: bool, doc: str, signature: Callable[P, R]
) -> Method[ListCall[P, R]]:
    """``map``/``unordered_map`` of ``Pool`` or of ``StarPool`` (``star=True``), from one definition:
    the blocking call, and the native forms ``.asynced()`` and ``.background()`` use; typed like
    ``signature`` (:mod:`._calls`)."""

    def call(
        self: Pool | StarPool,
        fn_or_process: Callable[..., Any],
        iterable: Iterable[Any],
        *,
        timeout: float | None = None,
        item_timeout: float | None = None,
    ) -> list[Any]:
        pool = _pool_of(self)
        job = pool._submit(kind, fn_or_process, iterable, star, item_timeout=item_timeout)
        return collect(pool._engine, job, timeout, f"pool.{kind}")

    # the native forms sk_modifiers calls with the same arguments as ``call``
    async def call_async(self: Pool | StarPool, *args: Any, **kwargs: Any) -> list[Any]:
        import asyncio  # imported by the first async call: a Pool program that never awaits skips it

        pool = _pool_of(self)
        fn_or_process, iterable, timeout, item_timeout = _call_args(*args, **kwargs)
        job = pool._submit(kind, fn_or_process, iterable, star, item_timeout=item_timeout)
        try:
            return await asyncio.to_thread(collect, pool._engine, job, timeout, f"pool.{kind}")
        except asyncio.CancelledError:
            pool._engine.finish(job, kill=True)
            raise

    def call_background(
        self: Pool | StarPool, *args: Any, **kwargs: Any
    ) -> concurrent.futures.Future[list[Any]]:
        # submitted in the caller's thread (so a close() that follows lets the call finish),
        # collected in a background thread
        engine = _pool_of(self)._engine
        fn_or_process, iterable, timeout, item_timeout = _call_args(*args, **kwargs)
        job = _pool_of(self)._submit(kind, fn_or_process, iterable, star, item_timeout=item_timeout)
        return in_background(
            lambda: collect(engine, job, timeout, f"pool.{kind}"),
            lambda: engine.finish(job, kill=True),
        )

    for fn, suffix in ((call, ""), (call_async, "_async"), (call_background, "_background")):
        fn.__name__ = kind + suffix
        fn.__qualname__ = f"{owner}.{kind}{suffix}"
    call.__doc__ = doc
    method = modifiable(timeout_error=PoolTimeoutError, native_timeout="timeout")(call)
    method.native_async(call_async)
    method.native_background(call_background)
    method.modifier("item_timeout", arguments_only=True)(_item_timeout_step)
    return cast("Method[ListCall[P, R]]", method)


class Pool:
    """A process pool for parallel batch processing.

    ``Pool(workers=None, *, chunksize=None, initializer=None, initargs=(), progress=False,
    forward_logs=True, max_tasks_per_child=None, max_memory_per_child=None, item_timeout=None)``

    - ``workers``: worker processes (``None``: the number of CPUs). They start with the pool and are
      reused by every call; a worker that dies is replaced.
    - ``cluster``: run the items on a Dask cluster instead (a ``distributed.Client``, a Dask cluster
      object or a scheduler address ``"tcp://host:port"``; needs ``suitkaise-processing[dask]``):
      the same calls and modifiers; see docs/scaling.md for what differs.
    - ``chunksize``: items sent to a worker at a time (``None``: chosen automatically).
    - ``initializer(*initargs)`` runs once in every worker when it starts.
    - ``progress=True`` shows a progress bar per call (tqdm when installed, else a counter on stderr).
    - ``forward_logs``: log records of the workers go to the parent's logging handlers.
    - ``max_tasks_per_child``: a worker is replaced after this many items (between two items).
    - ``max_memory_per_child``: a worker whose resident memory is over this size after an item is
      replaced (bytes, or a string such as ``"500MB"``).
    - ``item_timeout``: seconds each item may run; one that runs longer fails with
      ``ItemTimeoutError`` and its worker is replaced (per call: ``pool.map.item_timeout(s)``).

    Use it as a context manager, or call ``close()`` (finish, then stop the workers) or
    ``terminate()`` (stop now).
    """

    map = _list_method("Pool", "map", False, _MAP_DOC, map_signature)
    unordered_map = _list_method("Pool", "unordered_map", False, _UNORDERED_MAP_DOC, map_signature)
    imap = _iter_method("imap", False, _IMAP_DOC, imap_signature)
    unordered_imap = _iter_method("unordered_imap", False, _UNORDERED_IMAP_DOC, imap_signature)

    def __init__(
        self,
        workers: int | None = None,
        *,
        cluster: object = None,
        chunksize: int | None = None,
        initializer: Callable[..., object] | None = None,
        initargs: Iterable[Any] = (),
        progress: bool = False,
        forward_logs: bool = True,
        max_tasks_per_child: int | None = None,
        max_memory_per_child: int | str | None = None,
        item_timeout: float | None = None,
    ) -> None:
        if cluster is not None and workers is not None:
            raise PoolError(
                "Pool(workers=..., cluster=...): the cluster's workers run the items; leave workers out"
            )
        if workers is None:
            workers = _cpu_count()
        if isinstance(workers, bool) or not isinstance(workers, int):
            raise TypeError(
                f"Pool(workers=...) must be an int or None, not {type(workers).__name__}"
            )
        if workers <= 0:
            raise ValueError(
                f"Pool(workers={workers}): workers must be at least 1 (or None for the CPU count)"
            )
        if chunksize is not None and (
            isinstance(chunksize, bool) or not isinstance(chunksize, int) or chunksize <= 0
        ):
            raise ValueError(
                f"Pool(chunksize={chunksize!r}): chunksize must be an int >= 1 or None"
            )
        if initializer is not None and not callable(initializer):
            raise TypeError("Pool(initializer=...) must be callable")
        self._chunksize = chunksize
        self._progress = bool(progress)
        self._item_timeout = check_item_timeout(item_timeout, "Pool(item_timeout=...)")
        limits = recycling(max_tasks_per_child, max_memory_per_child)
        self._engine: Backend
        if cluster is None:
            self._engine = Engine(workers, initializer, tuple(initargs), forward_logs, limits)
        else:
            self._engine = _cluster_backend(
                cluster,
                initializer,
                tuple(initargs),
                recycling=limits,
                item_timeout=self._item_timeout,
            )

    @property
    def workers(self) -> int:
        """The number of worker processes (on a cluster: its workers' threads)."""
        return self._engine.size

    def star(self) -> StarPool:
        """A view of this pool whose methods unpack each item as arguments: ``fn(*item)``."""
        return StarPool(self)

    # --- internals ----------------------------------------------------------------------------
    def _submit(
        self,
        kind: str,
        fn: Callable[..., Any],
        iterable: Iterable[Any],
        star: bool,
        lazy: bool | None = None,
        item_timeout: float | None = None,
    ) -> Job:
        if not callable(fn):
            raise TypeError(
                f"pool.{kind}: the first argument must be a function or an Skprocess class, not {type(fn).__name__}"
            )
        if not isinstance(iterable, Iterable):
            raise TypeError(
                f"pool.{kind}: the second argument must be an iterable of items, not {type(iterable).__name__}"
            )
        try:
            fn_blob = wire.serialize(fn)
        except Exception as exc:
            detailed = wire.explain_failure(fn, exc)
            raise PoolError(
                f"pool.{kind}: {fn!r} could not be serialized to send it to the workers: "
                f"{type(detailed).__name__}: {detailed}"
            ) from detailed
        engine = self._engine
        spec = CallSpec(
            name=f"pool.{kind}",
            target=fn,
            fn_blob=fn_blob,
            skprocess=_is_skprocess_class(fn),
            star=star,
            ordered=kind in ("map", "imap"),
            lazy=kind in ("imap", "unordered_imap") if lazy is None else lazy,
            workers=engine.size,
            chunksize=self._chunksize,
            estimate=engine.estimate(fn_blob),
            progress=self._progress,
            batching=engine.batching,
            item_timeout=self._item_timeout
            if item_timeout is None
            else check_item_timeout(item_timeout, f"pool.{kind}(item_timeout=...)"),
        )
        return engine.submit(lambda job_id: Job(job_id, spec, iterable))

    def _iterate(
        self,
        kind: str,
        fn: Callable[..., Any],
        iterable: Iterable[Any],
        star: bool,
        timeout: float | None,
        *,
        lazy: bool = True,
        item_timeout: float | None = None,
    ) -> ResultIterator:
        job = self._submit(kind, fn, iterable, star, lazy, item_timeout)
        return ResultIterator(self._engine, job, timeout, f"pool.{kind}")

    # --- lifetime -----------------------------------------------------------------------------
    def close(self) -> None:
        """Let the work already started finish, then stop the workers. Idempotent."""
        self._engine.close()

    def terminate(self) -> None:
        """Stop every worker now; calls still running raise ``PoolError``. Idempotent."""
        self._engine.terminate()

    def __enter__(self) -> Pool:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.terminate()

    def __repr__(self) -> str:
        return f"<Pool workers={self.workers} {self._engine.state}>"

    def __reduce__(self) -> Any:
        raise TypeError(
            "a Pool owns its worker processes and cannot be sent to another process; "
            "create the Pool inside the process that uses it (a Pool item may create its own Pool)"
        )


class StarPool:
    """``pool.star()``: the same methods and modifiers, each item unpacked as arguments (``fn(*item)``)."""

    map = _list_method("StarPool", "map", True, _STAR_DOC.format(kind="map"), star_map_signature)
    unordered_map = _list_method(
        "StarPool",
        "unordered_map",
        True,
        _STAR_DOC.format(kind="unordered_map"),
        star_map_signature,
    )
    imap = _iter_method("imap", True, _IMAP_DOC, star_imap_signature)
    unordered_imap = _iter_method("unordered_imap", True, _UNORDERED_IMAP_DOC, star_imap_signature)

    def __init__(self, pool: Pool) -> None:
        self._pool = pool

    def __repr__(self) -> str:
        return f"<{self._pool!r}.star()>"
