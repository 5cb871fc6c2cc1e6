"""``suitkaise.cucumber``: the ``cucumber`` distribution (import name ``cucumber``) under its kit name."""

from cucumber import *  # noqa: F403
from cucumber import __all__ as __all__
