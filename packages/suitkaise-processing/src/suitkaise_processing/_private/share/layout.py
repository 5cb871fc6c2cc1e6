"""Byte layout of a Share's shared memory: the control segment and the per-attribute data segments.

Control segment (created by the owning process, one per Share)::

    header  8 x u64   magic, status, coordinator pid, directory version, reserved...
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

Data segment (created by the coordinator, ``sk_<share>_<slot>_<gen>``)::

    header  8 x u64   seq (seqlock), used (end of records), base_id (bumped by full rewrites), retired
    records from byte 64: u32 length, u8 op, payload. Record 0 is the full value (OP_BASE); later
    records are deltas (OP_APPEND, OP_EXTEND, OP_SETITEM, OP_UPDATE) that readers apply to their copy,
    so appending to a large list does not rewrite the list.
"""

from __future__ import annotations

import struct

MAGIC = 0x534B534841524531  # "SKSHARE1"
MAX_SLOTS = 512
NAME_MAX = 64

HEADER_WORDS = 8
SLOT_BYTES = 128
SLOT_WORDS = SLOT_BYTES // 8
CONTROL_SIZE = HEADER_WORDS * 8 + MAX_SLOTS * SLOT_BYTES

# header words
H_MAGIC = 0
H_STATUS = 1
H_PID = 2
H_DIRVER = 3

STATUS_STARTING = 0
STATUS_RUNNING = 1
STATUS_STOPPED = 2
STATUS_ERROR = 3

# slot words (relative to the slot's first word)
S_SEQ = 0
S_QUEUED = 1
S_APPLIED = 2
S_SEG_GEN = 3
S_KIND = 4
S_IN_USE = 5
S_NAME_LEN = 6
S_NAME_OFFSET = 64  # bytes, relative to the slot start

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
DATA_HEADER = 64

# record ops
OP_BASE = 0
OP_APPEND = 1
OP_EXTEND = 2
OP_SETITEM = 3
OP_UPDATE = 4

RECORD_HEAD = struct.Struct("<IB")


def slot_word(slot: int, word: int) -> int:
    """Index of ``word`` of ``slot`` in the control segment viewed as u64 words."""
    return HEADER_WORDS + slot * SLOT_WORDS + word


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
