"""Skprocess, Pool, Share, Pipe: multiprocessing made easy and fast.

Import from here (``from suitkaise_processing import Pool``) or, with the full kit installed,
from ``suitkaise.processing``.
"""

from suitkaise_processing.__about__ import __version__
from suitkaise_processing._private.autoreconnect import autoreconnect
from suitkaise_processing._private.errors import (
    ErrorHandlerError,
    OnFinishError,
    PipeEndpointError,
    PoolError,
    PostRunError,
    PreRunError,
    ProcessError,
    ProcessTimeoutError,
    ResultError,
    ResultTimeoutError,
    RunError,
    ShareError,
    WorkerDiedError,
)
from suitkaise_processing._private.pipe import Pipe
from suitkaise_processing._private.pool import Pool, PoolTimeoutError
from suitkaise_processing._private.share import Share
from suitkaise_processing._private.skprocess.base import Skprocess
from suitkaise_processing._private.skprocess.config import ProcessConfig, Timeouts
from suitkaise_processing._private.timers import ProcessTimers

__all__ = [
    "__version__",
    # Skprocess, Pipe
    "Skprocess",
    "ProcessConfig",
    "Timeouts",
    "ProcessTimers",
    "Pipe",
    "Share",
    "autoreconnect",
    # errors
    "ProcessError",
    "PreRunError",
    "RunError",
    "PostRunError",
    "OnFinishError",
    "ResultError",
    "ErrorHandlerError",
    "ProcessTimeoutError",
    "ResultTimeoutError",
    "PipeEndpointError",
    "ShareError",
    "PoolError",
    "WorkerDiedError",
    # Pool
    "Pool",
    "PoolTimeoutError",
]
