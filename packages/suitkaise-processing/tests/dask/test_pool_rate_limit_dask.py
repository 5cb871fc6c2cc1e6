"""Rate limits of a Pool on the Dask test cluster (a LocalCluster: its worker processes run on this
machine, so a function's limit is shared through shared memory as on local workers). The checks
are :func:`assert_rate`'s (see ``test_pool_rate_limit.py``)."""

from __future__ import annotations

from typing import Any

import pytest
from rate_limit_workers import WhenProcess, sk_when, when
from test_pool_rate_limit import assert_rate

from suitkaise_processing import Pool, RateLimit

pytestmark = pytest.mark.timeout(180)


def test_a_functions_rate_limit_holds_across_the_cluster(dask_client: Any) -> None:
    with Pool(cluster=dask_client, chunksize=1) as pool:
        records = pool.map(sk_when.rate_limit(5), range(10))
    assert_rate(records, 5, 2)


def test_the_pools_rate_limit_on_redis_holds_across_the_cluster(
    dask_client: Any, redis_url: str
) -> None:
    limit = RateLimit(5, backend=redis_url, name="dask")
    with Pool(cluster=dask_client, chunksize=1, rate_limit=limit) as pool:
        records = pool.map(when, range(10))
    assert_rate(records, 5, 2)


def test_the_pools_rate_limit_covers_skprocess_items_on_the_cluster(dask_client: Any) -> None:
    with Pool(cluster=dask_client, chunksize=1, rate_limit=5) as pool:
        records = pool.map(WhenProcess, range(8))
    assert_rate(records, 5, 2)
