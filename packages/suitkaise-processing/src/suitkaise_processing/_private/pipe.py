"""``Pipe``: a fast, cucumber-encoded pair of connected endpoints (anchor stays, point travels).

An endpoint travels to another process when it is pickled (inside an ``Skprocess``, a ``Pool`` payload,
or sent through another pipe): its file descriptor is duplicated for the receiver through
``multiprocessing``'s own machinery (passed with the child at start, or via the authenticated
``resource_sharer`` otherwise). Locked endpoints refuse to travel. The anchor is locked for good.

State snapshots of an ``Skprocess`` (sent back to the parent for lives and final state) do not move
endpoints: inside :func:`snapshot_mode` an endpoint pickles as a reference to the endpoint with the
same id in the receiving process, which keeps its own copy.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import socket
import threading
import time
import weakref
from collections.abc import Iterator
from multiprocessing import resource_sharer
from multiprocessing.connection import Connection
from types import TracebackType
from typing import Any, TypeAlias

from suitkaise_processing._private.channel import Channel
from suitkaise_processing._private.context import get_context
from suitkaise_processing._private.errors import PipeEndpointError

_ids = itertools.count(1)
_registry: weakref.WeakValueDictionary[str, _Endpoint] = weakref.WeakValueDictionary()
_state = threading.local()


def _new_uid() -> str:
    return f"{os.getpid()}-{id(_registry):x}-{next(_ids)}"


@contextlib.contextmanager
def snapshot_mode() -> Iterator[None]:
    """Inside this block endpoints pickle as references (by id) instead of moving their descriptor."""
    previous = getattr(_state, "snapshot", False)
    _state.snapshot = True
    try:
        yield
    finally:
        _state.snapshot = previous


class Transfers:
    """Endpoints moved while encoding a start payload, and their file descriptors.

    The descriptors travel beside the cucumber bytes (wrapped in ``multiprocessing.reduction.DupFd``
    for the spawning pickler, which hands them to the child with the start request; inherited as they
    are under ``fork``); the bytes only hold their index.
    """

    def __init__(self) -> None:
        self.endpoints: list[_Endpoint] = []
        self.fds: list[int] = []


@contextlib.contextmanager
def collect_transfers() -> Iterator[Transfers]:
    """Inside the block, moved endpoints put their descriptor in the returned :class:`Transfers`."""
    previous = getattr(_state, "collector", None)
    collected = Transfers()
    _state.collector = collected
    try:
        yield collected
    finally:
        _state.collector = previous


@contextlib.contextmanager
def incoming_fds(fds: list[int]) -> Iterator[None]:
    """Inside the block, endpoints rebuilt from a start payload take their descriptor from ``fds``."""
    previous = getattr(_state, "incoming", None)
    _state.incoming = fds
    try:
        yield
    finally:
        _state.incoming = previous


def flush_all(timeout: float) -> None:
    """Wait (up to ``timeout`` seconds in all) until every endpoint in this process wrote its queue."""
    deadline = time.monotonic() + timeout
    for endpoint in list(_registry.values()):
        endpoint._channel.flush(max(0.0, deadline - time.monotonic()))


def _endpoint_by_uid(uid: str, kind: str, readable: bool, writable: bool) -> _Endpoint:
    endpoint = _registry.get(uid)
    if endpoint is None:
        # The endpoint is not held in this process: give a closed placeholder of the same kind.
        cls = Anchor if kind == "anchor" else Point
        endpoint = cls.__new__(cls)
        endpoint._init_closed(uid, readable, writable)
    return endpoint


def _rebuild_point(
    uid: str,
    token: tuple[str, Any],
    readable: bool,
    writable: bool,
    locked: bool,
    shared_memory: bool = True,
) -> Point:
    how, value = token
    if how == "idx":
        fd = int(getattr(_state, "incoming", None)[value])  # type: ignore[index]
    else:
        dup = resource_sharer.DupFd.__new__(resource_sharer.DupFd)
        dup._id = value  # type: ignore[attr-defined]
        fd = dup.detach()
    point = Point(Connection(fd, readable, writable), uid=uid, shared_memory=shared_memory)
    point._locked = locked
    return point


class _Endpoint:
    """One end of a :class:`Pipe`: ``send``, ``recv``, ``poll``, ``close``, ``lock``/``unlock``."""

    _kind = "endpoint"

    def __init__(
        self,
        conn: Connection,
        *,
        uid: str | None = None,
        locked: bool = False,
        shared_memory: bool = True,
    ) -> None:
        self._channel = Channel(conn, shared_memory)
        self._readable = conn.readable
        self._writable = conn.writable
        self._locked = locked
        self._uid = uid or _new_uid()
        _registry[self._uid] = self

    def _init_closed(self, uid: str, readable: bool, writable: bool) -> None:
        conn = Connection.__new__(Connection)
        conn._handle = None  # type: ignore[attr-defined]
        conn._readable = readable  # type: ignore[attr-defined]
        conn._writable = writable  # type: ignore[attr-defined]
        self._channel = Channel(conn)
        self._readable = readable
        self._writable = writable
        self._locked = True
        self._uid = uid

    # --- state -----------------------------------------------------------------------------------
    @property
    def locked(self) -> bool:
        """Whether this endpoint refuses to be moved to another process."""
        return self._locked

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called (or the endpoint was moved away and closed here)."""
        return self._channel.closed

    @property
    def readable(self) -> bool:
        """Whether this endpoint can ``recv``."""
        return self._readable

    @property
    def writable(self) -> bool:
        """Whether this endpoint can ``send``."""
        return self._writable

    def lock(self) -> None:
        """Forbid moving this endpoint to another process."""
        self._locked = True

    def unlock(self) -> None:
        """Allow moving this endpoint to another process."""
        self._locked = False

    # --- I/O -------------------------------------------------------------------------------------
    def send(self, obj: Any) -> None:
        """Serialize ``obj`` (C pickle for plain data, cucumber otherwise) and send it; does not wait for the peer.

        Raises ``PipeEndpointError`` if this end is closed, receive-only, or the peer is gone.
        """
        if not self._writable:
            raise PipeEndpointError(
                f"this {self._kind} is receive-only (one-way pipe); send from the other end"
            )
        self._channel.send(obj)

    def recv(self, timeout: float | None = None) -> Any:
        """Wait for the next object and return it.

        ``timeout`` in seconds (``None``: wait forever) raises ``TimeoutError`` when nothing came;
        ``EOFError`` when the peer closed or its process exited; ``PipeEndpointError`` if this end is closed.
        """
        if not self._readable:
            raise PipeEndpointError(
                f"this {self._kind} is send-only (one-way pipe); receive at the other end"
            )
        return self._channel.recv(timeout)

    def poll(self, timeout: float | None = 0.0) -> bool:
        """Whether :meth:`recv` would return at once (data or EOF) within ``timeout`` seconds."""
        if not self._readable:
            raise PipeEndpointError(
                f"this {self._kind} is send-only (one-way pipe); poll the other end"
            )
        return self._channel.poll(timeout)

    def fileno(self) -> int:
        """The file descriptor (usable with ``multiprocessing.connection.wait``)."""
        return self._channel.fileno()

    def close(self) -> None:
        """Close this endpoint (idempotent); the peer then gets ``EOFError`` from ``recv``."""
        self._channel.close()

    def __enter__(self) -> _Endpoint:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else ("locked" if self._locked else "unlocked")
        mode = "rw" if self._readable and self._writable else ("r" if self._readable else "w")
        return f"<{type(self).__name__} {self._uid} {mode} {state}>"

    # --- pickling --------------------------------------------------------------------------------
    def __reduce__(self) -> tuple[Any, ...]:
        if getattr(_state, "snapshot", False):
            return (_endpoint_by_uid, (self._uid, self._kind, self._readable, self._writable))
        if self._locked:
            raise PipeEndpointError(
                f"this {self._kind} is locked and cannot be moved to another process; "
                + (
                    "keep the anchor in the parent and pass the point instead"
                    if self._kind == "anchor"
                    else "call point.unlock() first"
                )
            )
        if self.closed:
            raise PipeEndpointError("a closed pipe endpoint cannot be moved to another process")
        collector: Transfers | None = getattr(_state, "collector", None)
        if collector is not None:
            # Start payload: the descriptor goes with the spawn request, beside the bytes.
            collector.endpoints.append(self)
            collector.fds.append(self._channel.fileno())
            token: tuple[str, Any] = ("idx", len(collector.fds) - 1)
        else:
            # Anywhere else (a Pool payload, another pipe): multiprocessing's authenticated resource sharer.
            token = ("rs", resource_sharer.DupFd(self._channel.fileno())._id)  # type: ignore[attr-defined]
        return (
            _rebuild_point,
            (
                self._uid,
                token,
                self._readable,
                self._writable,
                self._locked,
                self._channel.shared_memory,
            ),
        )


class Anchor(_Endpoint):
    """The endpoint that stays in the process that created the pair; always locked."""

    _kind = "anchor"

    def __init__(
        self, conn: Connection, *, uid: str | None = None, shared_memory: bool = True
    ) -> None:
        super().__init__(conn, uid=uid, locked=True, shared_memory=shared_memory)

    def unlock(self) -> None:
        """Always raises ``PipeEndpointError``: an anchor never leaves its process."""
        raise PipeEndpointError(
            "an anchor is always locked; pass the point to the other process instead"
        )


class Point(_Endpoint):
    """The mobile endpoint: unlocked by default, can be passed to a child process."""

    _kind = "point"


_AnchorType: TypeAlias = Anchor
_PointType: TypeAlias = Point


class Pipe:
    """Fast parent/child communication: ``anchor, point = Pipe.pair()``.

    The anchor stays in this process (locked for good); the point can be given to a child, also as an
    attribute of an ``Skprocess``. Both ends ``send``/``recv``/``poll``/``close`` and are context managers.
    """

    Anchor = Anchor
    Point = Point

    def __init__(self) -> None:
        raise TypeError("create endpoints with Pipe.pair() (or Pipe.pair(one_way=True))")

    @staticmethod
    def pair(one_way: bool = False, shared_memory: bool = True) -> tuple[_AnchorType, _PointType]:
        """A connected ``(anchor, point)``.

        ``one_way=True``: the anchor only sends and the point only receives.
        ``shared_memory=False``: large numpy arrays travel inside the messages instead of through
        shared memory (see docs/suitkaise-processing/large-data.md); the point keeps the setting
        when it moves to another process.
        """
        shared_memory = bool(shared_memory)
        if one_way:
            # A socket pair used in one direction (not an os.pipe): sends never block and large
            # messages can pass a memory file.
            sender, receiver = socket.socketpair()
            send_end = Connection(sender.detach(), readable=False, writable=True)
            recv_end = Connection(receiver.detach(), readable=True, writable=False)
            return (
                Anchor(send_end, shared_memory=shared_memory),
                Point(recv_end, shared_memory=shared_memory),
            )
        a, b = get_context().Pipe(duplex=True)
        return Anchor(a, shared_memory=shared_memory), Point(b, shared_memory=shared_memory)
