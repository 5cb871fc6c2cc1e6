"""The Pool's own timeout error."""

from __future__ import annotations

from suitkaise_processing._private.errors import PoolError, ResultTimeoutError


class PoolTimeoutError(PoolError, ResultTimeoutError):
    """A ``Pool`` call ran longer than its ``.timeout()``: the whole call for ``map``/``unordered_map``,
    the wait for the next result for ``imap``/``unordered_imap``. The workers running its items were
    stopped and replaced; also a ``ResultTimeoutError`` and a builtin ``TimeoutError``."""
