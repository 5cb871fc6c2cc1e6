"""Importing cucumber is cheap: the pickler and the families load on the first serialize.

A process that only deserializes (a Pool worker receiving a function by value) must not load the
families of handlers nor what they import (sqlite3, subprocess, concurrent.futures, ...). Each check
runs in a fresh interpreter, since the test process has loaded everything already.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

import pytest

import cucumber

# Modules only the serialize side (the families of handlers and what they import) needs.
_HEAVY = (
    "cucumber._private.families",
    "cucumber._private.pickler",
    "cucumber._private.reconnectors",
    "cucumber._private.ir",
    "cucumber._private.walk",
    "cucumber._private.safeload",
    "sqlite3",
    "concurrent.futures",
)


# Measured without coverage in the child: coverage (on in CI) imports sqlite3 for its data file.
_WITHOUT_COVERAGE = {k: v for k, v in os.environ.items() if not k.startswith("COVERAGE_PROCESS")}


def _fresh(code: str) -> dict[str, object]:
    """Run ``code`` in a fresh interpreter; it prints one JSON object, returned here."""
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        env=_WITHOUT_COVERAGE,
    ).stdout
    result: dict[str, object] = json.loads(out.strip().splitlines()[-1])
    return result


@pytest.mark.timeout(120)
def test_import_and_deserialize_load_no_handler_families() -> None:
    payload = cucumber.serialize({"numbers": [1, 2, 3], "text": "abc"})
    code = f"""
import json, sys
import cucumber
after_import = sorted(m for m in {_HEAVY!r} if m in sys.modules)
value = cucumber.deserialize({payload!r})
after_load = sorted(m for m in {_HEAVY!r} if m in sys.modules)
print(json.dumps({{"import": after_import, "load": after_load, "value": value}}))
"""
    result = _fresh(code)
    assert result == {
        "import": [],
        "load": [],
        "value": {"numbers": [1, 2, 3], "text": "abc"},
    }


@pytest.mark.timeout(120)
def test_receiving_functions_by_value_loads_no_cloudpickle() -> None:
    # A Pool worker's first task: functions of the sender's __main__ (module globals, a closure,
    # a lambda, an lru_cache wrapper) are rebuilt without cloudpickle (several ms of every cold start).
    sent = _fresh("""
import functools, json, os
import cucumber

def outer():
    step = 3
    def add(x):
        return x + step
    return add

@functools.lru_cache(maxsize=4)
def cached(x):
    return x * 2

def uses_module(x):
    return os.path.basename(x)

payload = cucumber.serialize({"add": outer(), "lam": lambda x: -x, "cached": cached, "mod": uses_module})
print(json.dumps({"hex": payload.hex()}))
""")
    code = f"""
import json, sys
import cucumber
value = cucumber.deserialize(bytes.fromhex({sent["hex"]!r}))
print(json.dumps({{
    "results": [value["add"](1), value["lam"](2), value["cached"](3), value["mod"]("/a/b.txt")],
    "loaded": sorted(m for m in sys.modules if m.startswith("cloudpickle") or m in {_HEAVY!r}),
}}))
"""
    assert _fresh(code) == {"results": [4, -2, 6, "b.txt"], "loaded": []}


@pytest.mark.timeout(120)
def test_handlers_for_modules_imported_after_the_first_serialize_still_apply() -> None:
    # sqlite3 and the executors are handled by name: the first serialize imports neither, and their
    # handlers bind when an object of theirs (or of a subclass) is first serialized.
    code = """
import json, sys
import cucumber
cucumber.serialize({"plain": [1, 2]})
before = sorted(m for m in ("sqlite3", "concurrent.futures", "concurrent.futures.process") if m in sys.modules)
import sqlite3, concurrent.futures
class MyConnection(sqlite3.Connection):
    pass
conn = sqlite3.connect(":memory:", factory=MyConnection)
conn.execute("create table t (x)"); conn.execute("insert into t values (7)"); conn.commit()
back = cucumber.deserialize(cucumber.serialize({"conn": conn, "cursor": conn.cursor()}))
from cucumber import reconnect_all
opened = reconnect_all(back)
rows = opened["conn"].execute("select x from t").fetchall()
threads = cucumber.deserialize(cucumber.serialize(concurrent.futures.ThreadPoolExecutor(3)))
procs = cucumber.deserialize(cucumber.serialize(concurrent.futures.ProcessPoolExecutor(2)))
print(json.dumps({
    "before": before,
    "types": [type(back["conn"]).__name__, type(back["cursor"]).__name__],
    "rows": rows,
    "executors": [type(threads).__name__, threads._max_workers, type(procs).__name__, procs._max_workers],
}))
threads.shutdown(); procs.shutdown()
"""
    assert _fresh(code) == {
        "before": [],
        "types": ["Connection", "Cursor"],  # reopened (an in-memory database is carried)
        "rows": [[7]],
        "executors": ["ThreadPoolExecutor", 3, "ProcessPoolExecutor", 2],
    }


@pytest.mark.timeout(120)
def test_first_serialize_installs_the_handlers() -> None:
    code = """
import json, sys, threading
import cucumber
data = cucumber.serialize({"lock": threading.Lock(), "f": lambda x: x + 1})
value = cucumber.deserialize(data)
print(json.dumps({
    "families": "cucumber._private.families" in sys.modules,
    "lock": type(value["lock"]).__name__,
    "f": value["f"](1),
}))
"""
    assert _fresh(code) == {"families": True, "lock": "lock", "f": 2}


@pytest.mark.timeout(120)
def test_verbose_deserialize_names_the_handlers_without_a_serialize_first() -> None:
    payload = cucumber.serialize(threading.Lock())
    code = f"""
import contextlib, io, json
import cucumber
err = io.StringIO()
with contextlib.redirect_stderr(err):
    cucumber.deserialize({payload!r}, verbose=True)
print(json.dumps({{"walk": err.getvalue()}}))
"""
    walk = str(_fresh(code)["walk"])
    # the handler named is the one serialize uses, not "pickle default"
    assert "_thread.lock" in walk
    assert "pickle default" not in walk


@pytest.mark.timeout(120)
def test_concurrent_first_serializes_all_use_the_handlers() -> None:
    code = """
import json, threading
import cucumber
start = threading.Barrier(8)
results = [None] * 8
def work(i):
    start.wait()
    results[i] = type(cucumber.deserialize(cucumber.serialize(threading.Lock()))).__name__
threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
for t in threads: t.start()
for t in threads: t.join()
print(json.dumps({"results": results}))
"""
    assert _fresh(code) == {"results": ["lock"] * 8}


@pytest.mark.timeout(120)
def test_lazy_names_resolve_and_are_listed() -> None:
    code = """
import json
import cucumber
names = sorted(n for n in cucumber.__all__ if not hasattr(cucumber, n))
print(json.dumps({"missing": names, "in_dir": sorted(set(cucumber.__all__) - set(dir(cucumber)))}))
"""
    assert _fresh(code) == {"missing": [], "in_dir": []}


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_name"):
        cucumber.no_such_name  # noqa: B018


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    "held", ["cucumber._private.api._load_lock", "cucumber._private.families._lock"]
)
def test_a_fork_while_another_thread_loads_the_pickler_does_not_hang_the_child(held: str) -> None:
    module, _, lock = held.rpartition(".")
    code = f"""
import importlib, json, os, signal
import cucumber
importlib.import_module({module!r}).{lock}.acquire()  # as if a thread were loading at the fork
pid = os.fork()
if pid == 0:
    signal.alarm(30)  # a deadlocked child dies instead of staying behind
    ok = cucumber.deserialize(cucumber.serialize(lambda x: x + 1))(1) == 2
    os._exit(0 if ok else 1)
_, status = os.waitpid(pid, 0)
print(json.dumps({{"code": os.waitstatus_to_exitcode(status)}}))
"""
    assert _fresh(code) == {"code": 0}
