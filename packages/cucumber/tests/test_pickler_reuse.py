"""The shared pickler is retired after a big dump (the C pickler would keep a buffer that large)."""

from __future__ import annotations

import cucumber
from cucumber._private import api


def test_a_big_dump_retires_the_shared_pickler() -> None:
    cucumber.serialize({"a": 1})
    before = api._shared[0]
    cucumber.serialize(list(range(10)))
    assert api._shared[0] is before  # small dumps reuse it
    big = b"x" * (api._BIG_DUMP + 1)
    assert cucumber.deserialize(cucumber.serialize(big)) == big
    assert api._shared[0] is not before
    assert cucumber.deserialize(cucumber.serialize({"a": 1})) == {"a": 1}
