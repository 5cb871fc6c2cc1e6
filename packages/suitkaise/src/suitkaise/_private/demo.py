"""The demo behind ``python -m suitkaise demo``.

Until the full-kit demo lands (issue: the full kit), it runs the shared counter's Quick Start:
three processes each add 5 to one counter they reach by name, and the parent prints 15.
"""

from __future__ import annotations

import multiprocessing
import os
import time

from shared_counter import SharedMemoryCounter


def _worker(counter_name: str, run_id: str, increments: int) -> None:
    counter = SharedMemoryCounter(name=counter_name, create=False, run_id=run_id)
    for _ in range(increments):
        counter.value += 1
        print(f"Worker {os.getpid()} incremented counter to {counter.value}", flush=True)
        time.sleep(0.01)
    counter.close()


def run_demo() -> int:
    """Run the demo; return the process exit code."""
    run_id = f"demo{os.getpid()}"
    counter = SharedMemoryCounter(name="tasks", create=True, run_id=run_id, initial_value=0)
    try:
        workers = [
            multiprocessing.Process(target=_worker, args=("tasks", run_id, 5)) for _ in range(3)
        ]
        for proc in workers:
            proc.start()
        for proc in workers:
            proc.join()
        print(f"Final counter value: {counter.value}")
        return 0 if counter.value == 15 else 1
    finally:
        counter.unlink()
