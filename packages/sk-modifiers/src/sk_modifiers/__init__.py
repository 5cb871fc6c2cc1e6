"""Call modifiers: ``.timeout()``, ``.background()``, ``.asynced()``, ``.retry()``, ``.rate_limit()``.

>>> from sk_modifiers import sk
>>> @sk
... def add(a: int, b: int) -> int:
...     return a + b
>>> add(1, 2)
3
>>> add.retry(times=2, delay=0.0)(1, 2)
3

Type checkers see the function's own signature through every modifier: ``add.timeout(1.0)(1, 2)``
is an ``int``, ``add.background()(1, 2)`` a ``Future[int]`` (:class:`SkFunction`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from sk_modifiers.__about__ import __version__
from sk_modifiers._private.blocking import blocking
from sk_modifiers._private.chain import Modified
from sk_modifiers._private.errors import FunctionTimeoutError, SkModifierError
from sk_modifiers._private.modifiable import BoundModifiable, ModifiableMethod, modifiable
from sk_modifiers._private.policies import RateLimiter, RateSchedule, sharing_rate_limits

if TYPE_CHECKING:
    from sk_modifiers._private.analysis import shared_meta
    from sk_modifiers._private.protocols import DeferredCall, ModifiedCall, SkFunction
    from sk_modifiers._private.sk import sk

# public name -> the module that defines it, imported when the name is first looked up (PEP 562):
# a program that only uses `modifiable` (suitkaise_processing's Pool) skips the class analysis of
# `sk` and the typing protocols (~2 ms of every cold start)
_LAZY = {
    "sk": "sk_modifiers._private.sk",
    "shared_meta": "sk_modifiers._private.analysis",
    "SkFunction": "sk_modifiers._private.protocols",
    "ModifiedCall": "sk_modifiers._private.protocols",
    "DeferredCall": "sk_modifiers._private.protocols",
}

__all__ = [
    "sk",
    "blocking",
    "modifiable",
    "shared_meta",
    "SkModifierError",
    "FunctionTimeoutError",
    "ModifiableMethod",
    "BoundModifiable",
    "Modified",
    "RateLimiter",
    "RateSchedule",
    "sharing_rate_limits",
    # what type checkers see of an @sk function and its modifier chains
    "SkFunction",
    "ModifiedCall",
    "DeferredCall",
    "__version__",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    if name == "sk":
        # In the full kit, `suitkaise.sk` is this module while `from suitkaise import sk` is the
        # decorator, and the decorator can shadow the module as an attribute of `suitkaise`: give the
        # decorator this module's public names, so `suitkaise.sk.<name>` works whichever of the two
        # it resolves to.
        module_globals = globals()
        for public in __all__:
            setattr(
                value,
                public,
                module_globals[public] if public in module_globals else __getattr__(public),
            )
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
