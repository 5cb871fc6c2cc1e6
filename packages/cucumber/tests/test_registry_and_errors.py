"""register(), the __cucumber_reduce__ hook, debug paths, verbose walks and refused objects."""

from __future__ import annotations

import multiprocessing
import multiprocessing.shared_memory
import threading
from collections.abc import Iterator
from typing import Any

import pytest

import cucumber
from cucumber import SerializationError


class Handle:
    """Stands for an object pickle cannot handle (it holds a lock and a native resource id)."""

    def __init__(self, resource_id: int) -> None:
        self.resource_id = resource_id
        self._native = threading.Lock()  # pretend: only rebuildable from resource_id


def _rebuild_handle(resource_id: int) -> Handle:
    handle = Handle(resource_id)
    handle.rebuilt = True  # type: ignore[attr-defined]
    return handle


@pytest.fixture
def registered_handle() -> Iterator[None]:
    from cucumber._private import registry

    cucumber.register(Handle, lambda h: (_rebuild_handle, (h.resource_id,)))
    yield
    registry._user.pop(Handle, None)
    registry.clear_cache()


@pytest.mark.usefixtures("registered_handle")
def test_register_teaches_a_type() -> None:
    back = cucumber.deserialize(cucumber.serialize({"h": Handle(7)}))
    assert back["h"].resource_id == 7
    assert back["h"].rebuilt is True


@pytest.mark.usefixtures("registered_handle")
def test_register_applies_to_subclasses() -> None:
    class SubHandle(Handle):
        pass

    back = cucumber.deserialize(cucumber.serialize(SubHandle(3)))
    assert isinstance(back, Handle)
    assert back.resource_id == 3


def test_register_rejects_non_types() -> None:
    with pytest.raises(TypeError):
        cucumber.register("not a type", lambda o: o)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        cucumber.register(int, "not callable")  # type: ignore[arg-type]


class WithHook:
    def __init__(self, size: int) -> None:
        self.size = size
        self.cache = threading.Lock()

    def __cucumber_reduce__(self) -> Any:
        return WithHook, (self.size,)


def test_cucumber_reduce_hook_is_used() -> None:
    back = cucumber.deserialize(cucumber.serialize([WithHook(5), WithHook(6)]))
    assert [w.size for w in back] == [5, 6]
    assert not back[0].cache.locked()


class Payload:
    def __init__(self) -> None:
        self.name = "job"
        self.workers: list[Any] = [1, 2, 3, Worker()]


class Worker:
    def __init__(self) -> None:
        self.queue = multiprocessing.get_context("spawn").SimpleQueue()


def test_debug_shows_the_path_and_the_handler() -> None:
    payload = Payload()
    try:
        with pytest.raises(SerializationError) as info:
            cucumber.serialize(payload, debug=True)
    finally:
        payload.workers[3].queue.close()
    message = str(info.value)
    assert "Payload -> workers[3] -> queue" in message
    assert "multiprocessing refusal" in message
    assert "Share" in message or "Pipe" in message


def test_without_debug_the_message_still_has_the_path() -> None:
    class Box:
        def __init__(self) -> None:
            self.gen_frame = (lambda: (yield))().gi_frame  # frames cannot be pickled

    with pytest.raises(SerializationError) as info:
        cucumber.serialize(Box())
    assert "Box -> gen_frame (builtins.frame)" in str(info.value)
    assert "debug=True" in str(info.value)
    with pytest.raises(
        SerializationError, match=r"Box -> gen_frame \(builtins.frame, handler: pickle default"
    ):
        cucumber.serialize(Box(), debug=True)


def test_verbose_prints_the_walk(capsys: pytest.CaptureFixture[str]) -> None:
    data = cucumber.serialize({"lock": threading.Lock(), "n": [1, 2]}, verbose=True)
    err = capsys.readouterr().err
    assert "dict['lock']: _thread.lock -> threading.Lock" in err
    assert "dict['n']: builtins.list (2 items)" in err
    cucumber.deserialize(data, verbose=True)
    assert "cucumber deserialize: format v2" in capsys.readouterr().err


@pytest.mark.parametrize(
    "make",
    [
        lambda ctx: ctx.Queue(),
        lambda ctx: ctx.SimpleQueue(),
        lambda ctx: ctx.Lock(),
        lambda ctx: ctx.Event(),
        lambda ctx: ctx.Value("i", 1),
        lambda ctx: ctx.Pipe()[0],
    ],
    ids=["Queue", "SimpleQueue", "Lock", "Event", "Value", "Connection"],
)
def test_process_bound_multiprocessing_objects_are_refused(make: Any) -> None:
    obj = make(multiprocessing.get_context("spawn"))
    try:
        with pytest.raises(SerializationError) as info:
            cucumber.serialize({"x": obj})
        message = str(info.value)
        assert "multiprocessing" in message
        assert "Share" in message or "Pipe" in message
    finally:
        close = getattr(obj, "close", None)
        if close is not None:
            close()


def test_shared_memory_is_refused() -> None:
    shm = multiprocessing.shared_memory.SharedMemory(
        name="sk_cucumber_refusal_test", create=True, size=16
    )
    try:
        with pytest.raises(SerializationError, match="shared_memory"):
            cucumber.serialize(shm)
    finally:
        shm.close()
        shm.unlink()


def test_running_coroutine_is_refused_with_advice() -> None:
    import asyncio

    async def waiter(event: asyncio.Event) -> None:
        await event.wait()

    async def main() -> str:
        event = asyncio.Event()
        task = asyncio.ensure_future(waiter(event))
        await asyncio.sleep(0)
        coro = task.get_coro()
        try:
            cucumber.serialize(coro)
        except SerializationError as exc:
            return str(exc)
        finally:
            event.set()
            await task
        return ""

    assert "not-yet-started" in asyncio.run(main())


def test_infinite_iterator_is_refused_not_hung(monkeypatch: pytest.MonkeyPatch) -> None:
    from cucumber._private.families import runtime

    monkeypatch.setattr(runtime, "MAX_ITERATOR_ITEMS", 1000)

    def forever() -> Iterator[int]:
        while True:
            yield 1

    with pytest.raises(SerializationError, match="infinite"):
        cucumber.serialize(forever())


def test_type_cache_stays_bounded_with_classes_made_on_the_fly() -> None:
    from cucumber._private import registry

    for i in range(registry.MAX_CACHED_TYPES + 50):
        cls = type(f"Dyn{i}", (), {})
        registry.lookup(cls)
    assert len(registry.cache()) <= registry.MAX_CACHED_TYPES
    assert cucumber.deserialize(cucumber.serialize(threading.Event())).is_set() is False
