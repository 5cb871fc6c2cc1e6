"""Validation of counter names and run_ids, and the OS names of a counter's segment and semaphores."""

from __future__ import annotations

import sys

# Characters kept as they are in OS names; every other byte is written as %XX. The result is ASCII
# without ':' (the resource tracker's separator) and without '/' (forbidden in POSIX IPC names).
_SAFE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-_")

#: Longest OS name (without the leading '/') this platform accepts for shared memory AND named
#: semaphores. Linux: NAME_MAX (255) minus the "sem." prefix glibc adds; macOS: PSHMNAMLEN 31
#: including the leading '/'.
MAX_OS_NAME = 251 if sys.platform.startswith("linux") else 30

# One letter per object of a counter: the value segment, the lock and the recovery lock.
KIND_SEGMENT = "c"
KIND_LOCK = "l"
KIND_RECOVERY = "r"


def _escape(text: str) -> str:
    out = []
    for byte in text.encode("utf-8", "surrogatepass"):
        out.append(chr(byte) if byte in _SAFE and byte != ord("%") else f"%{byte:02X}")
    return "".join(out)


def _check_text(what: str, text: object, *, allow_empty: bool) -> str:
    if not isinstance(text, str):
        raise TypeError(f"counter {what} must be a str, not {type(text).__name__}")
    if not text and not allow_empty:
        raise ValueError(f"counter {what} must not be empty")
    if "/" in text:
        raise ValueError(f"counter {what} {text!r} must not contain '/'")
    if "\x00" in text:
        raise ValueError(f"counter {what} {text!r} must not contain NUL characters")
    return text


def os_name(kind: str, name: str, run_id: str) -> str:
    """The POSIX IPC name (with its leading '/') of one object of the counter ``name`` in ``run_id``.

    The run_id is length-prefixed, so ``("a_b", "c")`` and ``("a", "b_c")`` never collide, and
    every name starts with ``sk_`` (the prefix all suitkaise objects in /dev/shm share).
    """
    rid = _escape(run_id)
    return f"/sk_{kind}_{len(rid)}_{rid}_{_escape(name)}"


def validate(name: object, run_id: object) -> tuple[str, str]:
    """Check a counter name and run_id; raise ``ValueError``/``TypeError`` telling what to change."""
    checked_name = _check_text("name", name, allow_empty=False)
    checked_rid = _check_text("run_id", run_id, allow_empty=True)
    longest = os_name(KIND_SEGMENT, checked_name, checked_rid)
    if len(longest) - 1 > MAX_OS_NAME:
        raise ValueError(
            f"counter name {checked_name!r} with run_id {checked_rid!r} is too long for this platform: "
            f"its shared-memory name {longest[1:]!r} has {len(longest) - 1} characters and "
            f"{sys.platform} allows at most {MAX_OS_NAME}; use a shorter name or run_id"
        )
    return checked_name, checked_rid
