"""A process that dies holding a counter's lock does not block the others forever (RELIABILITY.md)."""

from __future__ import annotations

import multiprocessing.context
import sys
from collections.abc import Callable

import pytest
import shared_counter_workers as workers

from shared_counter import SharedMemoryCounter
from shared_counter._private import native, recovery

Make = Callable[..., SharedMemoryCounter]
JOIN = 60.0


@pytest.fixture
def short_grace(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let an unrecorded holder count as orphaned after 0.5 s instead of 10 s (this process only)."""
    monkeypatch.setattr(recovery, "ORPHAN_GRACE", 0.5)


def _start_holder(
    ctx: multiprocessing.context.BaseContext,
    counter: SharedMemoryCounter,
    target: Callable[..., None],
) -> tuple[multiprocessing.process.BaseProcess, object]:
    held, release = ctx.Event(), ctx.Event()
    proc = ctx.Process(target=target, args=(counter.name, counter.run_id, held, release))  # type: ignore[attr-defined]
    proc.start()
    assert held.wait(JOIN), "the child never took the lock"
    return proc, release


@pytest.mark.timeout(120)
def test_lock_of_a_killed_holder_is_recovered(
    make_counter: Make, ctx: multiprocessing.context.BaseContext
) -> None:
    counter = make_counter(initial_value=41)
    lock = counter.get_lock()
    proc, _ = _start_holder(ctx, counter, workers.hold_lock)
    assert lock.acquire(timeout=0.5) is False  # a live holder keeps it
    proc.kill()
    proc.join(JOIN)
    assert lock.acquire(timeout=30) is True
    lock.release()
    assert counter.increment() == 42
    assert counter._core.recoveries == 1


@pytest.mark.timeout(120)
def test_atomic_ops_recover_too_without_a_timeout(
    make_counter: Make, ctx: multiprocessing.context.BaseContext
) -> None:
    counter = make_counter()
    proc, _ = _start_holder(ctx, counter, workers.hold_lock)
    proc.kill()
    proc.join(JOIN)
    assert counter.increment() == 1  # blocks only until the dead holder is noticed
    counter.value += 1
    assert counter.value == 2


@pytest.mark.timeout(120)
@pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="zombies are visible in /proc on Linux"
)
def test_an_unreaped_zombie_holder_counts_as_dead(
    make_counter: Make, ctx: multiprocessing.context.BaseContext
) -> None:
    counter = make_counter()
    proc, _ = _start_holder(ctx, counter, workers.hold_lock)
    proc.kill()  # not joined yet: the child is a zombie until then
    try:
        assert counter.get_lock().acquire(timeout=30)
        counter.get_lock().release()
    finally:
        proc.join(JOIN)


@pytest.mark.timeout(120)
@pytest.mark.usefixtures("short_grace")
def test_holder_killed_before_recording_its_pid_is_recovered_after_the_grace(
    make_counter: Make, ctx: multiprocessing.context.BaseContext
) -> None:
    counter = make_counter()
    proc, _ = _start_holder(ctx, counter, workers.hold_semaphore_without_owner)
    assert counter.get_lock().acquire(timeout=0.2) is False
    proc.kill()
    proc.join(JOIN)
    assert counter.get_lock().acquire(timeout=30)
    counter.get_lock().release()
    assert counter.increment() == 1


@pytest.mark.timeout(120)
def test_a_live_holder_without_recorded_pid_is_not_robbed_within_the_grace(
    make_counter: Make, ctx: multiprocessing.context.BaseContext
) -> None:
    counter = make_counter()
    proc, release = _start_holder(ctx, counter, workers.hold_semaphore_without_owner)
    try:
        assert counter.get_lock().acquire(timeout=1.0) is False  # 10 s grace by default
    finally:
        release.set()  # type: ignore[attr-defined]
        proc.join(JOIN)
    assert proc.exitcode == 0


@pytest.mark.timeout(300)
@pytest.mark.usefixtures("short_grace")
def test_killing_a_tight_increment_loop_never_deadlocks(
    make_counter: Make, ctx: multiprocessing.context.BaseContext
) -> None:
    counter = make_counter(width=8)
    lock = counter.get_lock()
    for round_ in range(4):
        started = ctx.Event()
        proc = ctx.Process(
            target=workers.increment_forever, args=(counter.name, counter.run_id, started)
        )  # type: ignore[attr-defined]
        proc.start()
        assert started.wait(JOIN)
        target = counter.value + 2_000
        assert counter.wait_for(lambda v, t=target: v >= t, timeout=JOIN)
        proc.kill()
        proc.join(JOIN)
        assert lock.acquire(timeout=30), f"round {round_}: the lock stayed taken"
        try:
            before = counter.value
            counter.value += 10
            assert counter.value == before + 10
        finally:
            lock.release()


@pytest.mark.timeout(300)
def test_waiters_recover_once_and_stay_exact(
    make_counter: Make, ctx: multiprocessing.context.BaseContext
) -> None:
    counter = make_counter()
    holder, _ = _start_holder(ctx, counter, workers.hold_lock)
    start = ctx.Event()
    waiters = [
        ctx.Process(
            target=workers.count, args=(counter.name, counter.run_id, 3_000, "increment", start)
        )  # type: ignore[attr-defined]
        for _ in range(2)
    ]
    for proc in waiters:
        proc.start()
    start.set()  # both now block on the lock the holder keeps
    holder.kill()
    holder.join(JOIN)
    for proc in waiters:
        proc.join(JOIN * 2)
    assert [proc.exitcode for proc in waiters] == [0, 0]
    assert counter.value == 6_000
    # the semaphore went back to exactly 1: one acquire succeeds, a second one does not
    raw = native.open_semaphore(counter._names.lock, native.SEMAPHORE)
    assert raw.acquire(False)
    assert not raw.acquire(False)
    raw.release()


@pytest.mark.timeout(120)
def test_recovery_is_logged(
    make_counter: Make, ctx: multiprocessing.context.BaseContext, caplog: pytest.LogCaptureFixture
) -> None:
    counter = make_counter("logged")
    proc, _ = _start_holder(ctx, counter, workers.hold_lock)
    proc.kill()
    proc.join(JOIN)
    with caplog.at_level("WARNING", logger="shared_counter"):
        assert counter.increment() == 1
    assert any(
        "died" in record.getMessage() and "'logged'" in record.getMessage()
        for record in caplog.records
    )
