"""Generators and iterators, regex matches, context variables, weak references, coroutines.

One-shot iterators (generators, ``enumerate``, ``zip``, ``map``, ``filter``, ``reversed``,
``itertools``) become an iterator over their remaining values: serializing consumes them in the
sender. Weak references to live objects stay weak (their referent travels too); dead ones become
:class:`DeadReference` placeholders.
"""

from __future__ import annotations

import ast
import contextvars
import inspect
import itertools
import re
import types
import weakref
from typing import Any

from cucumber._private.errors import SerializationError
from cucumber._private.families._util import handles
from cucumber._private.reconnectors import MatchReconnector

__all__ = ["MAX_ITERATOR_ITEMS", "DeadReference", "install"]

#: An iterator with more remaining values than this is refused (it is probably infinite).
MAX_ITERATOR_ITEMS = 10_000_000


class DeadReference:
    """What a dead weak reference becomes: calling it returns ``None``, like the dead ref."""

    def __init__(self, type_name: str = "weakref") -> None:
        self.type_name = type_name

    def __call__(self) -> None:
        return None

    def __repr__(self) -> str:
        return f"<DeadReference ({self.type_name})>"


def _remaining(obj: Any) -> list[Any]:
    items = list(itertools.islice(obj, MAX_ITERATOR_ITEMS + 1))
    if len(items) > MAX_ITERATOR_ITEMS:
        raise SerializationError(
            f"cannot serialize {type(obj).__name__} iterator: more than {MAX_ITERATOR_ITEMS:,} remaining values "
            "(is it infinite?); send a list or the function that makes it instead"
        )
    return items


def _reduce_exhaust(obj: Any) -> Any:
    return iter, (_remaining(obj),)


def _rebuild_weakref(cls: type[Any], referent: Any) -> Any:
    try:
        return cls(referent)
    except TypeError:
        return DeadReference(cls.__name__)


def _rebuild_weak_dict(cls: type[Any], items: list[tuple[Any, Any]]) -> Any:
    mapping = cls()
    for key, value in items:
        mapping[key] = value
    return mapping


def _rebuild_contextvar(
    name: str, has_default: bool, default: Any, has_value: bool, value: Any
) -> Any:
    var: contextvars.ContextVar[Any] = (
        contextvars.ContextVar(name, default=default)
        if has_default
        else contextvars.ContextVar(name)
    )
    if has_value:
        var.set(value)
    return var


def _rebuild_context(items: list[tuple[contextvars.ContextVar[Any], Any]]) -> contextvars.Context:
    ctx = contextvars.Context()

    def fill() -> None:
        for var, value in items:
            var.set(value)

    ctx.run(fill)
    return ctx


def _call_again(func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    return func(*args, **kwargs)


def _unstarted_call(
    frame: types.FrameType, code: types.CodeType
) -> tuple[Any, tuple[Any, ...], dict[str, Any]]:
    if code.co_freevars:
        raise SerializationError(
            f"cannot serialize {code.co_name}() coroutine: it is a closure; send the coroutine function and its arguments"
        )
    local = frame.f_locals
    names = code.co_varnames
    n, k = code.co_argcount, code.co_kwonlyargcount
    args = [local[names[i]] for i in range(n)]
    kwargs = {names[i]: local[names[i]] for i in range(n, n + k)}
    index = n + k
    if code.co_flags & inspect.CO_VARARGS:
        args.extend(local[names[index]])
        index += 1
    if code.co_flags & inspect.CO_VARKEYWORDS:
        kwargs.update(local[names[index]])
    func = types.FunctionType(code, frame.f_globals, code.co_name)
    func.__qualname__ = code.co_qualname if hasattr(code, "co_qualname") else code.co_name
    func.__module__ = frame.f_globals.get("__name__", "__main__")
    return func, tuple(args), kwargs


def _reduce_coroutine_like(
    obj: Any, frame: Any, code: types.CodeType, started: bool, what: str
) -> Any:
    if frame is None or started:
        raise SerializationError(
            f"cannot serialize a {what} that has started or finished ({code.co_qualname if hasattr(code, 'co_qualname') else code.co_name}); "
            "only a not-yet-started one can travel: send the function and its arguments instead"
        )
    func, args, kwargs = _unstarted_call(frame, code)
    return _call_again, (func, args, kwargs)


def _frame_started(frame: Any, suspended: Any) -> bool:
    if suspended:
        return True
    return frame is not None and frame.f_lasti > 0 and not _at_start(frame)


def _at_start(frame: types.FrameType) -> bool:
    # Python 3.11+ runs RETURN_GENERATOR/POP_TOP/RESUME first: a fresh frame sits before RESUME.
    return frame.f_lasti <= 2 * 3


_ITERATOR_TYPES: tuple[type, ...] = (
    types.GeneratorType,
    enumerate,
    zip,
    map,
    filter,
    reversed,
    itertools.chain,
    itertools.islice,
    itertools.takewhile,
    itertools.dropwhile,
    itertools.starmap,
    itertools.accumulate,
    itertools.compress,
    itertools.filterfalse,
    itertools.zip_longest,
    itertools.product,
    itertools.permutations,
    itertools.combinations,
    itertools.combinations_with_replacement,
    itertools.groupby,
    *((itertools.pairwise,) if hasattr(itertools, "pairwise") else ()),
    *((itertools.batched,) if hasattr(itertools, "batched") else ()),
)


def install() -> None:
    """Register the runtime handlers."""
    handles(*_ITERATOR_TYPES, name="one-shot iterator (iterator over the remaining values)")(
        _reduce_exhaust
    )

    @handles(itertools.count, name="itertools.count (same next value and step)")
    def _count(obj: Any) -> Any:
        text = repr(obj)
        inner = text[text.index("(") + 1 : -1]
        values = ast.literal_eval(f"({inner},)")
        return itertools.count, tuple(values)

    @handles(itertools.repeat, name="itertools.repeat")
    def _repeat(obj: Any) -> Any:
        try:
            times = obj.__length_hint__()
        except TypeError:  # infinite: taking one value changes nothing
            return itertools.repeat, (next(obj),)
        if times == 0:
            return iter, ((),)
        value = next(obj)
        obj_left = times - 1
        for _ in range(obj_left):
            next(obj)
        return itertools.repeat, (value, times)

    @handles(itertools.cycle, name="itertools.cycle (pickle's reduce where available)")
    def _cycle(obj: Any) -> Any:
        try:
            return obj.__reduce__()
        except TypeError:
            raise SerializationError(
                "cannot serialize itertools.cycle on this Python: it is infinite; send the sequence instead"
            ) from None

    @handles(re.Match, name="re.Match -> MatchReconnector")
    def _match(obj: re.Match[Any]) -> Any:
        spans = tuple(obj.span(i) for i in range(len(obj.groups()) + 1))
        return MatchReconnector, (
            obj.re,
            obj.string,
            obj.pos,
            obj.endpos,
            spans,
            dict(obj.re.groupindex),
        )

    @handles(contextvars.ContextVar, name="contextvars.ContextVar (name, default, current value)")
    def _contextvar(obj: contextvars.ContextVar[Any]) -> Any:
        marker = object()
        default = marker
        try:
            value = obj.get()
            has_value = True
        except LookupError:
            value, has_value = None, False
        ctx = contextvars.Context()
        try:
            default = ctx.run(obj.get)
        except LookupError:
            default = marker
        has_default = default is not marker
        if has_value and has_default and value is default:
            has_value = False
        return _rebuild_contextvar, (
            obj.name,
            has_default,
            default if has_default else None,
            has_value,
            value,
        )

    @handles(contextvars.Context, name="contextvars.Context (same variables and values)")
    def _context(obj: contextvars.Context) -> Any:
        return _rebuild_context, (list(obj.items()),)

    @handles(weakref.ref, name="weakref.ref (stays weak; dead -> DeadReference)")
    def _weakref(obj: Any) -> Any:
        if isinstance(obj, weakref.WeakMethod):
            method = obj()
            if method is None:
                return DeadReference, ("WeakMethod",)
            return _rebuild_weakref, (weakref.WeakMethod, method)
        referent = obj()
        if referent is None:
            return DeadReference, (type(obj).__name__,)
        return _rebuild_weakref, (weakref.ref, referent)

    @handles(
        weakref.ProxyType, weakref.CallableProxyType, name="weakref.proxy (dead -> DeadReference)"
    )
    def _proxy(obj: Any) -> Any:
        try:
            referent = obj.__repr__.__self__
        except ReferenceError:
            return DeadReference, ("weakproxy",)
        return _rebuild_weakref, (weakref.proxy, referent)

    @handles(
        weakref.WeakValueDictionary, weakref.WeakKeyDictionary, name="weak dictionary (live items)"
    )
    def _weak_dict(obj: Any) -> Any:
        return _rebuild_weak_dict, (type(obj), list(obj.items()))

    @handles(types.CoroutineType, name="coroutine (not yet started: called again in the receiver)")
    def _coroutine(obj: Any) -> Any:
        frame = obj.cr_frame
        started = frame is None or inspect.getcoroutinestate(obj) != inspect.CORO_CREATED
        return _reduce_coroutine_like(obj, frame, obj.cr_code, started, "coroutine")

    @handles(
        types.AsyncGeneratorType,
        name="async generator (not yet started: called again in the receiver)",
    )
    def _async_gen(obj: Any) -> Any:
        frame = obj.ag_frame
        started = bool(obj.ag_running) or _frame_started(frame, getattr(obj, "ag_suspended", False))
        return _reduce_coroutine_like(obj, frame, obj.ag_code, started, "async generator")
