"""The Pool's behaviour on both backends: local worker processes and a Dask cluster (``Pool(cluster=...)``).

Every test takes ``pool_factory`` (conftest), parametrized over ``local`` and ``dask``: the same
calls, modifiers, errors, lambdas, ``Skprocess`` items and ``Share`` arguments must behave the same.
"""

from __future__ import annotations

import asyncio
import io
import itertools
import logging
import os
import socket
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import dask_items as d
import pool_workers as w
import pytest

from suitkaise_processing import Pool, PoolError, PoolTimeoutError, RunError, Share
from suitkaise_processing._private.wire import RemoteTraceback

pytestmark = pytest.mark.timeout(180)

PoolFactory = Callable[..., Pool]
ITEMS = list(range(40))
DOUBLED = [x * 2 for x in ITEMS]
ARGS = [(1, 2), (3, 4), (5, 6)]


async def _await(awaitable: Any) -> Any:
    return await awaitable


async def _async_list(results: Any) -> list[Any]:
    return [value async for value in results]


def test_every_mode(pool_factory: PoolFactory) -> None:
    pool = pool_factory()
    assert pool.map(w.double, ITEMS) == DOUBLED
    assert list(pool.imap(w.double, ITEMS)) == DOUBLED
    assert sorted(pool.unordered_map(w.double, ITEMS)) == DOUBLED
    assert sorted(pool.unordered_imap(w.double, ITEMS)) == DOUBLED
    assert pool.map(w.double, []) == []
    assert pool.workers == 2


def test_star_in_every_mode(pool_factory: PoolFactory) -> None:
    star = pool_factory().star()
    assert star.map(w.add, ARGS) == [3, 7, 11]
    assert list(star.imap(w.add, ARGS)) == [3, 7, 11]
    assert sorted(star.unordered_map(w.add, ARGS)) == [3, 7, 11]
    assert sorted(star.unordered_imap(w.add, ARGS)) == [3, 7, 11]


def test_modifiers(pool_factory: PoolFactory) -> None:
    pool = pool_factory()
    assert pool.map.timeout(60.0)(w.double, ITEMS) == DOUBLED
    assert pool.map.background()(w.double, ITEMS).result(timeout=60) == DOUBLED
    assert asyncio.run(_await(pool.map.asynced()(w.double, ITEMS))) == DOUBLED
    assert sorted(pool.unordered_map.background()(w.double, ITEMS).result(timeout=60)) == DOUBLED
    assert list(pool.imap.timeout(60.0)(w.double, ITEMS)) == DOUBLED
    assert pool.imap.background()(w.double, ITEMS).result(timeout=60) == DOUBLED
    assert asyncio.run(_await(pool.imap.asynced()(w.double, ITEMS))) == DOUBLED
    assert (
        sorted(asyncio.run(_async_list(pool.unordered_imap.asynced()(w.double, ITEMS)))) == DOUBLED
    )
    assert pool.star().map.timeout(60.0).background()(w.add, ARGS).result(timeout=60) == [3, 7, 11]


def test_lambdas_and_closures(pool_factory: PoolFactory) -> None:
    pool = pool_factory()
    factor = 3
    offsets = {"a": 10}

    def scaled(x: int) -> int:
        return x * factor + offsets["a"]

    assert pool.map(lambda x: x * factor, range(10)) == [x * 3 for x in range(10)]
    assert pool.map(scaled, range(10)) == [x * 3 + 10 for x in range(10)]
    assert pool.star().map(lambda a, b: a * b, ARGS) == [2, 12, 30]


def test_map_raises_the_first_failing_item_with_its_remote_traceback(
    pool_factory: PoolFactory,
) -> None:
    pool = pool_factory()
    with pytest.raises(w.ItemError) as info:
        pool.map(w.fail_on_3_and_7, range(20))
    assert info.value.index == 3  # the first failing item in input order
    assert isinstance(info.value, RuntimeError)  # 0.4's `except RuntimeError` keeps working
    cause = info.value.__cause__
    assert isinstance(cause, RemoteTraceback)
    assert "fail_at" in cause.tb
    assert "item 3 is bad" in cause.tb
    # the pool is still usable
    assert pool.map(w.double, range(5)) == [0, 2, 4, 6, 8]


def test_iterators_yield_results_before_the_error(pool_factory: PoolFactory) -> None:
    pool = pool_factory(chunksize=1)
    results = pool.imap(w.fail_on_7, range(20))
    assert list(itertools.islice(results, 7)) == [x * 2 for x in range(7)]
    with pytest.raises(w.ItemError):
        next(results)
    with pytest.raises(StopIteration):
        next(results)


def test_base_exceptions_become_pool_errors(pool_factory: PoolFactory) -> None:
    with pytest.raises(PoolError, match="SystemExit"):
        pool_factory().map(w.sys_exit_at_1, range(4))


def test_unsendable_result_fails_its_item(pool_factory: PoolFactory) -> None:
    with pytest.raises(PoolError, match="result of item 4 could not be serialized"):
        pool_factory().map(w.unpicklable_result_at_4, range(8))


def test_unsendable_argument_fails_its_item(pool_factory: PoolFactory) -> None:
    pool = pool_factory(chunksize=4)
    items: list[Any] = [1, 2, w.Unpicklable(), 4]
    with pytest.raises(PoolError, match="argument of item 2 could not be serialized"):
        pool.map(w.identity, items)


def test_imap_reads_its_input_lazily(pool_factory: PoolFactory) -> None:
    pool = pool_factory()
    taken: list[int] = []

    def source() -> Iterator[int]:
        for i in range(100_000):
            taken.append(i)
            yield i

    results = pool.imap(w.double, source())
    assert list(itertools.islice(results, 5)) == [0, 2, 4, 6, 8]
    assert len(taken) < 100_000  # a bounded read-ahead, not the whole input
    results.close()


def test_map_timeout(pool_factory: PoolFactory) -> None:
    pool = pool_factory(chunksize=1)
    with pytest.raises(PoolTimeoutError):
        pool.map.timeout(0.5)(d.sleep_then_double, [0.0, 5.0, 0.0])
    assert pool.map(w.double, [1, 2]) == [2, 4]


def test_imap_timeout_bounds_each_wait(pool_factory: PoolFactory) -> None:
    pool = pool_factory(chunksize=1)
    results = pool.imap.timeout(0.5)(d.sleep_then_double, [0.0, 5.0])
    assert next(results) == 0.0
    with pytest.raises(PoolTimeoutError):
        next(results)


def test_skprocess_classes_as_items(pool_factory: PoolFactory) -> None:
    pool = pool_factory()
    assert pool.map(w.ProcessItem, range(6)) == [x * x for x in range(6)]
    assert pool.star().map(w.AddProcess, [(1, 2), (3, 4)]) == [3, 7]
    assert pool.map(w.CountingProcess, [1, 5]) == [1, 5]
    assert pool.map(w.FlakyProcess, [1, 2]) == [1, 2]  # lives: retried inside the worker
    with pytest.raises(RunError) as info:
        pool.map(w.FailingProcess, [0, 1])
    assert isinstance(info.value.original_error, KeyError)


def test_share_arguments(pool_factory: PoolFactory) -> None:
    share = Share()
    try:
        share.total = 0
        pool = pool_factory()
        assert pool.star().map(d.add_to_share, [(share, i) for i in range(30)]) == list(range(30))
        assert share.total == sum(range(30))
    finally:
        share.stop()


def test_initializer_runs_in_each_worker(pool_factory: PoolFactory) -> None:
    pool = pool_factory(initializer=w.set_init_value, initargs=("ready",))
    assert set(pool.map(w.read_init_value, range(10))) == {"ready"}


def test_initializer_failure_breaks_the_pool(pool_factory: PoolFactory) -> None:
    pool = pool_factory(initializer=w.failing_initializer)
    with pytest.raises(PoolError, match="initializer"):
        pool.map(w.double, range(4))


def test_progress_bar_counts_every_item(
    pool_factory: PoolFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    stream = io.StringIO()
    monkeypatch.setattr("sys.stderr", stream)
    pool = pool_factory(progress=True)
    assert pool.map(w.double, range(50)) == [x * 2 for x in range(50)]
    assert "50/50" in stream.getvalue()


def test_close_lets_started_work_finish(pool_factory: PoolFactory) -> None:
    pool = pool_factory()
    future = pool.map.background()(d.sleep_then_double, [0.2, 0.2, 0.2])
    pool.close()
    assert future.result(timeout=60) == [0.4, 0.4, 0.4]
    with pytest.raises(PoolError, match="closed"):
        pool.map(w.double, [1])


def test_terminate_fails_running_calls(pool_factory: PoolFactory) -> None:
    pool = pool_factory(chunksize=1)
    # Items 1 hold until the listener closes, so they are still running (or queued behind each
    # other) at terminate() however loaded the machine is; closing it afterwards frees their threads
    # on Dask, which cannot stop a task. At most two items hold (two workers / two Dask threads) and
    # the imap's quick item 0 has run before the second holder is submitted.
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        results = pool.star().imap(d.double_or_hold, [(0, port), (1, port)])
        assert next(results) == 0
        future = pool.star().map.background()(d.double_or_hold, [(1, port)])
        pool.terminate()
        with pytest.raises(PoolError, match="terminated"):
            future.result(timeout=60)
        with pytest.raises(PoolError, match="terminated"):
            next(results)


def test_submit_single_calls(pool_factory: PoolFactory) -> None:
    pool = pool_factory()
    futures = [pool.submit(w.add, i, 10) for i in range(6)]
    assert [f.result(timeout=120) for f in futures] == [i + 10 for i in range(6)]
    failing = pool.submit(w.fail_on_7, 7)
    assert isinstance(failing.exception(timeout=120), w.ItemError)


def test_calls_from_several_threads(pool_factory: PoolFactory) -> None:
    pool = pool_factory()
    with ThreadPoolExecutor(4) as threads:
        lists = [threads.submit(pool.map, w.double, range(i * 50, i * 50 + 50)) for i in range(3)]
        ordered = threads.submit(lambda: list(pool.imap(w.double, range(100))))
        assert [f.result(timeout=120) for f in lists] == [
            [x * 2 for x in range(i * 50, i * 50 + 50)] for i in range(3)
        ]
        assert ordered.result(timeout=120) == [x * 2 for x in range(100)]


def test_a_call_finishes_when_another_callers_wait_times_out(pool_factory: PoolFactory) -> None:
    pool = pool_factory(chunksize=1)
    with ThreadPoolExecutor(2) as threads:
        slow = pool.imap.timeout(0.3)(d.sleep_then_double, [3.0])
        timed_out = threads.submit(next, slow)
        waiting = threads.submit(pool.map, d.sleep_then_double, [0.5, 0.5])
        with pytest.raises(PoolTimeoutError):
            timed_out.result(timeout=120)
        assert waiting.result(timeout=120) == [1.0, 1.0]


def test_item_log_records_reach_the_parents_handlers(
    pool_factory: PoolFactory, backend: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)  # the parent's level when the pool starts: the workers' too
    assert pool_factory().map(d.log_at_three_levels, range(6)) == list(range(6))
    records = [r for r in caplog.records if r.name == "dask_items.items"]
    assert sorted((r.levelname, r.getMessage()) for r in records) == sorted(
        (level.upper(), f"item {i} at {level}") for i in range(6) for level in ("info", "warning")
    )
    assert {r.process for r in records}.isdisjoint({os.getpid(), None})  # logged in a worker
    if backend == "dask":
        assert all(str(getattr(r, "worker", "")).startswith("tcp://127.0.0.1:") for r in records)


def test_forward_logs_false_keeps_item_records_in_the_workers(
    pool_factory: PoolFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    assert pool_factory(forward_logs=False).map(d.log_at_three_levels, range(4)) == list(range(4))
    assert not [r for r in caplog.records if r.name == "dask_items.items"]
