"""Functions the Executor tests submit (importable by the workers)."""

from __future__ import annotations

import os
from typing import Any


def scale(x: int, *, factor: int = 1, offset: int = 0) -> int:
    return x * factor + offset


def wait_for_release(fifo: str) -> str:
    """Block until the test writes a line into the FIFO at ``fifo``."""
    with open(fifo) as release:
        return release.readline().strip()


def record(path: str, value: Any) -> Any:
    """Append ``value`` to the file at ``path`` (which items ran), then return it."""
    with open(path, "a") as out:
        out.write(f"{value}\n")
    return value


def boom(x: int) -> int:
    raise ValueError(f"boom on {x}")


def die(_: object) -> None:
    os._exit(9)
