"""itertools iterators that pickle cannot take (repeat, cycle) and closed files travel with their
state: what is left of them, or the path of the file."""

from __future__ import annotations

import itertools
import os
import sys
from pathlib import Path

import pytest

import cucumber


def _round_trip(obj: object) -> object:
    return cucumber.deserialize(cucumber.serialize(obj))


def test_finite_repeat_keeps_only_the_values_left() -> None:
    it = itertools.repeat("x", 3)
    assert next(it) == "x"
    assert list(_round_trip(it)) == ["x", "x"]  # type: ignore[call-overload]


def test_exhausted_repeat_stays_empty() -> None:
    it = itertools.repeat(7, 1)
    next(it)
    assert list(_round_trip(it)) == []  # type: ignore[call-overload]


def test_endless_repeat_stays_endless() -> None:
    back = _round_trip(itertools.repeat(5))
    assert list(itertools.islice(back, 4)) == [5, 5, 5, 5]  # type: ignore[call-overload]


def test_cycle_continues_where_it_was_or_says_why_it_cannot() -> None:
    it = itertools.cycle("ab")
    assert next(it) == "a"
    if sys.version_info >= (3, 14):  # itertools.cycle has no __reduce__ any more
        with pytest.raises(cucumber.SerializationError, match="infinite"):
            cucumber.serialize(it)
        return
    if sys.version_info >= (3, 12):  # Python's own warning: pickling itertools ends in 3.14
        with pytest.warns(DeprecationWarning, match="itertools"):
            back = _round_trip(it)
    else:
        back = _round_trip(it)
    assert list(itertools.islice(back, 3)) == ["b", "a", "b"]  # type: ignore[call-overload]


@pytest.mark.parametrize(("mode", "kind"), [("r", "text"), ("rb", "buffered"), ("rb", "raw")])
def test_closed_file_with_a_path_comes_back_closed_at_that_path(
    tmp_path: Path, mode: str, kind: str
) -> None:
    path = tmp_path / "data.txt"
    path.write_text("hello")
    f = open(path, mode, buffering=0) if kind == "raw" else open(path, mode)  # noqa: SIM115
    f.close()
    back = _round_trip(f)
    assert back.closed  # type: ignore[attr-defined]
    assert back.name == str(path)  # type: ignore[attr-defined]
    assert type(back) is type(f)


def test_closed_file_without_a_path_cannot_travel(tmp_path: Path) -> None:
    fd = os.open(tmp_path / "x", os.O_CREAT | os.O_RDWR)
    f = open(fd, "rb")  # noqa: SIM115  (its name is the descriptor number)
    f.close()
    with pytest.raises(cucumber.SerializationError, match="closed file without a path"):
        cucumber.serialize(f)
