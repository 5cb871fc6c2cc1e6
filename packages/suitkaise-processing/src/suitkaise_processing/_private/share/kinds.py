"""What kind of value an attribute holds (how proxies present it) and which values a Share refuses."""

from __future__ import annotations

import datetime
import decimal
import enum
import fractions
import io
import os
import pathlib
import stat
import uuid
from collections.abc import Iterator
from typing import Any

from suitkaise_processing._private.share.layout import (
    KIND_DICT,
    KIND_FLOAT,
    KIND_INT,
    KIND_ITERATOR,
    KIND_LIST,
    KIND_OBJECT,
    KIND_PLAIN,
    KIND_RAW,
    KIND_SET,
    KIND_STR,
)

_PLAIN_TYPES: frozenset[type] = frozenset(
    {
        type(None),
        bool,
        bytes,
        complex,
        tuple,
        frozenset,
        range,
        decimal.Decimal,
        fractions.Fraction,
        datetime.date,
        datetime.datetime,
        datetime.time,
        datetime.timedelta,
        datetime.timezone,
        uuid.UUID,
        type,
    }
)


def is_reconnector(value: Any) -> bool:
    """Whether ``value`` is a cucumber ``Reconnector`` placeholder (without importing cucumber)."""
    return any(
        cls.__name__ == "Reconnector" and cls.__module__.split(".")[0] == "cucumber"
        for cls in type(value).__mro__
    )


def kind_of(value: Any) -> int:
    """The ``KIND_*`` code for ``value``."""
    t = type(value)
    if t is int:
        return KIND_INT
    if t is float:
        return KIND_FLOAT
    if t is str:
        return KIND_STR
    if t is list:
        return KIND_LIST
    if t in _PLAIN_TYPES or isinstance(value, (enum.Enum, pathlib.PurePath)):
        return KIND_PLAIN
    if isinstance(value, dict):
        return KIND_DICT
    if isinstance(value, (set,)):
        return KIND_SET
    if isinstance(value, (int, float, str, bytes, tuple, frozenset)):
        return KIND_PLAIN  # subclasses of immutable built-ins (IntEnum, NamedTuple, ...)
    if is_reconnector(value):
        return KIND_RAW
    if isinstance(value, Iterator):
        return KIND_ITERATOR
    if isinstance(value, list):
        return KIND_OBJECT  # list subclasses keep their own methods
    return KIND_OBJECT


def _unsupported_reason(value: Any) -> str | None:
    module = type(value).__module__ or ""
    if module == "multiprocessing" or module.startswith("multiprocessing."):
        return (
            f"{type(value).__module__}.{type(value).__qualname__} is a multiprocessing object bound to "
            "the processes that created it; store the data itself in the Share (numbers, lists, dicts, "
            "objects) or use suitkaise_processing.Pipe to talk between processes"
        )
    if isinstance(value, io.IOBase):
        try:
            fd = value.fileno()
            mode = os.fstat(fd).st_mode
        except (OSError, ValueError, io.UnsupportedOperation):
            return None
        if stat.S_ISFIFO(mode):
            return (
                "a pipe-backed file (os.pipe) belongs to the processes that hold its descriptors; "
                "use suitkaise_processing.Pipe to send data between processes"
            )
    return None


_error_class: list[type[TypeError]] = []


def unsupported_error_class() -> type[TypeError]:
    """The error for values a Share refuses: a ``TypeError`` that is also cucumber's
    ``SerializationError`` (so either ``except`` catches it). Made on first use: importing cucumber
    is not free, and the coordinator never needs it."""
    if not _error_class:
        from cucumber import SerializationError

        class UnsupportedValueError(TypeError, SerializationError):
            """A value (or a part of it) that cannot live in a Share; the message names its path."""

        UnsupportedValueError.__module__ = __name__
        UnsupportedValueError.__qualname__ = "UnsupportedValueError"
        _error_class.append(UnsupportedValueError)
    return _error_class[0]


def __getattr__(name: str) -> Any:
    # pickle finds the error class by reference (``kinds.UnsupportedValueError``)
    if name == "UnsupportedValueError":
        return unsupported_error_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def check_supported(name: str, value: Any, *, _depth: int = 0, _where: str = "") -> None:
    """Raise ``TypeError`` (also a cucumber ``SerializationError``) naming the attribute, the path to
    the offending part and the reason if ``value`` cannot live in a Share."""
    reason = _unsupported_reason(value)
    if reason is not None:
        where = f"share.{name}{_where}"
        raise unsupported_error_class()(f"cannot store {where} in a Share: {reason}")
    if _depth >= 3:
        return
    if type(value) in (list, tuple, set, frozenset):
        for i, item in enumerate(value):
            if len(_where) > 200 or i > 1000:
                break
            check_supported(name, item, _depth=_depth + 1, _where=f"{_where}[{i}]")
    elif type(value) is dict:
        for i, (key, item) in enumerate(value.items()):
            if i > 1000:
                break
            check_supported(name, item, _depth=_depth + 1, _where=f"{_where}[{key!r}]")
    elif kind_of(value) == KIND_OBJECT:
        attrs = getattr(value, "__dict__", None)
        if isinstance(attrs, dict):
            for key, item in list(attrs.items())[:200]:
                check_supported(name, item, _depth=_depth + 1, _where=f"{_where}.{key}")
