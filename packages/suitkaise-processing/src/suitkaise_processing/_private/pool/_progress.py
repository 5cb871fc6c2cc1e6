"""Progress display of Pool calls: a tqdm bar when tqdm is installed, otherwise a plain counter on
stderr.

``Pool(progress=...)`` and the per-call ``progress=`` / ``.progress(...)`` take ``True``, ``False`` or
a mapping of tqdm keyword arguments (``{"desc": "squares", "unit": "sq", "colour": "green"}``);
:func:`resolve` merges a call's options over the pool's. Without tqdm the counter uses ``desc``,
``unit``, ``file``, ``disable`` and ``mininterval`` and ignores the other (display) options.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping
from typing import Any, TextIO

#: what ``progress=`` accepts
ProgressOption = bool | Mapping[str, Any]


def options_of(value: object, where: str) -> dict[str, Any] | None:
    """``value`` as given to ``progress=`` (``True``, ``False``/``None``, or tqdm options) as a
    dict of options, ``None`` for no display; ``where`` names the argument in errors."""
    if value is None or value is False:
        return None
    if value is True:
        return {}
    if isinstance(value, Mapping):
        bad = [key for key in value if not isinstance(key, str)]
        if bad:
            raise TypeError(f"{where}: the progress options are keyword names, got {bad[0]!r}")
        return dict(value)
    raise TypeError(
        f"{where} must be True, False or a dict of tqdm options such as "
        f'{{"desc": "squares", "unit": "sq"}}, not {type(value).__name__}'
    )


def resolve(
    pool: dict[str, Any] | None, call: ProgressOption | None, where: str
) -> dict[str, Any] | None:
    """The options of one call: the pool's (``None``: no display), overridden by the call's when it
    gives any (``False``: no display for this call; ``True``: the pool's options, or the defaults)."""
    if call is None:
        return pool
    own = options_of(call, where)
    if own is None:
        return None
    return {**(pool or {}), **own}


class Progress:
    """Counts finished items of one call and shows them."""

    def __init__(
        self,
        desc: str,
        total: int | None,
        stream: TextIO | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> None:
        opts = dict(options or {})
        self.desc: str = str(opts.pop("desc", desc))
        self.total = opts.pop("total", total)
        self.count = 0
        self._unit = str(opts.get("unit", "item"))
        self._closed = bool(opts.get("disable", False))
        self._bar: Any = None
        file = opts.pop("file", None)
        self._stream: TextIO = file if file is not None else (stream or sys.stderr)
        self._interval = float(opts.get("mininterval", 0.2))
        self._last = 0.0
        if self._closed:
            return
        try:
            from tqdm.auto import tqdm
        except ImportError:
            tqdm = None
        if tqdm is not None:
            settings: dict[str, Any] = {"unit": "item", "leave": True, **opts}
            self._bar = tqdm(total=self.total, desc=self.desc, file=self._stream, **settings)

    def update(self, n: int) -> None:
        """``n`` more items finished."""
        if self._closed:
            return
        self.count += n
        if self._bar is not None:
            self._bar.update(n)
            return
        now = time.monotonic()
        if now - self._last >= self._interval:
            self._last = now
            self._write()

    def _write(self, end: str = "") -> None:
        of = f"/{self.total}" if self.total is not None else ""
        self._stream.write(f"\r{self.desc}: {self.count}{of} {self._unit}s{end}")
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
