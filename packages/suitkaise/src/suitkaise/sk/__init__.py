"""``suitkaise.sk``: the ``sk-modifiers`` distribution (import name ``sk_modifiers``) under its kit name.

Also keeps the suitkaise 0.4 names: ``Skfunction``, ``Skclass`` and ``AsyncSkfunction`` (deprecated thin
constructors over ``sk``) and the module ``suitkaise.sk.api``.
"""

from sk_modifiers import *  # noqa: F403
from sk_modifiers import __all__ as _modifier_names
from sk_modifiers import sk as _decorator
from suitkaise._private.legacy_sk import AsyncSkfunction, Skclass, Skfunction
from suitkaise.sk import api

__all__ = [*_modifier_names, "Skfunction", "Skclass", "AsyncSkfunction"]

# ``from suitkaise import sk`` is the decorator, and it shadows this module as the attribute
# ``suitkaise.sk``: give it the names this module adds, so ``suitkaise.sk.Skclass`` and
# ``import suitkaise.sk.api`` work whichever of the two the name resolves to.
for _name, _value in (
    ("Skfunction", Skfunction),
    ("Skclass", Skclass),
    ("AsyncSkfunction", AsyncSkfunction),
    ("api", api),
):
    setattr(_decorator, _name, _value)
del _name, _value
