"""sk on functions: direct calls, every modifier, chaining order, async, errors, metadata."""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from concurrent.futures import Future
from typing import Any

import pytest
import sk_modifiers_test_helpers as helpers

from sk_modifiers import FunctionTimeoutError, SkModifierError, blocking, sk


def test_sk_returns_the_same_function_and_direct_calls_are_unchanged() -> None:
    def original(a: int, b: int = 1) -> int:
        """Doc."""
        return a + b

    decorated = sk(original)
    assert decorated is original
    assert decorated(1) == 2
    assert decorated.__name__ == "original"
    assert decorated.__doc__ == "Doc."


def test_modified_callables_keep_the_functions_metadata() -> None:
    chain = helpers.add.timeout(5.0).retry(2, delay=0.0)  # type: ignore[attr-defined]
    assert chain.__name__ == "add"
    assert chain.__qualname__ == "add"
    assert chain.__doc__ == "Add two numbers."
    assert chain.__wrapped__ is helpers.add


def test_every_modifier_returns_a_new_callable() -> None:
    base = helpers.add.retry(2, delay=0.0)  # type: ignore[attr-defined]
    with_timeout = base.timeout(5.0)
    assert with_timeout is not base
    assert base(1, 2) == with_timeout(1, 2) == 3


@pytest.mark.timeout(60)
def test_timeout_raises_on_a_blocking_call_and_the_call_keeps_running() -> None:
    gate = threading.Event()
    finished = threading.Event()

    @sk
    def wait_for_gate() -> str:
        gate.wait(30)
        finished.set()
        return "late"

    started = time.monotonic()
    with pytest.raises(FunctionTimeoutError, match=r"did not finish within 0\.2 s"):
        wait_for_gate.timeout(0.2)()  # type: ignore[attr-defined]
    assert time.monotonic() - started < 20  # generous: raised long before the gate
    assert not finished.is_set()  # still running in its worker thread
    gate.set()
    assert finished.wait(30)


def test_function_timeout_error_is_a_timeout_error_and_an_sk_error() -> None:
    assert issubclass(FunctionTimeoutError, TimeoutError)
    assert issubclass(FunctionTimeoutError, SkModifierError)


@pytest.mark.timeout(60)
def test_timeout_passes_results_and_exceptions_through() -> None:
    assert helpers.add.timeout(10.0)(2, 3) == 5  # type: ignore[attr-defined]

    @sk
    def boom() -> None:
        raise KeyError("inner")

    with pytest.raises(KeyError, match="inner"):
        boom.timeout(10.0)()  # type: ignore[attr-defined]


@pytest.mark.timeout(60)
def test_background_returns_a_future() -> None:
    future = helpers.nap.background()(0.01)  # type: ignore[attr-defined]
    assert isinstance(future, Future)
    assert future.result(timeout=30) == 0.01

    @sk
    def boom() -> None:
        raise ValueError("bg")

    failing = boom.background()()  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="bg"):
        failing.result(timeout=30)


@pytest.mark.timeout(60)
def test_background_runs_in_another_thread() -> None:
    @sk
    def where() -> int:
        return threading.get_ident()

    assert where.background()().result(timeout=30) != threading.get_ident()  # type: ignore[attr-defined]


@pytest.mark.timeout(60)
def test_asynced_runs_a_blocking_function_in_a_thread() -> None:
    async def main() -> float:
        return await helpers.nap.asynced()(0.01)  # type: ignore[attr-defined, no-any-return]

    assert asyncio.run(main()) == 0.01


def test_asynced_without_blocking_calls_is_invalid() -> None:
    with pytest.raises(SkModifierError, match="@blocking"):
        helpers.pure.asynced()  # type: ignore[attr-defined]


@pytest.mark.timeout(60)
def test_blocking_enables_asynced() -> None:
    assert helpers.crunch.has_blocking_calls  # type: ignore[attr-defined]
    assert asyncio.run(helpers.crunch.asynced()(10)) == 45  # type: ignore[attr-defined]


@pytest.mark.timeout(60)
def test_asynced_uses_the_native_coroutine_of_async_functions() -> None:
    async def main() -> tuple[int, bool]:
        loop_thread = threading.get_ident()
        seen: list[int] = []

        @sk
        async def where() -> int:
            seen.append(threading.get_ident())
            return 1

        value = await where.asynced()()  # type: ignore[attr-defined]
        return value, seen == [loop_thread]

    assert asyncio.run(main()) == (1, True)
    assert asyncio.run(helpers.async_double.asynced()(4)) == 8  # type: ignore[attr-defined]


@pytest.mark.timeout(60)
def test_modifiers_on_async_functions_are_async_aware() -> None:
    async def main() -> int:
        return await helpers.async_double.retry(2, delay=0.0).timeout(10.0)(5)  # type: ignore[attr-defined, no-any-return]

    assert asyncio.run(main()) == 10


@pytest.mark.timeout(60)
def test_async_timeout_cancels_a_native_coroutine() -> None:
    cancelled = []

    @sk
    async def forever() -> None:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    async def main() -> None:
        with pytest.raises(FunctionTimeoutError):
            await forever.asynced().timeout(0.05)()  # type: ignore[attr-defined]
        await asyncio.sleep(0.05)

    asyncio.run(main())
    assert cancelled == [True]


@pytest.mark.timeout(60)
def test_async_timeout_on_a_thread_call_does_not_hold_up_asyncio_run() -> None:
    gate = threading.Event()
    finished = threading.Event()

    @sk
    @blocking
    def wait_gate() -> None:
        gate.wait(30)
        finished.set()

    async def main() -> None:
        with pytest.raises(FunctionTimeoutError):
            await wait_gate.asynced().timeout(0.1)()  # type: ignore[attr-defined]

    asyncio.run(main())  # returns although the call is still blocked in its thread
    assert not finished.is_set()
    gate.set()
    assert finished.wait(30)


@pytest.mark.timeout(60)
def test_async_thread_calls_see_the_callers_context_variables() -> None:
    import contextvars

    request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id")

    @sk
    @blocking
    def read_id() -> str:
        return request_id.get()

    async def main() -> tuple[str, str]:
        request_id.set("abc")
        plain = await read_id.asynced()()  # type: ignore[attr-defined]
        timed = await read_id.asynced().timeout(10.0)()  # type: ignore[attr-defined]
        return plain, timed

    assert asyncio.run(main()) == ("abc", "abc")


@pytest.mark.timeout(60)
def test_an_inner_timeout_error_is_not_mistaken_for_the_modifiers_timeout() -> None:
    @sk
    async def raises_own() -> None:
        raise TimeoutError("mine")

    async def main() -> None:
        with pytest.raises(TimeoutError, match="mine") as info:
            await raises_own.asynced().timeout(10.0)()  # type: ignore[attr-defined]
        assert not isinstance(info.value, FunctionTimeoutError)

    asyncio.run(main())


# ------------------------------------------------------------------ retry


def _flaky(failures: int, exc: type[BaseException] = ConnectionError) -> tuple[object, list[int]]:
    attempts: list[int] = []

    @sk
    def flaky() -> str:
        attempts.append(len(attempts) + 1)
        if len(attempts) <= failures:
            raise exc(f"attempt {len(attempts)}")
        return "ok"

    return flaky, attempts


def test_retry_tries_up_to_times_attempts_in_all(fake_sleep: list[float]) -> None:
    flaky, attempts = _flaky(2)
    assert flaky.retry(times=3, delay=0.5)() == "ok"  # type: ignore[attr-defined]
    assert attempts == [1, 2, 3]
    assert fake_sleep == [0.5, 0.5]


def test_retry_raises_the_last_error_when_attempts_run_out(fake_sleep: list[float]) -> None:
    flaky, attempts = _flaky(10)
    with pytest.raises(ConnectionError, match="attempt 4"):
        flaky.retry(times=4, delay=1.0, backoff_factor=2.0)()  # type: ignore[attr-defined]
    assert attempts == [1, 2, 3, 4]
    assert fake_sleep == [1.0, 2.0, 4.0]


def test_retry_only_catches_the_given_exceptions(fake_sleep: list[float]) -> None:
    flaky, attempts = _flaky(1, KeyError)
    with pytest.raises(KeyError):
        flaky.retry(times=5, exceptions=(ConnectionError,))()  # type: ignore[attr-defined]
    assert attempts == [1]
    assert fake_sleep == []


def test_retry_defaults(fake_sleep: list[float]) -> None:
    flaky, attempts = _flaky(5)
    with pytest.raises(ConnectionError):
        flaky.retry()()  # type: ignore[attr-defined]
    assert attempts == [1, 2, 3]
    assert fake_sleep == [1.0, 1.0]


@pytest.mark.timeout(60)
def test_retry_real_delays_have_a_lower_bound() -> None:
    flaky, _attempts = _flaky(2)
    started = time.monotonic()
    assert flaky.retry(times=3, delay=0.05, backoff_factor=2.0)() == "ok"  # type: ignore[attr-defined]
    assert time.monotonic() - started >= 0.05 + 0.10 - 0.01


def test_async_retry_uses_async_sleep(fake_sleep: list[float]) -> None:
    attempts: list[int] = []

    @sk
    async def flaky() -> str:
        attempts.append(1)
        if len(attempts) < 3:
            raise ConnectionError
        return "ok"

    assert asyncio.run(flaky.asynced().retry(3, delay=0.25, backoff_factor=3.0)()) == "ok"  # type: ignore[attr-defined]
    assert fake_sleep == [0.25, 0.75]


# ------------------------------------------------------------------ rate limit


@pytest.mark.timeout(60)
def test_rate_limit_spaces_calls_through_one_chain() -> None:
    starts: list[float] = []

    @sk
    def stamp() -> None:
        starts.append(time.monotonic())

    limited = stamp.rate_limit(20.0)  # type: ignore[attr-defined]
    for _ in range(5):
        limited()
    # Lower bounds only, with room for a loaded machine preempting a thread between the
    # limiter letting a call through and the call's first line.
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert all(gap >= 0.025 for gap in gaps), gaps
    assert starts[-1] - starts[0] >= 0.2 - 0.03


@pytest.mark.timeout(60)
def test_rate_limit_is_shared_by_threads_using_the_same_chain() -> None:
    starts: list[float] = []
    lock = threading.Lock()

    @sk
    def stamp() -> None:
        with lock:
            starts.append(time.monotonic())

    limited = stamp.rate_limit(25.0)  # type: ignore[attr-defined]
    threads = [threading.Thread(target=limited) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    starts.sort()
    assert starts[-1] - starts[0] >= 5 * 0.04 - 0.02


def test_separate_chains_have_separate_limits(fake_sleep: list[float]) -> None:
    helpers.add.rate_limit(1.0)(1, 1)  # type: ignore[attr-defined]
    helpers.add.rate_limit(1.0)(1, 1)  # type: ignore[attr-defined]
    assert fake_sleep == []


def test_rate_limit_waits_once_per_call_before_retries(fake_sleep: list[float]) -> None:
    flaky, attempts = _flaky(2)
    chain = flaky.retry(times=3, delay=0.125).rate_limit(0.5)  # type: ignore[attr-defined]
    chain()
    assert attempts == [1, 2, 3]
    assert fake_sleep == [0.125, 0.125]  # first call: no rate-limit wait
    attempts.clear()
    chain()
    assert len(fake_sleep) == 5
    assert 1.0 < fake_sleep[2] <= 2.0  # the rate-limit wait comes first, once
    assert fake_sleep[3:] == [0.125, 0.125]


@pytest.mark.timeout(60)
def test_async_rate_limit_uses_async_sleep(fake_sleep: list[float]) -> None:
    async def main() -> None:
        chain = helpers.nap.asynced().rate_limit(0.5)  # type: ignore[attr-defined]
        await chain(0.0)
        await chain(0.0)

    asyncio.run(main())
    assert len(fake_sleep) == 1
    assert 1.0 < fake_sleep[0] <= 2.0


# ------------------------------------------------------------------ order


@pytest.mark.timeout(60)
@pytest.mark.parametrize("order", ["retry-then-timeout", "timeout-then-retry"])
def test_timeout_applies_per_attempt_inside_retry(order: str) -> None:
    gate = threading.Event()
    attempts: list[int] = []

    @sk
    def first_attempt_hangs() -> str:
        attempts.append(1)
        if len(attempts) == 1:
            gate.wait(30)
        return "second attempt"

    if order == "retry-then-timeout":
        chain = first_attempt_hangs.retry(2, delay=0.0).timeout(0.2)  # type: ignore[attr-defined]
    else:
        chain = first_attempt_hangs.timeout(0.2).retry(2, delay=0.0)  # type: ignore[attr-defined]
    try:
        assert chain() == "second attempt"
        assert len(attempts) == 2
    finally:
        gate.set()


@pytest.mark.timeout(60)
def test_background_with_timeout_and_retry() -> None:
    flaky, attempts = _flaky(1)
    future = flaky.background().timeout(10.0).retry(2, delay=0.0)()  # type: ignore[attr-defined]
    assert future.result(timeout=30) == "ok"
    assert attempts == [1, 2]


def test_chains_are_reusable() -> None:
    chain = helpers.add.retry(2, delay=0.0).timeout(10.0)  # type: ignore[attr-defined]
    assert [chain(i, i) for i in range(5)] == [0, 2, 4, 6, 8]


# ------------------------------------------------------------------ invalid use


@pytest.mark.parametrize(
    "make",
    [
        lambda: helpers.add.timeout(0),  # type: ignore[attr-defined]
        lambda: helpers.add.timeout(-1.0),  # type: ignore[attr-defined]
        lambda: helpers.add.timeout("5"),  # type: ignore[attr-defined]
        lambda: helpers.add.timeout(1.0).timeout(2.0),  # type: ignore[attr-defined]
        lambda: helpers.nap.background().asynced(),  # type: ignore[attr-defined]
        lambda: helpers.nap.asynced().background(),  # type: ignore[attr-defined]
        lambda: helpers.add.background().background(),  # type: ignore[attr-defined]
        lambda: helpers.add.retry(times=0),  # type: ignore[attr-defined]
        lambda: helpers.add.retry(delay=-1.0),  # type: ignore[attr-defined]
        lambda: helpers.add.retry(backoff_factor=0),  # type: ignore[attr-defined]
        lambda: helpers.add.retry(exceptions=(int,)),  # type: ignore[attr-defined]
        lambda: helpers.add.retry().retry(),  # type: ignore[attr-defined]
        lambda: helpers.add.rate_limit(0),  # type: ignore[attr-defined]
        lambda: helpers.add.rate_limit(1.0).rate_limit(2.0),  # type: ignore[attr-defined]
        lambda: sk(42),  # type: ignore[call-overload]
        lambda: sk(classmethod(lambda cls: None)),  # type: ignore[call-overload]
    ],
)
def test_invalid_use_raises_sk_modifier_error(make: object) -> None:
    with pytest.raises(SkModifierError):
        make()  # type: ignore[operator]


def test_unknown_modifier_is_an_attribute_error_that_lists_the_real_ones() -> None:
    with pytest.raises(AttributeError, match="rate_limit"):
        helpers.add.timeout(1.0).bogus  # type: ignore[attr-defined]  # noqa: B018


# ------------------------------------------------------------------ blocking detection


def test_blocking_calls_are_found_in_the_source() -> None:
    import socket
    import sqlite3
    import subprocess

    @sk
    def many(path: str) -> None:
        time.sleep(0.0)
        with open(path) as fh:
            fh.read()
        subprocess.run(["true"], check=False)
        sock = socket.create_connection(("localhost", 1))
        sock.recv(10)
        sqlite3.connect(":memory:").execute("select 1")

    assert many.has_blocking_calls  # type: ignore[attr-defined]
    found = many.blocking_calls  # type: ignore[attr-defined]
    for name in (
        "time.sleep",
        "open",
        "fh.read",
        "subprocess.run",
        "socket.create_connection",
        "sock.recv",
    ):
        assert name in found, (name, found)
    assert found[0] == "time.sleep"  # source order
    assert any("execute" in name for name in found)


def test_requests_calls_are_blocking() -> None:
    @sk
    def fetch(url: str) -> object:
        import requests  # type: ignore[import-not-found]

        return requests.get(url, timeout=5)

    assert fetch.blocking_calls == ["requests.get"]  # type: ignore[attr-defined]


def test_functions_without_blocking_calls() -> None:
    @sk
    def join_words(words: list[str]) -> str:
        return ", ".join(words).upper()

    assert not join_words.has_blocking_calls  # type: ignore[attr-defined]
    assert join_words.blocking_calls == []  # type: ignore[attr-defined]


def test_sources_that_cannot_be_read_have_no_blocking_calls() -> None:
    namespace: dict[str, object] = {}
    exec("def made_up():\n    import time\n    time.sleep(0)\n", namespace)
    made_up = sk(namespace["made_up"])  # type: ignore[call-overload]
    assert made_up.blocking_calls == []
    assert not made_up.has_blocking_calls


def test_sk_on_a_builtin_returns_a_callable_with_modifiers() -> None:
    wrapped = sk(len)
    assert wrapped([1, 2]) == 2
    assert wrapped.timeout(10.0)([1]) == 1  # type: ignore[attr-defined]


def test_sk_on_a_staticmethod_keeps_it_static() -> None:
    class Tools:
        @sk
        @staticmethod
        def twice(x: int) -> int:
            return 2 * x

    assert Tools.twice(2) == 4
    assert Tools().twice(3) == 6
    assert Tools.twice.retry(2, delay=0.0)(5) == 10  # type: ignore[attr-defined]


def test_awaited_and_asyncio_calls_are_not_blocking() -> None:
    @sk
    async def polite(reader: Any) -> bytes:
        await asyncio.sleep(0.1)
        data: bytes = await reader.read(10)
        asyncio.get_running_loop()
        return data

    @sk
    async def rude() -> None:
        time.sleep(0.1)

    assert polite.blocking_calls == []  # type: ignore[attr-defined]
    assert rude.blocking_calls == ["time.sleep"]  # type: ignore[attr-defined]


@pytest.mark.timeout(60)
def test_timeout_calls_reuse_their_worker_thread() -> None:
    def timeout_workers() -> int:
        return sum(1 for t in threading.enumerate() if t.name == "sk-modifiers-timeout")

    chain = helpers.add.timeout(30.0)  # type: ignore[attr-defined]
    chain(0, 0)
    before = timeout_workers()
    for i in range(50):
        assert chain(i, 1) == i + 1
    assert timeout_workers() <= before


def test_sk_on_other_callables() -> None:
    import functools

    class Adder:
        def __init__(self) -> None:
            self.total = 0

        def __call__(self, x: int) -> int:
            self.total += x
            return self.total

        def method(self, x: int) -> int:
            return x * 10

    adder = sk(Adder())
    assert adder(2) == 2
    assert adder.retry(2, delay=0.0)(3) == 5  # type: ignore[attr-defined]

    bound = sk(Adder().method)  # a bound method takes no attributes: a wrapper is returned
    assert bound(1) == 10
    assert bound.timeout(10.0)(2) == 20  # type: ignore[attr-defined]

    partial = sk(
        functools.partial(
            helpers.add.__wrapped__ if hasattr(helpers.add, "__wrapped__") else helpers.add, 1
        )
    )
    assert partial(2) == 3
    assert partial.background()(5).result(timeout=30) == 6  # type: ignore[attr-defined]


@pytest.mark.timeout(60)
def test_chain_of_a_function_decorated_at_run_time_works_in_a_fresh_interpreter() -> None:
    """``sk(fn)`` applied at run time to an importable function: the receiver imports the plain
    function (no modifier info on it), so the info must travel with the pickled chain."""
    import pickle
    import subprocess
    import sys
    from pathlib import Path

    chain = sk(helpers.triple).retry(times=2)  # type: ignore[attr-defined]
    timed = sk(helpers.triple).timeout(5.0)  # type: ignore[attr-defined]
    blob = pickle.dumps((chain, timed)).hex()
    code = (
        "import pickle, sys\n"
        f"sys.path.insert(0, {str(Path(__file__).parent)!r})\n"
        f"chain, timed = pickle.loads(bytes.fromhex({blob!r}))\n"
        "print(chain(4), timed(5))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=50)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["12", "15"]
