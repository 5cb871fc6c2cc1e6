"""The shared-memory segment of one counter: its layout, creation and attachment.

The segment holds six native 64-bit words (whatever the counter's width; width only sets the range):

====== ========== ==========================================================================
index  name       meaning
====== ========== ==========================================================================
0      VALUE      the counter value
1      OWNER      pid of the process holding the lock (0: none recorded), for dead-holder recovery
2      SEQ        incremented by every outermost lock acquisition (and by a recovery)
3      WIDTH      4 or 8 (bytes of the counter's integer range)
4      INSTANCE   random id of this incarnation of the name (detects unlink + re-create)
5      MAGIC      written last by the creator: the segment is initialised
====== ========== ==========================================================================
"""

from __future__ import annotations

import mmap
import os
import time

from shared_counter._private import native

VALUE, OWNER, SEQ, WIDTH, INSTANCE, MAGIC = range(6)
SIZE = 64
MAGIC_WORD = 0x534B_4354_5230_3031  # "SKCTR001"


class Mapping:
    """A mapped segment and the ``memoryview`` of native int64 words the counter works on."""

    __slots__ = ("_mm", "_raw", "words")

    def __init__(self, mm: mmap.mmap) -> None:
        self._mm = mm
        self._raw = memoryview(mm)
        self.words = self._raw.cast("q")

    def close(self) -> None:
        """Unmap (the views are released first, as mmap requires)."""
        self.words.release()
        self._raw.release()
        self._mm.close()


def create(name: str) -> Mapping:
    """Create and map a zeroed segment; ``FileExistsError`` when the name is taken."""
    return Mapping(native.create_segment(name, SIZE))


def attach(name: str, *, wait: float) -> Mapping | None:
    """Map the existing segment ``name``.

    ``FileNotFoundError`` if it does not exist; ``None`` if it stays smaller than the layout for
    ``wait`` seconds (its creator died between creating and sizing it).
    """
    fd = native.open_segment_fd(name)
    try:
        return Mapping(mmap.mmap(fd, SIZE)) if _wait_sized(fd, wait) else None
    finally:
        os.close(fd)


def _wait_sized(fd: int, wait: float) -> bool:
    """Wait until the segment has the layout's size; False after ``wait`` seconds. (A function of
    its own: on CPython 3.13.0 an interrupt on the backward jump of a ``while`` loop skips the
    ``finally`` of the frame holding the loop, gh-130279, and the descriptor would stay open.)"""
    deadline = time.monotonic() + wait
    delay = 0.0005
    while os.fstat(fd).st_size < SIZE:
        if time.monotonic() >= deadline:
            return False
        time.sleep(delay)
        delay = min(delay * 2, 0.05)
    return True


def wait_initialised(words: memoryview, *, wait: float) -> bool:
    """Wait until the creator has written the whole header (MAGIC last); False after ``wait`` seconds."""
    deadline = time.monotonic() + wait
    delay = 0.0005
    while not (words[MAGIC] == MAGIC_WORD and words[WIDTH] in (4, 8) and words[INSTANCE] != 0):
        if time.monotonic() >= deadline:
            return False
        time.sleep(delay)
        delay = min(delay * 2, 0.05)
    return True
