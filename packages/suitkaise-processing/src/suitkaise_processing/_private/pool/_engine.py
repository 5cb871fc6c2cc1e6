"""The parent side of a Pool: the worker processes, dispatch of chunks and the result pump.

There is no background thread. Whichever caller thread waits for results becomes the *leader*: it
hands chunks to idle workers, waits on every worker's connection and process sentinel, and files what
arrives into the jobs; the other waiting threads sleep on a condition until the leader has filed
something for them (leader/follower). Workers each own a duplex connection, so the parent always
knows which chunks a worker holds; together with the shared slot a worker writes before each
item, a dead worker costs only the item it was running (which fails with ``WorkerDiedError`` unless an
``Skprocess`` item has lives left); the items after it run again on another worker, and so do items
that had finished but whose results had not yet been sent back. Large sub-batches of items shorter
than ``MARK_MIN_SECONDS`` run unmarked (see ``_protocol``): a death inside one runs each of that
sub-batch's items again alone, so an item that crashes its worker still fails by itself. What a dead
worker's chunk runs again is decided by ``_protocol.plan_recovery`` (a pure function). The same
path files workers killed for an item timeout (``_item_timeout``) and workers that retire between
items (``_recycling``).
"""

from __future__ import annotations

import logging
import os
import queue
import select
import signal
import socket
import threading
import time
from collections.abc import Callable
from multiprocessing import heap, util
from multiprocessing.connection import Connection
from typing import Any

from suitkaise_processing._private import bigbuffers, wire
from suitkaise_processing._private.context import get_context, get_start_method
from suitkaise_processing._private.context import start as start_process
from suitkaise_processing._private.errors import (
    MessageError,
    PoolError,
    ProcessError,
    ProcessTimeoutError,
    WorkerDiedError,
)
from suitkaise_processing._private.fdpass import recv_fd_on, send_fd_on
from suitkaise_processing._private.logforward import handle_forwarded
from suitkaise_processing._private.pool._backend import JobsBackend, time_left
from suitkaise_processing._private.pool._errors import ItemTimeoutError
from suitkaise_processing._private.pool._item_timeout import is_innocent, running_timed_item
from suitkaise_processing._private.pool._jobs import Batching, Chunk, Job
from suitkaise_processing._private.pool._legacy_errors import as_legacy_pool_error
from suitkaise_processing._private.pool._protocol import (
    IDLE,
    MAX_BATCH,
    SLOT_WIDTH,
    STOP_FRAME,
    PoolState,
    Rerun,
    Resend,
    Resume,
    Slot,
    Tag,
    call_style,
    chunk_frame,
    mode_word,
    plan_recovery,
    read_section,
)
from suitkaise_processing._private.pool._recycling import Recycling
from suitkaise_processing._private.pool._unsendable import argument_error
from suitkaise_processing._private.pool._worker import worker_main
from suitkaise_processing._private.skprocess.sections import has_error_handler

_SOCKET_BUFFER = 1 << 20
#: chunks a worker may hold at once (the first runs, the others wait in its socket buffer)
_MAX_INFLIGHT = int(os.environ.get("SK_POOL_INFLIGHT", "4"))
#: a worker that dies this many times in a row before it is ready breaks the pool
_MAX_START_FAILURES = 3
#: ... or this many times when SIGKILL killed it (the OOM killer, an operator: mostly not the worker's
#: own fault, but still bounded, so a main module that always runs out of memory breaks the pool too)
_MAX_START_KILLS = 20
#: a cancelled call's items still to run on a worker are stopped (worker replaced) when they would take
#: longer than this (seconds); shorter leftovers just finish and are dropped
_WORTH_A_RESTART = 1.0
#: a chunk expected to take longer than this (seconds) is not queued behind two others
_LONG_CHUNK = 0.002
#: messages the leader reads from one worker in a row when they are already waiting
_DRAIN = 64
#: while Skprocess items run, the leader looks at their section deadlines at least this often (s)
_DEADLINE_POLL = 0.05


class _Cancelled(PoolError):
    """Kill reason of a worker stopped because its call was cancelled: its other items run again."""


def _send_frame(conn: Connection, frame: bytes, fd: int | None) -> None:
    """Send ``frame``, then the memory file ``fd`` of its big buffers (closed here) if any."""
    try:
        conn.send_bytes(frame)
        if fd is not None:
            send_fd_on(conn.fileno(), fd)
    finally:
        if fd is not None:
            os.close(fd)


class _FrameSender:
    """Writes one worker's large frames from a thread, so the leader never blocks on a send."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.queue: queue.SimpleQueue[tuple[bytes, int | None] | None] = queue.SimpleQueue()
        self.pending = 0
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._run, name="sk-pool-sender", daemon=True)
        self.thread.start()

    def put(self, frame: bytes, fd: int | None) -> None:
        with self.lock:
            self.pending += 1
        self.queue.put((frame, fd))

    def busy(self) -> bool:
        return self.pending > 0

    def _run(self) -> None:
        while True:
            entry = self.queue.get()
            if entry is None:
                return
            try:
                _send_frame(self.conn, *entry)
            except (OSError, ValueError):
                pass  # the worker died: the pump files its death
            finally:
                with self.lock:
                    self.pending -= 1

    def stop(self) -> None:
        """End the thread after the frames already queued (their sends fail fast if the worker died)."""
        self.queue.put(None)
        self.thread.join(10)


class _Worker:
    __slots__ = (
        "conn",
        "conn_fd",
        "fn_sent",
        "forget",
        "index",
        "inflight",
        "inflight_bytes",
        "kill_reason",
        "proc",
        "ready",
        "sender",
        "sentinel",
        "snapshot",
        "timed_out",
    )

    def __init__(self, index: int, proc: Any, conn: Connection) -> None:
        self.index = index
        self.proc = proc
        self.conn = conn
        self.conn_fd = conn.fileno()
        self.sentinel: int = proc.sentinel
        self.ready = False
        self.inflight: list[Chunk] = []
        self.inflight_bytes = 0
        self.fn_sent: set[int] = set()
        self.forget: list[int] = []
        self.kill_reason: BaseException | None = None
        self.sender: _FrameSender | None = None
        #: (seq, index, run, lives_left, state) of the last Skprocess snapshot this worker sent
        self.snapshot: tuple[int, int, int, int, bytes] | None = None
        #: (chunk seq, item index) of the item whose timeout made the pool kill this worker
        self.timed_out: tuple[int, int] | None = None


class _Resources:
    """What the exit/GC finalizer must release; holds no reference to the engine."""

    def __init__(self) -> None:
        self.procs: dict[int, Any] = {}
        self.fds: list[int] = []
        self.conns: list[Connection] = []

    def release(self) -> None:
        procs = list(self.procs.values())
        self.procs.clear()
        for proc in procs:
            try:
                proc.kill()
            except Exception:
                pass
        for proc in procs:
            try:
                proc.join(5)
            except Exception:
                pass
        for conn in self.conns:
            try:
                conn.close()
            except Exception:
                pass
        self.conns.clear()
        for fd in self.fds:
            try:
                os.close(fd)
            except OSError:
                pass
        self.fds.clear()


def _enlarge_buffers(conn: Connection) -> int:
    """Grow the socket buffers of ``conn`` and return the smaller of its send/receive sizes."""
    try:
        sock = socket.socket(fileno=os.dup(conn.fileno()))
    except OSError:  # pragma: no cover - not a socket
        return 16384
    try:
        for opt in (socket.SO_SNDBUF, socket.SO_RCVBUF):
            try:
                sock.setsockopt(socket.SOL_SOCKET, opt, _SOCKET_BUFFER)
            except OSError:
                pass
        return min(
            sock.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF),
            sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF),
        )
    finally:
        sock.close()


class Engine(JobsBackend):
    """Workers, jobs, dispatch and the result pump of one Pool."""

    #: chunk sizing for local workers (a chunk costs ~20 us)
    batching = Batching()
    stop_note = "the workers running its items were stopped and replaced"

    def __init__(
        self,
        workers: int,
        initializer: Callable[..., object] | None,
        initargs: tuple[Any, ...],
        forward_logs: bool,
        recycling: Recycling | None = None,
        shared_memory: bool = True,
    ) -> None:
        self.size = workers
        self._recycling = recycling
        #: big buffers of items and results go through shared memory (:mod:`..bigbuffers`)
        self._shared_memory = shared_memory and bigbuffers.enabled()
        self._ctx = get_context()
        self._fork = get_start_method() == "fork"
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._leader = False
        self.state = PoolState.OPEN
        self.broken: BaseException | None = None
        self._res = _Resources()
        # an Arena, not a RawArray: neither this process nor a worker needs ctypes (~2 ms each)
        self._slots = heap.Arena(workers * SLOT_WIDTH * 8)
        self._mv = memoryview(self._slots.buffer).cast("q")
        #: per worker MAX_BATCH bytes, one set per item started in its running sub-batch
        self._progress = heap.Arena(workers * MAX_BATCH)
        self._marks = self._progress.buffer
        self._lifeline_r, self._lifeline_w = self._ctx.Pipe(duplex=False)
        self._res.conns += [self._lifeline_r, self._lifeline_w]
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self._res.fds += [self._wake_r, self._wake_w]
        self._init_blob = (
            wire.serialize((initializer, tuple(initargs))) if initializer is not None else None
        )
        self._log_level = logging.getLogger().getEffectiveLevel() if forward_logs else None
        self._workers: list[_Worker | None] = [None] * workers
        #: what the leader waits on, registered once (a poll set made per wait costs ~7 us): the
        #: wake pipe, and each worker's connection and process sentinel
        self._poller = select.poll()
        self._poller.register(self._wake_r, select.POLLIN)
        #: the worker behind each registered fd, and whether the fd is its connection (else its sentinel)
        self._by_fd: dict[int, tuple[_Worker, bool]] = {}
        self._jobs: list[Job] = []
        self._rr = 0
        self._next_job = 1
        self._next_seq = 1
        self._start_failures = 0
        self._start_kills = 0
        self._prefetch_bytes = 1 << 16
        self._to_close: list[Connection] = []
        self._monitor: threading.Thread | None = None
        self._monitor_stop = threading.Event()
        #: seconds per item measured for each function (by its encoded bytes), for the next calls
        self._item_times: dict[bytes, float] = {}
        self.finalizer = util.Finalize(self, _Resources.release, args=(self._res,), exitpriority=15)
        with self._lock:
            for index in range(workers):
                self._start_worker(index)

    # --- workers ------------------------------------------------------------------------------
    def _start_worker(self, index: int) -> None:
        parent_conn, child_conn = self._ctx.Pipe(duplex=True)
        buffer = _enlarge_buffers(parent_conn)
        _enlarge_buffers(child_conn)
        # what may wait unread in a worker's socket: sends must never block on a busy worker
        self._prefetch_bytes = max(4096, buffer // 2)
        close_fds: tuple[int, ...] = ()
        if self._fork:
            close_fds = (
                parent_conn.fileno(),
                self._lifeline_w.fileno(),
                self._wake_r,
                self._wake_w,
                *(w.conn.fileno() for w in self._workers if w is not None),
            )
        proc = self._ctx.Process(  # type: ignore[attr-defined]
            target=worker_main,
            args=(
                child_conn,
                self._lifeline_r,
                self._slots,
                self._progress,
                index,
                self._init_blob,
                self._log_level,
                close_fds,
                self._recycling,
                self._shared_memory,
            ),
            name=f"sk-pool-worker-{index}",
            daemon=False,
        )
        self._mv[index * SLOT_WIDTH + Slot.SEQ] = 0
        self._mv[index * SLOT_WIDTH + Slot.BATCH] = IDLE
        self._mv[index * SLOT_WIDTH + Slot.DEADLINE] = 0
        self._mv[index * SLOT_WIDTH + Slot.ITEM_DEADLINE] = 0
        start_process(proc)
        child_conn.close()
        self._res.conns.append(parent_conn)
        worker = _Worker(index, proc, parent_conn)
        self._workers[index] = worker
        for fd, is_conn in ((worker.conn_fd, True), (worker.sentinel, False)):
            self._by_fd[fd] = (worker, is_conn)
            self._poller.register(fd, select.POLLIN)
        self._res.procs[index] = proc

    def _ensure_workers(self) -> None:
        if self.state not in (PoolState.OPEN, PoolState.CLOSING) or self.broken is not None:
            return
        for index, worker in enumerate(self._workers):
            if worker is None:
                self._start_worker(index)

    def _live(self) -> list[_Worker]:
        return [w for w in self._workers if w is not None]

    def _forget_fds(self, worker: _Worker) -> None:
        """Stop waiting on ``worker``'s fds (before they are closed and their numbers reused)."""
        for fd in (worker.conn_fd, worker.sentinel):
            if self._by_fd.pop(fd, None) is not None:
                self._poller.unregister(fd)

    def _kill(self, worker: _Worker, reason: BaseException | None) -> None:
        """Kill ``worker``; its death is filed by whoever pumps next (or now, when nobody does)."""
        if worker.kill_reason is None:
            worker.kill_reason = reason if reason is not None else PoolError("killed by the pool")
        try:
            worker.proc.kill()
        except Exception:
            pass

    def _on_death(self, worker: _Worker) -> None:
        """File a dead worker: drain what it sent, fail the item it was running, re-queue the rest."""
        if self._workers[worker.index] is not worker:
            return
        try:
            while worker.conn.poll():
                self._on_message(worker, wire.read_frame(worker.conn.fileno()))
        except (EOFError, OSError, MessageError):
            pass
        worker.proc.join(5)
        exitcode = worker.proc.exitcode
        self._workers[worker.index] = None
        self._forget_fds(worker)
        self._res.procs.pop(worker.index, None)
        if worker.sender is not None:
            worker.sender.stop()  # its writes fail fast now that the worker is gone
            worker.sender = None
        self._to_close.append(worker.conn)
        if not worker.ready and worker.kill_reason is None:
            if exitcode == -signal.SIGKILL:
                self._start_kills += 1
            else:
                self._start_failures += 1
            if self._start_failures >= _MAX_START_FAILURES or self._start_kills >= _MAX_START_KILLS:
                self._break(
                    PoolError(
                        f"pool workers die while starting (one {wire.describe_exit(exitcode)}); "
                        "check that the initializer and the main module can run in a fresh process"
                    )
                )
                return
        if not worker.inflight:
            return
        base = worker.index * SLOT_WIDTH
        chunks = worker.inflight
        worker.inflight = []
        for chunk in chunks:
            chunk.job.inflight -= 1
        first, rest = chunks[0], chunks[1:]
        job = first.job
        steps = plan_recovery(
            start=first.start,
            count=len(first.items),
            flushed=first.flushed,
            running_this_chunk=self._mv[base + Slot.SEQ] == first.seq,
            batch=self._mv[base + Slot.BATCH],
            marks=self._marks,
            marks_offset=worker.index * MAX_BATCH,
            cancelled=isinstance(worker.kill_reason, _Cancelled)
            or self.state is PoolState.TERMINATED,
            killed=worker.kill_reason is not None,
            decode_deaths=first.attempts,
        )
        requeue: list[Chunk] = []
        for step in steps:
            if isinstance(step, Rerun):
                again = Chunk(job, first.start + step.start, first.items[step.start : step.stop])
                again.mode_word = first.mode_word
                requeue.append(again)
            elif isinstance(step, Resend):
                first.attempts += 1
                requeue.append(first)
            elif is_innocent(worker.timed_out, first.seq, first.start + step.item):
                # killed for the item before it, which ended just before the kill: run it again
                again = Chunk(job, first.start + step.item, first.items[step.item : step.item + 1])
                again.mode_word = first.mode_word
                requeue.append(again)
            else:
                index = first.start + step.item
                error = self._death_error(worker, exitcode, index)
                retry = self._skprocess_retry(worker, first, index, error)
                if retry is not None:
                    requeue.append(retry)
                else:
                    job.add_part(index, [], error, 0.0)
        job.requeue(requeue)
        for chunk in reversed(rest):
            chunk.job.requeue([chunk])

    def _skprocess_retry(
        self, worker: _Worker, chunk: Chunk, index: int, error: BaseException
    ) -> Chunk | None:
        """An ``Skprocess`` item whose worker was killed costs a life: the chunk that runs it again
        (from its last snapshot), or runs only its ``__error__`` when lives are out; ``None`` when the
        item simply fails with ``error`` (a plain function, or the default ``__error__``)."""
        job = chunk.job
        if not job.skprocess:
            return None

        item = chunk.items[index - chunk.start]
        star = call_style(chunk.mode_word or job.mode_word)[1]
        state: bytes | None = None
        lives_left = 1
        if isinstance(item, Resume):  # killed again: keep what we knew
            star, state, lives_left, item = item.star, item.state, item.lives_left, item.item
        snap = worker.snapshot
        if snap is not None and snap[0] == chunk.seq and snap[1] == index:
            _, _, _, lives_left, state = snap
        lives_left -= 1
        if lives_left > 0:
            resume = Resume(item, star, state, lives_left, None)
        else:
            cls = job.target
            if not (
                isinstance(error, ProcessError) and isinstance(cls, type) and has_error_handler(cls)
            ):
                return None
            resume = Resume(item, star, state, 0, error)
        again = Chunk(job, index, [resume])
        again.mode_word = mode_word(skprocess=True, star=job.star, chunk_plain=True)
        return again

    def _death_error(self, worker: _Worker, exitcode: int | None, index: int) -> BaseException:
        if worker.kill_reason is not None:
            return worker.kill_reason
        return WorkerDiedError(
            f"the worker running item {index} died (it {wire.describe_exit(exitcode)}); the pool replaced it. "
            "If the item crashes the interpreter or runs out of memory, fix or skip it"
        )

    def _break(self, error: BaseException) -> None:
        self.broken = error
        for job in self._jobs:
            job.fail(error)
        self._jobs.clear()
        for worker in self._live():
            self._kill(worker, error)

    # --- messages -----------------------------------------------------------------------------
    def _on_message(self, worker: _Worker, data: bytes | bytearray) -> None:
        if bigbuffers.is_marked(data):  # its big buffers are in a memory file, passed next
            msg = bigbuffers.load(data, recv_fd_on(worker.conn.fileno()), wire.loads)
        else:
            msg = wire.loads(data)
        tag = msg[0]
        if tag == Tag.RESULT:
            _, seq, offset, payload, packed, done, elapsed = msg
            if not worker.inflight or worker.inflight[0].seq != seq:
                return  # pragma: no cover - protocol guard
            chunk = worker.inflight[0]
            job = chunk.job
            try:
                values = payload if type(payload) is list else list(wire.deserialize(payload))
            except Exception as exc:
                values = []
                err = PoolError(
                    f"the results of items {offset}.. could not be deserialized in the parent: "
                    f"{type(exc).__name__}: {exc}"
                )
                err.__cause__ = exc
                error: BaseException | None = err
                done = True
            else:
                error = (
                    None
                    if packed is None
                    else as_legacy_pool_error(
                        wire.unpack_error(packed, f"item {offset + len(values)}", PoolError)
                    )
                )
            chunk.flushed = offset + len(values) - chunk.start
            size = len(data) + bigbuffers.nbytes(data)
            if size > 65536:
                job.note_bytes(size, len(values))
            if done:
                worker.inflight.pop(0)
                worker.inflight_bytes -= chunk.nbytes
                job.inflight -= 1
            job.add_part(offset, values, error, elapsed)
        elif tag == Tag.SNAPSHOT:
            worker.snapshot = msg[1:]
        elif tag == Tag.READY:
            worker.ready = True
            self._start_failures = self._start_kills = 0
        elif tag == Tag.LOG:
            handle_forwarded(msg[1])
        elif tag == Tag.DECODE_FAILED:
            seq = msg[1]
            if worker.inflight and worker.inflight[0].seq == seq:
                chunk = worker.inflight.pop(0)
                worker.inflight_bytes -= chunk.nbytes
                chunk.job.inflight -= 1
                chunk.buffers = None
                try:
                    chunk.payload = wire.serialize(chunk.items)
                except Exception as exc:
                    chunk.job.add_part(chunk.start, [], argument_error(chunk.start, exc), 0.0)
                else:
                    chunk.job.requeue([chunk])
        elif tag == Tag.INIT_FAILED:
            cause = wire.unpack_error(msg[1], "the initializer", PoolError)
            err = PoolError(
                f"the pool's initializer raised in a worker: {type(cause).__name__}: {cause}"
            )
            err.__cause__ = cause
            self._break(err)

    # --- dispatch -----------------------------------------------------------------------------
    def _encode(self, chunk: Chunk) -> bool:
        """Encode ``chunk`` once; an unencodable item fails alone (the rest of the chunk is cut)."""
        if chunk.payload is not None:
            return True
        big = bigbuffers.Collector() if self._shared_memory else None
        try:
            payload = wire.encode_by_reference(chunk.items, big)
        except Exception:
            pass
        else:
            if big is not None and big.buffers:  # sent through shared memory by _send
                chunk.buffers = big.buffers
                payload = bigbuffers.pack(payload, big.buffers)
            chunk.payload = payload
            chunk.job.note_bytes(len(payload) + (big.nbytes if big else 0), len(chunk.items))
            return True
        return self._cut_unsendable(chunk, "a worker")

    def _drop_abandoned(self) -> None:
        for job in [j for j in self._jobs if j.abandoned]:
            self._finish_locked(job, kill=False)

    def _send(self, worker: _Worker, chunk: Chunk) -> bool:
        job = chunk.job
        fn_blob = None if job.id in worker.fn_sent else job.fn_blob
        if (
            len(worker.inflight) >= 2
            and job.item_time is not None
            and job.item_time * len(chunk) > _LONG_CHUNK
        ):
            # long chunks: one waiting behind the running one hides the round trip; more would
            # only pile work on one worker while another may become idle (balance at the end)
            return False
        estimate = len(chunk.payload or b"") + len(fn_blob or b"") + 64
        if chunk.buffers:  # big buffers in shared memory: they count as much as in a frame
            estimate += sum(buffer.nbytes for buffer in chunk.buffers)
        if (
            worker.inflight
            and worker.inflight_bytes + estimate > self._prefetch_bytes
            and len(worker.inflight) >= 2
        ):
            return False  # big chunks: the next one is on its way, that is enough
        seq = self._next_seq
        self._next_seq += 1
        frame = chunk_frame(
            (
                seq,
                job.id,
                chunk.start,
                fn_blob,
                chunk.mode_word or job.mode_word,
                worker.forget,
                job.item_timeout_ns,
            ),
            chunk.payload or b"",
        )
        fd = bigbuffers.write_segment(chunk.buffers) if chunk.buffers else None
        sender = worker.sender
        if (sender is not None and sender.busy()) or (
            (worker.inflight or not worker.ready)
            and worker.inflight_bytes + len(frame) > self._prefetch_bytes
        ):
            # it might not fit in the socket buffer while the worker is busy: write it from a thread
            if sender is None:
                sender = worker.sender = _FrameSender(worker.conn)
            sender.put(frame, fd)
        else:
            try:
                _send_frame(worker.conn, frame, fd)
            except OSError:
                return False
        size = len(frame)
        chunk.seq = seq
        chunk.nbytes = size
        chunk.flushed = 0
        worker.fn_sent.add(job.id)
        worker.forget = []
        worker.inflight.append(chunk)
        worker.inflight_bytes += size
        job.inflight += 1
        return True

    def _dispatch(self) -> None:
        self._drop_abandoned()
        if not self._jobs or self.state is PoolState.TERMINATED:
            return
        self._ensure_workers()
        for depth in range(_MAX_INFLIGHT):
            for worker in self._live():
                if worker.kill_reason is not None:
                    continue
                while len(worker.inflight) <= depth and (worker.ready or depth == 0):
                    chunk = self._next_chunk()
                    if chunk is None:
                        return
                    if not self._send(worker, chunk):
                        chunk.job.pending.appendleft(chunk)
                        break

    # --- the pump -----------------------------------------------------------------------------
    def wake(self) -> None:
        """Interrupt the leader's wait (a new job arrived, a job was cancelled, ...). Without a leader
        there is nothing to interrupt: the next one dispatches before it waits."""
        if not self._leader:
            return
        try:
            os.write(self._wake_w, b"!")
        except OSError:
            pass

    def _timed_items_running(self) -> bool:
        return any(w.inflight and w.inflight[0].job.timed for w in self._live())

    def _terminated(self) -> bool:
        return self.state is PoolState.TERMINATED

    def _close_pending(self) -> None:
        for conn in self._to_close:
            conn.close()
            if conn in self._res.conns:
                self._res.conns.remove(conn)
        self._to_close.clear()

    def _check_deadlines(self) -> float | None:
        """Kill workers whose ``Skprocess`` section or timed item ran past its timeout; seconds to the
        next deadline."""
        now = time.monotonic_ns()
        nearest: int | None = None
        for worker in self._live():
            if not worker.inflight or worker.kill_reason is not None:
                continue
            base = worker.index * SLOT_WIDTH
            timed_item = running_timed_item(self._mv, base)
            if timed_item is not None:
                item_deadline, seq, index = timed_item
                # the worker's chunk: not always inflight[0] when earlier results are still unread
                chunk = next((c for c in worker.inflight if c.seq == seq), None)
                if item_deadline <= now and chunk is not None:
                    worker.timed_out = (seq, index)
                    self._kill(worker, ItemTimeoutError(index, chunk.job.item_timeout_ns / 1e9))
                    continue
                if nearest is None or item_deadline < nearest:
                    nearest = item_deadline
            deadline = self._mv[base + Slot.DEADLINE]
            if deadline <= 0:
                continue
            if deadline <= now:
                section, run = read_section(self._mv[base + Slot.SECTION])
                timeout = self._mv[base + Slot.TIMEOUT_US] / 1e6
                self._kill(worker, ProcessTimeoutError(section, timeout, run))
            elif nearest is None or deadline < nearest:
                nearest = deadline
        return None if nearest is None else max(0.0, (nearest - now) / 1e9)

    def _pump_once(self, timeout: float | None) -> None:
        """One leader round; called with the lock held, releases it while waiting."""
        self._close_pending()
        self._dispatch()
        if self.state is PoolState.TERMINATED:
            return
        next_deadline = self._check_deadlines()
        if next_deadline is not None:
            timeout = next_deadline if timeout is None else min(timeout, next_deadline + 0.001)
        elif self._timed_items_running():
            # a section may start (and set a deadline) at any moment: look again soon
            timeout = _DEADLINE_POLL if timeout is None else min(timeout, _DEADLINE_POLL)
        self._lock.release()
        try:
            events = self._poller.poll(None if timeout is None else timeout * 1000)
        finally:
            self._lock.acquire()
        if self._terminated():
            return
        dead: list[_Worker] = []
        for fd, _event in events:
            if fd == self._wake_r:
                try:
                    while os.read(self._wake_r, 4096):
                        pass
                except OSError:
                    pass
                continue
            owner = self._by_fd.get(fd)
            if owner is None:
                continue
            worker, is_conn = owner
            if not is_conn:
                dead.append(worker)
                continue
            try:
                self._on_message(worker, wire.read_frame(fd))
                # items under an item_timeout send one small message each: what already waits
                # is filed in this round (one wait per burst). Not for other chunks: a big
                # frame whose first bytes arrived would hold the leader until it all arrived.
                for _ in range(_DRAIN):
                    inflight = worker.inflight
                    if not (inflight and inflight[0].job.item_timeout_ns):
                        break
                    if not select.select((fd,), (), (), 0)[0]:
                        break
                    self._on_message(worker, wire.read_frame(fd))
            except (EOFError, OSError):
                dead.append(worker)
            except MessageError as exc:  # the stream is out of step: replace the worker
                self._kill(
                    worker,
                    PoolError(f"a worker sent a malformed message ({exc}); the pool replaced it"),
                )
                dead.append(worker)
        for worker in dead:
            self._on_death(worker)
        self._check_deadlines()
        self._dispatch()

    def run_until(self, done: Callable[[], bool], deadline: float | None) -> bool:
        """Pump until ``done()`` (evaluated under the lock) is true; ``False`` if ``deadline`` passed."""
        with self._cond:
            while True:
                if done():
                    return True
                remaining = time_left(deadline)
                if remaining is not None and remaining <= 0:
                    return False
                if self._leader:
                    self._cond.wait(remaining)
                    continue
                if self.state is PoolState.TERMINATED:
                    raise PoolError("the pool was terminated")
                self._leader = True
                try:
                    self._pump_once(remaining)
                finally:
                    self._leader = False
                    self._cond.notify_all()

    # --- jobs ---------------------------------------------------------------------------------
    def submit(self, make_job: Callable[[int], Job]) -> Job:
        """Register a new job built by ``make_job(job_id)``."""
        with self._lock:
            job = self._new_job(make_job)
            if not job.exhausted:
                self._jobs.append(job)
                if self._leader:
                    self.wake()
                if job.timed and self._monitor is None:
                    self._monitor = threading.Thread(
                        target=self._watch_deadlines, name="sk-pool-deadlines", daemon=True
                    )
                    self._monitor.start()
            return job

    def _watch_deadlines(self) -> None:
        """Enforce ``Skprocess`` section and item deadlines even while nobody waits on the pool (an
        iterator consumed slowly); exits when no such item is left. The deaths are filed by the next
        pump."""
        while True:
            with self._lock:
                self._drop_abandoned()
                active = self.state is not PoolState.TERMINATED and (
                    any(job.timed for job in self._jobs) or self._timed_items_running()
                )
                if not active:
                    self._monitor = None
                    return
                nearest = self._check_deadlines()
            interval = _DEADLINE_POLL if nearest is None else min(nearest + 0.001, _DEADLINE_POLL)
            self._monitor_stop.wait(interval)

    def finish(self, job: Job, *, kill: bool = False) -> None:
        """The consumer of ``job`` is done with it; with ``kill``, stop the workers running its items."""
        with self._lock:
            self._finish_locked(job, kill=kill)
            self._cond.notify_all()

    def _finish_locked(self, job: Job, *, kill: bool) -> None:
        self._remember_item_time(job)
        job.close()
        if job in self._jobs:
            self._jobs.remove(job)
        for worker in self._live():
            if job.id in worker.fn_sent:
                worker.fn_sent.discard(job.id)
                worker.forget.append(job.id)
            mine = [chunk for chunk in worker.inflight if chunk.job is job]
            if not mine:
                continue
            wasted = (job.item_time or 0.0) * sum(len(chunk) - chunk.flushed for chunk in mine)
            if kill or wasted > _WORTH_A_RESTART:
                # its results are no longer wanted: stop the worker rather than wait for them
                self._kill(worker, _Cancelled("stopped with its call"))
        killed = any(w.kill_reason is not None for w in self._live())
        if killed and not self._leader:
            self._reap_killed()
        elif killed:
            self.wake()

    def _reap_killed(self) -> None:
        for worker in self._live():
            if worker.kill_reason is not None:
                worker.proc.join(5)
                self._on_death(worker)

    def idle(self) -> bool:
        """Nothing in flight and nothing that could be dispatched (under the lock)."""
        if self.state is PoolState.TERMINATED or self.broken is not None:
            return True
        if any(worker.inflight for worker in self._live()):
            return False
        return not any(job.dispatchable() for job in self._jobs)

    # --- shutdown -----------------------------------------------------------------------------
    def _stop_workers(self) -> None:
        """Under the lock, once closed (:meth:`JobsBackend.close`): stop the workers."""
        self.wake()
        while self._leader:
            self._cond.wait()
        workers = self._live()
        for worker in workers:
            if worker.sender is not None:
                worker.sender.stop()
                worker.sender = None
            try:
                worker.conn.send_bytes(STOP_FRAME)
            except OSError:
                pass
        for worker in workers:
            worker.proc.join(10)
            if worker.proc.exitcode is None:
                worker.proc.kill()
                worker.proc.join(5)
            self._workers[worker.index] = None
        self._cond.notify_all()

    def terminate(self) -> None:
        """Stop every worker now; unfinished calls raise ``PoolError`` (idempotent)."""
        with self._cond:
            if self.state is PoolState.TERMINATED:
                return
            self.state = PoolState.TERMINATED
            self._monitor_stop.set()
            error = PoolError("the pool was terminated")
            for job in self._jobs:
                job.fail(error)
            self._jobs.clear()
            for worker in self._live():
                self._kill(worker, error)
            self.wake()
            # not a 'while' loop here: on CPython 3.13.0 an interrupt on its backward jump skips
            # this 'with' block's release (gh-130279)
            self._cond.wait_for(lambda: not self._leader)
            self._cond.notify_all()
        self._release()

    def _release(self) -> None:
        self.finalizer()
        with self._lock:
            senders = [w.sender for w in self._live() if w.sender is not None]
            for worker in self._live():
                worker.sender = None
        for sender in senders:
            sender.stop()
        with self._lock:
            self._close_pending()
            for worker in self._live():
                self._forget_fds(worker)
            self._workers = [None] * self.size

    def worker_pids(self) -> list[int]:
        """Process ids of the live workers (for tests and diagnostics)."""
        with self._lock:
            return [w.proc.pid for w in self._live()]
