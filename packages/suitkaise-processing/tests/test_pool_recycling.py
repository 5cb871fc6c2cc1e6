"""Worker recycling: ``Pool(max_tasks_per_child=N)`` and ``Pool(max_memory_per_child=size)``.

A worker is replaced between items: every item runs exactly once (a run log counts them), no worker
runs more than N items, and no worker starts an item after one that left it over the memory limit.
Each behaviour is also checked from a real script run as ``__main__`` (functions defined in it).
"""

from __future__ import annotations

import functools
import json
from collections import Counter
from pathlib import Path

import pool_limit_workers as lw
import pytest
from pool_test_helpers import run_main_script

from suitkaise_processing import InvalidSizeError, Pool, PoolError, ProcessError
from suitkaise_processing._private.pool._recycling import Recycling, parse_size, recycling

pytestmark = pytest.mark.timeout(120)


def _ran_once(log: Path, items: range) -> list[tuple[int, int]]:
    runs = lw.read_runs(str(log))
    assert sorted(x for x, _ in runs) == list(items)  # every item ran, none twice
    return runs


# --- max_tasks_per_child -------------------------------------------------------------------------
@pytest.mark.parametrize("chunksize", [None, 1, 10])
def test_a_worker_runs_at_most_n_items(tmp_path: Path, chunksize: int | None) -> None:
    log = tmp_path / "runs"
    fn = functools.partial(lw.double_in, log=str(log))
    with Pool(workers=2, max_tasks_per_child=3, chunksize=chunksize) as pool:
        results = pool.map(fn, range(40))
        assert len(pool._engine.worker_pids()) == 2  # replaced, not lost
    assert [value for value, _ in results] == [x * 2 for x in range(40)]
    runs = _ran_once(log, range(40))
    per_worker = Counter(pid for _, pid in runs)
    assert max(per_worker.values()) <= 3
    assert len(per_worker) >= 14  # 40 items, 3 per worker
    assert per_worker == Counter(pid for _, pid in results)


def test_recycling_with_every_call_form(tmp_path: Path) -> None:
    log = tmp_path / "runs"
    fn = functools.partial(lw.double_in, log=str(log))
    add = functools.partial(lw.add_in, log=str(log))
    with Pool(workers=2, max_tasks_per_child=2, chunksize=5) as pool:
        assert [v for v, _ in pool.imap(fn, range(10))] == [x * 2 for x in range(10)]
        got = sorted(v for v, _ in pool.unordered_map(fn, range(10, 20)))
        assert got == [x * 2 for x in range(10, 20)]
        got = sorted(v for v, _ in pool.unordered_imap(fn, range(20, 30)))
        assert got == [x * 2 for x in range(20, 30)]
        star = pool.star().map(add, [(x, 1) for x in range(30, 40)])
        assert [v for v, _ in star] == [x + 1 for x in range(30, 40)]
    runs = _ran_once(log, range(40))
    assert max(Counter(pid for _, pid in runs).values()) <= 2


def test_an_item_error_counts_as_an_item_and_the_worker_is_still_replaced(tmp_path: Path) -> None:
    log = tmp_path / "runs"
    fn = functools.partial(lw.fail_on_multiples_of_7, log=str(log))
    with Pool(workers=1, max_tasks_per_child=7, chunksize=20) as pool:
        with pytest.raises(ValueError, match="item 7 is a multiple of 7"):
            pool.map(fn, range(8))
        assert pool.map(fn, range(1, 7)) == list(range(1, 7))
    runs = lw.read_runs(str(log))
    first, second = runs[:8], runs[8:]
    assert [x for x, _ in first] == list(range(8))
    assert {pid for _, pid in first} != {pid for _, pid in second}  # 8 items: a new worker


def test_replacement_workers_run_the_initializer(tmp_path: Path) -> None:
    log = tmp_path / "inits"
    init = functools.partial(lw.note_run, -1, str(log))
    with Pool(workers=1, max_tasks_per_child=2, initializer=init) as pool:
        pids = {pid for _, pid in pool.map(lw.double_in, range(6))}
    inits = lw.read_runs(str(log))
    assert len(pids) == 3
    assert {pid for _, pid in inits} >= pids  # every worker that ran items was initialised


# --- max_memory_per_child ------------------------------------------------------------------------
def test_a_worker_over_the_memory_limit_is_replaced_after_the_item(tmp_path: Path) -> None:
    log = tmp_path / "runs"
    limit = 120_000_000
    fn = functools.partial(lw.keep_memory, size=30_000_000, log=str(log))
    with Pool(workers=1, max_memory_per_child=limit, chunksize=4) as pool:
        results = pool.map(fn, range(10))
    assert [x for x, _, _, _ in results] == list(range(10))
    _ran_once(log, range(10))
    by_worker: dict[int, list[tuple[int, int]]] = {}
    for _, pid, run, rss in results:
        by_worker.setdefault(pid, []).append((run, rss))
    assert len(by_worker) >= 2  # 300 MB kept in all, 120 MB allowed
    for runs in by_worker.values():
        runs.sort()
        assert [run for run, _ in runs] == list(range(1, len(runs) + 1))
        # only the last item of a worker may leave it over the limit
        assert all(rss <= limit for _, rss in runs[:-1])
        assert len(runs) < 10


# --- arguments ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("500MB", 500_000_000),
        ("500 mb", 500_000_000),
        ("1.5GB", 1_500_000_000),
        ("512MiB", 512 * 2**20),
        ("2 GiB", 2 * 2**30),
        ("64KiB", 65536),
        ("10kb", 10_000),
        ("4096", 4096),
        ("4096B", 4096),
        (".5KB", 500),
        (1 << 30, 1 << 30),
    ],
)
def test_memory_sizes(text: str | int, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("bad", ["", "MB", "5 XB", "5MB5", "-5MB", "5e3MB", "0", 0, -1, 1.5, True])
def test_bad_memory_sizes_raise_a_clear_value_error(bad: object) -> None:
    with pytest.raises(InvalidSizeError, match="max_memory_per_child") as info:
        parse_size(bad)
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, ProcessError)
    assert isinstance(info.value, PoolError)


def test_bad_sizes_are_refused_by_the_pool_before_any_worker_starts() -> None:
    with pytest.raises(InvalidSizeError, match=r"'500 megs'.*'500MB'"):
        Pool(workers=1, max_memory_per_child="500 megs")


@pytest.mark.parametrize(
    ("value", "error"), [(0, ValueError), (-2, ValueError), (True, TypeError), (2.0, TypeError)]
)
def test_bad_max_tasks_per_child(value: object, error: type[Exception]) -> None:
    with pytest.raises(error, match="max_tasks_per_child"):
        Pool(workers=1, max_tasks_per_child=value)  # type: ignore[arg-type]


def test_limits() -> None:
    assert recycling(None, None) is None
    assert recycling(5, None) == Recycling(5, None)
    assert recycling(None, "1KB") == Recycling(None, 1000)


# --- from a real script --------------------------------------------------------------------------
_SCRIPT = """
import json, os, sys
from collections import Counter
from suitkaise_processing import Pool

LOG = sys.argv[1]
KEPT = []


def note(x):
    fd = os.open(LOG, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    os.write(fd, f"{x}\\n".encode())
    os.close(fd)


def work(x):
    note(x)
    return x * x, os.getpid()


def add(a, b):
    note(a)
    return a + b, os.getpid()


def leak(x):
    note(x)
    KEPT.append(b"\\x01" * 40_000_000)
    with open("/proc/self/statm") as statm:
        rss = int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    return x, os.getpid(), len(KEPT), rss


with Pool(workers=2, max_tasks_per_child=4) as pool:
    squares = pool.map(work, range(0, 30))
    ordered = list(pool.imap(work, range(30, 40)))
    starred = pool.star().unordered_map(add, [(x, 1) for x in range(40, 50)])
with Pool(workers=1, max_memory_per_child="150MB") as pool:
    leaks = pool.map(leak, range(100, 108))
print(json.dumps({"squares": squares, "ordered": ordered, "starred": starred, "leaks": leaks}))
"""


def test_recycling_from_a_script_run_as_main(tmp_path: Path) -> None:
    log = tmp_path / "runs"
    done = run_main_script(tmp_path, _SCRIPT, str(log))
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    ran = sorted(int(line) for line in log.read_text().split())
    assert ran == [*range(50), *range(100, 108)]  # each item once
    squares = out["squares"] + out["ordered"]
    assert [v for v, _ in squares] == [x * x for x in range(40)]
    assert sorted(v for v, _ in out["starred"]) == [x + 1 for x in range(40, 50)]
    per_worker = Counter(pid for _, pid in squares + out["starred"])
    assert max(per_worker.values()) <= 4
    assert [x for x, _, _, _ in out["leaks"]] == list(range(100, 108))
    last_run: dict[int, int] = {}
    for _, pid, kept, _ in out["leaks"]:
        last_run[pid] = max(last_run.get(pid, 0), kept)
    assert len(last_run) >= 2
    for _, pid, kept, rss in out["leaks"]:
        if kept < last_run[pid]:  # the worker went on after this item: it was under the limit
            assert rss <= 150_000_000
