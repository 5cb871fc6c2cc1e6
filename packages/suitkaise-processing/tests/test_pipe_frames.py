"""Frames read from a connection are bounded: a corrupt or hostile length is a clear error, not an
allocation (Pipe, Skprocess, Pool and Share all read through ``wire.read_frame``)."""

from __future__ import annotations

import os
import socket
import struct
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from multiprocessing.connection import Connection

import pytest

from suitkaise_processing import PipeEndpointError
from suitkaise_processing._private import wire
from suitkaise_processing._private.channel import _LARGE_MARK, Channel
from suitkaise_processing._private.errors import MessageError
from suitkaise_processing._private.fdpass import send_fd


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    a, b = socket.socketpair()
    yield a, b
    a.close()
    b.close()


def _big_header(size: int) -> bytes:
    return struct.pack("!i", -1) + struct.pack("!Q", size)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("size", [0, 1, 4096, (1 << 20) + 3, (5 << 20) + 1])
def test_frames_round_trip(pair: tuple[socket.socket, socket.socket], size: int) -> None:
    writer, reader = pair
    body = os.urandom(size)
    sender = threading.Thread(target=writer.sendall, args=(wire.frame_header(size) + body,))
    sender.start()
    assert wire.read_frame(reader.fileno()) == body
    sender.join()


def test_frames_over_2_gib_use_the_long_header() -> None:
    assert wire.frame_header(0x7FFFFFFF) == struct.pack("!i", 0x7FFFFFFF)
    assert wire.frame_header(1 << 31) == _big_header(1 << 31)


def test_an_announced_length_beyond_the_limit_is_refused_before_reading(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    writer, reader = pair
    writer.sendall(_big_header(2**62))
    with pytest.raises(MessageError, match=r"4611686018427387904 bytes, more than the limit"):
        wire.read_frame(reader.fileno())


def test_a_negative_length_is_refused(pair: tuple[socket.socket, socket.socket]) -> None:
    writer, reader = pair
    writer.sendall(struct.pack("!i", -7) + b"garbage")
    with pytest.raises(MessageError, match="negative length"):
        wire.read_frame(reader.fileno())


def test_a_length_longer_than_what_arrives_is_an_error(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    writer, reader = pair
    writer.sendall(struct.pack("!i", 5000) + b"x" * 100)
    writer.shutdown(socket.SHUT_WR)
    with pytest.raises(
        MessageError, match="announced 5000 bytes but the connection closed after 100"
    ):
        wire.read_frame(reader.fileno())


def test_a_header_cut_short_is_an_error(pair: tuple[socket.socket, socket.socket]) -> None:
    writer, reader = pair
    writer.sendall(b"\x00\x00")
    writer.shutdown(socket.SHUT_WR)
    with pytest.raises(MessageError, match="middle of a frame's length"):
        wire.read_frame(reader.fileno())


def test_end_between_frames_is_eof(pair: tuple[socket.socket, socket.socket]) -> None:
    writer, reader = pair
    writer.shutdown(socket.SHUT_WR)
    with pytest.raises(EOFError):
        wire.read_frame(reader.fileno())


_CAPPED = textwrap.dedent(
    """
    import resource, socket, struct, sys
    from suitkaise_processing._private import wire
    from suitkaise_processing._private.errors import MessageError

    cap = 1 << 30
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    cases = {
        "2**62 announced": struct.pack("!i", -1) + struct.pack("!Q", 2**62),
        "2 GiB announced, 1 KiB sent": struct.pack("!i", 0x7FFFFFFF) + b"g" * 1024,
        "64 GiB announced, 3 MiB sent": struct.pack("!i", -1) + struct.pack("!Q", 64 << 30)
        + b"g" * (3 << 20),
        "garbage": bytes(range(256)) * 64,
    }
    for name, data in cases.items():
        a, b = socket.socketpair()
        a.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 8 << 20)
        b.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        import threading
        t = threading.Thread(target=lambda: (a.sendall(data), a.shutdown(socket.SHUT_WR)))
        t.start()
        try:
            wire.read_frame(b.fileno())
        except MessageError as exc:
            print(name, "->", exc)
        else:
            sys.exit(f"{name}: no error")
        t.join()
        a.close(); b.close()
    # Peak RSS of this program's own memory (VmHWM; ru_maxrss would start at the RSS of the
    # process that forked us, the test runner, since Linux carries it across fork and exec).
    with open("/proc/self/status") as status:
        hwm_kb = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    print("maxrss_mb", hwm_kb // 1024)
    """
)


@pytest.mark.timeout(120)
def test_hostile_lengths_stay_within_a_memory_cap() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _CAPPED], capture_output=True, text=True, timeout=100
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 5, done.stdout
    assert "more than the limit" in lines[0]
    assert "closed after 1024" in lines[1]
    assert f"closed after {3 << 20}" in lines[2]
    rss_mb = int(lines[-1].split()[1])
    assert rss_mb < 200, done.stdout


def _channel_pair() -> tuple[Channel, socket.socket]:
    mine, theirs = socket.socketpair()
    conn = Connection(mine.detach())
    return Channel(conn), theirs


def test_channel_refuses_a_huge_frame_and_closes() -> None:
    channel, peer = _channel_pair()
    try:
        peer.sendall(_big_header(2**62))
        with pytest.raises(MessageError, match="more than the limit"):
            channel.recv(timeout=10)
        assert channel.closed
        with pytest.raises(PipeEndpointError, match="closed"):
            channel.recv(timeout=1)
    finally:
        peer.close()
        channel.close()


def test_channel_refuses_a_large_message_whose_memory_file_is_smaller() -> None:
    channel, peer = _channel_pair()
    fd = os.memfd_create("sk_test_lie")
    try:
        os.ftruncate(fd, 10)
        header = _LARGE_MARK + b"P" + struct.pack("!Q", 1 << 30)
        peer.sendall(wire.frame_header(len(header)) + header)
        send_fd(peer, fd)
        with pytest.raises(MessageError, match="holds 10"):
            channel.recv(timeout=10)
    finally:
        os.close(fd)
        peer.close()
        channel.close()
