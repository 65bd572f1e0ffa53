"""Crash injection for the simulator: a store proxy that dies at chosen writes.

Writes are counted over the whole network (every device's store), from the
moment the network is set up; a device whose store raises :class:`Crash`
restarts from what its persistent store committed, as after a killed process.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from axolotl.store.base import ProtocolStore

__all__ = ["Crash", "CrashingStore", "WriteCounter"]


class Crash(Exception):
    """The process dies in the middle of a store write (injected by :class:`CrashingStore`)."""


_WRITES = frozenset(
    {
        "save_identity",
        "store_pre_key",
        "remove_pre_key",
        "store_signed_pre_key",
        "remove_signed_pre_key",
        "store_session",
        "delete_session",
        "delete_all_sessions",
        "store_sender_key",
        "delete_sender_key",
        "put_record",
        "delete_record",
        "evict_records",
    }
)


class WriteCounter:
    """Counts store writes across devices and raises :class:`Crash` at the chosen ones."""

    def __init__(self, crash_at: Iterable[int] = ()) -> None:
        self.crash_at = set(crash_at)
        self.writes = 0
        self.crashes = 0
        self.armed = False  # counting starts once the network is set up


class CrashingStore:
    """A store proxy that dies at the chosen writes (counted over the whole network)."""

    def __init__(self, inner: ProtocolStore, counter: WriteCounter) -> None:
        self._inner = inner
        self._counter = counter

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if name not in _WRITES:
            return attr
        counter = self._counter

        def write(*args: Any, **kwargs: Any) -> Any:
            if counter.armed:
                counter.writes += 1
                if counter.writes in counter.crash_at:
                    counter.crashes += 1
                    raise Crash(f"crash at write {counter.writes} ({name})")
            return attr(*args, **kwargs)

        return write
