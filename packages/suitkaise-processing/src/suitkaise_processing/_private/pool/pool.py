"""``Pool``: parallel batch processing with persistent workers."""

from __future__ import annotations

import concurrent.futures
import functools
import os
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Sized
from types import TracebackType
from typing import TYPE_CHECKING, Any, NamedTuple, NoReturn, cast

from sk_modifiers import modifiable
from suitkaise_processing._private import wire
from suitkaise_processing._private.errors import PoolError
from suitkaise_processing._private.pool._arguments import misnamed_arguments
from suitkaise_processing._private.pool._backend import Backend
from suitkaise_processing._private.pool._engine import Engine
from suitkaise_processing._private.pool._errors import PoolTimeoutError
from suitkaise_processing._private.pool._executor import Submitter
from suitkaise_processing._private.pool._item_timeout import check_item_timeout
from suitkaise_processing._private.pool._jobs import CallSpec, Job
from suitkaise_processing._private.pool._progress import ProgressOption, options_of, resolve
from suitkaise_processing._private.pool._rate_limit import PoolRateLimits, RateLimit
from suitkaise_processing._private.pool._recycling import recycling
from suitkaise_processing._private.pool._results import (
    AsyncResults,
    ResultIterator,
    collect,
    in_background,
)
from suitkaise_processing._private.pool._signatures import (
    P,
    R,
    T,
    imap_signature,
    map_signature,
    star_imap_signature,
    star_map_signature,
)

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from suitkaise_processing._private.pool._calls import IterCall, ListCall, MapOptions, Method

_Fn = Callable[..., Any]
_Items = Iterable[Any]


class _CallArgs(NamedTuple):
    """The arguments of a ``map`` call, as the native async and background forms receive them."""

    fn_or_process: _Fn
    iterables: tuple[_Items, ...]
    timeout: float | None
    #: the keywords of ``Pool._submit`` (``item_timeout``, ``chunksize``, ``progress``)
    options: dict[str, Any]


class _Zip:
    """``zip(*iterables)`` (``pool.map(fn, xs, ys)``) that has a length when every iterable has one
    (the progress total and the chunk sizes use it)."""

    def __init__(self, iterables: tuple[_Items, ...]) -> None:
        self._iterables = iterables

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return zip(*self._iterables, strict=False)  # the shortest ends it, as in Executor.map

    def __len__(self) -> int:
        return min(len(cast(Sized, it)) for it in self._iterables)  # TypeError when one has none


def _check_chunksize(chunksize: object, where: str) -> int | None:
    if chunksize is not None and (
        isinstance(chunksize, bool) or not isinstance(chunksize, int) or chunksize <= 0
    ):
        raise ValueError(f"{where}: chunksize must be an int >= 1 or None, got {chunksize!r}")
    return chunksize


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

    __slots__ = (
        "_asynced",
        "_background",
        "_item_timeout",
        "_kind",
        "_pool",
        "_progress",
        "_star",
        "_timeout",
    )

    def __init__(
        self,
        pool: Pool,
        kind: str,
        star: bool,
        timeout: float | None = None,
        background: bool = False,
        asynced: bool = False,
        item_timeout: float | None = None,
        progress: ProgressOption | None = None,
    ) -> None:
        self._pool = pool
        self._kind = kind
        self._star = star
        self._timeout = timeout
        self._background = background
        self._asynced = asynced
        self._item_timeout = item_timeout
        self._progress = progress

    def _derive(self, **changes: Any) -> PoolCall:
        fields: dict[str, Any] = {
            "timeout": self._timeout,
            "background": self._background,
            "asynced": self._asynced,
            "item_timeout": self._item_timeout,
            "progress": self._progress,
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

    def progress(self, **options: Any) -> PoolCall:
        """Show a progress bar for this call: tqdm options (``desc=``, ``unit=``, ...) over the
        pool's ``progress`` options."""
        return self._derive(progress=options_of(options, f"pool.{self._kind}.progress()"))

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

    def __call__(
        self,
        fn_or_process: Callable[..., Any],
        /,
        *iterables: Iterable[Any],
        chunksize: int | None = None,
        progress: ProgressOption | None = None,
    ) -> Any:
        """Apply ``fn_or_process`` to every item of ``iterable`` (several iterables: to their items
        taken together, like ``map(fn, xs, ys)``)."""
        pool = self._pool
        # Submitted here, in the caller's thread, so that a close() that follows lets it finish.
        # A background call collects everything: its input is read like map's (not lazily), so
        # close() waits for all of it instead of stopping at the read-ahead limit.
        job = pool._start(
            self._kind,
            fn_or_process,
            iterables,
            self._star,
            lazy=not self._background,
            item_timeout=self._item_timeout,
            chunksize=chunksize,
            progress=self._progress if progress is None else progress,
        )
        results = ResultIterator(pool._engine, job, self._timeout, f"pool.{self._kind}")
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
                (".progress(...)", self._progress is not None),
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


def _items_of(kind: str, iterables: tuple[object, ...], star: bool) -> tuple[Any, bool]:
    """The items of a call and whether each is unpacked as arguments: its iterable (checked by
    ``Pool._submit``), or the tuples of several iterables taken together (``fn(*items)``)."""
    if len(iterables) == 1:
        return iterables[0], star
    if not iterables:
        raise TypeError(
            f"pool.{kind}(fn, items): give the items to apply fn to (one or more iterables)"
        )
    if star:
        raise TypeError(
            f"pool.star().{kind} takes one iterable of argument tuples; to take the items of "
            f"several iterables together, write pool.{kind}(fn, xs, ys)"
        )
    checked: list[_Items] = []
    for position, iterable in enumerate(iterables, 2):
        if not isinstance(iterable, Iterable):
            raise TypeError(
                f"pool.{kind}: argument {position} must be an iterable of items, "
                f"not {type(iterable).__name__}"
            )
        checked.append(iterable)
    return _Zip(tuple(checked)), True


def _encode_function(rate_limits: PoolRateLimits, what: str, fn: Callable[..., Any]) -> bytes:
    """``fn`` encoded for the workers (its rate limits shared by all of them)."""
    try:
        with rate_limits.sharing():  # rate limits hold across the workers
            return wire.serialize(rate_limits.prepare(fn))
    except Exception as exc:
        detailed = wire.explain_failure(fn, exc)
        raise PoolError(
            f"{what}: {fn!r} could not be serialized to send it to the workers: "
            f"{type(detailed).__name__}: {detailed}"
        ) from detailed


def _pool_of(owner: Pool | StarPool) -> Pool:
    return owner._pool if isinstance(owner, StarPool) else owner


def _iter_method(
    kind: str, star: bool, doc: str, signature: Callable[P, R]
) -> Method[IterCall[P, R]]:
    """``imap``/``unordered_imap`` of ``Pool`` or of ``StarPool``, typed like ``signature``."""
    return cast("Method[IterCall[P, R]]", _CallDescriptor(kind, star, doc))


def _call_args(
    fn_or_process: _Fn, /, *iterables: _Items, timeout: float | None = None, **options: Any
) -> _CallArgs:
    """The arguments of a ``map`` call, as the native async and background forms receive them."""
    return _CallArgs(fn_or_process, iterables, timeout, options)


def _item_timeout_step(call: _Fn, seconds: float) -> _Fn:
    """``pool.map.item_timeout(seconds)``: the call, with ``item_timeout=seconds``."""
    return functools.partial(call, item_timeout=check_item_timeout(seconds, "item_timeout()"))


def _progress_step(call: _Fn, **options: Any) -> _Fn:
    """``pool.map.progress(desc=...)``: the call, with ``progress=`` those tqdm options."""
    return functools.partial(call, progress=options_of(options, "pool.map.progress()"))


def _list_method(
    owner: str, kind: str, star: bool, doc: str, signature: Callable[P, R]
) -> Method[ListCall[P, R]]:
    """``map``/``unordered_map`` of ``Pool`` or of ``StarPool`` (``star=True``), from one definition:
    the blocking call, and the native forms ``.asynced()`` and ``.background()`` use; typed like
    ``signature`` (:mod:`._calls`)."""

    def call(
        self: Pool | StarPool,
        fn_or_process: Callable[..., Any],
        /,
        *iterables: Iterable[Any],
        timeout: float | None = None,
        item_timeout: float | None = None,
        chunksize: int | None = None,
        progress: ProgressOption | None = None,
    ) -> list[Any]:
        pool = _pool_of(self)
        job = pool._start(
            kind,
            fn_or_process,
            iterables,
            star,
            item_timeout=item_timeout,
            chunksize=chunksize,
            progress=progress,
        )
        return collect(pool._engine, job, timeout, f"pool.{kind}")

    # the native forms sk_modifiers calls with the same arguments as ``call``
    async def call_async(self: Pool | StarPool, *args: Any, **kwargs: Any) -> list[Any]:
        import asyncio  # imported by the first async call: a Pool program that never awaits skips it

        pool = _pool_of(self)
        fn_or_process, iterables, timeout, options = _call_args(*args, **kwargs)
        job = pool._start(kind, fn_or_process, iterables, star, **options)
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
        fn_or_process, iterables, timeout, options = _call_args(*args, **kwargs)
        job = _pool_of(self)._start(kind, fn_or_process, iterables, star, **options)
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
    method.modifier("progress")(_progress_step)
    return cast("Method[ListCall[P, R]]", method)


def _list_method_of(
    owner: str, kind: str, star: bool, doc: str
) -> Callable[[Callable[P, R]], Method[ListCall[P, R]]]:
    """``_list_method`` as a decorator of the signature (``Pool.map``: see there)."""
    return lambda signature: _list_method(owner, kind, star, doc, signature)


class Pool(concurrent.futures.Executor):
    """A process pool for parallel batch processing; also a ``concurrent.futures.Executor``.

    ``Pool(workers=None, *, chunksize=None, initializer=None, initargs=(), progress=False,
    forward_logs=True, max_tasks_per_child=None, max_memory_per_child=None, item_timeout=None,
    shared_memory=True)``

    - ``workers``: worker processes (``None``: the number of CPUs). They start with the pool and are
      reused by every call; a worker that dies is replaced.
    - ``cluster``: run the items on a Dask cluster instead (a ``distributed.Client``, a Dask cluster
      object or a scheduler address ``"tcp://host:port"``; needs ``suitkaise-processing[dask]``):
      the same calls and modifiers; see docs/scaling.md for what differs.
    - ``chunksize``: items sent to a worker at a time (``None``: chosen automatically).
    - ``initializer(*initargs)`` runs once in every worker when it starts.
    - ``progress=True`` shows a progress bar per call (tqdm when installed, else a counter on
      stderr); a dict gives tqdm options (``{"desc": "squares", "unit": "sq"}``). Per call:
      ``pool.map(fn, items, progress={...})`` or ``pool.map.progress(desc=...)(fn, items)``.
    - ``forward_logs``: log records of the workers go to the parent's logging handlers.
    - ``max_tasks_per_child``: a worker is replaced after this many items (between two items).
    - ``max_memory_per_child``: a worker whose resident memory is over this size after an item is
      replaced (bytes, or a string such as ``"500MB"``).
    - ``item_timeout``: seconds each item may run; one that runs longer fails with
      ``ItemTimeoutError`` and its worker is replaced (per call: ``pool.map.item_timeout(s)``).

    - ``rate_limit``: at most this many items start per second across all the workers (a number,
      or a ``RateLimit``; ``RateLimit(5, backend="redis://...", name="api")`` shares the limit with
      every pool on any machine that uses the same server and name). A function's own
      ``.rate_limit(n)`` holds across the workers too.
    - ``shared_memory``: large numpy arrays (and other pickle protocol 5 buffers of 256 KiB or more)
      in items and results travel through shared memory, and arrive as copy-on-write views of it
      (Linux; see docs/suitkaise-processing/large-data.md). ``False``: inside the messages.

    Use it as a context manager, or call ``close()`` (finish, then stop the workers) or
    ``terminate()`` (stop now).

    As an ``Executor``: ``submit(fn, *args, **kwargs)`` gives a ``concurrent.futures.Future``,
    ``map(fn, *iterables, timeout=None, chunksize=None)`` takes several iterables like
    ``Executor.map`` (but returns a list), ``shutdown(wait=True, cancel_futures=False)``, and
    ``loop.run_in_executor(pool, fn, *args)`` works. The names of other pools (``processes=``,
    ``max_workers=``, ``maxtasksperchild=``) raise a ``TypeError`` saying what to write here.
    """

    # A list where Executor.map gives an iterator: iterating it works the same (see docs/pool.md).
    # A def, not an assignment: pyright keeps Executor.map's type for an assignment that overrides
    # it; a decorated def is a declaration, so type checkers see this call's type. The def is the
    # call's signature (its body never runs), as map_signature is unordered_map's.
    @_list_method_of("Pool", "map", False, _MAP_DOC)
    def map(  # type: ignore[override]
        fn_or_process: Callable[[T], R], iterable: Iterable[T], /, **options: Unpack[MapOptions]
    ) -> R:
        raise NotImplementedError

    unordered_map = _list_method("Pool", "unordered_map", False, _UNORDERED_MAP_DOC, map_signature)
    imap = _iter_method("imap", False, _IMAP_DOC, imap_signature)
    unordered_imap = _iter_method("unordered_imap", False, _UNORDERED_IMAP_DOC, imap_signature)

    def __init__(
        self,
        workers: int | None = None,
        *misplaced: NoReturn,
        cluster: object = None,
        chunksize: int | None = None,
        initializer: Callable[..., object] | None = None,
        initargs: Iterable[Any] = (),
        progress: ProgressOption = False,
        forward_logs: bool = True,
        max_tasks_per_child: int | None = None,
        max_memory_per_child: int | str | None = None,
        item_timeout: float | None = None,
        rate_limit: RateLimit | float | None = None,
        shared_memory: bool = True,
        **misnamed: NoReturn,
    ) -> None:
        if misplaced or misnamed:  # other pools' habits: say what to write here
            raise misnamed_arguments(Pool.__init__, misplaced, misnamed)
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
        _check_chunksize(chunksize, "Pool(chunksize=...)")
        if initializer is not None and not callable(initializer):
            raise TypeError("Pool(initializer=...) must be callable")
        self._chunksize = chunksize
        self._progress = options_of(progress, "Pool(progress=...)")
        self._shut_down = False
        self._item_timeout = check_item_timeout(item_timeout, "Pool(item_timeout=...)")
        limits = recycling(max_tasks_per_child, max_memory_per_child)
        self._rate_limits = PoolRateLimits(rate_limit)
        self._engine: Backend
        if cluster is None:
            self._engine = Engine(
                workers,
                initializer,
                tuple(initargs),
                forward_logs,
                limits,
                shared_memory=bool(shared_memory),
            )
        else:
            self._engine = _cluster_backend(
                cluster,
                initializer,
                tuple(initargs),
                recycling=limits,
                item_timeout=self._item_timeout,
                forward_logs=forward_logs,
            )
        self._submitter = Submitter(
            self._engine, functools.partial(_encode_function, self._rate_limits), self._item_timeout
        )

    @property
    def workers(self) -> int:
        """The number of worker processes (on a cluster: its workers' threads)."""
        return self._engine.size

    def star(self) -> StarPool:
        """A view of this pool whose methods unpack each item as arguments: ``fn(*item)``."""
        return StarPool(self)

    # --- internals ----------------------------------------------------------------------------
    def _start(
        self,
        kind: str,
        fn: Callable[..., Any],
        iterables: tuple[Iterable[Any], ...],
        star: bool,
        **options: Any,
    ) -> Job:
        """:meth:`_submit` a call given one or more iterables (``options``: its keywords)."""
        items, star = _items_of(kind, iterables, star)
        return self._submit(kind, fn, items, star, **options)

    def _submit(
        self,
        kind: str,
        fn: Callable[..., Any],
        iterable: Iterable[Any],
        star: bool,
        lazy: bool | None = None,
        item_timeout: float | None = None,
        chunksize: int | None = None,
        progress: ProgressOption | None = None,
    ) -> Job:
        if self._shut_down:
            raise PoolError("the pool was shut down; create a new Pool to run more work")
        if not callable(fn):
            raise TypeError(
                f"pool.{kind}: the first argument must be a function or an Skprocess class, not {type(fn).__name__}"
            )
        if not isinstance(iterable, Iterable):
            raise TypeError(
                f"pool.{kind}: the second argument must be an iterable of items, not {type(iterable).__name__}"
            )
        fn_blob = _encode_function(self._rate_limits, f"pool.{kind}", fn)
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
            chunksize=self._chunksize
            if chunksize is None
            else _check_chunksize(chunksize, f"pool.{kind}(chunksize=...)"),
            estimate=engine.estimate(fn_blob),
            progress=resolve(self._progress, progress, f"pool.{kind}(progress=...)"),
            batching=engine.batching,
            item_timeout=self._item_timeout
            if item_timeout is None
            else check_item_timeout(item_timeout, f"pool.{kind}(item_timeout=...)"),
        )
        return engine.submit(lambda job_id: Job(job_id, spec, iterable))

    # --- concurrent.futures.Executor ----------------------------------------------------------
    def submit(
        self, fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs
    ) -> concurrent.futures.Future[R]:
        """Run ``fn(*args, **kwargs)`` in a worker; a ``concurrent.futures.Future`` of its result.

        The future is pending until a worker takes the call (``cancel()`` then succeeds and the
        call never runs), running while it runs, and gets the result or the worker's own exception
        (with the worker's traceback as ``__cause__``). Functions, lambdas and closures work as for
        ``map``; an ``Skprocess`` class runs one instance (``cls(*args)``). The function and its
        arguments are encoded here, so an argument that cannot be sent raises ``PoolError`` now.
        """
        if self._shut_down:
            raise PoolError("the pool was shut down; create a new Pool to run more work")
        if not _is_skprocess_class(fn):
            return self._submitter.submit(fn, args, kwargs)
        if kwargs:
            raise TypeError(
                "pool.submit(ProcessClass, *args): give an Skprocess class its arguments by position"
            )
        engine = self._engine
        job = self._submit("submit", fn, [args], True, lazy=False)
        future = in_background(
            lambda: collect(engine, job, None, "pool.submit")[0],
            lambda: engine.finish(job, kill=True),
        )
        return cast("concurrent.futures.Future[R]", future)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """``Executor.shutdown``: accept no more work, then :meth:`close` (the work already
        submitted finishes, then the workers stop). ``cancel_futures=True`` first cancels the
        submitted calls that no worker has started; ``wait=False`` returns at once and closes in a
        background thread (the interpreter waits for it at exit). Idempotent."""
        self._shut_down = True
        if cancel_futures:
            self._submitter.cancel_queued()
        if wait:
            self.close()
        else:
            threading.Thread(target=self.close, name="sk-pool-shutdown").start()

    # --- lifetime -----------------------------------------------------------------------------
    def close(self) -> None:
        """Let the work already started finish, then stop the workers. Idempotent."""
        self._engine.close()
        self._rate_limits.release()

    def terminate(self) -> None:
        """Stop every worker now; calls still running raise ``PoolError``. Idempotent."""
        self._engine.terminate()
        self._rate_limits.release()

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
