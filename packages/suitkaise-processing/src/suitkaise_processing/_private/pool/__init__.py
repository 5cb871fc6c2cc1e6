"""The process pool: persistent workers, chunked items, streamed results (internal).

Nothing is imported here: a Pool worker imports only ``_worker`` and what it needs, never the
parent side (``pool.py``, ``_engine.py``, sk_modifiers, ...). ``Pool`` lives in :mod:`.pool`.
"""
