"""How errors and exits travel between processes (``wire``): exceptions that cannot be sent become a
clear ``ProcessError`` with the remote traceback, log records carry their exception text, and exit
codes are described in words."""

from __future__ import annotations

import logging
import pickle

from suitkaise_processing import ProcessError
from suitkaise_processing._private import wire


class NeedsTwo(Exception):
    """Pickles fine but cannot be rebuilt: its ``__init__`` wants two arguments."""

    def __init__(self, a: str, b: str) -> None:
        super().__init__(a)
        self.b = b


def _raised(exc: BaseException) -> BaseException:
    try:
        raise exc
    except BaseException as caught:
        return caught


def test_is_pickle_tells_c_pickle_streams_from_cucumber_bytes() -> None:
    assert wire.is_pickle(pickle.dumps([1], wire.PROTOCOL))
    assert not wire.is_pickle(wire.serialize([1]))
    assert not wire.is_pickle(b"")


def test_first_unencodable_is_none_when_every_value_encodes() -> None:
    assert wire.first_unencodable([1, "two", [3.0], {"four": 4}]) is None


def test_an_exception_that_cannot_be_rebuilt_arrives_as_a_process_error() -> None:
    # A class made here, after any import: some libraries (distributed, through tblib) register a
    # pickle reducer for every exception class that exists when they are imported, which would
    # make the module-level NeedsTwo sendable when such a test ran first.
    needs_two = type("NeedsTwo", (NeedsTwo,), {"__module__": __name__})
    blob, tb = wire.pack_error(_raised(needs_two("boom", "extra")))
    assert blob == b""  # neither pickle nor cucumber could send it intact
    assert "NeedsTwo: boom" in tb
    err = wire.unpack_error((blob, tb), "item 3")
    assert type(err) is ProcessError
    assert "item 3 raised an exception that could not be sent back to the parent" in str(err)
    assert "NeedsTwo: boom); make the exception picklable" in str(err)  # the last traceback line
    assert err.remote_traceback == tb


def test_a_corrupted_error_blob_falls_back_to_the_traceback_text() -> None:
    err = wire.unpack_error((b"\x80\x05garbage", "Traceback ...\nValueError: bad\n"), "item 1")
    assert isinstance(err, ProcessError)
    assert "(ValueError: bad)" in str(err)


def test_a_sent_exception_keeps_its_type_and_shows_the_remote_traceback() -> None:
    err = wire.unpack_error(wire.pack_error(_raised(KeyError("k"))), "item 0")
    assert type(err) is KeyError
    assert isinstance(err.__cause__, wire.RemoteTraceback)
    text = str(err.__cause__)
    assert text.startswith('\n"""\nTraceback')
    assert text.endswith('KeyError: \'k\'\n"""')


def test_a_log_record_carries_its_exception_as_text() -> None:
    exc = _raised(ValueError("in the child"))
    record = logging.LogRecord(
        "worker",
        logging.ERROR,
        __file__,
        1,
        "failed %s",
        ("item",),
        (type(exc), exc, exc.__traceback__),
    )
    data = wire.pack_log_record(record)
    assert data["msg"] == "failed item"
    assert data["exc_info"] is None
    assert "ValueError: in the child" in data["exc_text"]
    rebuilt = logging.makeLogRecord(data)
    assert rebuilt.getMessage() == "failed item"


def test_exit_codes_are_described_in_words() -> None:
    assert wire.describe_exit(None) == "did not exit"
    assert wire.describe_exit(0) == "exited with code 0"
    assert wire.describe_exit(-9) == "was killed by SIGKILL"
    assert wire.describe_exit(-200) == "was killed by signal 200"  # no such signal name
