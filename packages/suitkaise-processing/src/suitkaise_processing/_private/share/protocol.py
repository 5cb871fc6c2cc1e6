"""Commands a Share client sends its coordinator.

A command is ``(op, req, name, slot, seq, path, args)``. It travels as a pickled plain header
``(op, req, name, slot, seq, payload)`` whose ``payload`` holds ``(path, args)`` encoded with the package's
wire format (cucumber for anything but plain data), so the coordinator can always answer or count a
command even when its payload cannot be decoded (a class it cannot import, ...):

- ``req`` is 0 for a write nobody waits for (the coordinator counts it as applied on ``slot``,
  matching the writer's ``queued`` announcement), else an id the answer ``(req, ok, result)`` carries.
- ``seq`` numbers the writes of one client (1, 2, 3, ...; 0 for commands that change nothing). The
  coordinator applies a write only if its ``seq`` is above the client's committed ``applied`` number
  (see :mod:`.layout`), so a client that resends its unconfirmed writes to a restarted coordinator
  gets each applied exactly once.
- The first command on a connection is ``OP_HELLO`` with the client's random 64-bit id; its answer is
  ``(entry, applied)``: the client's entry in the control segment's client table and the highest
  sequence number of its writes that is already committed.
- ``path`` leads from the attribute to the part the command works on: ``(("a", "x"), ("i", 3))``
  is ``share.<name>.x[3]``.

Big buffers (:mod:`..bigbuffers`): a write whose arguments hold pickle protocol 5 out-of-band buffers of
``bigbuffers.THRESHOLD`` bytes or more (a numpy array for ``share.arr = big``) is sent as a marked
body, ``bigbuffers.pack(header, buffers)``, whose header's ``payload`` is the pickle stream without
those buffers; the memory file holding them follows the frame (:mod:`..fdpass`). The coordinator maps
it privately (copy-on-write), so the value it stores views the writer's memory instead of a copy.
Replies with big buffers travel the same way. Off with ``SK_SHM_BUFFERS=0`` (and off Linux).

Frames: both directions use the frame format of ``multiprocessing.connection`` (see
:mod:`suitkaise_processing._private.wire`). Every frame read is checked against :data:`FRAME_LIMIT`
before its body is read, and the body is read in pieces, so memory grows only with the bytes that
really arrived: the client reads with :func:`read_message`, the coordinator splits its own buffer
with the same check. A negative or too-long length raises
:class:`~suitkaise_processing._private.errors.MessageError`, and the connection it came on is closed.
"""

from __future__ import annotations

import pickle
from multiprocessing.connection import Connection
from typing import Any

from suitkaise_processing._private import bigbuffers
from suitkaise_processing._private.errors import MessageError
from suitkaise_processing._private.fdpass import recv_fd_on
from suitkaise_processing._private.wire import FRAME_LIMIT, decode, encode, read_frame

Path = tuple[tuple[str, Any], ...]

OP_SET = "set"
OP_DEL = "del"
OP_IOP = "iop"
OP_CALL = "call"
OP_NAMES = "names"
OP_CLEAR = "clear"
OP_PING = "ping"
OP_STOP = "stop"
OP_HELLO = "hello"


def read_message(conn: Connection) -> Any:
    """Read and decode one message from ``conn`` (blocking), its length checked against :data:`FRAME_LIMIT`.

    ``EOFError`` when the peer closed between messages, ``OSError`` when the connection broke;
    :class:`MessageError` (after closing ``conn``: the stream is out of step) for a malformed frame.
    """
    try:
        data = read_frame(conn.fileno(), FRAME_LIMIT)
    except MessageError:
        conn.close()
        raise
    if bigbuffers.is_marked(data):  # a reply with a big array: its memory file follows
        return bigbuffers.load(data, recv_fd_on(conn.fileno()), decode)
    return decode(data)


_SCALARS = frozenset({int, float, str, bytes, bool, type(None)})


def _scalar_only(values: Any) -> bool:
    """Whether ``values`` (a tuple) holds only built-in scalars, or tuples/dicts of them, one level deep."""
    for value in values:
        t = type(value)
        if t in _SCALARS:
            continue
        if t is tuple:
            if not all(type(v) in _SCALARS for v in value):
                return False
        elif t is dict:
            if not all(type(k) in _SCALARS and type(v) in _SCALARS for k, v in value.items()):
                return False
        else:
            return False
    return True


def pack(
    op: str, req: int, name: str, slot: int, seq: int, path: Path, args: tuple[Any, ...]
) -> bytes:
    """The bytes of one command (plain pickle for scalar arguments, the wire format otherwise)."""
    if _scalar_only(args) and all(type(key) in _SCALARS for _, key in path):
        payload = pickle.dumps((path, args), pickle.HIGHEST_PROTOCOL)  # decode() reads it as pickle
    else:
        payload = bytes(encode((path, args)))
    return pickle.dumps((op, req, name, slot, seq, payload), pickle.HIGHEST_PROTOCOL)


def pack_write(
    op: str, req: int, name: str, slot: int, seq: int, path: Path, args: tuple[Any, ...]
) -> tuple[bytes, int | None]:
    """:func:`pack` for a write, and the descriptor of the memory file holding its big buffers
    (``None`` if none): send it right after the frame, close it when the write is committed."""
    if not bigbuffers.enabled() or _scalar_only(args):
        return pack(op, req, name, slot, seq, path, args), None
    big = bigbuffers.Collector()
    payload = bytes(encode((path, args), big))
    header = pickle.dumps((op, req, name, slot, seq, payload), pickle.HIGHEST_PROTOCOL)
    if not big.buffers:
        return header, None
    return bigbuffers.pack(header, big.buffers), bigbuffers.write_segment(big.buffers)


Header = tuple[str, int, str, int, int, bytes, "list[memoryview] | None"]


def _header_and_buffers(
    stream: memoryview, *, buffers: list[memoryview]
) -> tuple[Any, list[memoryview]]:
    return pickle.loads(stream), buffers


def unpack_header(data: bytes, fd: int | None = None) -> Header:
    """``(op, req, name, slot, seq, payload, buffers)`` of a command; ``fd``: the memory file that
    followed a marked body (closed here), whose mapping ``buffers`` view (else ``None``)."""
    buffers: list[memoryview] | None = None
    if fd is not None:
        header, buffers = bigbuffers.load(data, fd, _header_and_buffers)
    else:
        header = pickle.loads(data)
    op, req, name, slot, seq, payload = header
    return str(op), int(req), str(name), int(slot), int(seq), payload, buffers


def unpack_payload(
    payload: bytes, buffers: list[memoryview] | None = None
) -> tuple[Path, tuple[Any, ...]]:
    """``(path, args)`` of a command's payload (raises what decoding raises)."""
    path, args = decode(payload, buffers)
    return tuple(path), tuple(args)
