"""Per-item time limits: ``Pool(item_timeout=s)``, ``pool.map.item_timeout(s)``, ``pool.imap.item_timeout(s)``.

The worker announces each timed item in its slot (``Slot.ITEM_DEADLINE``, described in
:mod:`._protocol`); the parent's leader (and, while nobody waits on the pool, the deadline monitor
thread) reads the deadlines and kills a worker whose item ran past its own: the item fails with
:class:`~._errors.ItemTimeoutError`, the worker is replaced, and the chunk's other items run on
(those after it on another worker). A timed item sends its result as soon as it ends, so a killed
worker holds no finished result: nothing runs twice.

If the item ends in the instant between the parent's read and the kill, the worker may already run
the next item when it dies: that item was not the one that timed out, so it runs again on another
worker (:func:`is_innocent`) instead of failing.
"""

from __future__ import annotations

import math

from suitkaise_processing._private.pool._protocol import Slot, read_batch


def check_item_timeout(value: object, where: str) -> float | None:
    """``value`` as a limit in seconds (``None``: no limit); ``ValueError`` for anything but a
    finite number > 0. ``where`` names the argument in the message."""
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not value > 0
        or not math.isfinite(value)
    ):
        raise ValueError(
            f"{where}: item_timeout must be a number of seconds > 0 (or None for no limit), "
            f"got {value!r}"
        )
    return float(value)


def running_timed_item(slots: memoryview, base: int) -> tuple[int, int, int] | None:
    """``(deadline_ns, chunk seq, index)`` of the timed item the worker whose slot starts at ``base``
    is running, or ``None`` (no timed item runs, or the worker moved on while this was read)."""
    deadline = int(slots[base + Slot.ITEM_DEADLINE])
    if deadline <= 0:
        return None
    seq = int(slots[base + Slot.SEQ])
    batch = read_batch(slots[base + Slot.BATCH])
    if batch is None or slots[base + Slot.ITEM_DEADLINE] != deadline:
        return None
    return deadline, seq, batch.first


def is_innocent(timed_out: tuple[int, int] | None, seq: int, index: int) -> bool:
    """Whether item ``index`` of chunk ``seq``, running when its worker was killed, must run again:
    the worker was killed for the timeout of another item, ``timed_out`` (its chunk's seq and its
    index), which ended just before the kill."""
    return timed_out is not None and timed_out != (seq, index)
