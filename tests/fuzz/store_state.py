"""Byte-exact snapshots of a :class:`~axolotl.store.memory.MemoryStore`.

The memory store keeps nothing but bytes and ints in plain dicts (it
serialises on every write and deserialises on every read), plus one
:class:`~axolotl.store._record_table.RecordTable` per retry-record kind. A
shallow copy of each table is therefore a complete, byte-exact snapshot:
two snapshots are equal exactly when every stored record is byte-identical.
The fuzz harness takes one before an input, compares after every failure,
and restores it after a success so that the next input meets the same state.

This reads the store's private attributes on purpose: it is test code
holding the reference store to its own promise, and any attribute the store
grows that the snapshot does not know about fails :func:`snapshot` loudly
instead of going unchecked.
"""

from __future__ import annotations

from typing import Any

from axolotl.store._record_table import RecordTable
from axolotl.store.memory import MemoryStore

__all__ = ["Snapshot", "diff", "restore", "snapshot"]

Snapshot = dict[str, Any]

# Tables of bytes/ints that make up the stored state.
_STATE = (
    "_identity_key_pair",
    "_registration_id",
    "_identities",
    "_pre_keys",
    "_signed_pre_keys",
    "_sessions",
    "_sender_keys",
    "_counters",
)
# Bookkeeping that holds no state of its own (checked to be idle, not copied).
_BOOKKEEPING = ("_records", "_transaction", "_closed")


def snapshot(store: MemoryStore) -> Snapshot:
    """Copy every table of ``store`` (values are immutable bytes, so shallow copies suffice).

    Raises:
        AssertionError: the store has an attribute this module does not know
            (the snapshot would be incomplete), or a transaction is open.
    """
    unknown = set(vars(store)) - set(_STATE) - set(_BOOKKEEPING)
    assert not unknown, f"MemoryStore grew attributes the fuzz snapshot ignores: {unknown}"
    assert not store._transaction.active, "snapshot taken inside a transaction"
    snap: Snapshot = {}
    for name in _STATE:
        value = getattr(store, name)
        snap[name] = dict(value) if isinstance(value, dict) else value
    snap["_records"] = {kind: dict(table.items()) for kind, table in store._records.items()}
    return snap


def restore(store: MemoryStore, snap: Snapshot) -> None:
    """Put ``store`` back to ``snap`` (its tables replaced by fresh copies)."""
    for name in _STATE:
        value = snap[name]
        setattr(store, name, dict(value) if isinstance(value, dict) else value)
    records: dict[str, RecordTable] = {}
    for kind, entries in snap["_records"].items():
        table = RecordTable()
        for key, entry in entries.items():
            table[key] = entry
        records[kind] = table
    store._records = records
    store._transaction.reset()


def diff(before: Snapshot, after: Snapshot) -> list[str]:
    """What changed between two snapshots, one line per changed entry (for findings)."""
    lines: list[str] = []
    for name in (*_STATE, "_records"):
        old, new = before[name], after[name]
        if old == new:
            continue
        if not isinstance(old, dict):
            lines.append(f"{name}: {old!r} -> {new!r}")
            continue
        for key in sorted(set(old) | set(new), key=repr):
            if old.get(key) != new.get(key):
                was = "absent" if key not in old else f"{len(repr(old[key]))} chars"
                now = "absent" if key not in new else f"{len(repr(new[key]))} chars"
                lines.append(f"{name}[{key!r}]: {was} -> {now}")
    return lines
