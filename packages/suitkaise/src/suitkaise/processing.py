"""``suitkaise.processing``: the ``suitkaise-processing`` distribution (import name ``suitkaise_processing``) under its kit name."""

from suitkaise_processing import *  # noqa: F403
from suitkaise_processing import __all__ as __all__
