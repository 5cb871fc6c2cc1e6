"""Parents and children for the fault tests (``faults/``), importable by child processes.

Run as ``python -c "import kit_faults_workers as k; k.main('<mode>')"``: the parent prints ``ready``
once its children are running, then blocks in the operation under test (``Pool.map``,
``Skprocess.wait()``, ``Share`` use) or on stdin (to be killed without cleanup). It prints
``interrupted`` and exits with code 3 when a ``KeyboardInterrupt`` reaches it.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

from suitkaise.processing import Pool, Share, Skprocess
from suitkaise.shared_counter import SharedMemoryCounter

# --- functions and classes run in children -----------------------------------------------------------


def announce_then_sleep(x: int) -> int:
    """A Pool item: prints ``started <pid>`` on the shared stdout, then sleeps in C for a long time."""
    print(f"started {os.getpid()}", flush=True)
    time.sleep(600)
    return x


def announce_pid_on_fifo(fifo: str) -> int:
    """A Pool item: writes its worker's pid into ``fifo`` (opened by the test), then sleeps.

    If the pool runs the item a second time (``<fifo>.ran`` exists), it returns ``-1`` at once instead
    (the fifo has no reader any more), so a re-run shows up as a result instead of a hang.
    """
    marker = fifo + ".ran"
    if os.path.exists(marker):
        return -1
    with open(marker, "w") as fh:
        fh.write("ran")
    with open(fifo, "w") as fh:
        fh.write(f"{os.getpid()}\n")
    time.sleep(600)
    return 0


def triple(x: int) -> int:
    """A fast Pool item."""
    return x * 3


class Sleeper(Skprocess):
    """Tells its pid on the first run, then sleeps in C until stopped or killed."""

    def __init__(self) -> None:
        self.process_config.runs = None

    def __prerun__(self) -> None:
        if self.current_run == 0:
            self.tell(os.getpid())

    def __run__(self) -> None:
        time.sleep(600)


class Steps(Skprocess):
    """Tells ``(pid, run)`` at each prerun and waits for ``"go"`` on run 1; result is 10 per run."""

    def __init__(self, lives: int) -> None:
        self.process_config.runs = 3
        self.process_config.lives = lives
        self.total = 0

    def __prerun__(self) -> None:
        self.tell((os.getpid(), self.current_run))

    def __run__(self) -> None:
        if self.current_run == 1 and self.listen(timeout=60) != "go":
            raise RuntimeError("no go")
        self.total += 10

    def __result__(self) -> int:
        return self.total


def hold_counter_lock(name: str, run_id: str, held: Any, release: Any) -> None:
    """Take the counter's lock, set ``held``, and keep the lock until ``release`` (or being killed)."""
    counter = SharedMemoryCounter(name, create=False, run_id=run_id)
    counter.get_lock().acquire()
    held.set()
    release.wait(120)


def counter_increments(name: str, run_id: str, times: int) -> None:
    """``counter.value += 1`` ``times`` times (blocks while a live process holds the lock)."""
    counter = SharedMemoryCounter(name, create=False, run_id=run_id)
    for _ in range(times):
        counter.value += 1
    counter.close()


# --- parents -----------------------------------------------------------------------------------------


def _family() -> list[int]:
    import psutil

    return [c.pid for c in psutil.Process().children(recursive=True)]


def _interrupted() -> None:
    print("interrupted", flush=True)
    sys.exit(3)


def parent_pool_map() -> None:
    with Pool(workers=2) as pool:
        try:
            print("ready", flush=True)
            pool.map(announce_then_sleep, range(4))
        except KeyboardInterrupt:
            _interrupted()


def parent_skprocess_wait() -> None:
    process = Sleeper()
    process.start()
    pid = process.listen(timeout=120)
    try:  # "ready" inside the try: the test's SIGINT may land while print() is still returning
        print(f"ready {pid}", flush=True)
        process.wait()
    except KeyboardInterrupt:
        _interrupted()


def parent_share_use() -> None:
    share = Share()
    share.counter = 0
    share.items = []
    try:  # "ready" inside the try: the test's SIGINT may land while print() is still returning
        print(f"ready {share._sk_id()}", flush=True)
        while True:
            share.counter += 1
            share.items.append(share.counter)
            if len(share.items) > 50:
                share.items.clear()
    except KeyboardInterrupt:
        _interrupted()


def parent_exits_without_cleanup() -> None:
    """Starts a Pool (an item running), an Skprocess and a Share, prints ``ready``, blocks on stdin."""
    pool = Pool(workers=1)
    future = pool.map.background()(announce_then_sleep, [1])
    process = Sleeper()
    process.start()
    process.listen(timeout=120)
    share = Share()
    share.value = [1, 2, 3]
    print(f"ready {share._sk_id()}", flush=True)
    sys.stdin.readline()  # the test kills us here
    print(future, file=sys.stderr)


MODES = {
    "pool-map": parent_pool_map,
    "skprocess-wait": parent_skprocess_wait,
    "share-use": parent_share_use,
    "exit-without-cleanup": parent_exits_without_cleanup,
}


def main(mode: str) -> None:
    """Entry point for the parent processes of the fault tests."""
    MODES[mode]()


def announce_or_triple(arg: int | str) -> int:
    """A Pool item: a ``str`` is a fifo path (announce the pid there, then sleep); an ``int`` is tripled."""
    if isinstance(arg, str):
        return announce_pid_on_fifo(arg)
    return triple(arg)
