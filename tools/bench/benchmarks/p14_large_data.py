"""P14: large data. ``Pool.map`` over 32 numpy arrays of 8 MB (a sum, and a round trip returning a
same-size array), a 100 MB array one way through a ``Pipe``, and a 100 MB array ``Share`` attribute
read from another process (copied into an array of the reader's own, and summed where it is).

Peers: ``multiprocessing.Pool`` (forkserver), loky's reusable executor (its memmapping of large
arrays), ``multiprocessing.Pipe`` + pickle, ``Manager().Namespace``, and a memcpy of the same bytes
(``numpy.copyto`` into arrays allocated and touched beforehand: the floor for moving the data once;
the round trip moves it twice, so its memcpy figure copies the bytes twice). 2 workers. Contenders
are timed in turns (one call each per round); each figure is the median over the rounds.

Bars (PERFORMANCE.md): sum <= 0.15x multiprocessing, round trip <= 0.2x multiprocessing and
<= 0.5x loky, both within 3x of memcpy; Pipe 100 MB within 3x of memcpy. The Share rows have no
bar yet (reported only).
"""

from __future__ import annotations

import multiprocessing
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from suitkaise_processing import Pipe, Pool, Share
from tools.bench._core import Result, median_time
from tools.bench.benchmarks.p01_pool_trivial import interleaved

WORKERS = 2
ARRAYS = 32
ARRAY_BYTES = 8 << 20
BIG_BYTES = 100_000_000
MEMCPY = "memcpy of the same bytes"


def total(a: np.ndarray) -> float:
    return float(a.sum())


def double(a: np.ndarray) -> np.ndarray:
    return a * 2


def _memcpy(sources: list[np.ndarray], times: int = 1) -> Callable[[], None]:
    targets = [np.ones_like(a) for a in sources]  # allocated and touched: no page faults timed

    def copy() -> None:
        for _ in range(times):
            for target, source in zip(targets, sources, strict=True):
                np.copyto(target, source)

    return copy


def _pool_rows(quick: bool) -> list[Result]:
    try:
        from loky import get_reusable_executor
    except ImportError:  # pragma: no cover - bench extra not installed
        get_reusable_executor = None
    repeat = 5 if quick else 9
    arrays = [np.random.default_rng(k).random(ARRAY_BYTES // 8) for k in range(ARRAYS)]
    expected = [float(a.sum()) for a in arrays]
    mp_ctx = multiprocessing.get_context("forkserver")
    with Pool(workers=WORKERS) as ours, mp_ctx.Pool(WORKERS) as mp_pool:
        loky = get_reusable_executor(max_workers=WORKERS) if get_reusable_executor else None
        assert ours.map(total, arrays) == expected
        assert mp_pool.map(total, arrays) == expected
        doubled = ours.map(double, arrays)
        assert all(np.array_equal(d, a * 2) for d, a in zip(doubled, arrays, strict=True))
        del doubled
        rows: list[Result] = []
        for label, fn, copies, bars in (
            ("sum", total, 1, {"multiprocessing.Pool (forkserver)": 0.15}),
            (
                "round trip (returns a same-size array)",
                double,
                2,
                {
                    "multiprocessing.Pool (forkserver)": 0.2,
                    "loky (reusable executor)": 0.5,
                },
            ),
        ):
            contenders: dict[str, Callable[[], object]] = {
                "ours": lambda fn=fn: ours.map(fn, arrays),
                "multiprocessing.Pool (forkserver)": lambda fn=fn: mp_pool.map(fn, arrays),
                MEMCPY: _memcpy(arrays, copies),
            }
            if loky is not None:
                contenders["loky (reusable executor)"] = lambda fn=fn: list(loky.map(fn, arrays))
            times = interleaved(contenders, repeat)
            ours_t = times.pop("ours")
            ratios = {peer: ours_t / times[peer] for peer in times}
            passed = ratios[MEMCPY] <= 3.0 and all(
                ratios[peer] <= bar for peer, bar in bars.items() if peer in ratios
            )
            moved = ARRAYS * ARRAY_BYTES * copies
            rows.append(
                Result(
                    id="P14",
                    name=f"Pool.map {label} over {ARRAYS} arrays of 8 MB",
                    ours=ours_t,
                    peers=times,
                    bar=" and ".join(f"<= {b}x {p.split(' ')[0]}" for p, b in bars.items())
                    + ", <= 3x memcpy",
                    passed=passed,
                    notes=f"ours {moved / ours_t / 1e9:.2f} GB/s moved; ratios "
                    + ", ".join(f"{p.split(' ')[0]} {r:.2f}x" for p, r in ratios.items())
                    + f"; {WORKERS} workers",
                )
            )
        if loky is not None:
            loky.shutdown(wait=True)
    return rows


def _ours_sink(point: Any) -> None:
    while True:
        value = point.recv()
        if value is None:
            return
        size = int(value.nbytes)
        del value  # dropped before the next one arrives, as a consumer of a stream would
        point.send(size)


def _raw_sink(conn: Any) -> None:
    while True:
        value = conn.recv()
        if value is None:
            return
        size = int(value.nbytes)
        del value
        conn.send(size)


def _pipe_row(quick: bool) -> Result:
    from suitkaise_processing._private.context import get_context

    repeat = 5 if quick else 9
    ctx = get_context()
    payload = np.random.default_rng(0).random(BIG_BYTES // 8)
    anchor, point = Pipe.pair()
    ours_proc = ctx.Process(target=_ours_sink, args=(point,))  # type: ignore[attr-defined]
    ours_proc.start()
    point.close()
    raw, there = ctx.Pipe()
    raw_proc = ctx.Process(target=_raw_sink, args=(there,))  # type: ignore[attr-defined]
    raw_proc.start()
    there.close()
    try:

        def ours() -> None:
            anchor.send(payload)
            assert anchor.recv(timeout=120) == payload.nbytes

        def peer() -> None:
            raw.send(payload)
            assert raw.recv() == payload.nbytes

        times = interleaved(
            {"ours": ours, "multiprocessing.Pipe + pickle": peer, MEMCPY: _memcpy([payload])},
            repeat,
        )
    finally:
        anchor.send(None)
        raw.send(None)
        ours_proc.join(30)
        raw_proc.join(30)
        anchor.close()
        raw.close()
    ours_t = times.pop("ours")
    return Result(
        id="P14",
        name="Pipe one-way 100 MB numpy array (time per payload, child acknowledges)",
        ours=ours_t,
        peers=times,
        bar="<= 3x memcpy",
        bar_peer=MEMCPY,
        bar_ratio=3.0,
        notes=f"ours {BIG_BYTES / ours_t / 1e9:.2f} GB/s; "
        f"{ours_t / times['multiprocessing.Pipe + pickle']:.2f}x multiprocessing",
    )


def _share_reader(target: Any, use: str, rounds: int, ready: Any, go: Any, out: Any) -> None:
    ours = target.tag == "ours"  # connected before the clock starts
    ready.set()
    for _ in range(rounds):
        go.wait(300)
        go.clear()
        start = time.perf_counter()
        if use == "copy":
            # a Share gives a proxy of an object; .copy() is a plain array (what a user works with)
            value = target.big.copy() if ours else target.big
            first = float(value[0])
        else:  # read every value once, where it is (ours: the proxy sums its snapshot)
            value = target.big.sum()
            first = float(value)
        out.put((time.perf_counter() - start, first))
        del value


_SHARE_USES = {
    "copy": "first read of a changed 100 MB numpy array attribute in another process (.copy())",
    "sum": "first read of a changed 100 MB numpy array attribute in another process, summed",
}


def _share_row(quick: bool, use: str) -> Result:
    """Each round the parent stores a new array (and waits until it is applied), then the reader
    reads it once: a first read of a changed value, never a cached one. ``use``: ``copy`` (the
    reader gets a plain array of its own) or ``sum`` (it reads every value once, no copy needed)."""
    rounds = 3 if quick else 5
    ctx = multiprocessing.get_context("spawn")
    payload = np.random.default_rng(1).random(BIG_BYTES // 8)
    times: dict[str, float] = {}
    share = Share()
    try:
        with ctx.Manager() as manager:
            namespace = manager.Namespace()
            for name, target in (("ours", share), ("Manager().Namespace", namespace)):
                target.tag = name
                ready, go, out = ctx.Event(), ctx.Event(), ctx.Queue()
                proc = ctx.Process(  # type: ignore[attr-defined]
                    target=_share_reader, args=(target, use, rounds + 1, ready, go, out)
                )
                proc.start()
                try:
                    if not ready.wait(300):
                        raise RuntimeError("the Share reader did not start")
                    samples = []
                    for k in range(rounds + 1):
                        payload[0] = k
                        target.big = payload
                        assert target.big[0] == k  # applied before the reader starts
                        go.set()
                        elapsed, first = out.get(timeout=300)
                        expected = k if use == "copy" else float(payload.sum())
                        assert abs(first - expected) <= 1e-9 * abs(expected)
                        samples.append(elapsed)
                    times[name] = statistics.median(samples[1:])
                finally:
                    proc.join(60)
                    if proc.is_alive():
                        proc.kill()
    finally:
        share.stop()
    # the peer for "sum" is a sum of the same bytes in memory that is already mapped
    reference = _memcpy([payload]) if use == "copy" else payload.sum
    times[MEMCPY if use == "copy" else "numpy sum in place"] = median_time(reference, repeat=rounds)
    ours_t = times.pop("ours")
    how = (
        "share.big.copy(): the snapshot views the attribute's buffer segment (mapped, not copied), "
        "then the copy allocates and fills 100 MB"
        if use == "copy"
        else "share.big.sum() runs on the snapshot, which views the attribute's buffer segment"
    )
    return Result(
        id="P14",
        name=f"Share: {_SHARE_USES[use]}",
        ours=ours_t,
        peers=times,
        bar="reported (no bar yet)",
        passed=None,
        notes=f"ours {BIG_BYTES / ours_t / 1e9:.2f} GB/s ({how})",
    )


def run(quick: bool) -> list[Result]:
    return [
        *_pool_rows(quick),
        _pipe_row(quick),
        _share_row(quick, "copy"),
        _share_row(quick, "sum"),
    ]
