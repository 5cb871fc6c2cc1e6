"""P19: a cold start - a fresh interpreter creates a 2-worker pool, maps 10 trivial items, shuts down.

Each contender is a small script run as its own ``python`` process, so every import, the fork
server (or spawn) and the workers start from nothing: the time is the whole process, from launch to
exit, median over rounds timed in turns. Peers: ``multiprocessing.Pool`` with forkserver (our default
start method on Linux) and loky's reusable executor. The script also reports the resident memory
(RSS) of the workers that ran items, read while the pool is still open.
Every contender runs with its bytecode cached, as an installed package has it (pip compiles ``.pyc``
files at install): the scripts run with ``PYTHONPYCACHEPREFIX`` set to a temporary folder, filled by an
untimed first round, and without ``PYTHONDONTWRITEBYTECODE`` (with it set, an editable checkout recompiles
our sources in every process, which no installed user pays, while the standard library's bytecode is
cached anyway).
Bars: cold start <= 1.2x multiprocessing.Pool; worker RSS <= 1.3x multiprocessing's.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tools.bench._core import Result

PEER = "multiprocessing.Pool (forkserver)"
LOKY = "loky reusable executor"

# Every script maps `item` (defined in the script, so workers import it from the script's path) and
# prints the RSS of the workers that ran items, read with psutil while the pool is still open. The
# imports sit at the top of the script, as in most programs: workers started by spawn or forkserver
# import the main module again, so they pay for its imports too.
_REPORT = """
def item(x):
    return os.getpid()

def report(pids):
    rss = [psutil.Process(pid).memory_info().rss for pid in set(pids)]
    print(json.dumps(sum(rss) / len(rss)))

if __name__ == "__main__":
"""

SCRIPTS = {
    "ours": """import json, os
import psutil
from suitkaise_processing import Pool
"""
    + _REPORT
    + """    with Pool(workers=2) as pool:
        report(pool.map(item, range(10)))
""",
    PEER: """import json, os
import psutil
import multiprocessing
"""
    + _REPORT
    + """    with multiprocessing.get_context("forkserver").Pool(2) as pool:
        report(pool.map(item, range(10)))
""",
    LOKY: """import json, os
import psutil
from loky import get_reusable_executor
"""
    + _REPORT
    + """    executor = get_reusable_executor(max_workers=2)
    report(list(executor.map(item, range(10))))
    executor.shutdown(wait=True)
""",
}


def _cold_run(script: Path, env: dict[str, str]) -> tuple[float, float]:
    """(seconds from launch to exit, mean worker RSS in bytes) of one fresh interpreter."""
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        env=env,
    ).stdout
    elapsed = time.perf_counter() - start
    return elapsed, float(json.loads(out.strip().splitlines()[-1]))


def run(quick: bool) -> list[Result]:
    try:
        import loky  # noqa: F401  (the peer runs in its own process; fail here if it is missing)
    except ImportError as exc:
        raise RuntimeError("P19 needs loky: install the bench dependency group") from exc
    rounds = 5 if quick else 11
    times: dict[str, list[float]] = {name: [] for name in SCRIPTS}
    rss: dict[str, list[float]] = {name: [] for name in SCRIPTS}
    with tempfile.TemporaryDirectory(prefix="sk-bench-p19-") as tmp:
        paths = {}
        for i, (name, text) in enumerate(SCRIPTS.items()):
            paths[name] = Path(tmp) / f"p19_{i}.py"
            paths[name].write_text(text)
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache")
        # one untimed round: every module is compiled and in the OS file cache afterwards
        for name in SCRIPTS:
            _cold_run(paths[name], env)
        for _ in range(rounds):
            for name in SCRIPTS:
                elapsed, worker_rss = _cold_run(paths[name], env)
                times[name].append(elapsed)
                rss[name].append(worker_rss)
    med = {name: statistics.median(v) for name, v in times.items()}
    mem = {name: statistics.median(v) / 2**20 for name, v in rss.items()}
    return [
        Result(
            id="P19",
            name="cold start: fresh interpreter, Pool(workers=2), map 10 trivial items, exit",
            ours=med["ours"],
            peers={PEER: med[PEER], LOKY: med[LOKY]},
            bar="<= 1.2x",
            bar_peer=PEER,
            bar_ratio=1.2,
            notes=f"median of {rounds} rounds timed in turns",
        ),
        Result(
            id="P19",
            name="cold start: RSS of one worker after the map",
            ours=mem["ours"],
            unit="MiB",
            peers={PEER: mem[PEER], LOKY: mem[LOKY]},
            bar="<= 1.3x",
            bar_peer=PEER,
            bar_ratio=1.3,
            notes="mean over the workers that ran items, median of the rounds",
        ),
    ]
