"""``suitkaise.concurrency``: the locks, semaphores and lock manager of ``suitkaise_processing.concurrency``."""

from suitkaise_processing.concurrency import *  # noqa: F403
from suitkaise_processing.concurrency import __all__ as __all__
