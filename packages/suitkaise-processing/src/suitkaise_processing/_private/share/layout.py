"""Byte layout of a Share's shared memory: the control segment and the per-attribute data segments.

Control segment (created by the owning process, one per Share; it outlives a coordinator, so a
restarted coordinator continues from it)::

    header  8 x u64   magic, status, coordinator pid, directory version, owner pid, reserved...
    slots   MAX_SLOTS x 128 bytes, one per attribute name ever assigned:
            u64 seq        seqlock of the slot's metadata (odd while the coordinator changes it)
            u64 queued     asynchronous writes queued on this attribute (writers add under a file lock)
            u64 applied    writes the coordinator has applied and committed (coordinator only)
            u64 seg_gen    generation of the attribute's data segment (0: none yet)
            u64 kind       what the current value is (KIND_*), so proxies need not read the value
            u64 in_use     1 while the attribute exists
            u64 name_len   length of the UTF-8 name
            u64 reserved
            64 bytes       the name
    clients MAX_CLIENTS x 16 bytes, one per connected process (exactly-once writes):
            u64 id         random id the client chose (0: free entry)
            u64 applied    highest sequence number of this client's writes that is committed
    journal one commit of the coordinator in progress (see below):
            u64 state      J_CLOSED, J_OPEN (data being written), J_DATA_DONE (counters being raised)
            u64 slots      number of slot entries, u64 clients: number of client entries, u64 reserved
            MAX_SLOTS x 8 u64 per changed slot: slot, old seg_gen, old used, old base_off, old kind,
                           old in_use, new applied, reserved
            MAX_CLIENTS x 2 u64 per client that wrote: entry, new applied

A commit (one per coordinator batch) first writes the journal with everything needed to undo the
data changes and the absolute counter values to set, marks it J_OPEN, appends the new records (a
data segment is append-only, a value that outgrows it moves to a new generation while the old one
is kept), marks it J_DATA_DONE, raises the counters, marks it J_CLOSED and only then retires old
generations. A coordinator killed at any point leaves a state the next one repairs exactly: J_OPEN
is rolled back (no write of that batch counts as applied, the clients resend them), J_DATA_DONE is
rolled forward. So the per-client ``applied`` sequence numbers always describe the committed data.

Data segment (created by the coordinator, ``sk_<share>_<slot>_<gen>``)::

    header  8 x u64   seq (seqlock), used (end of records), base_id (bumped when records before
                      ``used`` are invalidated: a rollback), retired, base_off (latest full value)
    records from byte 64: u32 length, u8 op, payload. Records are only ever appended: a full value
    (OP_BASE) or a delta (OP_APPEND, OP_EXTEND, OP_SETITEM, OP_UPDATE) that readers apply to their
    copy, so appending to a large list does not rewrite the list. A reader without a copy starts at
    ``base_off``.

Big buffers: a full value whose pickle has out-of-band buffers of ``bigbuffers.THRESHOLD`` bytes or
more (numpy arrays) is an OP_BASE_BIG record; its buffers live in a *buffer segment*
``sk_<share>_<slot>_b<8 hex>`` (``bigbuffers`` layout: buffer k at the sum of the earlier lengths,
each rounded up to 4096), written once by the coordinator and never changed::

    u8 name length, the segment's name (ASCII), u32 N, N x u64 buffer lengths, the pickle stream

A reader maps the buffer segment privately (copy-on-write) and decodes the stream with views of it:
no copy. The coordinator keeps a read-only mapping of each buffer segment it holds (never read), so
a segment in use is always mapped by some process, and one nobody maps is a leftover. The segment is unlinked when the commit that replaced or deleted the value is closed
(like an old data generation); a reader's mapping stays valid after that, until its last view is
gone. A record whose segment was unlinked meanwhile is a torn read (the reader reads again).
A restarted coordinator unlinks every buffer segment its current values do not name (those of a
rolled-back or rolled-forward commit); the owner's exit or ``stop()`` removes the rest.
"""

from __future__ import annotations

import struct

MAGIC = 0x534B534841524531  # "SKSHARE1"
MAX_SLOTS = 512
NAME_MAX = 64

MAX_CLIENTS = 1024

HEADER_WORDS = 8
SLOT_BYTES = 128
SLOT_WORDS = SLOT_BYTES // 8
CLIENT_WORDS = 2
J_SLOT_WORDS = 8
J_CLIENT_WORDS = 2
CLIENTS_WORD = HEADER_WORDS + MAX_SLOTS * SLOT_WORDS  # first word of the client table
JOURNAL_WORD = CLIENTS_WORD + MAX_CLIENTS * CLIENT_WORDS  # first word of the journal
J_HEAD_WORDS = 4
J_SLOTS_WORD = JOURNAL_WORD + J_HEAD_WORDS
J_CLIENTS_WORD = J_SLOTS_WORD + MAX_SLOTS * J_SLOT_WORDS
CONTROL_SIZE = (J_CLIENTS_WORD + MAX_CLIENTS * J_CLIENT_WORDS) * 8

# header words
H_MAGIC = 0
H_STATUS = 1
H_PID = 2
H_DIRVER = 3
H_OWNER_PID = 4

STATUS_STARTING = 0
STATUS_RUNNING = 1
STATUS_STOPPED = 2
STATUS_ERROR = 3  # the coordinator failed and no new one can be started
STATUS_RESTARTING = 4  # the coordinator died; the owner is starting a new one

# slot words (relative to the slot's first word)
S_SEQ = 0
S_QUEUED = 1
S_APPLIED = 2
S_SEG_GEN = 3
S_KIND = 4
S_IN_USE = 5
S_NAME_LEN = 6
S_NAME_OFFSET = 64  # bytes, relative to the slot start

# client table words (relative to the entry's first word)
C_ID = 0
C_APPLIED = 1

# journal header words (relative to JOURNAL_WORD)
J_STATE = 0
J_NSLOTS = 1
J_NCLIENTS = 2
J_CLOSED = 0
J_OPEN = 1
J_DATA_DONE = 2

# journal slot entry words
JS_SLOT = 0
JS_GEN = 1
JS_USED = 2
JS_BASE_OFF = 3
JS_KIND = 4
JS_IN_USE = 5
JS_APPLIED = 6

# kinds of values (how a proxy presents them)
KIND_NONE = 0
KIND_PLAIN = 1  # immutable value returned as is (bool, None, bytes, tuple, frozenset, ...)
KIND_INT = 2
KIND_FLOAT = 3
KIND_STR = 4
KIND_LIST = 5
KIND_DICT = 6
KIND_SET = 7
KIND_OBJECT = 8
KIND_ITERATOR = 9
KIND_RAW = 10  # returned as stored: cucumber Reconnectors

CONTAINER_KINDS = frozenset({KIND_LIST, KIND_DICT, KIND_SET, KIND_OBJECT, KIND_ITERATOR})

# data segment header words
D_SEQ = 0
D_USED = 1
D_BASE_ID = 2
D_RETIRED = 3
D_BASE_OFF = 4
DATA_HEADER = 64

# record ops
OP_BASE = 0
OP_APPEND = 1
OP_EXTEND = 2
OP_SETITEM = 3
OP_UPDATE = 4
OP_BASE_BIG = 5  # a full value whose big buffers are in a buffer segment


def buffers_name(share_id: str, slot: int, token: str) -> str:
    """Name of a buffer segment of ``slot`` (``token``: 8 random hex digits)."""
    return f"sk_{share_id}_{slot}_b{token}"


RECORD_HEAD = struct.Struct("<IB")


def slot_word(slot: int, word: int) -> int:
    """Index of ``word`` of ``slot`` in the control segment viewed as u64 words."""
    return HEADER_WORDS + slot * SLOT_WORDS + word


def client_word(entry: int, word: int) -> int:
    """Index of ``word`` of client table ``entry`` in the control segment viewed as u64 words."""
    return CLIENTS_WORD + entry * CLIENT_WORDS + word


def slot_name_offset(slot: int) -> int:
    """Byte offset of the name field of ``slot``."""
    return HEADER_WORDS * 8 + slot * SLOT_BYTES + S_NAME_OFFSET


def control_name(share_id: str) -> str:
    """Name of a Share's control segment."""
    return f"sk_{share_id}_c"


def data_name(share_id: str, slot: int, gen: int) -> str:
    """Name of generation ``gen`` of the data segment of ``slot`` (<= 31 chars for macOS)."""
    return f"sk_{share_id}_{slot}_{gen}"


def data_prefix(share_id: str) -> str:
    """Prefix shared by every segment of a Share."""
    return f"sk_{share_id}_"
