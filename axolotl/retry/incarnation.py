"""Which incarnation of a peer device we answer, and when its session was last rebuilt.

A retry receipt carries the asking device's registration id; a new one means
the device was reinstalled: it counts its receipts from 1 again and needs a
new session. Nothing authenticates that field, so a peer could claim a new
one on every receipt to get a fresh resend budget and a session rebuild each
time. One small record per device (``records.INCARNATION``) holds the line:

* a change of registration id is *accepted* at most once per
  ``RetryPolicy.rebuild_window_ms``; a refused change resets nothing;
* a (message, device) budget moves to an accepted incarnation once, and a
  receipt from any other claimed incarnation is judged on the budget as it is;
* a session is rebuilt at most once per window, except for the first rebuild
  of a newly accepted incarnation (a real reinstall is repaired at once).

A clock that stepped back counts as "within the window" (the cautious side).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from axolotl._pb import retry_state_pb2 as pb
from axolotl.address import ProtocolAddress
from axolotl.errors import StorageError
from axolotl.retry._context import Context
from axolotl.retry.records import (
    INCARNATION,
    REBUILD,
    VERSION,
    address_key,
    parse_stored,
    read_through,
)

__all__ = [
    "DeviceIncarnation",
    "accept",
    "accepts",
    "load",
    "may_rebuild",
    "note_rebuild",
    "save",
]

NEVER = -(2**63)
_V1 = struct.Struct(">BqIqI")  # version 1, rebuilt_ms, rebuilt id, changed_ms, accepted id
_LEGACY = struct.Struct(">QI")  # before versioning: last rebuild time, its registration id


@dataclass(slots=True)
class DeviceIncarnation:
    """What we know of one peer device's incarnations.

    Attributes:
        registration_id: the registration id we accept for it (0: none recorded).
        changed_ms: when we last accepted a change of it (``NEVER``: no change).
        rebuilt_ms: when we last rebuilt its session from a receipt's bundle.
        rebuilt_registration_id: the registration id that rebuild was for.
    """

    registration_id: int = 0
    changed_ms: int = NEVER
    rebuilt_ms: int = NEVER
    rebuilt_registration_id: int = 0

    def serialize(self) -> bytes:
        """The ``DeviceIncarnationRecord`` protobuf (a time of ``NEVER`` is left out)."""
        msg = pb.DeviceIncarnationRecord(
            registration_id=self.registration_id,
            rebuilt_registration_id=self.rebuilt_registration_id,
            version=VERSION,
        )
        if self.changed_ms != NEVER:
            msg.changed_ms = self.changed_ms
        if self.rebuilt_ms != NEVER:
            msg.rebuilt_ms = self.rebuilt_ms
        return msg.SerializeToString()

    @classmethod
    def deserialize(cls, data: bytes) -> DeviceIncarnation:
        """Read :meth:`serialize` output.

        Raises:
            StorageError: the record is corrupt or from a newer version.
        """
        msg = pb.DeviceIncarnationRecord()
        parse_stored(msg, data, "device incarnation record")
        return cls(
            msg.registration_id,
            msg.changed_ms if msg.HasField("changed_ms") else NEVER,
            msg.rebuilt_ms if msg.HasField("rebuilt_ms") else NEVER,
            msg.rebuilt_registration_id,
        )

    @classmethod
    def deserialize_legacy(cls, data: bytes) -> DeviceIncarnation:
        """The hand-packed records of earlier releases (kind ``rebuild``).

        Version 1: ``01 || rebuilt_ms i64 || rebuilt id u32 || changed_ms i64 || id u32``;
        before that, 12 bytes: ``last rebuild time u64 || its registration id u32``.

        Raises:
            StorageError: any other length or version.
        """
        if len(data) == _LEGACY.size:
            rebuilt_ms, registration_id = _LEGACY.unpack(data)
            return cls(registration_id, NEVER, rebuilt_ms, registration_id)
        if len(data) != _V1.size or data[0] != 1:
            raise StorageError(
                f"stored device incarnation record is corrupt ({len(data)} bytes, "
                f"version {data[:1]!r})"
            )
        _, rebuilt_ms, rebuilt_id, changed_ms, registration_id = _V1.unpack(data)
        return cls(registration_id, changed_ms, rebuilt_ms, rebuilt_id)


def load(ctx: Context, device: ProtocolAddress) -> DeviceIncarnation:
    """The device's record (an empty one when none is stored; an earlier release's
    ``rebuild`` record read through)."""
    data = read_through(
        ctx.store,
        INCARNATION,
        REBUILD,
        address_key(device),
        lambda old: DeviceIncarnation.deserialize_legacy(old).serialize(),
    )
    return DeviceIncarnation.deserialize(data) if data is not None else DeviceIncarnation()


def save(ctx: Context, device: ProtocolAddress, record: DeviceIncarnation) -> None:
    """Store the device's record."""
    ctx.store.put_record(INCARNATION, address_key(device), record.serialize())


def _within(window_ms: int, now_ms: int, then_ms: int) -> bool:
    return then_ms != NEVER and now_ms - then_ms < window_ms


def accepts(
    record: DeviceIncarnation, registration_id: int, known: int, now_ms: int, window_ms: int
) -> bool:
    """Whether ``registration_id`` (``known`` before) may be treated as the device's incarnation.

    The one already accepted is; another only when no change was accepted
    within the window. A judgement: :func:`accept` records it once the
    receipt is answered, so an ignored receipt changes nothing.
    """
    if registration_id == (record.registration_id or known):
        return True
    return not _within(window_ms, now_ms, record.changed_ms)


def accept(record: DeviceIncarnation, registration_id: int, now_ms: int) -> None:
    """Record ``registration_id`` as the accepted incarnation (a change at ``now_ms``)."""
    if registration_id != record.registration_id:
        record.registration_id, record.changed_ms = registration_id, now_ms


def may_rebuild(
    record: DeviceIncarnation, registration_id: int, now_ms: int, window_ms: int
) -> bool:
    """Whether a receipt from incarnation ``registration_id`` may rebuild the session now."""
    first_for_new_incarnation = (
        record.changed_ms != NEVER
        and registration_id == record.registration_id
        and registration_id != record.rebuilt_registration_id
    )
    return first_for_new_incarnation or not _within(window_ms, now_ms, record.rebuilt_ms)


def note_rebuild(record: DeviceIncarnation, registration_id: int, now_ms: int) -> None:
    """Record a rebuild for incarnation ``registration_id`` at ``now_ms``."""
    record.rebuilt_ms, record.rebuilt_registration_id = now_ms, registration_id
    if not record.registration_id:
        record.registration_id = registration_id
