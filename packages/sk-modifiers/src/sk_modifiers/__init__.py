"""Call modifiers: ``.timeout()``, ``.background()``, ``.asynced()``, ``.retry()``, ``.rate_limit()``.

>>> from sk_modifiers import sk
>>> @sk
... def add(a: int, b: int) -> int:
...     return a + b
>>> add(1, 2)
3
>>> add.retry(times=2, delay=0.0)(1, 2)
3
"""

from sk_modifiers.__about__ import __version__
from sk_modifiers._private.analysis import shared_meta
from sk_modifiers._private.blocking import blocking
from sk_modifiers._private.chain import Modified
from sk_modifiers._private.errors import FunctionTimeoutError, SkModifierError
from sk_modifiers._private.modifiable import BoundModifiable, ModifiableMethod, modifiable
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
    "__version__",
]
