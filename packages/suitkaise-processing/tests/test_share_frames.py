"""Frames a Share endpoint reads are checked against a length bound before anything is allocated.

A malformed frame (a negative length, or one above ``wire.FRAME_LIMIT``) costs the sender its
connection and a :class:`MessageError`; it never makes the coordinator wait for bytes that will
not come, nor allocate what the header announces.
"""

from __future__ import annotations

import os
import socket
import struct
from multiprocessing.connection import Client, Connection

import pytest

from suitkaise_processing import MessageError, ProcessError, Share
from suitkaise_processing._private.share.protocol import read_message
from suitkaise_processing._private.wire import FRAME_LIMIT, encode

pytestmark = pytest.mark.timeout(120)


def _authenticated_connection(share: Share) -> Connection:
    info = share._sk_info
    return Client(info.address, authkey=info.authkey)


@pytest.mark.parametrize(
    "header",
    [
        pytest.param(struct.pack("!i", -5), id="negative-length"),
        pytest.param(struct.pack("!i", -1) + struct.pack("!Q", FRAME_LIMIT + 1), id="over-limit"),
    ],
)
def test_coordinator_drops_a_client_that_sends_a_malformed_frame(
    header: bytes, capfd: pytest.CaptureFixture[str]
) -> None:
    share = Share()
    try:
        share.counter = 1
        conn = _authenticated_connection(share)
        try:
            os.write(conn.fileno(), header + b"x" * 16)
            # the coordinator closes the connection instead of waiting for the announced bytes
            assert conn.poll(30)
            with pytest.raises(EOFError):
                conn.recv_bytes()
        finally:
            conn.close()
        # the Share keeps serving its well-behaved clients
        share.counter += 41
        assert share.counter == 42
        assert "dropped a client connection" in capfd.readouterr().err
    finally:
        share.stop()


def _pair() -> tuple[Connection, socket.socket]:
    ours, theirs = socket.socketpair()
    return Connection(ours.detach()), theirs


def test_read_message_decodes_a_well_formed_frame() -> None:
    conn, peer = _pair()
    try:
        body = bytes(encode((7, 1, {"value": [1, 2, 3]})))
        peer.sendall(struct.pack("!i", len(body)) + body)
        assert read_message(conn) == (7, 1, {"value": [1, 2, 3]})
        peer.close()
        with pytest.raises(EOFError):
            read_message(conn)
    finally:
        conn.close()
        peer.close()


@pytest.mark.parametrize(
    "header",
    [
        pytest.param(struct.pack("!i", -7), id="negative-length"),
        pytest.param(struct.pack("!i", -1) + struct.pack("!Q", FRAME_LIMIT + 1), id="over-limit"),
    ],
)
def test_read_message_rejects_a_malformed_frame_and_closes_the_connection(header: bytes) -> None:
    conn, peer = _pair()
    try:
        peer.sendall(header)
        with pytest.raises(MessageError, match="out of step") as info:
            read_message(conn)
        assert isinstance(info.value, ProcessError)
        assert isinstance(info.value, ValueError)
        assert conn.closed
    finally:
        conn.close()
        peer.close()


def test_read_message_reports_a_frame_cut_short() -> None:
    conn, peer = _pair()
    try:
        peer.sendall(struct.pack("!i", 1000) + b"only a few bytes")
        peer.close()
        with pytest.raises(MessageError, match="closed after 16"):
            read_message(conn)
        assert conn.closed
    finally:
        conn.close()
