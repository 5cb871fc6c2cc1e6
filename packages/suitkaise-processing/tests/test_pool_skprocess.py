"""Skprocess classes as Pool items: one instance per item, run inside a worker with its lifecycle."""

from __future__ import annotations

import time

import pool_workers as w
import pytest

from suitkaise_processing import Pool, ProcessTimeoutError, RunError

pytestmark = pytest.mark.timeout(120)


def test_howto_process_item_example(pool: Pool) -> None:
    items = list(range(12))
    assert pool.map(w.ProcessItem, items) == [x * x for x in items]


def test_every_method_takes_skprocess_classes(pool: Pool) -> None:
    assert list(pool.imap(w.ProcessItem, range(5))) == [0, 1, 4, 9, 16]
    assert sorted(pool.unordered_map(w.ProcessItem, range(5))) == [0, 1, 4, 9, 16]
    assert sorted(pool.unordered_imap(w.ProcessItem, range(5))) == [0, 1, 4, 9, 16]
    assert pool.star().map(w.AddProcess, [(1, 2), (3, 4)]) == [3, 7]
    assert pool.map.timeout(30.0)(w.ProcessItem, [3]) == [9]


def test_runs_are_honoured(pool: Pool) -> None:
    assert pool.map(w.CountingProcess, [1, 5, 10]) == [1, 5, 10]


def test_no_process_per_item(pool: Pool) -> None:
    pids = set(pool._engine.worker_pids())
    assert pool.map(w.ProcessItem, range(30)) == [x * x for x in range(30)]
    assert set(pool._engine.worker_pids()) == pids


def test_lives_retry_inside_the_worker(pool: Pool) -> None:
    assert pool.map(w.FlakyProcess, [1, 2, 3]) == [1, 2, 3]


def test_section_error_reaches_the_caller(pool: Pool) -> None:
    with pytest.raises(RunError) as info:
        pool.map(w.FailingProcess, [0, 1])
    assert isinstance(info.value.original_error, KeyError)
    assert info.value.remote_traceback
    assert "run failed" in info.value.remote_traceback


def test_section_timeout_kills_and_replaces_the_worker(pool: Pool) -> None:
    started = time.monotonic()
    results = pool.imap(w.SlowSectionProcess, range(4))
    assert next(results) == 0
    with pytest.raises(ProcessTimeoutError) as info:
        next(results)
    assert info.value.section == "__run__"
    assert info.value.timeout == pytest.approx(1.0)
    assert time.monotonic() - started < 60
    assert pool.map(w.ProcessItem, range(4)) == [0, 1, 4, 9]
    assert len(pool._engine.worker_pids()) == 2


def test_section_timeout_costs_a_life_and_resumes(pool: Pool, tmp_path: object) -> None:
    results = pool.star().map(w.TimeoutThenRecover, [(i, str(tmp_path)) for i in range(3)])
    # item 1 timed out in its second run, lost a life, and resumed from the start of that run:
    # its run 0 ran once only
    assert results == [(0, 20, 1), (1, 20, 1), (2, 20, 1)]


def test_error_handler_runs_when_lives_are_out_after_a_timeout(pool: Pool) -> None:
    assert pool.map(w.TimeoutWithHandler, range(3)) == [
        "ok 0",
        "handled ProcessTimeoutError for 1",
        "ok 2",
    ]


@pytest.mark.timeout(180)
def test_an_skprocess_may_use_a_pool() -> None:
    assert w.UsesAPool(10).run() == 90


@pytest.mark.timeout(180)
def test_an_skprocess_item_may_use_a_pool(pool: Pool) -> None:
    assert pool.map(w.UsesAPool, [3, 4]) == [6, 12]


def test_section_timeout_is_enforced_while_nobody_waits(pool: Pool) -> None:
    """The caller does not call next() for a while: the overdue worker is killed anyway."""
    from multiprocessing.connection import wait

    workers = list(pool._engine._res.procs.values())
    results = pool.imap(w.SlowSectionProcess, [0, 1])  # item 1 blocks in __run__ (timeout 1 s)
    assert next(results) == 0  # both items were handed out; now nobody waits on the pool
    # wait for a worker to end, on the process sentinels only (this neither pumps nor reaps)
    assert wait([proc.sentinel for proc in workers], timeout=60)
    with pytest.raises(ProcessTimeoutError):
        next(results)
