"""The worker process of a Pool: receives chunks of items, runs them, sends results back.

Protocol (every frame is one pickled tuple, see :mod:`._codec`):

parent -> worker
    one frame: a 4-byte little-endian length, the pickled header ``(seq, job_id, start, enc, fn_blob,
    mode, forget)``, then the encoded items (the job's items from index ``start``, encoded once per
    chunk; see :func:`chunk_frame`); ``fn_blob`` carries the job's function the first time this worker sees the job;
    ``mode`` is ``MODE_PLAIN``, ``MODE_STAR``, ``MODE_SKPROCESS`` or ``MODE_SKPROCESS_STAR``; ``forget``
    lists finished job ids whose functions can be dropped. A length of 0 asks the worker to exit.
worker -> parent
    ``(TAG_RESULT, seq, offset, enc, values, error, done, elapsed)``: results of items from ``offset``;
    ``error`` (``None`` or a packed exception) belongs to item ``offset + len(values)`` and ends the
    chunk. ``(TAG_READY, pid)`` once started, ``(TAG_INIT_FAILED, packed_error)`` when the initializer
    raised, ``(TAG_LOG, record_dict)`` for a forwarded log record, ``(TAG_DECODE_FAILED, seq)`` when
    pickled items refer to something this process cannot import (the parent resends them with cucumber),
    ``(TAG_SNAPSHOT, seq, index, run, lives_left, state)`` when an ``Skprocess`` item with ``lives > 1``
    starts a run (what the parent restarts it from if the worker is killed).

The shared ``slots`` array tells the parent what a worker is doing, so that when it dies the parent
knows which item was running: ``slots[base + SLOT_SEQ]`` is the chunk, ``slots[base + SLOT_BATCH]``
the running sub-batch as ``index * BATCH_SPAN + size`` (``size`` 0: between sub-batches, item ``index``
is next and has not started; ``-1`` while the chunk is decoded, ``-2`` when idle). Inside a *marked*
sub-batch, the worker's ``MAX_BATCH`` bytes of the shared ``progress`` arena (a
``multiprocessing.heap.Arena``) get one non-zero byte per item *started*, written by ``mmap.write``
from a C-level iterator chain (``compress`` pulls the item, then the byte is written, then the item
runs), so the parent knows the exact item that was running. That costs about 60 ns per item, which
doubles the cost of a trivial item, so sub-batches of more than ``MARK_ALWAYS_UP_TO`` items that took
less than ``MARK_MIN_SECONDS`` each in the previous sub-batch run *unmarked*: their size field carries
``UNMARKED`` on top, and a worker that dies inside one makes the parent run each of its items again
alone (an item that crashes the worker then fails by itself; the items before it run a second time).
``slots[base + SLOT_DEADLINE]`` is a ``time.monotonic_ns()`` deadline of a timed ``Skprocess`` section
(0: none), whose section, run and timeout are in ``SLOT_SECTION`` and ``SLOT_TIMEOUT_US``.
"""

from __future__ import annotations

import logging
import mmap
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from itertools import compress, islice, repeat, starmap
from multiprocessing.connection import Connection
from typing import Any

from suitkaise_processing._private.pool import _codec

SLOT_WIDTH = 5
SLOT_SEQ = 0
SLOT_BATCH = 1
SLOT_DEADLINE = 2
SLOT_SECTION = 3
SLOT_TIMEOUT_US = 4
SECTION_SPAN = 1 << 32
BATCH_SPAN = 1 << 16
DECODING = -1
IDLE = -2

MODE_PLAIN = 0
MODE_STAR = 1
MODE_SKPROCESS = 2
MODE_SKPROCESS_STAR = 3
#: flag added to a chunk's mode: call ``fn(item)`` even in a star job (re-sent ``Resume`` items)
MODE_CHUNK_PLAIN = 16

TAG_RESULT = 0
TAG_READY = 1
TAG_INIT_FAILED = 2
TAG_LOG = 3
TAG_DECODE_FAILED = 4
TAG_SNAPSHOT = 5

#: results of a chunk are sent at least this often (seconds) while the chunk runs
FLUSH_INTERVAL = 0.05
#: a sub-batch of items runs at C speed; it grows while it takes less than this (seconds)
BATCH_TARGET = 0.002
MAX_BATCH = 4096
#: added to the size field of a sub-batch that writes no per-item "started" bytes
UNMARKED = 2 * MAX_BATCH
#: items that took at least this long (seconds, mean of the last sub-batch) run marked
MARK_MIN_SECONDS = 10e-6
#: sub-batches of at most this many items are always marked (a few us at most)
MARK_ALWAYS_UP_TO = 64


STOP_FRAME = b"\x00\x00\x00\x00"
#: the byte a worker writes to its progress area when it starts an item
STARTED = b"\x01"


def chunk_frame(header: bytes, payload: bytes) -> bytes:
    """The frame carrying one chunk: header length, header, encoded items."""
    return len(header).to_bytes(4, "little") + header + payload


class _Sender:
    """Serialises sends from the main thread and logging threads."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.lock = threading.Lock()

    def __call__(self, msg: tuple[Any, ...]) -> None:
        data = _codec.dumps(msg)
        with self.lock:
            self.conn.send_bytes(data)


class _ForwardHandler(logging.Handler):
    """Sends every log record to the parent, which hands it to its own handlers."""

    def __init__(self, send: _Sender) -> None:
        super().__init__(logging.NOTSET)
        self._send = send

    def emit(self, record: logging.LogRecord) -> None:
        try:
            data = dict(record.__dict__)
            data["msg"] = record.getMessage()
            data["args"] = None
            if record.exc_info:
                data["exc_text"] = logging.Formatter().formatException(record.exc_info)
            data["exc_info"] = None
            data.pop("message", None)
            try:
                _codec.dumps(data)
            except Exception:
                data = {
                    k: (v if isinstance(v, (str, int, float, type(None))) else repr(v))
                    for k, v in data.items()
                }
            self._send((TAG_LOG, data))
        except Exception:  # pragma: no cover - logging must never break the item
            self.handleError(record)


def _watch_lifeline(lifeline: Connection) -> None:
    """Exit as soon as the parent is gone (its end of the lifeline closes)."""

    def watch() -> None:
        try:
            while True:
                lifeline.recv_bytes()
        except (EOFError, OSError):
            pass
        os._exit(70)

    threading.Thread(target=watch, name="sk-pool-lifeline", daemon=True).start()


SECTION_IDS = {"prerun": 1, "run": 2, "postrun": 3, "onfinish": 4, "result": 5, "error": 6}


class Resume:
    """An ``Skprocess`` item sent again after its worker was killed (section timeout, crash).

    ``state`` is its last snapshot (``None``: start from ``item`` again); with ``error`` set, its lives
    are out and only ``__error__`` runs.
    """

    __slots__ = ("error", "item", "lives_left", "star", "state")

    def __init__(
        self,
        item: Any,
        star: bool,
        state: bytes | None,
        lives_left: int,
        error: BaseException | None,
    ) -> None:
        self.item = item
        self.star = star
        self.state = state
        self.lives_left = lives_left
        self.error = error

    def __reduce__(self) -> tuple[Any, ...]:
        return (Resume, (self.item, self.star, self.state, self.lives_left, self.error))


def _skprocess_runner(cls: Any, slots: memoryview, base: int, send: _Sender) -> Callable[..., Any]:
    """A callable running one ``Skprocess`` instance of ``cls`` per item (``cls(*args)``), announcing
    section deadlines in the slot so that the parent can kill the worker when one passes."""
    from suitkaise_processing._private.skprocess.engine import (
        LifecycleHooks,
        restore_state,
        run_error_handler,
        run_lifecycle,
    )

    class _PoolHooks(LifecycleHooks):
        def enter(self, section: str, run: int, timeout: float | None) -> None:
            if timeout is not None:
                slots[base + SLOT_SECTION] = SECTION_IDS.get(section, 0) * SECTION_SPAN + run
                slots[base + SLOT_TIMEOUT_US] = int(timeout * 1e6)
                slots[base + SLOT_DEADLINE] = time.monotonic_ns() + int(timeout * 1e9)

        def leave(self, section: str, run: int) -> None:
            slots[base + SLOT_DEADLINE] = 0

        def snapshot(self, state: bytes | memoryview, run: int, lives_left: int) -> None:
            index = slots[base + SLOT_BATCH] // BATCH_SPAN
            send((TAG_SNAPSHOT, slots[base + SLOT_SEQ], index, run, lives_left, bytes(state)))

    hooks = _PoolHooks()

    def run_one(*args: Any) -> Any:
        if len(args) == 1 and type(args[0]) is Resume:
            resume: Resume = args[0]
            if resume.state is not None:
                process = cls.__new__(cls)
                restore_state(process, resume.state)
            else:
                process = cls(*resume.item) if resume.star else cls(resume.item)
            if resume.error is not None:
                return run_error_handler(process, resume.error, hooks=hooks)  # type: ignore[arg-type]
            return run_lifecycle(process, hooks=hooks, lives_left=resume.lives_left)
        return run_lifecycle(cls(*args), hooks=hooks)

    return run_one


def worker_main(
    conn: Connection,
    lifeline: Connection,
    slots: Any,
    progress: Any,
    slot_index: int,
    init_blob: bytes | None,
    log_level: int | None,
    close_fds: tuple[int, ...],
) -> None:
    """Entry point of a worker process (started by the pool, never by users)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides what Ctrl-C stops
    for fd in close_fds:  # the parent's ends, inherited only under the fork start method
        try:
            os.close(fd)
        except OSError:
            pass
    _watch_lifeline(lifeline)
    mv = memoryview(slots).cast("B").cast("q")
    base = slot_index * SLOT_WIDTH
    send = _Sender(conn)
    if log_level is not None:
        root = logging.getLogger()
        for handler in list(root.handlers):
            root.removeHandler(handler)
        root.addHandler(_ForwardHandler(send))
        root.setLevel(log_level)
    if init_blob is not None:
        try:
            initializer, initargs = _codec.cu_loads(init_blob)
            initializer(*initargs)
        except BaseException as exc:
            send((TAG_INIT_FAILED, _codec.pack_error(exc)))
            return
    send((TAG_READY, os.getpid()))
    try:
        _serve(conn, send, mv, base, progress.buffer, slot_index * MAX_BATCH)
    finally:
        mv[base + SLOT_BATCH] = IDLE


def _serve(
    conn: Connection, send: _Sender, mv: memoryview, base: int, marks: mmap.mmap, moff: int
) -> None:
    fns: dict[int, Callable[..., Any]] = {}
    batch_sizes: dict[int, int] = {}
    #: per job: its items took >= MARK_MIN_SECONDS each in the last sub-batch (run marked)
    slow_jobs: dict[int, bool] = {}
    mark = marks.write
    zeros = memoryview(bytes(MAX_BATCH))
    loads = _codec.loads
    monotonic = time.monotonic
    while True:
        try:
            data = conn.recv_bytes()
        except (EOFError, OSError):
            return
        split = int.from_bytes(data[:4], "little")
        if split == 0:
            return  # the stop message
        msg = loads(data[4 : 4 + split])
        payload = memoryview(data)[4 + split :]
        seq, job_id, start, enc, fn_blob, mode, forget = msg
        mode_of_job = mode & ~MODE_CHUNK_PLAIN
        plain_chunk = bool(mode & MODE_CHUNK_PLAIN)
        for old in forget:
            fns.pop(old, None)
            batch_sizes.pop(old, None)
            slow_jobs.pop(old, None)
        mv[base + SLOT_BATCH] = DECODING
        mv[base + SLOT_SEQ] = seq
        started = monotonic()
        try:
            if fn_blob is not None:
                fn = _codec.cu_loads(fn_blob)
                if mode_of_job >= MODE_SKPROCESS:
                    fn = _skprocess_runner(fn, mv, base, send)
                fns[job_id] = fn
            fn = fns[job_id]
        except BaseException as exc:
            _send_part(send, seq, start, [], exc, True, monotonic() - started)
            mv[base + SLOT_BATCH] = IDLE
            continue
        try:
            items = _codec.decode_blob(enc, payload)
        except BaseException as exc:
            if enc == _codec.ENC_PICKLE:
                # pickled by reference to something this process cannot import: ask for cucumber
                send((TAG_DECODE_FAILED, seq))
            else:
                _send_part(send, seq, start, [], exc, True, monotonic() - started)
            mv[base + SLOT_BATCH] = IDLE
            continue
        star = mode_of_job in (MODE_STAR, MODE_SKPROCESS_STAR) and not plain_chunk
        # Skprocess items run one per sub-batch so a timeout or crash names exactly one item.
        fixed_one = mode_of_job >= MODE_SKPROCESS
        size = 1 if fixed_one else batch_sizes.get(job_id, 1)
        n = len(items)
        it = iter(items)
        slot = base + SLOT_BATCH
        pos = 0
        flushed = 0
        out: list[Any] = []
        last_flush = started
        error: BaseException | None = None
        mv[slot] = start * BATCH_SPAN  # item `start` is next, nothing runs yet
        # unknown cost (first sub-batch of this job in this worker): mark
        marked = fixed_one or slow_jobs.get(job_id, True)
        while pos < n:
            take = min(size, n - pos)
            t0 = monotonic()
            before = len(out)
            try:
                if marked or take <= MARK_ALWAYS_UP_TO:
                    marks[moff : moff + take] = zeros[:take]
                    marks.seek(moff)
                    mv[slot] = (start + pos) * BATCH_SPAN + take
                    # compress pulls item k, then writes its "started" byte, then fn runs it
                    chosen: Iterator[Any] = compress(
                        islice(it, take), map(mark, repeat(STARTED, take))
                    )
                else:  # short items: no per-item cost; a death re-runs the sub-batch item by item
                    mv[slot] = (start + pos) * BATCH_SPAN + UNMARKED + take
                    chosen = islice(it, take)
                if star:
                    out.extend(starmap(fn, chosen))
                else:
                    out.extend(map(fn, chosen))
            except BaseException as exc:
                error = exc
                pos += len(out) - before
                mv[slot] = (start + pos + 1) * BATCH_SPAN  # the failed item is done too
                break
            pos += take
            mv[slot] = (start + pos) * BATCH_SPAN  # between items: the next one has not started
            now = monotonic()
            if not fixed_one:
                spent = now - t0
                marked = spent >= MARK_MIN_SECONDS * take
                if spent < BATCH_TARGET and size < MAX_BATCH:
                    size *= 2
                elif spent > 4 * BATCH_TARGET and size > 1:
                    size //= 2
            if now - last_flush >= FLUSH_INTERVAL and pos < n:
                _send_part(send, seq, start + flushed, out, None, False, now - last_flush)
                flushed = pos
                out = []
                last_flush = now
        batch_sizes[job_id] = size
        slow_jobs[job_id] = marked
        _send_part(send, seq, start + flushed, out, error, True, monotonic() - last_flush)
        mv[base + SLOT_BATCH] = IDLE


def _send_part(
    send: _Sender,
    seq: int,
    offset: int,
    values: list[Any],
    error: BaseException | None,
    done: bool,
    elapsed: float,
) -> None:
    if error is not None and not isinstance(error, Exception):
        # SystemExit, KeyboardInterrupt, ... must not end the caller's process: report them as errors
        from suitkaise_processing._private.errors import PoolError

        wrapped = PoolError(
            f"item {offset + len(values)} raised {type(error).__name__}({error}); "
            "the worker went on with the next items"
        )
        wrapped.__cause__ = error
        wrapped.__traceback__ = error.__traceback__
        error = wrapped
    packed = None if error is None else _codec.pack_error(error)
    try:
        send((TAG_RESULT, seq, offset, _codec.ENC_PICKLE, values, packed, done, elapsed))
        return
    except Exception:
        pass
    try:
        send(
            (
                TAG_RESULT,
                seq,
                offset,
                _codec.ENC_CUCUMBER,
                _codec.cu_dumps(values),
                packed,
                done,
                elapsed,
            )
        )
        return
    except Exception:
        pass
    # Some result cannot cross the boundary: send what can, and an error for the first one that cannot.
    from suitkaise_processing._private.errors import PoolError

    bad = _codec.first_unencodable(values)
    index, cause = (
        bad if bad is not None else (len(values), RuntimeError("unknown encoding failure"))
    )
    err = PoolError(
        f"the result of item {offset + index} could not be serialized to return it to the parent: "
        f"{type(cause).__name__}: {cause}; return plain data or a picklable object"
    )
    err.__cause__ = cause
    kept = values[:index]
    try:
        send(
            (
                TAG_RESULT,
                seq,
                offset,
                _codec.ENC_PICKLE,
                kept,
                _codec.pack_error(err),
                True,
                elapsed,
            )
        )
    except Exception:
        blob = _codec.cu_dumps(kept)
        send(
            (
                TAG_RESULT,
                seq,
                offset,
                _codec.ENC_CUCUMBER,
                blob,
                _codec.pack_error(err),
                True,
                elapsed,
            )
        )
