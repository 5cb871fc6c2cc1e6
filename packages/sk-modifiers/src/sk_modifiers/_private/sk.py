"""``sk``: modifiers for functions and classes, ``_shared_meta`` and ``C.asynced()``."""

from __future__ import annotations

import functools
import inspect
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar, overload

from sk_modifiers._private.analysis import SK_ADDED_NAMES, member_calls, shared_meta_for
from sk_modifiers._private.blocking import is_marked_blocking
from sk_modifiers._private.errors import SkModifierError
from sk_modifiers._private.modifiable import (
    TARGET_ATTR,
    ModifiableMethod,
    _looks_like_method,
)

if TYPE_CHECKING:
    from sk_modifiers._private.protocols import SkFunction

C = TypeVar("C", bound=type)
P = ParamSpec("P")
R = TypeVar("R")


def _set_blocking_attributes(target: ModifiableMethod) -> None:
    """``fn.has_blocking_calls`` and ``fn.blocking_calls`` as plain attributes (sk only)."""
    if "_sk_own_info" in target.__dict__:
        return  # the function is not ours to change
    fn = target.func
    try:
        setattr(fn, "has_blocking_calls", target.has_blocking_calls)  # noqa: B010
        setattr(fn, "blocking_calls", target.blocking_calls)  # noqa: B010
    except (AttributeError, TypeError):
        pass


def _sk_function(fn: Callable[..., Any]) -> Any:
    target = ModifiableMethod(fn, require_blocking=True)
    if "_sk_own_info" in target.__dict__:
        # Builtins and other objects without a __dict__: return the target itself (a C-level
        # partial around the function, same call, with the modifiers).
        return target
    _set_blocking_attributes(target)
    if _looks_like_method(fn):
        # Defined in a class body: a descriptor, so obj.method.timeout(...) binds obj.
        return target
    return fn


# Classes returned by C.asynced(), per class.
_ASYNC_CLASSES: weakref.WeakKeyDictionary[type, type] = weakref.WeakKeyDictionary()


def _blocking_methods(cls: type, targets: dict[str, ModifiableMethod]) -> dict[str, list[str]]:
    """``{method: why it blocks}``: its known blocking calls, ``"@blocking"``, or the blocking methods
    of the class it calls (``"self.save"``), in definition order (the 0.4 ``_blocking_methods``)."""
    reasons: dict[str, list[str]] = {}
    for name, target in targets.items():
        if target._sk_info.is_coroutine is not False:
            continue
        if target._sk_info.marked_blocking or is_marked_blocking(target.func):
            reasons[name] = ["@blocking"]
        elif target.blocking_calls:
            reasons[name] = target.blocking_calls
    calls = member_calls(cls)
    changed = True
    while changed:
        changed = False
        for name in targets:
            callees = calls.get(name, set()) & reasons.keys()
            if name not in reasons and callees and not targets[name]._sk_info.is_coroutine:
                reasons[name] = [f"self.{callee}" for callee in sorted(callees)]
                targets[name]._sk_info.marked_blocking = True
                changed = True
    return {name: reasons[name] for name in targets if name in reasons}


def _sk_class(cls: C) -> C:
    meta = shared_meta_for(cls)
    targets: dict[str, ModifiableMethod] = {}
    seen: set[str] = set()
    for klass in cls.__mro__[:-1]:
        for name, value in vars(klass).items():
            if name in seen or name in SK_ADDED_NAMES:
                continue
            seen.add(name)
            if name.startswith("__") and name.endswith("__"):
                continue
            if isinstance(value, ModifiableMethod):
                if klass is not cls:
                    continue
                targets[name] = value
            elif inspect.isfunction(value):
                # Functions inherited from a base are not changed (the base may be anyone's).
                target = ModifiableMethod(value, require_blocking=True, attach=klass is cls)
                target.__set_name__(cls, name)
                setattr(cls, name, target)
                targets[name] = target
            elif (
                isinstance(value, staticmethod)
                and inspect.isfunction(value.__func__)
                and klass is cls
                and not hasattr(value.__func__, TARGET_ATTR)
            ):
                _set_blocking_attributes(ModifiableMethod(value.__func__, require_blocking=True))
    blocking = _blocking_methods(cls, targets)
    for target in targets.values():
        _set_blocking_attributes(target)
    setattr(cls, "_shared_meta", meta)  # noqa: B010
    setattr(cls, "_blocking_methods", blocking)  # noqa: B010
    setattr(cls, "has_blocking_calls", bool(blocking))  # noqa: B010
    if "asynced" not in vars(cls):
        setattr(cls, "asynced", classmethod(_class_asynced))  # noqa: B010
    return cls


def _class_asynced(cls: type) -> type:
    """``C.asynced()``: a subclass of ``C`` whose blocking methods are coroutines."""
    cached = _ASYNC_CLASSES.get(cls)
    if cached is not None:
        return cached
    names: list[str] = list(getattr(cls, "_blocking_methods", []))
    if not names:
        raise SkModifierError(
            f"{cls.__qualname__}.asynced(): none of its methods is known to block, so an async "
            "version would only add overhead. Mark the blocking ones with @blocking"
        )
    namespace: dict[str, Any] = {
        "__module__": cls.__module__,
        "__qualname__": f"{cls.__qualname__}.asynced()",
        "__doc__": f"{cls.__qualname__} whose blocking methods are coroutines ({', '.join(names)}).",
        "__reduce_ex__": _async_reduce_ex,
        "_sk_sync_class": cls,
    }
    for name in names:
        namespace[name] = _async_method(inspect.getattr_static(cls, name))
    async_cls = type(cls.__name__, (cls,), namespace)
    _ASYNC_CLASSES[cls] = async_cls
    return async_cls


def _async_method(target: Any) -> Callable[..., Any]:
    fn = target.func if isinstance(target, ModifiableMethod) else target

    async def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        import asyncio  # on first async use: see chain.py

        return await asyncio.to_thread(fn, self, *args, **kwargs)

    functools.update_wrapper(method, fn)
    return method


def _async_reduce_ex(self: Any, protocol: Any) -> Any:
    # Pickle an instance of C.asynced() as "C.asynced() instance with this state".
    reduced = object.__reduce_ex__(self, protocol)
    if not isinstance(reduced, tuple) or len(reduced) < 2:
        return reduced
    base = type(self)._sk_sync_class
    return (_new_async_instance, (base,), *reduced[2:])


def _new_async_instance(base: type) -> Any:
    cls = _class_asynced(base)
    return object.__new__(cls)


@overload
def sk(obj: C) -> C: ...  # type: ignore[overload-overlap]  # a class: itself, not an SkFunction


@overload
def sk(obj: staticmethod[P, R]) -> staticmethod[P, R]: ...  # type: ignore[overload-overlap]


@overload
def sk(obj: Callable[P, R]) -> SkFunction[P, R]: ...


def sk(obj: Any) -> Any:
    """Give a function or a class the sk modifiers (decorator or plain call).

    On a function: returns the same function (direct calls are unchanged) with ``.timeout()``,
    ``.background()``, ``.asynced()``, ``.retry()``, ``.rate_limit()``, ``.has_blocking_calls``
    and ``.blocking_calls``. On a method in a class body: a descriptor, so the modifiers bind
    the instance. On a class: every method gains the modifiers, and the class gains
    ``_shared_meta``, ``_blocking_methods`` (``{method: why it blocks}``), ``has_blocking_calls``
    and ``asynced()``.
    """
    if isinstance(obj, type):
        return _sk_class(obj)
    if isinstance(obj, ModifiableMethod):
        return obj
    if isinstance(obj, staticmethod):
        return staticmethod(_sk_function(obj.__func__))
    if isinstance(obj, (classmethod, property)):
        raise SkModifierError(
            f"sk cannot decorate a {type(obj).__name__}: decorate the class with @sk instead, "
            "or put @sk under the @" + type(obj).__name__
        )
    if not callable(obj):
        raise SkModifierError(f"sk decorates a function or a class, got {type(obj).__name__}")
    return _sk_function(obj)
