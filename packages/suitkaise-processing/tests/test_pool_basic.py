"""Pool: every example of the how-to with real small functions, plus the options users expect."""

from __future__ import annotations

import asyncio
import io
import logging
import operator
from collections.abc import Iterator

import pool_workers as w
import pytest

from suitkaise_processing import Pool, PoolError
from suitkaise_processing._private.pool._progress import Progress

pytestmark = pytest.mark.timeout(120)


ITEMS = list(range(20))
DOUBLED = [x * 2 for x in ITEMS]
ARGS = [(1, 2), (3, 4)]


def test_map_basic(pool: Pool) -> None:
    assert pool.map(w.double, ITEMS) == DOUBLED


def test_map_star_unpacks(pool: Pool) -> None:
    assert pool.star().map(w.add, [(1, 2), (3, 4)]) == [3, 7]
    # without star the function receives the tuple itself
    assert pool.map(w.identity, [(1, 2), (3, 4)]) == [(1, 2), (3, 4)]


def test_map_modifiers(pool: Pool) -> None:
    assert pool.map.timeout(30.0)(w.double, ITEMS) == DOUBLED
    future = pool.map.background()(w.double, ITEMS)
    assert future.result(timeout=60) == DOUBLED
    assert asyncio.run(_await(pool.map.asynced()(w.double, ITEMS))) == DOUBLED
    future = pool.map.timeout(30.0).background()(w.double, ITEMS)
    assert future.result(timeout=60) == DOUBLED
    assert asyncio.run(_await(pool.map.asynced().timeout(30.0)(w.double, ITEMS))) == DOUBLED


def test_map_star_composes_with_modifiers(pool: Pool) -> None:
    assert pool.star().map.timeout(30.0)(w.add, ARGS) == [3, 7]
    assert pool.star().map.background()(w.add, ARGS).result(timeout=60) == [3, 7]
    assert asyncio.run(_await(pool.star().map.asynced()(w.add, ARGS))) == [3, 7]


def test_unordered_map_and_modifiers(pool: Pool) -> None:
    assert sorted(pool.unordered_map(w.double, ITEMS)) == DOUBLED
    assert sorted(pool.star().unordered_map(w.add, [(1, 2), (3, 4)])) == [3, 7]
    assert sorted(pool.unordered_map.timeout(30.0)(w.double, ITEMS)) == DOUBLED
    assert sorted(pool.unordered_map.background()(w.double, ITEMS).result(timeout=60)) == DOUBLED
    assert sorted(asyncio.run(_await(pool.unordered_map.asynced()(w.double, ITEMS)))) == DOUBLED
    assert sorted(pool.star().unordered_map.timeout(30.0)(w.add, ARGS)) == [3, 7]
    assert sorted(pool.star().unordered_map.background()(w.add, ARGS).result(timeout=60)) == [3, 7]
    assert sorted(asyncio.run(_await(pool.star().unordered_map.asynced()(w.add, ARGS)))) == [3, 7]


def test_imap_and_modifiers(pool: Pool) -> None:
    assert list(pool.imap(w.double, ITEMS)) == DOUBLED
    assert list(pool.star().imap(w.add, [(1, 2), (3, 4)])) == [3, 7]
    assert list(pool.imap.timeout(10.0)(w.double, ITEMS)) == DOUBLED
    future = pool.imap.background()(w.double, ITEMS)
    assert future.result(timeout=60) == DOUBLED  # a list
    assert asyncio.run(_await(pool.imap.asynced()(w.double, ITEMS))) == DOUBLED
    assert list(pool.star().imap.timeout(10.0)(w.add, ARGS)) == [3, 7]
    assert pool.star().imap.background()(w.add, ARGS).result(timeout=60) == [3, 7]
    assert asyncio.run(_await(pool.star().imap.asynced()(w.add, ARGS))) == [3, 7]


def test_unordered_imap_and_modifiers(pool: Pool) -> None:
    assert sorted(pool.unordered_imap(w.double, ITEMS)) == DOUBLED
    assert sorted(pool.star().unordered_imap(w.add, [(1, 2), (3, 4)])) == [3, 7]
    assert sorted(pool.unordered_imap.timeout(30.0)(w.double, ITEMS)) == DOUBLED
    assert sorted(pool.unordered_imap.background()(w.double, ITEMS).result(timeout=60)) == DOUBLED
    assert sorted(asyncio.run(_await(pool.unordered_imap.asynced()(w.double, ITEMS)))) == DOUBLED
    assert sorted(pool.star().unordered_imap.timeout(30.0)(w.add, ARGS)) == [3, 7]
    assert sorted(pool.star().unordered_imap.background()(w.add, ARGS).result(timeout=60)) == [3, 7]
    assert sorted(asyncio.run(_await(pool.star().unordered_imap.asynced()(w.add, ARGS)))) == [3, 7]


def test_asynced_iterators_support_async_for(pool: Pool) -> None:
    async def gather() -> list[int]:
        return [x async for x in pool.imap.asynced()(w.double, ITEMS)]

    assert asyncio.run(gather()) == DOUBLED


def test_star_view_works_with_all_methods(pool: Pool) -> None:
    args_tuples = [(i, i) for i in range(10)]
    expected = [2 * i for i in range(10)]
    assert pool.star().map(w.add, args_tuples) == expected
    assert list(pool.star().imap(w.add, args_tuples)) == expected
    assert sorted(pool.star().unordered_imap(w.add, args_tuples)) == expected
    assert sorted(pool.star().unordered_map(w.add, args_tuples)) == expected
    assert pool.star().map(operator.add, args_tuples) == expected


def test_context_manager_closes_workers() -> None:
    with Pool(workers=2) as pool:
        assert pool.map(w.double, ITEMS) == DOUBLED
        procs = list(pool._engine._res.procs.values())
    assert procs
    assert all(not p.is_alive() for p in procs)
    with pytest.raises(PoolError):
        pool.map(w.double, ITEMS)


def test_close_and_terminate_are_idempotent() -> None:
    pool = Pool(workers=2)
    assert pool.map(w.double, [1, 2]) == [2, 4]
    pool.close()
    pool.close()
    pool.terminate()
    pool.terminate()
    other = Pool(workers=1)
    other.terminate()
    other.terminate()
    other.close()
    with pytest.raises(PoolError, match="create a new Pool"):
        other.map(w.double, [1])


def test_close_finishes_started_iterator_work() -> None:
    pool = Pool(workers=2)
    results = pool.imap(w.square_slowly, range(6))
    first = next(results)
    pool.close()  # lets the chunks in flight finish, then stops the workers
    assert first == 0
    assert list(results) == [1, 4, 9, 16, 25]


def test_workers_reused_across_calls(pool: Pool) -> None:
    pids1 = set(pool.map(w.pid_of, range(50)))
    pids2 = set(pool.map(w.pid_of, range(50)))
    assert pids1 | pids2 <= set(pool._engine.worker_pids())


def test_worker_count_validation() -> None:
    with pytest.raises(ValueError):
        Pool(workers=0)
    with pytest.raises(ValueError):
        Pool(workers=-2)
    with pytest.raises(TypeError):
        Pool(workers=1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Pool(workers=1, chunksize=0)


def test_default_workers_is_cpu_count() -> None:
    import os

    with Pool() as pool:
        assert pool.workers == (
            len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        )


def test_empty_input(pool: Pool) -> None:
    assert pool.map(w.double, []) == []
    assert list(pool.imap(w.double, iter([]))) == []
    assert pool.unordered_map(w.double, ()) == []


def test_generators_sets_and_large_inputs(pool: Pool) -> None:
    assert pool.map(w.double, (x for x in range(1000))) == [x * 2 for x in range(1000)]
    assert sorted(pool.map(w.double, {1, 2, 3})) == [2, 4, 6]
    big = pool.map(w.double, range(50_000))
    assert big == [x * 2 for x in range(50_000)]
    assert list(pool.imap(w.double, (x for x in range(5000)))) == [x * 2 for x in range(5000)]


def test_lambdas_and_closures(pool: Pool) -> None:
    offset = 10
    assert pool.map(lambda x: x + offset, [1, 2, 3]) == [11, 12, 13]

    def make_adder(n: int):  # type: ignore[no-untyped-def]
        def adder(x: int) -> int:
            return x + n

        return adder

    assert pool.map(make_adder(5), [1, 2]) == [6, 7]
    # items that are themselves lambdas travel through cucumber
    assert pool.map(w.identity, [1, "a", None, (1, 2)]) == [1, "a", None, (1, 2)]


def test_chunksize_override_and_results_keep_order() -> None:
    with Pool(workers=2, chunksize=1) as pool:
        assert pool.map(w.double, range(30)) == [x * 2 for x in range(30)]
    with Pool(workers=2, chunksize=1000) as pool:
        assert pool.map(w.double, range(30)) == [x * 2 for x in range(30)]


def test_initializer_runs_in_every_worker() -> None:
    with Pool(workers=2, initializer=w.set_init_value, initargs=("ready",)) as pool:
        assert set(pool.map(w.read_init_value, range(20))) == {"ready"}


def test_progress_counter_without_tqdm(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    stream = io.StringIO()
    progress = Progress("pool.map", 3, stream=stream)
    progress.update(2)
    progress.update(1)
    progress.close()
    progress.close()
    assert stream.getvalue().rstrip().endswith("pool.map: 3/3 items")


def test_progress_true_shows_a_bar(capsys: pytest.CaptureFixture[str]) -> None:
    with Pool(workers=2, progress=True) as pool:
        assert pool.map(w.double, range(40)) == [x * 2 for x in range(40)]
    err = capsys.readouterr().err
    assert "40/40" in err


def test_worker_logs_reach_parent_handlers(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    with Pool(workers=2) as pool:
        assert pool.map(w.log_warning, range(3)) == [0, 1, 2]
    messages = sorted(r.getMessage() for r in caplog.records if r.name == "pool_workers.items")
    assert messages == [f"item {i} says hello" for i in range(3)]


@pytest.mark.timeout(180)
def test_a_pool_item_may_use_a_pool(pool: Pool) -> None:
    assert pool.map(w.nested_sum, [3, 4]) == [6, 12]


def test_lazy_input_is_read_with_a_bounded_buffer(pool: Pool) -> None:
    consumed = 0

    def source() -> Iterator[int]:
        nonlocal consumed
        for i in range(1_000_000):
            consumed += 1
            yield i

    results = pool.imap(w.double, source())
    assert [next(results) for _ in range(10)] == [x * 2 for x in range(10)]
    assert consumed < 200_000  # read ahead a bounded amount, not the whole million
    results.close()


async def _await(awaitable):  # type: ignore[no-untyped-def]
    return await awaitable


def test_per_item_retry_with_sk_functions(pool: Pool) -> None:
    assert pool.map(w.flaky_double.retry(times=2, delay=0.0), range(5)) == [0, 2, 4, 6, 8]
    with pytest.raises(ConnectionError):
        pool.map(w.flaky_double, range(10, 12))


def test_a_pool_cannot_be_sent_to_another_process(pool: Pool) -> None:
    import pickle

    with pytest.raises(TypeError, match="create the Pool inside"):
        pickle.dumps(pool)


class LocalPoint:
    """Defined in a test module: a fresh interpreter cannot import it by name."""

    def __init__(self, x: int) -> None:
        self.x = x


def test_items_of_classes_a_worker_cannot_import(pool: Pool) -> None:
    points = [LocalPoint(i) for i in range(5)]
    assert [p.x for p in pool.map(w.identity, points)] == [0, 1, 2, 3, 4]
    assert pool.map(lambda p: p.x * 2, points) == [0, 2, 4, 6, 8]


# --- close() after a background / asynced call: the call was made first, so it finishes ----------

BIG = range(3000)  # far more than the read-ahead of an iterator over 2 workers


def test_close_lets_background_map_calls_made_before_it_finish() -> None:
    pool = Pool(workers=2)
    try:
        futures = [
            pool.map.background()(w.double, ITEMS),
            pool.unordered_map.background()(w.double, ITEMS),
            pool.star().map.background()(w.add, ARGS),
            pool.star().unordered_map.background()(w.add, ARGS),
            pool.map.timeout(120.0).background()(w.double, ITEMS),
            pool.star().unordered_map.timeout(120.0).background()(w.add, ARGS),
        ]
        pool.close()
        got = [f.result(timeout=60) for f in futures]
    finally:
        pool.terminate()
    assert got[0] == DOUBLED
    assert sorted(got[1]) == DOUBLED
    assert got[2] == [3, 7]
    assert sorted(got[3]) == [3, 7]
    assert got[4] == DOUBLED
    assert sorted(got[5]) == [3, 7]


def test_close_lets_background_iterator_calls_made_before_it_finish() -> None:
    pool = Pool(workers=2)
    try:
        ordered = pool.imap.background()(w.double, BIG)
        unordered = pool.unordered_imap.background()(w.double, iter(BIG))
        starred = pool.star().imap.background()(w.add, [(i, i) for i in BIG])
        pool.close()
        assert ordered.result(timeout=60) == [x * 2 for x in BIG]
        assert sorted(unordered.result(timeout=60)) == [x * 2 for x in BIG]
        assert starred.result(timeout=60) == [x * 2 for x in BIG]
    finally:
        pool.terminate()


def test_close_lets_asynced_calls_made_before_it_finish() -> None:
    pool = Pool(workers=2)

    async def main() -> list[list[int]]:
        awaitables = [
            pool.map.asynced()(w.double, ITEMS),
            pool.unordered_map.asynced()(w.double, ITEMS),
            pool.star().map.asynced()(w.add, ARGS),
            pool.map.asynced().timeout(120.0)(w.double, ITEMS),
            pool.imap.asynced()(w.double, ITEMS),
        ]
        pool.close()  # blocks the loop until the started work is done: fine here
        return [await a for a in awaitables]

    try:
        got = asyncio.run(main())
    finally:
        pool.terminate()
    assert got[0] == DOUBLED
    assert sorted(got[1]) == DOUBLED
    assert got[2] == [3, 7]
    assert got[3] == DOUBLED
    assert got[4] == DOUBLED


def test_background_and_asynced_calls_after_close_fail_in_their_result() -> None:
    pool = Pool(workers=1)
    pool.close()
    future = pool.map.background()(w.double, ITEMS)
    with pytest.raises(PoolError, match="create a new Pool"):
        future.result(timeout=60)
    with pytest.raises(PoolError, match="create a new Pool"):
        asyncio.run(_await(pool.star().unordered_map.asynced()(w.add, ARGS)))


def test_background_map_errors_reach_the_future(pool: Pool) -> None:
    future = pool.map.background()(42, ITEMS)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="first argument"):
        future.result(timeout=60)
    with pytest.raises(ValueError, match="item 7 is bad"):
        pool.map.background()(w.fail_on_7, ITEMS).result(timeout=60)


def test_cancelling_a_background_map_stops_its_workers(pool: Pool) -> None:
    import os
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        fifo = Path(tmp) / "pid"
        os.mkfifo(fifo)
        future = pool.map.background()(w.announce_then_sleep, [str(fifo)])
        with open(fifo) as reader:  # blocks until the item runs
            pid = int(reader.readline())
        assert future.cancel()
        assert future.cancelled()
    # the worker sleeping in the item is replaced; the pool goes on
    assert pool.map(w.double, range(4)) == [0, 2, 4, 6]
    assert pid not in pool._engine.worker_pids()
