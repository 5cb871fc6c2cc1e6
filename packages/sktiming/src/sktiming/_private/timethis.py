"""``@timethis()`` (time every call of a function) and ``TimeThis`` (time a block)."""

from __future__ import annotations

import functools
import inspect
import threading
import time as _time
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, TypeVar, cast

from sktiming._private.timer import Sktimer

F = TypeVar("F", bound=Callable[..., Any])

_perf_counter = _time.perf_counter

# Timers that @timethis() created on its own, by "module.qualname" of the function.
_GLOBAL_TIMERS: dict[str, Sktimer] = {}
_GLOBAL_LOCK = threading.Lock()


def _check_threshold(threshold: float) -> float:
    value = float(threshold)
    if not value >= 0.0:
        raise ValueError(f"threshold must be a non-negative number of seconds, got {threshold!r}")
    return value


def clear_global_timers() -> None:
    """Reset and forget every timer that ``@timethis()`` created on its own.

    The decorated functions keep their ``fn.timer`` (now empty) and go on recording into it.
    """
    with _GLOBAL_LOCK:
        timers = list(_GLOBAL_TIMERS.values())
        _GLOBAL_TIMERS.clear()
    for timer in timers:
        timer.reset()


def timethis(
    timer: Sktimer | None = None,
    *,
    threshold: float = 0.0,
    max_times: int | None = None,
) -> Callable[[F], F]:
    """Decorator that records the duration of every call of the function in an ``Sktimer``.

    With no ``timer`` a new one is created for the function and attached as ``fn.timer`` (one
    per function; for a method, one shared by all instances). Give a timer to share it between
    functions; it becomes ``fn.timer`` only when no inner ``@timethis()`` gave the function its
    own (so ``@timethis(shared) @timethis() def f`` keeps ``f.timer`` per function, as in 0.4). Calls shorter than ``threshold`` seconds are not recorded; ``max_times`` sets the
    timer's rolling window. Calls that raise are not recorded (as in suitkaise 0.4). Works on ``async def`` functions
    (the whole await is timed) and stacks with other decorators, including another ``timethis``.
    """
    threshold_value = _check_threshold(threshold)

    def decorate(fn: F) -> F:
        if not callable(fn):
            raise TypeError(f"@timethis() decorates a function, got {type(fn).__name__}")
        own = timer is None
        target = Sktimer(max_times=max_times) if timer is None else timer
        if not own and max_times is not None:
            target.set_max_times(max_times)
        # Lock-free recording: append to both lists (atomic), trim to the window if needed. The
        # lists are looked up on every call, not bound once: a pickled function's timer is a new
        # object with new lists.
        min_seconds = threshold_value
        wrapper: Callable[..., Any]

        if inspect.iscoroutinefunction(fn):
            async_fn = cast(Callable[..., Awaitable[Any]], fn)

            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                start = _perf_counter()
                result = await async_fn(*args, **kwargs)
                spent = _perf_counter() - start
                if spent >= min_seconds:
                    target._times.append(spent)
                    target._paused.append(0.0)
                    if target._max_times is not None:
                        target._trim()
                return result

            wrapper = async_wrapper
        else:

            def sync_wrapper(*args: Any, **kwargs: Any) -> Any:
                start = _perf_counter()
                result = fn(*args, **kwargs)
                spent = _perf_counter() - start
                if spent >= min_seconds:
                    target._times.append(spent)
                    target._paused.append(0.0)
                    if target._max_times is not None:
                        target._trim()
                return result

            wrapper = sync_wrapper

        functools.update_wrapper(wrapper, fn)  # also copies an inner @timethis()'s ``timer``
        if own or not hasattr(wrapper, "timer"):
            setattr(wrapper, "timer", target)  # noqa: B010 (a function attribute mypy cannot see)
        if own:
            key = f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', repr(fn))}"
            with _GLOBAL_LOCK:
                _GLOBAL_TIMERS[key] = target
        return cast(F, wrapper)

    return decorate


class TimeThis:
    """Context manager that times a block and yields its ``Sktimer``.

    ``with TimeThis() as timer: ...`` then ``timer.most_recent``; ``async with`` works the same.
    Inside the block ``timer.pause()``/``timer.resume()`` exclude time and ``timer.lap()`` records
    a lap (the ``TimeThis`` object has the same three methods). A block that raises is not
    recorded. Durations below ``threshold`` seconds are not recorded. With no ``timer`` a new
    ``Sktimer`` is created (reused if the same ``TimeThis`` is entered again).
    """

    __slots__ = ("threshold", "timer")

    def __init__(self, timer: Sktimer | None = None, *, threshold: float = 0.0) -> None:
        self.timer: Sktimer = Sktimer() if timer is None else timer
        self.threshold: float = _check_threshold(threshold)

    def __enter__(self) -> Sktimer:
        self.timer.start()
        return self.timer

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.timer._stop(self.threshold)
        else:
            self.timer.discard()

    async def __aenter__(self) -> Sktimer:
        return self.__enter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.__exit__(exc_type, exc, tb)

    def pause(self) -> None:
        """Stop counting time until ``resume()``."""
        self.timer.pause()

    def resume(self) -> None:
        """Count time again after ``pause()``."""
        self.timer.resume()

    def lap(self) -> float:
        """Record the time since the block started (or the last lap) and keep timing."""
        return self.timer._lap(self.threshold)

    def __repr__(self) -> str:
        return f"TimeThis(timer={self.timer!r}, threshold={self.threshold!r})"
