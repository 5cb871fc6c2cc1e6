"""The chaos workload: a mixed real workload while a chaos thread SIGKILLs our processes.

One implementation for both users:

- ``tests-integration/chaos/test_chaos.py`` runs it for a few seconds (CI);
- ``python tools/dev.py soak --minutes N`` runs this file as a script for N minutes.

What runs, all at once, in one parent process:

=============  ======================================================================================
pool           ``Pool.map`` / ``Pool.imap`` calls over numbered items; every item must end with exactly
               one correct result or one ``WorkerDiedError`` that names that item (items after a
               failure are submitted again in the next call, never counted twice).
skprocess      ``Tally`` processes with lives: each run adds its number to a total; a hard death
               resumes from the snapshot, so the result must be exactly ``1 + 2 + ... + runs``.
share          4 ``Writer`` processes per round do ``share.counter += 1`` and ``share.log.append``
               through one ``Share``: every write that returned must be there, exactly once.
pipe           an ``Echo`` process behind a ``Pipe``: every message comes back once, in order, intact.
chaos          a thread that SIGKILLs one random process every 0.2-1 s (seeded): a Pool worker, the
               child of the running ``Tally``, or the Share's coordinator (never a writer or the echo).
=============  ======================================================================================

Afterwards the parent's open fds, OS threads, RSS (< 10 % growth), our ``/dev/shm`` entries and its
child processes must be back to their values before the measured part (taken after one warm-up round
that creates the lazily started helpers: the fork server, the resource tracker, reusable threads; and,
with ``--warm-up SECONDS``, as the soak does, after that long under chaos, so that what the first kills
load once is in the baseline and the RSS check measures growth with the work: see ``run``).

Every random choice comes from ``random.Random`` objects derived from one seed, printed at the start
and with every failure (``--seed`` / ``SUITKAISE_CHAOS_SEED`` replays the same choices; the moments the
kills land still depend on the machine's scheduling).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import random
import signal
import sys
import threading
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import memory_probe
import psutil

from suitkaise.processing import Pipe, Pool, ProcessError, Share, Skprocess, WorkerDiedError

SHM = Path("/dev/shm")
SHM_PREFIXES = ("sk_", "sem.sk_")  # what our packages create there (as in the root conftest.py)
RSS_GROWTH_LIMIT = 0.10
SETTLE_SECONDS = 20.0  # how long released resources may take to be gone (reaped, closed, joined)

# --- code that runs in the children ------------------------------------------------------------------


def work(n: int) -> int:
    """About 0.1-0.5 ms of pure-Python work (a run of a ``Tally``)."""
    total = 0
    for i in range(200 + n % 800):
        total += i * i
    return total ^ n


def pool_item(n: int) -> tuple[int, int]:
    """A Pool item of 0-2 ms (mostly waiting, so that kills land inside items): its number and value."""
    time.sleep((n % 5) / 2000)
    return n, n * n


def announce_then_block(announce: str, release: str) -> None:
    """A Pool initializer: writes this worker's pid into the fifo ``announce``, then blocks until
    the fifo ``release`` gets a writer (the worker is "starting" all that time)."""
    with open(announce, "w") as fh:
        fh.write(f"{os.getpid()}\n")
    with open(release) as fh:
        fh.read()


class Tally(Skprocess):
    """``runs`` runs; run ``i`` (from 0) adds ``i + 1`` after a little work. Result: the total."""

    def __init__(self, runs: int, lives: int) -> None:
        self.process_config.runs = runs
        self.process_config.lives = lives
        self.total = 0

    def __run__(self) -> None:
        work(self.current_run)
        self.total += self.current_run + 1

    def __result__(self) -> int:
        return self.total


class Writer(Skprocess):
    """One run: ``share.counter += 1`` and ``share.log.append((wid, i))`` ``count`` times."""

    def __init__(self, share: Share, wid: int, count: int) -> None:
        self.process_config.runs = 1
        self.share = share
        self.wid = wid
        self.count = count

    def __run__(self) -> None:
        for i in range(self.count):
            self.share.counter += 1
            self.share.log.append((self.wid, i))

    def __result__(self) -> int:
        return self.count


class Echo(Skprocess):
    """Sends back every message it receives on its pipe until it receives ``None``. Result: how many."""

    def __init__(self, point: Any) -> None:
        self.process_config.runs = 1
        self.pipe = point
        self.echoed = 0

    def __run__(self) -> None:
        while (message := self.pipe.recv()) is not None:
            self.pipe.send(message)
            self.echoed += 1

    def __result__(self) -> int:
        return self.echoed


# --- figures -----------------------------------------------------------------------------------------


@dataclass
class Resources:
    """What the parent holds; compared before and after the measured part."""

    fds: int
    threads: int
    rss: int
    shm: list[str]
    children: list[int]

    @staticmethod
    def take() -> Resources:
        gc.collect()
        me = psutil.Process()
        return Resources(
            fds=me.num_fds(),
            threads=me.num_threads(),
            rss=me.memory_info().rss,
            shm=sorted(_our_shm_entries()),
            children=sorted(p.pid for p in me.children(recursive=True) if _running(p)),
        )


@dataclass
class Report:
    seed: int
    seconds: float
    kill_coordinator: bool
    kills: dict[str, int] = field(default_factory=lambda: {"pool": 0, "skprocess": 0, "share": 0})
    pool_calls: int = 0
    pool_items: int = 0
    pool_results: int = 0
    pool_worker_died: int = 0
    tallies: int = 0
    tally_runs: int = 0
    share_rounds: int = 0
    share_writes: int = 0
    pipe_messages: int = 0
    pipe_bytes: int = 0
    share_ids: list[str] = field(default_factory=list)
    rss_mib: list[float] = field(default_factory=list)  # the parent's RSS every tenth of the run
    warm_up: float = 0.0  # seconds of chaos before the baseline (see run())
    warm_up_rss_mib: list[float] = field(default_factory=list)  # the RSS samples of the warm-up
    # --memory-detail: a sample every tenth of the run (seconds, RSS, malloc's counts, traced Python
    # allocations; MiB), and the Python allocations that grew most from the mark to the end
    memory_detail: bool = False
    tracemalloc_frames: int = 0
    mark_at: float = 120.0
    memory: list[dict[str, float]] = field(default_factory=list)
    # --memory-detail: the same counts when each warm-up round ended and when the checks ran
    memory_marks: dict[str, dict[str, float]] = field(default_factory=dict)
    traced_growth: list[str] = field(default_factory=list)
    before: Resources | None = None
    after: Resources | None = None
    problems: list[str] = field(default_factory=list)

    def summary(self) -> str:
        lines = [
            f"chaos seed {self.seed}: {self.seconds:.0f} s, coordinator kills "
            f"{'on' if self.kill_coordinator else 'off'}",
            "kills: " + ", ".join(f"{k} {v}" for k, v in self.kills.items()),
            f"pool: {self.pool_calls} calls, {self.pool_items} items -> {self.pool_results} results "
            f"+ {self.pool_worker_died} WorkerDiedError",
            f"skprocess: {self.tallies} Tally processes, {self.tally_runs} runs",
            f"share: {self.share_rounds} rounds, {self.share_writes} writes (+= and append), "
            f"Share ids {self.share_ids}",
            f"pipe: {self.pipe_messages} messages, {self.pipe_bytes / 1e6:.1f} MB echoed",
        ]
        if self.warm_up_rss_mib:
            lines.append(
                f"RSS during the {self.warm_up:.0f} s warm-up under chaos: "
                + ", ".join(f"{v:.1f}" for v in self.warm_up_rss_mib)
                + " MiB"
            )
        if self.rss_mib:
            lines.append(
                f"RSS during the run: {min(self.rss_mib):.1f} to {max(self.rss_mib):.1f} MiB "
                f"({len(self.rss_mib)} samples, last {self.rss_mib[-1]:.1f})"
            )
        for sample in self.memory:
            lines.append("memory: " + ", ".join(f"{k} {v}" for k, v in sample.items()))
        for mark, sample in self.memory_marks.items():
            lines.append(f"memory {mark}: " + ", ".join(f"{k} {v}" for k, v in sample.items()))
        lines += self.traced_growth
        if self.before and self.after:
            b, a = self.before, self.after
            lines.append(
                f"resources before -> after: fds {b.fds} -> {a.fds}, threads {b.threads} -> "
                f"{a.threads}, RSS {b.rss / 2**20:.1f} -> {a.rss / 2**20:.1f} MiB "
                f"({(a.rss - b.rss) / b.rss:+.1%}), /dev/shm {len(b.shm)} -> {len(a.shm)}, "
                f"children {len(b.children)} -> {len(a.children)}"
            )
        lines += [f"PROBLEM: {p}" for p in self.problems]
        if self.problems:
            lines.append(f"replay with --seed {self.seed} (or SUITKAISE_CHAOS_SEED={self.seed})")
        return "\n".join(lines)


# --- the parts of the workload -----------------------------------------------------------------------


class _Run:
    """State shared by the workload threads and the chaos thread of one measured part."""

    def __init__(self, report: Report, deadline: float) -> None:
        self.report = report
        self.deadline = deadline
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.pool: Pool | None = None
        self.share: Share | None = None
        self.tally: Tally | None = None
        self.tally_kills = 0
        self.tally_kill_cap = 0

    def going(self) -> bool:
        return not self.stop.is_set() and time.monotonic() < self.deadline

    def problem(self, text: str) -> None:
        with self.lock:
            self.report.problems.append(text)
        self.stop.set()  # the first problem ends the run (and its chaos)


def _pool_part(run: _Run, pool: Pool, rng: random.Random) -> None:
    """Calls over numbered items until the deadline; check every item's outcome, call by call."""
    report = run.report
    next_item = 0
    while run.going():
        todo = list(range(next_item, next_item + rng.randint(20, 400)))
        next_item = todo[-1] + 1
        report.pool_items += len(todo)
        use_map = rng.random() < 0.3
        while todo:
            report.pool_calls += 1
            done: list[tuple[int, int]] = []
            error: BaseException | None = None
            try:
                if use_map:
                    done = pool.map(pool_item, todo)
                else:
                    for result in pool.imap(pool_item, todo):
                        done.append(result)
            except WorkerDiedError as exc:
                error = exc
            except Exception as exc:
                run.problem(f"pool: a call over items {todo[0]}..{todo[-1]} raised {exc!r}")
                return
            if error is None and len(done) != len(todo):
                run.problem(f"pool: {len(todo)} items gave {len(done)} results")
                return
            for (got, value), want in zip(done, todo, strict=False):  # done may stop early
                if got != want or value != want * want:
                    run.problem(f"pool: item {want} gave {(got, value)}")
                    return
            report.pool_results += len(done)
            if error is None:
                break
            # map gives no results of the failed call; imap gives those before the failing item
            failed = _failed_index(error)
            if failed is None or failed < len(done) or failed >= len(todo):
                run.problem(f"pool: an error that names no item of the call: {error}")
                return
            if "SIGKILL" not in str(error):
                run.problem(f"pool: the worker died, but not of our SIGKILL: {error}")
                return
            report.pool_worker_died += 1
            todo = [n for i, n in enumerate(todo) if i >= len(done) and i != failed]


def _failed_index(error: BaseException) -> int | None:
    words = str(error).split()
    with contextlib.suppress(ValueError, IndexError):
        return int(words[words.index("item") + 1])
    return None


def _tally_part(run: _Run, rng: random.Random) -> None:
    """``Tally`` processes one after another; the chaos kills at most ``lives - 2`` times each."""
    report = run.report
    while run.going():
        runs, lives = rng.randint(20, 120), 8
        tally = Tally(runs, lives)
        with run.lock:
            run.tally, run.tally_kills, run.tally_kill_cap = tally, 0, lives - 2
        tally.start()
        try:
            if not tally.wait(timeout=120):
                run.problem(f"skprocess: a Tally of {runs} runs did not finish within 120 s")
                tally.kill()
                tally.wait(timeout=30)
                return
            total = tally.result(timeout=30)
        except ProcessError as exc:
            run.problem(f"skprocess: a Tally of {runs} runs failed: {exc!r}")
            return
        finally:
            with run.lock:
                run.tally = None
        if total != runs * (runs + 1) // 2:
            run.problem(
                f"skprocess: a Tally of {runs} runs gave {total}, not {runs * (runs + 1) // 2}"
            )
            return
        report.tallies += 1
        report.tally_runs += runs


def _share_part(run: _Run, share: Share, rng: random.Random) -> None:
    """Rounds of 4 writers; after each, every write that returned is in the Share exactly once."""
    report = run.report
    while run.going():
        share.counter = 0
        share.log = []
        counts = [rng.randint(50, 400) for _ in range(4)]
        writers = [Writer(share, wid, n) for wid, n in enumerate(counts)]
        for writer in writers:
            writer.start()
        for writer in writers:
            try:
                writer.result(timeout=120)
            except ProcessError as exc:
                run.problem(f"share: a writer failed: {exc!r}")
                for other in writers:
                    with contextlib.suppress(ProcessError):
                        other.kill()
                    other.wait(timeout=30)
                return
        counter, log = share.counter, list(share.log)
        expected = sorted((wid, i) for wid, n in enumerate(counts) for i in range(n))
        if counter != sum(counts) or sorted(log) != expected:
            run.problem(
                f"share: {sum(counts)} increments and appends returned, the Share holds counter "
                f"{counter} and {len(log)} appended items ({len(set(log))} distinct)"
            )
            return
        report.share_rounds += 1
        report.share_writes += 2 * sum(counts)


def _pipe_part(run: _Run, rng: random.Random) -> None:
    """Messages of 0 B to 256 KiB through an ``Echo`` process; each must come back once, in order."""
    report = run.report
    anchor, point = Pipe.pair()
    echo = Echo(point)
    echo.start()
    sent = 0
    try:
        while run.going():
            burst = [
                (sent + i, rng.randbytes(rng.choice((0, 16, 1024, 65536, 262144))))
                for i in range(8)
            ]
            for message in burst:
                anchor.send(message)
            for message in burst:
                got = anchor.recv(timeout=60)
                if got != message:
                    run.problem(f"pipe: message {message[0]} came back as {got!r:.80}")
                    return
                report.pipe_bytes += len(message[1])
            sent += len(burst)
            report.pipe_messages = sent
            run.stop.wait(0.01)  # pacing: leave the CPU to the other parts between bursts
    finally:
        anchor.send(None)
        with contextlib.suppress(ProcessError):
            echoed = echo.result(timeout=60)
            if echoed != sent and not report.problems:
                run.problem(f"pipe: {sent} messages sent, the echo process saw {echoed}")
        anchor.close()


# --- the chaos ---------------------------------------------------------------------------------------


def _victims(run: _Run) -> dict[str, list[int]]:
    """Live pids by kind. These read internals (as our fault tests do): no public API names them."""
    victims: dict[str, list[int]] = {"pool": [], "skprocess": [], "share": []}
    if run.pool is not None:
        victims["pool"] = run.pool._engine.worker_pids()
    with run.lock:
        tally = run.tally
        if tally is not None and run.tally_kills < run.tally_kill_cap:
            child = getattr(tally._sk_rt, "_child", None)
            if child is not None and child.pid is not None:
                victims["skprocess"] = [child.pid]
    if run.report.kill_coordinator and run.share is not None and run.share._sk_owner is not None:
        proc = run.share._sk_owner.proc
        if proc is not None:
            victims["share"] = [proc.pid]
    return victims


def _chaos(run: _Run, rng: random.Random) -> None:
    """Every 0.2-1 s, SIGKILL one random victim (the coordinator at most once every 3 s)."""
    descendants_of = psutil.Process()
    last_coordinator_kill = -1e9
    while not run.stop.wait(rng.uniform(0.2, 1.0)) and time.monotonic() < run.deadline:
        victims = _victims(run)
        if time.monotonic() - last_coordinator_kill < 3.0:
            victims["share"] = []
        kinds = sorted(kind for kind, pids in victims.items() if pids)
        if not kinds:
            continue
        kind = rng.choice(kinds)
        pid = rng.choice(victims[kind])
        # only a running process of our own tree (a pid just reaped may already be someone else's)
        ours = {p.pid for p in descendants_of.children(recursive=True) if _running(p)}
        if pid not in ours:
            continue
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
            with run.lock:
                run.report.kills[kind] += 1
                if kind == "skprocess":
                    run.tally_kills += 1
            if kind == "share":
                last_coordinator_kill = time.monotonic()


def _sampler(run: _Run, every: float, traced: memory_probe.TracedGrowth | None) -> None:
    """The parent's RSS every ``every`` seconds, for the report (is memory flat over a long run?);
    with ``memory_detail`` also malloc's counts and the traced Python allocations."""
    me = psutil.Process()
    report = run.report
    started = time.monotonic()
    marked = False
    while not run.stop.wait(every) and time.monotonic() < run.deadline:
        rss = round(me.memory_info().rss / 2**20, 1)
        report.rss_mib.append(rss)
        if not report.memory_detail:
            continue
        elapsed = time.monotonic() - started
        sample = {"t": round(elapsed), **memory_probe.memory_sample(rss)}
        if traced is not None:
            sample["py_traced"] = traced.traced_mib()
            if not marked and elapsed >= report.mark_at:
                traced.mark()
                marked = True
        report.memory.append(sample)


# --- running it --------------------------------------------------------------------------------------


def _running(proc: psutil.Process) -> bool:
    try:
        return bool(proc.status() != psutil.STATUS_ZOMBIE)
    except psutil.Error:
        return False


def _our_shm_entries() -> set[str]:
    if not SHM.is_dir():
        return set()
    return {p.name for p in SHM.iterdir() if p.name.startswith(SHM_PREFIXES)}


def _measured_part(report: Report, seconds: float, *, chaos: bool) -> None:
    """One Pool, one Share and the four parts in threads (plus the chaos thread) for ``seconds``."""
    rngs = [random.Random(random.Random(report.seed).getrandbits(64) + i) for i in range(5)]
    run = _Run(report, time.monotonic() + seconds)
    with Pool(workers=3) as pool, Share() as share:
        run.pool, run.share = pool, share
        report.share_ids.append(share._sk_id())
        parts: list[tuple[str, Callable[[], None]]] = [
            ("pool", lambda: _pool_part(run, pool, rngs[0])),
            ("skprocess", lambda: _tally_part(run, rngs[1])),
            ("share", lambda: _share_part(run, share, rngs[2])),
            ("pipe", lambda: _pipe_part(run, rngs[3])),
        ]
        traced = None
        if chaos and report.tracemalloc_frames:
            traced = memory_probe.TracedGrowth(report.tracemalloc_frames)
        if chaos:
            every = min(60.0, max(1.0, seconds / 10))
            parts.append(("chaos", lambda: _chaos(run, rngs[4])))
            parts.append(("sampler", lambda: _sampler(run, every, traced)))
        threads = [_guarded_thread(run, name, body) for name, body in parts]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(seconds + 300)
            if thread.is_alive():
                run.problem(f"{thread.name}: still running 300 s after the deadline (hung)")
        if traced is not None:
            report.traced_growth = traced.report()
            tracemalloc.stop()
        run.pool = run.share = None


def _guarded_thread(run: _Run, name: str, body: Callable[[], None]) -> threading.Thread:
    def guarded() -> None:
        try:
            body()
        except BaseException as exc:
            run.problem(f"{name}: {exc!r}")

    return threading.Thread(target=guarded, name=f"chaos-{name}", daemon=True)


def _settled(check: Callable[[], list[str]]) -> list[str]:
    """``check()`` until it finds nothing, for at most SETTLE_SECONDS (reaping and closing take a moment)."""
    deadline = time.monotonic() + SETTLE_SECONDS
    pause = threading.Event()
    while (found := check()) and time.monotonic() < deadline:
        pause.wait(0.1)
    return found


def _leaks(report: Report) -> list[str]:
    before = report.before
    assert before is not None
    after = report.after = Resources.take()
    found = []
    if after.fds > before.fds:
        found.append(f"open fds {before.fds} -> {after.fds}")
    if after.threads > before.threads:
        found.append(f"OS threads {before.threads} -> {after.threads}")
    if after.rss > before.rss * (1 + RSS_GROWTH_LIMIT):
        found.append(f"RSS grew {(after.rss - before.rss) / before.rss:.1%} (limit 10%)")
    # only the entries of our own Shares: other programs on the machine may create and leak theirs
    ours = tuple(f"{prefix}{sid}_" for sid in report.share_ids for prefix in SHM_PREFIXES)
    left = [name for name in after.shm if name.startswith(ours)]
    if left:
        found.append(f"/dev/shm entries of this run's Shares left: {left}")
    new_children = set(after.children) - set(before.children)
    if new_children:
        found.append(f"child processes left: {sorted(new_children)}")
    return found


def run(
    seconds: float,
    seed: int,
    *,
    kill_coordinator: bool = True,
    warm_up: float = 0.0,
    memory_detail: bool = False,
    tracemalloc_frames: int = 0,
    mark_at: float = 120.0,
) -> Report:
    """The whole thing: a 1-second round without chaos (it starts the lazily created helpers: the fork
    server, the resource tracker, reusable threads), then ``warm_up`` seconds under chaos, then
    ``seconds`` under chaos, then the checks against the resources taken before that last part.

    A chaos warm-up puts into the baseline what the first minutes of kills allocate once and keep
    (modules and caches of the failure paths, the allocator's arenas at their working size), so
    the RSS check then measures growth with the work done: a leak.
    """
    report = Report(
        seed=seed,
        seconds=seconds,
        kill_coordinator=kill_coordinator,
        warm_up=warm_up,
        memory_detail=memory_detail or tracemalloc_frames > 0,
        tracemalloc_frames=tracemalloc_frames,
        mark_at=mark_at,
    )
    rounds = [(Report(seed=seed, seconds=1.0, kill_coordinator=False), False)]
    if warm_up > 0:
        rounds.append(
            (Report(seed=seed + 1, seconds=warm_up, kill_coordinator=kill_coordinator), True)
        )
    for before, chaos in rounds:
        _measured_part(before, before.seconds, chaos=chaos)
        if before.problems:
            report.problems += [f"warm-up: {p}" for p in before.problems]
            return report
        report.share_ids += before.share_ids
        report.warm_up_rss_mib += before.rss_mib
        _mark_memory(report, "after the chaos warm-up" if chaos else "after the calm round")
    report.before = Resources.take()
    _measured_part(report, seconds, chaos=True)
    for kind in ("pool", "skprocess") + (("share",) if kill_coordinator else ()):
        if report.kills[kind] == 0 and not report.problems:
            report.problems.append(f"the chaos never killed a {kind} process (too short a run?)")
    report.problems += _settled(lambda: _leaks(report))
    _mark_memory(report, "at the checks")
    return report


def _mark_memory(report: Report, mark: str) -> None:
    if report.memory_detail:
        gc.collect()
        rss = round(psutil.Process().memory_info().rss / 2**20, 1)
        report.memory_marks[mark] = memory_probe.memory_sample(rss)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    length = parser.add_mutually_exclusive_group()
    length.add_argument("--minutes", type=float, help="length of the measured part")
    length.add_argument("--seconds", type=float, help="length of the measured part (default 20)")
    parser.add_argument("--seed", type=int, default=None, help="replay a run (default: random)")
    parser.add_argument(
        "--no-coordinator-kills", action="store_true", help="leave the Share coordinator alone"
    )
    parser.add_argument("--json", type=Path, help="also write the report there as JSON")
    parser.add_argument(
        "--warm-up",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="run the workload under chaos this long before taking the baseline (default 0; the "
        "soak of tools/dev.py uses 120)",
    )
    parser.add_argument(
        "--memory-detail",
        action="store_true",
        help="sample malloc's counts (in use, held free) beside the RSS (see memory_probe.py)",
    )
    parser.add_argument(
        "--tracemalloc",
        type=int,
        default=0,
        metavar="FRAMES",
        help="trace Python allocations (FRAMES deep) and list those that grew from --mark-at to the end",
    )
    parser.add_argument(
        "--mark-at",
        type=float,
        default=120.0,
        metavar="SECONDS",
        help="when the early tracemalloc snapshot is taken (default 120)",
    )
    args = parser.parse_args(argv)
    seconds = args.minutes * 60 if args.minutes is not None else (args.seconds or 20.0)
    seed = args.seed if args.seed is not None else default_seed()
    print(f"chaos seed {seed}: {seconds:.0f} s of mixed workload under SIGKILLs", flush=True)
    started = time.monotonic()
    report = run(
        seconds,
        seed,
        kill_coordinator=not args.no_coordinator_kills,
        warm_up=args.warm_up,
        memory_detail=args.memory_detail,
        tracemalloc_frames=args.tracemalloc,
        mark_at=args.mark_at,
    )
    print(report.summary(), flush=True)
    print(f"wall time {time.monotonic() - started:.0f} s", flush=True)
    if args.json is not None:
        args.json.write_text(json.dumps(asdict(report), indent=1))
    return 1 if report.problems else 0


def default_seed() -> int:
    """``SUITKAISE_CHAOS_SEED`` if set, else a fresh random seed (always printed)."""
    configured = os.environ.get("SUITKAISE_CHAOS_SEED")
    return int(configured) if configured else random.SystemRandom().randrange(2**32)


if __name__ == "__main__":
    # Run the importable module, not this file as __main__: the children then import the workload's
    # classes and functions by name (this folder is on their sys.path through the fork server).
    import chaos_workload

    sys.exit(chaos_workload.main())
