"""Lifetime of the memory files of :mod:`bigbuffers`, within one process: a file is busy while a message
holding it is in a socket or mapped anywhere, free again once not, reused then; received views outlive
the sender's file; the cache closes idle files; malformed messages are refused; a forked child starts
with an empty cache."""

from __future__ import annotations

import gc
import os
import pickle
import socket
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from suitkaise_processing._private import bigbuffers, wire
from suitkaise_processing._private.errors import MessageError
from suitkaise_processing._private.fdpass import recv_fd, send_fd

pytestmark = [
    pytest.mark.timeout(60),
    pytest.mark.skipif(not bigbuffers.enabled(), reason="shared-memory buffers need Linux memfd"),
]


@pytest.fixture
def cache(monkeypatch: pytest.MonkeyPatch) -> Iterator[bigbuffers._Cache]:
    """A fresh cache for the test (closed afterwards)."""
    fresh = bigbuffers._Cache()
    monkeypatch.setattr(bigbuffers, "_cache", fresh)
    yield fresh
    fresh.clear()


@pytest.fixture
def sockets() -> Iterator[tuple[socket.socket, socket.socket]]:
    a, b = socket.socketpair()
    yield a, b
    a.close()
    b.close()


def _message(value: Any) -> tuple[bytes, int]:
    big = bigbuffers.Collector()
    stream = wire.encode(value, big)
    assert big.buffers, "the value has no big buffer"
    return bigbuffers.pack(stream, big.buffers), bigbuffers.write_segment(big.buffers)


def _send(sock: socket.socket, fd: int) -> None:
    send_fd(sock, fd)
    os.close(fd)


def _array(seed: int, n: int = 1 << 17) -> np.ndarray:
    return np.arange(n, dtype=np.float64) + seed


def test_small_buffers_stay_in_the_stream_and_big_ones_leave_it() -> None:
    big = bigbuffers.Collector()
    small = np.ones(bigbuffers.THRESHOLD // 8 - 1)
    large = np.ones(bigbuffers.THRESHOLD // 8)
    stream = pickle.dumps([small, large], 5, buffer_callback=big)
    assert [b.nbytes for b in big.buffers] == [large.nbytes]
    assert big.nbytes == large.nbytes
    got = pickle.loads(stream, buffers=big.buffers)
    assert np.array_equal(got[0], small)
    assert np.array_equal(got[1], large)


def test_a_file_is_busy_while_in_flight_or_mapped_and_reused_after(
    cache: bigbuffers._Cache, sockets: tuple[socket.socket, socket.socket]
) -> None:
    a, b = sockets
    body, fd = _message(_array(1))
    (file,) = cache.files
    assert not file.free()  # the description exists before it is sent
    _send(a, fd)
    assert not file.free()  # in the socket
    got = bigbuffers.load(body, recv_fd(b), wire.decode)
    assert not file.free()  # mapped by the receiver
    view = got[10:20]
    del got
    gc.collect()
    assert not file.free()  # a slice keeps the mapping
    assert np.array_equal(view, _array(1)[10:20])
    del view
    assert file.free()
    body, fd = _message(_array(2))
    assert cache.files == [file]  # the same file again, no new one
    _send(a, fd)
    assert np.array_equal(bigbuffers.load(body, recv_fd(b), wire.decode), _array(2))


def test_a_message_never_received_frees_its_file_with_the_socket(
    cache: bigbuffers._Cache,
) -> None:
    a, b = socket.socketpair()
    _body, fd = _message(_array(3))
    _send(a, fd)
    (file,) = cache.files
    assert not file.free()
    a.close()
    b.close()
    assert file.free()


def test_two_messages_in_flight_use_two_files(
    cache: bigbuffers._Cache, sockets: tuple[socket.socket, socket.socket]
) -> None:
    a, b = sockets
    first = _message(_array(4))
    second = _message(_array(5))
    assert len(cache.files) == 2
    for _body, fd in (first, second):
        _send(a, fd)
    one = bigbuffers.load(first[0], recv_fd(b), wire.decode)
    two = bigbuffers.load(second[0], recv_fd(b), wire.decode)
    assert np.array_equal(one, _array(4))
    assert np.array_equal(two, _array(5))


def test_received_views_outlive_the_senders_file(
    cache: bigbuffers._Cache, sockets: tuple[socket.socket, socket.socket]
) -> None:
    a, b = sockets
    body, fd = _message(_array(6))
    _send(a, fd)
    got = bigbuffers.load(body, recv_fd(b), wire.decode)
    cache.clear()  # the sender closes its descriptor and mapping
    assert np.array_equal(got, _array(6))
    got[0] = -1.0  # copy-on-write still works
    assert got[0] == -1.0


def test_idle_files_above_the_cap_are_closed(
    cache: bigbuffers._Cache,
    sockets: tuple[socket.socket, socket.socket],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(bigbuffers, "CACHE_IDLE_BYTES", 2 << 20)
    a, b = sockets
    held = []
    for k in range(5):
        body, fd = _message(_array(k))
        _send(a, fd)
        held.append(bigbuffers.load(body, recv_fd(b), wire.decode))
    assert len(cache.files) == 5  # busy files are kept (1 MiB each)
    del held
    gc.collect()
    body, fd = _message(_array(9))  # reuses one; of the 4 idle: the newest and 2 MiB more stay
    assert len(cache.files) == 4
    os.close(fd)
    body, fd = _message(_array(10, 1 << 19))  # a new 4 MiB file
    newest, spare = cache.files[-1], cache.files[-2]
    assert newest.size == 4 << 20
    assert spare.free()
    assert sum(f.size for f in cache.files if f not in (newest, spare)) <= 2 << 20
    os.close(fd)
    body, fd = _message(_array(11, 1 << 19))  # the 4 MiB file again, kept as the spare
    assert cache.files[-1] is newest
    os.close(fd)


def test_a_body_announcing_more_than_its_file_is_refused_and_the_descriptor_closed(
    cache: bigbuffers._Cache, sockets: tuple[socket.socket, socket.socket]
) -> None:
    a, b = sockets
    body, fd = _message(_array(7))
    _send(a, fd)
    received = recv_fd(b)
    forged = bytearray(body)
    forged[8:16] = (1 << 40).to_bytes(8, "little")
    with pytest.raises(MessageError, match="out of step"):
        bigbuffers.load(bytes(forged), received, wire.decode)
    with pytest.raises(OSError):
        os.fstat(received)
    with pytest.raises(MessageError, match="buffers but holds only"):
        bigbuffers.load(bigbuffers.MARK + (5).to_bytes(4, "little"), os.dup(0), wire.decode)


def test_nbytes_and_marks() -> None:
    body = bigbuffers.pack(b"\x80stream", [memoryview(bytes(10)), memoryview(bytes(7))])
    assert bigbuffers.is_marked(body)
    assert bigbuffers.nbytes(body) == 17
    assert not bigbuffers.is_marked(b"\x80\x05pickle")
    assert bigbuffers.nbytes(b"\x80\x05pickle") == 0


_FORK_SCRIPT = """
import os
from suitkaise_processing._private import bigbuffers
os.close(bigbuffers.write_segment([memoryview(bytes(bigbuffers.THRESHOLD))]))
assert len(bigbuffers._cache.files) == 1
pid = os.fork()
if pid == 0:
    os._exit(len(bigbuffers._cache.files))
_, status = os.waitpid(pid, 0)
print("child files", os.waitstatus_to_exitcode(status))
"""


def test_a_forked_child_starts_with_an_empty_cache() -> None:
    # a fresh interpreter: forking a process without threads
    done = subprocess.run(
        [sys.executable, "-c", _FORK_SCRIPT], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["child", "files", "0"]
