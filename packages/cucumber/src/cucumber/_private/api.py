"""``serialize`` and ``deserialize``: the header, the pickler and the error messages."""

from __future__ import annotations

import io
import os
import pickle
import sys
import threading
from typing import Any

from cucumber._private import header
from cucumber._private.errors import CucumberError, DeserializationError, SerializationError
from cucumber._private.pickler import PROTOCOL, CucumberPickler, forget_by_reference
from cucumber._private.walk import describe_handler, locate_failure, print_walk

__all__ = ["deserialize", "serialize"]

_MAX_REASON = 300


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    reason = text[0] if text else ""
    if len(reason) > _MAX_REASON:
        reason = reason[: _MAX_REASON - 3] + "..."
    name = type(exc).__name__
    return f"{name}: {reason}" if reason else name


def _dump_to(buffer: io.BytesIO, obj: Any) -> None:
    CucumberPickler(buffer, protocol=PROTOCOL).dump(obj)


class _Sink:
    """The pickler's file: ``write`` appends each chunk (large buffers arrive uncopied)."""

    __slots__ = ("write",)

    def __init__(self, chunks: list[Any]) -> None:
        self.write = chunks.append


class _PicklerSlot:
    """A reusable pickler and its chunk list; ``chunks[0]`` is reserved for the header."""

    __slots__ = ("chunks", "pickler")

    def __init__(self) -> None:
        self.chunks: list[Any] = [b""]
        self.pickler = CucumberPickler(_Sink(self.chunks), protocol=PROTOCOL)


_c_dump = pickle.Pickler.dump  # skips cloudpickle's Python-level dump() wrapper
_PREFIX = header.MAGIC + bytes([header.FORMAT_VERSION])
_pack_length = header.pack_length
# One shared pickler, taken with a non-blocking lock; a nested or concurrent call makes its own.
_shared_lock = threading.Lock()
_shared: list[_PicklerSlot] = [_PicklerSlot()]
#: dumps larger than this (bytes) retire the shared pickler (see ``_fast_serialize``)
_BIG_DUMP = 1 << 20


def _reset_after_fork() -> None:
    # A fork taken while another thread was serializing copies a held lock and a half-used pickler.
    global _shared_lock
    _shared_lock = threading.Lock()
    _shared[0] = _PicklerSlot()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)


def _dump(slot: _PicklerSlot, obj: Any) -> bytes:
    chunks = slot.chunks
    pickler = slot.pickler
    try:
        _c_dump(pickler, obj)
        if len(chunks) == 2 and type(chunks[1]) is bytes:
            size = len(chunks[1])
        else:
            size = 0
            for chunk in chunks[1:]:
                # Large buffers arrive as they are: bytes, bytearray or a PickleBuffer (protocol 5).
                size += (
                    len(chunk)
                    if isinstance(chunk, (bytes, bytearray))
                    else memoryview(chunk).nbytes
                )
        chunks[0] = _PREFIX + _pack_length(size)
        return b"".join(chunks)
    finally:
        del chunks[1:]
        pickler.clear_memo()
        if pickler.globals_ref:
            pickler.globals_ref = {}


def _fast_serialize(obj: Any) -> bytes:
    if not _shared_lock.acquire(False):
        return _dump(_PicklerSlot(), obj)
    try:
        data = _dump(_shared[0], obj)
        if len(data) > _BIG_DUMP:
            # The C pickler keeps an output buffer as large as its largest dump and allocates one that
            # size for every later dump: after a big one, start over with a fresh pickler.
            _shared[0] = _PicklerSlot()
        return data
    except BaseException:
        _shared[0] = _PicklerSlot()  # the state of a pickler after a failed dump is not trusted
        raise
    finally:
        _shared_lock.release()


#: Without ``debug``, the search for the failing part stops after this many seconds.
PATH_SEARCH_BUDGET = 0.5


def _serialize_error(obj: Any, exc: Exception, debug: bool) -> SerializationError:
    def fails(part: Any) -> BaseException | None:
        try:
            _dump_to(io.BytesIO(), part)
        except Exception as err:
            return err
        return None

    path, part, error = locate_failure(obj, fails, None if debug else PATH_SEARCH_BUDGET)
    reason = _one_line(error if error is not None else exc)
    if isinstance(error, SerializationError):
        reason = str(error)
    kind = f"{type(part).__module__}.{type(part).__qualname__}"
    if debug:
        return SerializationError(
            f"cannot serialize {path} ({kind}, handler: {describe_handler(part)}): {reason}"
        )
    return SerializationError(
        f"cannot serialize {path} ({kind}): {reason} "
        "(serialize(obj, debug=True) also names the handler used)"
    )


def serialize(obj: Any, *, debug: bool = False, verbose: bool = False) -> bytes:
    """Turn ``obj`` into bytes that :func:`deserialize` turns back into an equivalent object.

    A failure message shows the path to the part that failed (``Payload -> workers[3] -> lock``);
    ``debug=True`` also names the handler used and never cuts the search short (without it, the
    search stops after half a second on huge objects); ``verbose=True`` prints the walk
    over the object to stderr. Raises :class:`SerializationError`.
    """
    if verbose:
        print_walk(obj, title="serialize")
    try:
        try:
            return _fast_serialize(obj)
        except pickle.PicklingError:
            # A cached by-reference decision may be stale (a module attribute was rebound): retry fresh.
            forget_by_reference()
            return _fast_serialize(obj)
    except RecursionError as exc:
        raise SerializationError(
            f"cannot serialize {type(obj).__name__} object: it is nested too deeply "
            f"(more than about {sys.getrecursionlimit()} levels); flatten it or raise sys.setrecursionlimit"
        ) from exc
    except Exception as exc:
        raise _serialize_error(obj, exc, debug) from exc


_loads = pickle.loads
_unpack_length = header.LENGTH_STRUCT.unpack_from
_HEADER_SIZE = header.HEADER_SIZE


class _TracingUnpickler(pickle.Unpickler):
    """Unpickler that remembers the last global it looked up (for ``debug=True`` messages)."""

    last_global: str = ""

    def find_class(self, module: str, name: str) -> Any:
        self.last_global = f"{module}.{name}"
        return super().find_class(module, name)


def _as_view(data: Any) -> memoryview:
    try:
        view = memoryview(data)
    except TypeError:
        raise DeserializationError(
            f"expected bytes, bytearray or memoryview, got {type(data).__name__}"
        ) from None
    if view.ndim != 1 or view.format not in ("B", "b", "c"):
        try:
            view = view.cast("B")
        except TypeError:
            raise DeserializationError("expected a contiguous bytes-like object") from None
    return view


def deserialize(data: Any, *, debug: bool = False, verbose: bool = False) -> Any:
    """Turn bytes made by :func:`serialize` back into an object.

    Empty, truncated, corrupt or foreign input raises :class:`DeserializationError` with a
    one-line reason. Like ``pickle``, loading runs code named in the data: use it only for
    data from processes you trust. ``debug=True`` adds the last global looked up to error
    messages; ``verbose=True`` prints the header and a walk over the result to stderr.
    """
    # The fast path for well-formed bytes; anything unusual takes the checked path below.
    if (
        type(data) is bytes
        and not (debug or verbose)
        and data[:5] == _PREFIX
        and len(data) >= _HEADER_SIZE
        and _unpack_length(data, 5)[0] == len(data) - _HEADER_SIZE
    ):
        try:
            return _loads(memoryview(data)[_HEADER_SIZE:])
        except Exception as exc:
            raise DeserializationError(f"cannot deserialize: {_one_line(exc)}") from exc
    view = _as_view(data)
    payload = header.check_header(view)
    if verbose:
        sys.stderr.write(
            f"cucumber deserialize: format v{header.FORMAT_VERSION}, {len(payload)} payload bytes\n"
        )
    try:
        if debug:
            unpickler = _TracingUnpickler(io.BytesIO(payload))
            try:
                result = unpickler.load()
            except CucumberError:
                raise
            except Exception as exc:
                where = (
                    f" (last global looked up: {unpickler.last_global})"
                    if unpickler.last_global
                    else ""
                )
                raise DeserializationError(f"cannot deserialize: {_one_line(exc)}{where}") from exc
        else:
            result = pickle.loads(payload)
    except DeserializationError:
        raise
    except CucumberError as exc:
        raise DeserializationError(f"cannot deserialize: {_one_line(exc)}") from exc
    except Exception as exc:
        raise DeserializationError(f"cannot deserialize: {_one_line(exc)}") from exc
    if verbose:
        print_walk(result, title="deserialize")
    return result
