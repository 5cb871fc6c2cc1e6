"""One process's connection to one counter, shared by every handle of that counter in the process.

All handles of a counter in a process share one :class:`Core` (one mapping, one recursive lock), so
``with a.get_lock(): b.increment()`` with ``a`` and ``b`` naming the same counter does not deadlock.
The operations are closures over local names (the word view, the semaphore's bound methods, the
range): that keeps each atomic operation to one C-level semaphore acquire/release and a few
``memoryview`` item accesses.
"""

from __future__ import annotations

import logging
import operator
import os
import secrets
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass

from shared_counter._private import native, recovery, segment
from shared_counter._private.errors import (
    CounterError,
    CounterExistsError,
    CounterLockError,
    CounterNotFoundError,
)
from shared_counter._private.names import KIND_LOCK, KIND_RECOVERY, KIND_SEGMENT, os_name
from shared_counter._private.segment import INSTANCE, OWNER, SEQ, VALUE, WIDTH
from shared_counter._private.values import CounterInt, PendingAdd, value_class

_log = logging.getLogger("shared_counter")

#: How long a connecting process waits for a creator that is still initialising the counter.
INIT_WAIT = 5.0


def value_range(width: int) -> tuple[int, int]:
    """The smallest and largest value of a signed integer of ``width`` bytes."""
    bits = 8 * width
    return -(1 << (bits - 1)), (1 << (bits - 1)) - 1


def check_width(width: object) -> int:
    """Validate ``width`` (4 or 8)."""
    if isinstance(width, bool) or width not in (4, 8):
        raise ValueError(f"width must be 4 (32-bit) or 8 (64-bit), not {width!r}")
    return int(width)


@dataclass
class Names:
    """The OS names of a counter's three objects, and whether this process tracks them."""

    name: str
    run_id: str
    segment: str
    lock: str
    recovery: str
    tracked: bool = False
    unlinked: bool = False

    @classmethod
    def of(cls, name: str, run_id: str) -> Names:
        """The names of counter ``name`` in ``run_id``."""
        return cls(
            name,
            run_id,
            os_name(KIND_SEGMENT, name, run_id),
            os_name(KIND_LOCK, name, run_id),
            os_name(KIND_RECOVERY, name, run_id),
        )

    def describe(self) -> str:
        """``'name' (run_id 'x')`` for messages."""
        return f"{self.name!r} (run_id {self.run_id!r})"

    def unlink(self) -> None:
        """Remove the lock, the recovery lock and then the value (idempotent)."""
        if self.tracked:
            self.tracked = False
            native.untrack(self.lock, "semaphore")
            native.untrack(self.recovery, "semaphore")
            native.untrack(self.segment, "shared_memory")
        native.unlink_semaphore(self.lock)
        native.unlink_semaphore(self.recovery)
        native.unlink_segment(self.segment)
        self.unlinked = True


class Core:
    """The mapping, the locks and the atomic operations of one counter in this process."""

    add: Callable[[int], int]
    fetch_add: Callable[[int], int]
    compare_and_swap: Callable[[int, int], bool]
    exchange: Callable[[int], int]
    load: Callable[[], int]
    store: Callable[[int], None]
    get_value: Callable[[], CounterInt]
    set_value: Callable[[object], None]
    lock_enter: Callable[[], bool]
    lock_release: Callable[..., None]
    undo: Callable[[], None]

    def __init__(
        self,
        names: Names,
        mapping: segment.Mapping,
        lock: native.SemLock,
        recovery_lock: native.SemLock,
        raw_lock: native.SemLock,
    ) -> None:
        self.names = names
        self.mapping = mapping
        self.sem = lock
        self.recovery_sem = recovery_lock
        self.raw_sem = raw_lock  # the same semaphore, kind SEMAPHORE: releasable by a recoverer
        words = mapping.words
        self.width = int(words[WIDTH])
        self.instance = int(words[INSTANCE])
        self.low, self.high = value_range(self.width)
        self.value_cls: type[CounterInt] = value_class()
        self.recoveries = 0
        self._build()

    # --- the hot path ----------------------------------------------------------------------
    def _build(self) -> None:
        words = self.mapping.words
        sem_acquire = self.sem.acquire
        sem_release = self.sem.release
        slow = self.acquire_slow
        low, high = self.low, self.high
        overflow = self.overflow
        pid = os.getpid()
        poll = recovery.POLL

        sem_count = self.sem._count
        sem_is_mine = self.sem._is_mine

        def undo() -> None:
            # An exception inside an operation's ``try`` (an overflow, or a KeyboardInterrupt or
            # other asynchronous exception that lands right after the acquire returned): give back
            # the level this operation took. Nothing in the ``try`` can raise before its acquire has
            # returned, so if this thread holds the lock now, one level of it is this operation's.
            if sem_is_mine():
                if sem_count() == 1:
                    words[1] = 0
                sem_release()

        def add(n: int) -> int:
            try:
                if not sem_acquire(False) and not sem_acquire(True, poll):
                    slow(None)
                if words[1] == pid:  # this thread holds it already (get_lock())
                    owner_after = pid
                else:
                    words[1] = pid
                    words[2] += 1
                    owner_after = 0
                new = words[0] + n
                if not low <= new <= high:
                    raise overflow(new)
                words[0] = new
            except BaseException:
                undo()
                raise
            words[1] = owner_after  # no branch here: nothing can interrupt before the release
            sem_release()
            return new

        def fetch_add(n: int) -> int:
            try:
                if not sem_acquire(False) and not sem_acquire(True, poll):
                    slow(None)
                if words[1] == pid:  # this thread holds it already (get_lock())
                    owner_after = pid
                else:
                    words[1] = pid
                    words[2] += 1
                    owner_after = 0
                old = words[0]
                new = old + n
                if not low <= new <= high:
                    raise overflow(new)
                words[0] = new
            except BaseException:
                undo()
                raise
            words[1] = owner_after  # no branch here: nothing can interrupt before the release
            sem_release()
            return old

        def compare_and_swap(expected: int, new: int) -> bool:
            if not low <= new <= high:
                raise overflow(new)
            try:
                if not sem_acquire(False) and not sem_acquire(True, poll):
                    slow(None)
                if words[1] == pid:  # this thread holds it already (get_lock())
                    owner_after = pid
                else:
                    words[1] = pid
                    words[2] += 1
                    owner_after = 0
                swapped = words[0] == expected
                if swapped:
                    words[0] = new
            except BaseException:
                undo()
                raise
            words[1] = owner_after  # no branch here: nothing can interrupt before the release
            sem_release()
            return swapped

        def exchange(new: int) -> int:
            if not low <= new <= high:
                raise overflow(new)
            try:
                if not sem_acquire(False) and not sem_acquire(True, poll):
                    slow(None)
                if words[1] == pid:  # this thread holds it already (get_lock())
                    owner_after = pid
                else:
                    words[1] = pid
                    words[2] += 1
                    owner_after = 0
                old = words[0]
                words[0] = new
            except BaseException:
                undo()
                raise
            words[1] = owner_after  # no branch here: nothing can interrupt before the release
            sem_release()
            return old

        def load() -> int:
            # One aligned native 64-bit load (memoryview copies the 8 bytes with one instruction on
            # x86-64 and arm64), and every store happens under the lock: a reader never sees a torn
            # value and needs no lock, so a reader killed mid-read can never leave the lock taken.
            return words[0]

        def store(new: int) -> None:
            if not low <= new <= high:
                raise overflow(new)
            try:
                if not sem_acquire(False) and not sem_acquire(True, poll):
                    slow(None)
                if words[1] == pid:  # this thread holds it already (get_lock())
                    owner_after = pid
                else:
                    words[1] = pid
                    words[2] += 1
                    owner_after = 0
                words[0] = new
            except BaseException:
                undo()
                raise
            words[1] = owner_after  # no branch here: nothing can interrupt before the release
            sem_release()

        value_cls = self.value_cls
        index = operator.index

        def get_value() -> CounterInt:
            return value_cls(words[0])

        def set_value(new: object) -> None:
            kind = type(new)
            if kind is int:
                store(new)  # type: ignore[arg-type]
            elif issubclass(kind, PendingAdd) and new.owner is value_cls:  # type: ignore[attr-defined]
                fetch_add(new.delta)  # type: ignore[attr-defined]
            else:
                store(index(new))  # type: ignore[arg-type]

        describe = self.names.describe

        def lock_enter() -> bool:
            try:
                if not sem_acquire(False) and not sem_acquire(True, poll):
                    slow(None)
                if words[1] != pid:
                    words[1] = pid
                    words[2] += 1
            except BaseException:
                undo()
                raise
            return True

        def lock_exit(*exc_info: object) -> None:
            if not sem_is_mine():
                raise CounterLockError(
                    f"the lock of counter {describe()} is not held by this thread; "
                    "release() must be called by the thread that acquired it"
                )
            if sem_count() == 1:
                words[1] = 0
            sem_release()

        self.add = add
        self.fetch_add = fetch_add
        self.compare_and_swap = compare_and_swap
        self.exchange = exchange
        self.load = load
        self.store = store
        self.get_value = get_value
        self.set_value = set_value
        self.lock_enter = lock_enter
        self.lock_release = lock_exit
        self.undo = undo
        self.pid = pid

    def overflow(self, new: int) -> OverflowError:
        """The error for an operation whose result ``new`` does not fit the width."""
        hint = "; use width=8 for 64-bit values" if self.width == 4 else ""
        return OverflowError(
            f"counter {self.names.describe()} cannot hold {new}: width={self.width} allows "
            f"{self.low} to {self.high}; the value is unchanged{hint}"
        )

    # --- the lock as users see it ----------------------------------------------------------
    def lock_acquire(self, blocking: bool, timeout: float | None) -> bool:
        """Acquire the (recursive) lock, recording this process as its owner."""
        sem = self.sem
        try:
            if not sem.acquire(False) and not (blocking and self.acquire_slow(timeout)):
                return False
            words = self.mapping.words
            if words[OWNER] != self.pid:
                words[OWNER] = self.pid
                words[SEQ] += 1
        except BaseException:
            self.undo()  # see undo in _build
            raise
        return True

    def lock_held(self) -> bool:
        """Whether the calling thread holds the lock."""
        return bool(self.sem._is_mine())

    # --- waiting and dead-holder recovery --------------------------------------------------
    def acquire_slow(self, timeout: float | None) -> bool:
        """Block until the semaphore is ours (``timeout`` None: forever), recovering a dead holder."""
        sem_acquire = self.sem.acquire
        deadline = None if timeout is None else time.monotonic() + timeout
        watch: tuple[int, float] | None = None
        while True:
            wait = recovery.POLL
            if deadline is not None:
                wait = min(wait, deadline - time.monotonic())
                if wait <= 0:
                    return bool(sem_acquire(False))
            if sem_acquire(True, wait):
                return True
            watch = self._check_holder(watch)

    def _check_holder(self, watch: tuple[int, float] | None) -> tuple[int, float] | None:
        words = self.mapping.words
        owner, seq = int(words[OWNER]), int(words[SEQ])
        now = time.monotonic()
        if owner:
            if owner != os.getpid() and not recovery.pid_alive(owner):
                self._recover(owner, seq)
            return None
        if watch is None or watch[0] != seq:
            return (seq, now)
        if now - watch[1] >= recovery.ORPHAN_GRACE:
            self._recover(0, seq)
            return None
        return watch

    def _recover(self, owner: int, seq: int) -> None:
        recovery_sem = self.recovery_sem
        try:
            # Inside the try: an interrupt that lands right after this acquire returned still
            # releases it below (a recovery lock held for ever would stop every later recovery).
            if not recovery_sem.acquire(True, recovery.POLL):
                return
            words = self.mapping.words
            if words[OWNER] != owner or words[SEQ] != seq:
                return  # someone else recovered, or the holder moved on
            if self.raw_sem.acquire(False):
                self.raw_sem.release()  # it was free after all
                return
            words[OWNER] = 0
            words[SEQ] = seq + 1
            try:
                self.raw_sem.release()
            except ValueError:
                return  # released meanwhile (the semaphore refuses to go above 1)
            self.recoveries += 1
            who = f"process {owner}, which died" if owner else "a process that died"
            _log.warning(
                "shared_counter: released the lock of counter %s held by %s while holding it",
                self.names.describe(),
                who,
            )
        finally:
            if recovery_sem._is_mine():
                recovery_sem.release()

    # --- lifetime ----------------------------------------------------------------------------
    def after_fork(self) -> None:
        """In a forked child: forget the parent's lock state and record the child's pid."""
        for sem in (self.sem, self.recovery_sem, self.raw_sem):
            sem._after_fork()
        self._build()


# --- one Core per counter per process ----------------------------------------------------------
_CORES: weakref.WeakValueDictionary[str, Core] = weakref.WeakValueDictionary()
_ALL: weakref.WeakSet[Core] = weakref.WeakSet()
_registry_lock = threading.Lock()


def _after_fork_in_child() -> None:
    global _registry_lock
    _registry_lock = threading.Lock()
    for core in list(_ALL):
        core.after_fork()


os.register_at_fork(after_in_child=_after_fork_in_child)


def _create_semaphore(name: str, kind: int) -> native.SemLock:
    try:
        return native.create_semaphore(name, kind)
    except FileExistsError:
        # We own the segment name (created with O_EXCL), and unlink() removes the semaphores
        # before the segment: a semaphore with our name is a leftover of a crashed creator.
        native.unlink_semaphore(name)
        return native.create_semaphore(name, kind)


def create(names: Names, initial_value: int, width: int) -> Core:
    """Create the counter; ``CounterExistsError`` (a ``FileExistsError``) if it exists."""
    try:
        mapping = segment.create(names.segment)
    except FileExistsError:
        raise CounterExistsError(
            f"counter {names.describe()} already exists; connect to it with create=False, "
            "pass exist_ok=True, or unlink() it first",
            counter_name=names.name,
            run_id=names.run_id,
        ) from None
    native.track(names.segment, "shared_memory")
    names.tracked = True
    try:
        words = mapping.words
        words[VALUE] = initial_value
        words[WIDTH] = width
        words[INSTANCE] = secrets.randbits(62) + 1
        lock = _create_semaphore(names.lock, native.RECURSIVE_MUTEX)
        native.track(names.lock, "semaphore")
        recovery_lock = _create_semaphore(names.recovery, native.SEMAPHORE)
        native.track(names.recovery, "semaphore")
        raw_lock = native.open_semaphore(names.lock, native.SEMAPHORE)
        lock.acquire()  # the release publishes the header to every later acquirer
        words[segment.MAGIC] = segment.MAGIC_WORD
        lock.release()
    except BaseException:
        names.unlink()
        mapping.close()
        raise
    core = Core(names, mapping, lock, recovery_lock, raw_lock)
    with _registry_lock:
        _CORES[names.segment] = core
        _ALL.add(core)
    return core


def connect(names: Names) -> Core:
    """Connect to the existing counter; ``CounterNotFoundError`` if there is none."""
    missing = CounterNotFoundError(
        f"no counter {names.describe()} exists; create it first with create=True "
        "(and check that the name and run_id match the creator's)",
        counter_name=names.name,
        run_id=names.run_id,
    )
    try:
        mapping = segment.attach(names.segment, wait=INIT_WAIT)
    except FileNotFoundError:
        raise missing from None
    if mapping is None:
        raise CounterError(
            f"counter {names.describe()} exists but was never initialised (its creator probably "
            "died while creating it); unlink() it and create it again"
        )
    try:
        if not segment.wait_initialised(mapping.words, wait=INIT_WAIT):
            raise CounterError(
                f"counter {names.describe()} exists but was never initialised (its creator "
                "probably died while creating it); unlink() it and create it again"
            )
        instance = int(mapping.words[INSTANCE])
        with _registry_lock:
            cached = _CORES.get(names.segment)
            if cached is not None and cached.instance == instance:
                mapping.close()
                return cached
        try:
            lock = native.open_semaphore(names.lock, native.RECURSIVE_MUTEX)
            recovery_lock = native.open_semaphore(names.recovery, native.SEMAPHORE)
            raw_lock = native.open_semaphore(names.lock, native.SEMAPHORE)
        except FileNotFoundError:
            raise missing from None  # being unlinked right now
    except BaseException:
        mapping.close()
        raise
    core = Core(names, mapping, lock, recovery_lock, raw_lock)
    with _registry_lock:
        _CORES[names.segment] = core
        _ALL.add(core)
    return core
