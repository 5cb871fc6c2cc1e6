"""``progress=True``: a tqdm bar when tqdm is installed, otherwise a plain counter on stderr."""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO


class Progress:
    """Counts finished items of one call and shows them."""

    def __init__(self, desc: str, total: int | None, stream: TextIO | None = None) -> None:
        self.desc = desc
        self.total = total
        self.count = 0
        self._closed = False
        self._bar: Any = None
        self._stream = stream if stream is not None else sys.stderr
        self._last = 0.0
        try:
            from tqdm.auto import tqdm
        except ImportError:
            tqdm = None
        if tqdm is not None:
            self._bar = tqdm(total=total, desc=desc, unit="item", file=self._stream, leave=True)

    def update(self, n: int) -> None:
        """``n`` more items finished."""
        if self._closed:
            return
        self.count += n
        if self._bar is not None:
            self._bar.update(n)
            return
        now = time.monotonic()
        if now - self._last >= 0.2:
            self._last = now
            self._write()

    def _write(self, end: str = "") -> None:
        of = f"/{self.total}" if self.total is not None else ""
        self._stream.write(f"\r{self.desc}: {self.count}{of} items{end}")
        self._stream.flush()

    def close(self) -> None:
        """Finish the display (idempotent)."""
        if self._closed:
            return
        self._closed = True
        if self._bar is not None:
            self._bar.close()
        else:
            self._write("\n")
