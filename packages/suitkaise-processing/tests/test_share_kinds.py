"""How a Share classifies values, and the values it refuses (with the path to the offending part)."""

from __future__ import annotations

import io
import os
import pickle
from typing import NamedTuple

import pytest

from cucumber import SerializationError
from suitkaise_processing._private.share import kinds
from suitkaise_processing._private.share.layout import KIND_OBJECT, KIND_PLAIN


class Point(NamedTuple):
    x: int
    y: int


class Tagged(list[int]):
    """A list subclass: its own methods must keep working, so it is stored as an object."""

    def total(self) -> int:
        return sum(self)


def test_subclasses_of_immutable_builtins_are_plain_and_list_subclasses_are_objects() -> None:
    assert kinds.kind_of(Point(1, 2)) == KIND_PLAIN
    assert kinds.kind_of(Tagged([1, 2])) == KIND_OBJECT


def test_a_pipe_backed_file_is_refused_with_its_path() -> None:
    r, w = os.pipe()
    with os.fdopen(r, "rb") as reader, os.fdopen(w, "wb"):
        with pytest.raises(
            TypeError, match=r"cannot store share\.x\[1\]\['f'\] in a Share"
        ) as info:
            kinds.check_supported("x", [0, {"f": reader}])
        assert isinstance(info.value, SerializationError)
        assert "use suitkaise_processing.Pipe" in str(info.value)
        # only three levels are inspected: deeper parts are left to the serializer
        kinds.check_supported("x", [[[[reader]]]])


def test_files_without_a_descriptor_and_very_large_dicts_are_accepted() -> None:
    kinds.check_supported("buf", io.StringIO("no descriptor"))
    big = {i: i for i in range(1500)}  # the check looks at the first 1000 items only
    kinds.check_supported("big", big)


def test_the_error_class_pickles_by_reference() -> None:
    cls = kinds.UnsupportedValueError
    assert cls is kinds.unsupported_error_class()
    assert issubclass(cls, TypeError)
    err = pickle.loads(pickle.dumps(cls("cannot store share.x in a Share: ...")))
    assert type(err) is cls
    assert str(err) == "cannot store share.x in a Share: ..."
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        kinds.Nope  # noqa: B018
