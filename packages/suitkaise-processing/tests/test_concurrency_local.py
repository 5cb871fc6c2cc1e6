"""LocalLock across threads and real processes: exclusion, dead holders, files, pickling, stats, async."""

from __future__ import annotations

import asyncio
import hashlib
import multiprocessing as mp
import os
import pickle
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import concurrency_workers as workers
import pytest

from suitkaise_processing._private.concurrency.files import lock_dir
from suitkaise_processing.concurrency import (
    BaseLock,
    LocalLock,
    LockError,
    LockNotHeldError,
    LockTimeoutError,
)

CTX = mp.get_context("forkserver")  # arguments are pickled, as under spawn


def _files_of(lock_name_prefix: str) -> list[Path]:
    directory = Path(lock_dir())
    return sorted(p for p in directory.iterdir() if p.name.startswith(lock_name_prefix))


def test_basic_acquire_release_locked_and_errors() -> None:
    lock = LocalLock("t-basic")
    assert isinstance(lock, BaseLock)
    assert not lock.locked()
    assert lock.acquire()
    assert lock.locked()
    assert not lock.acquire(blocking=False)
    assert not lock.acquire(timeout=0.01)
    lock.release()
    with pytest.raises(LockNotHeldError):
        lock.release()
    assert issubclass(LockNotHeldError, RuntimeError)
    assert issubclass(LockTimeoutError, TimeoutError)
    assert issubclass(LockTimeoutError, LockError)
    with pytest.raises(ValueError):
        lock.acquire(blocking=False, timeout=1)
    with pytest.raises(ValueError):
        lock.acquire(timeout=-1)


@pytest.mark.parametrize("bad", ["", "x" * 201, "a\0b"])
def test_bad_names_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        LocalLock(bad)


def test_same_name_is_the_same_lock_across_threads() -> None:
    a, b = LocalLock("t-threads"), LocalLock("t-threads")
    inside = 0
    worst = 0
    guard = threading.Lock()

    def work(lock: LocalLock) -> None:
        nonlocal inside, worst
        for _ in range(2000):
            with lock:
                with guard:
                    inside += 1
                    worst = max(worst, inside)
                with guard:
                    inside -= 1

    threads = [threading.Thread(target=work, args=(lock,)) for lock in (a, b, a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert worst == 1
    assert a.stats.acquisitions + b.stats.acquisitions == 8000


def test_unnamed_lock_is_unique_and_still_excludes_threads() -> None:
    a, b = LocalLock(), LocalLock()
    assert a.name != b.name
    a.acquire()
    assert b.acquire(blocking=False)  # a different lock
    b.release()
    got: list[bool] = []
    t = threading.Thread(target=lambda: got.append(a.acquire(timeout=0.05)))
    t.start()
    t.join()
    assert got == [False]
    a.release()


def test_reentrant_lock() -> None:
    lock = LocalLock("t-reentrant", reentrant=True)
    with lock:
        with lock:
            assert lock.locked()
        got: list[bool] = []
        t = threading.Thread(target=lambda: got.append(lock.acquire(timeout=0.05)))
        t.start()
        t.join()
        assert got == [False]
    with pytest.raises(LockNotHeldError):
        lock.release()


def test_hold_with_timeout_raises_lock_timeout_error() -> None:
    lock = LocalLock("t-hold")
    with lock.hold(timeout=1):
        other = LocalLock("t-hold")
        t_errors: list[BaseException] = []

        def try_hold() -> None:
            try:
                with other.hold(timeout=0.05):
                    pass
            except LockTimeoutError as exc:
                t_errors.append(exc)

        t = threading.Thread(target=try_hold)
        t.start()
        t.join()
        assert len(t_errors) == 1
        assert "raise the timeout" in str(t_errors[0])
    assert other.stats.timeouts == 1


def test_stats_count_contention_and_holds() -> None:
    lock = LocalLock("t-stats")
    holding, go = threading.Event(), threading.Event()

    def holder() -> None:
        with lock:
            holding.set()
            go.wait(10)

    t = threading.Thread(target=holder)
    t.start()
    holding.wait(10)
    threading.Timer(0.02, go.set).start()
    with lock:
        pass
    t.join()
    s = lock.stats
    assert s.acquisitions == 2
    assert s.contended == 1
    assert s.max_wait > 0.0
    assert s.total_wait >= s.max_wait
    assert s.p99_wait > 0.0
    assert s.p50_wait == 0.0
    assert s.max_hold > 0.0
    assert s.mean_hold > 0.0


def test_async_acquire_does_not_block_the_loop() -> None:
    lock = LocalLock("t-async")

    async def main() -> tuple[bool, int]:
        lock.acquire()
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0)

        tick_task = asyncio.create_task(ticker())
        got = await lock.acquire_async(timeout=0.05)  # held by us (another "thread" of control)
        lock.release()
        async with lock:
            pass
        async with lock.hold_async(timeout=1):
            pass
        tick_task.cancel()
        return got, ticks

    got, ticks = asyncio.run(main())
    assert got is False
    assert ticks > 5


def test_pickles_by_name() -> None:
    lock = LocalLock("t-pickle", reentrant=True)
    clone = pickle.loads(pickle.dumps(lock))
    assert clone.name == lock.name
    assert clone.reentrant
    with lock:
        assert clone.locked()


def test_files_are_owner_only_and_removed_with_the_last_user() -> None:
    directory = Path(lock_dir())
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    before = set(os.listdir(directory))
    lock = LocalLock("t-files")
    new = set(os.listdir(directory)) - before
    assert len(new) == 2  # the presence file and the lock file
    for name in new:
        assert stat.S_IMODE((directory / name).stat().st_mode) == 0o600
    del lock
    assert not (new & set(os.listdir(directory)) if directory.exists() else set())


@pytest.mark.timeout(90)
def test_four_processes_read_modify_write_exactly(tmp_path: Path) -> None:
    counter = tmp_path / "counter"
    counter.write_text("0")
    lock = LocalLock("t-rmw")
    start = CTX.Event()
    procs = [
        CTX.Process(target=workers.increment_file, args=(lock, str(counter), 300, start))
        for _ in range(4)
    ]
    for p in procs:
        p.start()
    start.set()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    assert counter.read_text() == "1200"


@pytest.mark.timeout(60)
def test_sigkilled_holder_never_leaves_the_lock_held() -> None:
    lock = LocalLock("t-kill")
    holding, never = CTX.Event(), CTX.Event()
    child = CTX.Process(target=workers.hold_until_killed, args=(lock, holding, never))
    child.start()
    try:
        assert holding.wait(30)
        assert not lock.acquire(blocking=False)
        waiter_got: list[float] = []
        waiting = threading.Event()

        def waiter() -> None:
            waiting.set()
            lock.acquire()  # blocks in the kernel until the holder is gone
            waiter_got.append(time.perf_counter())

        t = threading.Thread(target=waiter)
        t.start()
        waiting.wait(10)
        killed_at = time.perf_counter()
        os.kill(child.pid, signal.SIGKILL)  # type: ignore[arg-type]
        t.join(10)
        assert waiter_got, "the lock of a SIGKILLed holder was not released"
        handover = waiter_got[0] - killed_at
        print(f"next acquirer got the dead holder's lock {handover * 1e3:.2f} ms after SIGKILL")
        assert handover < 5.0
        lock.release()
    finally:
        child.join(10)


@pytest.mark.timeout(60)
# the test process has helper threads (pytest-timeout, earlier tests): this child only takes a lock
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_forked_child_starts_with_the_lock_free_of_the_parents_hold() -> None:
    lock = LocalLock("t-fork")
    fork = mp.get_context("fork")
    with lock:
        # the child inherits the object (not pickled) while the parent holds the lock
        child = fork.Process(target=_child_tries, args=(lock,))
        child.start()
        child.join(30)
        assert child.exitcode == 3  # busy: the parent holds it; the child did not inherit the hold
    child = fork.Process(target=_child_tries, args=(lock,))
    child.start()
    child.join(30)
    assert child.exitcode == 0


def _child_tries(lock: LocalLock) -> None:
    if not lock.acquire(timeout=0.2):
        os._exit(3)
    lock.release()
    os._exit(0)


@pytest.mark.timeout(90)
def test_files_of_a_killed_process_are_swept_by_the_next_process() -> None:
    holding, never = CTX.Event(), CTX.Event()
    child = CTX.Process(
        target=workers.hold_until_killed, args=(LocalLock("t-sweep-only-child"), holding, never)
    )
    child.start()
    assert holding.wait(30)
    os.kill(child.pid, signal.SIGKILL)  # type: ignore[arg-type]
    child.join(10)
    # the parent dropped its object after pickling it; the killed child could not clean up
    key = hashlib.sha256(b"t-sweep-only-child").hexdigest()[:40]
    assert any(key in name for name in os.listdir(lock_dir()))
    code = (
        "import os\n"
        "from suitkaise_processing.concurrency import LocalLock\n"
        "from suitkaise_processing._private.concurrency.files import lock_dir\n"
        "LocalLock('t-sweep-other')\n"
        "print(' '.join(os.listdir(lock_dir())))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert not any(key in name for name in out.stdout.split())  # swept by the new process


def test_a_lock_directory_that_is_not_private_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "suitkaise-locks").mkdir(mode=0o755)
    os.chmod(tmp_path / "suitkaise-locks", 0o755)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    with pytest.raises(LockError, match="mode 0700"):
        lock_dir()


def test_a_finalizer_that_runs_inside_the_table_lock_does_not_deadlock() -> None:
    """A collection inside attach/detach can run a dropped lock's finalizer (detach) on the same thread."""
    from suitkaise_processing._private.concurrency import files

    outcome: list[bool] = []

    def drop_a_lock_while_the_table_is_locked() -> None:
        with files._table_lock:
            lock = LocalLock("finalizer-reentry")
            lock.acquire()
            lock.release()
            del lock  # its weakref finalizer calls detach() here, with the table lock held
            outcome.append(True)

    worker = threading.Thread(target=drop_a_lock_while_the_table_is_locked, daemon=True)
    worker.start()
    worker.join(10)
    assert not worker.is_alive(), "detach() from a finalizer deadlocked on the table lock"
    assert outcome == [True]
    assert not any(key[1] == "finalizer-reentry" for key in files._table)
