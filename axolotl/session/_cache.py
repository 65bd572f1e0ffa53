"""A bounded cache of parsed records, keyed by their exact serialized bytes.

Stores hand out bytes; parsing a record on every message costs more than the
ratchet's own crypto. The cache maps the bytes a record was last stored as to
the parsed object. :meth:`take` *removes* the entry, so the caller owns the
object and may mutate it (load, compute on a copy, store on success); after a
successful store, :meth:`put` files it under its new bytes. A failed
operation never puts, so a mutated object can never be found again. Because
the key is the full byte string, a record written by another process (or
rolled back) simply misses.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from threading import Lock
from typing import Generic, TypeVar

__all__ = ["RecordCache"]

T = TypeVar("T")


class RecordCache(Generic[T]):
    """``bytes -> parsed record`` with a bound on the total key size."""

    __slots__ = ("_entries", "_lock", "_max_bytes", "_parse", "_size")

    def __init__(self, parse: Callable[[bytes], T], max_bytes: int = 4 << 20) -> None:
        self._entries: OrderedDict[bytes, T] = OrderedDict()
        self._size = 0
        self._max_bytes = max_bytes
        self._parse = parse
        self._lock = Lock()

    def take(self, data: bytes) -> T:
        """The parsed record for ``data``, removed from the cache (or freshly parsed)."""
        with self._lock:
            record = self._entries.pop(data, None)
            if record is not None:
                self._size -= len(data)
                return record
        return self._parse(data)

    def put(self, data: bytes, record: T) -> None:
        """Remember that ``data`` parses to ``record`` (which the caller no longer mutates)."""
        if len(data) > self._max_bytes // 8:
            return
        with self._lock:
            if data in self._entries:
                return
            self._entries[data] = record
            self._size += len(data)
            while self._size > self._max_bytes:
                old, _ = self._entries.popitem(last=False)
                self._size -= len(old)
