"""``Modified``: an immutable chain of modifiers over one callable, and how it runs a call.

Execution order is fixed whatever the order the modifiers were given in:
rate limit (outermost, once per call) -> retry -> timeout (per attempt) -> library steps -> call.
``.background()`` runs all of that in a thread pool and returns a ``Future``; ``.asynced()`` returns
a coroutine and makes every step async-aware. A target with a ``native_background`` implementation
starts plain background/asynced calls itself, in the caller's thread.
"""

from __future__ import annotations

import concurrent.futures
import inspect
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any

from sk_modifiers._private import policies
from sk_modifiers._private.errors import SkModifierError
from sk_modifiers._private.policies import RateLimiter, RetryPolicy
from sk_modifiers._private.workers import (
    daemon_workers,
    run_in_daemon_thread,
    submit_background,
)

if TYPE_CHECKING:
    import asyncio

    from sk_modifiers._private.modifiable import ModifiableMethod

# asyncio is imported where a coroutine needs it: importing it costs ~25 ms and ~8 MB (ssl) in
# every process that imports this package, Pool workers included.

_SYNC, _BACKGROUND, _ASYNCED = "sync", "background", "asynced"

Extra = tuple[str, tuple[Any, ...], dict[str, Any]]


async def _await_future(future: concurrent.futures.Future[Any]) -> Any:
    import asyncio

    # Cancelling the awaiting task cancels ``future`` (asyncio.wrap_future does).
    return await asyncio.wrap_future(future)


def _consume_result(task: asyncio.Future[Any]) -> None:
    # A timed-out task is abandoned: retrieve its outcome so asyncio does not log it.
    if not task.cancelled():
        task.exception()


class FunctionDoc:
    """``__doc__`` of a wrapper class: the class's own docstring on the class, the wrapped
    function's docstring on instances (like ``functools.wraps`` would give)."""

    def __init__(self, class_doc: str) -> None:
        self.class_doc = class_doc

    def __get__(self, obj: Any, objtype: type | None = None) -> str | None:
        if obj is None:
            return self.class_doc
        doc: str | None = obj._sk_doc()
        return doc


class Modified:
    __doc__ = FunctionDoc(
        """A callable with modifiers applied; every modifier method returns a new ``Modified``.

    Reusable (call it any number of times; a ``rate_limit`` is shared by all calls through the
    same object) and picklable when the underlying function and bound object are. On an
    instance, ``__doc__`` is the function's docstring.
    """
    )

    __slots__ = ("_extras", "_limiter", "_mode", "_obj", "_retry", "_target", "_timeout")

    def __init__(
        self,
        target: ModifiableMethod,
        obj: object = None,
        *,
        timeout: float | None = None,
        retry: RetryPolicy | None = None,
        limiter: RateLimiter | None = None,
        mode: str = _SYNC,
        extras: tuple[Extra, ...] = (),
    ) -> None:
        self._target = target
        self._obj = obj
        self._timeout = timeout
        self._retry = retry
        self._limiter = limiter
        self._mode = mode
        self._extras = extras

    def _replace(self, **changes: Any) -> Modified:
        fields: dict[str, Any] = {
            "timeout": self._timeout,
            "retry": self._retry,
            "limiter": self._limiter,
            "mode": self._mode,
            "extras": self._extras,
        }
        fields.update(changes)
        return Modified(self._target, self._obj, **fields)

    def _name(self) -> str:
        return self._target._sk_display_name()

    # ---------------------------------------------------------------- modifiers

    def timeout(self, seconds: float) -> Modified:
        """Fail with the timeout error when one attempt takes longer than ``seconds``."""
        if self._timeout is not None:
            raise SkModifierError(f"{self._name()}: .timeout() given twice in one modifier chain")
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not seconds > 0:
            raise SkModifierError(
                f"{self._name()}: .timeout(seconds) needs a number of seconds > 0, got {seconds!r}"
            )
        return self._replace(timeout=float(seconds))

    def background(self) -> Modified:
        """Run the call in a thread pool; calling returns a ``concurrent.futures.Future``."""
        if self._mode != _SYNC:
            raise SkModifierError(
                f"{self._name()}: .background() cannot be combined with .{self._mode}() "
                "(choose a Future or an awaitable)"
            )
        return self._replace(mode=_BACKGROUND)

    def asynced(self) -> Modified:
        """Make the call awaitable (a native coroutine when one exists, else ``asyncio.to_thread``)."""
        if self._mode != _SYNC:
            raise SkModifierError(
                f"{self._name()}: .asynced() cannot be combined with .{self._mode}() "
                "(choose an awaitable or a Future)"
            )
        self._target._sk_check_asyncable()
        return self._replace(mode=_ASYNCED)

    def retry(
        self,
        times: int = 3,
        delay: float = 1.0,
        backoff_factor: float = 1.0,
        exceptions: type[BaseException] | tuple[type[BaseException], ...] = (Exception,),
    ) -> Modified:
        """Try up to ``times`` attempts in all, waiting ``delay`` then ``delay*backoff_factor``..."""
        if self._retry is not None:
            raise SkModifierError(f"{self._name()}: .retry() given twice in one modifier chain")
        return self._replace(retry=RetryPolicy(times, delay, backoff_factor, exceptions))

    def rate_limit(self, per_second: float) -> Modified:
        """Start calls through this chain at most ``per_second`` times per second."""
        if self._limiter is not None:
            raise SkModifierError(
                f"{self._name()}: .rate_limit() given twice in one modifier chain"
            )
        return self._replace(limiter=RateLimiter(per_second))

    # functools.wraps-like metadata, read from the underlying function.
    @property
    def __wrapped__(self) -> Callable[..., Any]:
        return self._target._sk_info.fn

    @property
    def __signature__(self) -> inspect.Signature:
        """The function's signature, without ``self`` when bound (what the call accepts)."""
        signature = inspect.signature(self._target._sk_info.fn)
        if self._obj is not None:
            params = list(signature.parameters.values())[1:]
            signature = signature.replace(parameters=params)
        return signature

    def _sk_doc(self) -> str | None:
        doc = getattr(self._target._sk_info.fn, "__doc__", None)
        return doc if isinstance(doc, str) else None

    def __getattr__(self, name: str) -> Callable[..., Modified]:
        # Only reached for names not found normally: __name__/__qualname__ of the function,
        # and library-defined modifier steps (ModifiableMethod.modifier).
        if name in ("__name__", "__qualname__"):
            return getattr(self._target._sk_info.fn, name)  # type: ignore[no-any-return]
        if name.startswith("_"):
            raise AttributeError(name)
        steps = self._target._sk_info.steps
        if name not in steps:
            raise AttributeError(
                f"{type(self).__name__!r} object has no attribute {name!r}: the modifiers of "
                f"{self._name()} are timeout, background, asynced, retry, rate_limit"
                + "".join(f", {s}" for s in steps)
            )

        def add_step(*args: Any, **kwargs: Any) -> Modified:
            if any(existing == name for existing, _, _ in self._extras):
                raise SkModifierError(
                    f"{self._name()}: .{name}() given twice in one modifier chain"
                )
            return self._replace(extras=(*self._extras, (name, args, kwargs)))

        return add_step

    # ---------------------------------------------------------------- running

    def _base_call(self) -> Callable[..., Any]:
        call = self._target._sk_bound_call(self._obj)
        steps = self._target._sk_info.steps
        for name, args, kwargs in self._extras:
            call = steps[name](call, *args, **kwargs)
        return call

    def _timeout_error(self, seconds: float) -> BaseException:
        return self._target._sk_info.timeout_error(
            f"{self._name()}() did not finish within {seconds:g} s. The call keeps running in "
            "its worker thread (threads cannot be stopped); raise the timeout, or make the "
            "called code stop on its own"
        )

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Run the call with the modifiers (a ``Future`` after background, a coroutine after asynced)."""
        mode = self._mode
        if mode != _SYNC:
            started = self._start_native(args, kwargs)
            if started is not None:
                return started if mode == _BACKGROUND else _await_future(started)
        if mode == _BACKGROUND:
            if self._target._sk_info.is_coroutine:
                import asyncio

                return submit_background(lambda: asyncio.run(self._run_async(args, kwargs)))
            return submit_background(lambda: self._run_sync(args, kwargs))
        if mode == _ASYNCED or self._target._sk_info.is_coroutine:
            return self._run_async(args, kwargs)
        return self._run_sync(args, kwargs)

    def _start_native(
        self, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> concurrent.futures.Future[Any] | None:
        """Start the call through the target's ``native_background`` implementation, now, in the
        caller's thread; ``None`` when there is none or the chain needs the generic path."""
        if self._retry is not None or self._limiter is not None:
            return None
        info = self._target._sk_info
        if any(name not in info.native_steps for name, _, _ in self._extras):
            return None
        start = self._target._sk_background_call(self._obj)
        if start is None:
            return None
        for name, step_args, step_kwargs in self._extras:  # steps that only change arguments
            start = info.steps[name](start, *step_args, **step_kwargs)
        seconds = self._timeout
        if seconds is not None:
            native = self._target._sk_info.native_timeout
            if native is None:
                return None
            kwargs = {**kwargs, native: seconds}
        try:
            future: concurrent.futures.Future[Any] = start(*args, **kwargs)
        except Exception as exc:  # like the generic path: the call's error is the Future's
            future = concurrent.futures.Future()
            future.set_exception(exc)
        return future

    def _run_sync(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if self._limiter is not None:
            self._limiter.acquire()
        policy = self._retry
        if policy is None:
            return self._attempt(args, kwargs)
        wait = policy.delay
        for attempt in range(policy.times):
            try:
                return self._attempt(args, kwargs)
            except policy.exceptions:
                if attempt == policy.times - 1:
                    raise
            if wait > 0:
                policies.sleep(wait)
            wait *= policy.backoff_factor
        raise AssertionError("unreachable")  # pragma: no cover

    def _attempt(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        call = self._base_call()
        seconds = self._timeout
        if seconds is None:
            return call(*args, **kwargs)
        native = self._target._sk_info.native_timeout
        if native is not None:
            return call(*args, **{**kwargs, native: seconds})
        outcome = daemon_workers().submit(lambda: call(*args, **kwargs))
        if not outcome.wait(seconds):
            raise self._timeout_error(seconds)
        error = outcome.error
        if error is not None:
            try:
                raise error
            finally:
                del error, outcome
        return outcome.value

    async def _run_async(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if self._limiter is not None:
            await self._limiter.acquire_async()
        policy = self._retry
        if policy is None:
            return await self._attempt_async(args, kwargs)
        wait = policy.delay
        for attempt in range(policy.times):
            try:
                return await self._attempt_async(args, kwargs)
            except policy.exceptions:
                if attempt == policy.times - 1:
                    raise
            if wait > 0:
                await policies.async_sleep(wait)
            wait *= policy.backoff_factor
        raise AssertionError("unreachable")  # pragma: no cover

    async def _attempt_async(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        import asyncio

        info = self._target._sk_info
        seconds = self._timeout
        native = info.native_timeout
        if seconds is not None and native is not None:
            kwargs = {**kwargs, native: seconds}
        awaitable: Awaitable[Any]
        async_impl = self._target._sk_async_call(self._obj)
        if async_impl is not None:
            steps = info.steps
            for name, step_args, step_kwargs in self._extras:
                async_impl = steps[name](async_impl, *step_args, **step_kwargs)
            awaitable = async_impl(*args, **kwargs)
        elif seconds is None or native is not None:
            awaitable = asyncio.to_thread(self._base_call(), *args, **kwargs)
        else:
            # May be abandoned at the timeout: a daemon thread, so that neither asyncio.run nor
            # the interpreter waits for a call that never returns.
            call = self._base_call()
            awaitable = run_in_daemon_thread(lambda: call(*args, **kwargs))
        if seconds is None or native is not None:
            return await awaitable
        task = asyncio.ensure_future(awaitable)
        done, _ = await asyncio.wait({task}, timeout=seconds)
        if task not in done:
            task.cancel()
            task.add_done_callback(_consume_result)
            raise self._timeout_error(seconds)
        return task.result()

    # ---------------------------------------------------------------- protocol

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            _rebuild,
            (
                self._target,
                self._obj,
                self._timeout,
                self._retry,
                self._limiter,
                self._mode,
                self._extras,
            ),
        )

    def __repr__(self) -> str:
        parts = [self._name()]
        if self._limiter is not None:
            parts.append(repr(self._limiter))
        if self._retry is not None:
            parts.append(repr(self._retry))
        if self._timeout is not None:
            parts.append(f"timeout({self._timeout:g})")
        parts.extend(f"{name}(...)" for name, _, _ in self._extras)
        if self._mode != _SYNC:
            parts.append(f"{self._mode}()")
        return f"<modified {'.'.join(parts)}>"


def _rebuild(
    target: ModifiableMethod,
    obj: object,
    timeout: float | None,
    retry: RetryPolicy | None,
    limiter: RateLimiter | None,
    mode: str,
    extras: tuple[Extra, ...],
) -> Modified:
    return Modified(
        target, obj, timeout=timeout, retry=retry, limiter=limiter, mode=mode, extras=extras
    )


AsyncCall = Callable[..., Coroutine[Any, Any, Any]]
