"""Pool faults: item exceptions, unserializable values, dead workers, timeouts, a broken initializer."""

from __future__ import annotations

import os
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pool_workers as w
import pytest
from pool_test_helpers import take_all

from suitkaise_processing import (
    Pool,
    PoolError,
    PoolTimeoutError,
    ResultTimeoutError,
    WorkerDiedError,
)
from suitkaise_processing._private.wire import RemoteTraceback

pytestmark = pytest.mark.timeout(120)


def _arrival_check(job: Any, seen: dict[int, object], n: int) -> Callable[[], bool]:
    """A ``run_until`` predicate: files each arrived value/error of ``job`` into ``seen`` by item index,
    true once all ``n`` items have arrived."""

    def all_arrived() -> bool:
        for start, (values, error) in list(job.segments.items()):
            for k, value in enumerate(values):
                seen[start + k] = value
            if error is not None:
                seen[start + len(values)] = error
        return len(seen) == n

    return all_arrived


def test_item_exception_keeps_type_and_remote_traceback(pool: Pool) -> None:
    with pytest.raises(w.ItemError) as info:
        pool.map(w.fail_on_7, range(20))
    assert info.value.index == 7
    assert str(info.value) == "item 7 is bad"
    cause = info.value.__cause__
    assert isinstance(cause, RemoteTraceback)
    assert "fail_at" in cause.tb
    assert "ItemError" in cause.tb
    # the pool is still usable
    assert pool.map(w.double, range(5)) == [0, 2, 4, 6, 8]


def test_a_failed_call_stops_its_long_running_leftovers() -> None:
    """Item 0 fails; item 1 would sleep for an hour: the pool stops that worker instead of waiting."""
    with Pool(workers=2, chunksize=1) as p:
        # teach the pool that items of this function are slow
        p._engine._item_times[p._submit("map", w.fail_first_then_sleep, [], False).fn_blob] = 10.0
        with pytest.raises(w.ItemError):
            p.map(w.fail_first_then_sleep, range(2))
        started = time.monotonic()
        assert p.map(w.double, range(4)) == [0, 2, 4, 6]
        assert time.monotonic() - started < 60


def test_map_raises_first_failure_in_input_order(pool: Pool) -> None:
    with pytest.raises(w.ItemError) as info:
        pool.map(w.fail_on_3_and_7, range(20))
    assert info.value.index == 3
    with Pool(workers=2, chunksize=1) as p:
        with pytest.raises(w.ItemError) as info:
            p.map(w.fail_late_slow_early, range(8))
        assert info.value.index == 0  # item 5 failed first in time, but item 0 comes first


def test_imap_yields_until_the_failing_item(pool: Pool) -> None:
    got = list(take_all(pool.imap(w.fail_on_7, range(20))))
    assert got[:7] == [x * 2 for x in range(7)]
    assert isinstance(got[7], w.ItemError)
    assert len(got) == 8


def test_unordered_variants_raise_the_item_error(pool: Pool) -> None:
    with pytest.raises(w.ItemError):
        pool.unordered_map(w.fail_on_7, range(20))
    with pytest.raises(w.ItemError):
        list(pool.unordered_imap(w.fail_on_7, range(20)))
    assert pool.map(w.double, [1]) == [2]


def test_unpicklable_result_fails_that_item_clearly(pool: Pool) -> None:
    with pytest.raises(PoolError, match="result of item 4 could not be serialized"):
        pool.map(w.unpicklable_result_at_4, range(10))
    got = list(take_all(pool.imap(w.unpicklable_result_at_4, range(10))))
    assert got[:4] == [0, 1, 2, 3]
    assert isinstance(got[4], PoolError)
    assert len(got) == 5
    assert pool.map(w.double, [1, 2]) == [2, 4]


def test_unpicklable_argument_fails_that_item_immediately(pool: Pool) -> None:
    items = [1, 2, w.Unpicklable(), 4]
    with pytest.raises(PoolError, match="argument of item 2 could not be serialized"):
        pool.map(w.identity, items)
    got = list(take_all(pool.imap(w.identity, items)))
    assert got[:2] == [1, 2]
    assert isinstance(got[2], PoolError)
    assert pool.map(w.double, [1, 2]) == [2, 4]


def test_exception_that_cannot_be_rebuilt_becomes_pool_error(pool: Pool) -> None:
    with pytest.raises(PoolError, match="WeirdInitError") as info:
        pool.map(w.raise_weird, [1])
    assert "weird 1" in str(info.value)
    with pytest.raises(PoolError, match="HoldsUnpicklable"):
        pool.map(w.raise_unpicklable, [1])
    assert pool.map(w.double, [3]) == [6]


def test_sys_exit_in_an_item_does_not_exit_the_caller(pool: Pool) -> None:
    with pytest.raises(PoolError, match=r"item 1 raised SystemExit\(3\)") as info:
        pool.map(w.sys_exit_at_1, range(4))
    assert "SystemExit" in str(info.value.remote_traceback)
    assert pool.map(w.double, [2]) == [4]


def test_unpicklable_function_raises_at_the_call(pool: Pool) -> None:
    lock_holder = threading.Lock()

    class Callable:
        def __init__(self) -> None:
            self.bad = w.Unpicklable()
            self.lock = lock_holder

        def __call__(self, x: int) -> int:
            return x

    with pytest.raises(PoolError, match="could not be serialized"):
        pool.map(Callable(), [1])


@pytest.mark.parametrize(
    ("fn", "bad"), [(w.kill_self_at_7, 7), (w.abort_at_3, 3), (w.exit_at_2, 2)]
)
def test_dead_worker_fails_only_its_item(pool: Pool, fn: object, bad: int) -> None:
    results = list(take_all(pool.imap(fn, range(20))))
    failed = [i for i, r in enumerate(results) if isinstance(r, BaseException)]
    assert failed == [bad]
    assert isinstance(results[bad], WorkerDiedError)
    assert "died" in str(results[bad])
    assert "replaced" in str(results[bad])
    with pytest.raises(WorkerDiedError):
        pool.map(fn, range(20))
    # every other item still works, and the pool keeps its full strength
    expected = [x * 2 for x in range(20) if x != bad]
    assert pool.map(w.double, [x for x in range(20) if x != bad]) == expected
    assert len(pool._engine.worker_pids()) == 2


@pytest.mark.parametrize(("fn", "bad"), [(w.kill_self_at_7, 7), (w.abort_at_3, 3)])
def test_every_other_item_of_the_same_call_completes(pool: Pool, fn: object, bad: int) -> None:
    """Look inside the call: all 39 other results arrive although one worker died mid-call."""
    job = pool._submit("map", fn, range(40), False)  # type: ignore[arg-type]
    engine = pool._engine
    seen: dict[int, object] = {}

    all_arrived = _arrival_check(job, seen, 40)

    try:
        assert engine.run_until(all_arrived, time.monotonic() + 60)
    finally:
        engine.finish(job)
    assert isinstance(seen.pop(bad), WorkerDiedError)
    assert seen == {x: x * 2 for x in range(40) if x != bad}


def test_several_deaths_in_one_call(pool: Pool) -> None:
    job = pool._submit("unordered_map", w.kill_self_at_5_50_95, range(120), False)
    engine = pool._engine
    seen: dict[int, object] = {}
    position = 0

    def all_arrived() -> bool:
        nonlocal position
        while job.arrived:
            entry = job.arrived.popleft()
            if isinstance(entry, BaseException):
                seen[-1 - len([k for k in seen if k < 0])] = entry
            else:
                for value in entry:
                    seen[position] = value
                    position += 1
        return len(seen) == 120

    try:
        assert engine.run_until(all_arrived, time.monotonic() + 90)
    finally:
        engine.finish(job)
    errors = [v for k, v in seen.items() if k < 0]
    values = sorted(v for k, v in seen.items() if k >= 0)
    assert len(errors) == 3
    assert all(isinstance(e, WorkerDiedError) for e in errors)
    assert values == sorted(x * 2 for x in range(120) if x not in (5, 50, 95))
    assert len(pool._engine.worker_pids()) == 2
    assert pool.map(w.double, range(5)) == [0, 2, 4, 6, 8]


def test_dead_worker_in_unordered_map_fails_only_its_item(pool: Pool) -> None:
    got = list(take_all(pool.unordered_imap(w.kill_self_at_7, range(20))))
    errors = [r for r in got if isinstance(r, BaseException)]
    assert len(errors) == 1
    assert isinstance(errors[0], WorkerDiedError)


@pytest.mark.timeout(120)
def test_sigkill_from_outside_mid_item(pool: Pool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        fifo = Path(tmp) / "pid"
        os.mkfifo(fifo)
        future = pool.map.background()(w.announce_then_sleep, [str(fifo)])
        with open(fifo) as reader:  # blocks until the item opened it
            pid = int(reader.readline())
        os.kill(pid, signal.SIGKILL)
        with pytest.raises(WorkerDiedError, match=r"item 0 died .*SIGKILL"):
            future.result(timeout=60)
    assert pid not in pool._engine.worker_pids()
    assert pool.map(w.double, range(10)) == [x * 2 for x in range(10)]


def test_map_timeout_stops_and_replaces_workers(pool: Pool) -> None:
    before = set(pool._engine.worker_pids())
    started = time.monotonic()
    with pytest.raises(PoolTimeoutError) as info:
        pool.map.timeout(1.0)(w.sleep_forever, range(4))
    assert time.monotonic() - started < 30
    assert isinstance(info.value, ResultTimeoutError)
    assert isinstance(info.value, TimeoutError)
    assert pool.map(w.double, range(6)) == [0, 2, 4, 6, 8, 10]
    after = set(pool._engine.worker_pids())
    assert after != before
    assert len(after) == 2


def test_imap_timeout_is_per_item(pool: Pool) -> None:
    results = pool.imap.timeout(1.0)(w.first_item_fast, range(3))
    assert next(results) == 0
    with pytest.raises(PoolTimeoutError):
        next(results)
    with pytest.raises(StopIteration):
        next(results)
    assert pool.map(w.double, [5]) == [10]


def test_timeout_composes_with_background(pool: Pool) -> None:
    future = pool.map.timeout(1.0).background()(w.sleep_forever, range(3))
    with pytest.raises(PoolTimeoutError):
        future.result(timeout=60)
    assert pool.star().map.timeout(30.0)(w.add, [(1, 1)]) == [2]


def test_broken_initializer_fails_calls_clearly() -> None:
    with Pool(workers=2, initializer=w.failing_initializer) as pool:
        with pytest.raises(PoolError, match="initializer") as info:
            pool.map(w.double, range(4))
        assert isinstance(info.value.__cause__, RuntimeError)
        with pytest.raises(PoolError, match="broken"):
            pool.map(w.double, range(4))


def test_workers_that_die_while_starting_break_the_pool_clearly() -> None:
    with Pool(workers=2, initializer=w.dying_initializer) as pool:
        with pytest.raises(PoolError, match="die while starting"):
            pool.map(w.double, range(4))


def test_terminate_from_another_thread_unblocks_a_map(pool: Pool) -> None:
    result: list[BaseException] = []

    def run() -> None:
        try:
            pool.map(w.sleep_forever, range(4))
        except BaseException as exc:
            result.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    while not pool._engine._jobs:  # the call has been submitted
        thread.join(0.01)
    pool.terminate()
    thread.join(60)
    assert not thread.is_alive()
    assert isinstance(result[0], PoolError)
    assert "terminated" in str(result[0])


def test_concurrent_calls_from_threads(pool: Pool) -> None:
    outputs: dict[int, list[int]] = {}

    def run(k: int) -> None:
        outputs[k] = pool.map(w.double, range(k * 100, k * 100 + 300))

    threads = [threading.Thread(target=run, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert all(outputs[k] == [x * 2 for x in range(k * 100, k * 100 + 300)] for k in range(4))


def test_abandoned_iterator_does_not_block_the_pool(pool: Pool) -> None:
    results = pool.imap(w.double, iter(range(100_000)))
    assert next(results) == 0
    del results
    assert pool.map(w.double, range(10)) == [x * 2 for x in range(10)]


def test_an_input_that_raises_fails_the_call_in_order(pool: Pool) -> None:
    def source() -> Iterator[int]:
        yield from range(5)
        raise LookupError("the input broke")

    with pytest.raises(LookupError, match="the input broke"):
        pool.map(w.double, source())
    got = list(take_all(pool.imap(w.double, source())))
    assert got[:5] == [0, 2, 4, 6, 8]
    assert isinstance(got[5], LookupError)
    assert pool.map(w.double, range(3)) == [0, 2, 4]


def test_cancelling_an_asynced_map_stops_its_workers(pool: Pool) -> None:
    import asyncio

    before = set(pool._engine.worker_pids())

    async def main() -> None:
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(pool.map.asynced()(w.sleep_forever, range(1, 5)), 1.0)

    asyncio.run(main())
    assert pool.map(w.double, range(4)) == [0, 2, 4, 6]
    assert set(pool._engine.worker_pids()).isdisjoint(before)


def test_closing_an_iterator_early_leaves_the_pool_usable(pool: Pool) -> None:
    results = pool.imap(w.double, range(100_000))
    assert next(results) == 0
    results.close()
    results.close()
    with pytest.raises(StopIteration):
        next(results)
    assert pool.map(w.double, range(3)) == [0, 2, 4]


def _kill_item_in_batch(star: bool, slow: bool) -> dict[int, object]:
    """One chunk of many items; the item in the middle waits on a fifo and is SIGKILLed.

    ``slow``: the other items take ~20 us each (their sub-batches are marked item by item); else they
    are trivial (unmarked sub-batches). Returns what arrived for each item, the killed one included,
    after checking that every other item is correct and the pool goes on.
    """
    n, bad = 600, 400
    fn = w.announce_and_wait_or_slow_double if slow else w.announce_and_wait_or_double
    with tempfile.TemporaryDirectory() as tmp:
        os.mkfifo(Path(tmp) / "pid")
        os.mkfifo(Path(tmp) / "go")
        items: list[Any] = [tmp if i == bad else i for i in range(n)]
        if star:
            items = [(x, 1) if isinstance(x, int) else (x,) for x in items]
        pool = Pool(workers=2, chunksize=10_000)  # the whole input is one chunk of one worker
        try:
            job = pool._submit("map", fn, items, star)
            engine = pool._engine
            seen: dict[int, object] = {}

            all_arrived = _arrival_check(job, seen, n)

            arrived: list[bool] = []
            pump = threading.Thread(
                target=lambda: arrived.append(engine.run_until(all_arrived, time.monotonic() + 90)),
                daemon=True,
            )
            pump.start()
            with open(Path(tmp) / "pid") as reader:  # returns once the item opened it
                pid = int(reader.readline())
            os.kill(pid, signal.SIGKILL)
            pump.join(100)
            assert not pump.is_alive(), "the map hung after its worker was killed"
            engine.finish(job)
            assert arrived == [True], f"only {len(seen)} of {n} results arrived"
            extra = 1 if star else 0
            others = {i: v for i, v in seen.items() if i != bad}
            assert others == {i: i * 2 + extra for i in range(n) if i != bad}
            assert pid not in engine.worker_pids()
            assert pool.map(w.double, range(50)) == [x * 2 for x in range(50)]
            return seen
        finally:
            pool.terminate()


def _assert_failed_not_rerun(seen: dict[int, object], bad: int = 400) -> None:
    killed = seen[bad]
    assert killed != -1, "the killed item was run again instead of failing"
    assert isinstance(killed, WorkerDiedError), killed
    assert f"item {bad} died" in str(killed)
    assert "SIGKILL" in str(killed)


@pytest.mark.timeout(150)
def test_sigkill_mid_batch_fails_only_the_running_item() -> None:
    """The killed item sat in a sub-batch of many ~20 us items: it fails, it is not run again, the
    items of its batch before and after it are all correct, and nothing hangs."""
    _assert_failed_not_rerun(_kill_item_in_batch(star=False, slow=True))


@pytest.mark.timeout(150)
def test_sigkill_mid_batch_of_a_star_map_fails_only_the_running_item() -> None:
    _assert_failed_not_rerun(_kill_item_in_batch(star=True, slow=True))


@pytest.mark.timeout(150)
@pytest.mark.parametrize("star", [False, True])
def test_sigkill_mid_batch_of_trivial_items_runs_that_batch_again_alone(star: bool) -> None:
    """Trivial items run without per-item marks: the killed one is run again (alone; the fixture
    returns -1 on a second run) and every other item is correct."""
    assert _kill_item_in_batch(star=star, slow=False)[400] == -1


@pytest.mark.timeout(150)
@pytest.mark.parametrize("called_before", [False, True])
def test_a_crash_inside_a_large_batch_of_trivial_items_fails_only_that_item(
    called_before: bool,
) -> None:
    """os._exit in item 3,000 of 5,000 trivial items: its sub-batch runs again item by item, the
    crashing item crashes its worker again alone and fails; all other items are correct. Also when
    an earlier call of the same function taught the workers a large sub-batch without marks (a new
    call starts with it instead of ramping up from one marked item)."""
    n = 5000
    with Pool(workers=2, chunksize=10_000) as pool:
        if called_before:
            # one chunk per worker: both learn
            assert pool.map(w.exit_at_3000, range(2500), chunksize=1250) == [
                x * 2 for x in range(2500)
            ]
        job = pool._submit("map", w.exit_at_3000, range(n), False)  # type: ignore[arg-type]
        engine = pool._engine
        seen: dict[int, object] = {}

        all_arrived = _arrival_check(job, seen, n)

        try:
            assert engine.run_until(all_arrived, time.monotonic() + 60)
        finally:
            engine.finish(job)
    assert isinstance(seen.pop(3000), WorkerDiedError)
    assert seen == {x: x * 2 for x in range(n) if x != 3000}


def test_a_worker_sending_a_malformed_frame_is_replaced(pool: Pool) -> None:
    before = set(pool._engine.worker_pids())
    with pytest.raises(PoolError, match=r"malformed message.*more than the limit"):
        pool.map(w.send_garbage_frame, [1])
    assert len(pool._engine.worker_pids()) == 2
    assert set(pool._engine.worker_pids()) != before
    assert pool.map(w.double, range(10)) == [2 * i for i in range(10)]
