"""USER-PAIN #3: code whose module a fresh interpreter cannot import travels by value.

This test module is imported by pytest with ``--import-mode=importlib``: a spawned child cannot
import it by name, so its functions and classes must be sent by value.
"""

from __future__ import annotations

import concurrent.futures
import importlib.util
import multiprocessing
import sys
import types
from collections.abc import Iterator
from pathlib import Path

import cucumber_spawn_workers as workers
import pytest

import cucumber
from cucumber._private.importable import module_importable_elsewhere


def scale(x: int) -> int:
    return x * FACTOR


FACTOR = 7


class Tally:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, item: str) -> int:
        self.items.append(item)
        return len(self.items)


@pytest.fixture
def spawn_pool() -> Iterator[concurrent.futures.ProcessPoolExecutor]:
    ctx = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=ctx) as pool:
        yield pool


def _load_from_file(tmp_path: Path, name: str, source: str) -> types.ModuleType:
    """Import a module from a folder that is not on sys.path (like pytest's importlib mode)."""
    path = tmp_path / f"{name}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def test_importability_decisions() -> None:
    assert module_importable_elsewhere("json") is True
    assert module_importable_elsewhere("cucumber_spawn_workers") is True
    assert module_importable_elsewhere("__main__") is False


@pytest.mark.timeout(120)
def test_function_of_a_test_module_runs_in_a_spawned_child(
    spawn_pool: concurrent.futures.ProcessPoolExecutor,
) -> None:
    data = cucumber.serialize(scale)
    assert spawn_pool.submit(workers.call_loaded, data, 6).result(timeout=90) == 42


@pytest.mark.timeout(120)
def test_class_of_a_test_module_keeps_methods_in_a_spawned_child(
    spawn_pool: concurrent.futures.ProcessPoolExecutor,
) -> None:
    tally = Tally()
    tally.add("a")
    data = cucumber.serialize(tally)
    assert spawn_pool.submit(workers.call_method, data, "add", "b").result(timeout=90) == 2


_FILE_MODULE = """
class Stack:
    def __init__(self):
        self.items = []
    def push(self, x):
        self.items.append(x)
        return len(self.items)

def double(x):
    return 2 * x
"""


@pytest.mark.timeout(120)
def test_module_outside_sys_path_travels_by_value(
    tmp_path: Path, spawn_pool: concurrent.futures.ProcessPoolExecutor
) -> None:
    name = "cucumber_outside_path_module"
    module = _load_from_file(tmp_path, name, _FILE_MODULE)
    try:
        assert module_importable_elsewhere(name) is False
        stack = module.Stack()
        stack.push(1)
        stack_data = cucumber.serialize(stack)
        func_data = cucumber.serialize(module.double)
    finally:
        del sys.modules[name]
    assert spawn_pool.submit(workers.call_method, stack_data, "push", 2).result(timeout=90) == 2
    assert spawn_pool.submit(workers.call_loaded, func_data, 21).result(timeout=90) == 42
    assert not spawn_pool.submit(workers.module_present, name).result(timeout=90)


@pytest.mark.timeout(120)
def test_exec_created_module_function_runs_in_a_spawned_child(
    spawn_pool: concurrent.futures.ProcessPoolExecutor,
) -> None:
    module = types.ModuleType("cucumber_cell_module")
    exec("def cube(x):\n    return x ** 3\n", module.__dict__)
    sys.modules["cucumber_cell_module"] = module
    try:
        data = cucumber.serialize(module.cube)
    finally:
        del sys.modules["cucumber_cell_module"]
    assert spawn_pool.submit(workers.call_loaded, data, 3).result(timeout=90) == 27


def test_importable_function_travels_by_reference() -> None:
    data = cucumber.serialize(workers.importable_helper)
    assert b"cucumber_spawn_workers" in data
    assert b"make_function" not in data
    assert cucumber.deserialize(data) is workers.importable_helper


def test_module_with_mismatched_spec_name_is_by_value() -> None:
    module = types.ModuleType("cucumber_alias_module")
    exec("def f():\n    return 'by value'\n", module.__dict__)
    module.__spec__ = types.SimpleNamespace(name="something_else", origin=None)  # type: ignore[assignment]
    sys.modules["cucumber_alias_module"] = module
    try:
        assert module_importable_elsewhere("cucumber_alias_module") is False
        data = cucumber.serialize(module.f)
    finally:
        del sys.modules["cucumber_alias_module"]
    assert b"make_function" in data
    assert cucumber.deserialize(data)() == "by value"
