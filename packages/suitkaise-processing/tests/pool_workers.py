"""Functions and classes the Pool tests send to workers (importable by name in a fresh interpreter)."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from typing import Any

from sk_modifiers import sk
from suitkaise_processing import Pool, Skprocess


def double(x: int) -> int:
    return x * 2


def add(a: int, b: int) -> int:
    return a + b


def identity(x: Any) -> Any:
    return x


def pid_of(_: object) -> int:
    return os.getpid()


def square_slowly(x: int) -> int:
    time.sleep(0.02)
    return x * x


class ItemError(ValueError):
    """Raised by :func:`fail_at` (a picklable exception with a custom attribute)."""

    def __init__(self, message: str, index: int = -1) -> None:
        super().__init__(message)
        self.index = index

    def __reduce__(self) -> tuple[Any, ...]:
        return (ItemError, (self.args[0], self.index))


def fail_at(x: int, bad: tuple[int, ...] = (7,)) -> int:
    if x in bad:
        raise ItemError(f"item {x} is bad", x)
    return x * 2


def fail_on_7(x: int) -> int:
    return fail_at(x, (7,))


def fail_on_3_and_7(x: int) -> int:
    return fail_at(x, (3, 7))


def fail_late_slow_early(x: int) -> int:
    """Item 0 fails after a while, item 5 fails at once: map must raise item 0's error."""
    if x == 0:
        time.sleep(0.3)
        raise ItemError("item 0 failed", 0)
    if x == 5:
        raise ItemError("item 5 failed", 5)
    return x


def kill_self_at_7(x: int) -> int:
    if x == 7:
        os.kill(os.getpid(), signal.SIGKILL)
    return x * 2


def fail_first_then_sleep(x: int) -> int:
    if x == 0:
        time.sleep(0.2)
        raise ItemError("item 0 failed", 0)
    time.sleep(3600)
    return x


def kill_self_at_5_50_95(x: int) -> int:
    if x in (5, 50, 95):
        os.kill(os.getpid(), signal.SIGKILL)
    return x * 2


def sys_exit_at_1(x: int) -> int:
    if x == 1:
        sys.exit(3)
    return x * 2


def abort_at_3(x: int) -> int:
    if x == 3:
        os.abort()  # like a segfault: the interpreter dies without cleanup
    return x * 2


def exit_at_2(x: int) -> int:
    if x == 2:
        os._exit(9)
    return x * 2


_flaky_calls: dict[int, int] = {}


@sk
def flaky_double(x: int) -> int:
    """Fails the first time it sees each item in a process; ``.retry()`` makes it succeed."""
    _flaky_calls[x] = _flaky_calls.get(x, 0) + 1
    if _flaky_calls[x] == 1:
        raise ConnectionError(f"flaky {x}")
    return x * 2


class Unpicklable:
    """Refuses every serializer."""

    def __reduce__(self) -> Any:
        raise TypeError("Unpicklable refuses to be pickled")


def unpicklable_result_at_4(x: int) -> Any:
    if x == 4:
        return Unpicklable()
    return x


class WeirdInitError(Exception):
    """Pickles fine but cannot be rebuilt (its __init__ needs two arguments)."""

    def __init__(self, a: str, b: str) -> None:
        super().__init__(a)
        self.b = b


def raise_weird(x: int) -> int:
    raise WeirdInitError(f"weird {x}", "b")


class HoldsUnpicklable(Exception):
    """An exception carrying an object nothing can serialize."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.payload = Unpicklable()


def raise_unpicklable(x: int) -> int:
    raise HoldsUnpicklable(f"cannot send {x}")


def sleep_forever(x: int) -> int:
    if x == 0:
        return 0
    time.sleep(3600)
    return x


def announce_then_sleep(path: str) -> int:
    """Write this worker's pid into the FIFO at ``path`` (the test kills us), then sleep."""
    with open(path, "w") as fifo:
        fifo.write(f"{os.getpid()}\n")
    time.sleep(3600)
    return -1


def first_item_fast(x: int) -> int:
    if x == 0:
        return 0
    time.sleep(3600)
    return x


_init_value: list[Any] = []


def set_init_value(value: Any) -> None:
    _init_value.append(value)


def read_init_value(_: object) -> Any:
    return _init_value[-1] if _init_value else None


def dying_initializer() -> None:
    os._exit(3)


def failing_initializer() -> None:
    raise RuntimeError("initializer broke on purpose")


def log_warning(x: int) -> int:
    logging.getLogger("pool_workers.items").warning("item %d says hello", x)
    return x


def nested_sum(n: int) -> int:
    """Uses a Pool inside a Pool worker."""
    with Pool(workers=1) as inner:
        return sum(inner.map(double, range(n)))


class UsesAPool(Skprocess):
    """An Skprocess whose run maps over its own Pool."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.process_config.runs = 1

    def __run__(self) -> None:
        with Pool(workers=2) as pool:
            self.total = sum(pool.map(double, range(self.n)))

    def __result__(self) -> int:
        return self.total


class ProcessItem(Skprocess):
    """The how-to's Pool example: one run computing on its item."""

    def __init__(self, item: int) -> None:
        self.item = item
        self.process_config.runs = 1

    def __run__(self) -> None:
        self.result_data = self.item * self.item

    def __result__(self) -> int:
        return self.result_data


class AddProcess(Skprocess):
    """Two-argument Skprocess for ``pool.star().map``."""

    def __init__(self, a: int, b: int) -> None:
        self.a = a
        self.b = b
        self.process_config.runs = 1

    def __run__(self) -> None:
        self.total = self.a + self.b

    def __result__(self) -> int:
        return self.total


class CountingProcess(Skprocess):
    """Several runs; the result counts them."""

    def __init__(self, runs: int) -> None:
        self.counter = 0
        self.process_config.runs = runs

    def __run__(self) -> None:
        self.counter += 1

    def __result__(self) -> int:
        return self.counter


_attempts: dict[int, int] = {}


class FlakyProcess(Skprocess):
    """Fails its first attempt, succeeds with its second life (the retry runs in the same worker)."""

    def __init__(self, item: int) -> None:
        self.item = item
        self.process_config.runs = 1
        self.process_config.lives = 2

    def __run__(self) -> None:
        _attempts[self.item] = _attempts.get(self.item, 0) + 1
        if _attempts[self.item] == 1:
            raise RuntimeError("first attempt fails")
        self.value = self.item

    def __result__(self) -> int:
        return self.value


class FailingProcess(Skprocess):
    """Its run raises; no lives left."""

    def __init__(self, item: int) -> None:
        self.item = item
        self.process_config.runs = 1

    def __run__(self) -> None:
        raise KeyError(f"run failed for {self.item}")


class SlowSectionProcess(Skprocess):
    """Item 1 blocks in __run__ past its timeout; the others finish."""

    def __init__(self, item: int) -> None:
        self.item = item
        self.process_config.runs = 1
        self.process_config.timeouts.run = 1.0

    def __run__(self) -> None:
        if self.item == 1:
            time.sleep(3600)
        self.value = self.item

    def __result__(self) -> int:
        return self.value


class TimeoutThenRecover(Skprocess):
    """Item 1's first run blocks past its timeout; its second life (same worker pool) finishes.

    The first attempt records itself in a file named by the item, so the retry (in a fresh
    worker) knows it is the second one.
    """

    def __init__(self, item: int, marker_dir: str) -> None:
        self.item = item
        self.marker = os.path.join(marker_dir, f"attempt_{item}")
        self.process_config.runs = 2
        self.process_config.lives = 2
        self.process_config.timeouts.run = 1.0
        self.total = 0

    def __run__(self) -> None:
        if self.current_run == 0:
            with open(self.marker + "_run0", "a") as log:
                log.write("x")
        if self.item == 1 and self.current_run == 1 and not os.path.exists(self.marker):
            open(self.marker, "w").close()
            time.sleep(3600)
        self.total += 10

    def __result__(self) -> tuple[int, int, int]:
        with open(self.marker + "_run0") as log:
            return self.item, self.total, len(log.read())


class TimeoutWithHandler(Skprocess):
    """Times out with one life; ``__error__`` turns the error into a value."""

    def __init__(self, item: int) -> None:
        self.item = item
        self.process_config.runs = 1
        self.process_config.timeouts.run = 1.0

    def __run__(self) -> None:
        if self.item == 1:
            time.sleep(3600)

    def __result__(self) -> str:
        return f"ok {self.item}"

    def __error__(self) -> str:
        return f"handled {type(self.error).__name__} for {self.item}"


def main_interrupted_map() -> None:
    """Run as a parent process: print the worker pids, then block in a map the test interrupts."""
    with Pool(workers=2) as pool:
        pool.map(double, range(4))
        print("pids " + " ".join(str(p) for p in pool._engine.worker_pids()), flush=True)
        try:
            pool.map(announce_and_block, range(2))
        except KeyboardInterrupt:
            print("interrupted", flush=True)
            raise


def announce_and_block(x: int) -> int:
    print(f"started {x}", flush=True)
    time.sleep(3600)
    return x


def thread_count(_: object) -> int:
    return threading.active_count()


def main_exit_without_cleanup() -> None:
    """Run as a parent process: print the worker pids, then exit at once without closing the pool."""
    pool = Pool(workers=2)
    pool.map(double, range(4))
    print("pids " + " ".join(str(p) for p in pool._engine.worker_pids()), flush=True)
    os._exit(0)


if __name__ == "__main__":
    if sys.argv[1:] == ["interrupted-map"]:
        main_interrupted_map()
    elif sys.argv[1:] == ["exit-without-cleanup"]:
        main_exit_without_cleanup()


def announce_and_wait_or_double(arg: Any, *rest: Any) -> Any:
    """A Pool item: an ``int`` is doubled; a ``str`` is a folder holding the fifos ``pid`` and ``go``.

    The first run of the ``str`` item writes this worker's pid into ``pid`` and then waits on ``go``,
    which the test never opens: it SIGKILLs the worker instead. A second run of the same item (the
    pool ran the killed item again) returns ``-1`` at once, so the test sees it instead of hanging.
    """
    if not isinstance(arg, str):
        return arg * 2 + sum(rest)
    folder = arg
    try:
        with open(os.path.join(folder, "ran"), "x"):
            pass
    except FileExistsError:
        return -1
    with open(os.path.join(folder, "pid"), "w") as fifo:
        fifo.write(f"{os.getpid()}\n")
    with open(os.path.join(folder, "go")) as go:  # blocks: nobody opens it for writing
        go.read()
    return -2


def announce_and_wait_or_slow_double(arg: Any, *rest: Any) -> Any:
    """Like ``announce_and_wait_or_double``, but an ``int`` first spins for ~20 us (a "slow" item)."""
    if isinstance(arg, str):
        return announce_and_wait_or_double(arg, *rest)
    until = time.perf_counter() + 20e-6
    while time.perf_counter() < until:
        pass
    return announce_and_wait_or_double(arg, *rest)


def exit_at_3000(x: int) -> int:
    if x == 3000:
        os._exit(9)
    return x * 2


def send_garbage_frame(_: object) -> None:
    """Write a frame header announcing 2**62 bytes on the worker's own result connection (as a
    corrupted worker would), then wait to be replaced."""
    import gc
    import struct

    from suitkaise_processing._private.pool._worker import _Sender

    (sender,) = [o for o in gc.get_objects() if isinstance(o, _Sender)]
    with sender.lock:
        os.write(sender.conn.fileno(), struct.pack("!i", -1) + struct.pack("!Q", 2**62))
        threading.Event().wait()
