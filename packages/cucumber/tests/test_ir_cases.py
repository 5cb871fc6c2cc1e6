"""Every support case also survives serialize_ir -> ir_to_json -> deserialize_ir."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from cucumber_support_cases import CASES, Case, cleanup

import cucumber


@pytest.fixture
def _cleanup_cases() -> Iterator[None]:
    yield
    cleanup()


@pytest.mark.usefixtures("_cleanup_cases")
@pytest.mark.timeout(60)
@pytest.mark.parametrize("case", CASES, ids=[f"{c.family}: {c.name}" for c in CASES])
def test_ir_round_trip(case: Case) -> None:
    ir = cucumber.serialize_ir(case.make())
    assert isinstance(
        json.loads(cucumber.ir_to_json(ir)), (dict, list, str, int, float, type(None))
    )
    assert case.check(cucumber.deserialize_ir(ir)), (
        f"{case.name}: rebuilt from IR, it does not behave"
    )


@pytest.mark.usefixtures("_cleanup_cases")
@pytest.mark.timeout(60)
@pytest.mark.parametrize("case", CASES, ids=[f"{c.family}: {c.name}" for c in CASES])
def test_json_view_and_verbose_walk(case: Case, capsys: pytest.CaptureFixture[str]) -> None:
    # to_json builds the IR, which (like serialize) consumes iterators: a fresh object for each
    json.loads(cucumber.to_json(case.make(), indent=1))
    data = cucumber.serialize(case.make(), verbose=True)
    assert capsys.readouterr().err.startswith("cucumber serialize: ")
    assert case.check(cucumber.deserialize(data))
