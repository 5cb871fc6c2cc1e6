"""Functions the Pool-on-Dask tests send to the cluster (importable by name on its workers)."""

from __future__ import annotations

import logging
import os
import socket
import time
from typing import Any


def block_first_until_released(x: int, port: int) -> int:
    """Item 0 tells the test which process runs it (its pid, over a loopback connection to ``port``)
    and waits for the test's ``go``; the other items return at once."""
    if x == 0:
        with socket.create_connection(("127.0.0.1", port), timeout=60) as conn:
            conn.sendall(f"{os.getpid()}\n".encode())
            conn.settimeout(120)
            assert conn.recv(2) == b"go"
    return x * 2


def double_or_hold(x: int, port: int) -> int:
    """Item 0 returns at once; the others hold until the test closes its loopback listener on ``port``
    (a connection still waiting in its backlog is then reset), or it refuses them."""
    if x:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=60) as conn:
                conn.settimeout(120)
                conn.recv(1)
        except OSError:
            pass
    return x * 2


def kill_own_worker_at_3(x: int) -> int:
    """Item 3 kills the process that runs it (every time it runs)."""
    if x == 3:
        os.kill(os.getpid(), 9)
    return x * 2


def sleep_then_double(x: float) -> float:
    time.sleep(x)
    return x * 2


def add_to_share(share: Any, x: int) -> int:
    share.total += x
    return x


def hostname(_: object) -> str:
    return socket.gethostname()


def log_at_three_levels(x: int) -> int:
    """Logs item ``x`` at DEBUG, INFO and WARNING (logger ``dask_items.items``)."""
    log = logging.getLogger("dask_items.items")
    log.debug("item %d at debug", x)
    log.info("item %d at info", x)
    log.warning("item %d at warning", x)
    return x
