"""P11: ``Pipe`` against a raw ``multiprocessing.Pipe`` + pickle, both talking to a child process.

Rows: round trip of a small dict (the child echoes it back); one-way 100 MB ``bytes`` (the child
acknowledges each payload with one byte). Same start method for both. Bars: <= 1.3x the raw pipe per
small round trip; >= 0.8x its large throughput (time ratio <= 1.25).
"""

from __future__ import annotations

from typing import Any

from tools.bench._core import Result, median_time

SMALL = {"id": 7, "name": "item", "values": [1, 2, 3], "ok": True}
BIG_SIZE = 100_000_000


def _raw_echo(conn: Any) -> None:
    try:
        while True:
            msg = conn.recv()
            if msg is None:
                return
            conn.send(msg)
    except EOFError:
        return


def _ours_echo(point: Any) -> None:
    try:
        while True:
            msg = point.recv()
            if msg is None:
                return
            point.send(msg)
    except EOFError:
        return


def _raw_sink(conn: Any) -> None:
    try:
        while True:
            msg = conn.recv()
            if msg is None:
                return
            conn.send(len(msg))
    except EOFError:
        return


def _ours_sink(point: Any) -> None:
    try:
        while True:
            msg = point.recv()
            if msg is None:
                return
            point.send(len(msg))
    except EOFError:
        return


class _Raw:
    def __init__(self, ctx: Any, target: Any) -> None:
        self.here, there = ctx.Pipe()
        self.proc = ctx.Process(target=target, args=(there,))
        self.proc.start()
        there.close()

    def send(self, obj: Any) -> None:
        self.here.send(obj)

    def recv(self) -> Any:
        return self.here.recv()

    def close(self) -> None:
        self.here.send(None)
        self.proc.join(30)
        self.here.close()


class _Ours:
    def __init__(self, ctx: Any, target: Any) -> None:
        from suitkaise_processing import Pipe

        self.anchor, point = Pipe.pair()
        self.proc = ctx.Process(target=target, args=(point,))
        self.proc.start()
        point.close()

    def send(self, obj: Any) -> None:
        self.anchor.send(obj)

    def recv(self) -> Any:
        return self.anchor.recv()

    def close(self) -> None:
        self.anchor.send(None)
        self.proc.join(30)
        self.anchor.close()


def run(quick: bool) -> list[Result]:
    from suitkaise_processing._private.context import get_context, get_start_method

    ctx = get_context()
    method = get_start_method()
    results: list[Result] = []

    # --- small dict round trip ------------------------------------------------------------------
    per = 500 if quick else 2000
    repeat = 5 if quick else 9
    ends = {
        "raw multiprocessing.Pipe + pickle": _Raw(ctx, _raw_echo),
        "ours": _Ours(ctx, _ours_echo),
    }
    try:

        def round_trips(end: Any) -> None:
            for _ in range(per):
                end.send(SMALL)
                end.recv()

        samples: dict[str, list[float]] = {name: [] for name in ends}
        for _ in range(repeat):  # interleaved so background load hits both alike
            for name, end in ends.items():
                samples[name].append(
                    median_time(lambda end=end: round_trips(end), repeat=1, warmup=1, per=per)
                )
        times = {name: sorted(v)[len(v) // 2] for name, v in samples.items()}
    finally:
        for end in ends.values():
            end.close()
    ours = times.pop("ours")
    results.append(
        Result(
            id="P11",
            name="Pipe round trip, small dict",
            ours=ours,
            peers=times,
            bar="<= 1.3x raw Pipe + pickle",
            bar_peer="raw multiprocessing.Pipe + pickle",
            bar_ratio=1.3,
            notes=f"start method {method}; physical floor ~10-20 us per round trip",
        )
    )

    # --- 100 MB one way ---------------------------------------------------------------------------
    payload = b"\x5a" * BIG_SIZE
    big_repeat = 3 if quick else 5
    ends = {
        "raw multiprocessing.Pipe + pickle": _Raw(ctx, _raw_sink),
        "ours": _Ours(ctx, _ours_sink),
    }
    try:

        def one_way(end: Any) -> None:
            end.send(payload)
            assert end.recv() == BIG_SIZE

        samples = {name: [] for name in ends}
        for _ in range(big_repeat):
            for name, end in ends.items():
                samples[name].append(median_time(lambda end=end: one_way(end), repeat=1, warmup=1))
        times = {name: sorted(v)[len(v) // 2] for name, v in samples.items()}
    finally:
        for end in ends.values():
            end.close()
    ours = times.pop("ours")
    peer = times["raw multiprocessing.Pipe + pickle"]
    results.append(
        Result(
            id="P11",
            name="Pipe one-way 100 MB bytes (time per payload)",
            ours=ours,
            peers=times,
            bar=">= 0.8x raw throughput (time <= 1.25x)",
            bar_peer="raw multiprocessing.Pipe + pickle",
            bar_ratio=1.25,
            notes=f"ours {BIG_SIZE / ours / 1e9:.2f} GB/s, raw {BIG_SIZE / peer / 1e9:.2f} GB/s; "
            "memory bandwidth is the floor",
        )
    )
    return results
