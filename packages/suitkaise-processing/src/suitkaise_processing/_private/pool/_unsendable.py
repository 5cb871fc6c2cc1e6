"""The errors for item arguments and results that cannot be serialized, shared by both backends.

When a list of arguments (parent side) or of results (worker side) fails to encode as a whole, the
first value that cannot be encoded is found and the list is cut there: the values before it travel,
that item fails with a :class:`PoolError` naming it, and (for arguments) the items after it are sent
again in a later chunk.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from suitkaise_processing._private import wire
from suitkaise_processing._private.errors import PoolError


def _first_bad(values: Sequence[Any], default_index: int) -> tuple[int, BaseException]:
    bad = wire.first_unencodable(values)
    return bad if bad is not None else (default_index, RuntimeError("unknown encoding failure"))


def argument_error(index: int, cause: BaseException, where: str = "a worker") -> PoolError:
    """The error of item ``index`` whose argument could not be sent to ``where``."""
    err = PoolError(
        f"the argument of item {index} could not be serialized to send it to {where}: "
        f"{type(cause).__name__}: {cause}"
    )
    err.__cause__ = cause
    return err


def unsendable_argument(
    items: Sequence[Any], start: int, where: str = "a worker"
) -> tuple[int, PoolError]:
    """Where to cut ``items`` (the chunk starting at item ``start``) and the error of that item."""
    index, cause = _first_bad(items, 0)
    return index, argument_error(start + index, cause, where)


def unsendable_result(values: Sequence[Any], start: int) -> tuple[int, PoolError]:
    """Where to cut ``values`` (results of the items from ``start``) and the error of that item."""
    index, cause = _first_bad(values, len(values))
    err = PoolError(
        f"the result of item {start + index} could not be serialized to return it to the parent: "
        f"{type(cause).__name__}: {cause}; return plain data or a picklable object"
    )
    err.__cause__ = cause
    return index, err
