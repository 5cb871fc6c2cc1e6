"""``MessageError`` (a malformed message from another process) is part of the public surface."""

from __future__ import annotations

import os
import pickle

import pytest

import suitkaise_processing
from suitkaise_processing import MessageError, ProcessError
from suitkaise_processing._private.wire import read_frame


def test_message_error_is_exported_and_rooted_at_process_error() -> None:
    assert "MessageError" in suitkaise_processing.__all__
    assert issubclass(MessageError, ProcessError)
    assert issubclass(MessageError, ValueError)  # malformed input, as the built-in says


def test_message_error_is_what_a_malformed_frame_raises() -> None:
    r, w = os.pipe()
    try:
        os.write(w, (-3).to_bytes(4, "big", signed=True))
        with pytest.raises(MessageError, match=r"negative length \(-3\)") as info:
            read_frame(r)
    finally:
        os.close(r)
        os.close(w)
    copy = pickle.loads(pickle.dumps(info.value))  # travels between processes intact
    assert type(copy) is MessageError
    assert str(copy) == str(info.value)


def test_suitkaise_processing_reexports_message_error() -> None:
    import suitkaise.processing

    assert suitkaise.processing.MessageError is MessageError
    assert "MessageError" in suitkaise.processing.__all__
    assert "MessageError" in dir(suitkaise.processing)
