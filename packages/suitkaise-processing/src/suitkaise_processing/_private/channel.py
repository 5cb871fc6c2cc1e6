"""``Channel``: framed messages over a private ``multiprocessing`` connection (Pipe, Skprocess).

``Channel`` wraps a socketpair/pipe inherited at start (so it is private by construction) and only
frames and sends: one length-prefixed write per message (the frame format and the encoding live in
:mod:`.wire`), peer errors mapped to ``PipeEndpointError`` / ``EOFError``.

Large messages (Linux)
    A message of :data:`LARGE_MESSAGE` bytes or more travels through an anonymous memory file: the
    frame body is the :data:`_LARGE_HEADER_SIZE`-byte header ``_LARGE_MARK + kind + size`` (``kind``:
    ``P`` encoded message, ``B`` raw ``bytes``, ``A`` raw ``bytearray``; ``size``: 8 bytes big-endian),
    and the memory file's descriptor follows on the socket (:mod:`.fdpass`). The receiver checks
    ``size`` against the memory file's real size before mapping it.

Big buffers (Linux)
    A message whose pickle has out-of-band buffers of :data:`.bigbuffers.THRESHOLD` bytes or more
    (numpy arrays, ...) is a :mod:`.bigbuffers` message: its frame holds the buffer table and the
    pickle stream, the memory file with the buffers follows on the socket. The receiver's arrays view
    that memory (copy-on-write). Memory files come from :mod:`.bigbuffers`'s cache (reused once the
    receiver dropped them), large messages above included.
"""

from __future__ import annotations

import _thread
import collections
import mmap
import os
import socket
import stat
import struct
import threading
from multiprocessing.connection import Connection
from typing import Any

from suitkaise_processing._private import bigbuffers
from suitkaise_processing._private.errors import MessageError, PipeEndpointError
from suitkaise_processing._private.fdpass import recv_fd, send_fd
from suitkaise_processing._private.wire import decode, encode, frame_header, read_frame

__all__ = ["LARGE_MESSAGE", "Channel"]

_BIG_MARK = bigbuffers.MARK
#: messages this large (bytes, encoded) travel through an anonymous memory file when possible
LARGE_MESSAGE = 4 * 1024 * 1024
_LARGE_MARK = b"\x01sk-memfd"
_LARGE_HEADER_SIZE = len(_LARGE_MARK) + 1 + 8  # mark, kind (P pickled, B bytes, A bytearray), size
_LARGE_KINDS = (b"P", b"B", b"A")


def _write_all(fd: int, data: bytes | memoryview) -> None:
    view = memoryview(data).cast("B")
    while len(view):
        view = view[os.write(fd, view) :]


_CLOSED_MESSAGE = "this pipe endpoint is closed; create a new pair with Pipe.pair()"
_PEER_GONE = "the other end of the pipe is closed (its process exited or called close())"


class Channel:
    """A message channel over a ``multiprocessing`` connection; thread-safe for sending.

    Sending never waits for the peer to read: each frame (``multiprocessing``'s 4-byte length prefix
    and the payload) is written without blocking; what the socket cannot take now is queued and
    written, in order, by a feeder thread started only then. Receiving is meant for one thread at a
    time. On non-socket connections (never created by us) sends fall back to blocking writes.
    """

    __slots__ = (
        "_broken",
        "_collect",
        "_conn",
        "_drained",
        "_feeding",
        "_is_socket",
        "_queue",
        "_send_lock",
        "_shared_memory",
        "_sock",
    )

    def __init__(self, conn: Connection, shared_memory: bool = True) -> None:
        self._conn = conn
        #: big buffers of messages go through shared memory (:mod:`.bigbuffers`)
        self._shared_memory = shared_memory and bigbuffers.enabled()
        self._send_lock = threading.Lock()
        self._drained = threading.Condition(self._send_lock)
        self._sock: socket.socket | None = None
        self._is_socket: bool | None = None  # decided at the first send
        #: whether sends collect big buffers for shared memory (decided at the first send)
        self._collect: bool | None = None
        self._queue: collections.deque[tuple[memoryview | bytes, int | None]] = collections.deque()
        self._feeding = False
        self._broken: BaseException | None = None

    @property
    def shared_memory(self) -> bool:
        """Whether big buffers of the messages sent here go through shared memory."""
        return self._shared_memory

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

    # --- sending -----------------------------------------------------------------------------------
    def send(self, obj: Any) -> None:
        """Encode and send ``obj`` as one message without waiting for the peer to read it.

        ``PipeEndpointError`` if this end or the peer is closed. On Linux, messages of 4 MiB and more
        go through an anonymous memory file (``memfd``) whose descriptor rides on the socket: the
        data is copied once on each side instead of streaming through the socket.
        """
        if self._conn.closed:
            raise PipeEndpointError(_CLOSED_MESSAGE)
        kind = type(obj)
        if (kind is bytes or kind is bytearray) and len(obj) >= LARGE_MESSAGE and self._memfd_ok():
            self._send_large(obj, b"B" if kind is bytes else b"A")  # raw: no pickling copy
            return
        collect = self._collect
        if collect is None:
            collect = self._collect = self._shared_memory and self._memfd_ok()
        big = bigbuffers.Collector() if collect else None
        data = encode(obj, big)
        if big is not None and big.buffers:
            body = bigbuffers.pack(data, big.buffers)
            self._write([frame_header(len(body)) + body], bigbuffers.write_segment(big.buffers))
            return
        if len(data) >= LARGE_MESSAGE and self._memfd_ok():
            self._send_large(data, b"P")
            return
        self.send_bytes(data)

    def send_bytes(self, data: bytes | memoryview) -> None:
        """Send already encoded bytes as one message (:meth:`send` picks the path)."""
        if self._conn.closed:
            raise PipeEndpointError(_CLOSED_MESSAGE)
        size = len(data)
        header = frame_header(size)
        if size <= 16384:
            self._write([header + bytes(data)], None)
        else:
            self._write([header, data], None)

    def _socket(self) -> socket.socket:
        if self._sock is None:
            self._sock = socket.socket(fileno=os.dup(self._conn.fileno()))
        return self._sock

    def _socket_ok(self) -> bool:
        if self._is_socket is None:
            try:
                self._is_socket = stat.S_ISSOCK(os.fstat(self._conn.fileno()).st_mode)
            except OSError:
                self._is_socket = False
        return self._is_socket

    def _memfd_ok(self) -> bool:
        return hasattr(os, "memfd_create") and self._socket_ok()

    def _send_large(self, data: bytes | bytearray | memoryview, kind: bytes) -> None:
        size = len(data)
        fd = bigbuffers.write_segment([memoryview(data).cast("B")])
        try:
            header = _LARGE_MARK + kind + struct.pack("!Q", size)
            frame = struct.pack("!i", len(header)) + header
        except BaseException:
            os.close(fd)
            raise
        self._write([frame], fd)  # the descriptor is closed once it is sent

    def _fail(self, exc: BaseException) -> PipeEndpointError:
        if isinstance(exc, PipeEndpointError):
            return exc
        if isinstance(exc, (BrokenPipeError, ConnectionResetError, EOFError)):
            return PipeEndpointError(_PEER_GONE)
        if self._conn.closed:
            return PipeEndpointError(_CLOSED_MESSAGE)
        return PipeEndpointError(f"sending on the pipe failed: {exc}")

    def _write(self, chunks: list[bytes | memoryview], fd: int | None) -> None:
        """Write ``chunks`` (then pass ``fd``) now as far as the socket takes them; queue the rest."""
        if not self._socket_ok():
            self._write_blocking(chunks, fd)
            return
        with self._send_lock:
            if self._broken is not None:
                if fd is not None:
                    os.close(fd)
                raise self._fail(self._broken)
            if not self._queue and not self._feeding:
                if fd is None and len(chunks) == 1:  # the common small message: one syscall
                    sock = self._sock if self._sock is not None else self._socket()
                    try:
                        sent = sock.send(chunks[0], socket.MSG_DONTWAIT)
                    except BlockingIOError:
                        sent = 0
                    except OSError as exc:
                        raise self._fail(exc) from exc
                    if sent == len(chunks[0]):
                        return
                    chunks = [memoryview(chunks[0]).cast("B")[sent:]]
                try:
                    chunks, fd = self._write_now(chunks, fd)
                except OSError as exc:
                    if fd is not None:
                        os.close(fd)
                    raise self._fail(exc) from exc
                if not chunks and fd is None:
                    return
            for chunk in chunks:
                self._queue.append((chunk, None))
            if fd is not None:
                self._queue.append((b"", fd))
            if not self._feeding:
                self._feeding = True
                _thread.start_new_thread(self._feed, ())

    def _write_now(
        self, chunks: list[bytes | memoryview], fd: int | None
    ) -> tuple[list[bytes | memoryview], int | None]:
        """Non-blocking writes; returns what is left (chunks, descriptor)."""
        sock = self._socket()
        for i, chunk in enumerate(chunks):
            view = memoryview(chunk).cast("B")
            while len(view):
                try:
                    sent = sock.send(view, socket.MSG_DONTWAIT)
                except BlockingIOError:
                    return [view, *chunks[i + 1 :]], fd
                view = view[sent:]
        if fd is not None:
            try:
                send_fd(sock, fd, socket.MSG_DONTWAIT)
            except BlockingIOError:
                return [], fd
            os.close(fd)
        return [], None

    def _feed(self) -> None:
        """Feeder thread: write the queue in order (blocking), then end."""
        sock = self._socket()
        while True:
            with self._send_lock:
                if not self._queue or self._broken is not None:
                    for _, fd in self._queue:
                        if fd is not None:
                            os.close(fd)
                    self._queue.clear()
                    self._feeding = False
                    self._drained.notify_all()
                    if self._conn.closed and self._sock is not None:
                        self._sock.close()
                        self._sock = None
                    return
                chunk, fd = self._queue.popleft()
            try:
                if fd is None:
                    sock.sendall(chunk)
                else:
                    try:
                        send_fd(sock, fd, 0)
                    finally:
                        os.close(fd)
            except OSError as exc:
                with self._send_lock:
                    self._broken = exc

    def _write_blocking(self, chunks: list[bytes | memoryview], fd: int | None) -> None:
        try:
            with self._send_lock:
                for chunk in chunks:
                    _write_all(self._conn.fileno(), chunk)
                if fd is not None:
                    send_fd(self._socket(), fd, 0)
        except OSError as exc:
            raise self._fail(exc) from exc
        finally:
            if fd is not None:
                os.close(fd)

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every queued message was written (``False`` after ``timeout`` seconds)."""
        with self._send_lock:
            return self._drained.wait_for(lambda: not self._feeding, timeout)

    # --- receiving ---------------------------------------------------------------------------------
    def _recv_large(self, header: bytes | bytearray) -> Any:
        kind = bytes(header[len(_LARGE_MARK) : len(_LARGE_MARK) + 1])
        (size,) = struct.unpack("!Q", header[len(_LARGE_MARK) + 1 :])
        fd = recv_fd(self._socket())
        try:
            real = os.fstat(fd).st_size
            if kind not in _LARGE_KINDS or real < size or size == 0:
                raise MessageError(
                    f"a large-message header announced {size} bytes of kind {kind!r}; its memory file "
                    f"holds {real}: the connection is out of step and cannot be used any more"
                )
            mapped = mmap.mmap(fd, size, prot=mmap.PROT_READ)
        finally:
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

        A malformed frame (a length beyond :data:`~.wire.FRAME_LIMIT` or beyond what arrives)
        raises ``MessageError`` and closes this end: the stream is out of step.
        """
        conn = self._conn
        if conn.closed:
            raise PipeEndpointError(
                "this pipe endpoint is closed; create a new pair with Pipe.pair()"
            )
        try:
            if timeout is not None and not conn.poll(timeout):
                raise TimeoutError(f"no message within {timeout}s")
            body = read_frame(conn.fileno())
            if len(body) == _LARGE_HEADER_SIZE and body[: len(_LARGE_MARK)] == _LARGE_MARK:
                return self._recv_large(body)
            if body[:4] == _BIG_MARK and bigbuffers.is_marked(body):
                return bigbuffers.load(body, recv_fd(self._socket()), decode)
        except EOFError:
            raise EOFError(
                "the other end of the pipe is closed (its process exited or called close())"
            ) from None
        except (ConnectionResetError, BrokenPipeError) as exc:
            raise EOFError("the other end of the pipe is gone") from exc
        except MessageError:
            self.close()
            raise
        except OSError as exc:
            if conn.closed:
                raise PipeEndpointError("this pipe endpoint was closed while receiving") from exc
            raise
        return decode(body)

    def close(self) -> None:
        """Close this end (idempotent). Messages still queued are written first by the feeder, which
        then closes its copy of the socket (so the peer sees them, then EOF)."""
        with self._send_lock:
            feeding = self._feeding
            if not feeding and self._sock is not None:
                try:
                    self._sock.close()
                except OSError:
                    pass
                self._sock = None
        try:
            self._conn.close()
        except OSError:
            pass
