"""Only the creator is tracked: connectors never warn nor unlink; a creator's leak is reclaimed."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from shared_counter import CounterNotFoundError, SharedMemoryCounter

Make = Callable[..., SharedMemoryCounter]
SRC = str(Path(__import__("shared_counter").__file__).resolve().parents[1])


def _python(code: str, *, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": SRC}
    return subprocess.run(
        [sys.executable, "-W", "error", "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )


@pytest.mark.timeout(180)
def test_a_process_that_only_connects_never_warns_nor_unlinks(make_counter: Make) -> None:
    counter = make_counter("conn", initial_value=1)
    proc = _python(
        f"""
        import gc
        from multiprocessing import resource_tracker
        from shared_counter import SharedMemoryCounter
        a = SharedMemoryCounter("conn", run_id={counter.run_id!r})
        a.increment()
        b = SharedMemoryCounter("conn", run_id={counter.run_id!r})
        b.value += 1
        with b.get_lock():
            b.value += 1
        b.close()
        del a  # closed by the garbage collector
        gc.collect()
        assert resource_tracker._resource_tracker._pid is None, "a connector started a tracker"
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert counter.value == 4  # still there: the connector did not unlink it


@pytest.mark.timeout(180)
def test_a_creator_that_unlinks_leaves_nothing_and_warns_nothing(run_id: str) -> None:
    proc = _python(
        f"""
        from shared_counter import SharedMemoryCounter
        c = SharedMemoryCounter("tidy", create=True, run_id={run_id!r}, width=8)
        c.increment()
        c.unlink()
        c.unlink()
        c.close()
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    with pytest.raises(CounterNotFoundError):
        SharedMemoryCounter("tidy", run_id=run_id)


@pytest.mark.timeout(180)
def test_a_creator_that_dies_without_unlink_is_cleaned_by_its_resource_tracker(run_id: str) -> None:
    proc = _python(
        f"""
        import os
        from shared_counter import SharedMemoryCounter
        c = SharedMemoryCounter("leak", create=True, run_id={run_id!r})
        c.increment()
        os._exit(0)  # no unlink, no close
        """
    )
    assert proc.returncode == 0, proc.stderr
    # The tracker outlives its process by a moment; it removes the value and both semaphores.
    deadline = time.monotonic() + 60
    while True:
        try:
            leftover = SharedMemoryCounter("leak", run_id=run_id)
        except CounterNotFoundError:
            break
        leftover.close()
        assert time.monotonic() < deadline, (
            "the creator's resource tracker did not reclaim the counter"
        )
        time.sleep(0.05)
    if Path("/dev/shm").is_dir():
        deadline = time.monotonic() + 60
        while {e for e in os.listdir("/dev/shm") if run_id in e}:
            assert time.monotonic() < deadline, os.listdir("/dev/shm")
            time.sleep(0.05)
