"""The files behind the local primitives, and this process's table of the ones it has open.

Layout: one group of empty files per (kind, name), in a per-user directory::

    <dir>                       0700, owned by the user: $XDG_RUNTIME_DIR/suitkaise-locks when that is set,
                                else <tempdir>/suitkaise-locks-<uid>
    <kind>-<key>.p              presence: every process that has the name open holds flock(LOCK_SH) on it
    <kind>-<key>.0, .1, ...     the locks themselves: flock(LOCK_EX) / flock(LOCK_SH) on each file

``kind`` is ``lock``, ``rw`` or ``sem``; ``key`` is 40 hex digits of sha256(name). Files are created 0600
and stay empty: the kernel's flock state is the whole protocol, so a process that dies (SIGKILL
included) drops every lock it held at once and the next waiter gets it without delay.

Opening a group: open (create) the presence file, flock(LOCK_SH) it and check that the path still names
the inode we locked (a closer may have unlinked it meanwhile: then start again); then open the data
files. Closing, when the last object of the name in this process is gone: flock(LOCK_EX | LOCK_NB) on
the presence file; when that succeeds no other process has the name open, so the group is unlinked
(data files first, presence file last, then the directory if it is empty) before the descriptors are
closed. A process killed before closing leaves its group behind; the first group a later process opens
sweeps such groups (their presence lock is free) first.

flock locks belong to open file descriptions, which a forked child shares with its parent: the child
closes its inherited descriptors (that releases nothing of the parent's) and reopens the group on its
first use, with fresh in-process state.
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import hashlib
import os
import stat
import tempfile
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from suitkaise_processing._private.concurrency.errors import LockError

LOCK_EX_NB = fcntl.LOCK_EX | fcntl.LOCK_NB
LOCK_SH_NB = fcntl.LOCK_SH | fcntl.LOCK_NB
MAX_POLL = 0.001  # longest sleep between two tries of a timed wait (seconds)
MAX_NAME = 200

S = TypeVar("S")


def check_name(name: str) -> str:
    """Validate a primitive's name (non-empty str, at most 200 characters, no NUL)."""
    if not isinstance(name, str) or not name or len(name) > MAX_NAME or "\0" in name:
        raise ValueError(
            f"a lock name must be a non-empty str of at most {MAX_NAME} characters without NUL, "
            f"got {name!r}"
        )
    return name


def lock_dir() -> str:
    """The per-user directory of the lock files (created 0700 if missing; refused if not ours)."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isdir(runtime):
        path = os.path.join(runtime, "suitkaise-locks")
    else:
        path = os.path.join(tempfile.gettempdir(), f"suitkaise-locks-{os.getuid()}")
    with contextlib.suppress(FileExistsError):
        os.mkdir(path, 0o700)
    info = os.lstat(path)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise LockError(
            f"{path} must be a directory owned by uid {os.getuid()} with mode 0700; "
            "remove it (another user may have created it) and try again"
        )
    return path


def flock_wait(fd: int, op: int, deadline: float | None, blocking: bool = True) -> bool:
    """Take flock ``op`` on ``fd``: at once, or blocking in the kernel (no deadline), or polling until
    ``deadline`` (a ``perf_counter`` time; sleeps grow from 20 us to 1 ms). Returns whether it got it."""
    try:
        fcntl.flock(fd, op | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        if not blocking:
            return False
    if deadline is None:
        fcntl.flock(fd, op)
        return True
    delay = 20e-6
    while True:
        left = deadline - time.perf_counter()
        if left <= 0:
            return False
        time.sleep(min(delay, left))
        delay = min(delay * 2, MAX_POLL)
        try:
            fcntl.flock(fd, op | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            pass


class Node(Generic[S]):
    """This process's open group of one (kind, name), shared by every object of that name.

    ``fds[i]`` is data file ``i`` (``-1`` until opened, and again in a forked child). ``state`` is the
    kind's in-process state (thread coordination), rebuilt by ``make_state`` after a fork.
    """

    def __init__(self, kind: str, name: str, nfiles: int, make_state: Callable[[], S]) -> None:
        self.kind = kind
        self.name = name
        self.nfiles = nfiles
        self.make_state = make_state
        self.state: S = make_state()
        self.users = 0
        self.presence = -1
        self.fds: list[int] = [-1] * nfiles
        self.prefix = f"{kind}-{hashlib.sha256(name.encode()).hexdigest()[:40]}"

    def open(self) -> None:
        """Open the group (see the module docstring); a no-op when already open."""
        if self.presence >= 0:
            return
        while True:
            directory = lock_dir()
            presence_path = os.path.join(directory, self.prefix + ".p")
            try:
                fd = _open_data(presence_path)
            except FileNotFoundError:  # the directory was removed by a closer in between
                continue
            fcntl.flock(fd, fcntl.LOCK_SH)
            try:
                same = os.stat(presence_path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        fds: list[int] = []
        try:
            for i in range(self.nfiles):
                fds.append(_open_data(os.path.join(directory, f"{self.prefix}.{i}")))
        except BaseException:
            for opened in (*fds, fd):
                os.close(opened)
            raise
        self.fds = fds
        self.presence = fd

    def grow(self, nfiles: int) -> None:
        """Make room for ``nfiles`` data files (a semaphore opened again with a larger cap)."""
        if nfiles <= self.nfiles:
            return
        if self.presence >= 0:
            directory = lock_dir()
            self.fds += [
                _open_data(os.path.join(directory, f"{self.prefix}.{i}"))
                for i in range(self.nfiles, nfiles)
            ]
        else:
            self.fds = [-1] * nfiles
        self.nfiles = nfiles

    def forget(self) -> None:
        """Close our descriptors without the closing protocol (after a fork, or to reopen)."""
        for fd in (*self.fds, self.presence):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self.fds = [-1] * self.nfiles
        self.presence = -1

    def close(self) -> None:
        """Close the group; unlink its files when no other process has it open."""
        if self.presence < 0:
            return
        try:
            fcntl.flock(self.presence, LOCK_EX_NB)
        except BlockingIOError:
            pass
        else:
            _unlink_group(lock_dir(), self.prefix)
        self.forget()


def _open_data(path: str) -> int:
    return os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)


def _unlink_group(directory: str, prefix: str) -> None:
    """Unlink a group whose presence lock the caller holds exclusively (data first, presence last)."""
    base = os.path.join(directory, prefix)
    for path in glob.glob(glob.escape(base) + ".[0-9]*"):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(base + ".p")
    with contextlib.suppress(OSError):  # not empty: someone else's group is there
        os.rmdir(directory)


def _sweep(directory: str) -> None:
    """Remove the groups left by processes that died without closing (nobody holds their presence)."""
    for presence_path in glob.glob(os.path.join(glob.escape(directory), "*.p")):
        try:
            fd = os.open(presence_path, os.O_RDWR | os.O_CLOEXEC | os.O_NOFOLLOW)
        except OSError:
            continue
        try:
            fcntl.flock(fd, LOCK_EX_NB)
            if os.stat(presence_path).st_ino == os.fstat(fd).st_ino:
                _unlink_group(directory, os.path.basename(presence_path)[: -len(".p")])
        except OSError:
            pass
        finally:
            os.close(fd)


# Re-entrant: a collection inside attach/detach can run a primitive's weakref finalizer, which calls
# detach on the same thread (a plain Lock deadlocked there).
_table_lock = threading.RLock()
_table: dict[tuple[str, str], Node[object]] = {}
_swept = [False]


def attach(kind: str, name: str, nfiles: int, make_state: Callable[[], S]) -> Node[S]:
    """This process's node of (kind, name), opened, with one more user."""
    with _table_lock:
        if not _swept[0]:
            _swept[0] = True
            _sweep(lock_dir())
        node: Node[S] | None = _table.get((kind, name))  # type: ignore[assignment]
        if node is None:
            node = Node(kind, name, nfiles, make_state)
            node.open()
            _table[(kind, name)] = node  # type: ignore[assignment]
        else:
            node.grow(nfiles)
        node.users += 1
        return node


def detach(node: Node[S]) -> None:
    """One user of ``node`` is gone; the last one closes it."""
    with _table_lock:
        node.users -= 1
        if node.users > 0 or _table.get((node.kind, node.name)) is not node:
            return
        del _table[(node.kind, node.name)]
        node.close()


def _after_fork_in_child() -> None:
    global _table_lock
    _table_lock = threading.RLock()
    for node in _table.values():
        node.forget()
        node.state = node.make_state()


os.register_at_fork(after_in_child=_after_fork_in_child)
