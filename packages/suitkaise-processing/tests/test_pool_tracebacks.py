"""Errors raised by items point home: the script's file, line and source text, and the failed item.

Each test runs a real script as ``__main__`` in a fresh interpreter (the workers cannot import it,
so its functions travel by value) and reads the error it caught, printed as JSON.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pool_workers as w
import pytest

from suitkaise_processing import Pool, ProcessError
from suitkaise_processing._private import wire

pytestmark = pytest.mark.timeout(180)

_SCRIPT = """
import json, traceback
from suitkaise_processing import Pool


def check(text):
    if text.endswith("-7"):
        raise ValueError(f"cannot use {text}")
    return len(text)


def boom(text):
    return check(text) * 2


def add(a, b):
    return a + b


def report(exc):
    return {
        "type": type(exc).__name__,
        "notes": getattr(exc, "__notes__", None),
        "remote": str(exc.__cause__),
        "shown": "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)),
    }


if __name__ == "__main__":
    out = {}
    with Pool(workers=2) as pool:
        try:
            pool.map(boom, [f"item-{i}" for i in range(20)])
        except ValueError as exc:
            out["map"] = report(exc)
        try:
            pool.star().map(add, [(1, 2), (3, "x"), (5, 6)])
        except TypeError as exc:
            out["star"] = report(exc)
        try:
            list(pool.imap(boom, ["a" * 1000 + "-7"]))
        except ValueError as exc:
            out["long"] = report(exc)
    print(json.dumps(out))
"""


def _line_of(text: str) -> int:
    """The line number of ``text`` in the script."""
    lines = textwrap.dedent(_SCRIPT).splitlines()
    return next(i for i, line in enumerate(lines, 1) if text in line)


@pytest.fixture(scope="module")
def caught(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    folder = tmp_path_factory.mktemp("tracebacks")
    script = folder / "script.py"
    script.write_text(textwrap.dedent(_SCRIPT))
    done = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=150,
        env=dict(os.environ, SUITKAISE_START_METHOD="forkserver"),
        cwd=folder,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return script, json.loads(done.stdout.strip().splitlines()[-1])


def test_remote_traceback_names_the_script_line_and_source(
    caught: tuple[Path, dict[str, Any]],
) -> None:
    script, out = caught
    remote = out["map"]["remote"]
    raising = _line_of('raise ValueError(f"cannot use {text}")')
    calling = _line_of("return check(text) * 2")
    assert f'File "{script}", line {calling}, in boom\n    return check(text) * 2\n' in remote
    assert (
        f'File "{script}", line {raising}, in check\n'
        f'    raise ValueError(f"cannot use {{text}}")\n' in remote
    )
    assert "<dynamic-code>" not in out["map"]["shown"]
    assert "ValueError: cannot use item-7" in remote


def test_the_error_names_the_failed_item(caught: tuple[Path, dict[str, Any]]) -> None:
    _, out = caught
    note = "while processing item 7: 'item-7'"
    assert out["map"]["notes"] == [note]
    assert f"ValueError: cannot use item-7\n{note}\n" in out["map"]["remote"]
    if sys.version_info >= (3, 11):  # Python 3.10 does not print __notes__: the remote text has it
        assert out["map"]["shown"].rstrip().endswith(note)  # under the re-raised error too


def test_star_items_are_shown_as_their_argument_tuple(caught: tuple[Path, dict[str, Any]]) -> None:
    _, out = caught
    assert out["star"]["type"] == "TypeError"
    assert out["star"]["notes"] == ["while processing item 1: (3, 'x')"]
    assert f"line {_line_of('return a + b')}, in add\n    return a + b\n" in out["star"]["remote"]


def test_long_items_are_shortened_in_the_note(caught: tuple[Path, dict[str, Any]]) -> None:
    _, out = caught
    (note,) = out["long"]["notes"]
    assert note.startswith("while processing item 0: 'aaaa")
    assert "..." in note
    assert len(note) < 100


_CELL_SCRIPT = """
import json, linecache
from suitkaise_processing import Pool

# What a notebook does: the cell's code has a file name that exists only in this process's linecache.
CELL = "/nonexistent/ipykernel_1/cell_3.py"
SOURCE = "def cell_work(x):\\n    return 10 // (x - 2)\\n"
linecache.cache[CELL] = (len(SOURCE), None, SOURCE.splitlines(True), CELL)
exec(compile(SOURCE, CELL, "exec"))

if __name__ == "__main__":
    with Pool(workers=2) as pool:
        try:
            pool.map(cell_work, range(5))
        except ZeroDivisionError as exc:
            print(json.dumps(str(exc.__cause__)))
"""


def test_source_lines_only_the_parent_has_are_shown(tmp_path: Path) -> None:
    script = tmp_path / "notebook_like.py"
    script.write_text(textwrap.dedent(_CELL_SCRIPT))
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=150, cwd=tmp_path
    )
    assert done.returncode == 0, done.stdout + done.stderr
    remote = json.loads(done.stdout.strip().splitlines()[-1])
    frame = 'File "/nonexistent/ipykernel_1/cell_3.py", line 2, in cell_work\n'
    assert f"{frame}    return 10 // (x - 2)\n" in remote
    assert "while processing item 2: 2" in remote


class _DropsItsDict(Exception):
    """Like many user exceptions: a ``__reduce__`` of its own that leaves ``__dict__`` (the notes) out."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code

    def __reduce__(self) -> tuple[Any, ...]:
        return (_DropsItsDict, (self.args[0], self.code))


def _raised_with_note(exc: BaseException, note: str) -> BaseException:
    try:
        raise exc
    except BaseException as caught:
        wire.add_note(caught, note)
        return caught


def test_notes_travel_beside_an_exception_whose_reduce_drops_them() -> None:
    packed = wire.pack_error(
        _raised_with_note(_DropsItsDict("bad", 3), "while processing item 3: 3")
    )
    err = wire.unpack_error(packed, "item 3")
    assert type(err) is _DropsItsDict
    assert err.code == 3
    assert getattr(err, "__notes__", None) == ["while processing item 3: 3"]


def test_an_error_that_cannot_be_sent_is_named_by_its_exception_line_not_its_note() -> None:
    _, tb = wire.pack_error(_raised_with_note(KeyError("k"), "while processing item 5: 'x'"))
    assert tb.rstrip().endswith("KeyError: 'k'\nwhile processing item 5: 'x'")
    err = wire.unpack_error((b"", tb), "item 5")
    assert isinstance(err, ProcessError)
    assert "back to the parent (KeyError: 'k'); make the exception picklable" in str(err)


def test_a_submitted_call_gets_no_item_note_and_points_home() -> None:
    with Pool(workers=1) as pool:
        future = pool.submit(w.fail_on_7, 7)
        with pytest.raises(w.ItemError) as info:
            future.result(timeout=60)
    assert getattr(info.value, "__notes__", None) is None  # the future names the call
    cause = info.value.__cause__
    assert isinstance(cause, wire.RemoteTraceback)
    assert f'File "{w.__file__}", line ' in cause.tb
    assert "raise ItemError(" in cause.tb
