"""The C opcode scanner (``_opscan.c``): see the top of that file."""

from typing_extensions import Buffer

def first_hazard(stream: Buffer, /) -> int:
    """The offset of the first opcode of the pickle stream that cucumber refuses to run, or -1."""
