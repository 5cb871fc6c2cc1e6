"""The examples of the suitkaise 0.4 ``processing`` examples page, run on this kit.

Each test is one example of ``/work/shared/reference/suitkaise-0.4/processing-examples.md`` with the
published import lines and the page's classes (at module level, as in a script). Where the page only
prints, the test checks what the printed comment promises. Examples that need a real database server
(``autoreconnect`` with psycopg2) use sqlite, which goes through the same ``Reconnector`` path.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from suitkaise import timing
from suitkaise.processing import (
    Pipe,
    Pool,
    ProcessTimeoutError,
    Share,
    Skprocess,
    autoreconnect,
)
from suitkaise.timing import Sktimer, TimeThis

pytestmark = pytest.mark.timeout(180)


# ================================================================ Basic Skprocess


class CounterProcess(Skprocess):
    def __init__(self, target: int = 10) -> None:
        self.target = target
        self.counter = 0
        self.process_config.runs = target

    def __run__(self) -> None:
        self.counter += 1

    def __result__(self) -> int:
        return self.counter


def test_simple_counter_process() -> None:
    process = CounterProcess(target=100)
    process.start()
    process.wait()
    assert process.result() == 100


class QuickProcess(Skprocess):
    def __init__(self, data: list[int]) -> None:
        self.data = data
        self.results: list[int] = []
        self.process_config.runs = len(data)

    def __run__(self) -> None:
        item = self.data[self._current_run]
        self.results.append(item * 2)

    def __result__(self) -> list[int]:
        return self.results


def test_using_run_and_current_run() -> None:
    assert QuickProcess([1, 2, 3, 4, 5]).run() == [2, 4, 6, 8, 10]


class DataProcessor(Skprocess):
    def __init__(self, batch_size: int = 5) -> None:
        self.batch_size = batch_size
        self.process_config.runs = 3
        self.current_batch: list[str] | None = None
        self.processed_batches: list[list[str]] = []
        self.total_items = 0

    def __prerun__(self) -> None:
        batch_number = self._current_run
        self.current_batch = [f"item_{batch_number}_{i}" for i in range(self.batch_size)]
        print(f"[prerun] Fetched batch {batch_number}: {len(self.current_batch)} items")

    def __run__(self) -> None:
        processed = []
        assert self.current_batch is not None
        for item in self.current_batch:
            processed.append(item.upper())
            self.total_items += 1
        self._processed: list[str] | None = processed
        print(f"[run] Processed {len(processed)} items")

    def __postrun__(self) -> None:
        assert self._processed is not None
        self.processed_batches.append(self._processed)
        self.current_batch = None
        self._processed = None
        print(f"[postrun] Saved batch, total batches: {len(self.processed_batches)}")

    def __onfinish__(self) -> None:
        print(f"[onfinish] Finished processing {self.total_items} total items")

    def __result__(self) -> dict[str, Any]:
        return {
            "batches": self.processed_batches,
            "total_items": self.total_items,
            "num_batches": len(self.processed_batches),
        }


def test_full_lifecycle_process() -> None:
    result = DataProcessor(batch_size=3).run()
    assert (result["num_batches"], result["total_items"]) == (3, 9)
    assert result["batches"][2] == ["ITEM_2_0", "ITEM_2_1", "ITEM_2_2"]
    # The page's printed trace comes from the child; its stdout is the terminal, not checked here.


class MonitorProcess(Skprocess):
    def __init__(self) -> None:
        self.process_config.runs = None
        self.events: list[dict[str, Any]] = []

    def __run__(self) -> None:
        payload = f"{self._current_run}:{os.getpid()}".encode()
        digest = hashlib.sha256(payload).hexdigest()
        self.events.append(
            {
                "run": self._current_run,
                "time": timing.time(),
                "pid": os.getpid(),
                "memory": self._get_memory_usage(),
                "hash": digest[:12],
            }
        )

    def _get_memory_usage(self) -> float:
        try:
            import resource

            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024
        except ImportError:
            return 0

    def __onfinish__(self) -> None:
        print(f"Monitor shutting down after {len(self.events)} events")

    def __result__(self) -> list[dict[str, Any]]:
        return self.events


def test_indefinite_process_with_stop() -> None:
    process = MonitorProcess()
    process.start()
    data = b"monitor_work"
    for _ in range(2000):
        data = hashlib.sha256(data).digest()
    timing.sleep(0.05)
    process.stop()
    process.wait()
    events = process.result()
    assert [e["run"] for e in events] == list(range(len(events)))
    assert all(e["pid"] != os.getpid() for e in events)


class TimeBoundProcess(Skprocess):
    def __init__(self, max_seconds: float = 10.0) -> None:
        self.process_config.runs = None
        self.process_config.join_in = max_seconds
        self.iterations = 0

    def __run__(self) -> None:
        payload = f"iter_{self._current_run}".encode()
        self.iterations += hashlib.sha256(payload).digest()[0]

    def __result__(self) -> int:
        return self.iterations


def test_time_limited_process_with_join_in() -> None:
    started = timing.time()
    result = TimeBoundProcess(max_seconds=1.0).run()
    assert result > 0
    assert timing.elapsed(started) >= 1.0


class UnreliableProcess(Skprocess):
    def __init__(self) -> None:
        self.process_config.runs = 10
        self.process_config.lives = 3
        self.successful_runs = 0
        self.attempt_count = 0

    def __prerun__(self) -> None:
        self.attempt_count += 1

    def __run__(self) -> None:
        payload = f"run:{self._current_run}".encode()
        if hashlib.sha256(payload).digest()[0] % 5 == 0:
            raise RuntimeError(f"Content failure on run {self._current_run}")
        self.successful_runs += 1

    def __error__(self) -> dict[str, Any]:
        print(f"Process failed after {self.attempt_count} attempts")
        return {
            "status": "failed",
            "successful_runs": self.successful_runs,
            "error": str(self.error),
        }

    def __result__(self) -> dict[str, Any]:
        return {
            "status": "success",
            "successful_runs": self.successful_runs,
            "total_attempts": self.attempt_count,
        }


def test_process_with_retries_keeps_state_across_lives() -> None:
    # run 1 fails on every attempt (sha256(b"run:1")[0] % 5 == 0): 3 lives, then __error__'s dict.
    # With the state kept on an exception (0.4 semantics) the counts are those of the whole history.
    result = UnreliableProcess().run()
    assert result["status"] == "failed"
    assert "Content failure on run 1" in result["error"]
    assert result["successful_runs"] == 1  # run 0 succeeded once, never rolled back


class SlowProcess(Skprocess):
    def __init__(self) -> None:
        self.process_config.runs = 5
        self.process_config.timeouts.prerun = 1.0
        self.process_config.timeouts.run = 2.0
        self.process_config.timeouts.postrun = 1.0
        self.completed_runs = 0

    def __prerun__(self) -> None:
        pass

    def __run__(self) -> None:
        if self._current_run == 3:
            self._fibonacci(40)
        else:
            self._fibonacci(25)
        self.completed_runs += 1

    def _fibonacci(self, n: int) -> int:
        if n <= 1:
            return n
        return self._fibonacci(n - 1) + self._fibonacci(n - 2)

    def __error__(self) -> dict[str, Any]:
        if isinstance(self.error, ProcessTimeoutError):
            print(f"Timeout in {self.error.section} after {self.error.timeout}s")
        return {"status": "timeout", "completed_runs": self.completed_runs}

    def __result__(self) -> dict[str, Any]:
        return {"status": "success", "completed_runs": self.completed_runs}


def test_timeouts_on_lifecycle_methods() -> None:
    assert SlowProcess().run() == {"status": "timeout", "completed_runs": 3}


class SectionOfTimeout(Skprocess):
    def __init__(self) -> None:
        self.process_config.timeouts.run = 0.5

    def __run__(self) -> None:
        timing.sleep(30)

    def __error__(self) -> tuple[str, float]:
        assert isinstance(self.error, ProcessTimeoutError)
        return (self.error.section, self.error.timeout)


def test_timeout_section_is_named_like_the_method() -> None:
    assert SectionOfTimeout().run() == ("__run__", 0.5)


class TimedProcess(Skprocess):
    def __init__(self, runs: int = 20) -> None:
        self.process_config.runs = runs
        self.data = [f"data_block_{i}" for i in range(1000)]

    def __prerun__(self) -> None:
        self.data = self.data[-1:] + self.data[:-1]

    def __run__(self) -> None:
        iterations = 50 + (self._current_run * 7 % 100)
        for _ in range(iterations):
            for item in self.data[:100]:
                hashlib.sha256(item.encode()).hexdigest()

    def __postrun__(self) -> None:
        sorted(self.data[:50])

    def __result__(self) -> str:
        return "done"


def test_accessing_timing_data() -> None:
    process = TimedProcess(runs=20)
    assert process.run() == "done"
    prerun = process.__prerun__.timer  # type: ignore[attr-defined]
    run = process.__run__.timer  # type: ignore[attr-defined]
    postrun = process.__postrun__.timer  # type: ignore[attr-defined]
    assert prerun.num_times == run.num_times == postrun.num_times == 20
    assert prerun.min <= prerun.mean <= prerun.max
    assert run.percentile(50) <= run.percentile(95)
    assert postrun.total_time > 0
    assert process.process_timer is not None
    assert process.process_timer.num_times == 20
    assert process.process_timer.total_time >= run.total_time


class AsyncFriendlyProcess(Skprocess):
    def __init__(self, process_id: int, data_chunks: list[str]) -> None:
        self.process_id = process_id
        self.data_chunks = data_chunks
        self.process_config.runs = len(data_chunks)
        self.results: list[dict[str, Any]] = []

    def __run__(self) -> None:
        chunk = self.data_chunks[self._current_run]
        self.results.append(
            {
                "process": self.process_id,
                "run": self._current_run,
                "hash": hashlib.sha256(chunk.encode()).hexdigest()[:16],
            }
        )

    def __result__(self) -> list[dict[str, Any]]:
        return self.results


def test_async_process_execution() -> None:
    async def run_processes_concurrently() -> list[Any]:
        all_data = [[f"process_{p}_chunk_{i}" for i in range(5)] for p in range(3)]
        processes = []
        for i, data in enumerate(all_data):
            p = AsyncFriendlyProcess(process_id=i, data_chunks=data)
            p.start()
            processes.append(p)
        await asyncio.gather(*[p.wait.asynced()() for p in processes])
        return [p.result() for p in processes]

    results = asyncio.run(run_processes_concurrently())
    assert [len(r) for r in results] == [5, 5, 5]
    assert [entry["run"] for entry in results[1]] == [0, 1, 2, 3, 4]
    assert {entry["process"] for entry in results[2]} == {2}


class BackgroundProcess(Skprocess):
    def __init__(self, numbers: list[int]) -> None:
        self.numbers = numbers
        self.process_config.runs = len(numbers)
        self.results: list[dict[str, Any]] = []

    def __run__(self) -> None:
        n = self.numbers[self._current_run]
        self.results.append({"number": n, "factors": self._prime_factors(n)})

    def _prime_factors(self, n: int) -> list[int]:
        factors = []
        d = 2
        while d * d <= n:
            while n % d == 0:
                factors.append(d)
                n //= d
            d += 1
        if n > 1:
            factors.append(n)
        return factors

    def __result__(self) -> list[dict[str, Any]]:
        return self.results


def test_background_execution_with_future() -> None:
    numbers = [123456789, 987654321, 1000000007, 999999937, 2147483647]
    future = BackgroundProcess(numbers).run.background()()
    main_thread_work = [math.factorial(100 + i) for i in range(5)]
    result = future.result()
    assert len(main_thread_work) == 5
    assert len(result) == 5
    assert result[0] == {"number": 123456789, "factors": [3, 3, 3607, 3803]}
    assert result[2]["factors"] == [1000000007]


# ================================================================ Pool


def square(x: int) -> int:
    return x * x


def test_basic_map() -> None:
    pool = Pool(workers=4)
    items = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
    assert pool.map(square, items) == [1, 4, 9, 16, 25, 36, 49, 64, 81, 100]
    pool.close()


def process_data(data: str) -> dict[str, str]:
    normalized = data.strip().lower()
    data_hash = hashlib.md5(normalized.encode()).hexdigest()
    return {"original": data, "normalized": normalized, "hash": data_hash[:8]}


def test_pool_as_context_manager() -> None:
    with Pool(workers=4) as pool:
        items = ["  Apple  ", "BANANA", "Cherry", "  DATE", "elderberry"]
        results = pool.map(process_data, items)
        lines = [f"{r['original']:>12} -> {r['normalized']:<12} ({r['hash']})" for r in results]
    assert [r["normalized"] for r in results] == ["apple", "banana", "cherry", "date", "elderberry"]
    assert len(lines) == 5


def add(a: int, b: int) -> int:
    return a + b


def multiply(x: int, y: int, z: int) -> int:
    return x * y * z


def test_star_for_tuple_unpacking() -> None:
    with Pool(workers=4) as pool:
        assert pool.star().map(add, [(1, 2), (3, 4), (5, 6), (7, 8)]) == [3, 7, 11, 15]
        assert pool.star().map(multiply, [(1, 2, 3), (4, 5, 6), (7, 8, 9)]) == [6, 120, 504]


def variable_work(item: int) -> dict[str, Any]:
    iterations = (item % 10 + 1) * 500
    data = str(item).encode()
    for _ in range(iterations):
        data = hashlib.sha256(data).digest()
    return {"item": item, "iterations": iterations, "hash": hashlib.sha256(data).hexdigest()[:12]}


def test_unordered_map_and_unordered_imap() -> None:
    with Pool(workers=4) as pool:
        items = list(range(20))
        results = pool.unordered_map(variable_work, items)
        assert isinstance(results, list)
        assert sorted(r["item"] for r in results) == items
        streamed = list(pool.unordered_imap(variable_work, items))
        assert sorted(r["item"] for r in streamed) == items
    assert {r["item"]: r["hash"] for r in results} == {r["item"]: r["hash"] for r in streamed}


def heavy_computation(item: int) -> dict[str, Any]:
    data = str(item).encode()
    for _ in range(1000):
        data = hashlib.sha256(data).digest()
    final_hash = hashlib.sha256(data).hexdigest()
    return {
        "input": item,
        "hash": final_hash,
        "derived": [final_hash[i : i + 4] for i in range(0, 64, 4)],
    }


def test_imap_for_memory_efficiency() -> None:
    with Pool(workers=4) as pool:
        processed = 0
        inputs = []
        for result in pool.imap(heavy_computation, range(100)):
            processed += 1
            inputs.append(result["input"])
            assert len(result["derived"]) == 16
    assert processed == 100
    assert inputs == list(range(100))  # in order


def slow_function(x: int) -> int:
    def fib(n: int) -> int:
        if n <= 1:
            return n
        return fib(n - 1) + fib(n - 2)

    if x == 5:
        return fib(40)
    return fib(20 + x)


def test_pool_with_timeout() -> None:
    with Pool(workers=4) as pool:
        items = [1, 2, 3, 4, 5, 6, 7, 8]
        with pytest.raises(TimeoutError):
            pool.map.timeout(2.0)(slow_function, items)
        got = list(pool.imap.timeout(5.0)(slow_function, [1, 2, 3]))
    assert got == [10946, 17711, 28657]


def compute(x: int) -> dict[str, Any]:
    def prime_factors(n: int) -> list[int]:
        factors = []
        d = 2
        while d * d <= n:
            while n % d == 0:
                factors.append(d)
                n //= d
            d += 1
        if n > 1:
            factors.append(n)
        return factors

    large_num = 10**9 + x * 1000 + 7
    return {"input": x, "number": large_num, "factors": prime_factors(large_num)}


def test_background_execution_with_pool() -> None:
    with Pool(workers=4) as pool:
        future = pool.map.background()(compute, list(range(20)))
        main_work = [len(str(math.factorial(500 + i * 100))) for i in range(3)]
        results = future.result()
    assert len(main_work) == 3
    assert len(results) == 20
    assert results[0] == {"input": 0, "number": 1000000007, "factors": [1000000007]}
    assert all(math.prod(r["factors"]) == r["number"] for r in results)


def cpu_work(x: int) -> dict[str, Any]:
    data = str(x).encode()
    for _ in range(1000):
        data = hashlib.sha256(data).digest()
    return {"input": x, "hash": hashlib.sha256(data).hexdigest()[:16]}


def test_async_pool_operations() -> None:
    async def process_batches() -> list[Any]:
        with Pool(workers=4) as pool:
            return list(
                await asyncio.gather(
                    pool.map.asynced()(cpu_work, list(range(10))),
                    pool.map.asynced()(cpu_work, list(range(10, 20))),
                    pool.map.asynced()(cpu_work, list(range(20, 30))),
                )
            )

    results = asyncio.run(process_batches())
    assert [r[0]["input"] for r in results] == [0, 10, 20]
    assert [len(r) for r in results] == [10, 10, 10]


class DataTransformer(Skprocess):
    def __init__(self, input_data: dict[str, int]) -> None:
        self.input_data = input_data
        self.process_config.runs = 1
        self.transformed: dict[str, Any] | None = None

    def __run__(self) -> None:
        data = self.input_data
        data_hash = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()
        self.transformed = {
            "original_id": data["id"],
            "original_value": data["value"],
            "doubled": data["value"] * 2,
            "squared": data["value"] ** 2,
            "hash": data_hash[:12],
            "processed": True,
        }

    def __result__(self) -> dict[str, Any] | None:
        return self.transformed


def test_using_skprocess_with_pool() -> None:
    items = [{"id": i, "value": 10 * i} for i in range(1, 5)]
    with Pool(workers=2) as pool:
        results = pool.map(DataTransformer, items)
    assert [
        f"ID {r['original_id']}: {r['original_value']} -> doubled={r['doubled']}, squared={r['squared']}"
        for r in results
    ] == [
        "ID 1: 10 -> doubled=20, squared=100",
        "ID 2: 20 -> doubled=40, squared=400",
        "ID 3: 30 -> doubled=60, squared=900",
        "ID 4: 40 -> doubled=80, squared=1600",
    ]


def process_pair(x: int, y: int) -> dict[str, Any]:
    n, r = max(x, y), min(x, y)
    result = math.comb(n * 10, r * 2)
    return {"inputs": (x, y), "comb": result, "digits": len(str(result))}


def test_combining_star_with_modifiers() -> None:
    pairs = [(1, 2), (3, 4), (5, 6), (7, 8)]
    expected = [process_pair(x, y) for x, y in pairs]

    async def main() -> None:
        with Pool(workers=4) as pool:
            assert pool.star().map.timeout(5.0)(process_pair, pairs) == expected
            assert pool.star().map.background()(process_pair, pairs).result() == expected
            assert await pool.star().map.asynced()(process_pair, pairs) == expected
            assert [r["inputs"] for r in pool.star().imap(process_pair, pairs)] == pairs
            unordered = [r["inputs"] for r in pool.star().unordered_imap(process_pair, pairs)]
            assert sorted(unordered) == pairs

    asyncio.run(main())


def risky_function(x: int) -> int:
    if x == 3:
        raise ValueError(f"Cannot process {x}")
    return x * 2


def test_error_handling_in_pool() -> None:
    # The page's code, unchanged: 0.4 wrapped a worker's exception in a RuntimeError. This kit raises
    # the worker's own exception, which is *also* a RuntimeError (deprecated spelling, see
    # docs/migrating-from-0.4.md), so both `except RuntimeError` and `except ValueError` catch it.
    caught: list[str] = []
    kinds: list[tuple[bool, str]] = []
    with Pool(workers=4) as pool:
        items = [1, 2, 3, 4, 5]
        try:
            pool.map(risky_function, items)
        except RuntimeError as e:
            caught.append(f"Caught error: {e}")
            kinds.append((isinstance(e, ValueError), type(e).__name__))
        safe_items = [1, 2, 4, 5]
        results = pool.map(risky_function, safe_items)
        assert results == [2, 4, 8, 10]
    assert caught == ["Caught error: Cannot process 3"]
    assert kinds == [(True, "ValueError")]


# ================================================================ Share


class Counter:
    def __init__(self) -> None:
        self.value = 0

    def increment(self, amount: int = 1) -> None:
        self.value += amount


class SharedCounterProcess(Skprocess):
    """The page's ``CounterProcess`` of the Share section (renamed: the Skprocess section has one)."""

    def __init__(self, shared: Share, amount: int = 1) -> None:
        self.shared = shared
        self.amount = amount
        self.process_config.runs = 10

    def __postrun__(self) -> None:
        self.shared.counter.increment(self.amount)

    def __result__(self) -> str:
        return "done"


def test_basic_shared_counter() -> None:
    share = Share()
    try:
        share.counter = Counter()
        with Pool(workers=4) as pool:
            assert pool.map(SharedCounterProcess, [share] * 5) == ["done"] * 5
        assert share.counter.value == 50
    finally:
        share.stop()


class TimedWorker(Skprocess):
    def __init__(self, shared: Share, work_count: int = 5) -> None:
        self.shared = shared
        self.process_config.runs = work_count

    def __run__(self) -> None:
        with timing.TimeThis() as run_timer:
            data = b"benchmark_data"
            iterations = 500 + (self._current_run * 97 % 1500)
            for _ in range(iterations):
                data = hashlib.sha256(data).digest()
        self.shared.timer.add_time(run_timer.most_recent)

    def __result__(self) -> str:
        return "done"


def test_sharing_complex_objects_like_sktimer() -> None:
    share = Share()
    try:
        share.timer = Sktimer()
        workers = 4
        with Pool(workers=workers) as pool:
            pool.map(TimedWorker, [share] * workers)
        stats = share.timer.get_stats()
        assert stats.num_times == 20
        assert stats.min <= stats.mean <= stats.max
        assert stats.stdev is not None
        assert stats.variance is not None
    finally:
        share.stop()


class WorkerProcess(Skprocess):
    def __init__(self, shared: Share) -> None:
        self.shared = shared
        self.process_config.runs = 10

    def __postrun__(self) -> None:
        self.shared.counter.increment(1)

    def __result__(self) -> str:
        return "done"


def test_share_as_context_manager() -> None:
    with Share() as share:
        share.counter = Counter()
        with Pool(workers=2) as pool:
            pool.map(WorkerProcess, [share] * 3)
        assert share.counter.value == 30
    assert not share.is_running


class Stats:
    def __init__(self) -> None:
        self.processed = 0
        self.errors = 0
        self.successes = 0

    def record_success(self) -> None:
        self.processed += 1
        self.successes += 1

    def record_error(self) -> None:
        self.processed += 1
        self.errors += 1


class StatsProcessor(Skprocess):
    """The page's ``DataProcessor`` of the Share section (renamed: the Skprocess section has one)."""

    def __init__(self, shared: Share, item: dict[str, Any]) -> None:
        self.shared = shared
        self.item = item
        self.process_config.runs = 1

    def __run__(self) -> None:
        with timing.TimeThis() as run_timer:
            try:
                data = self.item["data"].encode()
                if hashlib.sha256(data).digest()[0] % 5 == 0:
                    raise RuntimeError(f"Failed processing {self.item['id']}")
                for _ in range(1000):
                    data = hashlib.sha256(data).digest()
                self.shared.stats.record_success()
            except Exception:
                self.shared.stats.record_error()
        self.shared.timer.add_time(run_timer.most_recent)

    def __result__(self) -> int:
        return int(self.item["id"])


def test_multiple_shared_objects() -> None:
    items = [{"id": i, "data": f"item_{i}"} for i in range(20)]
    failing = sum(hashlib.sha256(i["data"].encode()).digest()[0] % 5 == 0 for i in items)
    with Share() as share:
        share.stats = Stats()
        share.timer = timing.Sktimer()
        with Pool(workers=4) as pool:
            assert pool.star().map(StatsProcessor, [(share, item) for item in items]) == list(
                range(20)
            )
        assert share.stats.processed == 20
        assert share.stats.errors == failing
        assert share.stats.successes == 20 - failing
        assert share.timer.num_times == 20
        assert share.timer.mean is not None


class IterativeWorker(Skprocess):
    def __init__(self, shared: Share) -> None:
        self.shared = shared
        self.process_config.runs = 100

    def __run__(self) -> None:
        with TimeThis() as run_timer:
            data = f"iteration_{self._current_run}".encode()
            iterations = 200 + (hashlib.sha256(data).digest()[0] % 600)
            for _ in range(iterations):
                data = hashlib.sha256(data).digest()
        self.shared.progress += 1
        self.shared.timer.add_time(run_timer.most_recent)

    def __result__(self) -> str:
        return "complete"


def test_sharing_with_single_skprocess() -> None:
    with Share() as share:
        share.progress = 0
        share.timer = Sktimer()
        process = IterativeWorker(share)
        process.start()
        seen = []
        while process.is_alive:
            seen.append(share.progress)
            payload = b"progress"
            for _ in range(500):
                payload = hashlib.sha256(payload).digest()
        process.wait()
        assert process.result() == "complete"
        assert seen == sorted(seen)
        assert share.progress == 100
        assert share.timer.num_times == 100
        assert share.timer.total_time > 0


def test_share_start_and_stop_control() -> None:
    share = Share(auto_start=False)
    try:
        assert not share.is_running
        with pytest.warns(RuntimeWarning, match="stopped"):  # "warning: Share is stopped"
            share.counter = 0
        share.start()
        assert share.is_running
        share.counter = 100
        share.stop()
        assert not share.is_running
        share.start()
        assert share.counter == 100
    finally:
        share.stop()


class Incrementer(Skprocess):
    def __init__(self, shared: Share) -> None:
        self.shared = shared
        self.process_config.runs = 10

    def __postrun__(self) -> None:
        self.shared.count += 1

    def __result__(self) -> str:
        return "done"


def test_clearing_share_state() -> None:
    with Share() as share:
        share.count = 0
        with Pool(workers=2) as pool:
            pool.map(Incrementer, [share] * 2)
        assert share.count == 20
        share.clear()
        share.count = 0
        with Pool(workers=2) as pool:
            pool.map(Incrementer, [share] * 3)
        assert share.count == 30


# ================================================================ Pipe


class PipeWorker(Skprocess):
    def __init__(self, pipe_point: Pipe.Point) -> None:
        self.pipe = pipe_point
        self.process_config.runs = 1

    def __run__(self) -> None:
        command = self.pipe.recv()
        print(f"[Child] Received: {command}")
        result = command["value"] * 2
        self.pipe.send({"result": result, "status": "ok"})

    def __result__(self) -> str:
        return "pipe_complete"


def test_basic_pipe_communication() -> None:
    anchor, point = Pipe.pair()
    process = PipeWorker(point)
    process.start()
    point.close()
    anchor.send({"action": "compute", "value": 21})
    assert anchor.recv() == {"result": 42, "status": "ok"}
    process.wait()
    assert process.result() == "pipe_complete"
    anchor.close()


class DataReceiver(Skprocess):
    def __init__(self, pipe_point: Pipe.Point) -> None:
        self.pipe = pipe_point
        self.process_config.runs = 1
        self.received_data: list[Any] = []

    def __run__(self) -> None:
        while True:
            data = self.pipe.recv()
            if data is None:
                break
            self.received_data.append(data)

    def __result__(self) -> list[Any]:
        return self.received_data


def test_one_way_pipe() -> None:
    anchor, point = Pipe.pair(one_way=True)
    process = DataReceiver(point)
    process.start()
    point.close()
    for i in range(5):
        anchor.send({"id": i, "value": i * 10})
    anchor.send(None)
    process.wait()
    assert process.result() == [{"id": i, "value": i * 10} for i in range(5)]
    anchor.close()


class DualPipeWorker(Skprocess):
    def __init__(self, cmd_pipe: Pipe.Point, data_pipe: Pipe.Point) -> None:
        self.cmd_pipe = cmd_pipe
        self.data_pipe = data_pipe
        self.process_config.runs = None

    def __run__(self) -> None:
        try:
            cmd = self.cmd_pipe.recv()
            if cmd["action"] == "process":
                data = self.data_pipe.recv()
                self.cmd_pipe.send({"status": "done", "result": sum(data)})
            elif cmd["action"] == "stop":
                self.stop()
        except Exception as e:
            self.cmd_pipe.send({"status": "error", "error": str(e)})

    def __result__(self) -> str:
        return "worker_stopped"


def test_multiple_pipes_and_stop_from_the_child() -> None:
    cmd_anchor, cmd_point = Pipe.pair()
    data_anchor, data_point = Pipe.pair()
    process = DualPipeWorker(cmd_point, data_point)
    process.start()
    cmd_point.close()
    data_point.close()
    cmd_anchor.send({"action": "process"})
    data_anchor.send([1, 2, 3, 4, 5])
    assert cmd_anchor.recv() == {"status": "done", "result": 15}
    cmd_anchor.send({"action": "stop"})
    assert process.wait(timeout=60)
    assert process.result() == "worker_stopped"
    cmd_anchor.close()
    data_anchor.close()


# ================================================================ tell() and listen()


class CommandableProcess(Skprocess):
    def __init__(self) -> None:
        self.process_config.runs = None
        self.multiplier = 1
        self.results: list[dict[str, int]] = []

    def __prerun__(self) -> None:
        command = self.listen(timeout=0.1)
        if command is not None:
            if command.get("action") == "set_multiplier":
                self.multiplier = command["value"]
            elif command.get("action") == "stop":
                self.stop()

    def __run__(self) -> None:
        data = f"run_{self._current_run}_mult_{self.multiplier}".encode()
        for _ in range(100 * self.multiplier):
            data = hashlib.sha256(data).digest()
        value = int.from_bytes(data[:4], "big") % 1000
        self.results.append({"run": self._current_run, "value": value, "mult": self.multiplier})
        if self._current_run % 5 == 0:
            self.tell({"progress": self._current_run, "latest": value})

    def __result__(self) -> list[dict[str, int]]:
        return self.results


def test_tell_and_listen_basic_usage() -> None:
    process = CommandableProcess()
    process.start()
    data = b"parent_work"
    for _ in range(1500):
        data = hashlib.sha256(data).digest()
    process.tell({"action": "set_multiplier", "value": 10})
    first = process.listen(timeout=60)  # run 0 always reports
    assert first is not None
    assert first["progress"] == 0
    messages = [first]
    for _ in range(20):
        msg = process.listen(timeout=0.1)
        if msg is not None:
            messages.append(msg)
    process.tell({"action": "stop"})
    process.wait()
    while True:
        msg = process.listen(timeout=0.1)
        if msg is None:
            break
        messages.append(msg)
    results = process.result()
    assert [r["run"] for r in results] == list(range(len(results)))
    assert results[-1]["mult"] == 10  # the command reached the child
    assert [m["progress"] for m in messages] == [r["run"] for r in results if r["run"] % 5 == 0]


class AsyncWorker(Skprocess):
    def __init__(self, data_items: list[str]) -> None:
        self.data_items = data_items
        self.process_config.runs = len(data_items)
        self.results: list[str] = []

    def __run__(self) -> None:
        item = self.data_items[self._current_run]
        hash_result = hashlib.sha256(item.encode()).hexdigest()
        self.results.append(hash_result[:16])
        if self._current_run % 5 == 0:
            self.tell({"run": self._current_run, "status": "working", "last_hash": hash_result[:8]})

    def __result__(self) -> list[str]:
        return self.results


def test_tell_and_listen_async_usage() -> None:
    async def monitor_process() -> tuple[list[Any], list[str]]:
        data = [f"async_data_item_{i}" for i in range(20)]
        process = AsyncWorker(data)
        process.start()
        seen = []
        while process.is_alive:
            msg = await process.listen.asynced()(timeout=0.2)
            if msg:
                seen.append(msg)
        await process.wait.asynced()()
        return seen, process.result()

    seen, result = asyncio.run(monitor_process())
    assert len(result) == 20
    assert all(m["status"] == "working" for m in seen)
    assert {m["run"] for m in seen} <= {0, 5, 10, 15}


# ================================================================ autoreconnect


@autoreconnect(start_threads=False, **{"psycopg2.Connection": {"*": "secret"}})
class DatabaseWorker(Skprocess):
    def __init__(self, db_connection: Any, query: str) -> None:
        self.db = db_connection
        self.query = query
        self.process_config.runs = 1
        self.results: list[Any] | None = None

    def __run__(self) -> None:
        cursor = self.db.cursor()
        cursor.execute(self.query)
        self.results = cursor.fetchall()
        cursor.close()

    def __result__(self) -> list[Any] | None:
        return self.results


def test_basic_autoreconnect_with_pool(tmp_path: Path) -> None:
    # The page's usage is "conceptual" (psycopg2 and a server); a sqlite file database takes the same
    # Reconnector path: serialized without the connection, reconnected in each child.
    db = sqlite3.connect(tmp_path / "app.db")
    db.execute("create table users (name text)")
    db.execute("create table orders (id integer)")
    db.executemany("insert into users values (?)", [("ann",), ("bob",)])
    db.executemany("insert into orders values (?)", [(1,), (2,), (3,)])
    db.commit()
    try:
        with Pool(workers=2) as pool:
            queries = [
                (db, "SELECT * FROM users LIMIT 10"),
                (db, "SELECT * FROM orders LIMIT 10"),
            ]
            results = pool.star().map(DatabaseWorker, queries)
        assert results == [[("ann",), ("bob",)], [(1,), (2,), (3,)]]
    finally:
        db.close()


@autoreconnect(
    start_threads=False,
    **{
        "psycopg2.Connection": {"*": "default_pass", "analytics_db": "analytics_pass"},
        "redis.Redis": {"*": "redis_secret"},
        "pymongo.MongoClient": {"*": "mongo_pass"},
    },
)
class MultiDbWorker(Skprocess):
    def __init__(self, main_db: Any, analytics_db: Any, cache: Any, mongo: Any) -> None:
        self.main_db = main_db
        self.analytics_db = analytics_db
        self.cache = cache
        self.mongo = mongo
        self.process_config.runs = 1

    def __run__(self) -> None:
        self.seen = (
            self.main_db.execute("q1"),
            self.analytics_db.execute("q2"),
            self.cache.get("key"),
        )

    def __result__(self) -> str:
        return "done"


def test_autoreconnect_with_multiple_connection_types(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    fakes = Path(__file__).parent.parent / "kit_fake_drivers"  # fake psycopg2/redis clients
    monkeypatch.syspath_prepend(str(fakes))
    try:
        import psycopg2
        import redis

        main = psycopg2.connect(dbname="main", password="x")
        analytics = psycopg2.connect(dbname="analytics", password="y")
        cache = redis.Redis(host="cache.local", port=6379, password="z")
        assert MultiDbWorker(main, analytics, cache, None).run() == "done"
    finally:
        for name in ("psycopg2", "redis"):
            sys.modules.pop(name, None)


# ================================================================ Full-on distributed task queue


class TaskStats:
    def __init__(self) -> None:
        self.total_tasks = 0
        self.completed = 0
        self.failed = 0
        self.retried = 0

    def record_complete(self) -> None:
        self.completed += 1
        self.total_tasks += 1

    def record_fail(self) -> None:
        self.failed += 1
        self.total_tasks += 1

    def record_retry(self) -> None:
        self.retried += 1


class TaskWorker(Skprocess):
    def __init__(self, shared: Share, task: dict[str, Any]) -> None:
        self.shared = shared
        self.task = task
        self.process_config.runs = 1
        self.process_config.lives = 3
        self.process_config.timeouts.run = 5.0
        self.result_data: dict[str, Any] | None = None
        self.attempts = 0

    def __prerun__(self) -> None:
        self.attempts += 1
        if self.attempts > 1:
            self.shared.stats.record_retry()

    def __run__(self) -> None:
        start = timing.time()
        try:
            iterations = 500 + (self.task["id"] * 37 % 1500)
            data = self.task["data"].encode()
            for _ in range(iterations):
                data = hashlib.sha256(data).digest()
            checksum = hashlib.sha256(self.task["data"].encode()).digest()
            if checksum[0] % 10 == 0:
                raise RuntimeError(f"Task {self.task['id']} failed (content check)")
            self.result_data = {
                "task_id": self.task["id"],
                "input": self.task["data"],
                "output": hashlib.sha256(data).hexdigest()[:32],
                "iterations": iterations,
                "attempts": self.attempts,
                "status": "success",
            }
            self.shared.stats.record_complete()
        finally:
            self.shared.timer.add_time(timing.elapsed(start))

    def __error__(self) -> dict[str, Any]:
        self.shared.stats.record_fail()
        return {
            "task_id": self.task["id"],
            "input": self.task["data"],
            "output": None,
            "attempts": self.attempts,
            "status": "failed",
            "error": str(self.error),
        }

    def __result__(self) -> dict[str, Any] | None:
        return self.result_data


def run_task_queue(tasks: list[dict[str, Any]], workers: int = 4) -> dict[str, Any]:
    with Share() as share:
        share.stats = TaskStats()
        share.timer = Sktimer()
        with Pool(workers=workers) as pool:
            results = pool.star().map(TaskWorker, [(share, task) for task in tasks])
        stats = {
            "total_tasks": share.stats.total_tasks,
            "completed": share.stats.completed,
            "failed": share.stats.failed,
            "retried": share.stats.retried,
            "timing": {
                "total": share.timer.total_time,
                "mean": share.timer.mean,
                "min": share.timer.min,
                "max": share.timer.max,
                "p95": share.timer.percentile(95),
                "count": share.timer.num_times,
            },
        }
    return {"results": results, "stats": stats}


def test_full_distributed_task_queue() -> None:
    tasks = [{"id": i, "data": f"task_data_{i}"} for i in range(50)]
    failing = {t["id"] for t in tasks if hashlib.sha256(t["data"].encode()).digest()[0] % 10 == 0}
    assert failing  # the page's data has content failures
    output = run_task_queue(tasks, workers=4)
    stats = output["stats"]
    assert stats["total_tasks"] == 50
    assert stats["failed"] == len(failing)
    assert stats["completed"] == 50 - len(failing)
    assert stats["retried"] == 2 * len(failing)  # 3 lives: two retries of each failing task
    assert stats["timing"]["count"] == 50 + 2 * len(
        failing
    )  # the finally block times every attempt
    for r in output["results"]:
        if r["task_id"] in failing:
            assert (r["status"], r["attempts"]) == ("failed", 3)
        else:
            assert (r["status"], r["attempts"]) == ("success", 1)


# ================================================================ Full-on data streaming pipeline


class Results:
    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []
        self.count = 0

    def add(self, item: dict[str, Any]) -> None:
        self.items.append(item)
        self.count += 1


class DataPipelineWorker(Skprocess):
    def __init__(self, shared: Share, worker_id: int) -> None:
        self.shared = shared
        self.worker_id = worker_id
        self.process_config.runs = None
        self.processed = 0

    def __prerun__(self) -> None:
        msg = self.listen(timeout=0.1)
        self._pending_data = None
        if msg is not None:
            if msg.get("action") == "stop":
                self.stop()
            elif msg.get("action") == "data":
                self._pending_data = msg["payload"]

    def __run__(self) -> None:
        if self._pending_data is None:
            return
        with TimeThis() as run_timer:
            data = self._pending_data
            if isinstance(data, str):
                data_bytes = data.encode()
                for _ in range(500):
                    data_bytes = hashlib.sha256(data_bytes).digest()
                output: Any = hashlib.sha256(data_bytes).hexdigest()[:16]
            else:
                output = data * 2
            result = {
                "worker": self.worker_id,
                "input": data,
                "output": output,
                "timestamp": timing.time(),
            }
        self.shared.results.add(result)
        self.shared.timer.add_time(run_timer.most_recent)
        self.processed += 1
        self._pending_data = None

    def __postrun__(self) -> None:
        if self.processed > 0 and self.processed % 10 == 0:
            self.tell({"worker": self.worker_id, "processed": self.processed, "status": "running"})

    def __onfinish__(self) -> None:
        self.tell({"worker": self.worker_id, "processed": self.processed, "status": "finished"})

    def __result__(self) -> dict[str, int]:
        return {"worker_id": self.worker_id, "total_processed": self.processed}


def run_pipeline(data_stream: Any, num_workers: int = 2, timeout: float = 5.0) -> dict[str, Any]:
    with Share() as share:
        share.results = Results()
        share.timer = Sktimer()
        workers = []
        for i in range(num_workers):
            worker = DataPipelineWorker(share, worker_id=i)
            worker.start()
            workers.append(worker)
        start_time = timing.time()
        worker_idx = 0
        for item in data_stream:
            if timing.elapsed(start_time) > timeout:
                break
            checksum = hashlib.sha256(str(item).encode()).hexdigest()[:8]
            workers[worker_idx].tell({"action": "data", "payload": item, "checksum": checksum})
            worker_idx = (worker_idx + 1) % num_workers
        for worker in workers:
            worker.tell({"action": "stop"})
        statuses = []
        for worker in workers:
            while True:
                msg = worker.listen(timeout=0.5)
                if msg is None:
                    break
                statuses.append(msg)
        for worker in workers:
            worker.wait()
        worker_results = [worker.result() for worker in workers]
        return {
            "results": share.results.items,
            "count": share.results.count,
            "worker_stats": worker_results,
            "timing": {
                "total": share.timer.total_time,
                "mean": share.timer.mean if share.timer.num_times > 0 else 0,
            },
            "statuses": statuses,
        }


def test_full_data_streaming_pipeline() -> None:
    def generate_data(n: int) -> Any:
        for i in range(n):
            yield f"item_{i}"

    output = run_pipeline(generate_data(100), num_workers=3, timeout=10.0)
    assert output["count"] == 100
    assert sorted(r["input"] for r in output["results"]) == sorted(f"item_{i}" for i in range(100))
    assert [ws["total_processed"] for ws in output["worker_stats"]] == [34, 33, 33]
    # The page collects status messages with 0.5 s gaps, so how many arrive depends on the machine's
    # speed; each one that does is a true report of its worker.
    final = {ws["worker_id"]: ws["total_processed"] for ws in output["worker_stats"]}
    for status in output["statuses"]:
        if status["status"] == "finished":
            assert status["processed"] == final[status["worker"]]
        else:
            assert status["status"] == "running"
            assert status["processed"] % 10 == 0
    assert output["timing"]["mean"] > 0
