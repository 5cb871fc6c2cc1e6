"""The wire format of every process of suitkaise_processing: encoding, frames and errors.

Used by ``Pipe`` and ``Skprocess`` (through :class:`~._private.channel.Channel`), the ``Pool`` (its
workers and its engine) and ``Share`` (its coordinator and clients).

Encoding
    A message body is either a C-pickle stream (it starts with the ``PROTO`` opcode ``0x80``) or
    cucumber bytes (they start with cucumber's magic header, never ``0x80``), so :func:`decode` needs
    no tag. Two encoders choose between them:

    - :func:`encode` (Pipe, Skprocess, Share): the C pickler for plain built-in data and our own types;
      the first other object (a lambda, a class from ``__main__``, a lock, ...) sends the whole message
      through cucumber, which carries it by value when needed.
    - :func:`encode_by_reference` (Pool items): the C pickler for everything it takes (classes and
      functions by reference, which is fast and right when the worker can import them), cucumber for
      the rest. A worker that cannot import what a pickled chunk refers to asks for it again, encoded
      with :func:`serialize` (cucumber, by value).

Frames
    On a connection, each message is one frame, the format of ``multiprocessing.connection``: a
    4-byte big-endian signed length, or ``-1`` then an 8-byte big-endian length (messages over
    2 GiB), then the body. :func:`read_frame` checks the length against :data:`FRAME_LIMIT` and reads
    the body in pieces, so memory grows only with the bytes that really arrived: a corrupted or
    hostile header costs a :class:`~._private.errors.MessageError`, never a huge allocation.

Errors and log records
    A log record travels as :func:`pack_log_record` (plain data). An exception raised in another process travels as :func:`pack_error` ``(blob, traceback_text)``:
    the exception itself (encoded; ``(exception, notes)`` when its own ``__reduce__`` drops its
    ``__notes__``; ``b""`` when it cannot be encoded), and its formatted traceback with its notes,
    which :func:`unpack_error` attaches as a :class:`RemoteTraceback` ``__cause__`` (or as
    ``remote_traceback`` of a :class:`~._private.errors.ProcessError`), after adding the source
    lines that the receiving process can read and the sender could not (notebook cells).
"""

from __future__ import annotations

import io
import linecache
import logging
import os
import pickle
import re
import signal
import struct
import sys
import threading
import traceback
import types
from collections.abc import Sequence
from typing import Any

from suitkaise_processing._private.bigbuffers import Collector
from suitkaise_processing._private.errors import MessageError, ProcessError

PROTOCOL = pickle.HIGHEST_PROTOCOL
_PICKLE_PROTO_OPCODE = 0x80

#: the largest frame body accepted (bytes); larger lengths are corruption
FRAME_LIMIT = 1 << 40
#: a frame body is read (and its memory grown) this many bytes at a time, at least
_READ_PIECE = 4 << 20
_SIZE = struct.Struct("!i")
_BIG_SIZE = struct.Struct("!Q")


# --- encoding ------------------------------------------------------------------------------------
class _NotPlain(Exception):
    """Raised inside the plain pickler when an object needs cucumber."""


# Modules whose classes and functions every one of our processes imports by name, so pickle's own
# by-reference handling is right for them (no need for cucumber's by-value decisions); numpy and
# pandas objects then also hand their big arrays over as out-of-band buffers (shared memory).
_TRUSTED_MODULES = frozenset(
    {"builtins", "copyreg", "suitkaise_processing", "sktiming", "numpy", "pandas"}
)
_CLASS_OR_FUNCTION = (type, types.FunctionType, types.BuiltinFunctionType)
#: Cython's function types (pandas rebuilds its blocks with one): pickled by name, like functions
_CYTHON_FUNCTIONS = frozenset({"cython_function_or_method", "fused_cython_function"})


def _trusted(module: object) -> bool:
    return isinstance(module, str) and module.partition(".")[0] in _TRUSTED_MODULES


class _PlainPickler(pickle.Pickler):
    """C pickler that takes plain data and our own types, and refuses the rest (which goes to cucumber).

    ``reducer_override`` is only consulted for objects that are not of the built-in container and
    scalar types the C pickler handles itself, so plain data never leaves C.
    """

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, _CLASS_OR_FUNCTION) or type(obj).__name__ in _CYTHON_FUNCTIONS:
            if _trusted(getattr(obj, "__module__", None)):
                return NotImplemented
        elif _trusted(type(obj).__module__):
            return NotImplemented
        raise _NotPlain


def serialize(obj: Any) -> bytes:
    """cucumber bytes for ``obj`` (functions and classes by value when needed)."""
    import cucumber  # imported on first use: plain data never needs it

    return cucumber.serialize(obj)


def deserialize(data: bytes | bytearray | memoryview) -> Any:
    """Inverse of :func:`serialize`."""
    import cucumber

    return cucumber.deserialize(data if type(data) is bytes else bytes(data))


#: an encoding this large (bytes) is not followed by a reuse of its thread's buffer and pickler
_REUSE_LIMIT = 1 << 20


#: what the plain pickler raises for a message it does not take (it then goes through cucumber)
_REFUSED = (_NotPlain, pickle.PicklingError, TypeError, AttributeError, RecursionError)


class _Encoder:
    """A plain pickler and its buffer, reused by :func:`encode` (one per thread): making a pickler
    costs more than pickling a small message (~0.7 of ~1.3 us for a small dict)."""

    __slots__ = ("buf", "busy", "pickler", "target")

    def __init__(self) -> None:
        self.busy = False
        #: the Collector of the encoding in progress (``None``: every buffer in band)
        self.target: Collector | None = None
        self.buf = io.BytesIO()
        self.pickler = _PlainPickler(self.buf, PROTOCOL, buffer_callback=self.forward)

    def forward(self, buffer: pickle.PickleBuffer) -> bool:
        target = self.target
        return True if target is None else target(buffer)


_threads = threading.local()


def _encoder() -> _Encoder:
    enc = _threads.__dict__.get("encoder")
    if enc is None:
        enc = _threads.encoder = _Encoder()
    return enc


def encode(obj: Any, buffers: Collector | None = None) -> bytes | memoryview:
    """Bytes for ``obj``: C pickle for plain data and our own types, cucumber for everything else.

    With ``buffers``, the pickle's big out-of-band buffers are left to it (:mod:`.bigbuffers`)."""
    enc = _encoder()
    if enc.busy:  # an object's __reduce__ encodes a message of its own on this thread
        return _encode_once(obj, buffers)
    buf = enc.buf
    try:
        enc.busy = True
        enc.target = buffers
        enc.pickler.dump(obj)
    except BaseException as exc:
        _threads.encoder = _Encoder()  # a pickler's state after a failed dump is not trusted
        if isinstance(exc, _REFUSED):
            return _through_cucumber(obj, buffers)
        raise
    finally:
        enc.busy = False
        enc.target = None
    # getvalue() shares the pickled bytes (no copy, like getbuffer()) without exporting the
    # BytesIO's buffer: an export caught in a reference cycle crashes the garbage collector on
    # CPython 3.12.0-3.12.1 (gh-111049) and is an unraisable BufferError on 3.12+ (gh-111331).
    data = buf.getvalue()
    if len(data) > _REUSE_LIMIT:
        _threads.encoder = _Encoder()
    else:
        enc.pickler.clear_memo()
        buf.seek(0)
        buf.truncate()
    return data


def _encode_once(obj: Any, buffers: Collector | None) -> bytes | memoryview:
    """:func:`encode` with a pickler of its own (the thread's is in use)."""
    buf = io.BytesIO()
    try:
        _PlainPickler(buf, PROTOCOL, buffer_callback=buffers).dump(obj)
    except _REFUSED:
        return _through_cucumber(obj, buffers)
    return buf.getvalue()


def _through_cucumber(obj: Any, buffers: Collector | None) -> bytes:
    """cucumber bytes for a message the plain pickler refused (its big buffers then in band)."""
    if buffers is not None:
        buffers.clear()
    return serialize(obj)


def encode_by_reference(obj: Any, buffers: Collector | None = None) -> bytes:
    """Bytes for ``obj``: the C pickler (by reference) when it takes it, else cucumber. Raises what
    cucumber raises when neither can encode it. ``buffers``: as for :func:`encode`."""
    try:
        return pickle.dumps(obj, PROTOCOL, buffer_callback=buffers)
    except Exception:
        if buffers is not None:
            buffers.clear()
        return serialize(obj)


def is_pickle(data: bytes | bytearray | memoryview) -> bool:
    """Whether ``data`` is a C-pickle stream (else cucumber bytes)."""
    return len(data) > 0 and data[0] == _PICKLE_PROTO_OPCODE


def decode(
    data: bytes | bytearray | memoryview, buffers: Sequence[memoryview] | None = None
) -> Any:
    """Inverse of :func:`encode` and :func:`encode_by_reference` (``buffers``: the out-of-band ones)."""
    if len(data) and data[0] == _PICKLE_PROTO_OPCODE:
        return pickle.loads(data, buffers=buffers)
    return deserialize(data)


def dumps(obj: Any, buffers: Collector | None = None) -> bytes:
    """The C pickler at the highest protocol (for our own protocol messages of plain data);
    ``buffers``: as for :func:`encode`."""
    return pickle.dumps(obj, PROTOCOL, buffer_callback=buffers)


loads = pickle.loads


def first_unencodable(values: Sequence[Any]) -> tuple[int, BaseException] | None:
    """Index and error of the first value neither pickle nor cucumber can encode."""
    for i, value in enumerate(values):
        try:
            encode_by_reference(value)
        except Exception as exc:
            return i, explain_failure(value, exc)
    return None


def explain_failure(value: Any, exc: Exception) -> Exception:
    """The error cucumber gives for ``value`` in debug mode (it names the path to the part that
    failed), or ``exc`` when that gives nothing better."""
    import cucumber

    try:
        cucumber.serialize(value, debug=True)
    except Exception as detailed:
        return detailed
    return exc


# --- frames --------------------------------------------------------------------------------------
def frame_header(size: int) -> bytes:
    """The length prefix of a frame whose body is ``size`` bytes."""
    return _SIZE.pack(size) if size <= 0x7FFFFFFF else _SIZE.pack(-1) + _BIG_SIZE.pack(size)


def _read_exact(fd: int, size: int, what: str) -> bytes:
    """``size`` bytes (a few, for headers); ``EOFError`` on a clean end before the first byte."""
    data = os.read(fd, size)
    while len(data) < size:
        if not data:
            raise EOFError("the other end closed the connection")
        more = os.read(fd, size - len(data))
        if not more:
            raise MessageError(
                f"the connection closed in the middle of a frame's {what} "
                f"({len(data)} of {size} bytes arrived)"
            )
        data += more
    return data


def read_frame(fd: int, limit: int = FRAME_LIMIT) -> bytes:
    """Read one frame's body from the blocking descriptor ``fd``.

    ``EOFError`` when the peer closed between frames; :class:`MessageError` when the length is
    negative, above ``limit``, or more than what arrives before the peer closes. The body is read in
    pieces (4 MiB, then at most as much as already arrived), so the memory held stays within
    twice what really arrived plus 4 MiB.
    """
    (size,) = _SIZE.unpack(_read_exact(fd, 4, "length"))
    if size < 0:
        if size != -1:
            raise MessageError(
                f"a frame announced a negative length ({size}); the connection is out of step"
            )
        (size,) = _BIG_SIZE.unpack(_read_exact(fd, 8, "length"))
    if size > limit:
        raise MessageError(
            f"a frame announced {size} bytes, more than the limit of {limit}; "
            "the connection is out of step or the peer is not a suitkaise process"
        )
    data = os.read(fd, min(size, _READ_PIECE))
    if len(data) == size:
        return data
    pieces = [data]
    received = len(data)
    while received < size:
        # ask for at most as much as already arrived (and at least a piece): memory follows the data
        piece = os.read(fd, min(size - received, max(_READ_PIECE, received)))
        if not piece:
            raise MessageError(
                f"a frame announced {size} bytes but the connection closed after {received}; "
                "the peer died while sending, or the frame header is corrupt"
            )
        pieces.append(piece)
        received += len(piece)
    return b"".join(pieces)


def split_header(data: bytes | bytearray | memoryview) -> tuple[int, int]:
    """A frame body that starts with a 4-byte little-endian header length: ``(start, end)`` of the
    header within ``data`` (the rest is the payload). :class:`MessageError` if it overruns ``data``."""
    if len(data) < 4:
        raise MessageError(f"a frame of {len(data)} bytes is too short to hold its header length")
    end = 4 + int.from_bytes(data[:4], "little")
    if end > len(data):
        raise MessageError(
            f"a frame announced a header of {end - 4} bytes but holds only {len(data) - 4}"
        )
    return 4, end


# --- errors --------------------------------------------------------------------------------------
class RemoteTraceback(Exception):
    """The traceback of an exception raised in another process; attached as ``__cause__`` of the
    re-raised error."""

    def __init__(self, tb: str) -> None:
        super().__init__(tb)
        self.tb = tb

    def __str__(self) -> str:
        return f'\n"""\n{self.tb.rstrip()}\n"""'


def add_note(exc: BaseException, note: str) -> None:
    """``exc.add_note(note)``; on Python 3.10 the same ``__notes__`` list, which
    :func:`format_exception` shows there too."""
    if sys.version_info >= (3, 11):
        exc.add_note(note)
    else:
        notes = exc.__dict__.setdefault("__notes__", [])
        notes.append(note)


def format_exception(exc: BaseException) -> str:
    """The full traceback text of ``exc`` (with its notes, on Python 3.10 too).

    Frames of functions sent by value name their real file and line: cucumber keeps ``co_filename``,
    and ``traceback`` reads the source line from the file when it exists here."""
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    if sys.version_info < (3, 11):
        notes = getattr(exc, "__notes__", None)
        if isinstance(notes, list) and notes:
            tail = "".join(f"{note}\n" for note in notes)
            if not text.endswith(tail):  # the exceptiongroup backport, when imported, prints them
                text += tail
    return text


def pack_error(exc: BaseException) -> tuple[bytes, str]:
    """Encode an exception raised in this process: ``(blob, traceback_text)``.

    The blob holds the exception itself when it can be encoded and decoded again, else ``b""``
    (the receiver then builds an error from the text).
    """
    tb = format_exception(exc)
    exc.__traceback__ = None
    exc.__context__ = None
    notes = getattr(exc, "__notes__", None)
    for encoder in (dumps, serialize):
        try:
            blob = encoder(exc)
            back = decode(blob)  # exceptions with unusual __init__ signatures fail only when loaded
            if notes and getattr(back, "__notes__", None) != notes:
                # its own __reduce__ drops its notes: they travel beside it
                blob = encoder((exc, list(notes)))
                decode(blob)
        except Exception:
            continue
        return blob, tb
    return b"", tb


def _exception_line(tb: str) -> str:
    """The ``Type: message`` line of a formatted traceback (the first line after its last frame;
    notes come after it)."""
    lines = tb.rstrip().splitlines()
    frames = [i for i, line in enumerate(lines) if line.startswith("  File ")]
    if frames:
        for line in lines[frames[-1] + 1 :]:
            if line and not line.startswith(" "):
                return line
    return lines[-1] if lines else "unknown error"


_FRAME_LINE = re.compile(r'^( *)File "(.+)", line (\d+), in ')


def _with_source_lines(tb: str) -> str:
    """``tb`` with the source line added under each frame the other process could not read but
    this one can (a notebook cell's code is in this process's ``linecache`` only)."""
    lines = tb.splitlines(keepends=True)
    out: list[str] = []
    for i, line in enumerate(lines):
        out.append(line)
        found = _FRAME_LINE.match(line)
        if found is None:
            continue
        indent = found.group(1)
        following = lines[i + 1] if i + 1 < len(lines) else ""
        if following.startswith(indent + "  "):
            continue  # the source line is there
        source = linecache.getline(found.group(2), int(found.group(3))).strip()
        if source:
            out.append(f"{indent}  {source}\n")
    return "".join(out)


def unpack_error(
    packed: tuple[bytes, str], what: str, fallback: type[ProcessError] = ProcessError
) -> BaseException:
    """Rebuild the exception packed by :func:`pack_error` with its remote traceback attached.

    ``what`` names what raised it (``"item 3"``), for the ``fallback`` error built when the
    exception itself could not be sent.
    """
    blob, tb = packed
    tb = _with_source_lines(tb)
    exc: object = None
    if blob:
        try:
            exc = decode(blob)
        except Exception:
            exc = None
    if type(exc) is tuple and len(exc) == 2 and isinstance(exc[0], BaseException):
        # notes sent beside an exception whose __reduce__ drops them
        noted: BaseException = exc[0]
        for note in exc[1]:
            add_note(noted, note)
        exc = noted
    if not isinstance(exc, BaseException):
        return fallback(
            f"{what} raised an exception that could not be sent back to the parent "
            f"({_exception_line(tb)}); "
            "make the exception picklable to get it with its own type",
            remote_traceback=tb,
        )
    if isinstance(exc, ProcessError):
        # ProcessError shows its remote traceback in its own message.
        if exc.remote_traceback is None:
            exc.remote_traceback = tb
        return exc
    exc.__cause__ = RemoteTraceback(tb)
    return exc


def pack_log_record(record: logging.LogRecord) -> dict[str, Any]:
    """A log record as plain data for another process (``logging.makeLogRecord`` rebuilds it): the
    message formatted, the exception as text, every other value that is not a plain scalar as its
    ``repr``."""
    data = dict(record.__dict__)
    data["msg"] = record.getMessage()
    data["args"] = None
    if record.exc_info:
        data["exc_text"] = logging.Formatter().formatException(record.exc_info)
    data["exc_info"] = None
    data.pop("message", None)
    return {
        k: (v if v is None or isinstance(v, (str, int, float, bool)) else repr(v))
        for k, v in data.items()
    }


def describe_exit(code: int | None) -> str:
    """How a process ended, from its exit code: ``"was killed by SIGKILL"``,
    ``"exited with code 1"``, or ``"did not exit"`` (``None``)."""
    if code is None:
        return "did not exit"
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with code {code}"
