"""Processes killed mid-work (RELIABILITY.md): a Pool worker, an Skprocess child, the Share coordinator,
and a SharedMemoryCounter lock holder. Every case checks what survived and that nothing hangs."""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import kit_faults_workers as k
import psutil
import pytest

from suitkaise.processing import (
    Pool,
    ProcessError,
    Share,
    WorkerDiedError,
)
from suitkaise.shared_counter import SharedMemoryCounter

# --- Pool worker SIGKILLed mid-item ---------------------------------------------------------------


def _consume(results: Iterator[int], got: list[object]) -> None:
    """Drive a Pool iterator (the caller's thread drives the pool); the error that ends it goes last."""
    try:
        for value in results:
            got.append(value)
    except BaseException as exc:
        got.append(exc)


@pytest.mark.timeout(150)
def test_pool_worker_sigkilled_mid_item_fails_only_that_item(tmp_path: Path) -> None:
    fifo = tmp_path / "pid"
    os.mkfifo(fifo)
    items: list[int | str] = [*range(20), str(fifo)]
    with Pool(workers=2) as pool:
        got: list[object] = []
        consumer = threading.Thread(
            target=_consume, args=(pool.imap(k.announce_or_triple, items), got), daemon=True
        )
        consumer.start()
        with open(fifo) as reader:  # returns once the item opened the fifo for writing
            pid = int(reader.readline())
        killed = time.monotonic()
        os.kill(pid, signal.SIGKILL)
        consumer.join(90)
        assert not consumer.is_alive(), "the map hung after its worker was killed"
        assert time.monotonic() - killed < 60
        assert got[:20] == [
            x * 3 for x in range(20)
        ]  # every other item of the same call is correct
        assert len(got) == 21
        assert got[20] != -1, (
            "the killed item was run again instead of failing (nobody asked for retries)"
        )
        assert isinstance(got[20], WorkerDiedError), got[20]
        assert "SIGKILL" in str(got[20])
        # the pool replaced the worker and is fully usable
        assert pool.map(k.triple, range(30)) == [x * 3 for x in range(30)]
        assert len(pool.map(k.triple, range(200))) == 200
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


# --- Skprocess child killed ---------------------------------------------------------------------------


@pytest.mark.timeout(150)
def test_skprocess_child_killed_with_lives_left_resumes() -> None:
    process = k.Steps(lives=2)
    process.start()
    first_pid, run = process.listen(timeout=60)
    assert run == 0
    pid, run = process.listen(timeout=60)
    assert (pid, run) == (first_pid, 1)
    os.kill(pid, signal.SIGKILL)
    new_pid, run = process.listen(timeout=60)
    assert run == 1  # resumed at the interrupted run
    assert new_pid != pid
    process.tell("go")
    assert process.wait(timeout=60) is True
    assert process.result(timeout=60) == 30  # run 0's state kept, run 1 redone once


@pytest.mark.timeout(150)
def test_skprocess_child_killed_with_no_lives_left_fails_cleanly() -> None:
    process = k.Steps(lives=1)
    process.start()
    process.listen(timeout=60)
    pid, run = process.listen(timeout=60)
    assert run == 1
    os.kill(pid, signal.SIGKILL)
    assert process.wait(timeout=60) is True  # returns, never hangs
    with pytest.raises(ProcessError) as info:
        process.result(timeout=60)
    assert info.value.current_run == 1
    assert process.is_alive is False


# --- Share coordinator killed ------------------------------------------------------------------------


def _segments(share_id: str) -> list[str]:
    if not os.path.isdir("/dev/shm"):
        return []
    return [n for n in os.listdir("/dev/shm") if n.startswith(f"sk_{share_id}_")]


@pytest.mark.timeout(150)
def test_share_coordinator_killed() -> None:
    share = Share()
    share.counter = 1
    share.items = [1, 2]
    share_id = share._sk_id()
    assert _segments(share_id)
    coordinator = share._sk_owner.proc  # internal: the coordinator's Popen
    os.kill(coordinator.pid, signal.SIGKILL)
    coordinator.wait(30)
    # the owner starts a new coordinator from the committed state; nothing is lost
    share.counter += 1
    share.items.append(3)
    assert share.counter == 2
    assert share.items == [1, 2, 3]
    assert share.has_error is False
    assert share.stop() is True
    assert _segments(share_id) == []


# --- SharedMemoryCounter lock holder killed --------------------------------------------------------


@pytest.mark.timeout(150)
def test_counter_lock_holder_killed_others_recover() -> None:
    ctx = multiprocessing.get_context("spawn")
    run_id = "kit" + uuid.uuid4().hex[:8]
    counter = SharedMemoryCounter("locked", create=True, run_id=run_id, initial_value=0)
    try:
        held, release = ctx.Event(), ctx.Event()
        holder = ctx.Process(target=k.hold_counter_lock, args=("locked", run_id, held, release))
        holder.start()
        assert held.wait(60), "the holder never took the lock"
        assert counter.get_lock().acquire(timeout=0.2) is False  # a live holder keeps it
        other = ctx.Process(target=k.counter_increments, args=("locked", run_id, 100))
        other.start()  # blocks on the lock
        holder.kill()
        holder.join(60)
        other.join(90)
        assert other.exitcode == 0, "the other process never got past the dead holder's lock"
        assert counter.value == 100
        lock = counter.get_lock()
        assert lock.acquire(timeout=30) is True
        lock.release()
        counter.value += 1
        assert counter.value == 101
    finally:
        for proc in multiprocessing.active_children():
            proc.kill()
            proc.join(10)
        counter.unlink()
        counter.close()
