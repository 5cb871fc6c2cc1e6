"""A Share survives its coordinator: the owner restarts it from the committed state and every client
resends what was not committed yet, so each write that returned is applied exactly once."""

from __future__ import annotations

import os
import queue
import signal
import time
from typing import Any

import pytest
import share_workers as w

from suitkaise_processing import Share, ShareError
from suitkaise_processing._private.context import get_context
from suitkaise_processing._private.share import share as share_module

pytestmark = pytest.mark.timeout(240)

WORKERS = 4
PER_WORKER = 2_000


def _our_segments(share_id: str) -> list[str]:
    if not os.path.isdir("/dev/shm"):
        return []
    return [n for n in os.listdir("/dev/shm") if n.startswith(f"sk_{share_id}_")]


def _kill_coordinator(share: Share) -> None:
    owner = share._sk_owner
    assert owner is not None
    proc = owner.proc
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(30)


def _restarts(share: Share) -> int:
    owner = share._sk_owner
    assert owner is not None
    return owner.restart_count


def _wait_restarted(share: Share, count: int) -> None:
    owner = share._sk_owner
    assert owner is not None
    assert owner.wait_restarted(count, 120), "the owner did not restart the coordinator"


def _increment_many(share: Share) -> None:
    for _ in range(100_000):
        share.counter += 1


def _run_with_two_kills(share: Share, target: Any, args_of: Any) -> None:
    """Run WORKERS processes of ``target``; kill the coordinator when worker 0 has done 600 and,
    after the restart, 1,400 operations."""
    ctx = get_context()
    first, second = ctx.Event(), ctx.Event()
    procs = [
        ctx.Process(target=target, args=args_of(i, {600: first, 1400: second} if i == 0 else {}))  # type: ignore[attr-defined]
        for i in range(WORKERS)
    ]
    for p in procs:
        p.start()
    try:
        assert first.wait(120), "worker 0 did not get going"
        _kill_coordinator(share)
        _wait_restarted(share, 1)
        assert second.wait(120), "worker 0 did not continue after the restart"
        _kill_coordinator(share)
        _wait_restarted(share, 2)
        for p in procs:
            p.join(180)
            assert p.exitcode == 0
    finally:
        for p in procs:
            if p.is_alive():
                p.kill()
                p.join(10)


def test_counter_is_exact_when_the_coordinator_is_killed_twice() -> None:
    share = Share()
    try:
        share.counter = 0
        _run_with_two_kills(share, w.increment_marking, lambda i, marks: (share, PER_WORKER, marks))
        assert share.counter == WORKERS * PER_WORKER
        assert _restarts(share) == 2
        assert not share.has_error
        assert share.is_running
    finally:
        assert share.stop() is True
    assert _our_segments(share._sk_id()) == []


def test_every_appended_item_is_there_exactly_once_across_two_kills() -> None:
    share = Share()
    try:
        share.items = []
        _run_with_two_kills(share, w.append_marking, lambda i, marks: (share, i, PER_WORKER, marks))
        items = list(share.items)
        assert len(items) == WORKERS * PER_WORKER
        assert sorted(items) == [(i, n) for i in range(WORKERS) for n in range(1, PER_WORKER + 1)]
        for i in range(WORKERS):  # each process's appends keep their order
            mine = [n for wid, n in items if wid == i]
            assert mine == list(range(1, PER_WORKER + 1))
    finally:
        share.stop()


def test_writes_in_flight_at_the_kill_are_applied_once() -> None:
    share = Share()
    try:
        share.counter = 0
        share.d = {}
        for i in range(500):
            share.counter += 1  # sent without waiting: many are still in the socket at the kill
            share.d[i] = i
        _kill_coordinator(share)
        for i in range(500, 1000):
            share.counter += 1
            share.d[i] = i
        assert share.counter == 1000
        assert share.d.copy() == {i: i for i in range(1000)}
    finally:
        share.stop()


def test_reads_during_a_restart_wait_and_return_the_right_value() -> None:
    share = Share()
    try:
        share.counter = 41
        share.items = [1, 2, 3]
        assert share.counter == 41
        ctx = get_context()
        go = ctx.Event()
        out = ctx.Queue()
        child = ctx.Process(target=w.increment_and_read, args=(share, go, out))  # type: ignore[attr-defined]
        child.start()
        try:
            assert out.get(timeout=120) == 41  # connected
            _kill_coordinator(share)
            go.set()
            share.counter += 1  # both write while no coordinator runs
            assert share.items.pop() == 3  # a result: waits for the new coordinator
            assert share.counter >= 42  # includes this process's own increment
            assert out.get(timeout=120) in (42, 43)  # the child read its own write
            assert share.counter == 43
        except queue.Empty:
            pytest.fail("the child did not report")
        finally:
            child.join(60)
            if child.is_alive():
                child.kill()
                child.join(10)
        assert child.exitcode == 0
        assert share.items == [1, 2]
        assert not share.has_error
    finally:
        share.stop()


def test_processes_started_after_a_restart_connect_to_the_new_coordinator() -> None:
    from suitkaise_processing import Pool

    share = Share()
    try:
        share.counter = 0
        share.seen = []
        _kill_coordinator(share)
        _wait_restarted(share, 1)
        with Pool(workers=2) as pool:
            pool.map(w.pool_increment, [share] * 10)
        assert share.counter == 10
        assert len(share.seen) == 10
    finally:
        share.stop()


def test_a_coordinator_that_cannot_come_back_gives_share_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    share = Share()
    share.counter = 7
    share_id = share._sk_id()
    # every later coordinator exits at once: the restart is impossible
    monkeypatch.setattr(share_module, "_ENTRY", "import sys; sys.exit(3)")
    _kill_coordinator(share)
    started = time.monotonic()
    with pytest.raises(ShareError, match="could not be restarted"):
        _increment_many(share)
    with pytest.raises(ShareError):
        share.items = []
    assert time.monotonic() - started < 60  # promptly: the failed start is noticed
    assert share.has_error is True
    assert share.is_running is False
    assert share.stop() is False  # returns
    assert _our_segments(share_id) == []
    assert not os.path.exists(os.path.dirname(share._sk_info.address))
    monkeypatch.undo()
    share.start()  # the creator can start it again: from the committed state, never a wrong value
    try:
        assert 7 <= share.counter <= 100_007
        assert not share.has_error
    finally:
        share.stop()


def test_when_the_owner_dies_too_other_processes_get_share_error_promptly() -> None:
    ctx = get_context()
    out = ctx.Queue()
    hold = ctx.Event()
    owner = ctx.Process(target=w.own_a_share, args=(out, hold))  # type: ignore[attr-defined]
    owner.start()
    try:
        share, coordinator_pid = out.get(timeout=120)
        share_id = share._sk_id()
        assert share.counter == 5
        share.counter += 1
        assert share.counter == 6
        os.kill(owner.pid, signal.SIGKILL)
        owner.join(30)
        try:
            os.kill(coordinator_pid, signal.SIGKILL)
        except ProcessLookupError:
            pass  # it had noticed its owner's death and exited
        started = time.monotonic()
        with pytest.raises(ShareError):
            _increment_many(share)
        with pytest.raises(ShareError):
            share.items = []
        assert time.monotonic() - started < 30
        assert share.has_error is True
        assert share.is_running is False
        with pytest.raises(ShareError, match="created"):
            share.stop()  # only the (dead) creator could
    finally:
        if owner.is_alive():
            owner.kill()
            owner.join(10)
    deadline = time.monotonic() + 60
    while _our_segments(share_id) and time.monotonic() < deadline:
        time.sleep(0.2)  # the dead owner's resource tracker reclaims them
    assert _our_segments(share_id) == []
