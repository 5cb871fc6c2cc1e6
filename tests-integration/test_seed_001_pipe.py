"""Seed 001, section ``Pipe``: every code block through ``suitkaise.processing``."""

from __future__ import annotations

import os
import threading
from typing import Any

import kit_examples_workers as w
import pytest

from suitkaise.processing import Pipe, PipeEndpointError, Skprocess

pytestmark = pytest.mark.timeout(120)


def test_create_a_pipe_pair_bidirectional() -> None:
    # bidirectional (default)
    anchor, point = Pipe.pair()
    try:
        # from anchor (parent)
        anchor.send({"data": [1, 2, 3]})
        # from point (subprocess side, here in the same process)
        data = point.recv()
        assert data == {"data": [1, 2, 3]}
        point.send({"status": "received"})
        response = anchor.recv()
        assert response == {"status": "received"}
    finally:
        anchor.close()
        point.close()


def test_one_way_pipe_anchor_sends_point_receives() -> None:
    # one-way
    anchor, point = Pipe.pair(one_way=True)
    try:
        anchor.send(("hello", 1))
        assert point.recv() == ("hello", 1)
        with pytest.raises(PipeEndpointError):
            point.send("the point of a one-way pipe only receives")
        with pytest.raises(PipeEndpointError):
            anchor.recv()
    finally:
        anchor.close()
        point.close()


def test_anything_cucumber_carries_goes_through() -> None:
    anchor, point = Pipe.pair()
    try:
        anchor.send(lambda x: x + 1)
        assert point.recv()(41) == 42
        point.send({"set": {1, 2}, "bytes": b"\x00" * 1000})
        assert anchor.recv() == {"set": {1, 2}, "bytes": b"\x00" * 1000}
    finally:
        anchor.close()
        point.close()


def test_send_is_non_blocking_even_for_a_large_message() -> None:
    """The how-to: ``send(obj)`` is non-blocking. A 1 MiB message is larger than the OS pipe buffer."""
    anchor, point = Pipe.pair()
    big = bytes(range(256)) * 4096
    sender = threading.Thread(target=anchor.send, args=(big,), daemon=True)
    try:
        sender.start()
        sender.join(10)
        returned = not sender.is_alive()
        assert point.recv(timeout=60) == big  # (also unblocks a sender that was stuck)
        sender.join(30)
        assert returned, "anchor.send() of 1 MiB blocked until the other end read it"
    finally:
        anchor.close()
        point.close()


# --- Usage with Skprocess --------------------------------------------------------------------------


class PipeProcess(Skprocess):
    def __init__(self, pipe_point: Any) -> None:
        self.pipe = pipe_point
        self.process_config.runs = 1

    def __run__(self) -> None:
        # receive command
        command = self.pipe.recv()

        # process it
        result = w.process_command(command)

        # send result back
        self.pipe.send(result)


def test_usage_with_skprocess() -> None:
    # parent
    anchor, point = Pipe.pair()

    process = PipeProcess(point)
    process.start()

    anchor.send({"action": "compute", "value": 42})
    result = anchor.recv()

    assert process.wait(timeout=60) is True
    assert result["result"] == 84
    assert result["pid"] != os.getpid()  # answered by the subprocess
    anchor.close()


class EchoMany(Skprocess):
    """A one-way point travels too: the child receives until ``None``, then reports by tell()."""

    def __init__(self, pipe_point: Any) -> None:
        self.pipe = pipe_point
        self.process_config.runs = 1
        self.got: list[int] = []

    def __run__(self) -> None:
        while (item := self.pipe.recv()) is not None:
            self.got.append(item)

    def __result__(self) -> list[int]:
        return self.got


def test_one_way_point_in_an_skprocess() -> None:
    anchor, point = Pipe.pair(one_way=True)
    process = EchoMany(point)
    process.start()
    for i in range(100):
        anchor.send(i)
    anchor.send(None)
    assert process.result(timeout=60) == list(range(100))
    anchor.close()


class HoldsAnchor(Skprocess):
    def __init__(self, anchor: Any) -> None:
        self.anchor = anchor

    def __run__(self) -> None:
        pass


# --- Anchor vs Point; Lock/Unlock ---------------------------------------------------------------------


def test_lock_and_unlock() -> None:
    anchor, point = Pipe.pair()
    try:
        assert anchor.locked is True  # always locked
        assert point.locked is False  # unlocked by default

        point.lock()  # prevent transfer
        assert point.locked is True
        with pytest.raises(PipeEndpointError):
            PipeProcess(point).start()
        point.unlock()  # allow transfer
        assert point.locked is False

        anchor.lock()  # always locked
        with pytest.raises(PipeEndpointError):
            anchor.unlock()  # raises PipeEndpointError
        assert anchor.locked is True
    finally:
        anchor.close()
        point.close()


def test_the_anchor_cannot_be_transferred() -> None:
    anchor, point = Pipe.pair()
    try:
        with pytest.raises(PipeEndpointError):
            HoldsAnchor(anchor).start()
        # the pair still works after the refused transfer
        anchor.send(1)
        assert point.recv() == 1
    finally:
        anchor.close()
        point.close()
