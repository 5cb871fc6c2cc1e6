"""The note a failed item's exception carries: ``while processing item 7: 'abc'``.

The note names the item's index in the call's input and a short ``repr`` of the item (at most about
60 characters per string or object, a few elements per container; an ``Skprocess`` item being
resumed is shown as its arguments). It travels with the exception (``__notes__``) and in its remote
traceback text (see :func:`..wire.add_note`). A call made with ``Pool.submit`` gets none: its future
already names it, and its item is internal (the function's bytes and arguments).
"""

from __future__ import annotations

import reprlib
from typing import Any

from suitkaise_processing._private import wire
from suitkaise_processing._private.pool._protocol import Resume
from suitkaise_processing._private.pool._task import run_task

__all__ = ["note_item"]

_repr = reprlib.Repr()
_repr.maxstring = 60
_repr.maxother = 60


def note_item(exc: BaseException, fn: object, index: int, item: Any) -> None:
    """Add ``while processing item <index>: <short repr>`` to the exception ``fn`` raised for the
    item (nothing for a submitted call)."""
    if fn is run_task:
        return
    if type(item) is Resume:
        item = item.item
    try:
        shown = _repr.repr(item)
    except Exception:  # a broken __repr__ must not hide the item's own error
        shown = f"<{type(item).__name__} object>"
    wire.add_note(exc, f"while processing item {index}: {shown}")
