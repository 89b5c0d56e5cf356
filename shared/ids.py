"""Time-ordered UUIDs (RFC 9562 version 7), so keyset pagination by id follows creation order.

Within one process the ids are strictly increasing, even inside one millisecond: a new id
that would not sort after the previous one becomes the previous one plus one (RFC 9562
allows this "monotonic random" method).
"""

from __future__ import annotations

import os
import threading
import time
import uuid

_VERSION_MASK = (0xF << 76) | (0x3 << 62)
_VERSION_BITS = (0x7 << 76) | (0x2 << 62)
_lock = threading.Lock()
_last = 0


def _with_version(value: int) -> int:
    return (value & ~_VERSION_MASK) | _VERSION_BITS


def uuid7() -> uuid.UUID:
    """A version-7 UUID: 48 bits of Unix milliseconds, then random bits; increasing."""
    global _last
    millis = time.time_ns() // 1_000_000
    value = _with_version(
        ((millis & ((1 << 48) - 1)) << 80) | int.from_bytes(os.urandom(10), "big")
    )
    with _lock:
        if value <= _last:
            value = _last + 1
            if _with_version(value) != value:  # the random bits overflowed: next millisecond
                value = _with_version(((value >> 80) + 1) << 80)
        _last = value
    return uuid.UUID(int=value)
