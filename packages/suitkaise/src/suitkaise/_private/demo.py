"""The demo behind ``python -m suitkaise demo``: a short real workload through every package.

1. ``Pool.map`` of a closure (carried by cucumber) over CPU-bound work, with a progress bar; every item
   also bumps a ``SharedMemoryCounter`` that the workers reach by name.
2. ``Skprocess`` items in a ``Pool`` updating one ``Share`` (a counter, a list and an ``Sktimer``).
3. A ``Pipe`` exchange with an ``Skprocess``.
4. cucumber carrying a ``threading.Lock`` and a sqlite ``:memory:`` connection into a child process
   (``@autoreconnect`` brings the database back with its rows).
5. A ``LocalLock`` and a ``LocalSemaphore`` coordinating ``Pool`` workers: whole lines in one file
   under the lock, at most 2 workers at once in a section under the semaphore, with their ``LockStats``.
6. A summary table of the ``Sktimer`` statistics of every step.

It checks its own results and exits non-zero if any is wrong.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import tempfile
import threading
from collections.abc import Callable
from typing import Any

from cucumber import deserialize, serialize
from shared_counter import SharedMemoryCounter
from sktiming import Sktimer, TimeThis
from suitkaise_processing import Pipe, Pool, Share, Skprocess, autoreconnect
from suitkaise_processing.concurrency import LocalLock, LocalSemaphore, LockStats

WORKERS = 2
PRIME_LIMIT = 60_000
CHUNKS = 24


def _say(text: str) -> None:
    print(text, flush=True)


# --- 1. a closure over CPU-bound work, and a counter shared by name ------------------------------
def make_prime_counter(counter: SharedMemoryCounter) -> Callable[[tuple[int, int]], int]:
    """A closure: cucumber sends it by value, with the counter it captures (which reconnects by name)."""

    def count_primes(bounds: tuple[int, int]) -> int:
        lo, hi = bounds
        found = 0
        for n in range(max(lo, 2), hi):
            if all(n % d for d in range(2, int(n**0.5) + 1)):
                found += 1
        counter.increment()
        return found

    return count_primes


# --- 2. Skprocesses updating one Share ---------------------------------------------------------
class TallyProcess(Skprocess):
    """Five runs; each adds one to the shared counter, notes its run and records its time."""

    def __init__(self, share: Share) -> None:
        self.share = share
        self.process_config.runs = 5

    def __run__(self) -> None:
        with TimeThis() as t:
            total = sum(i * i for i in range(20_000))
        self.share.counter += 1
        self.share.events.append(total % 7)
        self.share.timer.add_time(t.most_recent or 0.0)

    def __result__(self) -> int:
        return int(self.current_run)


# --- 3. a Pipe exchange -----------------------------------------------------------------------
class EchoSquares(Skprocess):
    """Receives numbers on its pipe point until ``None`` and answers with their squares."""

    def __init__(self, point: Any) -> None:
        self.pipe = point
        self.process_config.runs = 1

    def __run__(self) -> None:
        while True:
            value = self.pipe.recv()
            if value is None:
                break
            self.pipe.send(value * value)


# --- 4. a lock and a sqlite connection across a process boundary --------------------------------
@autoreconnect()
class LedgerProcess(Skprocess):
    """Holds a lock and an in-memory database; the child adds a row under the lock and counts them."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.db = sqlite3.connect(":memory:")
        self.db.execute("CREATE TABLE ledger (who TEXT, amount INTEGER)")
        self.db.executemany("INSERT INTO ledger VALUES (?, ?)", [("parent", 10), ("parent", 32)])
        self.db.commit()
        self.process_config.runs = 1

    def __run__(self) -> None:
        with self.lock:
            self.db.execute("INSERT INTO ledger VALUES (?, ?)", (f"child {os.getpid()}", 100))
            self.rows, self.total = self.db.execute(
                "SELECT COUNT(*), SUM(amount) FROM ledger"
            ).fetchone()

    def __result__(self) -> tuple[int, int]:
        return (self.rows, self.total)


# --- 5. a lock and a semaphore coordinating Pool workers ----------------------------------------
LOCK_ITEMS = 12


def make_locked_worker(
    lock: LocalLock, sem: LocalSemaphore, state_path: str, log_path: str
) -> Callable[[int], tuple[int, LockStats, LockStats]]:
    """A closure over a lock and a semaphore (both travel by name into the workers)."""

    def bump(delta: int) -> None:  # [inside the section, peak] in one small file, under the lock
        with lock:
            with open(state_path) as f:
                inside, peak = (int(x) for x in f.read().split())
            inside += delta
            with open(state_path, "w") as f:
                f.write(f"{inside} {max(peak, inside)}")

    def work(item: int) -> tuple[int, LockStats, LockStats]:
        with sem:  # at most 2 workers in here at once, whatever the pool size
            bump(+1)
            sum(i * i for i in range(150_000))  # the "slow section" (about 10 ms)
            bump(-1)
        with lock:  # one writer at a time: every line stays whole
            with open(log_path, "a") as f:
                f.write(f"item {item} from worker {os.getpid()}\n")
        return os.getpid(), lock.stats, sem.stats  # this worker's totals so far

    return work


def _sum_stats(all_stats: list[LockStats]) -> str:
    n = sum(s.acquisitions for s in all_stats)
    contended = sum(s.contended for s in all_stats)
    waited = sum(s.total_wait for s in all_stats)
    longest = max((s.max_wait for s in all_stats), default=0.0)
    return f"{n} acquisitions, {contended} waited, {waited * 1000:.2f} ms waiting in all, longest {longest * 1000:.2f} ms"


def _table(timers: dict[str, Sktimer]) -> str:
    def ms(value: float | None) -> str:
        return "-" if value is None else f"{value * 1000:.2f} ms"

    header = f"{'timer':<34}{'n':>5}{'mean':>12}{'median':>12}{'min':>12}{'max':>12}{'total':>12}"
    lines = [header, "-" * len(header)]
    for name, timer in timers.items():
        lines.append(
            f"{name:<34}{timer.num_times:>5}{ms(timer.mean):>12}{ms(timer.median):>12}"
            f"{ms(timer.min):>12}{ms(timer.max):>12}{ms(timer.total_time):>12}"
        )
    return "\n".join(lines)


def run_demo() -> int:
    """Run the demo; return the process exit code (0 when every check holds)."""
    failures: list[str] = []
    timers: dict[str, Sktimer] = {}

    def check(ok: bool, what: str) -> None:
        _say(f"  [{'ok' if ok else 'FAILED'}] {what}")
        if not ok:
            failures.append(what)

    run_id = f"demo{os.getpid()}"
    counter = SharedMemoryCounter("items_done", create=True, run_id=run_id, width=8)
    try:
        with Pool(workers=WORKERS, progress=True) as pool:
            _say(f"1. Pool.map of a closure: primes below {PRIME_LIMIT:,} in {CHUNKS} chunks")
            step = PRIME_LIMIT // CHUNKS
            chunks = [(i * step, (i + 1) * step) for i in range(CHUNKS)]
            with TimeThis() as t:
                primes = sum(pool.map(make_prime_counter(counter), chunks))
            timers["1. pool map (primes)"] = t
            check(primes == 6057, f"{primes} primes found (expected 6057)")
            check(counter.value == CHUNKS, f"shared counter reached by name: {counter.value} items")

            _say("2. Skprocess items in the Pool update one Share")
            with Share() as share:
                share.counter = 0
                share.events = []
                share.timer = Sktimer()
                with TimeThis() as t:
                    runs = pool.map(TallyProcess, [share] * 8)
                timers["2. pool map (8 Skprocess)"] = t
                check(runs == [5] * 8, f"every process did its runs: {runs}")
                check(
                    share.counter == 40, f"share.counter == {share.counter} (8 processes x 5 runs)"
                )
                check(len(share.events) == 40, f"share.events holds {len(share.events)} entries")
                shared_timer = share.timer
                timers["2. share.timer (work per run)"] = shared_timer

        _say("3. A Pipe exchange with an Skprocess")
        anchor, point = Pipe.pair()
        echo = EchoSquares(point)
        with TimeThis() as t:
            echo.start()
            answers = []
            for value in range(1, 6):
                anchor.send(value)
                answers.append(anchor.recv())
            anchor.send(None)
            echo.wait()
        anchor.close()
        timers["3. pipe session (start to wait)"] = t
        check(answers == [1, 4, 9, 16, 25], f"squares from the child: {answers}")
        child_run_timer = echo.timers.run
        check(child_run_timer is not None, "the child's __run__ timer is visible in the parent")
        if child_run_timer is not None:
            timers["3. child __run__"] = child_run_timer

        _say("4. cucumber carries a lock and a sqlite connection into a child")
        ledger = LedgerProcess()
        with TimeThis() as t:
            ledger.start()
            ledger.wait()
            rows, total = ledger.result()
        timers["4. ledger process"] = t
        check(
            (rows, total) == (3, 142),
            f"the child saw the parent's rows and added one: {rows} rows, sum {total}",
        )
        twin = deserialize(serialize({"lock": threading.Lock(), "square": lambda x: x * x}))
        check(
            twin["lock"].acquire(timeout=1) and twin["square"](12) == 144,
            "a lock and a lambda survive a round trip",
        )

        _say("5. A LocalLock and a LocalSemaphore(2) coordinate 3 Pool workers")
        with tempfile.TemporaryDirectory(prefix="sk-demo-") as tmp:
            state_path, log_path = os.path.join(tmp, "state"), os.path.join(tmp, "log")
            with open(state_path, "w") as f:
                f.write("0 0")
            lock = LocalLock(f"demo-lock-{run_id}")
            sem = LocalSemaphore(2, name=f"demo-sem-{run_id}")
            with Pool(workers=3) as lock_pool, TimeThis() as t:
                stats = lock_pool.map(
                    make_locked_worker(lock, sem, state_path, log_path), range(LOCK_ITEMS)
                )
            timers["5. pool map (lock + semaphore)"] = t
            with open(state_path) as f:
                inside, peak = (int(x) for x in f.read().split())
            with open(log_path) as f:
                lines = f.read().splitlines()
        check(
            sorted(int(line.split()[1]) for line in lines) == list(range(LOCK_ITEMS)),
            f"{len(lines)} whole lines written under the lock (expected {LOCK_ITEMS})",
        )
        check(
            1 <= peak <= 2 and inside == 0,
            f"peak of {peak} worker(s) at once under the semaphore (cap 2)",
        )
        last = {pid: (lock_stats, sem_stats) for pid, lock_stats, sem_stats in stats}
        _say(f"  lock:      {_sum_stats([s[0] for s in last.values()])}")
        _say(f"  semaphore: {_sum_stats([s[1] for s in last.values()])}")
    finally:
        counter.unlink()

    _say("\n6. Timers")
    _say(_table(timers))
    if failures:
        _say(f"\n{len(failures)} check(s) failed: {failures}")
        return 1
    _say("\nAll checks passed.")
    return 0


if __name__ == "__main__":
    sys.exit(run_demo())
