"""P20: what ``sk``, ``modifiable`` and ``timethis`` add to a call (per-call wall time, lower is better).

Rows (each measured as a loop of N calls, interleaved with its peer; every row reports the best of the
repeats, as ``timeit`` does: on a shared machine other processes only ever add time):
- ``@sk`` function called directly vs the undecorated function (bar: <= 1.2x).
- ``@timethis()`` function vs the undecorated function (bar: < 2 us added per call).
- ``@modifiable()`` method and ``@sk`` class method called directly vs a plain method (reported).
- ``fn.timeout(10.0)(x)`` and ``fn.background()(x).result()`` vs a ``ThreadPoolExecutor`` doing the
  same (reported: thread hand-offs, dominated by scheduling latency on a shared machine).
P13 rows: the same direct calls, ``timethis`` and ``.timeout()`` against the published suitkaise
0.4.x, measured in its own environment (``tools/bench/peer_suitkaise.py``) the same way.
"""

from __future__ import annotations

import os
import statistics
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sk_modifiers import modifiable, sk
from sktiming import Sktimer, timethis
from tools.bench._core import Result, median_time

PEER_PUBLISHED = "suitkaise 0.4.x"


def plain(x: int) -> int:
    return x


@sk
def sk_function(x: int) -> int:
    return x


_TIMER = Sktimer()


@timethis(_TIMER)
def timed(x: int) -> int:
    return x


class Plain:
    def method(self, x: int) -> int:
        return x


class Library:
    @modifiable()
    def method(self, x: int) -> int:
        return x


@sk
class UserClass:
    def method(self, x: int) -> int:
        return x


def _loop(fn: Callable[[int], Any], n: int) -> Callable[[], None]:
    def run() -> None:
        for i in range(n):
            fn(i)

    return run


def _attr_loop(obj: Any, n: int) -> Callable[[], None]:
    """``obj.method(i)`` with the attribute looked up on every call, as real code does."""

    def run() -> None:
        for i in range(n):
            obj.method(i)

    return run


def _interleaved(
    fns: dict[str, Callable[[], None]], repeat: int, per: int, *, best: bool = False
) -> dict[str, float]:
    """Per-call time of each loop, the loops taking turns so load affects all alike.

    The median of the repeats, or with ``best`` the minimum (as ``timeit`` reports): for
    nanosecond-scale calls on a shared machine, other processes only ever add time.
    """
    samples: dict[str, list[float]] = {name: [] for name in fns}
    for fn in fns.values():
        fn()  # warm up
    for _ in range(repeat):
        for name, fn in fns.items():
            _TIMER.reset()
            samples[name].append(median_time(fn, repeat=1, warmup=0, per=per))
    pick = min if best else statistics.median
    return {name: pick(values) for name, values in samples.items()}


PEER_SCRIPT = """
import json, statistics, time
from concurrent.futures import ThreadPoolExecutor
from suitkaise import sk
from suitkaise.timing import timethis

def plain(x):
    return x

@sk
def sk_function(x):
    return x

@timethis()
def timed(x):
    return x

class Plain:
    def method(self, x):
        return x

@sk
class UserClass:
    def method(self, x):
        return x

def per_call(fn, n):
    start = time.perf_counter()
    for i in range(n):
        fn(i)
    return (time.perf_counter() - start) / n

def attr_per_call(obj, n):
    start = time.perf_counter()
    for i in range(n):
        obj.method(i)
    return (time.perf_counter() - start) / n

if __name__ == "__main__":
    n, repeat, slow_n = {n}, {repeat}, {slow_n}
    p, u = Plain(), UserClass()
    loops = {{
        "plain": (plain, n),
        "sk": (sk_function, n),
        "timethis": (timed, n),
        "method": (p, n),
        "sk_class_method": (u, n),
        "timeout": (sk_function.timeout(10.0), slow_n),
    }}
    def measure(name, target, count):
        if name in ("method", "sk_class_method"):
            return attr_per_call(target, count)
        return per_call(target, count)
    samples = {{name: [] for name in loops}}
    for name, (target, count) in loops.items():
        measure(name, target, max(count // 10, 1))
    for _ in range(repeat):
        for name, (target, count) in loops.items():
            samples[name].append(measure(name, target, count))
    print(json.dumps({{name: min(v) for name, v in samples.items()}}))
"""


def _published(n: int, repeat: int, slow_n: int) -> dict[str, float] | None:
    if os.environ.get("SK_BENCH_NO_PEER_SUITKAISE"):
        return None
    try:
        from tools.bench.peer_suitkaise import run_in_peer

        data = run_in_peer(PEER_SCRIPT.format(n=n, repeat=repeat, slow_n=slow_n))
        return {str(k): float(v) for k, v in dict(data).items()}
    except Exception as exc:  # no network, or the published package lacks a feature
        print(f"P13 modifier peer unavailable: {exc}")
        return None


def run(quick: bool) -> list[Result]:
    n = 20_000 if quick else 100_000
    slow_n = 200 if quick else 1_000
    repeat = 5 if quick else 9

    plain_obj, library, user = Plain(), Library(), UserClass()
    direct = _interleaved(
        {
            "plain": _loop(plain, n),
            "sk": _loop(sk_function, n),
            "timethis": _loop(timed, n),
            "method": _loop(plain_obj.method, n),
            "plain_attr": _attr_loop(plain_obj, n),
            "modifiable_attr": _attr_loop(library, n),
            "sk_class_attr": _attr_loop(user, n),
        },
        repeat,
        n,
        best=True,
    )
    executor = ThreadPoolExecutor(max_workers=1)
    try:
        with_timeout = sk_function.timeout(10.0)  # type: ignore[attr-defined]
        background = sk_function.background()  # type: ignore[attr-defined]
        threaded = _interleaved(
            {
                "timeout": _loop(with_timeout, slow_n),
                "background": _loop(lambda x: background(x).result(), slow_n),
                "executor_wait": _loop(lambda x: executor.submit(plain, x).result(10.0), slow_n),
            },
            repeat,
            slow_n,
            best=True,
        )
    finally:
        executor.shutdown()

    added = direct["timethis"] - direct["plain"]
    results = [
        Result(
            id="P20",
            name="@sk function, direct call",
            ours=direct["sk"],
            peers={"plain function": direct["plain"]},
            bar="<= 1.2x",
            bar_peer="plain function",
            bar_ratio=1.2,
            notes=(
                "sk returns the function itself with modifier attributes: no wrapper "
                "(as suitkaise 0.4.x does)"
            ),
        ),
        Result(
            id="P20",
            name="@timethis() call",
            ours=direct["timethis"],
            peers={"plain function": direct["plain"]},
            bar="< 2 us added",
            passed=added < 2e-6,
            notes=f"added {added * 1e9:.0f} ns per call",
        ),
        Result(
            id="P20",
            name="@modifiable() method, obj.method(x)",
            ours=direct["modifiable_attr"],
            peers={"plain method": direct["plain_attr"]},
            bar="report",
            notes="descriptor binding (Python __get__) + C-level functools.partial call",
        ),
        Result(
            id="P20",
            name="@sk class method, obj.method(x)",
            ours=direct["sk_class_attr"],
            peers={"plain method": direct["plain_attr"]},
            bar="report",
        ),
        Result(
            id="P20",
            name="fn.timeout(10.0)(x) (worker thread)",
            ours=threaded["timeout"],
            peers={"ThreadPoolExecutor submit+result": threaded["executor_wait"]},
            bar="report",
            notes="reusable daemon worker threads",
        ),
        Result(
            id="P20",
            name="fn.background()(x).result()",
            ours=threaded["background"],
            peers={"ThreadPoolExecutor submit+result": threaded["executor_wait"]},
            bar="report",
            notes="a thread hand-off: scheduling latency dominates on a loaded machine",
        ),
    ]

    published = _published(n, repeat, slow_n)
    if published is not None:
        # (row, ours, key in the peer's results, bar, ratio). The direct call of an @sk function
        # has no P13 row: both return the function itself, so it can only tie (and two
        # interpreters measured at different moments differ by noise alone).
        pairs = [
            ("@timethis() call", direct["timethis"], "timethis", "faster", 1.0),
            (
                "@sk class method, obj.method(x)",
                direct["sk_class_attr"],
                "sk_class_method",
                "faster",
                1.0,
            ),
            ("fn.timeout(10.0)(x)", threaded["timeout"], "timeout", "faster", 1.0),
        ]
        for name, ours, key, bar, ratio in pairs:
            results.append(
                Result(
                    id="P13",
                    name=f"{name} vs published suitkaise",
                    ours=ours,
                    peers={PEER_PUBLISHED: published[key]},
                    bar=bar,
                    bar_peer=PEER_PUBLISHED,
                    bar_ratio=ratio,
                    notes=(
                        f"plain function in the peer's interpreter: {published['plain'] * 1e9:.0f} ns"
                    ),
                )
            )
    return results
