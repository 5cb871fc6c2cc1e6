"""The demo's building blocks, called in this process: the closures it sends to Pool workers and its
timer table. (``test_demo.py`` runs the whole demo in a child, where these run inside workers.)"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import suitkaise.processing
from shared_counter import SharedMemoryCounter
from sktiming import Sktimer
from suitkaise._private import demo
from suitkaise_processing.concurrency import LocalLock, LocalSemaphore


def test_prime_counter_counts_primes_and_bumps_the_shared_counter() -> None:
    counter = SharedMemoryCounter(
        "items_done", create=True, run_id=f"test-demo-{os.getpid()}", width=8
    )
    try:
        count_primes = demo.make_prime_counter(counter)
        assert count_primes((0, 30)) == 10  # 2 3 5 7 11 13 17 19 23 29
        assert count_primes((30, 50)) == 5  # 31 37 41 43 47
        assert counter.value == 2  # one bump per chunk
    finally:
        counter.unlink()


def test_locked_worker_logs_whole_lines_and_leaves_the_section_empty(tmp_path: Path) -> None:
    state, log = tmp_path / "state", tmp_path / "log"
    state.write_text("0 0")
    lock = LocalLock(f"test-demo-lock-{os.getpid()}")
    sem = LocalSemaphore(2, name=f"test-demo-sem-{os.getpid()}")
    work = demo.make_locked_worker(lock, sem, str(state), str(log))
    results = [work(item) for item in range(3)]
    assert log.read_text().splitlines() == [f"item {i} from worker {os.getpid()}" for i in range(3)]
    assert state.read_text() == "0 1"  # one at a time here: inside back to 0, peak 1
    pid, lock_stats, sem_stats = results[-1]
    assert pid == os.getpid()
    assert lock_stats.acquisitions == 9  # per item: enter, leave (state) and the log line
    assert sem_stats.acquisitions == 3


def test_timer_table_shows_a_dash_for_a_timer_without_times() -> None:
    timed = Sktimer()
    timed.add_time(0.002)
    table = demo._table({"empty": Sktimer(), "timed": timed})
    header, rule, empty_row, timed_row = table.splitlines()
    assert header.split() == ["timer", "n", "mean", "median", "min", "max", "total"]
    assert set(rule) == {"-"}
    assert empty_row.split()[:2] == ["empty", "0"]
    assert "-" in empty_row.split()[2:]
    assert timed_row.split()[:3] == ["timed", "1", "2.00"]


def test_kit_module_lists_the_package_names() -> None:
    assert dir(suitkaise.processing) == sorted(suitkaise.processing.__all__)
    with pytest.raises(AttributeError, match="no attribute 'NotAThing'"):
        suitkaise.processing.NotAThing  # noqa: B018
