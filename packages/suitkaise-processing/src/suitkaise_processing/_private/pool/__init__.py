"""The process pool: persistent workers, chunked items, streamed results (internal)."""

from suitkaise_processing._private.pool._errors import PoolTimeoutError
from suitkaise_processing._private.pool.pool import Pool, PoolCall, StarPool

__all__ = ["Pool", "PoolCall", "PoolTimeoutError", "StarPool"]
