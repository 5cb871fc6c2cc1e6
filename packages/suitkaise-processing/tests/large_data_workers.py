"""Functions and processes for the large-data tests (imported by reference in the workers)."""

from __future__ import annotations

import contextlib
import mmap
import os
import signal
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from suitkaise_processing import Pipe, Skprocess

#: one of each kind of dtype the large-data tests send (structured, strings, dates, big-endian)
DTYPES = [
    np.bool_,
    np.int8,
    np.int16,
    np.int32,
    np.int64,
    np.uint8,
    np.uint16,
    np.uint32,
    np.uint64,
    np.float16,
    np.float32,
    np.float64,
    np.longdouble,
    np.complex64,
    np.complex128,
    np.dtype("M8[ns]"),
    np.dtype("m8[s]"),
    np.dtype("U7"),
    np.dtype("S5"),
    np.dtype([("a", "<i4"), ("b", "<f8"), ("c", "S3")]),
    np.dtype(">i8"),
]


def filled(dtype: Any, nbytes: int, seed: int = 0) -> np.ndarray:
    """An array of ``dtype`` of about ``nbytes`` bytes with values that differ by ``seed``."""
    dtype = np.dtype(dtype)
    n = max(1, nbytes // dtype.itemsize)
    raw = (np.arange(n) + seed) % 251
    if dtype.names:
        out = np.zeros(n, dtype=dtype)
        out["a"], out["b"], out["c"] = raw, raw / 7, [b"x%d" % (i % 10) for i in raw]
        return out
    if dtype.kind in "US":
        return raw.astype(dtype)
    if dtype.kind in "Mm":
        return raw.astype(np.int64).astype(dtype)
    return raw.astype(dtype)


def in_shared_memory(value: Any) -> bool:
    """Whether ``value`` views a mapped memory file (follows ``.base`` and ``memoryview.obj``)."""
    seen = value
    while seen is not None:
        if isinstance(seen, mmap.mmap):
            return True
        seen = seen.obj if isinstance(seen, memoryview) else getattr(seen, "base", None)
    return False


def echo(value: Any) -> Any:
    return value


def total(a: np.ndarray) -> float:
    return float(a.sum())


def double(a: np.ndarray) -> np.ndarray:
    return a * 2


def describe(a: np.ndarray) -> tuple[bool, bool, str, tuple[int, ...]]:
    """How the worker received ``a``: (in shared memory, writeable, dtype, shape)."""
    return in_shared_memory(a), bool(a.flags.writeable), a.dtype.str, a.shape


def add_one_in_place(a: np.ndarray) -> float:
    a += 1
    return float(a.sum())


def die_holding(a: np.ndarray) -> float:
    """Keep a view of the argument, then die by SIGKILL (the item is marked by a negative first value)."""
    view = a[: len(a) // 2]
    if a[0] < 0:
        os.kill(os.getpid(), signal.SIGKILL)
    return float(view.sum())


class ArrayEcho(Skprocess):
    """Receives values on its point and sends each back with ``report(value)`` (by default whether
    it arrived in shared memory), until ``None``."""

    def __init__(self, point: Any, report: Callable[[Any], Any] = in_shared_memory) -> None:
        self.point = point
        self.report = report
        self.process_config.runs = 1

    def __run__(self) -> None:
        while True:
            value = self.point.recv()
            if value is None:
                break
            self.point.send((self.report(value), value))

    def __result__(self) -> str:
        return "done"


@contextlib.contextmanager
def echoing(report: Callable[[Any], Any] = in_shared_memory, **pair_options: Any) -> Iterator[Any]:
    """An :class:`ArrayEcho` started on a new ``Pipe.pair(**pair_options)``; yields the anchor to
    send values on. On leaving it stops the echo (``None``) and checks that it ended."""
    anchor, point = Pipe.pair(**pair_options)
    process = ArrayEcho(point, report)
    process.start()
    try:
        yield anchor
        anchor.send(None)
        assert process.wait(timeout=60)
    finally:
        anchor.close()
        if process.is_alive:
            process.kill()


class ArrayResult(Skprocess):
    """Returns a big array as its result."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.process_config.runs = 1

    def __run__(self) -> None:
        pass

    def __result__(self) -> np.ndarray:
        return np.arange(self.size, dtype=np.float64)


def numeric_columns_in_shared_memory(frame: Any) -> list[bool]:
    """For each numeric column of a pandas DataFrame (or a Series), whether it views shared memory."""
    import pandas as pd  # only the pandas tests call this

    columns = [frame] if frame.ndim == 1 else [frame[name] for name in frame.columns]
    return [in_shared_memory(c.to_numpy()) for c in columns if pd.api.types.is_numeric_dtype(c)]


def frame_report(frame: Any) -> tuple[list[bool], Any]:
    """Where the frame's columns arrived, and the frame with a computed column added."""
    return numeric_columns_in_shared_memory(frame), frame.assign(doubled=frame["a"] * 2)
