"""``Share``: a coordinator process applies every write; values live in shared memory for reads."""

from suitkaise_processing._private.share.share import Share

__all__ = ["Share"]
