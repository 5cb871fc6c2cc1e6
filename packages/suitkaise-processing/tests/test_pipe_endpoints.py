"""Pipe: pairs, anchor/point rules, send/recv/poll/close, endpoint errors, and a point inside an Skprocess."""

from __future__ import annotations

import pickle
from typing import Any

import pytest

import cucumber
from suitkaise_processing import Pipe, PipeEndpointError, ProcessError, Skprocess
from suitkaise_processing._private.wire import decode, encode


def test_pair_round_trip_in_one_process() -> None:
    anchor, point = Pipe.pair()
    with anchor, point:
        anchor.send({"data": [1, 2, 3]})
        assert point.recv() == {"data": [1, 2, 3]}
        point.send({"status": "received"})
        assert anchor.recv(timeout=5) == {"status": "received"}


def test_send_and_recv_carry_what_pickle_cannot() -> None:
    anchor, point = Pipe.pair()
    with anchor, point:
        factor = 3
        anchor.send({"fn": lambda x: x * factor, "n": 1j})
        got = point.recv()
        assert got["fn"](2) == 6
        assert got["n"] == 1j


def test_encoding_plain_data_uses_pickle_and_falls_back_to_cucumber() -> None:
    plain = {"a": [1, 2.5, "x", b"y", (None, True)], "b": {1, 2}}
    data = encode(plain)
    assert bytes(data)[:1] == b"\x80"
    assert pickle.loads(data) == plain
    assert decode(data) == plain
    other = encode({"f": len, "g": lambda: 1})
    assert bytes(other)[:1] != b"\x80"
    assert decode(other)["f"] is len
    assert cucumber.deserialize(bytes(other))["g"]() == 1


def test_anchor_is_locked_for_good_and_point_locks_and_unlocks() -> None:
    anchor, point = Pipe.pair()
    with anchor, point:
        assert anchor.locked is True
        anchor.lock()
        with pytest.raises(PipeEndpointError):
            anchor.unlock()
        assert point.locked is False
        point.lock()
        assert point.locked is True
        point.unlock()
        assert point.locked is False


def test_locked_endpoints_refuse_to_travel() -> None:
    anchor, point = Pipe.pair()
    with anchor, point:
        with pytest.raises(cucumber.SerializationError) as info:
            cucumber.serialize(anchor)
        causes = []
        err: BaseException | None = info.value
        while err is not None:
            causes.append(err)
            err = err.__cause__ or err.__context__
        assert any(
            isinstance(c, PipeEndpointError) and "anchor is locked" in str(c) for c in causes
        )
        with pytest.raises(PipeEndpointError, match="anchor"):
            pickle.dumps(anchor)
        point.lock()
        with pytest.raises(PipeEndpointError, match="unlock"):
            pickle.dumps(point)


def test_one_way_pipe_directions() -> None:
    anchor, point = Pipe.pair(one_way=True)
    with anchor, point:
        anchor.send("hello")
        assert point.recv() == "hello"
        with pytest.raises(PipeEndpointError, match="receive-only"):
            point.send("back")
        with pytest.raises(PipeEndpointError, match="send-only"):
            anchor.recv()


def test_recv_timeout_and_poll() -> None:
    anchor, point = Pipe.pair()
    with anchor, point:
        assert point.poll(0) is False
        with pytest.raises(TimeoutError):
            point.recv(timeout=0.05)
        anchor.send(1)
        assert point.poll(5) is True
        assert point.recv() == 1


def test_closed_endpoint_and_closed_peer() -> None:
    anchor, point = Pipe.pair()
    point.close()
    point.close()  # idempotent
    assert point.closed
    with pytest.raises(PipeEndpointError):
        point.recv()
    with pytest.raises(PipeEndpointError):
        point.send(1)
    with pytest.raises(EOFError):
        anchor.recv(timeout=5)
    with pytest.raises(PipeEndpointError):
        anchor.send("x" * 100_000)
    anchor.close()


def test_pipe_cannot_be_instantiated_directly() -> None:
    with pytest.raises(TypeError, match=r"Pipe\.pair"):
        Pipe()


# --- a point inside an Skprocess (the how-to's example) -------------------------------------------


def process_command(command: dict[str, Any]) -> dict[str, Any]:
    if command["action"] == "compute":
        return {"result": command["value"] * 2}
    return {"error": "unknown action"}


class PipeProcess(Skprocess):
    def __init__(self, pipe_point: Any) -> None:
        self.pipe = pipe_point
        self.process_config.runs = 1

    def __run__(self) -> None:
        # receive command
        command = self.pipe.recv()
        # process it
        result = process_command(command)
        # send result back
        self.pipe.send(result)


@pytest.mark.timeout(60)
def test_howto_pipe_with_skprocess() -> None:
    anchor, point = Pipe.pair()
    process = PipeProcess(point)
    process.start()
    anchor.send({"action": "compute", "value": 42})
    result = anchor.recv(timeout=30)
    assert result == {"result": 84}
    process.wait()
    # the point went to the child; once the child is done, the anchor sees EOF instead of hanging
    with pytest.raises(EOFError):
        anchor.recv(timeout=30)
    anchor.close()


class LockedHolder(Skprocess):
    def __init__(self, endpoint: Any) -> None:
        self.endpoint = endpoint

    def __run__(self) -> None:
        pass


@pytest.mark.timeout(60)
def test_skprocess_holding_a_locked_endpoint_does_not_start() -> None:
    anchor, point = Pipe.pair()
    with anchor, point:
        point.lock()
        with pytest.raises(PipeEndpointError, match="unlock"):
            LockedHolder(point).start()
        with pytest.raises(PipeEndpointError, match="anchor"):
            LockedHolder(anchor).start()


class Streamer(Skprocess):
    """Streams numbered chunks through its point for several runs, with a retry in the middle."""

    def __init__(self, point: Any) -> None:
        self.point = point
        self.process_config.runs = 3
        self.process_config.lives = 2
        self.failed_once = False

    def __run__(self) -> None:
        self.point.send(("run", self.current_run))

    def __result__(self) -> str:
        return "streamed"


@pytest.mark.timeout(60)
def test_point_survives_state_snapshots_of_lives() -> None:
    anchor, point = Pipe.pair()
    process = Streamer(point)
    assert process.run() == "streamed"
    assert [anchor.recv(timeout=10) for _ in range(3)] == [("run", 0), ("run", 1), ("run", 2)]
    # the parent's copy of the point is closed after the process finished
    assert point.closed
    with pytest.raises(ProcessError):
        point.send(1)
    anchor.close()


# --- large messages (memory-file path on Linux, socket elsewhere) ---------------------------------


class BigEcho(Skprocess):
    def __init__(self, point: Any) -> None:
        self.point = point
        self.process_config.runs = 1

    def __run__(self) -> None:
        for _ in range(3):
            got = self.point.recv(timeout=60)
            self.point.send(got)
        self.tell(b"t" * 6_000_000)


@pytest.mark.timeout(120)
def test_large_messages_round_trip_through_a_child() -> None:
    anchor, point = Pipe.pair()
    process = BigEcho(point)
    process.start()
    payloads: list[Any] = [
        b"\x01" * 8_000_000,
        bytearray(b"\x02" * 5_000_000),
        {"blob": b"\x03" * 6_000_000, "n": 1, "f": (lambda: 7)},
    ]
    for payload in payloads:
        anchor.send(payload)
        back = anchor.recv(timeout=60)
        assert type(back) is type(payload)
        if isinstance(payload, dict):
            assert back["blob"] == payload["blob"]
            assert back["f"]() == 7
        else:
            assert back == payload
    assert process.listen(timeout=60) == b"t" * 6_000_000
    process.wait()
    anchor.close()


def test_large_message_to_a_closed_peer_raises() -> None:
    anchor, point = Pipe.pair()
    point.close()
    with pytest.raises(PipeEndpointError):
        anchor.send(b"x" * 5_000_000)
    anchor.close()


@pytest.mark.parametrize("one_way", [False, True])
def test_send_never_waits_for_the_reader_and_keeps_order(one_way: bool) -> None:
    anchor, point = Pipe.pair(one_way=one_way)
    with anchor, point:
        big = bytes(range(256)) * 4096  # 1 MiB: more than the socket buffer
        anchor.send(big)  # returns although nobody reads yet (same thread)
        for i in range(3000):
            anchor.send({"i": i, "pad": "x" * 200})
        anchor.send(bytearray(b"y" * 5_000_000))
        assert point.recv(timeout=30) == big
        assert [point.recv(timeout=30)["i"] for _ in range(3000)] == list(range(3000))
        assert point.recv(timeout=30) == bytearray(b"y" * 5_000_000)


def test_close_with_a_backlog_delivers_it_then_eof() -> None:
    anchor, point = Pipe.pair()
    payload = b"z" * 2_000_000
    anchor.send(payload)
    anchor.send("last")
    anchor.close()
    assert point.recv(timeout=30) == payload
    assert point.recv(timeout=30) == "last"
    with pytest.raises(EOFError):
        point.recv(timeout=30)
    point.close()
