"""What a type checker sees of the Pool's calls: mypy's ``reveal_type`` on a user snippet."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

mypy_api = pytest.importorskip("mypy.api")

_SNIPPET = textwrap.dedent(
    """
    from suitkaise_processing import Pool, Skprocess


    def sq(x: int) -> int:
        return x * x


    def describe(a: int, b: float) -> str:
        return f"{a}/{b}"


    class Job(Skprocess):
        def __run__(self) -> None:
            pass


    async def main(pool: Pool) -> None:
        reveal_type(pool.map(sq, [1, 2]))
        reveal_type(pool.unordered_map(sq, range(3)))
        reveal_type(pool.map.timeout(5)(sq, [1, 2]))
        reveal_type(pool.map.retry(2).rate_limit(3.0)(sq, [1]))
        reveal_type(pool.map.background()(sq, [1, 2]))
        reveal_type(pool.map.background().timeout(2)(sq, [1, 2]))
        reveal_type(await pool.map.asynced()(sq, [1, 2]))
        reveal_type(pool.map(Job, [1, 2]))
        reveal_type(pool.imap(sq, [1, 2]))
        reveal_type(pool.unordered_imap.timeout(1)(sq, [1]))
        reveal_type(pool.imap.background()(sq, [1]))
        reveal_type(await pool.imap.asynced()(sq, [1]))
        async for value in pool.imap.asynced()(sq, [1]):
            reveal_type(value)
        reveal_type(pool.star().map(describe, [(1, 2.0)]))
        reveal_type(pool.star().unordered_imap(describe, [(1, 2.0)]))
        pool.imap(sq, [1]).close()
        pool.map(sq, ["not an int"])
    """
)

_EXPECTED = [
    "list[int]",
    "list[int]",
    "list[int]",
    "list[int]",
    "concurrent.futures._base.Future[list[int]]",
    "concurrent.futures._base.Future[list[int]]",
    "list[int]",
    "list[Any]",
    "suitkaise_processing._private.pool._calls.Results[int]",
    "suitkaise_processing._private.pool._calls.Results[int]",
    "concurrent.futures._base.Future[list[int]]",
    "list[int]",
    "int",
    "list[str]",
    "suitkaise_processing._private.pool._calls.Results[str]",
]


@pytest.mark.timeout(300)
def test_calls_are_typed_for_users(tmp_path: Path) -> None:
    snippet = tmp_path / "user_code.py"
    snippet.write_text(_SNIPPET)
    out, err, _status = mypy_api.run(
        [
            "--no-incremental",
            "--cache-dir",
            str(tmp_path / "cache"),
            "--strict",
            "--follow-imports=silent",
            "--python-version=3.10",
            str(snippet),
        ]
    )
    # older mypy versions spell builtins with their module
    revealed = [t.replace("builtins.", "") for t in re.findall(r'Revealed type is "(.*)"', out)]
    assert revealed == _EXPECTED, out + err
    errors = [line for line in out.splitlines() if ": error:" in line]
    assert len(errors) == 1, out
    assert ":36: error:" in errors[0], out  # the str items
    assert "arg-type" in errors[0], out
