"""Where the soak's memory goes: the C allocator's own counts and Python's traced allocations.

Used by ``chaos_workload.py --memory-detail`` (``python tools/dev.py soak --minutes N --memory-detail``):

- :func:`malloc_counts` reads glibc's ``mallinfo2()`` (summed over every malloc arena): the bytes
  handed out to the program (``in_use``) and the bytes the allocator holds free without returning
  them to the system (``held_free``). RSS that grows while ``in_use`` stays flat is memory the
  allocator keeps (fragmentation, per-thread arenas), not objects the program keeps.
- :func:`pymalloc_counts` reads Python's small-object allocator (``sys._debugmallocstats()``): the
  MiB of its 1 MiB arenas (``py_arenas``) and of the blocks in them that hold objects
  (``py_blocks``). Arenas that grow while the blocks stay flat are fragmentation: an arena is given
  back only when every object in it is gone.
- :class:`TracedGrowth` takes ``tracemalloc`` snapshots (one early, one at the end) and lists the
  places whose Python allocations grew most between them, by traceback.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import linecache
import os
import re
import sys
import tempfile
import threading
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["TracedGrowth", "malloc_counts", "memory_sample", "pymalloc_counts"]

MIB = 2**20


class _MallInfo2(ctypes.Structure):
    _fields_ = [  # the layout of struct mallinfo2 (glibc >= 2.33)
        (name, ctypes.c_size_t)
        for name in (
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        )
    ]


def _mallinfo2() -> Callable[[], _MallInfo2] | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    fn = getattr(ctypes.CDLL(name), "mallinfo2", None)
    if fn is None:
        return None
    fn.restype = _MallInfo2
    fn.argtypes = []
    return fn  # type: ignore[no-any-return]


_MALLINFO2 = _mallinfo2()


def malloc_counts() -> dict[str, float] | None:
    """MiB the allocator gave out (``in_use``: small blocks + mmapped) and holds free
    (``held_free``), summed over every arena; ``None`` without glibc >= 2.33."""
    if _MALLINFO2 is None:
        return None
    info = _MALLINFO2()
    return {
        "in_use": round((info.uordblks + info.hblkhd) / MIB, 2),
        "held_free": round(info.fordblks / MIB, 2),
        "heap": round(info.arena / MIB, 2),
    }


_PYMALLOC_LINES = {
    "py_arenas": re.compile(r"^\d+ arenas \* \d+ bytes/arena\s+=\s+([\d,]+)", re.M),
    "py_blocks": re.compile(r"^# bytes in allocated blocks\s+=\s+([\d,]+)", re.M),
}
_stderr_lock = threading.Lock()


def pymalloc_counts() -> dict[str, float]:
    """MiB of pymalloc's arenas and of the allocated blocks in them (from ``sys._debugmallocstats``,
    which writes to file descriptor 2: it is pointed at a temporary file for the call)."""
    with _stderr_lock, tempfile.TemporaryFile("w+") as out:
        sys.stderr.flush()
        saved = os.dup(2)
        try:
            os.dup2(out.fileno(), 2)
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        out.seek(0)
        text = out.read()
    counts = {}
    for key, pattern in _PYMALLOC_LINES.items():
        found = pattern.search(text)
        if found is not None:
            counts[key] = round(int(found.group(1).replace(",", "")) / MIB, 2)
    return counts


def memory_sample(rss_mib: float) -> dict[str, float]:
    """The RSS beside malloc's and pymalloc's counts (MiB)."""
    return {"rss": rss_mib, **(malloc_counts() or {}), **pymalloc_counts()}


@dataclass
class _Row:
    size_diff: int
    count_diff: int
    where: list[str]


class TracedGrowth:
    """``tracemalloc`` snapshots of this process: :meth:`mark` once early, :meth:`report` at the end."""

    def __init__(self, frames: int) -> None:
        tracemalloc.start(frames)
        self._early: tracemalloc.Snapshot | None = None

    @staticmethod
    def traced_mib() -> float:
        return round(tracemalloc.get_traced_memory()[0] / MIB, 2)

    @staticmethod
    def _snapshot() -> tracemalloc.Snapshot:
        return tracemalloc.take_snapshot().filter_traces(
            (
                tracemalloc.Filter(False, tracemalloc.__file__),
                tracemalloc.Filter(False, linecache.__file__),
                tracemalloc.Filter(False, "<frozen importlib._bootstrap>"),
                tracemalloc.Filter(False, "<frozen importlib._bootstrap_external>"),
            )
        )

    def mark(self) -> None:
        """Take the early snapshot (the baseline of :meth:`report`)."""
        self._early = self._snapshot()

    def report(self, top: int = 12) -> list[str]:
        """The ``top`` tracebacks whose allocations grew most since :meth:`mark`, as text lines."""
        if self._early is None:
            return ["tracemalloc: no early snapshot was taken (run longer than the mark)"]
        late = self._snapshot()
        stats = late.compare_to(self._early, "traceback")
        rows = [
            _Row(s.size_diff, s.count_diff, s.traceback.format(limit=6, most_recent_first=True))
            for s in sorted(stats, key=lambda s: s.size_diff, reverse=True)[:top]
        ]
        total = sum(s.size_diff for s in stats)
        lines = [
            f"tracemalloc: Python allocations {total / MIB:+.2f} MiB between the mark and the end; "
            f"largest growths by traceback (newest frame first):"
        ]
        for row in rows:
            lines.append(f"  {row.size_diff / 1024:+.1f} KiB in {row.count_diff:+d} blocks")
            lines += [f"      {line.strip()}" for line in row.where if line.strip()]
        return lines
