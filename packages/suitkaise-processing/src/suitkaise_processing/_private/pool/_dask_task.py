"""The Dask task of ``Pool(cluster=...)``: runs one chunk of items inside a Dask worker.

This module runs on the cluster's workers and imports neither ``distributed`` nor anything of the
parent's engine; :mod:`._dask_backend` submits :func:`run_batch` as the task of every chunk.

Arguments (all plain data: Dask never walks into them)
    ``run_batch(fn_key, fn_blob, mode, start, payload, pool)``

    - ``fn_key``: 16 bytes naming the function (a hash of ``fn_blob``): the worker deserializes each
      function once per client program and keeps the last :data:`._dask_worker.FUNCTIONS_KEPT`.
    - ``fn_blob``: the function or ``Skprocess`` class as cucumber bytes (:func:`..wire.serialize`),
      inline for small functions, a scattered Dask future (resolved to the bytes) for large ones.
    - ``mode``: the chunk's mode word (:func:`._protocol.mode_word`: ``Skprocess`` class, star call).
    - ``start``: the index of the chunk's first item in its call.
    - ``payload``: the chunk's items, encoded by :func:`..wire.encode_by_reference` (pickle or
      cucumber, self-describing).
    - ``pool``: the same tuple for every task of a pool,
      ``(token, init, origin, program, log_level)``:

      - ``token``: the pool's id; ``init``: ``None``, or the pool's ``(initializer, initargs)`` as
        cucumber bytes, run once per worker process and pool, before that pool's first chunk;
      - ``origin``: the host name of the submitting process (to explain a local ``Share`` used on
        another machine);
      - ``program``: the id of the submitting process, which owns its by-value modules' namespaces
        and functions in the worker (:mod:`._dask_worker`);
      - ``log_level``: ``None``, or the level from which the items' log records travel back
        (``Pool(forward_logs=True)``: the parent's root logger level).

Result (a tuple whose first element is a tag and whose last is the list of the task's log records,
each packed by :func:`..wire.pack_log_record`, empty unless ``log_level`` was given)
    - ``(DONE, values, error, elapsed, records)``: ``values`` are the results of the chunk's first
      items, encoded by :func:`..wire.encode_by_reference`; ``error`` is ``None`` or
      :func:`..wire.pack_error` of the exception of the item after them (which ends the chunk);
      ``elapsed`` is the run time of the items in seconds.
    - ``(DECODE_FAILED, records)``: the payload is a pickle referring to something this worker
      cannot import (a class of the submitting program's ``__main__``); the parent sends the chunk
      again as cucumber bytes (by value).
    - ``(INIT_FAILED, error, records)``: the pool's initializer raised (packed): the pool is broken.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from itertools import starmap
from typing import Any

from suitkaise_processing._private import wire
from suitkaise_processing._private.errors import PoolError, ShareError
from suitkaise_processing._private.pool._dask_worker import (
    FUNCTIONS_KEPT,
    Program,
    program,
    task_scope,
)
from suitkaise_processing._private.pool._notes import note_item
from suitkaise_processing._private.pool._protocol import call_style
from suitkaise_processing._private.pool._unsendable import unsendable_result

DONE = 0
DECODE_FAILED = 1
INIT_FAILED = 2

_init_lock = threading.Lock()

#: ``(token, init, origin, program, log_level)``: see the module docstring
PoolArgs = tuple[str, bytes | None, str, str, int | None]


def _skprocess_runner(cls: Any) -> Callable[..., Any]:
    """One ``Skprocess`` instance of ``cls`` per item (``cls(*args)``): its whole lifecycle, here."""
    from suitkaise_processing._private.skprocess.engine import run_lifecycle

    def run_one(*args: Any) -> Any:
        return run_lifecycle(cls(*args))

    return run_one


def _function(
    program: Program, fn_key: bytes, fn_blob: bytes, skprocess: bool
) -> Callable[..., Any]:
    with program.lock:
        fn = program.functions.get(fn_key)
        if fn is not None:
            program.functions.move_to_end(fn_key)
            return fn
    target = wire.deserialize(fn_blob)
    if skprocess:
        from suitkaise_processing._private.pool._rate_limit import runner_of

        fn = runner_of(target, _skprocess_runner)  # under Pool(rate_limit=...) if it was given
    else:
        fn = target
    with program.lock:
        program.functions[fn_key] = fn
        while len(program.functions) > FUNCTIONS_KEPT:
            program.functions.popitem(last=False)
    return fn


def _initialize(program: Program, token: str, blob: bytes | None) -> None:
    if blob is None:
        return
    with program.lock:
        if token in program.initialized:
            return
    with _init_lock:  # one initializer at a time: two threads of one pool must not both run it
        with program.lock:
            if token in program.initialized:
                return
        initializer, initargs = wire.deserialize(blob)
        initializer(*initargs)
        with program.lock:
            program.initialized.add(token)


def _explained(error: BaseException, index: int, origin: str) -> BaseException:
    """What the parent raises for ``error`` of item ``index``: non-``Exception`` errors (``SystemExit``,
    ...) become ``PoolError`` (they must not end the caller), and a local ``Share`` reached from
    another machine says so."""
    if not isinstance(error, Exception):
        wrapped: BaseException = PoolError(
            f"item {index} raised {type(error).__name__}({error}); the worker went on with the next items"
        )
    elif isinstance(error, ShareError) and socket.gethostname() != origin:
        wrapped = ShareError(
            f"{error} (this item ran on the Dask worker host {socket.gethostname()!r}; a Share lives "
            f"in the memory of the machine that created it, {origin!r}: for a cluster of several "
            "machines create it as Share(backend='redis://host:port/db'))"
        )
    else:
        return error
    wrapped.__cause__ = error
    wrapped.__traceback__ = error.__traceback__
    return wrapped


def _encode_values(
    values: list[Any], error: BaseException | None, start: int
) -> tuple[bytes, BaseException | None]:
    """``values`` encoded; a value that cannot be sent cuts the list there and becomes the error."""
    try:
        return wire.encode_by_reference(values), error
    except Exception:
        pass
    index, err = unsendable_result(values, start)
    return wire.encode_by_reference(values[:index]), err


def run_batch(
    fn_key: bytes,
    fn_blob: bytes,
    mode: int,
    start: int,
    payload: bytes,
    pool: PoolArgs,
) -> tuple[Any, ...]:
    """Run the items of one chunk (items ``start, start+1, ...`` of its call); see the module doc."""
    token, init, origin, program_id, log_level = pool
    state = program(program_id)
    with task_scope(state, log_level) as records:
        result = _run(fn_key, fn_blob, mode, start, payload, token, init, origin, state)
    return (*result, records)


def _run(
    fn_key: bytes,
    fn_blob: bytes,
    mode: int,
    start: int,
    payload: bytes,
    token: str,
    init: bytes | None,
    origin: str,
    state: Program,
) -> tuple[Any, ...]:
    try:
        _initialize(state, token, init)
    except BaseException as exc:
        return (INIT_FAILED, wire.pack_error(_explained(exc, start, origin)))
    skprocess, star = call_style(mode)
    out: list[Any] = []
    error: BaseException | None = None
    started = time.monotonic()
    items: Any = ()
    try:
        fn = _function(state, fn_key, fn_blob, skprocess)
    except BaseException as exc:
        error = exc
    else:
        try:
            items = wire.decode(payload)
        except BaseException as exc:
            if wire.is_pickle(payload):
                return (DECODE_FAILED,)  # by reference to what only the parent can import
            error = exc
    if error is None:
        try:
            # extend keeps the values produced before an item raises
            out.extend(starmap(fn, items) if star else map(fn, items))
        except BaseException as exc:
            error = exc
            note_item(exc, fn, start + len(out), items[len(out)])
    elapsed = time.monotonic() - started
    if error is not None:
        error = _explained(error, start + len(out), origin)
    values, error = _encode_values(out, error, start)
    return (DONE, values, None if error is None else wire.pack_error(error), elapsed)
