"""P8: reading ``share.x`` when no write is pending, against a ``Manager().Namespace`` attribute read.

One process, N reads in a loop; per-read wall time (lower is better). Bar: >= 10x the Manager's
reads per second, i.e. ours <= 0.1x its time per read. Rows for an int and for a 1,000-item list
(``len(share.items)``: the cached decoded value is reused while nothing changes).
"""

from __future__ import annotations

import multiprocessing
import statistics

from suitkaise_processing import Share
from tools.bench._core import Result, median_time

PEER = "Manager().Namespace"


def run(quick: bool) -> list[Result]:
    n = 20_000 if quick else 100_000
    n_peer = 2_000 if quick else 10_000
    repeat = 3 if quick else 5
    results: list[Result] = []
    ctx = multiprocessing.get_context("spawn")
    share = Share()
    try:
        with ctx.Manager() as manager:
            ns = manager.Namespace()
            ns.x = 42
            ns.items = list(range(1000))
            share.x = 42
            share.items = list(range(1000))
            assert share.x == 42
            assert len(share.items) == 1000

            def ours_int() -> None:
                for _ in range(n):
                    share.x  # noqa: B018

            def peer_int() -> None:
                for _ in range(n_peer):
                    ns.x  # noqa: B018

            def ours_list() -> None:
                for _ in range(n):
                    len(share.items)

            def peer_list() -> None:
                for _ in range(n_peer):
                    len(ns.items)

            for label, fo, fp in (
                ("share.x read (int), nothing pending", ours_int, peer_int),
                ("len(share.items), 1,000 items", ours_list, peer_list),
            ):
                a: list[float] = []
                b: list[float] = []
                for rep in range(repeat + 1):
                    x = median_time(fo, repeat=1, warmup=0, per=n)
                    y = median_time(fp, repeat=1, warmup=0, per=n_peer)
                    if rep:
                        a.append(x)
                        b.append(y)
                ours, peer = statistics.median(a), statistics.median(b)
                results.append(
                    Result(
                        id="P8",
                        name=label,
                        ours=ours,
                        peers={PEER: peer},
                        bar=">= 10x reads/s (<= 0.1x time)",
                        bar_peer=PEER,
                        bar_ratio=0.1,
                        notes=f"ours {1 / ours:,.0f} reads/s; Manager {1 / peer:,.0f} reads/s; x{peer / ours:,.0f}",
                    )
                )
    finally:
        share.stop()
    return results
