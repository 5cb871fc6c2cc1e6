"""The seed README's Quick Start and its four use cases, as written, made true."""

from __future__ import annotations

import multiprocessing.context
import re
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import shared_counter_workers as workers

from shared_counter import SharedMemoryCounter

Make = Callable[..., SharedMemoryCounter]

QUICK_START = """
from shared_counter import SharedMemoryCounter
from multiprocessing import Process
import time

def worker(counter_name: str, run_id: str, increments: int):
    # Connect to existing counter by name
    counter = SharedMemoryCounter(name=counter_name, create=False, run_id=run_id)

    for i in range(increments):
        counter.value += 1
        print(f"Worker incremented counter to {counter.value}")
        time.sleep(0.1)

    counter.close()

def main():
    run_id = "my_app"

    # Create the counter in main process
    task_counter = SharedMemoryCounter(name="tasks", create=True, run_id=run_id, initial_value=0)

    # Start worker processes
    processes = []
    for i in range(3):
        p = Process(target=worker, args=("tasks", run_id, 5))
        p.start()
        processes.append(p)

    # Wait for all processes to finish
    for p in processes:
        p.join()

    print(f"Final counter value: {task_counter.value}")

    # Cleanup
    task_counter.unlink()  # Delete shared memory

if __name__ == "__main__":
    main()
"""


@pytest.mark.timeout(300)
@pytest.mark.parametrize("method", ["spawn", "forkserver", "fork"])
def test_quick_start_prints_15(tmp_path: Path, run_id: str, method: str) -> None:
    if method != "spawn" and sys.platform == "darwin":
        pytest.skip("macOS runs spawn")
    # The only change: a run_id of our own, so concurrent test runs never share the counter.
    script = QUICK_START.replace('run_id = "my_app"', f'run_id = "{run_id}"')
    script = script.replace(
        'if __name__ == "__main__":\n',
        f'if __name__ == "__main__":\n    import multiprocessing; multiprocessing.set_start_method("{method}")\n',
    )
    path = tmp_path / "quick_start.py"
    path.write_text(script)
    proc = subprocess.run(
        [sys.executable, "-W", "error", str(path)],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""  # no resource_tracker warnings, nothing leaked
    assert proc.stdout.splitlines()[-1] == "Final counter value: 15"
    # (unbuffered children may interleave a print's text and its newline: search, do not split)
    seen = sorted(int(v) for v in re.findall(r"Worker incremented counter to (\d+)", proc.stdout))
    assert len(seen) == 15, proc.stdout  # (two workers may print the same value)
    assert max(seen) == 15


@pytest.mark.timeout(180)
def test_quick_start_worker_in_process(
    make_counter: Make, ctx: multiprocessing.context.BaseContext
) -> None:
    task_counter = make_counter("tasks", initial_value=0)
    processes = [
        ctx.Process(target=workers.quick_start_worker, args=("tasks", task_counter.run_id, 5))  # type: ignore[attr-defined]
        for _ in range(3)
    ]
    for p in processes:
        p.start()
    for p in processes:
        p.join(120)
    assert [p.exitcode for p in processes] == [0, 0, 0]
    assert task_counter.value == 15


@pytest.mark.timeout(120)
def test_use_case_1_process_coordination(
    run_id: str, ctx: multiprocessing.context.BaseContext
) -> None:
    num_workers = 3
    ready_counter = SharedMemoryCounter(
        "workers_ready", create=True, run_id=run_id, initial_value=0
    )
    try:
        start = ctx.Event()
        procs = [
            ctx.Process(
                target=workers.count, args=("workers_ready", run_id, 1, "plus_equal", start)
            )  # type: ignore[attr-defined]
            for _ in range(num_workers)
        ]
        for proc in procs:
            proc.start()
        start.set()
        # the seed polls with sleep; wait_for is the same without choosing the interval
        deadline = time.monotonic() + 100
        while ready_counter.value < num_workers and time.monotonic() < deadline:
            time.sleep(0.1)
        assert ready_counter.value == num_workers
        assert ready_counter.wait_for(num_workers, timeout=1)
        for proc in procs:
            proc.join(100)
        assert [proc.exitcode for proc in procs] == [0] * num_workers
    finally:
        ready_counter.unlink()
        ready_counter.close()


@pytest.mark.timeout(120)
def test_use_case_2_replacing_non_picklable_values(
    run_id: str, ctx: multiprocessing.context.BaseContext
) -> None:
    import pickle

    counter = SharedMemoryCounter("shared_count", create=True, run_id=run_id, initial_value=0)
    try:
        # This counter can be safely pickled and passed to subprocesses
        out = ctx.Queue()
        proc = ctx.Process(target=workers.increment_pickled, args=(counter, 7, out))  # type: ignore[attr-defined]
        proc.start()
        out.get(timeout=100)
        proc.join(100)
        assert proc.exitcode == 0
        assert pickle.loads(pickle.dumps(counter)).value == 7
        assert counter.value == 7
    finally:
        counter.unlink()
        counter.close()


@pytest.mark.timeout(300)
def test_use_case_3_resource_counting(
    run_id: str, ctx: multiprocessing.context.BaseContext
) -> None:
    # Track available resources across processes
    available_slots = SharedMemoryCounter("slots", create=True, run_id=run_id, initial_value=10)
    try:
        # Worker processes decrement when taking a slot
        slots_counter = SharedMemoryCounter("slots", create=False, run_id=run_id)
        if slots_counter.value > 0:
            slots_counter.value -= 1
            assert available_slots.value == 9
            # Do work...
            slots_counter.value += 1  # Release slot when done
        assert available_slots.value == 10
        slots_counter.close()
        start = ctx.Event()
        procs = [
            ctx.Process(target=workers.take_slot, args=("slots", run_id, 5_000, start))
            for _ in range(3)
        ]  # type: ignore[attr-defined]
        for proc in procs:
            proc.start()
        start.set()
        for proc in procs:
            proc.join(200)
        assert [proc.exitcode for proc in procs] == [0, 0, 0]
        assert available_slots.value == 10  # every slot taken was given back: nothing lost
    finally:
        available_slots.unlink()
        available_slots.close()


@pytest.mark.timeout(120)
def test_use_case_4_progress_tracking(
    run_id: str, ctx: multiprocessing.context.BaseContext, capsys: pytest.CaptureFixture[str]
) -> None:
    completed = SharedMemoryCounter("completed", create=True, run_id=run_id, initial_value=0)
    total_tasks = 1000
    try:
        start = ctx.Event()
        procs = [
            ctx.Process(
                target=workers.count,
                args=("completed", run_id, total_tasks // 2, "plus_equal", start),
            )  # type: ignore[attr-defined]
            for _ in range(2)
        ]
        for proc in procs:
            proc.start()
        start.set()
        assert completed.wait_for(total_tasks, timeout=100)
        for proc in procs:
            proc.join(100)
        print(f"Progress: {completed.value}/{total_tasks}")
        assert capsys.readouterr().out == "Progress: 1000/1000\n"
    finally:
        completed.unlink()
        completed.close()


def test_api_compatibility_with_multiprocessing_value(make_counter: Make) -> None:
    counter = make_counter("my_counter", initial_value=0)
    with counter.get_lock():  # a real lock now
        counter.value += 1
    assert counter.value == 1


def test_quick_start_text_matches_the_seed() -> None:
    seed = Path("/work/shared/seeds/000_73bb6d886ea0825e.txt")
    if not seed.is_file():
        pytest.skip("the seed documents are not on this machine")
    text = seed.read_text()
    assert textwrap.dedent(QUICK_START).strip() in text
