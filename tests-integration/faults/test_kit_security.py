"""Security bars (RELIABILITY.md): only holders of the key talk to a Share's coordinator; our shared memory
and semaphores are owner-only (0600)."""

from __future__ import annotations

import multiprocessing
import os
import pickle
import queue
import socket
import stat
import sys
import threading
import uuid
from collections.abc import Iterator
from multiprocessing import AuthenticationError
from multiprocessing.connection import Client

import kit_share_workers as sw
import pytest

from suitkaise.processing import Share
from suitkaise.shared_counter import SharedMemoryCounter

pytestmark = pytest.mark.timeout(120)

linux_only = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="/dev/shm is visible as files on Linux only"
)


@pytest.fixture
def share() -> Iterator[Share]:
    s = Share()
    try:
        yield s
    finally:
        s.stop()


def test_wrong_authkey_is_refused_and_nothing_changes(share: Share) -> None:
    share.counter = 5
    info = share._sk_info  # internal: where the coordinator listens
    assert info.address
    with pytest.raises(AuthenticationError):
        Client(info.address, family="AF_UNIX", authkey=b"not the key" * 3)
    assert share.counter == 5
    share.counter += 1
    assert share.counter == 6  # the coordinator survived the attempt
    assert share.has_error is False


def test_a_client_without_a_key_cannot_inject_a_command(share: Share) -> None:
    share.counter = 5
    # authkey=None: multiprocessing's Client skips the handshake and just sends
    conn = Client(share._sk_info.address, family="AF_UNIX", authkey=None)
    try:
        command = pickle.dumps(("set", "counter", (), (666,)))
        try:
            conn.send_bytes(command)
            conn.send_bytes(command)
        except OSError:
            pass  # refused: the coordinator hung up
    finally:
        conn.close()
    assert share.counter == 5
    share.counter += 1
    assert share.counter == 6
    assert share.has_error is False


@pytest.mark.timeout(150)
def test_a_silent_unauthenticated_peer_does_not_lock_out_other_processes(share: Share) -> None:
    """A connection that never answers the challenge must not stop other processes from connecting."""
    share.counter = 5
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as silent:
        silent.connect(share._sk_info.address)  # connects, then says nothing
        assert _key_holder_can_connect(share), "a silent peer blocks every new connection"
        got = _read_from_another_process(share, 60)
    assert got == 5


def _key_holder_can_connect(share: Share, wait: float = 10.0) -> bool:
    """Whether a new client WITH the key completes the handshake within ``wait`` s (as a new process would)."""
    info = share._sk_info
    done: list[object] = []

    def connect() -> None:
        try:
            conn = Client(info.address, family="AF_UNIX", authkey=info.authkey)
        except BaseException as exc:
            done.append(exc)
            return
        done.append("connected")
        conn.close()

    thread = threading.Thread(target=connect, daemon=True)  # stuck forever if nobody accepts
    thread.start()
    thread.join(wait)
    return done == ["connected"]


def _read_from_another_process(share: Share, wait: float) -> object:
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    reader = ctx.Process(target=sw.read_counter_into, args=(share, out))
    reader.start()
    try:
        return out.get(timeout=wait)
    except queue.Empty:
        reader.kill()  # stuck: no need to wait for it
        return f"nothing within {wait} s"
    finally:
        reader.join(30)
        if reader.is_alive():
            reader.kill()
            reader.join(10)
        out.close()
        out.join_thread()


@pytest.mark.timeout(150)
@pytest.mark.parametrize(
    "payload",
    [b"\x00" * 64, b"#CHALLENGE#" + b"\x01" * 32, b"\xff" * 4096],
    ids=["zeros", "fake-challenge", "huge-length"],
)
def test_raw_garbage_on_the_socket_cannot_inject_or_break_anything(
    share: Share, payload: bytes
) -> None:
    share.counter = 1
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as raw:
        raw.settimeout(5)
        raw.connect(share._sk_info.address)
        try:
            raw.sendall(payload)
            raw.recv(1024)
        except OSError:
            pass
    assert share.counter == 1
    share.counter += 1
    assert share.counter == 2
    assert share.has_error is False
    # and other processes can still connect
    assert _key_holder_can_connect(share), "the coordinator no longer accepts connections"
    assert _read_from_another_process(share, 60) == 2


def test_share_socket_directory_is_private(share: Share) -> None:
    directory = os.path.dirname(share._sk_info.address)
    mode = stat.S_IMODE(os.stat(directory).st_mode)
    assert mode & 0o077 == 0, oct(mode)


def _mode(name: str) -> int:
    return stat.S_IMODE(os.stat(os.path.join("/dev/shm", name)).st_mode)


@linux_only
def test_share_segments_are_owner_only(share: Share) -> None:
    share.items = list(range(1000))
    share.text = "x" * 10000
    assert share.items[-1] == 999
    names = [n for n in os.listdir("/dev/shm") if n.startswith(f"sk_{share._sk_id()}_")]
    assert names, "the Share has no segment in /dev/shm"
    assert {n: oct(_mode(n)) for n in names} == {n: oct(0o600) for n in names}


@linux_only
def test_counter_segment_and_semaphores_are_owner_only() -> None:
    run_id = "kit" + uuid.uuid4().hex[:8]
    before = set(os.listdir("/dev/shm"))
    old_umask = os.umask(0)  # even with a permissive umask
    try:
        counter = SharedMemoryCounter("perm", create=True, run_id=run_id)
    finally:
        os.umask(old_umask)
    try:
        with counter.get_lock():
            counter.value += 1
        new = [n for n in set(os.listdir("/dev/shm")) - before if n.startswith(("sk_", "sem.sk_"))]
        ours = [n for n in new if run_id[3:] in n or "perm" in n] or new
        assert ours, "the counter created nothing in /dev/shm"
        assert {n: oct(_mode(n)) for n in ours} == {n: oct(0o600) for n in ours}
    finally:
        counter.unlink()
        counter.close()
