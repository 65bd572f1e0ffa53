"""Every retry record is versioned protobuf; the hand-packed ones of earlier releases read through.

Issue 17, item 5: the sender-key handover record (``skdm``) and the device
incarnation record (``rebuild``) were hand-packed bytes while every other
record was versioned protobuf. They are ``KeyHandoverRecord`` and
``DeviceIncarnationRecord`` now, under new kinds; a store an earlier release
wrote is read as it is, and the first read of an old record rewrites it in
the current form (records.read_through).
"""

from __future__ import annotations

import struct

import pytest

from axolotl.errors import StorageError
from axolotl.retry import incarnation
from axolotl.retry._context import Context
from axolotl.retry.incarnation import NEVER, DeviceIncarnation
from axolotl.retry.records import (
    HANDOVER,
    INCARNATION,
    REBUILD,
    SKDM,
    VERSION,
    KeyHandover,
    address_key,
    load_handover,
    save_handover,
)
from tests.parties import Party, retry_context


def _context() -> Context:
    return retry_context(Party.memory("bob"))


def test_records_round_trip_as_versioned_protobuf() -> None:
    handover = KeyHandover(7, True, ["M1", "M2"])
    assert KeyHandover.deserialize(handover.serialize()) == handover
    record = DeviceIncarnation(11, 1_000, NEVER, 9)
    assert DeviceIncarnation.deserialize(record.serialize()) == record
    assert DeviceIncarnation.deserialize(DeviceIncarnation().serialize()) == DeviceIncarnation()
    with pytest.raises(StorageError):
        KeyHandover.deserialize(b"\xff\xff")
    future = DeviceIncarnation(1).serialize() + bytes([0x78, VERSION + 1])  # version 15
    with pytest.raises(StorageError):
        DeviceIncarnation.deserialize(future)


def test_an_earlier_release_handover_record_reads_through_and_is_replaced() -> None:
    ctx = _context()
    key = "g1\x1falice\x1f1"
    legacy = (7).to_bytes(4, "big") + b"\x00" + b"M1\x1fM2"
    ctx.store.put_record(SKDM, key, legacy)
    got = load_handover(ctx.store, key)
    assert got == KeyHandover(7, False, ["M1", "M2"])
    # Rewritten in the current form on that first read, the old record gone.
    assert ctx.store.get_record(SKDM, key) is None
    assert KeyHandover.deserialize(ctx.store.get_record(HANDOVER, key) or b"") == got
    save_handover(ctx.store, key, KeyHandover(7, True, ["M1", "M2"]))
    assert load_handover(ctx.store, key) == KeyHandover(7, True, ["M1", "M2"])
    with pytest.raises(StorageError):
        KeyHandover.deserialize_legacy(b"\x00\x00")


def test_an_earlier_release_incarnation_record_reads_through_and_is_replaced() -> None:
    ctx = _context()
    v1 = struct.pack(">BqIqI", 1, 5_000, 21, 4_000, 22)
    unversioned = struct.pack(">QI", 5_000, 21)
    for name, old, want in (
        ("alice", v1, DeviceIncarnation(22, 4_000, 5_000, 21)),
        ("carol", unversioned, DeviceIncarnation(21, NEVER, 5_000, 21)),
    ):
        device = Party.memory(name).address
        ctx.store.put_record(REBUILD, address_key(device), old)
        record = incarnation.load(ctx, device)
        assert record == want
        assert ctx.store.get_record(REBUILD, address_key(device)) is None
        assert ctx.store.get_record(INCARNATION, address_key(device)) is not None
        incarnation.save(ctx, device, record)
        assert incarnation.load(ctx, device) == record
    with pytest.raises(StorageError):
        DeviceIncarnation.deserialize_legacy(b"\x02" + bytes(28))
