"""``wire.encode`` reuses one plain pickler per thread: each message must come out as if encoded alone.

The reuse must survive what can happen inside a dump: an object whose ``__reduce__`` encodes another
message on the same thread, a dump that fails half-way (the message then goes through cucumber), a
big message, and many threads encoding at once.
"""

from __future__ import annotations

import pickle
import threading
from typing import Any

import numpy as np

from suitkaise_processing._private import bigbuffers, wire


class EncodesWhilePickled:
    """Encodes a message of its own while it is being pickled (re-enters ``encode``)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __reduce__(self) -> tuple[Any, ...]:
        nested = wire.encode({"nested": self.inner})
        return (_rebuild, (bytes(nested),))


def _rebuild(nested: bytes) -> dict[str, Any]:
    value: dict[str, Any] = wire.decode(nested)
    return value


def test_messages_encoded_one_after_another_decode_alike() -> None:
    messages = [{"id": i, "name": "x" * i, "values": list(range(i))} for i in range(50)]
    encoded = [bytes(wire.encode(m)) for m in messages]
    assert [wire.decode(e) for e in encoded] == messages
    # the same bytes as a pickler of its own (no memo carried over from the message before)
    assert encoded == [pickle.dumps(m, wire.PROTOCOL) for m in messages]


def test_an_object_that_encodes_while_being_pickled() -> None:
    data = wire.encode([1, EncodesWhilePickled([2, 3]), 4])
    assert wire.decode(data) == [1, {"nested": [2, 3]}, 4]
    assert wire.decode(wire.encode({"after": 5})) == {"after": 5}


def test_a_dump_that_fails_half_way_goes_to_cucumber_and_the_next_message_is_clean() -> None:
    first = wire.encode({"a": [1, 2, 3], "f": lambda x: x + 1})  # the lambda stops the C pickler
    assert not wire.is_pickle(first)
    assert wire.decode(first)["f"](1) == 2
    second = wire.encode({"b": 1})
    assert bytes(second) == pickle.dumps({"b": 1}, wire.PROTOCOL)


def test_big_buffers_are_collected_and_small_messages_after_them_stay_in_band() -> None:
    array = np.arange(2_000_000, dtype=np.float64)
    big = bigbuffers.Collector()
    stream = wire.encode({"array": array}, big)
    assert len(big.buffers) == 1
    assert big.nbytes == array.nbytes
    assert len(stream) < 1024
    assert (wire.decode(stream, big.buffers)["array"] == array).all()
    in_band = wire.encode({"array": array})  # no collector: the array is in the stream
    assert len(in_band) > array.nbytes
    assert (wire.decode(in_band)["array"] == array).all()
    assert wire.decode(wire.encode({"small": 1})) == {"small": 1}


def test_threads_encoding_at_once_each_get_their_own_messages() -> None:
    start = threading.Barrier(8)
    wrong: list[int] = []

    def work(t: int) -> None:
        start.wait()
        for i in range(2000):
            message = {"thread": t, "i": i, "values": [t] * (i % 7)}
            if wire.decode(wire.encode(message)) != message:
                wrong.append(t)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == []
