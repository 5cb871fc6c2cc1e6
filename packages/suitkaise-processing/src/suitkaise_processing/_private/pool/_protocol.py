"""The protocol between a Pool's parent (:mod:`._engine`) and its workers (:mod:`._worker`).

Everything both sides must agree on lives here: the frames, the message tags, the call modes, the
layout of the shared slot words and progress bytes, and the decision of what a dead worker's chunk
runs again (:func:`plan_recovery`, a pure function).

Frames (each one frame of :mod:`..wire`: a length prefix, then the body)
    parent -> worker
        ``4-byte little-endian header length, header, payload`` (:func:`chunk_frame`). The header is the
        pickled tuple ``(seq, job_id, start, fn_blob, mode, forget, item_timeout_ns)``; the payload is
        the chunk's items (the job's items from index ``start``), encoded once per chunk by
        :func:`..wire.encode_by_reference` (self-describing: pickle or cucumber). ``fn_blob`` carries
        the job's function (cucumber bytes) the first time this worker sees the job, else ``None``;
        ``mode`` is a :class:`Mode`; ``forget`` lists finished job ids whose functions can be dropped;
        ``item_timeout_ns`` is the job's per-item time limit in nanoseconds (0: none, see
        ``Slot.ITEM_DEADLINE``). An empty body (:data:`STOP_FRAME`) asks the worker to exit.
    worker -> parent (a pickled tuple whose first element is a :class:`Tag`)
        ``(RESULT, seq, offset, values, error, done, elapsed)``: results of items from ``offset``;
        ``values`` is a list, or cucumber bytes of the list when pickle refused a result; ``error``
        (``None`` or :func:`..wire.pack_error` output) belongs to item ``offset + len(values)`` and
        ends the chunk; ``done`` marks the chunk's last message; ``elapsed`` is the run time (s).
        A worker that retires (``max_tasks_per_child``/``max_memory_per_child``, :mod:`._recycling`)
        sends what it holds with ``done`` false, sets its batch word to ``IDLE`` and exits: the
        chunk's remaining items never started and run on another worker.
        ``(READY, pid)`` once started; ``(INIT_FAILED, packed_error)`` when the initializer raised;
        ``(LOG, record_dict)`` for a forwarded log record; ``(DECODE_FAILED, seq)`` when pickled items
        refer to something the worker cannot import (the parent resends them with cucumber);
        ``(SNAPSHOT, seq, index, run, lives_left, state)`` when an ``Skprocess`` item with ``lives > 1``
        starts a run (what the parent restarts it from if the worker is killed).

Slots (a shared ``multiprocessing.heap.Arena`` read as 8-byte signed words, :data:`SLOT_WIDTH` per
worker, at ``index * SLOT_WIDTH``)
    ``Slot.SEQ``
        the chunk the worker holds.
    ``Slot.BATCH``
        the *batch word* (:func:`batch_word` / :func:`read_batch`): ``index * BATCH_SPAN + size``,
        the running sub-batch of ``size`` items from item ``index``; ``size`` 0 means between
        sub-batches (item ``index`` is next and has not started). An *unmarked* sub-batch carries
        :data:`UNMARKED` on top of its size. :data:`DECODING` (-1) while the chunk is decoded,
        :data:`IDLE` (-2) when the worker holds nothing.
    ``Slot.DEADLINE``
        ``time.monotonic_ns()`` deadline of a timed ``Skprocess`` section (0: none), whose section and
        run are in ``Slot.SECTION`` (:func:`section_word`) and timeout (us) in ``Slot.TIMEOUT_US``.
    ``Slot.ITEM_DEADLINE``
        ``time.monotonic_ns()`` deadline of the running item of a job with an item timeout (0: no
        such item runs). Such a job runs one marked item per sub-batch and sends each result as soon
        as the item ends: the worker writes the batch word, then this deadline, runs the item, clears
        the deadline, then moves the batch word on; so a deadline read twice with the same value
        frames a batch word naming the item it belongs to, and a ``Slot.SEQ`` naming its chunk
        (:mod:`._item_timeout`), and a worker killed at that deadline holds no result the parent
        has not received.

Progress bytes (a shared ``multiprocessing.heap.Arena``, :data:`MAX_BATCH` bytes per worker)
    Inside a *marked* sub-batch the worker's area gets one non-zero byte (:data:`STARTED`) per item
    started, written by ``mmap.write`` from a C-level iterator chain (``compress`` pulls the item, then
    the byte is written, then the item runs), so the parent knows the exact item that was running. That
    costs about 60 ns per item, which doubles the cost of a trivial item, so sub-batches of more than
    :data:`MARK_ALWAYS_UP_TO` items that took less than :data:`MARK_MIN_SECONDS` each in the previous
    sub-batch run *unmarked*, and a worker that dies inside one makes the parent run each of its items
    again alone (an item that crashes the worker then fails by itself; the items before it run twice).
"""

from __future__ import annotations

import enum
import mmap
import pickle
from typing import Any, NamedTuple

from suitkaise_processing._private.wire import split_header


class Tag(enum.IntEnum):
    """First element of every worker -> parent message (sent as a plain int)."""

    RESULT = 0
    READY = 1
    INIT_FAILED = 2
    LOG = 3
    DECODE_FAILED = 4
    SNAPSHOT = 5


class Mode(enum.IntFlag):
    """How a chunk's items are called (sent as a plain int in the chunk header)."""

    PLAIN = 0
    #: ``fn(*item)`` instead of ``fn(item)``
    STAR = 1
    #: ``fn`` is an ``Skprocess`` class: each item runs one instance's lifecycle
    SKPROCESS = 2
    #: on one chunk of a star job: call ``fn(item)`` (re-sent :class:`Resume` items)
    CHUNK_PLAIN = 16


# the flags as plain ints: operations on ``Mode`` members run enum code, too slow per chunk
_STAR = int(Mode.STAR)
_SKPROCESS = int(Mode.SKPROCESS)
_CHUNK_PLAIN = int(Mode.CHUNK_PLAIN)


def mode_word(*, skprocess: bool, star: bool, chunk_plain: bool = False) -> int:
    """The :class:`Mode` word of a chunk header, as a plain int (an enum member would pickle by
    reference, and its operators run enum code)."""
    return (
        (_SKPROCESS if skprocess else 0)
        | (_STAR if star else 0)
        | (_CHUNK_PLAIN if chunk_plain else 0)
    )


def call_style(mode: int) -> tuple[bool, bool]:
    """``(skprocess, star)`` of a chunk's mode word."""
    mode = int(mode)
    return bool(mode & _SKPROCESS), bool(mode & _STAR) and not mode & _CHUNK_PLAIN


class PoolState(str, enum.Enum):
    """Life stage of a Pool."""

    OPEN = "open"
    CLOSING = "closing"
    CLOSED = "closed"
    TERMINATED = "terminated"

    def __str__(self) -> str:
        return self.value


# --- frames --------------------------------------------------------------------------------------
STOP_FRAME = b""

ChunkHeader = tuple[int, int, int, bytes | None, int, list[int], int]


def chunk_frame(header: ChunkHeader, payload: bytes) -> bytes:
    """The body of the frame carrying one chunk: header length, pickled header, encoded items."""
    head = pickle.dumps(header, pickle.HIGHEST_PROTOCOL)
    return len(head).to_bytes(4, "little") + head + payload


def read_chunk_frame(body: bytes | bytearray) -> tuple[ChunkHeader, memoryview] | None:
    """Header and payload of a chunk frame body; ``None`` for :data:`STOP_FRAME`.
    ``MessageError`` if the header length overruns the body."""
    if not body:
        return None
    start, end = split_header(body)
    header: ChunkHeader = pickle.loads(memoryview(body)[start:end])
    return header, memoryview(body)[end:]


# --- slots ---------------------------------------------------------------------------------------
class Slot(enum.IntEnum):
    """Offset of each word in a worker's slot."""

    SEQ = 0
    BATCH = 1
    DEADLINE = 2
    SECTION = 3
    TIMEOUT_US = 4
    ITEM_DEADLINE = 5


SLOT_WIDTH = len(Slot)
BATCH_SPAN = 1 << 16
SECTION_SPAN = 1 << 32
DECODING = -1
IDLE = -2
#: the largest sub-batch, and the bytes of progress area per worker
MAX_BATCH = 4096
#: added to the size field of a sub-batch that writes no per-item "started" bytes
UNMARKED = 2 * MAX_BATCH
#: items that took at least this long (seconds, mean of the last sub-batch) run marked
MARK_MIN_SECONDS = 10e-6
#: sub-batches of at most this many items are always marked (a few us at most)
MARK_ALWAYS_UP_TO = 64
#: the byte a worker writes to its progress area when it starts an item
STARTED = b"\x01"

SECTION_IDS = {"prerun": 1, "run": 2, "postrun": 3, "onfinish": 4, "result": 5, "error": 6}
_SECTION_NAMES = {v: k for k, v in SECTION_IDS.items()}


def batch_word(index: int, size: int = 0, *, marked: bool = True) -> int:
    """The batch word of a sub-batch of ``size`` items from item ``index`` (0: none running)."""
    return index * BATCH_SPAN + (size if marked else UNMARKED + size)


class Batch(NamedTuple):
    """A decoded batch word."""

    first: int
    size: int
    marked: bool


def read_batch(word: int) -> Batch | None:
    """Inverse of :func:`batch_word`; ``None`` for :data:`DECODING` and :data:`IDLE`."""
    if word < 0:
        return None
    index, size = divmod(word, BATCH_SPAN)
    if size > UNMARKED:
        return Batch(index, size - UNMARKED, False)
    return Batch(index, size, True)


def section_word(section: str, run: int) -> int:
    """The ``Slot.SECTION`` word of lifecycle ``section`` on ``run``."""
    return SECTION_IDS.get(section, 0) * SECTION_SPAN + run


def read_section(word: int) -> tuple[str, int]:
    """Inverse of :func:`section_word`: ``(section, run)``."""
    section_id, run = divmod(word, SECTION_SPAN)
    return _SECTION_NAMES.get(section_id, "run"), run


# --- recovery ------------------------------------------------------------------------------------
class Rerun(NamedTuple):
    """Send items ``start:stop`` of the chunk again, as one chunk (indices relative to the chunk)."""

    start: int
    stop: int


class Fail(NamedTuple):
    """Item ``item`` of the chunk was running when the worker died: it fails (or costs a life)."""

    item: int


class Resend(NamedTuple):
    """The worker died while decoding the chunk: send the same chunk again."""


Step = Rerun | Fail | Resend


def plan_recovery(
    *,
    start: int,
    count: int,
    flushed: int,
    running_this_chunk: bool,
    batch: int,
    marks: bytes | bytearray | mmap.mmap,
    marks_offset: int,
    cancelled: bool,
    killed: bool,
    decode_deaths: int,
) -> list[Step]:
    """What to do with the chunk a worker was running when it died, in item order.

    ``start``/``count``: the chunk's first item and its number of items; ``flushed``: items at its
    front whose results came back; ``running_this_chunk``: the worker's ``Slot.SEQ`` names this
    chunk; ``batch``: its batch word; ``marks[marks_offset:]``: its progress bytes; ``cancelled``: the
    call was cancelled or the pool terminated (nothing fails, the rest is sent again to be dropped);
    ``killed``: the pool killed the worker; ``decode_deaths``: how often a worker already died while
    decoding this chunk.
    """
    if cancelled:
        return [Rerun(flushed, count)]
    if not running_this_chunk:
        return [Rerun(flushed, count)]  # it never got to this chunk
    decoded = read_batch(batch)
    if decoded is None:
        if batch == DECODING and not killed:
            # died while decoding: once may be bad luck, twice is the chunk
            return [Fail(flushed)] if decode_deaths >= 1 else [Resend()]
        return [Rerun(flushed, count)]
    index, size, marked = decoded
    running = False
    if marked and size > 0:
        found = marks.find(b"\x00", marks_offset, marks_offset + size)
        started = size if found < 0 else found - marks_offset
        if started > 0:  # the last item started was running
            index, running = index + started - 1, True
    rel = min(max(index - start, flushed), count)
    steps: list[Step] = []
    if rel > flushed:  # finished but not yet sent back: run again
        steps.append(Rerun(flushed, rel))
    if not marked:  # one of these short items was running: run each alone to find it
        end = min(rel + size, count)
        steps.extend(Rerun(k, k + 1) for k in range(rel, end))
        rel = end
    elif running and rel < count:
        steps.append(Fail(rel))
        rel += 1
    if rel < count:  # not started yet
        steps.append(Rerun(rel, count))
    return steps


# --- re-sent Skprocess items ---------------------------------------------------------------------
class Resume(NamedTuple):
    """An ``Skprocess`` item sent again after its worker was killed (section timeout, crash).

    ``state`` is its last snapshot (``None``: start from ``item`` again); with ``error`` set, its lives
    are out and only ``__error__`` runs.
    """

    item: Any
    star: bool
    state: bytes | None
    lives_left: int
    error: BaseException | None
