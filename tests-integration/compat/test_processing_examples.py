"""The examples of the suitkaise 0.4 ``processing`` examples page, run on this kit.

Each test is one example of ``/work/shared/reference/suitkaise-0.4/processing-examples.md`` with the
published import lines and the page's classes (at module level, as in a script). Where the page only
prints, the test checks what the printed comment promises. Examples that need a real database server
(``autoreconnect`` with psycopg2) use sqlite, which goes through the same ``Reconnector`` path.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import os
import sqlite3
from typing import Any

import pytest

from suitkaise import timing
from suitkaise.processing import (
    Pipe,
    Pool,
    ProcessError,
    ProcessTimeoutError,
    Share,
    Skprocess,
    autoreconnect,
)
from suitkaise.timing import Sktimer

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


@pytest.mark.xfail(
    strict=True,
    reason="ProcessTimeoutError.section is 'run' in this kit; the 0.4 page prints "
    "'Timeout in __run__ after 2.0s' (section '__run__'). Skprocess is helper C's: listed for the lead.",
)
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
