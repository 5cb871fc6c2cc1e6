"""Log records of a child process (Pool worker, Skprocess child) handed to the parent's handlers.

The child replaces its root logger's handlers with one :class:`LogForwarder`, which packs each record
with :func:`~._private.wire.pack_log_record` (plain data) and gives it to a ``send`` function of the
child's own protocol; the parent rebuilds it with ``logging.makeLogRecord`` and handles it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from suitkaise_processing._private.wire import pack_log_record

__all__ = ["LogForwarder", "forward_logs", "handle_forwarded"]


class LogForwarder(logging.Handler):
    """Gives every log record, packed as plain data, to ``send``."""

    def __init__(self, send: Callable[[dict[str, Any]], None]) -> None:
        super().__init__(logging.NOTSET)
        self._send = send

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._send(pack_log_record(record))
        except Exception:  # logging must never break the code that logs
            self.handleError(record)


def forward_logs(send: Callable[[dict[str, Any]], None], level: int) -> None:
    """Route this process's log records (at ``level`` and above) to ``send`` instead of its own
    handlers."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.addHandler(LogForwarder(send))
    root.setLevel(level)


def handle_forwarded(data: dict[str, Any]) -> None:
    """Give a record packed in a child (:func:`~._private.wire.pack_log_record`) to this process's
    logger of the same name."""
    record = logging.makeLogRecord(data)
    logging.getLogger(record.name).handle(record)
