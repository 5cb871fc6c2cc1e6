"""The one wire format of our processes: cucumber-compatible encoding with a C-pickle fast path.

``encode(obj)`` pickles plain data (dict, list, tuple, str, bytes, numbers, ...) with the C pickler at the
highest protocol; the first object that is not plain built-in data makes it fall back to
``cucumber.serialize`` for the whole message, so lambdas, closures, classes from ``__main__`` and live
resources travel exactly as cucumber carries them. ``decode`` tells the two apart by the first byte:
a pickle stream starts with the PROTO opcode ``0x80``, cucumber bytes start with their magic header.

``Channel`` wraps a private ``multiprocessing`` connection (socketpair/pipe inherited at start, so it is
private by construction): one length-prefixed write per message, peer errors mapped to
``PipeEndpointError`` / ``EOFError``.
"""

from __future__ import annotations

import io
import mmap
import os
import pickle
import socket
import stat
import struct
import threading
import types
from multiprocessing import reduction
from multiprocessing.connection import Connection
from typing import Any

from suitkaise_processing._private.errors import PipeEndpointError

_PICKLE_PROTO_OPCODE = 0x80
#: messages this large (bytes, encoded) travel through an anonymous memory file when possible
LARGE_MESSAGE = 4 * 1024 * 1024
_LARGE_MARK = b"\x01sk-memfd"
_LARGE_HEADER_SIZE = len(_LARGE_MARK) + 1 + 8  # mark, kind (P pickled, B bytes, A bytearray), size
_PROTOCOL = pickle.HIGHEST_PROTOCOL


class _NotPlain(Exception):
    """Raised inside the fast pickler when an object needs cucumber."""


# Modules whose classes and functions every one of our processes imports by name, so pickle's own
# by-reference handling is right for them (no need for cucumber's by-value decisions).
_TRUSTED_MODULES = frozenset({"builtins", "copyreg", "suitkaise_processing", "sktiming"})
_CLASS_OR_FUNCTION = (type, types.FunctionType, types.BuiltinFunctionType)


def _trusted(module: object) -> bool:
    return isinstance(module, str) and module.partition(".")[0] in _TRUSTED_MODULES


class _PlainPickler(pickle.Pickler):
    """C pickler that takes plain data and our own types, and refuses the rest (which goes to cucumber).

    ``reducer_override`` is only consulted for objects that are not of the built-in container and
    scalar types the C pickler handles itself, so plain data never leaves C.
    """

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, _CLASS_OR_FUNCTION):
            if _trusted(getattr(obj, "__module__", None)):
                return NotImplemented
        elif _trusted(type(obj).__module__):
            return NotImplemented
        raise _NotPlain


def _cucumber_serialize(obj: Any) -> bytes:
    import cucumber

    return cucumber.serialize(obj)


def _cucumber_deserialize(data: bytes | memoryview) -> Any:
    import cucumber

    return cucumber.deserialize(bytes(data) if isinstance(data, memoryview) else data)


def encode(obj: Any) -> bytes | memoryview:
    """Bytes for ``obj``: C pickle for plain data, cucumber for everything else."""
    buf = io.BytesIO()
    try:
        _PlainPickler(buf, _PROTOCOL).dump(obj)
    except _NotPlain:
        pass
    except (pickle.PicklingError, TypeError, AttributeError, RecursionError):
        pass
    else:
        return buf.getbuffer()
    data = _cucumber_serialize(obj)
    if data[:1] == bytes([_PICKLE_PROTO_OPCODE]):  # pragma: no cover - depends on cucumber's header
        raise RuntimeError("cucumber bytes must not start with the pickle PROTO opcode")
    return data


def decode(data: bytes | bytearray | memoryview) -> Any:
    """Inverse of :func:`encode`."""
    if len(data) and data[0] == _PICKLE_PROTO_OPCODE:
        return pickle.loads(data)
    return _cucumber_deserialize(bytes(data) if not isinstance(data, bytes) else data)


class Channel:
    """A message channel over a ``multiprocessing`` connection; thread-safe for sending.

    ``send`` takes a lock so several threads may send; receiving is meant for one thread at a time.
    """

    __slots__ = ("_conn", "_large_ok", "_send_lock", "_sock")

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._send_lock = threading.Lock()
        self._sock: socket.socket | None = None
        self._large_ok: bool | None = None  # decided at the first large send

    @property
    def connection(self) -> Connection:
        """The underlying connection."""
        return self._conn

    @property
    def closed(self) -> bool:
        """Whether this end was closed."""
        return self._conn.closed

    def fileno(self) -> int:
        """The file descriptor (for ``multiprocessing.connection.wait``)."""
        return self._conn.fileno()

    def send(self, obj: Any) -> None:
        """Encode and send ``obj`` in one write; ``PipeEndpointError`` if this end or the peer is closed.

        Messages of 4 MiB and more go through an anonymous memory file (Linux ``memfd``) whose
        descriptor rides on the socket: two memory copies instead of streaming through the socket.
        """
        kind = type(obj)
        if (
            (kind is bytes or kind is bytearray)
            and len(obj) >= LARGE_MESSAGE
            and self._can_send_large()
        ):
            self._send_large(obj, b"B" if kind is bytes else b"A")  # raw: no pickling copy
            return
        data = encode(obj)
        if len(data) >= LARGE_MESSAGE and self._can_send_large():
            self._send_large(data, b"P")
            return
        self.send_bytes(data)

    def _socket(self) -> socket.socket:
        if self._sock is None:
            self._sock = socket.socket(fileno=os.dup(self._conn.fileno()))
        return self._sock

    def _can_send_large(self) -> bool:
        if self._large_ok is None:
            ok = hasattr(os, "memfd_create") and not self._conn.closed
            if ok:
                try:
                    ok = stat.S_ISSOCK(os.fstat(self._conn.fileno()).st_mode)
                except OSError:
                    ok = False
            self._large_ok = ok
        return self._large_ok

    def _send_large(self, data: bytes | bytearray | memoryview, kind: bytes) -> None:
        size = len(data)
        fd = os.memfd_create("sk_pipe_message", os.MFD_CLOEXEC)
        try:
            os.ftruncate(fd, size)
            with mmap.mmap(fd, size) as mapped:
                mapped[:] = data
            header = _LARGE_MARK + kind + struct.pack("!Q", size)
            try:
                with self._send_lock:
                    self._conn.send_bytes(header)
                    reduction.sendfds(self._socket(), [fd])
            except (BrokenPipeError, ConnectionResetError, EOFError) as exc:
                raise PipeEndpointError(
                    "the other end of the pipe is closed (its process exited or called close())"
                ) from exc
            except OSError as exc:
                raise PipeEndpointError(f"sending on the pipe failed: {exc}") from exc
        finally:
            os.close(fd)  # the descriptor in flight keeps the memory alive until it is received

    def _recv_large(self, header: memoryview) -> Any:
        kind = bytes(header[len(_LARGE_MARK) : len(_LARGE_MARK) + 1])
        (size,) = struct.unpack("!Q", header[len(_LARGE_MARK) + 1 :])
        fds = reduction.recvfds(self._socket(), 1)
        try:
            mapped = mmap.mmap(fds[0], size, prot=mmap.PROT_READ)
        finally:
            for fd in fds:
                os.close(fd)
        try:
            if kind == b"B":
                return mapped[:]
            if kind == b"A":
                return bytearray(mapped)
            with memoryview(mapped) as view:
                return decode(view)
        finally:
            mapped.close()

    def send_bytes(self, data: bytes | memoryview) -> None:
        """Send already encoded bytes as one message (small messages; :meth:`send` picks the path)."""
        if self._conn.closed:
            raise PipeEndpointError(
                "this pipe endpoint is closed; create a new pair with Pipe.pair()"
            )
        try:
            with self._send_lock:
                self._conn.send_bytes(data)
        except (BrokenPipeError, ConnectionResetError, EOFError) as exc:
            raise PipeEndpointError(
                "the other end of the pipe is closed (its process exited or called close())"
            ) from exc
        except OSError as exc:
            if self._conn.closed:
                raise PipeEndpointError("this pipe endpoint is closed") from exc
            raise PipeEndpointError(f"sending on the pipe failed: {exc}") from exc

    def poll(self, timeout: float | None = 0.0) -> bool:
        """Whether a message (or EOF) is ready within ``timeout`` seconds (``None``: wait forever)."""
        if self._conn.closed:
            raise PipeEndpointError(
                "this pipe endpoint is closed; create a new pair with Pipe.pair()"
            )
        try:
            return self._conn.poll(timeout)
        except OSError as exc:
            raise PipeEndpointError(f"polling the pipe failed: {exc}") from exc

    def recv(self, timeout: float | None = None) -> Any:
        """Receive and decode the next message.

        ``TimeoutError`` after ``timeout`` seconds, ``EOFError`` if the peer closed (or its process
        exited), ``PipeEndpointError`` if this end is closed.

        Decodes straight from the receive buffer (no copy into a ``bytes`` first), like
        ``Connection.recv`` does.
        """
        conn = self._conn
        if conn.closed:
            raise PipeEndpointError(
                "this pipe endpoint is closed; create a new pair with Pipe.pair()"
            )
        try:
            if timeout is not None and not conn.poll(timeout):
                raise TimeoutError(f"no message within {timeout}s")
            buffer = conn._recv_bytes().getbuffer()  # type: ignore[attr-defined]
        except EOFError:
            raise EOFError(
                "the other end of the pipe is closed (its process exited or called close())"
            ) from None
        except (ConnectionResetError, BrokenPipeError) as exc:
            raise EOFError("the other end of the pipe is gone") from exc
        except OSError as exc:
            if conn.closed:
                raise PipeEndpointError("this pipe endpoint was closed while receiving") from exc
            raise
        try:
            if len(buffer) == _LARGE_HEADER_SIZE and buffer[: len(_LARGE_MARK)] == _LARGE_MARK:
                return self._recv_large(buffer)
            return decode(buffer)
        finally:
            buffer.release()

    def close(self) -> None:
        """Close this end (idempotent)."""
        if self._sock is not None:
            try:
                self._sock.close()
            except OSError:
                pass
            self._sock = None
        try:
            self._conn.close()
        except OSError:
            pass
