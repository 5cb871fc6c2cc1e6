"""Functions Pool workers run on a ``Share`` in the integration tests (importable by child processes)."""

from __future__ import annotations

from typing import Any

from suitkaise.processing import Share


def record_time(args: tuple[Share, float]) -> None:
    """The intro example from another process: ``share.timer.add_time(t)`` and ``share.counter += 1``."""
    share, seconds = args
    share.timer.add_time(seconds)
    share.counter += 1


def mixed_updates(args: tuple[Share, int]) -> None:
    """25 counter increments, 5 list appends and 25 dict increments under key ``w<k>``."""
    share, k = args
    share.totals[f"w{k}"] = 0
    for i in range(25):
        share.counter += 1
        share.totals[f"w{k}"] += 1
        if i < 5:
            share.items.append(f"{k}:{i}")


def deposit_many(args: tuple[Share, int]) -> None:
    """``share.account.deposit(1)`` ``n`` times."""
    share, n = args
    for _ in range(n):
        share.account.deposit(1)


def read_counter(share: Share) -> Any:
    """What another process reads from ``share.counter``."""
    return share.counter


def read_counter_into(share: Share, out: Any) -> None:
    """A plain child process: put ``share.counter`` (or the error's repr) on ``out``."""
    try:
        out.put(share.counter)
    except BaseException as exc:
        out.put(repr(exc))
