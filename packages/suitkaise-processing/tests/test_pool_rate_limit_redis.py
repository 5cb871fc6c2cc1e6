"""A Pool's rate limit on Redis (issue 18): shared by pools in separate process trees that have
nothing in common but the server's URL and the limit's name. Against a real ``redis-server``
(the repository's ``redis_url`` fixture). The checks are :func:`assert_rate`'s (see
``test_pool_rate_limit.py``)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from rate_limit_workers import when
from test_pool_rate_limit import assert_rate

from suitkaise_processing import Pool, RateLimit, RateLimitBackendError

pytestmark = pytest.mark.timeout(120)


def test_a_pools_limit_on_redis_holds_across_its_workers(redis_url: str) -> None:
    import redis

    limit = RateLimit(5, backend=redis_url, name="api")
    with Pool(2, chunksize=1, rate_limit=limit) as pool:
        records = pool.map(when, range(10))
    assert_rate(records, 5, 2)
    # the key expires on its own about a second after the limit's last time
    client = redis.Redis.from_url(redis_url)
    try:
        assert client.keys("*") in ([], [b"sk:ratelimit:{api}"])
        assert client.pttl("sk:ratelimit:{api}") <= 2000
    finally:
        client.close()


_TREE = """
import json
import os
import sys
import time

from suitkaise_processing import Pool, RateLimit


def stamp(item):
    return time.monotonic(), os.getpid()


if __name__ == "__main__":
    limit = RateLimit(5, backend=sys.argv[1], name="shared-api")
    with Pool(2, chunksize=1, rate_limit=limit) as pool:
        pool.map(stamp, range(2))  # warm: both workers started
        print("ready", flush=True)
        sys.stdin.readline()  # "go": the other tree is ready too
        records = pool.map(stamp, range(8))
    print(json.dumps(records), flush=True)
"""


def test_two_process_trees_share_one_limit(redis_url: str, tmp_path: Path) -> None:
    script = tmp_path / "tree.py"
    script.write_text(textwrap.dedent(_TREE))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    trees = [
        subprocess.Popen(
            [sys.executable, str(script), redis_url],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=tmp_path,
            env=env,
        )
        for _ in range(2)
    ]
    try:
        for tree in trees:
            assert tree.stdout is not None
            assert tree.stdout.readline().strip() == "ready"
        for tree in trees:
            assert tree.stdin is not None
            tree.stdin.write("go\n")
            tree.stdin.flush()
        outputs = [tree.communicate(timeout=100) for tree in trees]
    finally:
        for tree in trees:
            if tree.poll() is None:
                tree.kill()
                tree.wait(10)
    records: list[tuple[float, int]] = []
    for tree, (out, err) in zip(trees, outputs, strict=True):
        assert tree.returncode == 0, err
        records += [tuple(r) for r in json.loads(out.strip().splitlines()[-1])]
    # 16 calls from 4 workers in 2 trees: 5 per second in all, not 5 per tree
    assert_rate(records, 5, 4)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_an_unreachable_server_fails_the_item_clearly() -> None:
    url = f"redis://127.0.0.1:{_closed_port()}/0"
    limit = RateLimit(5, backend=url, name="api", timeout=0.5)
    with Pool(1, rate_limit=limit) as pool:
        with pytest.raises(RateLimitBackendError, match="could not be reached") as caught:
            pool.map(when, range(2))
    assert isinstance(caught.value, ConnectionError)
