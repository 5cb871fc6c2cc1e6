"""Thread safety: each thread has its own running frame; samples from all threads aggregate."""

from __future__ import annotations

import threading

import pytest

from sktiming import Sktimer, timethis

THREADS = 8
PER_THREAD = 300


def _run_threads(target: object) -> None:
    barrier = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def body() -> None:
        try:
            barrier.wait(timeout=60)
            target()  # type: ignore[operator]
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=body) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors


@pytest.mark.timeout(120)
def test_concurrent_start_stop_from_many_threads_keeps_every_sample() -> None:
    timer = Sktimer()

    def work() -> None:
        for _ in range(PER_THREAD):
            timer.start()
            timer.stop()

    _run_threads(work)
    assert timer.num_times == THREADS * PER_THREAD
    assert not timer.is_running


@pytest.mark.timeout(120)
def test_concurrent_timethis_and_add_time_keep_every_sample() -> None:
    shared = Sktimer()

    @timethis(shared)
    def tick() -> None:
        pass

    def work() -> None:
        for _ in range(PER_THREAD):
            tick()
            shared.add_time(0.001)

    _run_threads(work)
    assert shared.num_times == 2 * THREADS * PER_THREAD
    assert len(shared.times) == 2 * THREADS * PER_THREAD


@pytest.mark.timeout(120)
def test_rolling_window_under_concurrency_stays_bounded() -> None:
    shared = Sktimer(max_times=50)

    @timethis(shared)
    def tick() -> None:
        pass

    def work() -> None:
        for _ in range(PER_THREAD):
            tick()
            shared.add_time(0.5)

    _run_threads(work)
    assert shared.num_times == 50
    assert len(shared._paused) == 50


@pytest.mark.timeout(60)
def test_running_frames_are_per_thread() -> None:
    timer = Sktimer()
    timer.start()
    seen: list[str] = []

    def other() -> None:
        assert not timer.is_running
        try:
            timer.stop()
        except RuntimeError:
            seen.append("no frame in this thread")
        timer.start()
        timer.stop()

    thread = threading.Thread(target=other)
    thread.start()
    thread.join(timeout=30)
    assert seen == ["no frame in this thread"]
    assert timer.is_running  # the main thread's frame is untouched
    timer.stop()
    assert timer.num_times == 2


@pytest.mark.timeout(120)
def test_statistics_while_writers_run_never_fail() -> None:
    timer = Sktimer(max_times=100)
    stop = threading.Event()
    errors: list[BaseException] = []

    def writer() -> None:
        while not stop.is_set():
            timer.add_time(0.01)

    def reader() -> None:
        try:
            for _ in range(300):
                snap = timer.get_statistics()
                assert snap is None or snap.num_times <= 100
                timer.percentile(50)
                repr(timer)
        except BaseException as exc:
            errors.append(exc)

    writers = [threading.Thread(target=writer) for _ in range(2)]
    for thread in writers:
        thread.start()
    reader()
    stop.set()
    for thread in writers:
        thread.join(timeout=30)
    assert not errors, errors
