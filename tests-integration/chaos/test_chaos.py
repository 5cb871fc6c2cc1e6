"""The chaos suite (docs/reliability.md): the mixed workload of ``chaos_workload`` for 20 s while Pool
workers, ``Skprocess`` children and the Share coordinator are SIGKILLed at random.

The seed is printed at the start and in every failure; ``SUITKAISE_CHAOS_SEED=<seed>`` replays its
choices. Longer runs: ``python tools/dev.py soak --minutes N`` (the same workload).
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import chaos_workload
import pytest

from suitkaise.processing import Pool, Share


@pytest.mark.timeout(300)
def test_mixed_workload_under_sigkills_loses_nothing_and_leaks_nothing() -> None:
    seed = chaos_workload.default_seed()
    print(f"chaos seed {seed}", flush=True)
    report = chaos_workload.run(20.0, seed)
    print(report.summary(), flush=True)
    assert not report.problems, report.summary()
    # the run did real work of every kind, and the chaos really hit every kind of process (how much
    # work depends on the machine's load: on a loaded machine a killed Pool worker takes a while to
    # come back, and the chaos may kill its replacements while they start)
    assert report.pool_results >= 50, report.summary()
    assert report.tally_runs >= 20, report.summary()
    assert report.share_rounds >= 1, report.summary()
    assert report.pipe_messages >= 40, report.summary()
    assert all(report.kills.values()), report.summary()
    # an item without a result failed with its own WorkerDiedError: at most one per kill
    assert report.pool_worker_died <= report.kills["pool"], report.summary()


@pytest.mark.timeout(120)
def test_a_coordinator_killed_while_it_restarts_is_restarted_again() -> None:
    """Found by the chaos run: the owner gave up (ShareError) when the replacement died while starting."""
    with Share() as share:
        share.counter = 0
        share.counter += 1
        owner = share._sk_owner  # internal: owner.proc is the coordinator's Popen
        assert owner is not None
        first = owner.proc
        os.kill(first.pid, signal.SIGKILL)
        # kill the replacement as soon as it exists, while it is still starting (imports, handshake)
        pause = threading.Event()
        deadline = time.monotonic() + 60
        while owner.proc is first and time.monotonic() < deadline:
            pause.wait(0.0005)
        second = owner.proc
        assert second is not first, "the owner did not start a new coordinator within 60 s"
        os.kill(second.pid, signal.SIGKILL)
        share.counter += 1
        assert share.counter == 2
        assert share.has_error is False
        assert owner.proc is not second


@pytest.mark.timeout(120)
def test_pool_workers_killed_while_starting_do_not_break_the_pool(tmp_path: Path) -> None:
    """Found by the chaos run: 3 workers SIGKILLed before they were ready broke the pool for good."""
    announce, release = tmp_path / "announce", tmp_path / "release"
    os.mkfifo(announce)
    os.mkfifo(release)
    init, args = chaos_workload.announce_then_block, (str(announce), str(release))
    with Pool(workers=1, initializer=init, initargs=args) as pool:
        # a waiting call makes the pool replace dead workers (it has no thread of its own)
        future = pool.map.background()(abs, range(-5, 5))
        for _ in range(5):  # kill each new worker inside its initializer, before it is ready
            os.kill(_next_pid(announce), signal.SIGKILL)
        _next_pid(announce)
        with open(release, "w"):  # the 6th worker may finish starting
            pass
        assert future.result(timeout=60) == [abs(x) for x in range(-5, 5)]


def _next_pid(fifo: Path) -> int:
    """The pid the next starting worker writes into ``fifo`` (an open may also see a bare EOF)."""
    while True:
        with open(fifo) as fh:  # returns once a starting worker opened it
            line = fh.readline()
        if line:
            return int(line)
