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

from sk_modifiers.__about__ import __version__
from sk_modifiers._private.analysis import shared_meta
from sk_modifiers._private.blocking import blocking
from sk_modifiers._private.chain import Modified
from sk_modifiers._private.errors import FunctionTimeoutError, SkModifierError
from sk_modifiers._private.modifiable import BoundModifiable, ModifiableMethod, modifiable
from sk_modifiers._private.policies import RateLimiter, RateSchedule, sharing_rate_limits
from sk_modifiers._private.protocols import DeferredCall, ModifiedCall, SkFunction
from sk_modifiers._private.sk import sk

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

# In the full kit, `suitkaise.sk` is this module while `from suitkaise import sk` is the decorator,
# and the decorator can shadow the module as an attribute of `suitkaise`: give the decorator this
# module's public names, so `suitkaise.sk.<name>` works whichever of the two it resolves to.
for _name in __all__:
    setattr(sk, _name, globals()[_name])
del _name
