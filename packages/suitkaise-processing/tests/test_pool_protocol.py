"""The Pool protocol without processes: slot words, chunk frames and the recovery decision."""

from __future__ import annotations

import pytest

from suitkaise_processing._private.errors import MessageError
from suitkaise_processing._private.pool._protocol import (
    DECODING,
    IDLE,
    MARK_ALWAYS_UP_TO,
    MAX_BATCH,
    STOP_FRAME,
    Batch,
    Fail,
    Mode,
    PoolState,
    Rerun,
    Resend,
    batch_word,
    call_style,
    chunk_frame,
    mode_word,
    plan_recovery,
    read_batch,
    read_chunk_frame,
    read_section,
    section_word,
)


def _marks(started: int) -> bytes:
    """A worker's progress area after ``started`` items of its sub-batch began."""
    return b"\x01" * started + b"\x00" * (MAX_BATCH - started)


def _plan(**changes: object) -> list[object]:
    args: dict[str, object] = {
        "start": 100,
        "count": 50,
        "flushed": 0,
        "running_this_chunk": True,
        "batch": batch_word(100),
        "marks": _marks(0),
        "marks_offset": 0,
        "cancelled": False,
        "killed": False,
        "decode_deaths": 0,
    }
    args.update(changes)
    return list(plan_recovery(**args))  # type: ignore[arg-type]


# --- words -------------------------------------------------------------------------------------
# an unmarked sub-batch always has items: (size 0, unmarked) is never written
_SIZES = [(0, True)] + [(n, m) for n in (1, MARK_ALWAYS_UP_TO, MAX_BATCH) for m in (True, False)]


@pytest.mark.parametrize("first", [0, 1, 65535, 10**9])
@pytest.mark.parametrize(("size", "marked"), _SIZES)
def test_batch_word_round_trips(first: int, size: int, marked: bool) -> None:
    assert read_batch(batch_word(first, size, marked=marked)) == Batch(first, size, marked)


def test_decoding_and_idle_are_not_batches() -> None:
    assert read_batch(DECODING) is None
    assert read_batch(IDLE) is None


@pytest.mark.parametrize("section", ["prerun", "run", "postrun", "onfinish", "result", "error"])
def test_section_word_round_trips(section: str) -> None:
    assert read_section(section_word(section, 41)) == (section, 41)


def test_call_style_reads_the_mode_flags() -> None:
    assert call_style(Mode.PLAIN) == (False, False)
    assert call_style(Mode.STAR) == (False, True)
    assert call_style(Mode.SKPROCESS | Mode.STAR) == (True, True)
    # a re-sent Resume item of a star job is called with one argument
    assert call_style(Mode.SKPROCESS | Mode.STAR | Mode.CHUNK_PLAIN) == (True, False)
    assert call_style(int(Mode.STAR)) == (False, True)  # the plain int a header carries


def test_pool_state_prints_as_its_name() -> None:
    assert str(PoolState.CLOSING) == "closing"
    assert f"{PoolState.OPEN}" == "open"


# --- frames ------------------------------------------------------------------------------------
def test_chunk_frame_round_trips() -> None:
    header = (7, 3, 100, b"fn", int(Mode.STAR), [1, 2], 250_000_000)
    got = read_chunk_frame(chunk_frame(header, b"payload"))
    assert got is not None
    assert got[0] == header
    assert bytes(got[1]) == b"payload"


def test_stop_frame_reads_as_none() -> None:
    assert read_chunk_frame(STOP_FRAME) is None


@pytest.mark.parametrize("body", [b"\x01", b"\xff\xff\xff\x7f" + b"x" * 10, b"\x10\x00\x00\x00abc"])
def test_chunk_frame_with_a_lying_header_length_is_rejected(body: bytes) -> None:
    with pytest.raises(MessageError, match=r"header|too short"):
        read_chunk_frame(body)


# --- recovery ----------------------------------------------------------------------------------
def test_marked_sub_batch_fails_exactly_the_running_item() -> None:
    # sub-batch of 8 items from item 110; 3 had started: item 112 was running
    steps = _plan(flushed=4, batch=batch_word(110, 8), marks=_marks(3))
    assert steps == [Rerun(4, 12), Fail(12), Rerun(13, 50)]


def test_marks_are_read_at_the_workers_offset() -> None:
    marks = _marks(0) + _marks(5)  # worker 1's area starts at MAX_BATCH
    steps = _plan(batch=batch_word(100, 10), marks=marks, marks_offset=MAX_BATCH)
    assert steps == [Rerun(0, 4), Fail(4), Rerun(5, 50)]


def test_every_item_of_a_marked_sub_batch_started_the_last_one_ran() -> None:
    steps = _plan(batch=batch_word(140, 10), marks=_marks(10))
    assert steps == [Rerun(0, 49), Fail(49)]


def test_between_sub_batches_nothing_fails() -> None:
    steps = _plan(flushed=10, batch=batch_word(120))
    assert steps == [Rerun(10, 20), Rerun(20, 50)]


def test_sub_batch_before_its_first_item_started_fails_nothing() -> None:
    steps = _plan(batch=batch_word(100, 6), marks=_marks(0))
    assert steps == [Rerun(0, 50)]


def test_unmarked_sub_batch_runs_each_of_its_items_alone() -> None:
    steps = _plan(flushed=2, batch=batch_word(105, 3, marked=False))
    assert steps == [Rerun(2, 5), Rerun(5, 6), Rerun(6, 7), Rerun(7, 8), Rerun(8, 50)]


def test_unmarked_sub_batch_at_the_end_of_the_chunk() -> None:
    steps = _plan(count=10, batch=batch_word(108, 2, marked=False))
    assert steps == [Rerun(0, 8), Rerun(8, 9), Rerun(9, 10)]


def test_results_already_sent_are_never_run_again() -> None:
    # the slot still names an item before what came back (results flushed after the word was read)
    steps = _plan(flushed=30, batch=batch_word(110, 4), marks=_marks(2))
    assert steps == [Fail(30), Rerun(31, 50)]


def test_cancelled_call_sends_the_rest_again_and_fails_nothing() -> None:
    steps = _plan(flushed=5, batch=batch_word(110, 8), marks=_marks(3), cancelled=True)
    assert steps == [Rerun(5, 50)]


def test_a_worker_that_never_reached_the_chunk_costs_nothing() -> None:
    steps = _plan(flushed=0, running_this_chunk=False, batch=batch_word(3, 4), marks=_marks(4))
    assert steps == [Rerun(0, 50)]


def test_death_while_decoding_resends_once_then_fails() -> None:
    assert _plan(batch=DECODING) == [Resend()]
    assert _plan(batch=DECODING, decode_deaths=1) == [Fail(0)]


def test_killed_while_decoding_is_not_the_chunks_fault() -> None:
    assert _plan(batch=DECODING, killed=True, decode_deaths=1) == [Rerun(0, 50)]


def test_idle_worker_runs_the_chunk_again() -> None:
    assert _plan(batch=IDLE, flushed=7) == [Rerun(7, 50)]


def test_every_item_appears_exactly_once_in_a_plan() -> None:
    for started in range(9):
        for marked in (True, False):
            if not marked and started:
                continue
            steps = _plan(flushed=3, batch=batch_word(104, 8, marked=marked), marks=_marks(started))
            covered: list[int] = []
            for step in steps:
                if isinstance(step, Rerun):
                    covered.extend(range(step.start, step.stop))
                elif isinstance(step, Fail):
                    covered.append(step.item)
            assert covered == list(range(3, 50)), (started, marked, steps)


def test_mode_word_is_a_plain_int_of_the_mode_flags() -> None:
    word = mode_word(skprocess=True, star=True)
    assert type(word) is int  # an enum member would pickle by reference into every chunk header
    assert word == Mode.SKPROCESS | Mode.STAR
    assert call_style(word) == (True, True)
    assert call_style(mode_word(skprocess=True, star=True, chunk_plain=True)) == (True, False)
    assert call_style(mode_word(skprocess=False, star=False)) == (False, False)
