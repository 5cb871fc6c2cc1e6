"""``modifiable()``: give a function or method ``.timeout/.background/.asynced/.retry/.rate_limit``.

A ``ModifiableMethod`` is a ``functools.partial`` subclass around the function, so calling it
directly runs at C speed; as a descriptor it binds to instances as a ``BoundModifiable`` (another
``partial``) whose modifier methods start a ``Modified`` chain.
"""

from __future__ import annotations

import functools
import inspect
import sys
from collections.abc import Callable
from typing import Any, TypeVar, cast

from sk_modifiers._private.blocking import find_blocking_calls, is_marked_blocking
from sk_modifiers._private.chain import FunctionDoc, Modified
from sk_modifiers._private.errors import FunctionTimeoutError, SkModifierError

F = TypeVar("F", bound=Callable[..., Any])
StepFactory = Callable[..., Callable[..., Any]]


MODIFIER_NAMES = ("timeout", "background", "asynced", "retry", "rate_limit")

# Attribute names on the raw function (so a pickled function carries its configuration along).
INFO_ATTR = "__sk_info__"
TARGET_ATTR = "__sk_target__"


class TargetInfo:
    """How a ``ModifiableMethod`` runs under modifiers (one per decorated function).

    Stored on the function itself (``fn.__sk_info__``) when it accepts attributes, so that pickling
    the function by reference (pickle) or by value (cucumber) carries it, and a target can always be
    rebuilt from its function alone.
    """

    __slots__ = (
        "_blocking_calls",
        "async_impl",
        "attr",
        "background_impl",
        "fn",
        "is_coroutine",
        "marked_blocking",
        "native_steps",
        "native_timeout",
        "owner",
        "require_blocking",
        "steps",
        "timeout_error",
    )

    def __init__(
        self,
        fn: Callable[..., Any],
        timeout_error: type[BaseException],
        native_timeout: str | None,
        require_blocking: bool,
    ) -> None:
        self.fn = fn
        self.timeout_error = timeout_error
        self.native_timeout = native_timeout
        self.require_blocking = require_blocking
        self.is_coroutine = inspect.iscoroutinefunction(fn)
        self.async_impl: Callable[..., Any] | None = None
        self.background_impl: Callable[..., Any] | None = None
        self.marked_blocking = is_marked_blocking(fn)
        self.steps: dict[str, StepFactory] = {}
        #: steps that only change the call's arguments: they also wrap the native background start
        self.native_steps: set[str] = set()
        self.owner: type | None = None
        self.attr: str | None = None
        self._blocking_calls: list[str] | None = None

    @property
    def blocking_calls(self) -> list[str]:
        """Known blocking calls found in the function's source (computed once)."""
        if self._blocking_calls is None:
            self._blocking_calls = find_blocking_calls(self.fn)
        return list(self._blocking_calls)

    def set_blocking_calls(self, calls: list[str]) -> None:
        """Store blocking calls found elsewhere (``@sk`` on a class parses the class once)."""
        self._blocking_calls = list(calls)

    def __getstate__(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}

    def __setstate__(self, state: dict[str, Any]) -> None:
        for name, value in state.items():
            setattr(self, name, value)


class ModifierEntry:
    """``fn.timeout`` (etc.) on a decorated function: starts a modifier chain (unbound)."""

    __slots__ = ("name", "target")

    def __init__(self, target: ModifiableMethod, name: str) -> None:
        self.target = target
        self.name = name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Apply the modifier: ``fn.timeout(5.0)`` returns the modified callable."""
        method: Callable[..., Any] = getattr(ModifiableMethod, self.name)
        return method(self.target, *args, **kwargs)

    def __reduce__(self) -> tuple[Any, ...]:
        return (ModifierEntry, (self.target, self.name))

    def __repr__(self) -> str:
        return f"<modifier .{self.name}() of {self.target._sk_display_name()}>"


def _attach(fn: Callable[..., Any], target: ModifiableMethod, info: TargetInfo) -> bool:
    """Store the info and the modifier entry points on ``fn``; ``False`` if it takes no attributes."""
    try:
        setattr(fn, INFO_ATTR, info)
    except (AttributeError, TypeError):
        return False
    setattr(fn, TARGET_ATTR, target)
    for name in MODIFIER_NAMES:
        setattr(fn, name, ModifierEntry(target, name))
    return True


class ModifiableMethod(functools.partial[Any]):
    """A function or method that also offers modifiers; calling it directly is unchanged.

    On a class: ``obj.method(...)`` is the plain call, ``obj.method.timeout(5.0)(...)``,
    ``obj.method.background()(...)``, ``await obj.method.asynced()(...)``,
    ``obj.method.retry(3)(...)`` and ``obj.method.rate_limit(2.0)(...)`` are modified calls.
    ``Class.method`` is the function itself, carrying the same modifiers (``self`` passed first).
    """

    def __new__(
        cls,
        fn: Callable[..., Any],
        *,
        timeout_error: type[BaseException] = FunctionTimeoutError,
        native_timeout: str | None = None,
        require_blocking: bool = False,
        attach: bool = True,
    ) -> ModifiableMethod:
        return _new_target(cls, fn)

    def __init__(
        self,
        fn: Callable[..., Any],
        *,
        timeout_error: type[BaseException] = FunctionTimeoutError,
        native_timeout: str | None = None,
        require_blocking: bool = False,
        attach: bool = True,
    ) -> None:
        # attach=False: leave the function untouched (e.g. inherited from a class that is not
        # ours to change); the info then lives on this object only.
        functools.update_wrapper(self, fn, updated=())
        info = TargetInfo(fn, timeout_error, native_timeout, require_blocking)
        if not (attach and _attach(fn, self, info)):
            self.__dict__["_sk_own_info"] = info

    @property
    def _sk_info(self) -> TargetInfo:
        info = self.__dict__.get("_sk_own_info")
        if info is None:
            info = getattr(self.func, INFO_ATTR)
        return cast(TargetInfo, info)

    # ---------------------------------------------------------------- descriptor

    def __get__(self, obj: object, objtype: type | None = None) -> Any:
        if obj is None:
            return self.func
        return BoundModifiable(self, obj)

    def __set_name__(self, owner: type, name: str) -> None:
        info = self._sk_info
        info.owner = owner
        info.attr = name

    # ---------------------------------------------------------------- hooks for the chain

    def _sk_display_name(self) -> str:
        fn = self.func
        return str(getattr(fn, "__qualname__", None) or getattr(fn, "__name__", "function"))

    def _sk_bound_call(self, obj: object) -> Callable[..., Any]:
        fn = self.func
        if obj is None:
            return fn
        return functools.partial(fn, obj)

    def _sk_async_call(self, obj: object) -> Callable[..., Any] | None:
        info = self._sk_info
        impl = info.async_impl
        if impl is None:
            if not info.is_coroutine:
                return None
            impl = self.func
        if obj is None:
            return impl
        return functools.partial(impl, obj)

    def _sk_background_call(self, obj: object) -> Callable[..., Any] | None:
        impl: Callable[..., Any] | None = getattr(self._sk_info, "background_impl", None)
        if impl is None or obj is None:
            return impl
        return functools.partial(impl, obj)

    def _sk_check_asyncable(self) -> None:
        info = self._sk_info
        if not info.require_blocking or info.is_coroutine or info.async_impl is not None:
            return
        if info.marked_blocking or is_marked_blocking(self.func) or info.blocking_calls:
            return
        raise SkModifierError(
            f"{self._sk_display_name()}: .asynced() needs a blocking function, and none of its "
            "calls is known to block. Running it in a thread would only add overhead; call it "
            "directly, or mark it with @blocking if it does block (e.g. CPU-heavy or C code)"
        )

    # ---------------------------------------------------------------- modifiers (unbound)

    def _sk_chain(self, obj: object) -> Modified:
        return Modified(self, obj)

    def timeout(self, seconds: float) -> Modified:
        """Modified call that fails with the timeout error after ``seconds`` per attempt."""
        return self._sk_chain(None).timeout(seconds)

    def background(self) -> Modified:
        """Modified call that runs in a thread pool and returns a ``Future``."""
        return self._sk_chain(None).background()

    def asynced(self) -> Modified:
        """Modified call that returns an awaitable."""
        return self._sk_chain(None).asynced()

    def retry(
        self,
        times: int = 3,
        delay: float = 1.0,
        backoff_factor: float = 1.0,
        exceptions: type[BaseException] | tuple[type[BaseException], ...] = (Exception,),
    ) -> Modified:
        """Modified call that tries up to ``times`` attempts in all."""
        return self._sk_chain(None).retry(times, delay, backoff_factor, exceptions)

    def rate_limit(self, per_second: float) -> Modified:
        """Modified call throttled to ``per_second`` calls per second."""
        return self._sk_chain(None).rate_limit(per_second)

    @property
    def has_blocking_calls(self) -> bool:
        """Whether the function's source contains a known blocking call (or it is @blocking)."""
        info = self._sk_info
        return info.marked_blocking or bool(info.blocking_calls)

    @property
    def blocking_calls(self) -> list[str]:
        """The known blocking calls found in the function's source, in order."""
        return self._sk_info.blocking_calls

    # ---------------------------------------------------------------- library extension

    def modifier(
        self, name: str, *, arguments_only: bool = False
    ) -> Callable[[StepFactory], StepFactory]:
        """Register a library modifier step: ``@method.modifier("name")``.

        The decorated factory receives the call (a callable) and the arguments given to
        ``.name(...)`` and returns the callable to use instead; it runs innermost, around the
        call itself. The step is then available on chains: ``obj.method.name(...)(args)``.
        With ``arguments_only=True`` the factory promises to only change the call's arguments
        (e.g. add a keyword with ``functools.partial``): it then also wraps the
        ``native_background`` implementation, so ``.name(...).background()`` still starts the
        call in the caller's thread.
        """
        if not name.isidentifier() or name.startswith("_") or hasattr(Modified, name):
            raise SkModifierError(f"modifier name {name!r} must be a new public identifier")

        def register(factory: StepFactory) -> StepFactory:
            self._sk_info.steps[name] = factory
            if arguments_only:
                self._sk_info.native_steps.add(name)
            return factory

        return register

    def native_async(self, impl: Callable[..., Any]) -> Any:
        """Register a native ``async def`` implementation used by ``.asynced()``.

        Use as ``@method.native_async`` under the method (same name is fine: the decorator
        returns the ``ModifiableMethod`` itself).
        """
        if not inspect.iscoroutinefunction(impl):
            raise SkModifierError(
                f"native_async() needs an 'async def' function, got {type(impl).__name__}"
            )
        self._sk_info.async_impl = impl
        # In a class body the name must stay bound to this descriptor; elsewhere to the function.
        return self if _looks_like_method(self.func) else self.func

    def native_background(self, impl: Callable[..., Any]) -> Any:
        """Register a function that starts the call now and returns a ``concurrent.futures.Future``.

        Called in the caller's thread (with the same arguments as the method) by ``.background()``
        and ``.asynced()`` chains that have no ``retry``, ``rate_limit`` or library step (with
        ``.timeout(t)`` only when ``native_timeout`` is set: it is passed as that keyword). So the
        call is accepted at call time, e.g. before a ``close()`` that follows it. ``.asynced()``
        then awaits the Future; cancelling the awaiting task calls ``Future.cancel()``. Use as
        ``@method.native_background`` under the method (same name is fine).
        """
        if inspect.iscoroutinefunction(impl) or not callable(impl):
            raise SkModifierError(
                "native_background() needs a plain function returning a concurrent.futures.Future, "
                f"got {impl!r}"
            )
        self._sk_info.background_impl = impl
        return self if _looks_like_method(self.func) else self.func

    # ---------------------------------------------------------------- protocol

    def __reduce__(self) -> Any:
        own = self.__dict__.get("_sk_own_info")
        if own is not None:
            return (_target_from_info, (self.func, own))
        if _travels_by_reference(self.func):
            # The receiver imports the plain function, which carries no info when ``sk(fn)`` was
            # applied at run time rather than in the module body: send the info along.
            return (_target_from_import, (self.func, self._sk_info))
        # Only the function: its info travels with it (as an attribute), and the target is
        # rebuilt from it lazily, which also works while a by-value class is being rebuilt.
        return (_target_from_function, (self.func,))

    def __repr__(self) -> str:
        return f"<modifiable {self._sk_display_name()}>"


def _new_target(cls: type[ModifiableMethod], fn: Callable[..., Any]) -> ModifiableMethod:
    """``partial.__new__`` without flattening: ``self.func`` must be ``fn`` itself.

    (``partial(p)`` of a ``partial`` with no ``__dict__`` yet would take over its function and
    arguments; giving it its ``__dict__`` first prevents that.)
    """
    if isinstance(fn, functools.partial):
        _ = fn.__dict__
    target: ModifiableMethod = functools.partial.__new__(cls, fn)
    return target


def _target_from_function(fn: Callable[..., Any]) -> ModifiableMethod:
    existing = getattr(fn, TARGET_ATTR, None)
    if isinstance(existing, ModifiableMethod) and existing.func is fn:
        return existing
    # The function may still be under construction (pickled by value): read its info later.
    shell = _new_target(ModifiableMethod, fn)
    shell.__dict__["__wrapped__"] = fn
    return shell


def _travels_by_reference(fn: Callable[..., Any]) -> bool:
    """Whether pickling ``fn`` names it (module + qualified name) instead of sending its code."""
    module_name = getattr(fn, "__module__", None)
    module = sys.modules.get(module_name) if module_name else None
    if module is None or module_name == "__main__":
        return False
    obj: Any = module
    for part in getattr(fn, "__qualname__", "<>").split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return False
    return obj is fn


def _target_from_import(fn: Callable[..., Any], info: TargetInfo) -> ModifiableMethod:
    """Rebuild a target whose function was imported: reuse what the module attached, if anything."""
    existing = getattr(fn, TARGET_ATTR, None)
    if isinstance(existing, ModifiableMethod) and existing.func is fn:
        return existing
    return _target_from_info(fn, info)


def _target_from_info(fn: Callable[..., Any], info: TargetInfo) -> ModifiableMethod:
    shell = _new_target(ModifiableMethod, fn)
    functools.update_wrapper(shell, fn, updated=())
    shell.__dict__["_sk_own_info"] = info
    return shell


def _looks_like_method(fn: Callable[..., Any]) -> bool:
    """Whether ``fn`` is defined in a class body (``Class.f``, not ``outer.<locals>.f``)."""
    qualname = getattr(fn, "__qualname__", "")
    parts = qualname.split(".")
    return len(parts) >= 2 and parts[-2] != "<locals>"


class BoundModifiable(functools.partial[Any]):
    __doc__ = FunctionDoc(
        "A ``ModifiableMethod`` bound to an instance: call it, or use its modifiers. "
        "On an instance, ``__doc__`` is the method's docstring."
    )

    @property
    def _sk_target(self) -> ModifiableMethod:
        return cast(ModifiableMethod, self.func)

    # Metadata like a bound method's, read from the function.
    @property
    def __self__(self) -> object:
        return self.args[0]

    @property
    def __func__(self) -> Callable[..., Any]:
        return cast(Callable[..., Any], self._sk_target.func)

    # No __wrapped__ here: inspect.signature then treats this as the partial it is and drops
    # the bound first argument, like a bound method's signature.

    def _sk_doc(self) -> str | None:
        doc = getattr(self._sk_target.func, "__doc__", None)
        return doc if isinstance(doc, str) else None

    def _sk_chain(self) -> Modified:
        return Modified(self._sk_target, self.args[0])

    def timeout(self, seconds: float) -> Modified:
        """Modified call that fails with the timeout error after ``seconds`` per attempt."""
        return self._sk_chain().timeout(seconds)

    def background(self) -> Modified:
        """Modified call that runs in a thread pool and returns a ``Future``."""
        return self._sk_chain().background()

    def asynced(self) -> Modified:
        """Modified call that returns an awaitable."""
        return self._sk_chain().asynced()

    def retry(
        self,
        times: int = 3,
        delay: float = 1.0,
        backoff_factor: float = 1.0,
        exceptions: type[BaseException] | tuple[type[BaseException], ...] = (Exception,),
    ) -> Modified:
        """Modified call that tries up to ``times`` attempts in all."""
        return self._sk_chain().retry(times, delay, backoff_factor, exceptions)

    def rate_limit(self, per_second: float) -> Modified:
        """Modified call throttled to ``per_second`` calls per second."""
        return self._sk_chain().rate_limit(per_second)

    def __getattr__(self, name: str) -> Any:
        # Only reached for names not found normally: function metadata and library steps.
        if name in ("__name__", "__qualname__", "__module__", "__annotations__"):
            return getattr(self._sk_target.func, name)
        if name.startswith("_"):
            raise AttributeError(name)
        if name in self._sk_target._sk_info.steps:
            return getattr(self._sk_chain(), name)
        return getattr(self._sk_target.func, name)

    @property
    def has_blocking_calls(self) -> bool:
        """Whether the method's source contains a known blocking call (or it is @blocking)."""
        return bool(self._sk_target.has_blocking_calls)

    @property
    def blocking_calls(self) -> list[str]:
        """The known blocking calls found in the method's source, in order."""
        return list(self._sk_target.blocking_calls)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, BoundModifiable):
            return NotImplemented
        return self.func is other.func and self.args[0] is other.args[0]

    def __hash__(self) -> int:
        return hash((id(self.func), id(self.args[0])))

    def __reduce__(self) -> Any:
        return (BoundModifiable, (self._sk_target, self.args[0]))

    def __repr__(self) -> str:
        return f"<bound modifiable {self._sk_target._sk_display_name()} of {self.args[0]!r}>"


def modifiable(
    *,
    timeout_error: type[BaseException] = FunctionTimeoutError,
    native_timeout: str | None = None,
) -> Callable[[Callable[..., Any]], Any]:
    """Decorator giving a function or method the sk modifiers; a direct call is unchanged.

    ``.timeout(t)`` waits in a worker thread and raises ``timeout_error(message)`` (the class
    must accept one message argument); with ``native_timeout="timeout"`` it calls the method with
    ``timeout=t`` instead, so the object enforces the limit and raises its own error.
    ``.asynced()`` uses ``asyncio.to_thread`` unless a native coroutine is registered with
    ``@method.native_async``; ``@method.modifier("name")`` adds a library-specific step.
    """
    if not (isinstance(timeout_error, type) and issubclass(timeout_error, BaseException)):
        raise SkModifierError(
            f"modifiable(timeout_error=...) needs an exception class, got {timeout_error!r}"
        )
    if native_timeout is not None and not native_timeout.isidentifier():
        raise SkModifierError(
            f"modifiable(native_timeout=...) needs a keyword argument name, got {native_timeout!r}"
        )

    def decorate(fn: Callable[..., Any]) -> Any:
        if isinstance(fn, ModifiableMethod):
            fn = fn.func
        if isinstance(fn, (staticmethod, classmethod)) or not callable(fn):
            raise SkModifierError(
                f"@modifiable() decorates a plain function or method, got {type(fn).__name__}"
            )
        target = ModifiableMethod(fn, timeout_error=timeout_error, native_timeout=native_timeout)
        if _looks_like_method(fn) or "_sk_own_info" in target.__dict__:
            return target
        # A plain function: return it (no wrapper); its attributes carry the modifiers.
        return fn

    return decorate
