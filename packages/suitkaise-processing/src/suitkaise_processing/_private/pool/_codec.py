"""How Pool payloads cross the process boundary.

Plain data goes through the C pickler (fast); what pickle refuses (lambdas, closures, local classes, ...)
goes through cucumber. Functions are always encoded with cucumber, once per worker per call.
"""

from __future__ import annotations

import importlib
import pickle
import traceback
from collections.abc import Callable, Sequence
from typing import Any

PROTOCOL = pickle.HIGHEST_PROTOCOL

#: payload encodings inside a message
ENC_PICKLE = 0
ENC_CUCUMBER = 1


def _load_cucumber() -> tuple[Callable[[Any], bytes], Callable[[bytes], Any]]:
    try:
        module = importlib.import_module("cucumber")
        return module.serialize, module.deserialize
    except (ImportError, AttributeError):  # pragma: no cover - cucumber not built yet
        import cloudpickle  # cucumber's own dependency

        def dumps(obj: Any) -> bytes:
            return bytes(cloudpickle.dumps(obj, protocol=PROTOCOL))

        return dumps, pickle.loads


_cu_dumps: Callable[[Any], bytes] | None = None
_cu_loads: Callable[[bytes], Any] | None = None


def cu_dumps(obj: Any) -> bytes:
    """Serialize with cucumber (functions and classes by value when needed)."""
    global _cu_dumps, _cu_loads
    if _cu_dumps is None:
        _cu_dumps, _cu_loads = _load_cucumber()
    return _cu_dumps(obj)


def cu_loads(data: bytes) -> Any:
    """Deserialize cucumber bytes."""
    global _cu_dumps, _cu_loads
    if _cu_loads is None:
        _cu_dumps, _cu_loads = _load_cucumber()
    return _cu_loads(data)


def dumps(obj: Any) -> bytes:
    """The C pickler at the highest protocol."""
    return pickle.dumps(obj, PROTOCOL)


loads = pickle.loads


def encode_blob(values: Sequence[Any]) -> tuple[int, bytes]:
    """``values`` as bytes: ``(ENC_PICKLE, pickle bytes)`` when the C pickler takes them, else
    ``(ENC_CUCUMBER, cucumber bytes)``. Raises what cucumber raises when neither can encode them."""
    try:
        return ENC_PICKLE, pickle.dumps(values, PROTOCOL)
    except Exception:
        return ENC_CUCUMBER, cu_dumps(values)


def decode_blob(enc: int, blob: bytes | memoryview) -> Sequence[Any]:
    """Inverse of :func:`encode_blob` (a ``range`` stays a ``range``)."""
    values = pickle.loads(blob) if enc == ENC_PICKLE else cu_loads(bytes(blob))
    return values if type(values) in (list, range) else list(values)


def decode_values(enc: int, payload: Any) -> list[Any]:
    """Result values of a worker message: the list itself (``ENC_PICKLE``) or cucumber bytes."""
    if enc == ENC_PICKLE:
        return list(payload)
    return list(cu_loads(payload))


def first_unencodable(values: Sequence[Any]) -> tuple[int, BaseException] | None:
    """Index and error of the first value neither pickle nor cucumber can encode."""
    for i, value in enumerate(values):
        try:
            pickle.dumps(value, PROTOCOL)
        except Exception:
            try:
                cu_dumps(value)
            except Exception as exc:
                return i, explain_failure(value, exc)
    return None


def explain_failure(value: Any, exc: Exception) -> Exception:
    """The error cucumber gives for ``value`` in debug mode (it names the path to the part that
    failed), or ``exc`` when that gives nothing better."""
    try:
        module = importlib.import_module("cucumber")
        module.serialize(value, debug=True)
    except Exception as detailed:
        return detailed
    return exc


class RemoteTraceback(Exception):
    """The traceback of an exception raised in a worker; attached as ``__cause__`` of the re-raised error."""

    def __init__(self, tb: str) -> None:
        super().__init__(tb)
        self.tb = tb

    def __str__(self) -> str:
        return f'\n"""\n{self.tb.rstrip()}\n"""'


def format_exception(exc: BaseException) -> str:
    """The full traceback text of ``exc``."""
    return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))


def pack_error(exc: BaseException) -> tuple[int, bytes, str]:
    """Encode an exception raised in a worker: ``(enc, blob, traceback_text)``.

    The blob holds the exception itself when it can be encoded, else ``b""`` (the parent then builds a
    :class:`PoolError` from the text).
    """
    tb = format_exception(exc)
    exc.__traceback__ = None
    exc.__context__ = None
    try:
        blob = dumps(exc)
        pickle.loads(blob)  # exceptions with unusual __init__ signatures fail only when loaded
        return ENC_PICKLE, blob, tb
    except Exception:
        pass
    try:
        blob = cu_dumps(exc)
        cu_loads(blob)
        return ENC_CUCUMBER, blob, tb
    except Exception:
        return ENC_PICKLE, b"", tb


def unpack_error(packed: tuple[int, bytes, str], what: str) -> BaseException:
    """Rebuild the exception packed by :func:`pack_error` with its remote traceback attached."""
    from suitkaise_processing._private.errors import PoolError, ProcessError

    enc, blob, tb = packed
    exc: BaseException | None = None
    if blob:
        try:
            exc = loads(blob) if enc == ENC_PICKLE else cu_loads(blob)
        except Exception:
            exc = None
    if not isinstance(exc, BaseException):
        last = tb.strip().splitlines()[-1] if tb.strip() else "unknown error"
        exc = PoolError(
            f"{what} raised an exception that could not be sent back to the parent ({last}); "
            "make the exception picklable to get it with its own type",
            remote_traceback=tb,
        )
        return exc
    if isinstance(exc, ProcessError):
        # ProcessError shows its remote traceback in its own message.
        if exc.remote_traceback is None:
            exc.remote_traceback = tb
        return exc
    exc.__cause__ = RemoteTraceback(tb)
    return exc
