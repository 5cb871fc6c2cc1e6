"""``suitkaise.timing``: the ``sktiming`` distribution (import name ``sktiming``) under its kit name."""

from sktiming import *  # noqa: F403
from sktiming import __all__ as __all__
