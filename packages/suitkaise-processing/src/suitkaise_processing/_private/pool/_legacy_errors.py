"""Worker exceptions that are also ``RuntimeError``, for code written for suitkaise 0.4.

suitkaise 0.4 wrapped an exception raised by a Pool worker's function in a plain ``RuntimeError``, and
its documentation catches ``except RuntimeError`` around ``pool.map``. This kit raises the worker's own
exception instead (a ``ValueError`` stays a ``ValueError``, with the worker's traceback as
``__cause__``). To keep the old ``except RuntimeError`` working without losing the real type, the
exception the parent raises is an instance of a subclass of *both*: the original class and
:class:`RuntimeError` (``except ValueError``, ``except RuntimeError`` and ``except Exception`` all catch
it; ``type(err).__name__`` and the traceback line still say ``ValueError``). Pickling it gives back
the original class. ``except RuntimeError`` around a Pool call is deprecated (a warning cannot be
attached to an ``except`` clause); catch the exception your function raises.

Left unchanged: exceptions that already are ``RuntimeError`` or a suitkaise ``ProcessError``, those
that are not ``Exception`` (``KeyboardInterrupt``, ``SystemExit``), and those whose class cannot be
subclassed or rebuilt from its pickle reduction (then the original instance is raised as is).
"""

from __future__ import annotations

import functools
from typing import Any

from suitkaise_processing._private.errors import ProcessError


class _AlsoRuntimeError(RuntimeError):
    """Mixin of the dual classes built by :func:`as_legacy_pool_error` (never raised alone)."""

    __slots__ = ()

    def __reduce__(self) -> tuple[Any, ...]:
        original = type(self).__mro__[1]
        reduced = super().__reduce__()
        return (_rebuild, (original, *reduced[1:]))


def _rebuild(cls: type[BaseException], args: tuple[Any, ...], state: Any = None) -> BaseException:
    err = cls(*args)
    if state:
        err.__dict__.update(state)
    return err


@functools.lru_cache(maxsize=256)  # bounded: classes sent by value are new objects per call
def _dual_class(cls: type) -> type[BaseException] | None:
    try:
        dual = type(
            cls.__name__,
            (cls, _AlsoRuntimeError),
            {"__module__": cls.__module__, "__qualname__": cls.__qualname__, "__slots__": ()},
        )
    except TypeError:  # final classes, instance-layout conflicts
        return None
    return dual


def as_legacy_pool_error(exc: BaseException) -> BaseException:
    """``exc`` as an instance of a subclass of ``(type(exc), RuntimeError)``, or ``exc`` itself when
    that is not needed or not possible (see the module docstring)."""
    cls: type = type(exc)
    if not isinstance(exc, Exception) or isinstance(exc, (RuntimeError, ProcessError)):
        return exc
    dual = _dual_class(cls)
    if dual is None:
        return exc
    try:
        reduced = exc.__reduce__()
        if not isinstance(reduced, tuple) or reduced[0] is not cls:
            return exc
        new = dual(*reduced[1])
        state = reduced[2] if len(reduced) > 2 else None
        if state:
            new.__dict__.update(state)
    except Exception:
        return exc
    notes = exc.__dict__.get("__notes__")
    if notes is not None:  # a __reduce__ of its own may leave them out
        new.__dict__.setdefault("__notes__", list(notes))
    new.__cause__ = exc.__cause__
    new.__suppress_context__ = exc.__suppress_context__
    new.__traceback__ = exc.__traceback__
    return new
