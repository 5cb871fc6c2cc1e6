"""Helpers for test_large_data_share.py that run in child processes (importable by spawn)."""

from __future__ import annotations

import os
import signal
from typing import Any

import numpy as np
from large_data_workers import in_shared_memory

from suitkaise_processing import Share


def snapshot(share: Share, name: str) -> Any:
    """This process's snapshot of ``share.<name>`` (what reads of the proxy use)."""
    return share._sk_router._sk_read(name)


def set_arrays(share: Share, arrays: dict[str, Any]) -> None:
    """Store every array as an attribute; return once all are committed."""
    for name, value in arrays.items():
        setattr(share, name, value)
    for name in arrays:
        snapshot(share, name)


def read_arrays(share: Share, names: list[str], out: Any) -> None:
    """Send back ``(name, plain copy, snapshot views shared memory)`` for each attribute."""
    found = []
    for name in names:
        value = snapshot(share, name)
        found.append((name, np.array(value, copy=True), in_shared_memory(value)))
    out.put(found)


def hold_view_until_killed(share: Share, name: str, out: Any) -> None:
    """Read ``share.<name>``, report its first element and whether it views shared memory, then
    wait to be killed while holding the view."""
    value = snapshot(share, name)
    out.put((float(value[0]), in_shared_memory(value)))
    signal.pause()


def write_then_wait(share: Share, value: Any, out: Any) -> None:
    """Store ``value`` as ``share.arr``, wait until it is committed, report, wait to be killed."""
    share.arr = value
    snapshot(share, "arr")
    out.put(os.getpid())
    signal.pause()
