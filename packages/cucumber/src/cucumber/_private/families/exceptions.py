"""Exceptions keep their chain: ``__cause__``, ``__context__`` and ``__suppress_context__``.

pickle rebuilds an exception from its ``__reduce_ex__`` (type, args, ``__dict__``) and drops the chain;
cucumber adds the chained exceptions when each of them can be serialized on its own (an
unserializable link is dropped, as pickle would, rather than failing the whole payload).
Tracebacks are not carried.
"""

from __future__ import annotations

import io
from typing import Any

from cucumber._private.families._util import handles

__all__ = ["install"]


def _serializable(exc: BaseException | None) -> BaseException | None:
    if exc is None:
        return None
    from cucumber._private.pickler import PROTOCOL, CucumberPickler

    try:
        CucumberPickler(io.BytesIO(), protocol=PROTOCOL).dump(exc)
    except Exception:
        return None
    return exc


def _set_exception_state(obj: BaseException, state: tuple[Any, dict[str, Any]]) -> None:
    base_state, chain = state
    if base_state is not None:
        setstate = getattr(obj, "__setstate__", None)
        if setstate is not None:
            setstate(base_state)
        elif isinstance(base_state, dict):
            obj.__dict__.update(base_state)
    obj.__cause__ = chain.get("cause")
    obj.__context__ = chain.get("context")
    obj.__suppress_context__ = bool(chain.get("suppress"))


def install() -> None:
    """Register the exception handler."""

    @handles(BaseException, name="exception (pickle's reduce plus __cause__/__context__)")
    def _exception(obj: BaseException) -> Any:
        if obj.__cause__ is None and obj.__context__ is None:
            return NotImplemented  # nothing to add: pickle's default
        rv = obj.__reduce_ex__(5)
        if isinstance(rv, str) or not isinstance(rv, tuple) or len(rv) < 2:
            return NotImplemented
        state = rv[2] if len(rv) > 2 else None
        chain = {
            "cause": _serializable(obj.__cause__),
            "context": _serializable(obj.__context__),
            "suppress": obj.__suppress_context__,
        }
        listitems = rv[3] if len(rv) > 3 else None
        dictitems = rv[4] if len(rv) > 4 else None
        return rv[0], rv[1], (state, chain), listitems, dictitems, _set_exception_state
