"""Scripts whose functions live in ``__main__``, run on the Dask test cluster: one module namespace
per Dask worker process and client program (initializer globals, module-level caches), and the
items' log records on the script's own handlers.

Each test writes a real script and runs it as ``__main__`` in a fresh interpreter with the cluster's
address, then reads what it printed (one JSON document on the last line): the Dask workers cannot
import the script, so its functions travel by value, as in a user's program.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
from pool_test_helpers import run_main_script

pytestmark = pytest.mark.timeout(180)


def _run(tmp_path: Path, address: str, source: str) -> tuple[Any, str]:
    done = run_main_script(tmp_path, textwrap.dedent(source), address, timeout=150)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1]), done.stderr


INITIALIZER_SCRIPT = """
import json, os, sys
from suitkaise_processing import Pool

STATE = None
SEEN = []

def init(value):
    global STATE
    STATE = value

def work(x):
    SEEN.append(x)
    return [STATE, os.getpid(), len(SEEN)]

if __name__ == "__main__":
    with Pool(cluster=sys.argv[1], initializer=init, initargs=("ready",)) as pool:
        first = pool.map(work, range(20))
        second = pool.map(work, range(20))
    print(json.dumps({"first": first, "second": second, "parent": STATE}))
"""


def test_initializer_globals_are_seen_by_work_functions(dask_cluster: Any, tmp_path: Path) -> None:
    out, _ = _run(tmp_path, dask_cluster.address, INITIALIZER_SCRIPT)
    rows = out["first"] + out["second"]
    assert {state for state, _, _ in rows} == {"ready"}
    assert out["parent"] is None  # the initializer ran in the workers only
    # a module-level list keeps growing across items and calls, per worker process
    per_worker: dict[int, list[int]] = {}
    for _, pid, seen in rows:
        per_worker.setdefault(pid, []).append(seen)
    assert sum(max(counts) for counts in per_worker.values()) == 40
    for counts in per_worker.values():
        assert sorted(counts) == list(range(1, len(counts) + 1))


CACHE_SCRIPT = """
import functools, json, os, sys
from suitkaise_processing import Pool

MEMO = {}

def slow_square(k):
    if k not in MEMO:
        MEMO[k] = [k * k, 0]
    MEMO[k][1] += 1
    return MEMO[k]

@functools.lru_cache(maxsize=None)
def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)

def work(x):
    value, uses = slow_square(x % 4)
    return [os.getpid(), x % 4, value, uses, fib(30), fib.cache_info().misses]

def other_work(x):  # another function, the same module: the same caches
    return work(x)

if __name__ == "__main__":
    with Pool(cluster=sys.argv[1]) as pool:
        rows = pool.map(work, range(40)) + pool.map(other_work, range(40))
    print(json.dumps(rows))
"""


def _check_caches(rows: list[list[int]]) -> None:
    uses: dict[tuple[int, int], list[int]] = {}
    for pid, key, value, used, fib30, misses in rows:
        assert value == key * key
        assert fib30 == 832040
        assert misses == 31  # fib(0..30), each computed once per worker, never again
        uses.setdefault((pid, key), []).append(used)
    # one memo entry per key and worker, shared by every item of both calls (two functions) there
    for counts in uses.values():
        assert sorted(counts) == list(range(1, len(counts) + 1))
    assert sum(len(counts) for counts in uses.values()) == 80


def test_module_level_caches_persist_across_items_and_calls_per_program(
    dask_cluster: Any, tmp_path: Path
) -> None:
    first, _ = _run(tmp_path, dask_cluster.address, CACHE_SCRIPT)
    _check_caches(first)
    # the same script again on the same (long-lived) workers: a new program starts from its own
    # globals, not from what the first run left in them
    second, _ = _run(tmp_path, dask_cluster.address, CACHE_SCRIPT)
    _check_caches(second)


def test_log_records_of_main_functions_reach_the_scripts_handlers(
    dask_cluster: Any, tmp_path: Path
) -> None:
    out, stderr = _run(
        tmp_path,
        dask_cluster.address,
        """
        import json, logging, sys
        from suitkaise_processing import Pool

        log = logging.getLogger("script.items")

        def work(x):
            log.debug("item %d at debug", x)
            log.info("item %d at info", x)
            return x

        if __name__ == "__main__":
            logging.basicConfig(
                level=logging.INFO, format="%(levelname)s|%(name)s|%(worker)s|%(message)s"
            )
            with Pool(cluster=sys.argv[1]) as pool:
                print(json.dumps(pool.map(work, range(8))))
        """,
    )
    assert out == list(range(8))
    lines = sorted(line.split("|") for line in stderr.splitlines() if "|script.items|" in line)
    assert sorted((level, message) for level, _, _, message in lines) == sorted(
        ("INFO", f"item {i} at info") for i in range(8)
    )
    assert all(worker.startswith("tcp://127.0.0.1:") for _, _, worker, _ in lines)
