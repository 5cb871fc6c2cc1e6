"""Functions from the main script share one module namespace per worker (issue 15).

Each test writes a real script, runs it as ``__main__`` in a fresh interpreter under every start
method, and reads what it printed (one JSON document): the bugs were only visible there, where the
workers cannot import the script and its functions travel by value.
"""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path
from typing import Any

import pytest
from pool_test_helpers import run_main_script

pytestmark = [
    pytest.mark.timeout(180),
    pytest.mark.parametrize("method", ["forkserver", "spawn", "fork"]),
]


def _run(tmp_path: Path, method: str, source: str) -> Any:
    env = dict(os.environ, SUITKAISE_START_METHOD=method)
    done = run_main_script(tmp_path, textwrap.dedent(source), timeout=150, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_initializer_globals_are_seen_by_work_functions(tmp_path: Path, method: str) -> None:
    out = _run(
        tmp_path,
        method,
        """
        import json, os
        from suitkaise_processing import Pool

        STATE = None
        SEEN = []

        def init(value):
            global STATE
            STATE = value

        def work(x):
            SEEN.append(x)
            return [STATE, os.getpid(), len(SEEN)]

        if __name__ == "__main__":
            with Pool(workers=2, initializer=init, initargs=("ready",)) as pool:
                first = pool.map(work, range(20))
                second = pool.map(work, range(20))
            print(json.dumps({"first": first, "second": second, "parent": STATE}))
        """,
    )
    rows = out["first"] + out["second"]
    assert {state for state, _, _ in rows} == {"ready"}
    assert out["parent"] is None  # the initializer ran in the workers only
    # a module-level list keeps growing across items and calls, per worker
    per_worker: dict[int, list[int]] = {}
    for _, pid, seen in rows:
        per_worker.setdefault(pid, []).append(seen)
    assert sum(max(counts) for counts in per_worker.values()) == 40
    for counts in per_worker.values():
        assert counts == list(range(1, len(counts) + 1))


def test_module_level_caches_persist_across_items_and_calls(tmp_path: Path, method: str) -> None:
    out = _run(
        tmp_path,
        method,
        """
        import functools, json, os
        from suitkaise_processing import Pool

        MEMO = {}

        def slow_square(k):
            if k not in MEMO:
                MEMO[k] = [k * k, 0]
            MEMO[k][1] += 1
            return MEMO[k]

        @functools.lru_cache(maxsize=None)
        def fib(n):
            return n if n < 2 else fib(n - 1) + fib(n - 2)

        def work(x):
            value, uses = slow_square(x % 4)
            return [os.getpid(), x % 4, value, uses, fib(30), fib.cache_info().misses]

        if __name__ == "__main__":
            with Pool(workers=2) as pool:
                rows = pool.map(work, range(40)) + pool.map(work, range(40))
            print(json.dumps(rows))
        """,
    )
    uses: dict[tuple[int, int], list[int]] = {}
    for pid, key, value, used, fib30, misses in out:
        assert value == key * key
        assert fib30 == 832040
        assert misses == 31  # fib(0..30), each computed once per worker, never again
        uses.setdefault((pid, key), []).append(used)
    # one memo entry per key and worker, shared by every item of both calls in that worker
    for counts in uses.values():
        assert counts == list(range(1, len(counts) + 1))
    assert sum(len(counts) for counts in uses.values()) == 80


def test_redefined_functions_replace_and_data_keeps_the_workers_value(
    tmp_path: Path, method: str
) -> None:
    out = _run(
        tmp_path,
        method,
        """
        import json
        from suitkaise_processing import Pool

        LIMIT = 1

        def helper():
            return "first"

        def handler():
            return "parent"

        def fast_handler():
            return "worker"

        def init():
            global handler
            handler = fast_handler

        def work(x):
            return [helper(), handler(), LIMIT]

        if __name__ == "__main__":
            with Pool(workers=2, initializer=init) as pool:
                before = pool.map(work, range(4))
                def helper():
                    return "second"
                LIMIT = 2
                after = pool.map(work, range(4))
            print(json.dumps({"before": before, "after": after}))
        """,
    )
    assert out["before"] == [["first", "worker", 1]] * 4
    # the new definition of helper replaces the old one; the initializer's handler stays;
    # a data global keeps the value the worker got first (pass changing values as arguments)
    assert out["after"] == [["second", "worker", 1]] * 4


def test_main_classes_by_reference_and_by_value_are_one_class(tmp_path: Path, method: str) -> None:
    out = _run(
        tmp_path,
        method,
        """
        import json
        from dataclasses import dataclass
        from suitkaise_processing import Pool

        @dataclass
        class Point:
            x: int
            y: int

            def norm1(self):
                return abs(self.x) + abs(self.y) + OFFSET

        OFFSET = 0

        def init(offset):
            global OFFSET
            OFFSET = offset

        def work(p):
            return [isinstance(p, Point), p.norm1()]

        if __name__ == "__main__":
            with Pool(workers=2, initializer=init, initargs=(100,)) as pool:
                rows = pool.map(work, [Point(i, -i) for i in range(10)])
            print(json.dumps(rows))
        """,
    )
    assert out == [[True, 100 + 2 * i] for i in range(10)]


def test_a_by_value_module_other_than_main_shares_its_namespace(
    tmp_path: Path, method: str
) -> None:
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "plugin.py").write_text(
        textwrap.dedent(
            """
            CONFIG = {}

            def setup(name):
                CONFIG["name"] = name

            def greet(x):
                return f"{CONFIG.get('name')}:{x}"
            """
        )
    )
    out = _run(
        tmp_path,
        method,
        """
        import importlib.util, json, sys
        from suitkaise_processing import Pool

        # loaded from a folder that is not on sys.path: the workers cannot import it
        spec = importlib.util.spec_from_file_location("plugin", "lib/plugin.py")
        plugin = importlib.util.module_from_spec(spec)
        sys.modules["plugin"] = plugin
        spec.loader.exec_module(plugin)

        if __name__ == "__main__":
            with Pool(workers=2, initializer=plugin.setup, initargs=("w",)) as pool:
                rows = pool.map(plugin.greet, range(3))
            print(json.dumps(rows))
        """,
    )
    assert out == ["w:0", "w:1", "w:2"]


def test_submitted_calls_share_the_namespace_too(tmp_path: Path, method: str) -> None:
    out = _run(
        tmp_path,
        method,
        """
        import json
        from suitkaise_processing import Pool

        STATE = None

        def init(value):
            global STATE
            STATE = value

        def work(x):
            return [STATE, x]

        if __name__ == "__main__":
            with Pool(workers=2, initializer=init, initargs=(7,)) as pool:
                rows = [pool.submit(work, i).result(timeout=60) for i in range(4)]
            print(json.dumps(rows))
        """,
    )
    assert out == [[7, i] for i in range(4)]
