"""P12: ``Skprocess`` (runs=1) start -> ``result()`` against ``multiprocessing.Process`` + ``Queue``.

Both use the same start method (forkserver on Linux). The peer starts a process whose target puts
one result on a queue; the parent gets it and joins. Bar: <= 1.5x. P13: the published suitkaise 0.4.x
``Skprocess`` doing the same, in its own environment (its default start method), when available.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from suitkaise_processing import Skprocess
from tools.bench._core import Result, median_time


class OneRun(Skprocess):
    def __init__(self) -> None:
        self.process_config.runs = 1
        self.value = 0

    def __run__(self) -> None:
        self.value = 42

    def __result__(self) -> int:
        return self.value


def _peer_target(queue: Any) -> None:
    queue.put(42)


def _ours() -> None:
    assert OneRun().run() == 42


def _peer(ctx: Any) -> None:
    queue = ctx.Queue()
    proc = ctx.Process(target=_peer_target, args=(queue,))
    proc.start()
    assert queue.get() == 42
    proc.join()


PEER_SCRIPT = """
import json, statistics, time
from suitkaise.processing import Skprocess

class OneRun(Skprocess):
    def __init__(self):
        self.process_config.runs = 1
        self.value = 0
    def __run__(self):
        self.value = 42
    def __result__(self):
        return self.value

if __name__ == "__main__":
    times = []
    for i in range({total}):
        start = time.perf_counter()
        p = OneRun()
        p.start()
        p.wait()
        assert p.result() == 42
        if i >= 1:
            times.append(time.perf_counter() - start)
    print(json.dumps(statistics.median(times)))
"""


def _published(repeat: int) -> float | None:
    if os.environ.get("SK_BENCH_NO_PEER_SUITKAISE"):
        return None
    try:
        from tools.bench.peer_suitkaise import run_in_peer

        return float(run_in_peer(PEER_SCRIPT.format(total=repeat + 1)))
    except Exception as exc:  # no network, or the published package has no Skprocess
        print(f"P13 Skprocess peer unavailable: {exc}")
        return None


def run(quick: bool) -> list[Result]:
    from suitkaise_processing._private.context import (
        get_context,
        get_start_method,
        set_start_method,
    )

    ctx = get_context()
    method = get_start_method()
    repeat = 7 if quick else 15
    # warm the fork server and imports for both
    _ours()
    _peer(ctx)
    ours_samples: list[float] = []
    peer_samples: list[float] = []
    for _ in range(repeat):  # interleaved
        ours_samples.append(median_time(_ours, repeat=1, warmup=0))
        peer_samples.append(median_time(lambda: _peer(ctx), repeat=1, warmup=0))
    ours = sorted(ours_samples)[repeat // 2]
    peer = sorted(peer_samples)[repeat // 2]
    results = [
        Result(
            id="P12",
            name="Skprocess runs=1 start -> result()",
            ours=ours,
            peers={f"multiprocessing.Process + Queue ({method})": peer},
            bar="<= 1.5x",
            bar_peer=f"multiprocessing.Process + Queue ({method})",
            bar_ratio=1.5,
            notes=f"start method {method}",
        )
    ]
    fork_note = ""
    if method != "fork" and sys.platform.startswith("linux"):
        # For the record: the same start under fork (what the published suitkaise uses on Linux).
        set_start_method("fork")
        try:
            _ours()
            fork_time = median_time(_ours, repeat=repeat, warmup=1)
            fork_note = f"; ours under fork: {fork_time * 1e3:.1f} ms"
        finally:
            set_start_method(method)
    results[0].notes += fork_note
    published = _published(5 if quick else 10)
    if published is not None:
        results.append(
            Result(
                id="P13",
                name="Skprocess runs=1 start -> result() vs published suitkaise",
                ours=ours,
                peers={"suitkaise 0.4.x": published},
                bar="faster",
                bar_peer="suitkaise 0.4.x",
                bar_ratio=1.0,
                notes=f"ours with {method}; suitkaise 0.4.x with its default (fork on Linux){fork_note}",
            )
        )
    return results
