"""``suitkaise.shared_counter``: the ``shared-counter`` distribution (import name ``shared_counter``) under its kit name."""

from shared_counter import *  # noqa: F403
from shared_counter import __all__ as __all__
