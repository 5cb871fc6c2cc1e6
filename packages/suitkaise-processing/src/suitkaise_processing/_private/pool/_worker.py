"""The worker process of a Pool: receives chunks of items, runs them, sends results back.

The frames, messages, slot words and progress bytes it reads and writes are described (and encoded)
in :mod:`._protocol`; payloads are encoded by :mod:`..wire`.
"""

from __future__ import annotations

import mmap
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from itertools import compress, islice, repeat, starmap
from multiprocessing.connection import Connection
from typing import Any

from suitkaise_processing._private import bigbuffers, wire
from suitkaise_processing._private.errors import MessageError, PoolError
from suitkaise_processing._private.fdpass import recv_fd_on, send_fd_on
from suitkaise_processing._private.logforward import forward_logs
from suitkaise_processing._private.pool import _main_namespace
from suitkaise_processing._private.pool._notes import note_item
from suitkaise_processing._private.pool._protocol import (
    DECODING,
    IDLE,
    MARK_ALWAYS_UP_TO,
    MARK_MIN_SECONDS,
    MAX_BATCH,
    SLOT_WIDTH,
    STARTED,
    Resume,
    Slot,
    Tag,
    batch_word,
    call_style,
    read_batch,
    read_chunk_frame,
    section_word,
)
from suitkaise_processing._private.pool._recycling import Recycling, Retirement
from suitkaise_processing._private.pool._unsendable import unsendable_result

#: results of a chunk are sent at least this often (seconds) while the chunk runs
FLUSH_INTERVAL = 0.05
#: a sub-batch of items runs at C speed; it grows while it takes less than this (seconds)
BATCH_TARGET = 0.002
#: functions whose sub-batch size a worker remembers across calls
_LEARNED_FUNCTIONS = 64

_RESULT = int(Tag.RESULT)
_LOG = int(Tag.LOG)


class _Sender:
    """Serialises sends from the main thread and logging threads."""

    def __init__(self, conn: Connection, shared_memory: bool = True) -> None:
        self.conn = conn
        self.lock = threading.Lock()
        #: big buffers of results go through shared memory (:mod:`..bigbuffers`)
        self.shared_memory = shared_memory and bigbuffers.enabled()

    def __call__(self, msg: tuple[Any, ...]) -> None:
        big = bigbuffers.Collector() if self.shared_memory else None
        data = wire.dumps(msg, big)
        if big is None or not big.buffers:
            with self.lock:
                self.conn.send_bytes(data)
            return
        # big buffers (numpy arrays in the results): a memory file passed after the frame
        data = bigbuffers.pack(data, big.buffers)
        shm = bigbuffers.write_segment(big.buffers)
        try:
            with self.lock:
                self.conn.send_bytes(data)
                send_fd_on(self.conn.fileno(), shm)
        finally:
            os.close(shm)


def _watch_lifeline(lifeline: Connection) -> None:
    """Exit as soon as the parent is gone (its end of the lifeline closes)."""

    def watch() -> None:
        fd = lifeline.fileno()
        try:
            while os.read(fd, 64):  # nothing is ever written: this waits for the end of file
                pass
        except OSError:
            pass
        os._exit(70)

    threading.Thread(target=watch, name="sk-pool-lifeline", daemon=True).start()


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
                slots[base + Slot.SECTION] = section_word(section, run)
                slots[base + Slot.TIMEOUT_US] = int(timeout * 1e6)
                slots[base + Slot.DEADLINE] = time.monotonic_ns() + int(timeout * 1e9)

        def leave(self, section: str, run: int) -> None:
            slots[base + Slot.DEADLINE] = 0

        def snapshot(self, state: bytes | memoryview, run: int, lives_left: int) -> None:
            batch = read_batch(slots[base + Slot.BATCH])
            index = batch.first if batch is not None else 0
            send((int(Tag.SNAPSHOT), slots[base + Slot.SEQ], index, run, lives_left, bytes(state)))

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
    recycling: Recycling | None = None,
    shared_memory: bool = True,
) -> None:
    """Entry point of a worker process (started by the pool, never by users)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides what Ctrl-C stops
    for fd in close_fds:  # the parent's ends, inherited only under the fork start method
        try:
            os.close(fd)
        except OSError:
            pass
    _watch_lifeline(lifeline)
    mv = memoryview(slots.buffer).cast("q")
    base = slot_index * SLOT_WIDTH
    send = _Sender(conn, shared_memory)
    if log_level is not None:
        forward_logs(lambda record: send((_LOG, record)), log_level)
    _main_namespace.install()  # before anything arrives: by-value functions share one namespace
    if init_blob is not None:
        try:
            initializer, initargs = wire.deserialize(init_blob)
            initializer(*initargs)
        except BaseException as exc:
            send((int(Tag.INIT_FAILED), wire.pack_error(exc)))
            return
    send((int(Tag.READY), os.getpid()))
    try:
        _serve(
            conn,
            send,
            mv,
            base,
            progress.buffer,
            slot_index * MAX_BATCH,
            None if recycling is None else Retirement(recycling),
        )
    finally:
        mv[base + Slot.BATCH] = IDLE


def _serve(
    conn: Connection,
    send: _Sender,
    mv: memoryview,
    base: int,
    marks: mmap.mmap,
    moff: int,
    retirement: Retirement | None,
) -> None:
    """Run chunks until the stop frame, or until ``retirement`` says this worker is done."""
    fns: dict[int, Callable[..., Any]] = {}
    #: per job, its pace: the sub-batch size its last chunk here ended with, and whether its items
    #: took >= MARK_MIN_SECONDS each in the last sub-batch (run marked)
    paces: dict[int, tuple[int, bool]] = {}
    #: per function (its encoded bytes): the pace its last chunk here ended with, so that the next
    #: call of the same function starts there instead of ramping up from one marked item (each map
    #: call is a new job)
    learned: dict[bytes, tuple[int, bool]] = {}
    job_blobs: dict[int, bytes] = {}
    mark = marks.write
    zeros = memoryview(bytes(MAX_BATCH))
    monotonic = time.monotonic
    fd = conn.fileno()
    seq_slot = base + Slot.SEQ
    slot = base + Slot.BATCH
    item_deadline = base + Slot.ITEM_DEADLINE
    monotonic_ns = time.monotonic_ns
    while True:
        shm: int | None = None  # the memory file of the chunk's big buffers (bigbuffers)
        try:
            frame = read_chunk_frame(wire.read_frame(fd))
            if frame is not None and bigbuffers.is_marked(frame[1]):
                shm = recv_fd_on(fd)
        except (EOFError, OSError, MessageError):  # the parent is gone, or sent garbage
            return
        if frame is None:
            return  # the stop message
        (seq, job_id, start, fn_blob, mode, forget, limit_ns), payload = frame
        skprocess, star = call_style(mode)
        for old in forget:
            fns.pop(old, None)
            paces.pop(old, None)
            job_blobs.pop(old, None)
        mv[slot] = DECODING
        mv[seq_slot] = seq
        started = monotonic()
        try:
            if fn_blob is not None:
                fn = wire.deserialize(fn_blob)
                if skprocess:
                    from suitkaise_processing._private.pool._rate_limit import runner_of

                    fn = runner_of(fn, lambda cls: _skprocess_runner(cls, mv, base, send))
                fns[job_id] = fn
                job_blobs[job_id] = fn_blob
                if fn_blob in learned:
                    paces[job_id] = learned[fn_blob]
            fn = fns[job_id]
        except BaseException as exc:
            if shm is not None:
                os.close(shm)
            _send_part(send, seq, start, [], exc, True, monotonic() - started)
            mv[slot] = IDLE
            continue
        try:
            items = (
                wire.decode(payload) if shm is None else bigbuffers.load(payload, shm, wire.decode)
            )
            if type(items) is not list and type(items) is not range:
                items = list(items)
        except BaseException as exc:
            if wire.is_pickle(payload) or bigbuffers.is_marked(payload):
                # pickled by reference to something this process cannot import: ask for cucumber
                send((int(Tag.DECODE_FAILED), seq))
            else:
                _send_part(send, seq, start, [], exc, True, monotonic() - started)
            mv[slot] = IDLE
            continue
        # Skprocess items, and items with a time limit, run one per sub-batch so a timeout or crash
        # names exactly one item; timed items also send each result at once (see Slot.ITEM_DEADLINE).
        timed = limit_ns > 0
        fixed_one = skprocess or timed
        # unknown cost (first sub-batch of this job in this worker): one item, marked
        size, marked = (1, True) if fixed_one else paces.get(job_id, (1, True))
        n = len(items)
        it = iter(items)
        pos = 0
        flushed = 0
        out: list[Any] = []
        last_flush = started
        error: BaseException | None = None
        retiring = False
        mv[slot] = batch_word(start)  # item `start` is next, nothing runs yet
        while pos < n:
            take = min(size, n - pos)
            if retirement is not None:
                take = min(take, retirement.left)
            t0 = monotonic()
            before = len(out)
            try:
                if marked or take <= MARK_ALWAYS_UP_TO:
                    marks[moff : moff + take] = zeros[:take]
                    marks.seek(moff)
                    mv[slot] = batch_word(start + pos, take)
                    if timed:
                        mv[item_deadline] = monotonic_ns() + limit_ns
                    # compress pulls item k, then writes its "started" byte, then fn runs it
                    chosen: Iterator[Any] = compress(
                        islice(it, take), map(mark, repeat(STARTED, take))
                    )
                else:  # short items: no per-item cost; a death re-runs the sub-batch item by item
                    mv[slot] = batch_word(start + pos, take, marked=False)
                    chosen = islice(it, take)
                if star:
                    out.extend(starmap(fn, chosen))
                else:
                    out.extend(map(fn, chosen))
            except BaseException as exc:
                mv[item_deadline] = 0
                error = exc
                ran = len(out) - before
                pos += ran
                mv[slot] = batch_word(start + pos + 1)  # the failed item is done too
                note_item(exc, fn, start + pos, items[pos])
                retiring = retirement is not None and retirement.ran(ran + 1)
                break
            if timed:
                mv[item_deadline] = 0
            pos += take
            mv[slot] = batch_word(start + pos)  # between items: the next one has not started
            now = monotonic()
            if not fixed_one:
                spent = now - t0
                marked = spent >= MARK_MIN_SECONDS * take
                if spent < BATCH_TARGET and size < MAX_BATCH:
                    size *= 2
                elif spent > 4 * BATCH_TARGET and size > 1:
                    size //= 2
            if retirement is not None and retirement.ran(take):
                retiring = True
                break
            if (timed or now - last_flush >= FLUSH_INTERVAL) and pos < n:
                _send_part(send, seq, start + flushed, out, None, False, now - last_flush)
                flushed = pos
                out = []
                last_flush = now
        pace = paces[job_id] = (size, marked)
        if not fixed_one and job_id in job_blobs:
            blob = job_blobs[job_id]
            learned.pop(blob, None)  # most recent last
            learned[blob] = pace
            if len(learned) > _LEARNED_FUNCTIONS:
                del learned[next(iter(learned))]
        # a retiring worker leaves the chunk open: its items from `pos` run on another worker
        done = not retiring or error is not None or pos >= n
        _send_part(send, seq, start + flushed, out, error, done, monotonic() - last_flush)
        mv[slot] = IDLE
        if retiring:
            return


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
        wrapped = PoolError(
            f"item {offset + len(values)} raised {type(error).__name__}({error}); "
            "the worker went on with the next items"
        )
        wrapped.__cause__ = error
        wrapped.__traceback__ = error.__traceback__
        error = wrapped
    packed = None if error is None else wire.pack_error(error)
    try:
        send((_RESULT, seq, offset, values, packed, done, elapsed))
        return
    except Exception:
        pass
    try:
        send((_RESULT, seq, offset, wire.serialize(values), packed, done, elapsed))
        return
    except Exception:
        pass
    # Some result cannot cross the boundary: send what can, and an error for the first one that cannot.
    index, err = unsendable_result(values, offset)
    kept = values[:index]
    packed = wire.pack_error(err)
    try:
        send((_RESULT, seq, offset, kept, packed, True, elapsed))
    except Exception:
        send((_RESULT, seq, offset, wire.serialize(kept), packed, True, elapsed))
