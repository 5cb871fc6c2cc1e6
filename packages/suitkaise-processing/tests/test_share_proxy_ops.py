"""Operators and methods of the proxies a Share hands out for lists, dicts, sets and scalars:
each behaves like the plain value it stands for, and writes land in the Share."""

from __future__ import annotations

import copy
import pickle
from collections.abc import Iterator

import pytest

from suitkaise_processing import Share

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def share() -> Iterator[Share]:
    s = Share()
    try:
        yield s
    finally:
        s.stop()


def test_list_proxy_reads_like_a_list(share: Share) -> None:
    share.items = [3, 1, 2]
    items = share.items
    assert str(items) == "[3, 1, 2]"
    assert f"{items!s:>10}" == " [3, 1, 2]"
    assert items != [3, 1]
    assert not (items != [3, 1, 2])  # noqa: SIM202 (the proxy's __ne__ is under test)
    assert list(reversed(items)) == [2, 1, 3]
    assert items + [4] == [3, 1, 2, 4]  # noqa: RUF005 (__add__ is under test)
    assert items + share.items == [3, 1, 2, 3, 1, 2]  # a proxy on the right is its plain value


def test_list_proxy_copies_are_plain_and_independent(share: Share) -> None:
    share.nested = [[1], [2]]
    shallow = copy.copy(share.nested)
    deep = copy.deepcopy(share.nested)
    assert type(shallow) is list
    assert type(deep) is list
    assert deep == [[1], [2]]
    deep[0].append(9)
    assert share.nested == [[1], [2]]
    # a proxy that crosses a process boundary (pickling) becomes a copy of its value
    assert pickle.loads(pickle.dumps(share.nested)) == [[1], [2]]
    assert type(pickle.loads(pickle.dumps(share.nested))) is list


def test_list_proxy_writes(share: Share) -> None:
    share.items = [3, 1, 2]
    share.seq = [0, 1, 2, 3]
    share.seq[1:3] = [share.items, 7]  # slice assignment stores plain values
    assert share.seq == [0, [3, 1, 2], 7, 3]
    share.seq.reverse()
    assert share.seq == [3, 7, [3, 1, 2], 0]
    share.seq = [1, 2]
    share.seq *= 3
    assert share.seq == [1, 2, 1, 2, 1, 2]


def test_dict_proxy_operators_and_atomic_methods(share: Share) -> None:
    share.d = {"a": 1, "b": 2}
    assert share.d | {"c": 3} == {"a": 1, "b": 2, "c": 3}
    assert share.d.popitem() == ("b", 2)  # the last inserted pair
    assert share.d == {"a": 1}
    share.d.clear()
    assert share.d == {}


def test_set_proxy_in_place_operations(share: Share) -> None:
    share.s = {1, 2, 3, 4}
    share.s.intersection_update([2, 3, 4, 5], {3, 4, 6})
    assert share.s == {3, 4}
    share.s.symmetric_difference_update([4, 5])
    assert share.s == {3, 5}
    share.s &= {3, 5, 7}
    assert share.s == {3, 5}
    share.s ^= {5, 8}
    assert share.s == {3, 8}
    assert share.s | {1} == {1, 3, 8}
    snapshot = share.s.copy()
    assert type(snapshot) is set
    assert snapshot == {3, 8}
    assert share.s.union({0}) == {0, 3, 8}  # read-only set methods run on a snapshot
    assert share.s.issubset({3, 8, 9})
    with pytest.raises(AttributeError):
        share.s._private_name  # noqa: B018
    share.s.clear()
    assert share.s == set()


def test_scalar_views_pickle_as_plain_values(share: Share) -> None:
    share.f = 2.5
    share.text = "hi"
    f, text = share.f, share.text
    assert f == 2.5
    assert text == "hi"
    assert type(pickle.loads(pickle.dumps(f))) is float
    assert pickle.loads(pickle.dumps(f)) == 2.5
    assert type(pickle.loads(pickle.dumps(text))) is str
    assert pickle.loads(pickle.dumps(text)) == "hi"


def test_list_proxy_compares_and_repeats_like_a_list(share: Share) -> None:
    share.nums = [1, 2]
    nums = share.nums
    assert format(nums, "") == "[1, 2]"
    assert nums < [1, 3]
    assert nums <= [1, 2]
    assert nums > [1]
    assert nums >= [1, 2]
    assert [0] + nums == [0, 1, 2]  # noqa: RUF005 (__radd__ is under test)
    assert nums * 2 == [1, 2, 1, 2]
    assert 2 * nums == [1, 2, 1, 2]
    assert share.nums == [1, 2]  # none of these wrote


def test_set_proxy_binary_operators_return_plain_sets(share: Share) -> None:
    share.bits = {1, 2, 3}
    assert share.bits & {2, 3, 4} == {2, 3}
    assert share.bits - {1} == {2, 3}
    assert share.bits ^ {3, 4} == {1, 2, 4}
    assert share.bits == {1, 2, 3}


def test_iterator_proxy_hands_out_each_value_once(share: Share) -> None:
    share.it = iter(range(3))
    it = share.it
    assert repr(it) == "<shared iterator share.it>"
    assert bool(it) is True
    with pytest.raises(TypeError, match="no len"):
        len(it)
    assert iter(it) is it
    assert next(it) == 0
    assert list(share.it) == [1, 2]


def test_object_proxy_attributes_and_remote_methods(share: Share) -> None:
    from share_workers import Accumulator

    share.acc = Accumulator()
    add = share.acc.add
    assert repr(add) == "<shared method share.acc...add>"
    assert add(3) == 3
    share.acc.total += 4  # an augmented assignment is sent as one operation
    assert share.acc.total == 7
    share.acc.note = "kept"
    assert share.acc.note == "kept"
    del share.acc.note
    with pytest.raises(AttributeError):
        share.acc.note  # noqa: B018
    with pytest.raises(AttributeError):
        share.acc.__not_a_dunder__  # noqa: B018
