"""Fixtures of the Pool-on-Dask tests: one test cluster per session, and pools on both backends.

``dask_cluster``: a ``distributed.LocalCluster(processes=True, n_workers=2, threads_per_worker=1)`` on
127.0.0.1, started once per session by ``dask_cluster.py`` in its own process tree (see there why).
Its workers get this folder and the one above on ``PYTHONPATH`` (the helper modules ``dask_items``,
``pool_workers``, ...) and
``distributed.scheduler.allowed-failures = 1``: a task whose worker dies is run once more, and fails
with ``KilledWorker`` when that worker dies too (Dask's default of 3 only makes the crash tests
slower). Its start-up time is in ``dask_cluster.seconds`` (printed with ``-s``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from suitkaise_processing import Pool

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))  # dask_items, for this process and (through PYTHONPATH) the workers
START_TIMEOUT = 120.0


@dataclass
class DaskCluster:
    address: str
    #: seconds from starting the cluster program to a scheduler that accepts clients (the
    #: cluster's own start inside it is in ``cluster_seconds``)
    seconds: float
    cluster_seconds: float


@pytest.fixture(scope="session")
def dask_cluster() -> Iterator[DaskCluster]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(HERE), str(HERE.parent), *filter(None, [env.get("PYTHONPATH")])]
    )
    env["DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES"] = "1"
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "dask_cluster.py")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
        text=True,
    )
    assert proc.stdin is not None
    assert proc.stdout is not None
    try:
        line = proc.stdout.readline()  # the cluster's first line, or "" if it died
        if not line:
            raise RuntimeError(f"the Dask test cluster did not start (exit code {proc.wait(10)})")
        info = json.loads(line)
        cluster = DaskCluster(info["address"], time.perf_counter() - started, info["seconds"])
        print(
            f"\nDask test cluster at {cluster.address}: ready in {cluster.seconds:.2f}s "
            f"(LocalCluster itself {cluster.cluster_seconds:.2f}s)"
        )
        yield cluster
    finally:
        proc.stdin.close()  # the cluster closes on end of input
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        proc.stdout.close()


@pytest.fixture(scope="session")
def dask_client(dask_cluster: DaskCluster) -> Iterator[Any]:
    from distributed import Client

    client = Client(dask_cluster.address, set_as_default=False)
    try:
        yield client
    finally:
        client.close()


@pytest.fixture(params=["local", "dask"])
def backend(request: pytest.FixtureRequest) -> str:
    """The backend a parametrized test runs on."""
    return str(request.param)


@pytest.fixture
def pool_factory(backend: str, request: pytest.FixtureRequest) -> Iterator[Any]:
    """``pool_factory(**options)``: a Pool with 2 workers on the test's backend (local processes, or
    the Dask test cluster); every pool made is terminated after the test."""
    pools: list[Pool] = []

    def make(**options: Any) -> Pool:
        if backend == "dask":
            client = request.getfixturevalue("dask_client")
            pool = Pool(cluster=client, **options)
        else:
            pool = Pool(workers=2, **options)
        pools.append(pool)
        return pool

    try:
        yield make
    finally:
        for pool in pools:
            pool.terminate()
