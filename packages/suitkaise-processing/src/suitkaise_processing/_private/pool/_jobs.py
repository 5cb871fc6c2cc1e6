"""One call on a Pool (a *job*): its input, its chunks and the results gathered for its consumer.

Everything here runs in the parent under the engine's lock.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, NamedTuple

from suitkaise_processing._private.errors import PoolError
from suitkaise_processing._private.pool._progress import Progress
from suitkaise_processing._private.pool._protocol import mode_word

#: adaptive chunks (input of unknown length) aim at this much work per chunk (seconds)
CHUNK_TARGET = 0.02
MAX_CHUNK = 8192
#: chunks also stay below about this many encoded bytes (arguments or results), so that big items
#: stream one or a few at a time
CHUNK_BYTES = 1 << 20
#: ... and, when the items are tiny, at least this much work (seconds), up to one chunk per worker
CHUNK_MIN_WORK = 0.001


class Batching(NamedTuple):
    """How a backend sizes adaptive chunks (its cost per chunk decides): seconds of work per chunk
    (``target``), at least this much work per chunk when items are tiny (``min_work``), and the first
    chunks of a call of unknown item time are ``1/ramp`` of the largest (``ramp``)."""

    target: float = CHUNK_TARGET
    min_work: float = CHUNK_MIN_WORK
    ramp: int = 8


class CallSpec(NamedTuple):
    """What one Pool call asks for; ``Job`` adds the call's input and state."""

    #: ``"pool.map"``, ... (error messages, progress bar)
    name: str
    #: the function or ``Skprocess`` class, and its cucumber bytes (sent once per worker)
    target: Callable[..., Any]
    fn_blob: bytes
    #: the function is an ``Skprocess`` class; each item is unpacked as arguments (``pool.star()``)
    skprocess: bool
    star: bool
    #: results in input order (``map``/``imap``) or in completion order
    ordered: bool
    #: read the input only as far as the consumer's bounded read-ahead
    lazy: bool
    workers: int
    #: items per chunk (``None``: adaptive)
    chunksize: int | None
    #: seconds per item measured in earlier calls of the same function
    estimate: float | None
    #: progress display options (tqdm keywords; ``None``: no display), :mod:`._progress`
    progress: dict[str, Any] | None
    #: the backend's chunk sizing (local workers: the defaults)
    batching: Batching = Batching()
    #: seconds each item may run (``None``: no limit), :mod:`._item_timeout`
    item_timeout: float | None = None


class Chunk:
    """A run of consecutive items of one job, sent to one worker."""

    __slots__ = (
        "attempts",
        "buffers",
        "flushed",
        "items",
        "job",
        "mode_word",
        "nbytes",
        "payload",
        "seq",
        "start",
    )

    def __init__(self, job: Job, start: int, items: Sequence[Any]) -> None:
        self.job = job
        self.start = start
        self.items = items
        self.seq = 0
        self.payload: bytes | None = None  # the items encoded by wire.encode_by_reference
        #: the big buffers of ``payload`` (a :mod:`..bigbuffers` message): copied to shared memory per send
        self.buffers: list[memoryview] | None = None
        self.nbytes = 0
        self.attempts = 0
        self.flushed = 0  # items at the front whose results already came back
        #: sent instead of the job's mode word (:func:`~._protocol.mode_word`) when not 0
        self.mode_word = 0

    def __len__(self) -> int:
        return len(self.items)


class Job:
    """State of one ``map``/``imap``/... call."""

    def __init__(self, job_id: int, spec: CallSpec, items: Iterable[Any]) -> None:
        self.id = job_id
        self.spec = spec
        self.fn_blob = spec.fn_blob
        self.target = spec.target
        self.skprocess = spec.skprocess
        self.star = spec.star
        self.mode_word = mode_word(skprocess=spec.skprocess, star=spec.star)
        self.ordered = spec.ordered
        self.item_timeout = spec.item_timeout
        #: the limit as the chunk headers carry it (0: none)
        self.item_timeout_ns = 0 if spec.item_timeout is None else int(spec.item_timeout * 1e9)
        #: the parent watches deadlines of this job's items (section timeouts, item timeouts)
        self.timed = spec.skprocess or spec.item_timeout is not None
        self._seq: Sequence[Any] | None = None
        self._iter: Iterator[Any] | None = None
        self.total: int | None = None
        if isinstance(items, (list, tuple, range)):
            self._seq = items
            self.total = len(items)
        else:
            try:
                self.total = len(items)  # type: ignore[arg-type]
            except TypeError:
                self.total = None
            self._iter = iter(items)
        self.progress = (
            None
            if spec.progress is None
            else Progress(spec.name, self.total, options=spec.progress)
        )
        workers, chunksize, estimate = spec.workers, spec.chunksize, spec.estimate
        self.workers = workers
        self.adaptive = chunksize is None
        self.max_chunk = MAX_CHUNK
        self.batching = spec.batching
        self.item_bytes: float | None = None
        if chunksize is not None:
            self.chunksize = max(1, int(chunksize))
        else:
            if self.total is not None:
                # at most multiprocessing's chunks (4 per worker); smaller when items are slow, so
                # that workers stay balanced
                size, extra = divmod(self.total, workers * 4)
                self.max_chunk = max(1, size + (1 if extra else 0))
            if estimate is not None:
                self.chunksize = self._size_for(estimate)
            elif self.total is not None:
                # learn the item time on small chunks first
                self.chunksize = max(1, self.max_chunk // self.batching.ramp)
            else:
                self.chunksize = 1
        self.lazy = spec.lazy
        self.read = 0  # items taken from the input
        self.exhausted = self.total == 0
        self.pending: deque[Chunk] = deque()  # chunks to send first (re-queued after a worker died)
        self.inflight = 0
        self.closed = False  # no more dispatch; results that still arrive are dropped
        self.abandoned = False  # set (without the lock) when the consumer was garbage-collected
        self.failure: BaseException | None = (
            None  # raised by the consumer once it reaches the end of what arrived
        )
        self.item_time: float | None = estimate  # seconds per item, measured by the workers
        # ordered results: segment start -> (values, error at start+len(values) or None)
        self.segments: dict[int, tuple[list[Any], BaseException | None]] = {}
        self.cursor = 0
        # unordered results: lists of values, or an exception where one item failed
        self.arrived: deque[list[Any] | BaseException] = deque()
        self.consumed = 0

    def _size_for(self, item_time: float | None) -> int:
        wanted = self.max_chunk
        if item_time is not None and item_time > 0:
            if self.total is not None:
                # tiny items: fewer, bigger chunks (up to one per worker) beat round trips
                per_worker = -(-self.total // self.workers)
                wanted = max(wanted, min(per_worker, int(self.batching.min_work / item_time)))
            wanted = min(wanted, int(self.batching.target / item_time))
        if self.item_bytes is not None and self.item_bytes > 0:
            wanted = min(wanted, int(CHUNK_BYTES / self.item_bytes))
        return max(1, wanted)

    def note_bytes(self, nbytes: int, count: int) -> None:
        """``count`` items took ``nbytes`` encoded (their arguments or their results)."""
        if count <= 0 or not self.adaptive:
            return
        per_item = nbytes / count
        if self.item_bytes is None or per_item > self.item_bytes:
            self.item_bytes = per_item
        else:
            self.item_bytes = 0.5 * (self.item_bytes + per_item)
        self.chunksize = self._size_for(self.item_time)

    # --- input --------------------------------------------------------------------------------
    def buffer_limit(self) -> int:
        """How many items may be read ahead of the consumer (iterators read their input lazily)."""
        return max(2 * self.workers * self.chunksize + self.chunksize, 4)

    def dispatchable(self) -> bool:
        """Whether a chunk could be handed to a worker now."""
        if self.closed or self.abandoned:
            return False
        if self.pending:
            return True
        if self.exhausted:
            return False
        return not self.lazy or self.read - self.consumed < self.buffer_limit()

    def next_chunk(self) -> Chunk | None:
        """The next chunk to send, read from the input when nothing waits to be re-sent."""
        if self.closed:
            return None
        if self.pending:
            return self.pending.popleft()
        if self.exhausted or (self.lazy and self.read - self.consumed >= self.buffer_limit()):
            return None
        size = self.chunksize
        start = self.read
        if self._seq is not None:
            part = self._seq[start : start + size]
            # a slice of a range is a range: it travels in a few bytes instead of one int per item
            items: Sequence[Any] = part if isinstance(part, (list, range)) else list(part)
        else:
            assert self._iter is not None
            items = []
            try:
                items.extend(itertools.islice(self._iter, size))  # keeps what was read if it raises
            except Exception as exc:
                # the input itself failed: its error takes the place of the item it could not give
                self.exhausted = True
                self.read += len(items) + 1
                self.add_part(start + len(items), [], exc, 0.0)
                return Chunk(self, start, items) if items else None
        self.read += len(items)
        if len(items) < size or (self.total is not None and self.read >= self.total):
            self.exhausted = True
        if not items:
            return None
        return Chunk(self, start, items)

    def requeue(self, chunks: list[Chunk]) -> None:
        """Put chunks back at the front, keeping their order."""
        if self.closed:
            return
        for chunk in reversed(chunks):
            if chunk.items:
                self.pending.appendleft(chunk)

    # --- results ------------------------------------------------------------------------------
    def add_part(
        self, start: int, values: list[Any], error: BaseException | None, elapsed: float
    ) -> None:
        """Results of items ``start, start+1, ...``; ``error`` belongs to the item after the last value."""
        if self.closed:
            return
        count = len(values) + (error is not None)
        if count == 0:
            return
        if self.ordered:
            self.segments[start] = (values, error)
        else:
            if values:
                self.arrived.append(values)
            if error is not None:
                self.arrived.append(error)
        if self.progress is not None:
            self.progress.update(count)
        if values and elapsed > 0:
            per_item = elapsed / len(values)
            self.item_time = (
                per_item if self.item_time is None else 0.5 * (self.item_time + per_item)
            )
            if self.adaptive:
                self.chunksize = self._size_for(self.item_time)

    def take(self) -> tuple[list[Any], BaseException | None]:
        """What the consumer may take now: values (in input order when ordered) and, after them, the
        error to raise (the first failure it reaches, or why the job ended early)."""
        if self.ordered:
            out: list[Any] = []
            segments = self.segments
            while self.cursor in segments:
                values, error = segments.pop(self.cursor)
                if out:
                    out.extend(values)
                else:
                    out = values
                self.cursor += len(values)
                if error is not None:
                    self.consumed = self.cursor
                    return out, error
            self.consumed = self.cursor
            if self.failure is not None and not self.complete():
                return out, self.failure
            return out, None
        got: list[Any] = []
        while self.arrived:
            entry = self.arrived.popleft()
            if isinstance(entry, BaseException):
                self.consumed += len(got)
                return got, entry
            if got:
                got.extend(entry)
            else:
                got = entry
        self.consumed += len(got)
        if self.failure is not None and not self.complete():
            return got, self.failure
        return got, None

    def has_output(self) -> bool:
        """Whether :meth:`take` would return something (values, an error, or the end)."""
        if self.failure is not None or self.complete():
            return True
        if self.ordered:
            return self.cursor in self.segments
        return bool(self.arrived)

    def complete(self) -> bool:
        """Every item was read, run and taken by the consumer."""
        return (
            self.exhausted
            and self.consumed >= self.read
            and not self.pending
            and self.inflight == 0
        )

    def fail(self, error: BaseException) -> None:
        """End the job early: the consumer raises ``error`` after what already arrived."""
        if self.failure is None:
            self.failure = error
        self.closed = True
        self.pending.clear()

    def close(self) -> None:
        """The consumer is gone (finished, failed, cancelled): drop everything still to come."""
        if self.failure is None:
            self.failure = PoolError("this call was cancelled")
        self.closed = True
        self.pending.clear()
        self.segments.clear()
        self.arrived.clear()
        if self.progress is not None:
            self.progress.close()
