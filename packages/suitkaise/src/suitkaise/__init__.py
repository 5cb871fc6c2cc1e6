"""The full suitkaise kit: every suitkaise package under the names the user documents use.

>>> from suitkaise.processing import Pool, Skprocess, Share, Pipe
>>> from suitkaise import sk, blocking, cucumber, timing, processing

``suitkaise.processing`` is ``suitkaise_processing``, ``suitkaise.cucumber`` is ``cucumber``,
``suitkaise.timing`` is ``sktiming``, ``suitkaise.sk`` is ``sk_modifiers`` (``from suitkaise.sk import ...``)
and ``suitkaise.shared_counter`` is ``shared_counter``. At the top level, ``sk`` and ``blocking`` are the
decorators themselves, so ``from suitkaise import sk`` gives the ``@sk`` decorator.
"""

from suitkaise import cucumber, processing, shared_counter, timing
from suitkaise import sk as _sk_module  # registers the suitkaise.sk submodule first ...
from suitkaise.__about__ import __version__

# ... then the top-level names ``sk``/``blocking`` are bound to the decorators. ``suitkaise.sk`` stays
# importable as a module (``from suitkaise.sk import modifiable``) because it is in sys.modules.
sk = _sk_module.sk
blocking = _sk_module.blocking

__all__ = [
    "__version__",
    "processing",
    "cucumber",
    "timing",
    "shared_counter",
    "sk",
    "blocking",
]
