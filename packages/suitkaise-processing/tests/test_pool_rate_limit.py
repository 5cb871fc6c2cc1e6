"""Rate limits that hold across the workers of a Pool (issue 15), and across process trees on Redis
(issue 18, in ``test_pool_rate_limit_redis.py``).

Every call records ``time.monotonic()`` (one clock for every process of the machine) as its first
statement; :func:`assert_rate` checks that in every window of one second at most ``per_second``
calls started. The limiter guarantees starts at least ``1 / per_second`` apart at the moment it
releases a call; the worker reads the clock a few microseconds later, and a loaded machine may
preempt it in between: the check allows :data:`JITTER` seconds for that (windows of
``1 - JITTER`` seconds). That is a correctness property, not a speed target.
"""

from __future__ import annotations

import bisect
import itertools
import json
import multiprocessing
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterable
from pathlib import Path

import pytest
from rate_limit_workers import (
    WhenProcess,
    sk_when,
    take_the_lock_and_die,
    when,
    when_or_die,
    when_pair,
)

from shared_counter import CounterNotFoundError, SharedMemoryCounter
from suitkaise_processing import Pool, RateLimit, WorkerDiedError

pytestmark = pytest.mark.timeout(120)

#: seconds allowed between the limiter releasing a call and the call reading the clock
JITTER = 0.05


def assert_rate(records: Iterable[tuple[float, int]], per_second: float, workers: int) -> None:
    """At most ``per_second`` starts in any window of one second, made by ``workers`` processes."""
    records = list(records)
    times = sorted(t for t, _ in records)
    window = 1.0 - JITTER
    for i, start in enumerate(times):
        inside = bisect.bisect_left(times, start + window) - i
        assert inside <= per_second, (
            f"{inside} calls started within {window} s from {start:.3f}: {times}"
        )
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps) >= 1.0 / per_second - JITTER, gaps
    # the property is about several processes: every worker ran some of the calls
    assert len({pid for _, pid in records}) == workers, records


def _schedules(pool: Pool) -> list[str]:
    """The run_ids of the shared-memory schedules the pool created."""
    return [schedule.run_id for schedule in pool._rate_limits._created]


def _gone(run_id: str) -> bool:
    try:
        SharedMemoryCounter("n", run_id=run_id).close()
    except CounterNotFoundError:
        return True
    return False


@pytest.mark.parametrize("workers", [2, 4])
def test_a_functions_rate_limit_holds_across_the_workers(workers: int) -> None:
    with Pool(workers, chunksize=1) as pool:
        records = pool.map(sk_when.rate_limit(5), range(12))
        run_ids = _schedules(pool)
    assert_rate(records, 5, workers)
    assert len(run_ids) == 1
    assert _gone(run_ids[0])


@pytest.mark.parametrize("workers", [2, 4])
def test_the_pools_rate_limit_holds_across_the_workers(workers: int) -> None:
    with Pool(workers, chunksize=1, rate_limit=5) as pool:
        records = pool.map(when, range(12))
    assert_rate(records, 5, workers)


def test_one_limiter_is_one_limit_for_every_call_of_the_pool() -> None:
    limited = sk_when.rate_limit(5)
    with Pool(2, chunksize=1) as pool:
        first = pool.map(limited, range(6))
        second = pool.unordered_map(limited, range(6))
        # a new chain is a new limit (of its own): one more schedule
        pool.map(sk_when.rate_limit(50), range(2))
        assert len(_schedules(pool)) == 2
    assert_rate(first + second, 5, 2)


def test_the_pools_rate_limit_covers_star_calls_imap_and_skprocess_items() -> None:
    with Pool(2, chunksize=1, rate_limit=5) as pool:
        records = pool.star().map(when_pair, [(i, i) for i in range(4)])
        records += list(pool.imap(when, range(4)))
        records += pool.map(WhenProcess, range(4))
    assert_rate(records, 5, 2)


def test_submitted_calls_share_the_limits() -> None:
    limited = sk_when.rate_limit(5)
    with Pool(2) as pool:
        futures = [pool.submit(limited, i) for i in range(8)]
        by_function = [future.result(timeout=60) for future in futures]
    assert_rate(by_function, 5, 2)
    with Pool(2, rate_limit=5) as pool:
        futures = [pool.submit(when, i) for i in range(8)]
        by_pool = [future.result(timeout=60) for future in futures]
    assert_rate(by_pool, 5, 2)


def test_limits_combine_the_pools_and_the_functions() -> None:
    with Pool(2, chunksize=1, rate_limit=50) as pool:
        records = pool.map(sk_when.rate_limit(5), range(8))
    assert_rate(records, 5, 2)


def test_a_worker_that_dies_leaves_the_limit_working() -> None:
    with Pool(2, chunksize=1, rate_limit=5) as pool:
        with pytest.raises(WorkerDiedError):
            pool.map(when_or_die, range(5))
        records = pool.map(when, range(8))
    assert_rate(records, 5, 2)


def test_a_process_killed_holding_the_schedules_lock_does_not_block_the_others() -> None:
    from suitkaise_processing._private.pool._rate_shm import SharedMemorySchedule

    schedule = SharedMemorySchedule.create()
    try:
        child = multiprocessing.get_context("spawn").Process(
            target=take_the_lock_and_die, args=(schedule.run_id,)
        )
        child.start()
        child.join(60)
        assert child.exitcode == 0
        held = SharedMemoryCounter("n", run_id=schedule.run_id)
        assert not held.get_lock().acquire(blocking=False)  # the dead child holds it
        held.close()
        # the dead holder is recovered (shared_counter): booking and starting go on
        assert schedule.reserve(0.01) == 0.0
        assert schedule.start(0.01) == 0.0
    finally:
        schedule.unlink()


def test_terminate_removes_the_shared_memory() -> None:
    pool = Pool(2, rate_limit=5)
    try:
        pool.map(sk_when.rate_limit(100), range(2))
        run_ids = _schedules(pool)
        assert len(run_ids) == 2
        assert not any(_gone(run_id) for run_id in run_ids)
    finally:
        pool.terminate()
    assert all(_gone(run_id) for run_id in run_ids)


def test_a_closed_pool_creates_no_schedule() -> None:
    pool = Pool(1)
    pool.close()
    with pytest.raises(Exception, match="closed"):
        pool.map(sk_when.rate_limit(5), range(2))
    assert _schedules(pool) == []


def test_rate_limit_arguments() -> None:
    for bad in (0, -1.0, float("inf"), float("nan")):
        with pytest.raises(ValueError, match="per_second"):
            RateLimit(bad)
    with pytest.raises(ValueError, match="per_second"):
        RateLimit(True)
    with pytest.raises(ValueError, match="Redis URL"):
        RateLimit(5, backend="http://example.org")
    with pytest.raises(ValueError, match="backend='redis://"):
        RateLimit(5, name="api")
    with pytest.raises(ValueError, match="needs name="):
        RateLimit(5, backend="redis://127.0.0.1:1/0")
    with pytest.raises(ValueError, match="timeout"):
        RateLimit(5, backend="redis://127.0.0.1:1/0", name="api", timeout=0)
    with pytest.raises(TypeError, match="calls per second"):
        Pool(1, rate_limit="5")  # type: ignore[arg-type]
    assert repr(RateLimit(2.5)) == "RateLimit(2.5)"
    assert (
        repr(RateLimit(5, backend="redis://h:1/0", name="api"))
        == "RateLimit(5, backend='redis://h:1/0', name='api')"
    )


_SCRIPT = """
import json
import multiprocessing
import os
import sys
import time

from sk_modifiers import sk
from suitkaise_processing import Pool


@sk
def fetch(item):
    return time.monotonic(), os.getpid()


def plain(item):
    return time.monotonic(), os.getpid()


if __name__ == "__main__":
    workers = int(sys.argv[1])
    with Pool(workers, chunksize=1) as pool:
        by_function = pool.map(fetch.rate_limit(5), range(10))
    with Pool(workers, chunksize=1, rate_limit=5) as pool:
        by_pool = pool.map(plain, range(10))
    print(json.dumps({"function": by_function, "pool": by_pool}))
"""


@pytest.mark.parametrize("workers", [2, 4])
def test_from_a_script_run_as_main(tmp_path: Path, workers: int) -> None:
    script = tmp_path / "limited.py"
    script.write_text(textwrap.dedent(_SCRIPT))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run(
        [sys.executable, str(script), str(workers)],
        capture_output=True,
        text=True,
        timeout=100,
        cwd=tmp_path,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert_rate(map(tuple, out["function"]), 5, workers)
    assert_rate(map(tuple, out["pool"]), 5, workers)
