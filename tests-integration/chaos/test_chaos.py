"""The chaos suite (docs/reliability.md): the mixed workload of ``chaos_workload`` for 20 s while Pool
workers, ``Skprocess`` children and the Share coordinator are SIGKILLed at random.

The seed is printed at the start and in every failure; ``SUITKAISE_CHAOS_SEED=<seed>`` replays its
choices. Longer runs: ``python tools/dev.py soak --minutes N`` (the same workload).
"""

from __future__ import annotations

import chaos_workload
import pytest


@pytest.mark.timeout(300)
def test_mixed_workload_under_sigkills_loses_nothing_and_leaks_nothing() -> None:
    seed = chaos_workload.default_seed()
    print(f"chaos seed {seed}", flush=True)
    report = chaos_workload.run(20.0, seed)
    print(report.summary(), flush=True)
    assert not report.problems, report.summary()
    # the run did real work of every kind, and the chaos really hit every kind of process
    assert report.pool_results > 1000, report.summary()
    assert report.tally_runs > 100, report.summary()
    assert report.share_rounds >= 2, report.summary()
    assert report.pipe_messages > 100, report.summary()
    assert all(report.kills.values()), report.summary()
    # an item without a result failed with its own WorkerDiedError: at most one per kill
    assert report.pool_worker_died <= report.kills["pool"], report.summary()
