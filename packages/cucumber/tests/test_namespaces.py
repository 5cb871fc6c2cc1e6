"""Functions of by-value modules: file names kept, lru_cache wrappers, and namespace providers."""

from __future__ import annotations

import fnmatch
import gc
import json
import os
import subprocess
import sys
import traceback
import types
from collections.abc import Iterator
from typing import Any

import pytest

import cucumber

_SOURCE = """
import functools

COUNT = 0

def bump():
    global COUNT
    COUNT += 1
    return COUNT

def fail(x):
    raise ValueError(f"failed on {x}")

@functools.lru_cache(maxsize=None)
def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)

def make_counter(start):
    def step():
        nonlocal start
        start += 1
        return start
    step.label = "counter"
    return step
"""


def _module(name: str) -> types.ModuleType:
    """A module no other interpreter can import (its functions travel by value)."""
    module = types.ModuleType(name)
    exec(compile(_SOURCE, f"/nowhere/{name}.py", "exec"), module.__dict__)
    return module


def _round_trip(obj: Any) -> Any:
    return cucumber.deserialize(cucumber.serialize(obj))


class _OneDictPerModule:
    """A provider like a pool worker's: one namespace per module, the first value of a name wins."""

    def __init__(self) -> None:
        self.dicts: dict[str, dict[str, Any]] = {}
        self.arrivals: list[set[str]] = []

    def namespace(self, module: dict[str, Any]) -> dict[str, Any]:
        return self.dicts.setdefault(module["__name__"], dict(module))

    def merge(self, namespace: dict[str, Any], arrived: dict[str, Any]) -> None:
        self.arrivals.append(set(arrived))
        for name, value in arrived.items():
            namespace.setdefault(name, value)


@pytest.fixture
def provider() -> Iterator[_OneDictPerModule]:
    installed = _OneDictPerModule()
    cucumber.set_namespace_provider(installed)
    try:
        yield installed
    finally:
        cucumber.set_namespace_provider(None)


def test_code_keeps_its_file_name_and_line() -> None:
    fail = _round_trip(_module("cuke_ns_file").fail)
    assert fail.__code__.co_filename == "/nowhere/cuke_ns_file.py"
    with pytest.raises(ValueError) as info:
        fail(3)
    last = traceback.extract_tb(info.value.__traceback__)[-1]
    assert (last.filename, last.lineno, last.name) == ("/nowhere/cuke_ns_file.py", 12, "fail")


def test_without_a_provider_each_payload_has_its_own_globals() -> None:
    module = _module("cuke_ns_default")
    first, second = _round_trip(module.bump), _round_trip(module.bump)
    assert first is not second
    assert [first(), first(), second()] == [1, 2, 1]
    assert module.COUNT == 0


class _Declines:
    """A provider that leaves every payload to the default way (a Dask worker outside its tasks)."""

    def namespace(self, module: dict[str, Any]) -> None:
        return None

    def merge(self, namespace: dict[str, Any], arrived: dict[str, Any]) -> None:
        raise AssertionError("merge is only called for functions the provider gave a namespace")


def test_a_provider_that_declines_leaves_payloads_to_the_default_way() -> None:
    module = _module("cuke_ns_declined")
    cucumber.set_namespace_provider(_Declines())
    try:
        first, second = _round_trip(module.bump), _round_trip(module.bump)
        fib_a, fib_b = _round_trip(module.fib), _round_trip(module.fib)
    finally:
        cucumber.set_namespace_provider(None)
    assert first is not second
    assert [first(), first(), second()] == [1, 2, 1]
    assert fib_a is not fib_b
    assert fib_a(20) == fib_b(20) == 6765


def test_lru_cache_wrapper_of_a_by_value_module_travels_by_value() -> None:
    fib = _round_trip(_module("cuke_ns_lru").fib)
    assert fib(30) == 832040
    assert fib.cache_info().misses == 31  # the recursion goes through the rebuilt wrapper
    assert fib.cache_parameters() == {"maxsize": None, "typed": False}


def test_lru_cache_wrapper_of_an_importable_module_travels_by_reference() -> None:
    wrapper = fnmatch._compile_pattern  # type: ignore[attr-defined]
    assert _round_trip(wrapper) is wrapper


def test_closures_and_function_attributes_are_restored() -> None:
    counter = _module("cuke_ns_closure").make_counter(10)
    counter()
    copy = _round_trip(counter)
    assert copy.label == "counter"
    assert [copy(), copy()] == [12, 13]
    assert counter() == 12  # the sender's cell is its own


def _payloads(name: str, *attributes: str) -> list[bytes]:
    """Payloads of the module's attributes, as if sent by another process (the originals are gone)."""
    module = _module(name)
    payloads = [cucumber.serialize(getattr(module, attribute)) for attribute in attributes]
    del module
    gc.collect()
    return payloads


def test_a_provider_gives_one_namespace_and_one_object_per_function(
    provider: _OneDictPerModule,
) -> None:
    bump_data, fib_data = _payloads("cuke_ns_shared", "bump", "fib")
    first, second = cucumber.deserialize(bump_data), cucumber.deserialize(bump_data)
    assert first is second
    assert first.__globals__ is provider.dicts["cuke_ns_shared"]
    assert [first(), second(), first()] == [1, 2, 3]
    assert provider.arrivals == [{"COUNT"}, {"COUNT"}]
    fib = cucumber.deserialize(fib_data)
    fib(20)
    assert cucumber.deserialize(fib_data) is fib
    assert fib.cache_info().misses == 21
    assert provider.dicts["cuke_ns_shared"]["fib"] is fib
    assert bump_data != cucumber.serialize(_module("cuke_ns_shared").bump)  # one id per object


def test_a_provider_gives_back_a_function_known_in_this_process(
    provider: _OneDictPerModule,
) -> None:
    counter = _module("cuke_ns_kept").make_counter(0)
    assert _round_trip(counter) is counter  # like a class sent by value: the same object
    (data,) = _payloads("cuke_ns_kept", "bump")
    rebuilt = cucumber.deserialize(data)
    assert cucumber.deserialize(cucumber.serialize(rebuilt)) is rebuilt  # sent on: same id


def test_a_provider_keeps_the_cells_of_a_closure_it_rebuilt_before(
    provider: _OneDictPerModule,
) -> None:
    data = cucumber.serialize(_module("cuke_ns_cells").make_counter(0))
    gc.collect()
    first = cucumber.deserialize(data)
    assert [first(), first()] == [1, 2]
    assert cucumber.deserialize(data)() == 3  # the same object: its cell was not reset


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX only")
@pytest.mark.timeout(60)
def test_a_forked_child_gives_its_functions_ids_of_its_own() -> None:
    # in a fresh interpreter: this test process has threads, and forking it is deprecated on 3.12+
    code = """
import json, os
from cucumber._private.rebuild import tracker_id_of

def in_parent(): ...

parent_id = tracker_id_of(in_parent)
read, write = os.pipe()
pid = os.fork()
if pid == 0:  # the child: a function made after the fork, as the parent's next one would be
    def in_child(): ...
    os.write(write, tracker_id_of(in_child).encode())
    os._exit(0)
os.close(write)
child_id = os.read(read, 200).decode()
os.waitpid(pid, 0)

def parents_next(): ...

print(json.dumps({"parent": parent_id, "next": tracker_id_of(parents_next), "child": child_id}))
"""
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=50
    ).stdout
    ids = json.loads(out.strip().splitlines()[-1])
    assert ids["child"] != ids["next"]
    assert ids["child"][:16] != ids["parent"][:16]  # a prefix of its own, not the parent's counter
    assert ids["next"][:16] == ids["parent"][:16]
