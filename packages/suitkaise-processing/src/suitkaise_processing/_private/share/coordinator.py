"""The coordinator process: the only writer of a Share's state.

It accepts authenticated connections (``multiprocessing.connection.Listener`` with the Share's key),
drains every command that is ready, applies them in arrival order to its mirror of the values,
commits each changed attribute to shared memory once per batch (appending delta records where it
can), then raises the attributes' ``applied`` counters and finally answers the commands that wait for
a result. So an answer always comes after the write is visible, and readers that saw a queued write
wait exactly until it is committed.

Each commit is journaled (see :mod:`.layout`), and every numbered write of a client is applied only
if its number is above the client's committed one. A coordinator started with ``recover=True`` (the
owner's replacement for a killed one) finishes the journal it finds, rebuilds its mirror from the
data segments and carries on; the clients say hello again and resend what was not committed.

Big buffers (numpy arrays, see :mod:`..bigbuffers`): a write that carries them arrives with the
writer's memory file, which this process maps privately (copy-on-write). The value it stores keeps
viewing that mapping instead of a copy. That is safe for as long as the value lives: the mapping
holds the file's open file description, and with it the lock that keeps the writer from ever
reusing the file (also after the writer exited or was killed), and a change made here (``+=``,
``share.arr[0] = 1``) copies only the pages written, into this process. Committing such a value
writes its buffers once into a buffer segment that readers map privately (see :mod:`.layout`), so
a read in another process decodes views, not copies. ``SK_SHM_BUFFERS=0`` turns both off (values
travel and are stored inside the frames and records, as before).
"""

from __future__ import annotations

import mmap
import operator
import os
import secrets
import select
import signal
import socket
import struct
import sys
import threading
import time
import traceback
from multiprocessing import resource_tracker
from multiprocessing.connection import Connection, Listener, answer_challenge, deliver_challenge
from typing import Any

import suitkaise_processing._private.share.segment as segment
from suitkaise_processing._private import bigbuffers
from suitkaise_processing._private.errors import MessageError
from suitkaise_processing._private.fdpass import send_fd_on
from suitkaise_processing._private.share.kinds import kind_of
from suitkaise_processing._private.share.layout import (
    C_APPLIED,
    C_ID,
    CLIENT_WORDS,
    CLIENTS_WORD,
    CONTROL_SIZE,
    D_BASE_ID,
    D_BASE_OFF,
    D_RETIRED,
    D_SEQ,
    D_USED,
    DATA_HEADER,
    H_DIRVER,
    H_PID,
    H_STATUS,
    HEADER_WORDS,
    J_CLIENT_WORDS,
    J_CLIENTS_WORD,
    J_CLOSED,
    J_DATA_DONE,
    J_NCLIENTS,
    J_NSLOTS,
    J_OPEN,
    J_SLOT_WORDS,
    J_SLOTS_WORD,
    J_STATE,
    JOURNAL_WORD,
    JS_APPLIED,
    JS_BASE_OFF,
    JS_GEN,
    JS_IN_USE,
    JS_KIND,
    JS_SLOT,
    JS_USED,
    MAX_CLIENTS,
    MAX_SLOTS,
    NAME_MAX,
    OP_APPEND,
    OP_BASE,
    OP_BASE_BIG,
    OP_EXTEND,
    OP_SETITEM,
    OP_UPDATE,
    RECORD_HEAD,
    S_APPLIED,
    S_IN_USE,
    S_KIND,
    S_NAME_LEN,
    S_QUEUED,
    S_SEG_GEN,
    SLOT_WORDS,
    STATUS_ERROR,
    STATUS_RUNNING,
    STATUS_STOPPED,
    buffers_name,
    client_word,
    control_name,
    data_name,
    data_prefix,
    slot_name_offset,
    slot_word,
)
from suitkaise_processing._private.share.protocol import (
    OP_CALL,
    OP_CLEAR,
    OP_DEL,
    OP_HELLO,
    OP_IOP,
    OP_NAMES,
    OP_PING,
    OP_SET,
    OP_STOP,
    Path,
    unpack_header,
    unpack_payload,
)
from suitkaise_processing._private.share.records import (
    big_name,
    big_payload,
    parse_records,
    record_size,
    write_record,
)
from suitkaise_processing._private.wire import FRAME_LIMIT, decode, encode

_FULL = None  # marker in the dirty table: rewrite the whole value
_MAX_DELTA_LOG = 1 << 16
_MIN_SEGMENT = 1 << 12
_ORPHAN_WAIT = 150.0  # > a client's RESTART_WAIT (60 s): by then it has resent or given up
# (S_APPLIED, S_SEG_GEN, S_KIND, S_IN_USE) of a slot, and a journal slot entry (JS_SLOT .. JS_APPLIED)
_SLOT_STATE = struct.Struct("=4Q")
_JOURNAL_SLOT = struct.Struct("=7Q")
_J_STATE = JOURNAL_WORD + J_STATE
_J_NSLOTS = JOURNAL_WORD + J_NSLOTS
_J_NCLIENTS = JOURNAL_WORD + J_NCLIENTS
_IN_PLACE_OPS = frozenset(
    {
        "iadd",
        "isub",
        "imul",
        "itruediv",
        "ifloordiv",
        "imod",
        "ipow",
        "ilshift",
        "irshift",
        "iand",
        "ior",
        "ixor",
        "imatmul",
    }
)


class _Stop(Exception):
    pass


class DataWriter:
    """The coordinator's side of one attribute's data segment (append-only, see :mod:`.layout`)."""

    def __init__(self, share_id: str, slot: int) -> None:
        self.share_id = share_id
        self.slot = slot
        self.seg: segment.Segment | None = None
        self.words: memoryview | None = None
        self.gen = 0
        self.cap = 0
        self.used = DATA_HEADER
        self.base_off = DATA_HEADER
        self.base_len = 0
        self.log_len = 0
        self.old: list[segment.Segment] = []  # generations replaced in the open commit
        self.big: str | None = None  # buffer segment of the current full value (OP_BASE_BIG)
        self.old_big: list[str] = []  # buffer segments of values replaced in the open commit
        # a read-only mapping of each of those segments, never read: while the coordinator holds a
        # segment it is mapped, which is how a leak check tells a segment in use from a leftover
        self.held: dict[str, mmap.mmap] = {}

    @classmethod
    def adopt(cls, share_id: str, slot: int, gen: int) -> tuple[DataWriter, Any]:
        """Continue generation ``gen`` that a previous coordinator wrote; return it and its value."""
        writer = cls(share_id, slot)
        seg = segment.Segment.attach(data_name(share_id, slot, gen))
        words = seg.buf.cast("Q")
        used, base_off = int(words[D_USED]), int(words[D_BASE_OFF])
        value = parse_records(seg.buf, base_off, used, None, False)
        base_len, op = RECORD_HEAD.unpack_from(seg.buf, base_off)
        if op == OP_BASE_BIG:
            start = base_off + RECORD_HEAD.size
            writer.big = big_name(seg.buf[start : start + base_len])
            writer.held[writer.big] = segment.map_shared_readonly(writer.big)
        writer.seg, writer.words, writer.gen, writer.cap = seg, words, gen, seg.size
        writer.used, writer.base_off, writer.base_len = used, base_off, int(base_len)
        writer.log_len = used - base_off - record_size(b"") - int(base_len)
        return writer, value

    def write_full(
        self, payload: bytes | memoryview, op: int = OP_BASE, big: str | None = None
    ) -> bool:
        """Append the whole value (``op`` OP_BASE_BIG: its buffers are in buffer segment ``big``);
        return ``True`` if a new segment generation was created."""
        if self.big is not None:
            self.old_big.append(self.big)  # unlinked when the commit closes
        self.big = big
        need = record_size(payload)
        small = self.cap > (1 << 20) and (DATA_HEADER + need) * 16 < self.cap
        if self.seg is None or self.words is None or small:
            self._replace(need, payload, op)
            return True
        words = self.words
        if self.used + need <= self.cap:
            offset = self.used  # after everything: the committed records stay intact
            end = write_record(self.seg.buf, offset, op, payload)
            words[D_USED] = end  # before base_off: a reader that sees the new base_off sees its end
            words[D_BASE_OFF] = offset
            words[D_SEQ] += 2
        elif DATA_HEADER + need <= self.base_off:
            # wrap around: the space before the current full value is free (it stays intact, so
            # a rollback can still return to it)
            offset = DATA_HEADER
            words[D_SEQ] += 1  # odd: readers retry
            end = write_record(self.seg.buf, offset, op, payload)
            words[D_USED] = end
            words[D_BASE_OFF] = offset
            words[D_BASE_ID] += 1  # copies built from later offsets are rebuilt
            words[D_SEQ] += 1
        else:
            self._replace(need, payload, op)
            return True
        self.used, self.base_off = end, offset
        self.base_len = len(payload)
        self.log_len = 0
        return False

    def append(self, records: list[tuple[int, bytes | memoryview]]) -> bool:
        """Append delta records if they fit and the log is not too long; ``False``: rewrite instead."""
        if self.seg is None or self.words is None:
            return False
        total = sum(record_size(p) for _, p in records)
        # keep room for the next full value after the log, so it never has to move to a new segment
        room = self.cap - record_size(b"") - self.base_len
        if self.used + total > room or self.log_len + total > max(
            _MAX_DELTA_LOG, 2 * self.base_len
        ):
            return False
        offset = self.used
        buf = self.seg.buf
        for op, payload in records:
            offset = write_record(buf, offset, op, payload)
        self.words[D_USED] = offset
        self.words[D_SEQ] += 2
        self.used = offset
        self.log_len += total
        return True

    def _replace(self, need: int, payload: bytes | memoryview, op: int) -> None:
        cap = _MIN_SEGMENT
        while cap < DATA_HEADER + need * 3:  # a full value, its delta log, the next full value
            cap *= 2
        gen = self.gen + 1
        name = data_name(self.share_id, self.slot, gen)
        segment.unlink(name)  # a leftover of a killed coordinator
        seg = segment.Segment.create(name, cap)
        words = seg.buf.cast("Q")
        end = write_record(seg.buf, DATA_HEADER, op, payload)
        words[D_USED] = end
        words[D_BASE_OFF] = DATA_HEADER
        words[D_BASE_ID] = 1
        words[D_SEQ] = 2
        self.drop()
        self.seg, self.words, self.gen, self.cap = seg, words, gen, cap
        self.used, self.base_off, self.base_len, self.log_len = end, DATA_HEADER, len(payload), 0

    def drop(self) -> None:
        """Stop writing the current generation; it is retired when the open commit closes."""
        if self.seg is None or self.words is None:
            return
        self.words.release()
        self.old.append(self.seg)
        self.seg = None
        self.words = None

    def drop_value(self) -> None:
        """The value was deleted: :meth:`drop`, and its buffer segment goes when the commit closes."""
        self.drop()
        if self.big is not None:
            self.old_big.append(self.big)
            self.big = None

    def retire_old(self) -> None:
        """Mark the generations replaced by the closed commit stale for readers and unlink them,
        with the buffer segments of the values it replaced."""
        for seg in self.old:
            _retire(seg)
        self.old.clear()
        for name in self.old_big:
            held = self.held.pop(name, None)
            if held is not None:
                held.close()
            segment.unlink(name)
        self.old_big.clear()

    def write_buffers(self, buffers: list[memoryview]) -> str:
        """A new buffer segment of this slot holding ``buffers``; its name."""
        name = buffers_name(self.share_id, self.slot, secrets.token_hex(4))
        self.held[name] = segment.write_buffers(name, buffers, bigbuffers.ALIGN)
        return name

    def retire(self) -> None:
        """Retire every generation and buffer segment (the Share stops)."""
        self.drop_value()
        self.retire_old()


def _retire(seg: segment.Segment) -> None:
    words = seg.buf.cast("Q")
    words[D_RETIRED] = 1
    words[D_SEQ] += 2
    words.release()
    seg.close()
    segment.unlink(seg.name)


class Core:
    """The coordinator's state: mirrors of the values, the slot table, pending commits."""

    def __init__(
        self, share_id: str, words: memoryview | None = None, ctl_buf: memoryview | None = None
    ) -> None:
        if words is None or ctl_buf is None:
            # a local mirror only (the owner's copy while the Share is stopped): private control memory
            ctl_buf = memoryview(bytearray(CONTROL_SIZE))
            words = ctl_buf.cast("Q")
        self.share_id = share_id
        self.w: memoryview = words
        self.ctl_buf: memoryview = ctl_buf
        self.values: dict[str, Any] = {}
        self.slot_of: dict[str, int] = {}
        self.writers: dict[int, DataWriter] = {}
        self.dirty: dict[str, list[tuple[int, bytes | memoryview]] | None] = {}
        self.counts: dict[int, int] = {}
        self.stopping = False
        # client table (see layout): id -> entry, and the highest write sequence number applied
        # to the mirror per entry (committed or about to be)
        self.entries: dict[int, int] = {}
        self.applied: dict[int, int] = {}
        self.seqs: dict[int, int] = {}  # entry -> highest seq applied in the open batch
        self.links: dict[int, int] = {}  # entry -> connections that said hello with its id
        # entries a previous coordinator left whose clients did not reconnect yet, and until when
        # they wait for them (a client gives up after RESTART_WAIT; then nobody can resend to them)
        self.orphans: dict[int, float] = {}
        self.leaving: list[int] = []  # entries of clients that disconnected, freed after the commit
        # slots named by an earlier run of this Share (kept across stop/start)
        for slot in range(MAX_SLOTS):
            length = words[slot_word(slot, S_NAME_LEN)]
            if length:
                off = slot_name_offset(slot)
                self.slot_of[bytes(ctl_buf[off : off + length]).decode()] = slot

    # ------------------------------------------------------------------ clients
    def hello(self, client_id: int) -> tuple[int, int]:
        """``(entry, committed applied seq)`` of client ``client_id`` (a new entry on first contact)."""
        entry = self.entries.get(client_id)
        if entry is None:
            for candidate in range(MAX_CLIENTS):
                if self.w[client_word(candidate, C_ID)] == 0 and candidate not in self.applied:
                    entry = candidate
                    break
            else:
                from suitkaise_processing._private.errors import ShareError

                raise ShareError(
                    f"a Share serves at most {MAX_CLIENTS} processes at once; use fewer processes "
                    "or close the handles of processes that are done"
                )
            self.w[client_word(entry, C_APPLIED)] = 0
            self.w[client_word(entry, C_ID)] = client_id
            self.entries[client_id] = entry
            self.applied[entry] = 0
        self.links[entry] = self.links.get(entry, 0) + 1
        self.orphans.pop(entry, None)
        return entry, int(self.w[client_word(entry, C_APPLIED)])

    def leave(self, entry: int) -> None:
        """The client of ``entry`` disconnected: free its entry once its last writes are committed."""
        self.leaving.append(entry)

    def _free_left(self) -> None:
        for entry in self.leaving:
            links = self.links.get(entry, 1) - 1
            if links > 0:  # the client reconnected meanwhile (a new connection said hello)
                self.links[entry] = links
                continue
            self.links.pop(entry, None)
            client_id = int(self.w[client_word(entry, C_ID)])
            self.entries.pop(client_id, None)
            self.applied.pop(entry, None)
            self.w[client_word(entry, C_ID)] = 0
            self.w[client_word(entry, C_APPLIED)] = 0
        self.leaving.clear()

    def free_orphans(self) -> None:
        """Free the entries of clients that never came back after a restart (they died meanwhile)."""
        now = time.monotonic()
        gone = [entry for entry, until in self.orphans.items() if now > until]
        for entry in gone:
            del self.orphans[entry]
            self.links[entry] = 1
            self.leaving.append(entry)
        if gone:
            self._free_left()

    def fresh(self, entry: int, seq: int) -> bool:
        """Whether write ``seq`` of client ``entry`` is new (``False``: applied before, skip it)."""
        if seq <= self.applied.get(entry, 0):
            return False
        self.applied[entry] = seq
        self.seqs[entry] = seq
        return True

    # ------------------------------------------------------------------ slots
    def slot_for(self, name: str) -> int:
        slot = self.slot_of.get(name)
        if slot is not None:
            return slot
        raw = name.encode()
        if len(raw) > NAME_MAX:
            raise ValueError(
                f"attribute name {name!r} is longer than {NAME_MAX} bytes; use a shorter name"
            )
        slot = len(self.slot_of)
        if slot >= MAX_SLOTS:
            raise ValueError(
                f"a Share holds at most {MAX_SLOTS} distinct attribute names; store related values "
                "together in a dict attribute"
            )
        off = slot_name_offset(slot)
        self.ctl_buf[off : off + len(raw)] = raw
        self.w[slot_word(slot, S_NAME_LEN)] = len(raw)
        self.slot_of[name] = slot
        self.w[H_DIRVER] += 1
        return slot

    # ------------------------------------------------------------------ applying commands
    def apply(self, op: str, name: str, path: Path, args: tuple[Any, ...]) -> Any:
        if op == OP_SET:
            return self._set(name, path, args[0])
        if op == OP_IOP:
            opname, operand = args
            if opname not in _IN_PLACE_OPS:
                raise ValueError(f"unknown in-place operation {opname!r}")
            current = self._get(name, path)
            new = getattr(operator, opname)(current, operand)
            self._set(name, path, new)
            return None
        if op == OP_CALL:
            method, call_args, call_kwargs = args
            return self._call(name, path, method, call_args, call_kwargs)
        if op == OP_DEL:
            return self._delete(name, path)
        if op == OP_NAMES:
            return sorted(self.values)
        if op == OP_CLEAR:
            for key in list(self.values):
                self._delete(key, ())
            return None
        if op == OP_PING:
            return None
        if op == OP_STOP:
            self.stopping = True
            return dict(self.values)
        raise ValueError(f"unknown Share command {op!r}")

    def _resolve(self, name: str, path: Path) -> Any:
        try:
            target = self.values[name]
        except KeyError:
            raise AttributeError(f"the Share has no attribute {name!r}") from None
        for kind, key in path:
            target = getattr(target, key) if kind == "a" else target[key]
        return target

    def _get(self, name: str, path: Path) -> Any:
        return self._resolve(name, path)

    def _set(self, name: str, path: Path, value: Any) -> None:
        if not path:
            self.slot_for(name)
            self.values[name] = value
            self.dirty[name] = _FULL
            return
        parent = self._resolve(name, path[:-1])
        kind, key = path[-1]
        if kind == "a":
            setattr(parent, key, value)
        else:
            parent[key] = value
        if len(path) == 1 and kind == "i" and type(parent) is dict:
            self._delta(name, OP_SETITEM, (key, value))
        else:
            self.dirty[name] = _FULL

    def _delete(self, name: str, path: Path) -> None:
        if not path:
            if name not in self.values:
                raise AttributeError(f"the Share has no attribute {name!r}")
            del self.values[name]
            self.dirty[name] = _FULL
            return
        parent = self._resolve(name, path[:-1])
        kind, key = path[-1]
        if kind == "a":
            delattr(parent, key)
        else:
            del parent[key]
        self.dirty[name] = _FULL

    def _call(
        self, name: str, path: Path, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        target = self._resolve(name, path)
        if not path and type(target) is list and method in ("append", "extend") and not kwargs:
            if method == "append":
                target.append(args[0])
                self._delta(name, OP_APPEND, args[0])
            else:
                items = list(args[0])
                target.extend(items)
                self._delta(name, OP_EXTEND, items)
            return None
        if not path and type(target) is dict and method == "update" and len(args) <= 1:
            mapping = dict(*args, **kwargs)
            target.update(mapping)
            self._delta(name, OP_UPDATE, mapping)
            return None
        self.dirty[name] = _FULL  # even if the call raises: it may have changed something first
        if method == "__next__":
            return next(target)
        result = getattr(target, method)(*args, **kwargs)
        return None if result is target else result  # in-place operators return the target itself

    def _delta(self, name: str, op: int, value: Any) -> None:
        if name in self.dirty and self.dirty[name] is _FULL:
            return
        records = self.dirty.setdefault(name, [])
        if records is not None:
            records.append((op, encode(value)))

    # ------------------------------------------------------------------ committing
    def commit(self) -> None:
        """Publish the batch: journal, data, counters (see :mod:`.layout` for why in this order)."""
        dirty, counts, seqs = self.dirty, self.counts, self.seqs
        if not dirty and not counts and not seqs:
            if self.leaving:
                self._free_left()
            return
        w = self.w
        base = J_CLIENTS_WORD
        for entry, seq in seqs.items():
            w[base] = entry
            w[base + 1] = seq
            base += J_CLIENT_WORDS
        w[_J_NCLIENTS] = len(seqs)
        w[_J_NSLOTS] = 0
        w[_J_STATE] = J_OPEN
        slot_of = self.slot_of
        changed = [slot_of[name] for name in dirty]
        for slot in counts:
            if slot not in changed:
                changed.append(slot)
        touched: list[DataWriter] = []
        applied: list[tuple[int, int]] = []
        ctl = self.ctl_buf
        entry_at = J_SLOTS_WORD * 8
        for n, slot in enumerate(changed):
            writer = self.writers.get(slot)
            if writer is None:
                writer = self.writers[slot] = DataWriter(self.share_id, slot)
            sw = HEADER_WORDS + slot * SLOT_WORDS
            old_applied, gen, kind, in_use = _SLOT_STATE.unpack_from(ctl, (sw + S_APPLIED) * 8)
            target = old_applied + counts.get(slot, 0)
            _JOURNAL_SLOT.pack_into(
                ctl, entry_at, slot, gen, writer.used, writer.base_off, kind, in_use, target
            )
            w[_J_NSLOTS] = n + 1  # from here on a kill rolls this slot back
            entry_at += J_SLOT_WORDS * 8
            touched.append(writer)
            applied.append((sw + S_APPLIED, target))
        for name, records in dirty.items():
            slot = slot_of[name]
            sw = HEADER_WORDS + slot * SLOT_WORDS
            writer = self.writers[slot]
            if name not in self.values:
                w[sw + S_IN_USE] = 0
                writer.drop_value()
                w[sw + S_SEG_GEN] = 0
                continue
            value = self.values[name]
            if records is _FULL or not writer.append(records):
                big = bigbuffers.Collector() if bigbuffers.enabled() else None
                try:
                    payload = encode(value, big)
                except Exception as exc:
                    # the value cannot be stored any more: keep the last good state visible
                    _report(f"share.{name} could not be serialized after a change", exc)
                    continue
                if big is not None and big.buffers:
                    where = writer.write_buffers(big.buffers)
                    new_gen = writer.write_full(
                        big_payload(where, big.buffers, payload), OP_BASE_BIG, where
                    )
                else:
                    new_gen = writer.write_full(payload)
                if new_gen:
                    w[sw + S_SEG_GEN] = writer.gen
                w[sw + S_KIND] = kind_of(value)
            w[sw + S_IN_USE] = 1
        w[_J_STATE] = J_DATA_DONE
        _raise_counters(w, applied, seqs)
        w[_J_STATE] = J_CLOSED
        dirty.clear()
        counts.clear()
        seqs.clear()
        for writer in touched:
            if writer.old or writer.old_big:
                writer.retire_old()
        if self.leaving:
            self._free_left()

    def release(self) -> None:
        for writer in self.writers.values():
            writer.retire()
        self.writers.clear()

    @classmethod
    def recover(cls, share_id: str, words: memoryview, ctl_buf: memoryview) -> Core:
        """The state a killed coordinator left in shared memory, its last commit repaired."""
        repair_journal(share_id, words)
        core = cls(share_id, words, ctl_buf)
        for name, slot in core.slot_of.items():
            if not words[slot_word(slot, S_IN_USE)]:
                continue
            writer, value = DataWriter.adopt(share_id, slot, int(words[slot_word(slot, S_SEG_GEN)]))
            core.writers[slot] = writer
            core.values[name] = value
        for entry in range(MAX_CLIENTS):
            client_id = int(words[client_word(entry, C_ID)])
            if client_id:
                core.entries[client_id] = entry
                core.applied[entry] = int(words[client_word(entry, C_APPLIED)])
                core.orphans[entry] = time.monotonic() + _ORPHAN_WAIT
        keep = {control_name(share_id)}
        keep.update(data_name(share_id, slot, w.gen) for slot, w in core.writers.items())
        keep.update(w.big for w in core.writers.values() if w.big is not None)
        for name in segment.list_names(data_prefix(share_id)):
            if name not in keep:  # generations the dead coordinator had not retired yet
                segment.unlink(name)
        return core


def _raise_counters(w: memoryview, applied: list[tuple[int, int]], seqs: dict[int, int]) -> None:
    """Set the counters the journal names to their new values (idempotent)."""
    for word, value in applied:
        w[word] = value
    for entry, seq in seqs.items():
        w[CLIENTS_WORD + entry * CLIENT_WORDS + C_APPLIED] = seq


def _journaled_counters(w: memoryview) -> tuple[list[tuple[int, int]], dict[int, int]]:
    """The counter values a journal names: ``(slot applied word, value)`` pairs and client seqs."""
    applied = []
    for i in range(w[_J_NSLOTS]):
        base = J_SLOTS_WORD + i * J_SLOT_WORDS
        applied.append((slot_word(w[base + JS_SLOT], S_APPLIED), int(w[base + JS_APPLIED])))
    seqs = {}
    for i in range(w[_J_NCLIENTS]):
        base = J_CLIENTS_WORD + i * J_CLIENT_WORDS
        seqs[int(w[base])] = int(w[base + 1])
    return applied, seqs


def repair_journal(share_id: str, w: memoryview) -> None:
    """Finish the commit a killed coordinator left: roll it back if its data was being written,
    forward if only its counters were."""
    state = w[JOURNAL_WORD + J_STATE]
    if state == J_CLOSED:
        return
    for i in range(w[JOURNAL_WORD + J_NSLOTS]):
        base = J_SLOTS_WORD + i * J_SLOT_WORDS
        slot = int(w[base + JS_SLOT])
        old_gen = int(w[base + JS_GEN])
        gen_word = slot_word(slot, S_SEG_GEN)
        current = int(w[gen_word])
        if state == J_DATA_DONE:
            if old_gen and old_gen != current:
                segment.unlink(data_name(share_id, slot, old_gen))  # replaced by the commit
            continue
        if current and current != old_gen:
            segment.unlink(data_name(share_id, slot, current))  # created by the rolled-back commit
        if old_gen:
            seg = segment.Segment.attach(data_name(share_id, slot, old_gen))
            dw = seg.buf.cast("Q")
            dw[D_SEQ] += 1  # odd: readers retry
            dw[D_USED] = w[base + JS_USED]
            dw[D_BASE_OFF] = w[base + JS_BASE_OFF]
            dw[D_BASE_ID] += 1  # copies that include the rolled-back records are rebuilt
            dw[D_RETIRED] = 0
            dw[D_SEQ] += 1
            dw.release()
            seg.close()
        w[gen_word] = old_gen
        w[slot_word(slot, S_KIND)] = w[base + JS_KIND]
        w[slot_word(slot, S_IN_USE)] = w[base + JS_IN_USE]
    if state == J_DATA_DONE:
        _raise_counters(w, *_journaled_counters(w))
    w[JOURNAL_WORD + J_STATE] = J_CLOSED


def _report(what: str, exc: BaseException) -> None:
    text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    print(f"suitkaise Share coordinator: {what}: {text}", file=sys.stderr, flush=True)


HANDSHAKE_TIMEOUT = 5.0  # seconds a connecting peer has to complete the HMAC challenge


def _set_recv_timeout(conn: Connection, seconds: float) -> None:
    """Bound every blocking read on ``conn`` (0 = no bound); the option lives on the socket itself."""
    whole = int(seconds)
    value = struct.pack("ll", whole, int((seconds - whole) * 1_000_000))
    with socket.socket(fileno=os.dup(conn.fileno())) as view:
        view.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, value)


class _Acceptor(threading.Thread):
    """Accepts connections and authenticates each in its own short-lived thread, so a peer that is
    silent or sends garbage can never hold up the others; authenticated connections reach the main
    loop through a wake-up pipe. The listener itself does no authentication (``authkey=None``)."""

    def __init__(self, listener: Listener, wake_w: int, authkey: bytes) -> None:
        super().__init__(name="sk-share-accept", daemon=True)
        self.listener = listener
        self.wake_w = wake_w
        self.authkey = authkey
        self.lock = threading.Lock()
        self.new: list[Connection] = []

    def run(self) -> None:
        while True:
            try:
                conn = self.listener.accept()
            except OSError:
                return  # listener closed
            except Exception:
                continue
            threading.Thread(
                target=self._authenticate, args=(conn,), name="sk-share-auth", daemon=True
            ).start()

    def _authenticate(self, conn: Connection) -> None:
        try:
            _set_recv_timeout(conn, HANDSHAKE_TIMEOUT)
            deliver_challenge(conn, self.authkey)
            answer_challenge(conn, self.authkey)
            _set_recv_timeout(conn, 0)
        except Exception:
            conn.close()  # wrong key, garbage, or silent past the deadline: drop the caller
            return
        with self.lock:
            self.new.append(conn)
        try:
            os.write(self.wake_w, b"x")
        except OSError:
            pass

    def take(self) -> list[Connection]:
        with self.lock:
            new, self.new = self.new, []
        return new


def entry() -> None:
    """Entry point of the coordinator process (``python -c "...; entry()"``).

    Its configuration arrives on stdin (length-prefixed, encoded); it answers ``ready`` or an error
    on stdout. It is a plain subprocess rather than a ``multiprocessing`` child, so it never re-runs
    the user's ``__main__`` and can be started from daemonic processes (pool workers) too.
    """
    signal.signal(
        signal.SIGINT, signal.SIG_IGN
    )  # Ctrl-C is for the user's processes; the owner stops us
    raw = sys.stdin.buffer.read()
    config = decode(raw)
    for entry_path in reversed(config["sys_path"]):
        if entry_path not in sys.path:
            sys.path.insert(0, entry_path)
    # share the owner's resource tracker (as multiprocessing children do), never start our own
    resource_tracker._resource_tracker._fd = config["tracker_fd"]  # type: ignore[attr-defined]
    lifeline = Connection(config["lifeline_fd"], writable=False)
    out = sys.stdout.buffer

    def ready(status: str, detail: str = "") -> None:
        out.write(encode((status, detail)))
        out.flush()
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)  # closes our end of the answer pipe: the owner reads until EOF
        os.close(devnull)

    main(
        config["share_id"],
        config["address"],
        config["authkey"],
        ready,
        lifeline,
        config["seed"],
        recover=config["recover"],
    )


def main(
    share_id: str,
    address: str,
    authkey: bytes,
    ready: Any,
    lifeline: Connection,
    seed: bytes,
    *,
    recover: bool = False,
) -> None:
    """Run the coordinator until it is stopped or its owner is gone.

    ``recover``: a previous coordinator of this Share was killed; continue from the state it
    committed to shared memory (``seed`` is unused) instead of starting from ``seed``.
    """
    ctl = segment.Segment.attach(control_name(share_id))
    words = ctl.buf.cast("Q")
    core: Core | None = None
    listener: Listener | None = None
    try:
        if recover:
            core = Core.recover(share_id, words, ctl.buf)
            try:
                os.unlink(address)  # the dead coordinator's socket
            except FileNotFoundError:
                pass
        else:
            core = Core(share_id, words, ctl.buf)
            values, pending = decode(seed)
            for name, value in values.items():
                core.apply(OP_SET, name, (), (value,))
            for op, name, path, args in pending:
                try:
                    core.apply(op, name, path, args)
                except Exception as exc:
                    _report(f"a change queued while stopped failed (share.{name})", exc)
            core.commit()
        listener = Listener(
            address, family="AF_UNIX"
        )  # each connection is authenticated by _Acceptor
        os.chmod(address, 0o600)
        words[H_PID] = os.getpid()
        words[H_STATUS] = STATUS_RUNNING
    except BaseException as exc:
        if not recover:
            words[H_STATUS] = STATUS_ERROR  # (after a crash the owner decides what comes next)
        if core is not None and not recover:
            core.release()
        try:
            ready("error", "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
        except Exception:
            pass
        raise
    ready("ready")
    assert core is not None
    owner_gone = False
    try:
        owner_gone = _serve(core, listener, authkey, lifeline)
        words[H_STATUS] = STATUS_ERROR if owner_gone else STATUS_STOPPED
    except BaseException:
        words[H_STATUS] = STATUS_ERROR
        raise
    finally:
        core.release()
        try:
            listener.close()
        except OSError:
            pass
        words.release()
        ctl.close()
        if owner_gone:
            remove_owner_files(share_id, address)


def remove_owner_files(share_id: str, address: str) -> None:
    """The owner died without cleaning up: remove what it created (socket folder, control segment)
    and what a killed coordinator left (data segments). Idempotent; run by the coordinator when it
    sees its owner die, and by a client that finds both dead."""
    folder = os.path.dirname(address)
    for name in ("c", "lock"):
        try:
            os.unlink(os.path.join(folder, name))
        except OSError:
            pass
    try:
        os.rmdir(folder)
    except OSError:
        pass
    for name in segment.list_names(data_prefix(share_id)):
        segment.unlink(name)
    segment.unlink(control_name(share_id))


class _Peer:
    """A client connection and the bytes received from it that do not yet form a whole message.

    Read with ``recvmsg`` so that the memory file passed after a marked body (a write with big
    buffers, see :mod:`.protocol`) is received with its marker byte; a stream socket returns at most
    one passed descriptor per call, and never data from past it.
    """

    __slots__ = ("buf", "conn", "entry", "fd", "fds", "sock")

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.fd = conn.fileno()
        self.sock = socket.socket(fileno=os.dup(self.fd))
        self.buf = bytearray()
        self.fds: list[int] = []  # descriptors received whose messages are not complete yet
        self.entry = -1  # its entry in the client table, once it said hello

    def close(self) -> None:
        for fd in self.fds:
            os.close(fd)
        self.fds.clear()
        self.sock.close()
        self.conn.close()

    def messages(self) -> list[tuple[bytes, int | None]] | None:
        """Read what is available (the socket is readable) and split it into messages, each with the
        memory file that followed it (``None`` for most); None at EOF.

        :class:`MessageError` when a frame announces a negative length or one above
        :data:`~suitkaise_processing._private.wire.FRAME_LIMIT`, or a marked body is not followed by
        exactly one descriptor: the stream is out of step.
        """
        try:
            chunk, ancdata, flags, _addr = self.sock.recvmsg(1 << 20, _ANCILLARY)
        except (BlockingIOError, InterruptedError):
            return []
        except OSError:
            return None
        for level, kind, data in ancdata:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                self.fds.extend(struct.unpack(f"{len(data) // 4}i", data[: len(data) // 4 * 4]))
        if flags & socket.MSG_CTRUNC:
            raise MessageError("a client passed more file descriptors than a Share command carries")
        if not chunk:
            return None
        buf = self.buf
        buf += chunk
        out: list[tuple[bytes, int | None]] = []
        pos = 0
        end = len(buf)
        while end - pos >= 4:
            (size,) = _SIZE.unpack_from(buf, pos)
            head = 4
            if size == -1:  # multiprocessing's header for messages over 2 GiB
                if end - pos < 12:
                    break
                (size,) = _BIG.unpack_from(buf, pos + 4)
                head = 12
            if size < 0 or size > FRAME_LIMIT:
                raise MessageError(
                    f"a client sent a frame announcing {size} bytes (the limit is {FRAME_LIMIT}); "
                    "its connection is out of step or it is not a suitkaise process"
                )
            start = pos + head
            marked = buf[start : start + 4] == bigbuffers.MARK
            if end - start < size + marked:
                break  # incomplete (a marked body also waits for the byte its descriptor came with)
            fd = None
            if marked:
                if buf[start + size] != _FD_MARKER or not self.fds:
                    raise MessageError(
                        "a client's write with big buffers came without its memory file; "
                        "the connection is out of step"
                    )
                fd = self.fds.pop(0)
            out.append((bytes(buf[start : start + size]), fd))
            pos = start + size + marked
        if pos:
            del buf[:pos]
        return out


_FD_MARKER = 1  # the byte fdpass sends with a descriptor
_ANCILLARY = socket.CMSG_SPACE(4 * 4)
_SIZE = struct.Struct("!i")
_BIG = struct.Struct("!Q")


def _serve(core: Core, listener: Listener, authkey: bytes, lifeline: Connection) -> bool:
    """Serve until stopped (``False``) or until the owning process is gone (``True``)."""
    wake_r, wake_w = os.pipe()
    acceptor = _Acceptor(listener, wake_w, authkey)
    acceptor.start()
    peers: dict[int, _Peer] = {}
    poller = select.poll()
    poller.register(wake_r, select.POLLIN)
    life_fd = lifeline.fileno()
    poller.register(life_fd, select.POLLIN)
    idle_seen: dict[int, tuple[int, int]] = {}
    idle_since = time.monotonic()
    try:
        while True:
            events = poller.poll(1000)
            if core.orphans:
                core.free_orphans()
            if not events:
                idle_since = _repair_lost_writes(core, idle_seen, idle_since)
                continue
            idle_seen.clear()
            idle_since = time.monotonic()
            replies: list[tuple[Connection, int, int, Any]] = []
            for fd, _mask in events:
                if fd == life_fd:
                    return True  # the owning process is gone: nobody can stop us properly
                if fd == wake_r:
                    os.read(wake_r, 4096)
                    for conn in acceptor.take():
                        new_peer = _Peer(conn)
                        peers[new_peer.fd] = new_peer
                        poller.register(new_peer.fd, select.POLLIN)
                    continue
                peer = peers.get(fd)
                if peer is None:
                    continue
                try:
                    messages = peer.messages()
                except MessageError as exc:
                    _report("dropped a client connection", exc)
                    messages = None
                if messages is None:
                    poller.unregister(fd)
                    del peers[fd]
                    _deferred_sent.pop(id(peer.conn), None)
                    peer.close()
                    if peer.entry >= 0:
                        core.leave(peer.entry)
                    continue
                for data, passed in messages:
                    _handle(core, peer, data, passed, replies)
                    if core.stopping:
                        break
                if core.stopping:
                    break
            core.commit()
            for conn, req, ok, result in replies:
                _reply(conn, req, ok, result)
            if core.stopping:
                return False
    finally:
        for peer in peers.values():
            peer.close()
        os.close(wake_r)
        os.close(wake_w)


APPLIED_BEFORE = 2  # the ``ok`` of an answer to a write that a previous coordinator applied


def _handle(
    core: Core,
    peer: _Peer,
    data: bytes,
    passed: int | None,
    replies: list[tuple[Connection, int, int, Any]],
) -> None:
    conn = peer.conn
    try:
        op, req, name, slot, seq, payload, buffers = unpack_header(data, passed)
    except Exception as exc:  # not one of our commands at all
        _report("a command could not be decoded", exc)
        return
    if seq and peer.entry >= 0 and not core.fresh(peer.entry, seq):
        if req:  # resent after a restart, but committed before it: its result is gone
            replies.append((conn, req, APPLIED_BEFORE, None))
        return
    try:
        path, args = unpack_payload(payload, buffers)
        if op == OP_HELLO:
            result: Any = core.hello(int(args[0]))
            peer.entry = result[0]
        else:
            result = core.apply(op, name, path, args)
        ok = 1
    except BaseException as exc:
        result, ok = exc, 0
        if not req:
            _defer_error(conn, replies, name, op, exc)
    if slot >= 0 and not req:
        core.counts[slot] = core.counts.get(slot, 0) + 1
    if req:
        replies.append((conn, req, ok, result))


_MAX_DEFERRED = 16
_deferred_sent: dict[int, int] = {}


def _defer_error(
    conn: Connection,
    replies: list[tuple[Connection, int, int, Any]],
    name: str,
    op: str,
    exc: BaseException,
) -> None:
    """Send the error of a write nobody waits for to its writer (raised at its next access).

    At most a few per connection, so a client that never reads cannot fill its socket buffer.
    """
    sent = _deferred_sent.get(id(conn), 0)
    if sent >= _MAX_DEFERRED:
        _report(f"share.{name}: {op} failed (no one waits for its result)", exc)
        return
    _deferred_sent[id(conn)] = sent + 1
    replies.append((conn, 0, 0, exc))


def _reply(conn: Connection, req: int, ok: int, result: Any) -> None:
    big = bigbuffers.Collector() if bigbuffers.enabled() else None
    try:
        data = encode((req, ok, result), big)
    except Exception as exc:
        from suitkaise_processing._private.errors import ShareError

        big = None
        data = encode((req, 0, ShareError(f"the result could not be sent back: {exc}")))
    shm = None
    if big is not None and big.buffers:  # a big array: its memory file follows the frame
        data = bigbuffers.pack(data, big.buffers)
        shm = bigbuffers.write_segment(big.buffers)
    try:
        conn.send_bytes(data)
        if shm is not None:
            send_fd_on(conn.fileno(), shm)
    except OSError:
        pass  # the client is gone
    finally:
        if shm is not None:
            os.close(shm)


def _repair_lost_writes(core: Core, seen: dict[int, tuple[int, int]], idle_since: float) -> float:
    """A writer that died between announcing a write and sending it leaves readers waiting: after a
    few idle seconds with the same counts, count those writes as applied."""
    if time.monotonic() - idle_since < 5.0:
        return idle_since
    w = core.w
    for slot in core.slot_of.values():
        queued = w[slot_word(slot, S_QUEUED)]
        applied = w[slot_word(slot, S_APPLIED)]
        if applied < queued:
            if seen.get(slot) == (queued, applied):
                w[slot_word(slot, S_APPLIED)] = queued
                seen.pop(slot, None)
            else:
                seen[slot] = (queued, applied)
    return time.monotonic()
