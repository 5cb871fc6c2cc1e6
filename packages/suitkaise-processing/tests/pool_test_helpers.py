"""Helpers the Pool tests share in the test process (what workers run lives in ``pool_workers`` and
the other ``*_workers`` modules)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path


def take_all(iterator: Iterator[object]) -> Iterator[object]:
    """The results of a Pool iterator; the error that ends it is yielded last."""
    while True:
        try:
            yield next(iterator)
        except StopIteration:
            return
        except BaseException as exc:
            yield exc
            return


def run_main_script(
    tmp_path: Path,
    source: str,
    *args: str,
    timeout: float = 100,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``source`` as a user's program: the file ``tmp_path/script.py`` as ``__main__`` in a fresh
    interpreter, with ``args`` and ``tmp_path`` as its working directory; its output as text."""
    script = tmp_path / "script.py"
    script.write_text(source)
    return subprocess.run(
        [sys.executable, str(script), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=tmp_path,
    )
