"""``suitkaise.sk``: the ``sk-modifiers`` distribution (import name ``sk_modifiers``) under its kit name."""

from sk_modifiers import *  # noqa: F403
from sk_modifiers import __all__ as __all__
