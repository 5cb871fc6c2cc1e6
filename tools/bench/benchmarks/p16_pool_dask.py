"""P16: ``Pool(cluster=client).map`` against Dask's own ways, on one LocalCluster.

The cluster: ``distributed.LocalCluster(processes=True, n_workers=2, threads_per_worker=1)`` on
127.0.0.1, started once (its start-up time is a row of its own). Each row maps one function over N
items and compares, on the same client:

- ours: ``Pool(cluster=client).map(fn, items)``;
- ``client.map`` one task per item, then ``client.gather`` (the naive way; only where it takes
  seconds, not minutes);
- batched by hand: the items cut into one list per worker thread, ``client.map`` of a function
  that maps over its list, ``client.gather`` and concatenate;
- batched by hand, as bytes: the same batches pickled by the caller and unpickled in the task, so
  Dask never walks into the items (what an expert does once they find that Dask traverses every
  list argument looking for futures).

Rows: trivial items (``x + 1``) at N = 1,000 (full run only), 10,000 and 100,000, the same with a
lambda and a closure, ~10 ms items (``time.sleep(0.01)``, so that the row measures the overhead and
not CPU contention on a small machine), and the first call of a function (every contender maps a
new function object at each call: nothing is cached, in cucumber, in Dask's function cache or in
our learned item times). The contenders run in turns (one call each per round, in balanced orders,
median over the rounds), and after every call the bench waits, untimed, until the scheduler and the
workers have released its tasks: releasing them slows whatever runs next (one task per item leaves
thousands), so each call starts on an idle cluster. Every contender is warmed up first (ours
thereby knows the function's item time, as in a program that calls it again). Bar: ours <= 1.1x the
best plain Dask way of the row.
"""

from __future__ import annotations

import math
import pickle
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

from suitkaise_processing import Pool
from tools.bench._core import Result, median_time

WORKERS = 2
BAR = 1.1


def trivial(x: int) -> int:
    """The work of one item: nothing."""
    return x + 1


def ten_ms(x: int) -> int:
    """About 10 ms of waiting."""
    time.sleep(0.01)
    return x


def map_list(fn: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
    """A hand-made batch task: the function over a list of items."""
    return [fn(x) for x in items]


def map_bytes(fn: Callable[[Any], Any], blob: bytes) -> bytes:
    """A hand-made batch task on pickled items, returning the pickled results."""
    return pickle.dumps([fn(x) for x in pickle.loads(blob)], pickle.HIGHEST_PROTOCOL)


def balanced_orders(count: int) -> list[list[int]]:
    """Orders of ``count`` contenders in which each one comes right after each other one equally
    often (a Williams design: ``count`` rows, twice as many when ``count`` is odd). A plain rotation
    keeps the cyclic order, so a contender would always follow the same one and pay for the work
    that one leaves behind."""
    first = [0]
    low, high = 1, count - 1
    while low <= high:
        first.append(low)
        low += 1
        if low <= high:
            first.append(high)
            high -= 1
    rows = [[(x + shift) % count for x in first] for shift in range(count)]
    if count % 2:
        rows += [row[::-1] for row in rows]
    return rows


def rotated(
    contenders: dict[str, Callable[[], object]],
    repeat: int,
    warmup: int = 1,
    settle: Callable[[], None] | None = None,
) -> dict[str, float]:
    """Median wall time of each contender, timed in turns in :func:`balanced_orders`: a call
    leaves work behind in the scheduler and the workers (releasing its tasks and their results), which
    slows whichever call comes next, so each contender follows each other one equally often; and
    ``settle`` (untimed, after every call) waits until that work is done, so that each call starts
    on an idle cluster (one task per item leaves thousands of tasks to release: the next call, of
    whichever contender, ran up to 2x slower)."""
    names = list(contenders)
    orders = balanced_orders(len(names))
    samples: dict[str, list[float]] = {name: [] for name in names}
    for rnd in range(warmup + repeat):
        for index in orders[rnd % len(orders)]:
            name = names[index]
            elapsed = median_time(contenders[name], repeat=1, warmup=0)
            if rnd >= warmup:
                samples[name].append(elapsed)
            if settle is not None:
                settle()
    return {name: statistics.median(times) for name, times in samples.items()}


def _scheduler_tasks(dask_scheduler: Any) -> int:
    return len(dask_scheduler.tasks)


def _worker_tasks(dask_worker: Any) -> int:
    return len(dask_worker.state.tasks)


def idle_cluster(client: Any, timeout: float = 30.0) -> Callable[[], None]:
    """A ``settle`` for :func:`rotated`: wait until the scheduler and every worker hold no more
    tasks than when this was made (the calls before have released theirs)."""
    base_scheduler = client.run_on_scheduler(_scheduler_tasks)
    base_workers = client.run(_worker_tasks)

    def settle() -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if client.run_on_scheduler(_scheduler_tasks) <= base_scheduler and all(
                count <= base_workers.get(address, 0)
                for address, count in client.run(_worker_tasks).items()
            ):
                return
            time.sleep(0.005)  # polling the cluster's state, not waiting for a process of ours
        raise RuntimeError(f"P16: the cluster still held tasks after {timeout} s")

    return settle


def _batches(items: Sequence[Any], count: int) -> list[Sequence[Any]]:
    size = math.ceil(len(items) / count)
    return [items[i : i + size] for i in range(0, len(items), size)]


def new_function() -> Callable[[int], int]:
    """A new function object at every call (the same code): nothing about it is cached yet, in
    cucumber, in Dask's function cache, or in the pool's learned item times."""

    def first_call(x: int) -> int:
        return x + 1

    return first_call


def _contenders(
    client: Any,
    pool: Pool,
    fn: Callable[[Any], Any],
    n: int,
    per_item: bool,
    fresh: bool = False,
) -> dict[str, Callable[[], object]]:
    """The contenders of one row; ``fresh``: each call maps a new function (``new_function``)."""
    items = list(range(n))
    threads = sum(client.nthreads().values())

    def function() -> Callable[[Any], Any]:
        return new_function() if fresh else fn

    def ours() -> object:
        return pool.map(function(), items)

    def one_task_per_item() -> object:
        return client.gather(client.map(function(), items, pure=False))

    def batched() -> object:
        parts = client.gather(
            client.map(map_list, [function()] * threads, _batches(items, threads), pure=False)
        )
        return [x for part in parts for x in part]

    def batched_bytes() -> object:
        blobs = [pickle.dumps(list(b), pickle.HIGHEST_PROTOCOL) for b in _batches(items, threads)]
        parts = client.gather(client.map(map_bytes, [function()] * threads, blobs, pure=False))
        return [x for part in parts for x in pickle.loads(part)]

    contenders: dict[str, Callable[[], object]] = {"ours": ours}
    if per_item:
        contenders["client.map per item"] = one_task_per_item
    contenders["client.map batched"] = batched
    contenders["client.map batched (bytes)"] = batched_bytes
    expected = [function()(x) for x in items]
    for name, run in contenders.items():  # every way gives the same list
        if run() != expected:
            raise AssertionError(f"P16: {name} gave a wrong result")
    return contenders


def _row(name: str, times: dict[str, float], notes: str) -> Result:
    ours = times.pop("ours")
    best = min(times, key=lambda peer: times[peer])
    return Result(
        id="P16",
        name=name,
        ours=ours,
        peers=times,
        bar=f"<= {BAR}x the best plain Dask way",
        bar_peer=best,
        bar_ratio=BAR,
        notes=notes,
    )


def run(quick: bool) -> list[Result]:
    import distributed

    local_cluster: Any = distributed.LocalCluster  # distributed is not fully annotated
    make_client: Any = distributed.Client

    repeat = 4 if quick else 12
    started = time.perf_counter()
    cluster = local_cluster(
        processes=True,
        n_workers=WORKERS,
        threads_per_worker=1,
        host="127.0.0.1",
        dashboard_address=None,
    )
    client = make_client(cluster, set_as_default=False)
    start_up = time.perf_counter() - started
    results = [
        Result(
            id="P16",
            name="LocalCluster(2 workers) start-up",
            ours=start_up,
            notes="LocalCluster + Client until ready; not compared (Dask's own cost)",
        )
    ]
    try:
        with Pool(cluster=client) as pool:
            square = 2

            def closure(x: int) -> int:
                return x * square

            rows: list[tuple[str, Callable[[Any], Any], int, bool, str]] = [
                ("trivial items, N=10,000", trivial, 10_000, False, ""),
                ("trivial items, N=100,000", trivial, 100_000, False, ""),
                ("a lambda, N=10,000", lambda x: x * 3, 10_000, False, "lambdas on both sides"),
                ("a closure, N=10,000", closure, 10_000, False, "closures on both sides"),
                ("~10 ms items, N=400", ten_ms, 400, True, "time.sleep(0.01) per item"),
            ]
            if not quick:
                rows.insert(0, ("trivial items, N=1,000", trivial, 1_000, True, ""))
            settle = idle_cluster(client)
            for name, fn, n, per_item, notes in rows:
                contenders = _contenders(client, pool, fn, n, per_item)
                times = rotated(contenders, repeat, settle=settle)
                items_per_s = n / times["ours"]
                results.append(
                    _row(
                        f"Pool(cluster=).map, {name}",
                        times,
                        f"{WORKERS} workers x 1 thread; ours {items_per_s:,.0f} items/s"
                        + (f"; {notes}" if notes else ""),
                    )
                )
            # the first call of a function: ours learns its item time on the first chunks
            contenders = _contenders(client, pool, trivial, 10_000, False, fresh=True)
            times = rotated(contenders, repeat, settle=settle)
            results.append(
                _row(
                    "Pool(cluster=).map, first call of a function, N=10,000",
                    times,
                    "every contender maps a new function at each call (nothing cached: ours has no "
                    "item time learned, Dask no pickled function)",
                )
            )
    finally:
        client.close()
        cluster.close()
    return results
