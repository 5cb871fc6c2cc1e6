"""A coordinator killed in the middle of a commit: the next one repairs the journal exactly.

The kill is simulated in this process by making the commit raise at a chosen point (the journal and
the shared memory are then exactly as a SIGKILL at that point would leave them); a new ``Core`` is then
recovered from the same shared memory, as a restarted coordinator does.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import pytest

from suitkaise_processing._private.share import coordinator, segment
from suitkaise_processing._private.share.layout import (
    C_APPLIED,
    CONTROL_SIZE,
    J_CLOSED,
    J_STATE,
    JOURNAL_WORD,
    S_APPLIED,
    client_word,
    control_name,
    data_prefix,
    slot_word,
)
from suitkaise_processing._private.share.protocol import OP_CALL, OP_IOP, OP_SET

CLIENT = 0x5EED


class _Killed(Exception):
    """Stands for the SIGKILL."""


@pytest.fixture
def control() -> Iterator[tuple[str, segment.Segment, memoryview]]:
    share_id = secrets.token_hex(4)
    ctl = segment.Segment.create(control_name(share_id), CONTROL_SIZE)
    words = ctl.buf.cast("Q")
    try:
        yield share_id, ctl, words
    finally:
        for name in segment.list_names(data_prefix(share_id)):
            segment.unlink(name)
        words.release()
        ctl.close()


def _write(core: coordinator.Core, entry: int, seq: int, op: str, name: str, args: Any) -> None:
    """What the coordinator does for one numbered write that nobody waits for."""
    assert core.fresh(entry, seq)
    core.apply(op, name, (), args)
    slot = core.slot_of[name]
    core.counts[slot] = core.counts.get(slot, 0) + 1


def _first_batch(share_id: str, ctl: segment.Segment, words: memoryview) -> tuple[Any, int]:
    core = coordinator.Core(share_id, words, ctl.buf)
    entry, applied = core.hello(CLIENT)
    assert applied == 0
    _write(core, entry, 1, OP_SET, "items", ([1, 2],))
    _write(core, entry, 2, OP_SET, "counter", (10,))
    core.commit()
    return core, entry


def _second_batch(core: coordinator.Core, entry: int) -> None:
    _write(core, entry, 3, OP_CALL, "items", ("append", (3,), {}))
    _write(core, entry, 4, OP_IOP, "counter", ("iadd", 5))
    _write(core, entry, 5, OP_SET, "big", ("x" * 100_000,))  # a new, large value


def _recovered(share_id: str, ctl: segment.Segment, words: memoryview) -> coordinator.Core:
    core = coordinator.Core.recover(share_id, words, ctl.buf)
    assert words[JOURNAL_WORD + J_STATE] == J_CLOSED
    return core


def test_a_kill_while_the_data_is_written_rolls_the_batch_back(
    control: tuple[str, segment.Segment, memoryview], monkeypatch: pytest.MonkeyPatch
) -> None:
    share_id, ctl, words = control
    core, entry = _first_batch(share_id, ctl, words)
    _second_batch(core, entry)
    real = coordinator.DataWriter.write_full
    written: list[int] = []

    def dies_on_the_second(self: coordinator.DataWriter, payload: Any) -> bool:
        if written:
            raise _Killed
        written.append(self.slot)
        return real(self, payload)

    monkeypatch.setattr(coordinator.DataWriter, "write_full", dies_on_the_second)
    with pytest.raises(_Killed):
        core.commit()  # items got its delta, counter its new value, then the kill
    monkeypatch.undo()
    new = _recovered(share_id, ctl, words)
    try:
        assert new.values == {"items": [1, 2], "counter": 10}  # as committed by the first batch
        assert words[client_word(entry, C_APPLIED)] == 2  # so the client resends 3, 4 and 5
        assert new.hello(CLIENT) == (entry, 2)
        for name in ("items", "counter"):
            assert words[slot_word(new.slot_of[name], S_APPLIED)] == 1
        # the resent writes apply once, the duplicates of the first batch not at all
        assert not new.fresh(entry, 2)
        _second_batch(new, entry)
        new.commit()
        again = _recovered(share_id, ctl, words)
        assert again.values == {"items": [1, 2, 3], "counter": 15, "big": "x" * 100_000}
        assert words[client_word(entry, C_APPLIED)] == 5
        again.release()
    finally:
        new.release()


def test_a_kill_while_the_counters_are_raised_rolls_the_batch_forward(
    control: tuple[str, segment.Segment, memoryview], monkeypatch: pytest.MonkeyPatch
) -> None:
    share_id, ctl, words = control
    core, entry = _first_batch(share_id, ctl, words)
    _second_batch(core, entry)

    def killed(*args: Any) -> None:
        raise _Killed

    monkeypatch.setattr(coordinator, "_raise_counters", killed)
    with pytest.raises(_Killed):
        core.commit()
    monkeypatch.undo()
    assert words[client_word(entry, C_APPLIED)] == 2  # not raised yet
    new = _recovered(share_id, ctl, words)
    try:
        assert new.values == {"items": [1, 2, 3], "counter": 15, "big": "x" * 100_000}
        assert words[client_word(entry, C_APPLIED)] == 5  # the client resends nothing
        assert words[slot_word(new.slot_of["items"], S_APPLIED)] == 2
        assert words[slot_word(new.slot_of["big"], S_APPLIED)] == 1
        assert not new.fresh(entry, 5)
    finally:
        new.release()


def test_full_values_alternate_in_one_segment_and_survive_recovery(
    control: tuple[str, segment.Segment, memoryview],
) -> None:
    share_id, ctl, words = control
    core, entry = _first_batch(share_id, ctl, words)
    seq = 2
    for _ in range(2_000):  # far more commits than the segment has room for side by side
        seq += 1
        _write(core, entry, seq, OP_IOP, "counter", ("iadd", 1))
        core.commit()
    assert core.writers[core.slot_of["counter"]].gen == 1  # wrapped around, never replaced
    new = _recovered(share_id, ctl, words)
    try:
        assert new.values["counter"] == 2_010
    finally:
        new.release()


def test_client_entries_are_freed_only_when_no_connection_of_the_client_is_left(
    control: tuple[str, segment.Segment, memoryview], monkeypatch: pytest.MonkeyPatch
) -> None:
    share_id, ctl, words = control
    core, entry = _first_batch(share_id, ctl, words)
    assert core.hello(CLIENT) == (entry, 2)  # the same client on a second connection
    core.leave(entry)  # its first connection's end is seen after the hello
    core.commit()
    assert words[client_word(entry, C_APPLIED)] == 2  # kept: dedup still knows seq 1 and 2
    assert not core.fresh(entry, 2)
    other, _ = core.hello(0xBEEF)
    assert other != entry
    # after a restart, an entry whose client never comes back is freed once it cannot resend
    monkeypatch.setattr(coordinator, "_ORPHAN_WAIT", -1.0)
    new = _recovered(share_id, ctl, words)
    try:
        assert set(new.orphans) == {entry, other}
        assert new.hello(CLIENT) == (entry, 2)  # came back in time
        new.free_orphans()
        assert words[client_word(other, C_APPLIED)] == 0
        assert new.hello(0xBEEF)[1] == 0  # a fresh entry for an unknown client
        assert words[client_word(entry, C_APPLIED)] == 2
    finally:
        new.release()


def test_a_delta_log_leaves_room_for_the_next_full_value(
    control: tuple[str, segment.Segment, memoryview],
) -> None:
    share_id, ctl, words = control
    core, entry = _first_batch(share_id, ctl, words)
    _write(core, entry, 3, OP_SET, "d", (dict.fromkeys(range(1_000), 0),))
    core.commit()
    slot = core.slot_of["d"]
    for n in range(20_000):  # share.d[k] = v: delta records, a full value now and then
        assert core.fresh(entry, 4 + n)
        core.apply(OP_SET, "d", (("i", n % 1_000),), (n % 200,))  # the value keeps its size
        core.counts[slot] = 1
        core.commit()
    assert core.writers[core.slot_of["d"]].gen == 1  # never moved to a new segment
    new = _recovered(share_id, ctl, words)
    try:
        assert new.values["d"] == {i: (19_000 + i) % 200 for i in range(1_000)}
    finally:
        new.release()
