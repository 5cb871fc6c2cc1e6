"""The Pool's own errors: a call's timeout, an item's timeout, an unreadable memory size."""

from __future__ import annotations

from suitkaise_processing._private.errors import PoolError, ResultTimeoutError


class PoolTimeoutError(PoolError, ResultTimeoutError):
    """A ``Pool`` call ran longer than its ``.timeout()``: the whole call for ``map``/``unordered_map``,
    the wait for the next result for ``imap``/``unordered_imap``. The workers running its items were
    stopped and replaced; also a ``ResultTimeoutError`` and a builtin ``TimeoutError``."""


class ItemTimeoutError(PoolError, TimeoutError):
    """One item ran longer than its ``item_timeout``: its worker was stopped and replaced, and the
    call's other items were not affected. ``index`` is the item's position in the call's input,
    ``timeout`` the limit in seconds; also a builtin ``TimeoutError``."""

    def __init__(self, index: int, timeout: float) -> None:
        super().__init__(
            f"item {index} ran longer than its item_timeout of {timeout:g}s; its worker was stopped "
            "and replaced (the other items are not affected). Raise the limit with "
            "Pool(item_timeout=...) or pool.map.item_timeout(seconds)(...), or make the item faster"
        )
        self.index = index
        self.timeout = timeout


class InvalidSizeError(PoolError, ValueError):
    """``Pool(max_memory_per_child=...)`` got a size it cannot read (also a ``ValueError``)."""
