"""Passing one file descriptor over a Unix socket (``SCM_RIGHTS``), with one marker byte.

Unlike ``multiprocessing.reduction.sendfds`` there is no acknowledgement round trip: the sender may
close its copy as soon as :func:`send_fd` returned, the kernel keeps the file open until the receiver
took it. Used by :class:`~suitkaise_processing._private.channel.Channel` for its large messages and by
the ``Pool`` for the memory files of :mod:`.bigbuffers`.
"""

from __future__ import annotations

import array
import os
import socket

from suitkaise_processing._private.errors import MessageError

_MARKER = b"\x01"


def send_fd(sock: socket.socket, fd: int, flags: int = 0) -> None:
    """Pass ``fd`` with one marker byte (``flags``: e.g. ``socket.MSG_DONTWAIT``)."""
    sock.sendmsg([_MARKER], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [fd]))], flags)


def recv_fd(sock: socket.socket) -> int:
    """Receive one descriptor passed by :func:`send_fd`.

    ``EOFError`` if the peer closed; :class:`MessageError` if the message carried no descriptor or
    more than one (those received are closed first).
    """
    fds = array.array("i")
    msg, ancdata, _flags, _addr = sock.recvmsg(1, socket.CMSG_SPACE(2 * fds.itemsize))
    if not msg and not ancdata:
        raise EOFError("the other end closed while passing a file descriptor")
    for level, kind, data in ancdata:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(data[: len(data) - (len(data) % fds.itemsize)])
    if len(fds) != 1 or msg != _MARKER:
        for fd in fds:
            os.close(fd)
        raise MessageError(
            f"expected one file descriptor after a large-message header, got {len(fds)}; "
            "the connection is out of step and cannot be used any more"
        )
    return fds[0]


def send_fd_on(fileno: int, fd: int) -> None:
    """:func:`send_fd` on the socket whose descriptor is ``fileno`` (a ``Connection``'s), blocking."""
    with socket.socket(fileno=os.dup(fileno)) as sock:
        send_fd(sock, fd)


def recv_fd_on(fileno: int) -> int:
    """:func:`recv_fd` on the socket whose descriptor is ``fileno`` (a ``Connection``'s), blocking."""
    with socket.socket(fileno=os.dup(fileno)) as sock:
        return recv_fd(sock)
