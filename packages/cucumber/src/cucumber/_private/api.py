"""``serialize`` and ``deserialize``: the header, the pickler and the error messages.

The pickler (cloudpickle's, with cucumber's families of handlers) is loaded by the first
``serialize`` of the process, not at import: ``deserialize`` never needs it. The guarded reader
(:mod:`.safeload`) and the walk over objects for messages (:mod:`.walk`) load when first used.

``deserialize`` runs a stream only after the C opcode scanner (``_opscan.c``) found none of the opcodes
that can make the C unpickler allocate without bound; where cucumber was built without it (no C
compiler), it loads through the guarded reader instead.
"""

from __future__ import annotations

import functools
import io
import os
import pickle
import struct
import sys
import threading
import zlib
from collections.abc import Callable
from typing import Any

from cucumber._private import header
from cucumber._private.errors import DeserializationError, SerializationError

_first_hazard: Callable[[Any], int] | None
try:
    from cucumber._private._opscan import first_hazard as _first_hazard
except ImportError:  # built without a C compiler (setup.py): the guarded reader takes its place
    _first_hazard = None

__all__ = ["deserialize", "serialize"]

_MAX_REASON = 300


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    reason = text[0] if text else ""
    if len(reason) > _MAX_REASON:
        reason = reason[: _MAX_REASON - 3] + "..."
    name = type(exc).__name__
    return f"{name}: {reason}" if reason else name


#: ``_new_pickler(file)``: a cucumber pickler writing to ``file``; bound by :func:`_load_pickler`
#: (the first serialize of the process).
_new_pickler: Callable[[Any], Any]


def _dump_to(buffer: io.BytesIO, obj: Any) -> None:
    _new_pickler(buffer).dump(obj)


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
        self.pickler = _new_pickler(_Sink(self.chunks))


_c_dump = pickle.Pickler.dump  # skips cloudpickle's Python-level dump() wrapper
_pack_header = header.pack
_FRAME = pickle.FRAME[0]
#: The C pickler writes an object's bytes outside its frames from this size on (FRAME_SIZE_TARGET).
_LARGE = 1 << 16
_LENGTH4 = (ord("B"), ord("X"))  # BINBYTES, BINUNICODE: opcode + 4-byte length
_LENGTH8 = (pickle.BINBYTES8[0], pickle.BINUNICODE8[0], pickle.BYTEARRAY8[0])
# One shared pickler (made by the first serialize), taken with a non-blocking lock; a nested or
# concurrent call makes its own.
_shared_lock = threading.Lock()
_shared: list[_PicklerSlot] = []
#: taken by the first serialize while it loads the pickler, and by a thread that forks (see below)
_load_lock = threading.RLock()
#: dumps larger than this (bytes) retire the shared pickler (see ``_shared_serialize``)
_BIG_DUMP = 1 << 20


def _before_fork() -> None:
    # A fork taken while another thread's first serialize imports the pickler would copy the import
    # locks of the modules it is importing, held: the child's first serialize would wait on them for
    # ever. So a fork waits for that load to finish (a few ms, once per process).
    _load_lock.acquire()


def _after_fork_in_parent() -> None:
    _load_lock.release()


def _reset_after_fork() -> None:
    # A fork taken while another thread was serializing copies a held lock and a half-used pickler.
    global _shared_lock, _load_lock
    _shared_lock = threading.Lock()
    _load_lock = threading.RLock()
    if _shared:
        _shared[0] = _PicklerSlot()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(
        before=_before_fork,
        after_in_parent=_after_fork_in_parent,
        after_in_child=_reset_after_fork,
    )


def _nbytes(chunk: Any) -> int:
    return len(chunk) if isinstance(chunk, (bytes, bytearray)) else memoryview(chunk).nbytes


def _announces(previous: bytes, size: int) -> bool:
    """Whether the pickler chunk ``previous`` ends with the opcode and length of a ``size``-byte object."""
    if size < _LARGE:
        return False
    if len(previous) >= 5 and previous[-5] in _LENGTH4:
        return int.from_bytes(previous[-4:], "little") == size
    if len(previous) >= 9 and previous[-9] in _LENGTH8:
        return int.from_bytes(previous[-8:], "little") == size
    return False


def _unframed(chunk: bytes, start: int, pieces: list[Any]) -> int:
    """Append the pieces of a pickler chunk without its FRAME opcodes; return their total length."""
    view = memoryview(chunk)
    total = 0
    if start:
        pieces.append(view[:start])
        total = start
    end = len(chunk)
    while start < end and chunk[start] == _FRAME:
        body = start + 9
        start = body + int.from_bytes(chunk[start + 1 : body], "little")
        pieces.append(view[body:start])
        total += start - body
    if start < end:
        pieces.append(view[start:])
        total += end - start
    return total


def _assemble(chunks: list[Any]) -> bytes:
    """The format 2 payload for the pickler's chunks (``chunks[0]`` is the header's slot)."""
    pieces: list[Any] = []
    checked: list[Any] = []
    extents: list[tuple[int, int]] = []
    length = 0
    previous: Any = None  # the last pickler chunk, when the chunk after it may be a large object
    for index in range(1, len(chunks)):
        chunk = chunks[index]
        if previous is not None and _announces(previous, size := _nbytes(chunk)):
            # A large object's bytes as the pickler wrote them: data, never opcodes.
            extents.append((length, size))
            pieces.append(chunk)
            length += size
            previous = None
            continue
        first = len(pieces)
        length += _unframed(chunk, 2 if index == 1 else 0, pieces)
        checked.extend(pieces[first:])
        previous = chunk
    pieces[0:0] = (_pack_header(length, extents, checked),)
    return b"".join(pieces)


def _dump(slot: _PicklerSlot, obj: Any) -> bytes:
    chunks = slot.chunks
    pickler = slot.pickler
    try:
        _c_dump(pickler, obj)
        if len(chunks) == 2:  # the common case: one chunk, at most one frame
            chunk = chunks[1]
            if chunk[2] == _FRAME:
                view = memoryview(chunk)
                pieces = (view[:2], view[11:])
                return b"".join((_pack_header(len(chunk) - 9, [], pieces), *pieces))
            return b"".join((_pack_header(len(chunk), [], (chunk,)), chunk))
        return _assemble(chunks)
    finally:
        del chunks[1:]
        pickler.clear_memo()
        if pickler.globals_ref:
            pickler.globals_ref = {}


def _shared_serialize(obj: Any) -> bytes:
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


def _load_pickler() -> None:
    """Import the pickler, install the families of handlers and make the shared pickler (once)."""
    global _new_pickler, _fast_serialize
    with _load_lock:
        if _shared:
            return
        from cucumber._private import families
        from cucumber._private.pickler import PROTOCOL, CucumberPickler

        families.install()
        _new_pickler = functools.partial(CucumberPickler, protocol=PROTOCOL)
        _shared.append(_PicklerSlot())
        _fast_serialize = _shared_serialize


def _first_serialize(obj: Any) -> bytes:
    """``serialize``'s encoder until the pickler is loaded; then :func:`_shared_serialize`."""
    _load_pickler()
    return _shared_serialize(obj)


#: The encoder ``serialize`` calls: rebound to :func:`_shared_serialize` by the first call.
_fast_serialize = _first_serialize


#: Without ``debug``, the search for the failing part stops after this many seconds.
PATH_SEARCH_BUDGET = 0.5


def _serialize_error(obj: Any, exc: Exception, debug: bool) -> SerializationError:
    from cucumber._private.walk import describe_handler, locate_failure

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
        from cucumber._private.walk import print_walk

        print_walk(obj, title="serialize")
    try:
        try:
            return _fast_serialize(obj)
        except pickle.PicklingError:
            # A cached by-reference decision may be stale (a module attribute was rebound): retry fresh.
            from cucumber._private.pickler import forget_by_reference

            forget_by_reference()
            return _fast_serialize(obj)
    except RecursionError as exc:
        raise SerializationError(
            f"cannot serialize {type(obj).__name__} object: it is nested too deeply "
            f"(more than about {sys.getrecursionlimit()} levels); flatten it or raise sys.setrecursionlimit"
        ) from exc
    except Exception as exc:
        raise _serialize_error(obj, exc, debug) from exc


_PREFIX = header.PREFIX
_FIXED_SIZE = header.FIXED_SIZE
_unpack_fixed = struct.Struct("<QII").unpack_from
_crc32 = zlib.crc32
_loads = pickle.loads


class _TracingUnpickler(pickle.Unpickler):
    """Unpickler that remembers the last global it looked up (for ``debug=True`` messages)."""

    last_global: str = ""

    def find_class(self, module: str, name: str) -> Any:
        self.last_global = f"{module}.{name}"
        return super().find_class(module, name)


def _as_buffer(data: Any) -> bytes | bytearray | memoryview:
    """``data`` as a flat byte buffer, without copying it."""
    if type(data) is bytes or type(data) is bytearray:
        return data
    try:
        view = memoryview(data)
    except TypeError:
        raise DeserializationError(
            f"expected bytes, bytearray or memoryview, got {type(data).__name__}"
        ) from None
    if not view.c_contiguous:
        raise DeserializationError("expected a contiguous bytes-like object")
    return view if view.ndim == 1 and view.format == "B" else view.cast("B")


def _load_checked(data: bytes | bytearray | memoryview, debug: bool, verbose: bool) -> Any:
    checked = header.check_header(data)
    if verbose:
        sys.stderr.write(
            f"cucumber deserialize: format v{checked.version}, "
            f"{len(data) - checked.start} payload bytes\n"
        )
    tracer: _TracingUnpickler | None = None
    try:
        if checked.version == 1:
            from cucumber._private import safeload

            # No checksum, and frames: the pure-Python unpickler reads it with bounded memory.
            return safeload.load_python(memoryview(data)[checked.start :])
        stream = memoryview(data)[checked.start :]
        if _first_hazard is None:
            from cucumber._private import safeload

            # Bounded memory even when the checksum matches but the opcodes are damaged.
            searchable = data.tobytes() if isinstance(data, memoryview) else data
            tracer = _TracingUnpickler(safeload.guarded_file(searchable, checked.start))
            return tracer.load()
        at = _first_hazard(stream)
        if at >= 0:
            from cucumber._private import safeload

            raise safeload.opcode_error(data, checked.start + at)
        if debug:
            tracer = _TracingUnpickler(io.BytesIO(stream))
            return tracer.load()
        return _loads(stream)
    except DeserializationError:
        raise
    except Exception as exc:
        last = getattr(exc, "last_global", "") or (tracer.last_global if tracer else "")
        where = f" (last global looked up: {last})" if debug and last else ""
        raise DeserializationError(f"cannot deserialize: {_one_line(exc)}{where}") from exc


def deserialize(data: Any, *, debug: bool = False, verbose: bool = False) -> Any:
    """Turn bytes made by :func:`serialize` back into an object.

    Empty, truncated, corrupt or foreign input raises :class:`DeserializationError` with a
    one-line reason: the header's checksum catches damage before any pickle opcode runs, and a
    stream whose checksum matches but which holds an opcode cucumber never writes (a memo store, a
    frame, a length longer than the data) is refused before it runs, so loading never allocates more
    than about 64 MB beyond the input's size. Like ``pickle``, loading runs code named in the data:
    use it only for data from processes you trust. ``debug=True`` adds the last global looked up to
    error messages; ``verbose=True`` prints the header and a walk over the result to stderr.
    """
    # The fast path for well-formed bytes without large buffers; anything else takes the checked path.
    if (
        type(data) is bytes
        and not (debug or verbose)
        and data[:5] == _PREFIX
        and len(data) >= _FIXED_SIZE
    ):
        length, crc, count = _unpack_fixed(data, 5)
        if (
            count == 0
            and length == len(data) - _FIXED_SIZE
            and _crc32(memoryview(data)[17:], _crc32(data[:13])) == crc
            and _first_hazard is not None
            and _first_hazard(stream := memoryview(data)[_FIXED_SIZE:]) < 0
        ):
            try:
                return _loads(stream)
            except Exception as exc:
                raise DeserializationError(f"cannot deserialize: {_one_line(exc)}") from exc
    result = _load_checked(_as_buffer(data), debug, verbose)
    if verbose:
        from cucumber._private.walk import print_walk

        print_walk(result, title="deserialize")
    return result
