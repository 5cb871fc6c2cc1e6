"""``suitkaise.processing``: the ``suitkaise-processing`` distribution (import name ``suitkaise_processing``) under its kit name.

Names are looked up in ``suitkaise_processing`` on first use, which imports each tool only when it
is used (see its ``__init__``).
"""

from typing import TYPE_CHECKING, Any

import suitkaise_processing as _package
from suitkaise_processing import __all__ as __all__

if TYPE_CHECKING:
    from suitkaise_processing import *  # noqa: F403


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(_package, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
