"""Scripts without ``if __name__ == "__main__":`` run unchanged (the suitkaise 0.4 examples have none).

suitkaise 0.4 forked; this kit starts children from a fork server (or ``spawn``), whose children would
import the main module again and re-run an unguarded script's top level. Our children never import it:
everything they need from the script travels by value. Each test writes a real script to a temporary
directory and runs it in a fresh interpreter, under both start methods that would re-import it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.timeout(180),
    pytest.mark.parametrize("method", ["forkserver", "spawn"]),
]

_UNGUARDED = """
import os

from suitkaise.processing import Pool, Share, Skprocess

print("top level", flush=True)


class Point:
    def __init__(self, x):
        self.x = x


class Boom(Exception):
    pass


class Doubler(Skprocess):
    def __init__(self, point):
        self.point = point
        self.process_config.runs = 1

    def __run__(self):
        self.point = Point(self.point.x * 2)

    def __result__(self):
        return self.point


class Counter(Skprocess):
    def __init__(self, share):
        self.share = share
        self.process_config.runs = 3

    def __run__(self):
        self.share.counter += 1
        self.share.points.append(Point(self._current_run))


class Failing(Skprocess):
    def __init__(self):
        self.process_config.runs = 1

    def __run__(self):
        raise Boom("from the child")


def square(x):
    return x * x


def set_offset(value):
    os.environ["SK_TEST_OFFSET"] = str(value)


def add_offset(x):
    return x + int(os.environ["SK_TEST_OFFSET"])


process = Doubler(Point(5))
process.start()
process.wait()
result = process.result()
print("skprocess", type(result).__name__, result.x, isinstance(result, Point), flush=True)

try:
    Failing().run()
except Exception as exc:
    print("error", type(exc).__name__, "Boom: from the child" in str(exc), flush=True)

with Pool(workers=2) as pool:
    print("map", pool.map(square, range(6)), flush=True)
    print("lambda", pool.map(lambda x: x + 1, range(4)), flush=True)
    points = pool.map(lambda p: Point(p.x + 1), [Point(1), Point(2)])
    print("points", [(type(p).__name__, p.x, isinstance(p, Point)) for p in points], flush=True)

with Pool(workers=2, initializer=set_offset, initargs=(100,)) as pool:
    print("initializer", pool.map(add_offset, range(3)), flush=True)

share = Share()
share.counter = 0
share.points = []
Counter(share).run()
print("share", share.counter, [p.x for p in share.points], flush=True)
share.stop()
print("done", flush=True)
"""

_EXPECTED = [
    "top level",
    "skprocess Point 10 True",
    "error RunError True",
    "map [0, 1, 4, 9, 16, 25]",
    "lambda [1, 2, 3, 4]",
    "points [('Point', 2, True), ('Point', 3, True)]",
    "initializer [100, 101, 102]",
    "share 3 [0, 1, 2]",
    "done",
]


def _run(tmp_path: Path, source: str, method: str) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent(source))
    return subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=150,
        env=dict(os.environ, SUITKAISE_START_METHOD=method),
        cwd=tmp_path,
    )


def test_unguarded_script_runs_its_top_level_once(tmp_path: Path, method: str) -> None:
    done = _run(tmp_path, _UNGUARDED, method)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines() == _EXPECTED, done.stdout + done.stderr


def test_guarded_script_runs_the_same(tmp_path: Path, method: str) -> None:
    head, _, body = _UNGUARDED.partition("process = Doubler")
    guarded = (
        head + 'if __name__ == "__main__":\n' + textwrap.indent("process = Doubler" + body, "    ")
    )
    done = _run(tmp_path, guarded, method)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines() == _EXPECTED, done.stdout + done.stderr


def test_plain_multiprocessing_children_still_import_the_main_module(
    tmp_path: Path, method: str
) -> None:
    # Only our own children skip the main module: a multiprocessing.Process of the same program, whose
    # target is pickled by reference to __main__, still finds it there.
    source = """
    import multiprocessing

    from suitkaise.processing import Pool


    def report(queue):
        queue.put(__name__)


    if __name__ == "__main__":
        with Pool(workers=1) as pool:
            print("pool", pool.map(abs, [-1]), flush=True)
        ctx = multiprocessing.get_context("{method}")
        queue = ctx.Queue()
        child = ctx.Process(target=report, args=(queue,))
        child.start()
        print("child", queue.get(timeout=60), flush=True)
        child.join()
        print("exitcode", child.exitcode, flush=True)
    """.replace("{method}", method)
    done = _run(tmp_path, source, method)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines() == ["pool [1]", "child __mp_main__", "exitcode 0"]
