"""modifiable() and sk on methods: bound modifiers, native timeouts, library steps, pickling."""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import pickle
import threading
from collections.abc import Callable
from typing import Any

import pytest
import sk_modifiers_test_helpers as helpers
from sk_modifiers_test_helpers import Job, OwnError, OwnTimeoutError

from sk_modifiers import (
    BoundModifiable,
    FunctionTimeoutError,
    ModifiableMethod,
    Modified,
    SkModifierError,
    modifiable,
    sk,
)


def test_direct_calls_behave_like_the_plain_method() -> None:
    job = Job(3)
    job.done.set()
    assert job.result() == 3
    assert job.result(timeout=1.0) == 3
    assert job.map(str, [1, 2]) == ["1", "2"]
    assert Job.map(job, str, [3]) == ["3"]


def test_bound_metadata_is_like_a_bound_method() -> None:
    job = Job()
    bound = job.map
    assert isinstance(bound, BoundModifiable)
    assert isinstance(Job.__dict__["map"], ModifiableMethod)
    assert bound.__self__ is job
    assert bound.__name__ == "map"
    assert bound.__qualname__ == "Job.map"
    assert bound.__func__ is Job.__dict__["map"].func
    assert bound == job.map
    assert hash(bound) == hash(job.map)
    assert bound != Job().map
    assert bound.__doc__ == "Apply fn to items (timeouts wait in a thread)."
    assert Job.map.__doc__ == "Apply fn to items (timeouts wait in a thread)."
    assert Job.map.__name__ == "map"


@pytest.mark.timeout(60)
def test_native_timeout_is_passed_to_the_method_and_its_own_error_raised() -> None:
    job = Job()
    with pytest.raises(OwnTimeoutError, match=r"no result within 0\.1 s"):
        job.result.timeout(0.1)()
    assert job.calls == [("result", 0.1)]
    job.done.set()
    assert job.result.timeout(5.0)() == 7
    assert isinstance(OwnTimeoutError("x"), OwnError)


@pytest.mark.timeout(60)
def test_thread_timeout_raises_the_given_timeout_error() -> None:
    job = Job()
    try:
        with pytest.raises(OwnTimeoutError, match=r"did not finish within 0\.1 s"):
            job.map.timeout(0.1)(lambda _: job.done.wait(30), [1])
    finally:
        job.done.set()


@pytest.mark.timeout(60)
def test_default_timeout_error_is_function_timeout_error() -> None:
    job = Job()
    try:
        with pytest.raises(FunctionTimeoutError):
            job.block_until_done.timeout(0.1)()
    finally:
        job.done.set()


@pytest.mark.timeout(60)
def test_the_documented_processing_examples() -> None:
    job = Job(5)
    job.done.set()
    assert job.result.timeout(10.0)() == 5
    assert job.result.background()().result(timeout=30) == 5
    assert asyncio.run(job.result.asynced()()) == 5
    assert job.map.timeout(30.0)(str, [1]) == ["1"]
    assert job.map.background()(str, [1]).result(timeout=30) == ["1"]
    assert asyncio.run(job.map.asynced()(str, [1])) == ["1"]
    assert job.map.timeout(30.0).background()(str, [2]).result(timeout=30) == ["2"]
    assert asyncio.run(job.map.asynced().timeout(30.0)(str, [3])) == ["3"]


@pytest.mark.timeout(60)
def test_native_timeout_after_asynced_is_enforced_by_the_object() -> None:
    job = Job()

    async def main() -> None:
        with pytest.raises(OwnTimeoutError, match="no result"):
            await job.result.asynced().timeout(0.1)()

    asyncio.run(main())
    assert job.calls == [("result", 0.1)]


@pytest.mark.timeout(60)
def test_unbound_modifiers_take_self_as_first_argument() -> None:
    job = Job(9)
    job.done.set()
    assert Job.result.timeout(5.0)(job) == 9
    assert Job.map.retry(2, delay=0.0)(job, str, [1]) == ["1"]


def test_modifiable_methods_may_run_asynced_without_blocking_calls() -> None:
    class Lib:
        @modifiable()
        def compute(self) -> int:
            return 1

    assert asyncio.run(Lib().compute.asynced()()) == 1


@pytest.mark.timeout(60)
def test_native_async_implementation_is_used_by_asynced() -> None:
    class Lib:
        def __init__(self) -> None:
            self.used: list[str] = []

        @modifiable()
        def fetch(self, x: int) -> int:
            self.used.append("sync")
            return x

        @fetch.native_async
        async def fetch(self, x: int) -> int:  # type: ignore[no-redef]
            self.used.append("async")
            await asyncio.sleep(0)
            return x + 1

    lib = Lib()
    assert lib.fetch(1) == 1
    assert asyncio.run(lib.fetch.asynced()(1)) == 2
    assert asyncio.run(lib.fetch.asynced().timeout(10.0)(1)) == 2
    assert lib.used == ["sync", "async", "async"]
    with pytest.raises(SkModifierError, match="async def"):
        Lib.__dict__["fetch"].native_async(lambda self: None)


@pytest.mark.timeout(60)
def test_library_modifier_steps_compose_with_the_standard_ones() -> None:
    class Pool:
        @modifiable()
        def map(self, fn: Callable[..., Any], items: list[Any]) -> list[Any]:
            return [fn(item) for item in items]

        @map.modifier("star")
        def _star(call: Callable[..., Any]) -> Callable[..., Any]:
            @functools.wraps(call)
            def starred(fn: Callable[..., Any], items: list[Any]) -> list[Any]:
                return call(lambda args: fn(*args), items)

            return starred

    pool = Pool()
    pairs = [(1, 2), (3, 4)]
    add = lambda a, b: a + b  # noqa: E731
    assert pool.map.star()(add, pairs) == [3, 7]
    assert pool.map.star().timeout(30.0)(add, pairs) == [3, 7]
    assert pool.map.timeout(30.0).star()(add, pairs) == [3, 7]
    assert pool.map.star().background()(add, pairs).result(timeout=30) == [3, 7]
    assert asyncio.run(pool.map.star().asynced()(add, pairs)) == [3, 7]
    with pytest.raises(SkModifierError, match="twice"):
        pool.map.star().star()
    with pytest.raises(SkModifierError, match="new public identifier"):
        Pool.__dict__["map"].modifier("timeout")


def test_modifiable_rejects_invalid_arguments() -> None:
    with pytest.raises(SkModifierError):
        modifiable(timeout_error=int)  # type: ignore[arg-type]
    with pytest.raises(SkModifierError):
        modifiable(native_timeout="not valid")
    with pytest.raises(SkModifierError):
        modifiable()(staticmethod(lambda: None))  # type: ignore[arg-type]


def test_sk_on_a_method_in_a_class_body_binds_self() -> None:
    class Service:
        def __init__(self) -> None:
            self.n = 0

        @sk
        def bump(self, by: int) -> int:
            self.n += by
            return self.n

    service = Service()
    assert service.bump(1) == 1
    assert service.bump.retry(2, delay=0.0)(2) == 3
    assert service.bump.timeout(10.0)(3) == 6
    assert service.bump.background()(4).result(timeout=30) == 10


@pytest.mark.timeout(60)
def test_modified_calls_on_one_object_from_many_threads() -> None:
    job = Job()
    job.done.set()
    chain = job.map.timeout(30.0)
    results: list[Any] = []

    def use() -> None:
        results.append(chain(str, [1, 2]))

    threads = [threading.Thread(target=use) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert results == [["1", "2"]] * 8


# ------------------------------------------------------------------ pickling


def _round_trip(obj: Any) -> Any:
    return pickle.loads(pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL))


def test_sk_functions_pickle_by_reference_with_their_modifiers() -> None:
    assert _round_trip(helpers.add) is helpers.add
    assert _round_trip(helpers.add.timeout)(5.0)(1, 2) == 3  # type: ignore[attr-defined]


def test_modifier_chains_pickle() -> None:
    chain = helpers.add.rate_limit(100.0).retry(2, delay=0.0).timeout(10.0)  # type: ignore[attr-defined]
    clone = _round_trip(chain)
    assert isinstance(clone, Modified)
    assert clone(2, 3) == 5
    assert repr(clone) == repr(chain)


def test_bound_chains_and_bound_methods_pickle_with_their_object() -> None:
    job = Job(11)
    chain = _round_trip(job.map.timeout(30.0))
    assert chain(str, [1]) == ["1"]
    bound = _round_trip(job.result)
    assert isinstance(bound, BoundModifiable)
    bound.__self__.done.set()
    assert bound() == 11
    assert _round_trip(Job.__dict__["map"]) is Job.__dict__["map"]


def test_pickled_async_chain_still_runs() -> None:
    clone = _round_trip(helpers.nap.asynced().timeout(10.0))  # type: ignore[attr-defined]
    assert asyncio.run(clone(0.0)) == 0.0


def test_class_access_gives_the_function_carrying_the_modifiers() -> None:
    raw = Job.map
    assert raw is Job.__dict__["map"].func
    job = Job()
    assert raw(job, str, [1]) == ["1"]
    assert raw.timeout(10.0)(job, str, [2]) == ["2"]  # type: ignore[attr-defined]
    assert _round_trip(raw) is raw  # pickles by reference under its own name


def test_modifiable_on_a_plain_function_returns_the_function() -> None:
    def work(x: int) -> int:
        return x + 1

    decorated = modifiable()(work)
    assert decorated is work
    assert work.retry(2, delay=0.0)(1) == 2  # type: ignore[attr-defined]
    assert asyncio.run(work.asynced()(1)) == 2  # type: ignore[attr-defined]


def test_a_target_rebuilds_lazily_from_a_function_still_under_construction() -> None:
    """What happens when cucumber loads a class by value: the descriptor is rebuilt from a
    function whose attributes (``__sk_info__``...) are only set afterwards."""
    from sk_modifiers._private import modifiable as mod

    def method(self: Any, x: int) -> int:
        return x * 3

    method.__qualname__ = "Rebuilt.method"
    source = mod.ModifiableMethod(method, timeout_error=OwnTimeoutError)
    info = method.__dict__.pop(mod.INFO_ATTR)
    method.__dict__.pop(mod.TARGET_ATTR)  # as if the function's state was not loaded yet
    shell = mod._target_from_function(method)
    assert shell is not source
    setattr(method, mod.INFO_ATTR, info)  # the function's state arrives
    owner = type("Rebuilt", (), {"method": shell})
    obj = owner()
    assert obj.method(2) == 6
    assert obj.method.timeout(10.0)(2) == 6
    assert shell._sk_info.timeout_error is OwnTimeoutError


def test_signatures_are_those_of_the_call() -> None:
    import inspect

    job = Job()
    assert str(inspect.signature(job.map)) == "(fn: 'Any', items: 'list[Any]') -> 'list[Any]'"
    assert list(inspect.signature(job.map.timeout(1.0)).parameters) == ["fn", "items"]
    assert list(inspect.signature(Job.map).parameters) == ["self", "fn", "items"]
    assert list(inspect.signature(helpers.add.retry(2)).parameters) == ["a", "b"]  # type: ignore[attr-defined]


class _Starter:
    """A library whose calls start at call time: ``native_background`` hands back a Future."""

    def __init__(self) -> None:
        self.started: list[tuple[str, int, float | None]] = []
        self.futures: list[concurrent.futures.Future[int]] = []

    @modifiable(timeout_error=OwnTimeoutError, native_timeout="timeout")
    def fetch(self, x: int, timeout: float | None = None) -> int:
        self.started.append(("sync", threading.get_ident(), timeout))
        return x

    @fetch.native_background
    def fetch(  # type: ignore[no-redef]
        self, x: int, timeout: float | None = None
    ) -> concurrent.futures.Future[int]:
        if x < 0:
            raise ValueError("x must be >= 0")
        self.started.append(("native", threading.get_ident(), timeout))
        future: concurrent.futures.Future[int] = concurrent.futures.Future()
        self.futures.append(future)
        return future


@pytest.mark.timeout(60)
def test_native_background_starts_the_call_in_the_callers_thread() -> None:
    lib = _Starter()
    me = threading.get_ident()
    future = lib.fetch.background()(1)
    assert lib.started == [("native", me, None)]  # started before anything ran in a thread
    assert future is lib.futures[0]
    lib.futures[0].set_result(10)
    assert future.result(timeout=10) == 10
    lib.fetch.timeout(5.0).background()(2)
    assert lib.started[-1] == ("native", me, 5.0)  # native_timeout passed along
    assert lib.fetch(3) == 3  # a direct call is unchanged
    assert lib.started[-1] == ("sync", me, None)


@pytest.mark.timeout(60)
def test_native_background_is_used_by_asynced_at_call_time() -> None:
    lib = _Starter()
    me = threading.get_ident()

    async def main() -> int:
        awaitable = lib.fetch.asynced().timeout(7.0)(4)
        assert lib.started == [("native", me, 7.0)]  # started before the await
        lib.futures[0].set_result(40)
        return int(await awaitable)

    assert asyncio.run(main()) == 40


@pytest.mark.timeout(60)
def test_cancelling_the_awaiting_task_cancels_the_native_future() -> None:
    lib = _Starter()

    async def main() -> None:
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(lib.fetch.asynced()(5), 0.05)

    asyncio.run(main())
    assert lib.futures[0].cancelled()


@pytest.mark.timeout(60)
def test_native_background_errors_go_to_the_future_and_other_chains_use_the_generic_path() -> None:
    lib = _Starter()
    future = lib.fetch.background()(-1)
    with pytest.raises(ValueError, match="x must be"):
        future.result(timeout=10)
    # retry and rate_limit run in a background thread around the plain method
    assert lib.fetch.retry(2, delay=0.0).background()(6).result(timeout=10) == 6
    assert lib.fetch.rate_limit(100.0).background()(7).result(timeout=10) == 7
    assert asyncio.run(lib.fetch.retry(2, delay=0.0).asynced()(8)) == 8
    assert [kind for kind, _, _ in lib.started] == ["sync", "sync", "sync"]
    assert all(ident != threading.get_ident() for _, ident, _ in lib.started)


class _Tagged:
    """A library with a keyword-only step: ``.tag(t)`` passes ``tag=t`` to every form of the call."""

    def __init__(self) -> None:
        self.started: list[tuple[str, int, str | None]] = []

    @modifiable()
    def fetch(self, x: int, tag: str | None = None) -> int:
        self.started.append(("sync", threading.get_ident(), tag))
        return x

    @fetch.native_background
    def fetch(  # type: ignore[no-redef]
        self, x: int, tag: str | None = None
    ) -> concurrent.futures.Future[int]:
        self.started.append(("native", threading.get_ident(), tag))
        future: concurrent.futures.Future[int] = concurrent.futures.Future()
        future.set_result(x)
        return future

    @fetch.modifier("tag", arguments_only=True)
    def _tag(call: Callable[..., Any], tag: str) -> Callable[..., Any]:
        return functools.partial(call, tag=tag)

    @fetch.modifier("wrapped")
    def _wrapped(call: Callable[..., Any]) -> Callable[..., Any]:
        return call


@pytest.mark.timeout(60)
def test_an_arguments_only_step_keeps_the_native_background_start() -> None:
    lib = _Tagged()
    me = threading.get_ident()
    assert lib.fetch.tag("a")(1) == 1
    assert lib.fetch.tag("b").background()(2).result(timeout=10) == 2
    assert lib.started == [("sync", me, "a"), ("native", me, "b")]  # started in this thread
    # any other library step still takes the generic path (a thread around the plain call)
    assert lib.fetch.tag("c").wrapped().background()(3).result(timeout=10) == 3
    assert lib.started[-1][0::2] == ("sync", "c")
    assert lib.started[-1][1] != me


def test_native_background_needs_a_plain_function() -> None:
    async def not_plain(self: object) -> None:
        return None

    with pytest.raises(SkModifierError, match="native_background"):
        _Starter.__dict__["fetch"].native_background(not_plain)
