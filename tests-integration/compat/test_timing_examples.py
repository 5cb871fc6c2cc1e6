"""The examples of the suitkaise 0.4 ``timing`` pages (quick start, how to use, examples), run on this kit.

Each test is one example of ``/work/shared/reference/suitkaise-0.4/timing-*.md`` with the published import
lines; placeholders the pages leave undefined (``do_work()``, ``database.query``, ``input()``) are small
local functions. Assertions check what the page's comments promise, never exact durations.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import threading
import time
import warnings
from typing import Any

import pytest

pytestmark = pytest.mark.timeout(120)


def do_work() -> int:
    return sum(i * i for i in range(20_000))


# ---------------------------------------------------------------- timing-quick-start.md


def test_quick_start_time_a_function_and_statistics() -> None:
    from suitkaise.timing import timethis

    @timethis()
    def process_data() -> None:
        do_work()

    process_data()
    assert process_data.timer.most_recent is not None  # type: ignore[attr-defined]
    for _ in range(100):
        process_data()
    timer = process_data.timer  # type: ignore[attr-defined]
    assert timer.num_times == 101
    assert timer.min <= timer.median <= timer.max
    assert timer.min <= timer.mean <= timer.max
    assert timer.stdev is not None
    assert timer.min <= timer.percentile(95) <= timer.max


def test_quick_start_time_a_code_block() -> None:
    from suitkaise.timing import TimeThis

    with TimeThis() as timer:
        do_work()

    assert timer.most_recent is not None
    assert timer.most_recent > 0
    assert timer.num_times == 1


def test_quick_start_use_a_timer_directly() -> None:
    from suitkaise.timing import Sktimer

    timer = Sktimer()
    timer.start()
    do_work()
    elapsed = timer.stop()
    assert elapsed == timer.most_recent == timer.mean


def test_quick_start_pause_excludes_user_input() -> None:
    from suitkaise.timing import Sktimer

    def query(_sql: str) -> list[int]:
        return list(range(1000))

    def fake_input(_prompt: str) -> str:
        time.sleep(0.2)
        return "y"

    exported: list[list[int]] = []
    timer = Sktimer()
    timer.start()
    results = query("SELECT * FROM users")
    timer.pause()
    answer = fake_input("Export? (y/n): ")
    timer.resume()
    if answer == "y":
        exported.append(results)
    timer.stop()  # user input time excluded
    assert timer.total_time_paused is not None
    assert timer.total_time_paused >= 0.2
    assert timer.most_recent is not None
    assert timer.most_recent < timer.total_time_paused


def test_quick_start_discard_failed_measurements() -> None:
    from suitkaise.timing import Sktimer

    calls = iter(range(100))

    def unreliable_operation() -> int:
        n = next(calls)
        if n % 4 == 0:
            raise RuntimeError("flaky")
        return n

    timer = Sktimer()
    for _ in range(100):
        timer.start()
        try:
            unreliable_operation()
            timer.stop()
        except Exception:
            timer.discard()
    assert timer.num_times == 75
    assert not timer.is_running


def test_quick_start_rolling_window_and_threshold() -> None:
    from suitkaise.timing import Sktimer, timethis

    timer = Sktimer(max_times=1000)
    for _ in range(1500):
        timer.add_time(0.001)
    assert timer.num_times == 1000

    @timethis(threshold=0.1)
    def handle_request(slow: bool) -> None:
        time.sleep(0.15 if slow else 0.0)

    handle_request(False)
    handle_request(True)
    assert handle_request.timer.num_times == 1  # type: ignore[attr-defined]
    assert handle_request.timer.most_recent >= 0.1  # type: ignore[attr-defined]


# ---------------------------------------------------------------- timing-how-to-use.md


def test_how_to_imports() -> None:
    from suitkaise import timing
    from suitkaise.timing import (
        Sktimer,
        TimeThis,
        clear_global_timers,
        elapsed,
        sleep,
        time,
        timethis,
    )

    assert timing.Sktimer is Sktimer
    assert timing.TimeThis is TimeThis
    assert timing.timethis is timethis
    assert callable(clear_global_timers)
    assert callable(elapsed)
    assert callable(sleep)
    assert callable(time)


def test_how_to_time_sleep_elapsed() -> None:
    from suitkaise import timing

    start_time = timing.time()
    assert abs(start_time - time.time()) < 60
    end_time = timing.sleep(0.05)
    assert end_time >= start_time + 0.05
    assert timing.elapsed(start_time, end_time) == pytest.approx(end_time - start_time)
    assert timing.elapsed(end_time, start_time) == timing.elapsed(start_time, end_time)
    assert timing.elapsed(start_time) >= 0.05

    async def main() -> float:
        return await timing.sleep.asynced()(0.01)

    assert asyncio.run(main()) >= end_time


def test_how_to_sktimer_control_methods() -> None:
    from suitkaise import timing

    timer = timing.Sktimer()
    for _ in range(100):
        timer.start()
        do_work()
        timer.stop()
    assert f"{timer.mean:.3f}"
    assert f"{timer.stdev:.3f}"
    assert f"{timer.percentile(95):.3f}"

    start = timer.start()
    assert isinstance(start, float)
    with pytest.warns(UserWarning, match="nested"):
        timer.start()  # nested frame
    timer.discard()
    timer.discard()
    with pytest.raises(RuntimeError):
        timer.stop()
    with pytest.raises(RuntimeError):
        timer.discard()
    with pytest.raises(RuntimeError):
        timer.lap()
    with pytest.raises(RuntimeError):
        timer.pause()
    with pytest.raises(RuntimeError):
        timer.resume()

    timer.reset()
    timer.start()
    for _ in range(100):
        do_work()
        timer.lap()
    timer.discard()
    assert timer.num_times == 100

    timer.start()
    timer.pause()
    with pytest.warns(UserWarning, match="already paused"):
        timer.pause()
    timer.resume()
    with pytest.warns(UserWarning, match="not paused"):
        timer.resume()
    assert timer.stop() >= 0


def test_how_to_add_time_set_max_times_reset() -> None:
    from suitkaise import timing

    timer = timing.Sktimer()
    timer.add_time(1.5)
    timer.add_time(2.3)
    timer.add_time(1.8)
    assert f"{timer.mean:.3f}" == "1.867"
    timer.set_max_times(2)
    assert timer.max_times == 2
    assert timer.times == [2.3, 1.8]
    timer.set_max_times(None)
    assert timer.max_times is None
    timer.reset()
    assert timer.num_times == 0
    assert timer.most_recent is None


def test_how_to_statistics_properties_and_methods() -> None:
    from suitkaise import timing

    timer = timing.Sktimer()
    for value in (3.0, 1.0, 2.0, 5.0):
        timer.add_time(value)
    assert timer.num_times == 4
    assert timer.most_recent == timer.result == 5.0
    assert timer.total_time == 11.0
    assert timer.mean == 2.75
    assert timer.median == 2.5
    assert timer.min == timer.fastest_time == 1.0
    assert timer.max == timer.slowest_time == 5.0
    assert timer.fastest_index == 1
    assert timer.slowest_index == 3
    assert timer.variance == pytest.approx(2.9166666)
    assert timer.stdev == pytest.approx(2.9166666**0.5)
    assert timer.total_time_paused == 0.0
    first_time = timer.get_time(0)
    last_time = timer.get_time(-1)
    assert (first_time, last_time, timer.get_time(10)) == (3.0, 5.0, None)
    assert timer.percentile(50) == timer.median
    assert timer.percentile(0) == 1.0
    assert timer.percentile(100) == 5.0
    with pytest.raises(ValueError):
        timer.percentile(101)


def test_how_to_frozen_snapshot_timerstats() -> None:
    from suitkaise import timing

    timer = timing.Sktimer()
    assert timer.get_statistics() is None  # "None if no measurements"
    timer.add_time(1.0)
    timer.add_time(3.0)
    snapshot = timer.get_statistics()
    timer.start()
    do_work()
    timer.stop()
    assert snapshot is not None
    assert snapshot.mean == 2.0
    assert snapshot.num_times == 2
    for name in (
        "times",
        "num_times",
        "most_recent",
        "most_recent_index",
        "total_time",
        "total_time_paused",
        "mean",
        "median",
        "min",
        "max",
        "slowest_time",
        "fastest_time",
        "slowest_index",
        "fastest_index",
        "stdev",
        "variance",
    ):
        assert getattr(snapshot, name) is not None, name
    assert list(snapshot.times) == [1.0, 3.0]
    assert snapshot.most_recent_index == 1
    assert snapshot.percentile(95) == pytest.approx(2.9)
    assert snapshot.get_time(0) == 1.0
    assert timer.get_stats() is not None
    assert timer.get_stats().num_times == 3


def test_how_to_timethis_decorator_auto_timer() -> None:
    from suitkaise import timing

    @timing.timethis()
    def quick_function() -> None:
        pass

    quick_function()
    assert f"Last time: {quick_function.timer.most_recent:.3f}s"  # type: ignore[attr-defined]
    for _ in range(100):
        quick_function()
    assert quick_function.timer.num_times == 101  # type: ignore[attr-defined]

    @timing.timethis(max_times=5)
    def bounded() -> None:
        pass

    for _ in range(10):
        bounded()
    assert bounded.timer.num_times == 5  # type: ignore[attr-defined]


def test_how_to_shared_timer_and_stacked_decorators() -> None:
    from suitkaise import timing

    perf_timer = timing.Sktimer()
    perf_timer.set_max_times(1000)

    @timing.timethis(perf_timer)
    def multiply(a: int, b: int) -> int:
        return a * b

    @timing.timethis(perf_timer)
    def divide(a: int, b: int) -> float:
        return a / b

    for a, b in zip(range(1000), range(1, 1001), strict=False):
        multiply(a, b)
        divide(a, b)
    assert perf_timer.num_times == 1000  # window of 1000 over 2000 calls

    perf_timer = timing.Sktimer()
    overall_timer = timing.Sktimer()

    @timing.timethis(perf_timer)
    @timing.timethis()
    def multiply2(a: int, b: int) -> int:
        return a * b

    @timing.timethis(overall_timer)
    @timing.timethis(perf_timer)
    @timing.timethis()
    def divide2(a: int, b: int) -> float:
        return a / b

    for i in range(1, 11):
        multiply2(i, i)
        divide2(i, i)
    assert perf_timer.num_times == 20
    assert overall_timer.num_times == 10
    assert multiply2.timer.num_times == 10  # type: ignore[attr-defined]
    assert divide2.timer.num_times == 10  # type: ignore[attr-defined]
    assert divide2.timer is not perf_timer  # type: ignore[attr-defined]


def test_how_to_timethis_context_manager() -> None:
    from suitkaise import timing

    with timing.TimeThis() as timer:
        do_work()
    assert f"Time taken: {timer.most_recent:.3f}s"

    api_timer = timing.Sktimer()
    with timing.TimeThis(api_timer):
        json.dumps(list(range(100)))
    with timing.TimeThis(api_timer):
        json.dumps(list(range(200)))
    assert api_timer.num_times == 2
    assert api_timer.mean is not None

    with timing.TimeThis() as timer:
        results = do_work()
        timer.pause()
        user_wants_export = "y"
        time.sleep(0.05)
        timer.resume()
        if user_wants_export.lower() == "y":
            str(results)
    assert timer.total_time_paused is not None
    assert timer.total_time_paused >= 0.05
    assert timer.most_recent is not None
    assert timer.most_recent < 0.05 + timer.total_time_paused

    with timing.TimeThis() as timer:
        timer.lap()
        do_work()
    assert timer.num_times == 2

    gated = timing.Sktimer()
    with timing.TimeThis(gated, threshold=10.0):
        pass
    assert gated.num_times == 0


def test_how_to_a_raising_block_or_call_is_not_recorded() -> None:
    from suitkaise import timing

    timer = timing.Sktimer()
    with pytest.raises(KeyError), timing.TimeThis(timer):
        raise KeyError("x")
    assert timer.num_times == 0

    @timing.timethis()
    def fails() -> None:
        raise KeyError("x")

    with pytest.raises(KeyError):
        fails()
    assert fails.timer.num_times == 0  # type: ignore[attr-defined]


def test_how_to_clear_global_timers() -> None:
    from suitkaise import timing

    @timing.timethis()
    def tracked() -> None:
        pass

    tracked()
    timing.clear_global_timers()
    assert tracked.timer.num_times == 0  # type: ignore[attr-defined]


def test_how_to_thread_safety() -> None:
    from suitkaise import timing

    timer = timing.Sktimer()

    def worker() -> None:
        for _ in range(100):
            timer.start()
            do_work()
            timer.stop()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert timer.num_times == 400


# ---------------------------------------------------------------- timing-examples.md


def test_examples_simple_timing_and_elapsed() -> None:
    from suitkaise import timing

    timer = timing.Sktimer()
    timer.start()
    sum(i * i for i in range(1_000_000))
    elapsed = timer.stop()
    assert elapsed == timer.most_recent

    start = timing.time()
    timing.sleep(0.5)
    end = timing.time()
    assert timing.elapsed(start) >= 0.5
    assert timing.elapsed(start, end) == timing.elapsed(end, start) >= 0.5


def test_examples_multiple_measurements() -> None:
    from suitkaise import timing

    timer = timing.Sktimer()
    for i in range(100):
        timer.start()
        data = {"id": i, "values": list(range(500))}
        json.dumps(data)
        timer.stop()
    assert timer.num_times == 100
    for value in (timer.mean, timer.median, timer.stdev, timer.min, timer.max):
        assert value is not None
    assert timer.percentile(95) <= timer.percentile(99) <= timer.max


def test_examples_using_lap() -> None:
    from suitkaise import timing

    timer = timing.Sktimer()
    timer.start()
    pipeline = [
        ("parse", lambda: json.loads('{"users": ' + json.dumps(list(range(5000))) + "}")),
        ("validate", lambda: [x for x in range(5000) if isinstance(x, int)]),
        ("transform", lambda: {str(k): k * 2 for k in range(5000)}),
        ("serialize", lambda: json.dumps(list(range(5000)))),
    ]
    laps = []
    for _stage_name, stage_fn in pipeline:
        stage_fn()
        laps.append(timer.lap())
    timer.discard()
    assert timer.num_times == 4
    assert timer.total_time == pytest.approx(sum(laps))
    assert timer.max == max(laps)


def test_examples_pause_and_resume() -> None:
    from suitkaise import timing

    timer = timing.Sktimer()
    timer.start()
    sum(range(2_000_000))
    timer.pause()
    time.sleep(1.0)
    timer.resume()
    [x * x for x in range(500_000)]
    elapsed = timer.stop()
    assert timer.total_time_paused is not None
    assert timer.total_time_paused >= 1.0
    assert elapsed == timer.most_recent


def test_examples_basic_timethis_and_ab_comparison() -> None:
    from suitkaise import timing

    with timing.TimeThis() as timer:
        sum(range(1_000_000))
    assert timer.most_recent is not None

    with timing.TimeThis() as timer_a:
        sum(range(1_000_000))
    with timing.TimeThis() as timer_b:
        result_b = 0
        for i in range(1_000_000):
            result_b += i
    assert f"Ratio: {timer_b.most_recent / timer_a.most_recent:.1f}x slower"


def test_examples_shared_timer_with_timethis() -> None:
    from suitkaise import timing

    api_timer = timing.Sktimer()

    def serialize(obj: Any) -> str:
        with timing.TimeThis(api_timer):
            return json.dumps(obj)

    def deserialize(data: str) -> Any:
        with timing.TimeThis(api_timer):
            return json.loads(data)

    objects = [{"id": i, "values": list(range(500))} for i in range(100)]
    for obj in objects:
        assert deserialize(serialize(obj)) == obj
    assert api_timer.num_times == 200
    assert api_timer.total_time is not None
    assert api_timer.percentile(95) is not None


def test_examples_timethis_with_threshold() -> None:
    from suitkaise import timing

    @timing.timethis(threshold=0.1)
    def handle_request(request_id: int) -> None:
        delay = 0.01 if request_id % 10 != 0 else 0.2
        time.sleep(delay)

    for i in range(50):
        handle_request(i)
    # "~5": the five slow requests are always recorded; a fast one only if the machine stalls 90 ms
    assert handle_request.timer.num_times >= 5  # type: ignore[attr-defined]
    assert handle_request.timer.min >= 0.1  # type: ignore[attr-defined]


def test_examples_decorators_basic_shared_stacked_rolling() -> None:
    from suitkaise import timing

    @timing.timethis()
    def sort_data(data: list[int]) -> list[int]:
        return sorted(data)

    datasets = [random.sample(range(100_000), 10_000) for _ in range(20)]
    for data in datasets:
        sort_data(data)
    assert sort_data.timer.num_times == 20  # type: ignore[attr-defined]

    io_timer = timing.Sktimer()

    @timing.timethis(io_timer)
    def serialize(obj: Any) -> str:
        return json.dumps(obj)

    @timing.timethis(io_timer)
    def deserialize(data: str) -> Any:
        return json.loads(data)

    for obj in [{"id": i, "values": list(range(500))} for i in range(100)]:
        deserialize(serialize(obj))
    assert io_timer.num_times == 200

    db_timer = timing.Sktimer()

    @timing.timethis()
    @timing.timethis(db_timer)
    def db_read(key: str) -> Any:
        return json.loads('{"users": 100}').get(key)

    @timing.timethis()
    @timing.timethis(db_timer)
    def db_write(key: str, value: str) -> None:
        json.dumps({key: value})

    for i in range(100):
        db_read(f"key_{i}")
        db_write(f"key_{i}", f"value_{i}")
    assert db_timer.num_times == 200
    assert db_read.timer.num_times == 100
    assert db_write.timer.num_times == 100

    @timing.timethis(max_times=10)
    def process_request() -> None:
        json.dumps({"data": list(range(1000))})

    kept = []
    for i in range(100):
        process_request()
        if (i + 1) % 25 == 0:
            kept.append(process_request.timer.num_times)  # type: ignore[attr-defined]
    assert kept == [10, 10, 10, 10]


def test_examples_concurrent_timing() -> None:
    from suitkaise import timing

    timer = timing.Sktimer()

    def worker(worker_id: int, num_iterations: int) -> None:
        for i in range(num_iterations):
            timer.start()
            data = f"worker_{worker_id}_item_{i}".encode()
            for _ in range(5000):
                data = hashlib.sha256(data).digest()
            timer.stop()

    threads = [threading.Thread(target=worker, args=(i, 25)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert timer.num_times == 100
    assert timer.stdev is not None
    assert timer.percentile(95) is not None


def test_examples_benchmarking_multiple_implementations() -> None:
    from suitkaise import timing

    def benchmark(name: str, func: Any, iterations: int = 100) -> dict[str, Any]:
        timer = timing.Sktimer()
        for _ in range(iterations):
            timer.start()
            func()
            timer.stop()
        return {
            "name": name,
            "mean": timer.mean,
            "stdev": timer.stdev,
            "p50": timer.percentile(50),
            "p95": timer.percentile(95),
            "p99": timer.percentile(99),
        }

    def list_append() -> list[int]:
        result = []
        for i in range(10000):
            result.append(i)
        return result

    results = [
        benchmark("list.append()", list_append),
        benchmark("list comprehension", lambda: [i * 1 for i in range(10000)]),
        benchmark("list(range())", lambda: list(range(10000))),
    ]
    lines = [
        f"{r['name']:<20} {r['mean'] * 1000:>9.3f}ms {r['stdev'] * 1000:>9.3f}ms "
        f"{r['p95'] * 1000:>9.3f}ms {r['p99'] * 1000:>9.3f}ms"
        for r in sorted(results, key=lambda x: x["mean"])
    ]
    assert len(lines) == 3


def test_examples_discard_failed_operations() -> None:
    from suitkaise import timing

    timer = timing.Sktimer()
    successes = 0
    failures = 0
    for _ in range(100):
        timer.start()
        try:
            if random.random() < 0.3:
                raise RuntimeError("transient failure")
            sorted(range(10_000))
            timer.stop()
            successes += 1
        except RuntimeError:
            timer.discard()
            failures += 1
    assert timer.num_times == successes
    assert successes + failures == 100


def test_examples_async_timing() -> None:
    from suitkaise import timing

    @timing.timethis()
    async def fetch_user(user_id: int) -> dict[str, Any]:
        await asyncio.sleep(0.05)
        return {"id": user_id, "name": f"User {user_id}"}

    async def process_batch(user_ids: range) -> tuple[list[dict[str, Any]], float]:
        async with timing.TimeThis() as batch_timer:
            results = []
            for uid in user_ids:
                results.append(await fetch_user(uid))
        return results, batch_timer.most_recent

    async def main() -> None:
        users, batch_time = await process_batch(range(10))
        assert len(users) == 10
        assert batch_time >= 0.5
        assert fetch_user.timer.num_times == 10  # type: ignore[attr-defined]
        assert fetch_user.timer.mean >= 0.05  # type: ignore[attr-defined]
        assert fetch_user.timer.percentile(95) is not None  # type: ignore[attr-defined]

    asyncio.run(main())


def test_examples_frozen_snapshots_and_external_measurements() -> None:
    from suitkaise import timing

    timer = timing.Sktimer()
    for _ in range(50):
        timer.start()
        sorted(range(10_000))
        timer.stop()
    snapshot = timer.get_statistics()
    for _ in range(50):
        timer.start()
        sorted(range(10_000))
        timer.stop()
    assert snapshot is not None
    assert snapshot.num_times == 50
    assert timer.num_times == 100

    timer = timing.Sktimer()
    for t in [0.45, 0.52, 0.48, 0.71, 0.39, 0.55]:
        timer.add_time(t)
    assert f"{timer.mean:.3f}" == "0.517"
    assert timer.percentile(95) == pytest.approx(0.67)
    assert timer.stdev is not None


def test_examples_full_api_performance_monitor_script() -> None:
    from suitkaise import timing

    overall = timing.Sktimer(max_times=1000)

    @timing.timethis()
    @timing.timethis(overall)
    def handle_users() -> None:
        sorted(range(50_000))

    @timing.timethis()
    @timing.timethis(overall)
    def handle_search() -> None:
        {str(i): i for i in range(100_000)}

    @timing.timethis()
    @timing.timethis(overall)
    def handle_health() -> None:
        pass

    def worker(num_requests: int) -> None:
        endpoints = [handle_users, handle_search, handle_health]
        for i in range(num_requests):
            endpoints[i % len(endpoints)]()

    threads = [threading.Thread(target=worker, args=(100,)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert overall.num_times == 400
    counts = {
        fn.__name__: fn.timer.num_times for fn in [handle_users, handle_search, handle_health]
    }  # type: ignore[attr-defined]
    assert counts == {"handle_users": 136, "handle_search": 132, "handle_health": 132}


def test_no_deprecation_warning_on_the_published_spellings() -> None:
    from suitkaise import timing

    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        with timing.TimeThis() as timer:
            pass
        assert timer.num_times == 1
