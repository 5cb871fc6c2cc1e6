"""Share faults: a killed coordinator (replaced by its owner), a dead owner, misuse from other processes."""

from __future__ import annotations

import os
import pickle
import queue
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest
import share_workers as w

from suitkaise_processing import Share, ShareError
from suitkaise_processing._private.context import get_context

pytestmark = pytest.mark.timeout(180)


def _our_segments(share_id: str) -> list[str]:
    if not os.path.isdir("/dev/shm"):
        return []
    return [n for n in os.listdir("/dev/shm") if n.startswith(f"sk_{share_id}_")]


def _kill_coordinator(share: Share) -> None:
    owner = share._sk_owner
    assert owner is not None
    os.kill(owner.proc.pid, signal.SIGKILL)
    owner.proc.wait(30)


def test_killed_coordinator_is_replaced_and_every_access_keeps_working() -> None:
    share = Share()
    share.counter = 1
    share.items = [1, 2]
    share_id = share._sk_id()
    _kill_coordinator(share)
    assert share.counter == 1  # committed before the kill
    share.counter += 1
    share.items.append(3)
    assert share.items.pop() == 3  # waits for the new coordinator
    share.other = 1
    assert share.counter == 2
    assert share.items == [1, 2]
    assert share.other == 1
    owner = share._sk_owner
    assert owner is not None
    assert owner.restart_count == 1
    assert share.has_error is False
    assert share.is_running is True
    assert share.stop() is True
    assert _our_segments(share_id) == []
    assert not os.path.exists(os.path.dirname(share._sk_info.address))


def test_killed_coordinator_with_writes_in_flight_loses_none() -> None:
    share = Share()
    try:
        share.counter = 0
        for _ in range(200):
            share.counter += 1  # sent without waiting
        _kill_coordinator(share)
        for _ in range(1000):
            share.counter += 1
        assert share.counter == 1200
    finally:
        share.stop()
    assert _our_segments(share._sk_id()) == []


def test_stop_right_after_a_crash_keeps_the_last_committed_state() -> None:
    share = Share()
    share.counter = 41
    share.items = [1, 2, 3]
    assert share.counter == 41  # committed
    _kill_coordinator(share)
    share.stop()  # True if the replacement was up already, False if it stopped a dead one
    assert not share.is_running
    share.start()
    try:
        assert not share.has_error
        assert share.counter == 41
        assert share.items == [1, 2, 3]
        share.counter += 1
        assert share.counter == 42
    finally:
        share.stop()


def test_child_processes_keep_working_when_the_coordinator_dies() -> None:
    share = Share()
    share.counter = 0
    ctx = get_context()
    go = ctx.Event()
    out = ctx.Queue()
    p = ctx.Process(target=w.access_after_signal, args=(share, go, out))  # type: ignore[attr-defined]
    p.start()
    try:
        assert out.get(timeout=120) == "connected"
        _kill_coordinator(share)
        go.set()
        assert out.get(timeout=120) == "no error"
        assert share.counter == 1
    except queue.Empty:
        pytest.fail("the child did not report")
    finally:
        p.join(60)
        if p.is_alive():
            p.kill()
            p.join(10)
        share.stop()
    assert p.exitcode == 0


def test_an_exiting_process_waits_bounded_when_no_coordinator_comes_back(tmp_path: Path) -> None:
    """A process exits while its write is uncommitted and the owner cannot restart the dead
    coordinator (here: its lock is held): the exit waits ``EXIT_FLUSH_WAIT`` (1 s here), not the
    60 s an access waits for a restart, and says on stderr that the write may be lost."""
    share = Share()
    share.counter = 0
    owner = share._sk_owner
    assert owner is not None
    ctx = get_context()
    go = ctx.Event()
    out = ctx.Queue()
    said = tmp_path / "stderr.txt"
    p = ctx.Process(target=w.write_then_exit, args=(share, go, out, 1.0, str(said)))  # type: ignore[attr-defined]
    p.start()
    try:
        assert out.get(timeout=120) == "connected"
        coordinator = owner.proc
        os.kill(coordinator.pid, signal.SIGSTOP)  # receives the write, never commits it
        go.set()
        assert out.get(timeout=120) == "written"
        with owner.lock:  # no restart while held
            os.kill(coordinator.pid, signal.SIGKILL)
            coordinator.wait(30)
            started = time.monotonic()
            p.join(120)
            exited_after = time.monotonic() - started
        assert p.exitcode == 0
        assert exited_after < 20, exited_after  # 60 s before: the exit waited for a restart
        assert "1 write(s) of this process" in said.read_text(encoding="utf-8")
        assert owner.wait_restarted(1, 60)
        share.other = 1  # the Share works on (reading share.counter would wait ~10 s for the
        assert share.other == 1  # coordinator to count the lost write as applied)
    finally:
        if p.is_alive():
            p.kill()
            p.join(10)
        share.stop()


def test_stopped_share_raises_in_other_handles() -> None:
    share = Share()
    share.counter = 3
    other = pickle.loads(pickle.dumps(share))
    assert other.counter == 3
    share.stop()
    with pytest.raises(ShareError, match="stopped"):
        other.counter  # noqa: B018


def test_only_the_owner_controls_the_lifecycle() -> None:
    share = Share()
    try:
        other = pickle.loads(pickle.dumps(share))
        with pytest.raises(ShareError, match="created"):
            other.stop()
        with pytest.raises(ShareError, match="created"):
            other.start()
        assert other.is_running
        assert not other.has_error
    finally:
        share.stop()


def test_unpickling_a_share_that_is_gone_raises_share_error() -> None:
    share = Share()
    data = pickle.dumps(share)
    share.stop()
    ghost = pickle.loads(data)
    with pytest.raises(ShareError):
        ghost.counter  # noqa: B018
    assert ghost.is_running is False


def test_coordinator_exits_when_its_owner_dies_and_segments_are_reclaimed(tmp_path: Path) -> None:
    script = tmp_path / "owner.py"
    script.write_text(
        textwrap.dedent(
            """
            import os, sys
            from suitkaise_processing import Share
            share = Share()
            share.x = [1, 2, 3]
            print(share._sk_owner.proc.pid, share._sk_id(), share._sk_info.address, flush=True)
            os.kill(os.getpid(), 9)  # dies without any cleanup
            """
        )
    )
    proc = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120
    )
    pid_text, share_id, address = proc.stdout.split()
    coordinator = int(pid_text)
    try:
        psutil.Process(coordinator).wait(60)
    except psutil.NoSuchProcess:
        pass
    assert (
        not psutil.pid_exists(coordinator)
        or psutil.Process(coordinator).status() == psutil.STATUS_ZOMBIE
    )
    deadline = time.monotonic() + 60
    while _our_segments(share_id) and time.monotonic() < deadline:
        time.sleep(0.2)  # the coordinator and the dead owner's resource tracker reclaim them
    assert _our_segments(share_id) == []
    assert not os.path.exists(os.path.dirname(address))  # socket folder removed by the coordinator


def test_ctrl_c_in_the_owner_reaches_the_user_and_leaves_nothing_running(tmp_path: Path) -> None:
    script = tmp_path / "busy.py"
    script.write_text(
        textwrap.dedent(
            """
            from suitkaise_processing import Share
            share = Share()
            share.counter = 0
            share.items = []
            print(share._sk_owner.proc.pid, share._sk_id(), flush=True)
            while True:
                share.counter += 1
                share.items.append(share.counter)
                if len(share.items) > 1000:
                    share.items.clear()
            """
        )
    )
    proc = subprocess.Popen(
        [sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        pid_text, share_id = proc.stdout.readline().split()
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    assert "KeyboardInterrupt" in err
    coordinator = int(pid_text)
    try:
        psutil.Process(coordinator).wait(60)
    except psutil.NoSuchProcess:
        pass
    assert (
        not psutil.pid_exists(coordinator)
        or psutil.Process(coordinator).status() == psutil.STATUS_ZOMBIE
    )
    deadline = time.monotonic() + 60
    while _our_segments(share_id) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _our_segments(share_id) == []


def test_attribute_name_too_long_is_refused_clearly() -> None:
    with Share() as share:
        with pytest.raises(ValueError, match="longer than 64 bytes"):
            setattr(share, "x" * 65, 1)
        share.ok = 1
        assert share.ok == 1


def test_handles_follow_a_stop_and_start_of_the_share() -> None:
    share = Share()
    try:
        share.counter = 1
        other = pickle.loads(pickle.dumps(share))  # stands for another process's handle
        assert other.counter == 1
        share.stop()
        with pytest.raises(ShareError):
            other.counter  # noqa: B018
        with pytest.raises(ShareError):
            other.counter += 1
        share.start()
        assert other.counter == 1
        other.counter += 1
        assert share.counter == 2
    finally:
        share.stop()


def test_pool_workers_keep_working_across_a_restart() -> None:
    from suitkaise_processing import Pool

    share = Share()
    try:
        share.counter = 0
        share.seen = []
        with Pool(workers=2) as pool:
            pool.map(w.pool_increment, [share] * 10)
            share.stop()
            share.start()
            pool.map(w.pool_increment, [share] * 10)  # the same workers reconnect
        assert share.counter == 20
    finally:
        share.stop()


def test_values_the_coordinator_cannot_rebuild_fail_clearly_and_nothing_hangs() -> None:
    with Share() as share:
        with pytest.raises(Exception, match="cannot be rebuilt"):
            share.bad = w.Unloadable()  # a new name waits for the answer
        share.items = [1]
        share.items.append(w.Unloadable())  # sent without waiting

        def keep_reading() -> None:
            for _ in range(100_000):
                assert share.items == [1]  # the failed write counts as done: reads do not hang

        with pytest.raises(Exception, match="cannot be rebuilt"):
            keep_reading()  # its error reaches the writer at a later access
        share.items.append(2)
        assert share.items == [1, 2]
        assert not share.has_error


def test_new_processes_connect_while_the_coordinator_is_being_replaced() -> None:
    from suitkaise_processing import Pool

    share = Share()
    try:
        share.counter = 0
        share.seen = []
        _kill_coordinator(share)
        with Pool(workers=2) as pool:
            pool.map(
                w.pool_increment, [share] * 2
            )  # fresh workers: they connect during the restart
        assert share.counter == 2
    finally:
        share.stop()
