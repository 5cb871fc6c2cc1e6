"""Runs the test Dask cluster in its own process tree: ``python dask_cluster.py``.

A ``distributed.LocalCluster(processes=True, n_workers=2, threads_per_worker=1)`` on 127.0.0.1 (no
dashboard). Prints one JSON line ``{"address": ..., "seconds": ...}`` once it accepts clients, then
serves until its standard input closes (the test process ended it, or died), and closes the cluster.

Started by ``conftest.py`` as a separate program, not as a ``multiprocessing`` child of the test
process: the repository's guard against orphan children would otherwise take the cluster's
long-lived worker processes (session-scoped) for leaks of whichever test runs next.
"""

from __future__ import annotations

import json
import sys
import time


def main() -> None:
    started = time.perf_counter()
    from distributed import LocalCluster

    cluster = LocalCluster(
        processes=True,
        n_workers=2,
        threads_per_worker=1,
        host="127.0.0.1",
        dashboard_address=None,
    )
    print(
        json.dumps(
            {"address": cluster.scheduler_address, "seconds": time.perf_counter() - started}
        ),
        flush=True,
    )
    sys.stdin.read()  # until end of file
    cluster.close(timeout=30)


if __name__ == "__main__":
    main()
