"""Worker exceptions raised by Pool calls are their own type and also RuntimeError (suitkaise 0.4)."""

from __future__ import annotations

import errno
import pickle

import pytest

from suitkaise_processing import Pool, ProcessError
from suitkaise_processing._private.pool._legacy_errors import as_legacy_pool_error
from suitkaise_processing._private.wire import RemoteTraceback

pytestmark = pytest.mark.timeout(60)


class CodedError(Exception):
    def __init__(self, code: int, text: str) -> None:
        super().__init__(code, text)
        self.code = code
        self.text = text


class RefusesSubclassing(Exception):
    def __init_subclass__(cls) -> None:
        raise TypeError("final")


def fail_with_os_error(x: int) -> int:
    raise FileNotFoundError(errno.ENOENT, "no such file", f"/missing/{x}")


def fail_with_coded(x: int) -> int:
    raise CodedError(x, "bad")


def test_builtin_error_is_both_types_and_keeps_fields() -> None:
    with Pool(workers=1) as pool, pytest.raises(RuntimeError) as info:
        pool.map(fail_with_os_error, [7])
    err = info.value
    assert isinstance(err, FileNotFoundError)
    assert type(err).__name__ == "FileNotFoundError"
    assert (err.errno, err.strerror, err.filename) == (errno.ENOENT, "no such file", "/missing/7")
    assert isinstance(err.__cause__, RemoteTraceback)
    assert "fail_with_os_error" in str(err.__cause__)


def test_custom_error_keeps_its_attributes_and_pickles_as_the_original() -> None:
    with Pool(workers=1) as pool, pytest.raises(CodedError) as info:
        pool.map(fail_with_coded, [3])
    err = info.value
    assert isinstance(err, RuntimeError)
    assert (err.code, err.text, err.args) == (3, "bad", (3, "bad"))
    again = pickle.loads(pickle.dumps(err))
    assert type(again) is CodedError
    assert (again.code, again.text) == (3, "bad")


def test_left_unchanged_when_not_needed_or_not_possible() -> None:
    runtime = RuntimeError("already")
    process_error = ProcessError("ours")
    interrupt = KeyboardInterrupt()
    final = RefusesSubclassing("x")
    for exc in (runtime, process_error, interrupt, final):
        assert as_legacy_pool_error(exc) is exc


def test_dual_class_is_cached_per_type() -> None:
    a = as_legacy_pool_error(ValueError("a"))
    b = as_legacy_pool_error(ValueError("b"))
    assert type(a) is type(b)
    assert type(a).__mro__[1] is ValueError
    assert str(a) == "a"
    assert a.args == ("a",)
