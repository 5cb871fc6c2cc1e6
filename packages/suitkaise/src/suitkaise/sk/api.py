"""``suitkaise.sk.api``: the module path of suitkaise 0.4 (``from suitkaise.sk.api import sk, Skfunction``)."""

from sk_modifiers import FunctionTimeoutError, SkModifierError, blocking, sk
from suitkaise._private.legacy_sk import AsyncSkfunction, Skclass, Skfunction

__all__ = [
    "sk",
    "blocking",
    "Skfunction",
    "Skclass",
    "AsyncSkfunction",
    "SkModifierError",
    "FunctionTimeoutError",
]
