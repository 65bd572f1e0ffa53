"""The retry layer's persistent records and their (versioned protobuf) encoding.

Records live in the store's generic :class:`~axolotl.store.base.RetryStore`
under a *kind* and a string key; the format is ``proto/retry_state.proto``.
Keys join address parts with ``\\x1f`` (unit separator), which no JID holds.
None of this goes on the wire: what a peer reads inside a plaintext is the
framing's (:mod:`axolotl.framing`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from google.protobuf.message import DecodeError as _PbDecodeError
from google.protobuf.message import Message as _PbMessage

from axolotl._pb import retry_state_pb2 as pb
from axolotl.address import ProtocolAddress
from axolotl.errors import StorageError, UsageError
from axolotl.framing import Position
from axolotl.receipts import RetryReason
from axolotl.retry._state import RecvState, SendState
from axolotl.retry.events import Envelope
from axolotl.retry.policy import Priority
from axolotl.store.base import ProtocolStore
from axolotl.wire import MessageType

__all__ = [
    "OUTBOX",
    "SENDLOG",
    "RECV",
    "DELIVERED",
    "REBUILD",
    "INCARNATION",
    "HANDOVER",
    "load_handover",
    "read_through",
    "save_handover",
    "GAP",
    "SKDM",
    "UNPLACED",
    "BUNDLEWAIT",
    "INBOX",
    "SEQ",
    "SENTID",
    "TIMED_KINDS",
    "address_from_pb",
    "address_to_pb",
    "parse_stored",
    "BundleWait",
    "DeviceState",
    "GapRecord",
    "KeyHandover",
    "OutboxEntry",
    "Position",
    "ReceiveRecord",
    "SendLogEntry",
    "Unplaced",
    "UnplacedFailures",
    "address_key",
    "message_key",
]

OUTBOX = "outbox"  # (message id, device) -> OutboxEntry, due: next retransmission
SENDLOG = "sendlog"  # message id -> SendLogEntry, due: when it is too old to keep
RECV = "recv"  # (sender, message id) -> ReceiveRecord, due: next receipt (FAILING only)
GAVEUP = "gaveup"  # (sender, message id) -> b"", due: when it is forgotten (gave_up_kept_ms)
MINTED = "minted"  # device -> MintedPreKeys (retry/minted.py), due: when the oldest expires
DELIVERED = "delivered"  # (sender, message id) -> b"", due: delivery sequence (for eviction)
INCARNATION = "incarnation"  # device -> DeviceIncarnation (retry/incarnation.py)
REBUILD = "rebuild"  # the same, as earlier releases wrote it (read through)
GAP = "gap"  # (sender, ratchet key) -> GapRecord, due: when the oldest gap is reported
HANDOVER = "handover"  # (group, device) -> KeyHandover: has the device our sender key?
SKDM = "skdm"  # the same, as earlier releases wrote it (read through, see load_handover)
UNPLACED = "unplaced"  # device -> UnplacedFailures, due: when the newest one expires
BUNDLEWAIT = "bundlewait"  # device -> BundleWait (retry/bundles.py), due: end of the wait
INBOX = "inbox"  # (sender, message id) -> InboxEntry (retry/inbox.py), due: delivery sequence
REPORT = "report"  # (kind, address, message id) -> PendingReport (retry/inbox.py), due: sequence
SEQ = "seq"  # name -> Counter (retry/sequence.py): what to forget first
SENTID = "sentid"  # message id -> b"", due: send sequence: ids used recently (for eviction)
TIMED_KINDS = (OUTBOX, RECV, GAP, SENDLOG, UNPLACED, BUNDLEWAIT, GAVEUP, MINTED)

_SEP = "\x1f"
VERSION = 1


def address_key(address: ProtocolAddress) -> str:
    """The store key part for a device."""
    return f"{address.name}{_SEP}{address.device_id}"


def message_key(address: ProtocolAddress, message_id: str) -> str:
    """The store key of one message from or to one device."""
    return f"{address.name}{_SEP}{address.device_id}{_SEP}{message_id}"


def parse_stored(msg: _PbMessage, data: bytes, what: str) -> None:
    """Parse a stored record into ``msg``; StorageError if corrupt or from a newer version."""
    try:
        msg.ParseFromString(data)
    except (_PbDecodeError, ValueError) as exc:
        raise StorageError(f"stored {what} is corrupt: {exc or 'malformed protobuf'}") from None
    version = getattr(msg, "version", VERSION)
    if version > VERSION:
        raise StorageError(f"stored {what} has format version {version}, newer than {VERSION}")


def address_to_pb(msg: pb.Address, address: ProtocolAddress) -> None:
    """Write ``address`` into a stored ``Address``."""
    msg.name = address.name
    msg.device_id = address.device_id


def address_from_pb(msg: pb.Address) -> ProtocolAddress:
    """The address a stored ``Address`` holds."""
    return ProtocolAddress(msg.name, msg.device_id)


def _envelope_to(msg: pb.Envelope, e: Envelope) -> None:
    msg.message_id = e.message_id
    address_to_pb(msg.sender, e.sender)
    address_to_pb(msg.recipient, e.recipient)
    msg.type = int(e.type)
    msg.body = e.body
    msg.timestamp_ms = e.timestamp_ms
    msg.retry_count = e.retry_count
    if e.group_id is not None:
        msg.group_id = e.group_id
    msg.priority = int(e.priority)


def _envelope_from(msg: pb.Envelope) -> Envelope:
    return Envelope(
        message_id=msg.message_id,
        sender=address_from_pb(msg.sender),
        recipient=address_from_pb(msg.recipient),
        type=MessageType(msg.type),
        body=msg.body,
        timestamp_ms=msg.timestamp_ms,
        retry_count=msg.retry_count,
        group_id=msg.group_id if msg.HasField("group_id") else None,
        priority=Priority(msg.priority),
    )


@dataclass(slots=True)
class OutboxEntry:
    """An envelope waiting for the server's ack, and how often it went out."""

    envelope: Envelope
    transmissions: int = 0

    def serialize(self) -> bytes:
        msg = pb.OutboxEntry(transmissions=self.transmissions, version=VERSION)
        _envelope_to(msg.envelope, self.envelope)
        return msg.SerializeToString()

    @classmethod
    def deserialize(cls, data: bytes) -> OutboxEntry:
        msg = pb.OutboxEntry()
        parse_stored(msg, data, "outbox entry")
        try:
            return cls(_envelope_from(msg.envelope), msg.transmissions)
        except (UsageError, ValueError) as exc:
            raise StorageError(f"stored outbox entry is invalid: {exc}") from None


def _positions_to(field_: Any, positions: Iterable[Position]) -> None:
    for ratchet_key, counter in positions:
        field_.add(ratchet_key=b"\x05" + ratchet_key, counter=counter)


def _positions_from(field_: Iterable[Any]) -> list[Position]:
    return [(p.ratchet_key[1:], p.counter) for p in field_]


@dataclass(slots=True)
class DeviceState:
    """The sender's view of one recipient device of a logged message."""

    device: ProtocolAddress
    state: SendState = SendState.NEW
    receipts_answered: int = 0
    last_count: int = 0
    base_key_at_answer: bytes = b""
    registration_id: int = 0
    # Where its pairwise transmissions went out: (ratchet key, raw 32 bytes;
    # counter), oldest first, the last MAX_SENT kept.
    sent: list[Position] = field(default_factory=list)

    MAX_SENT = 4

    def note_sent(self, position: Position) -> None:
        """Remember one more pairwise transmission of the message to this device."""
        self.sent = [*self.sent, position][-self.MAX_SENT :]


@dataclass(slots=True)
class SendLogEntry:
    """A sent message, kept for resends."""

    message_id: str
    plaintext: bytes
    timestamp_ms: int
    group_id: str | None
    priority: Priority
    devices: list[DeviceState] = field(default_factory=list)
    expires_ms: int = 0
    """When it leaves the send log, on the layer's clock (0: an entry from before
    that clock, which expires ``send_log_max_age_ms`` after ``timestamp_ms``)."""

    def device(self, address: ProtocolAddress) -> DeviceState | None:
        """The state of ``address``, if it was a recipient."""
        return next((d for d in self.devices if d.device == address), None)

    def serialize(self) -> bytes:
        msg = pb.SendLogEntry(
            message_id=self.message_id,
            plaintext=self.plaintext,
            timestamp_ms=self.timestamp_ms,
            priority=int(self.priority),
            expires_ms=self.expires_ms,
            version=VERSION,
        )
        if self.group_id is not None:
            msg.group_id = self.group_id
        for d in self.devices:
            m = msg.devices.add()
            address_to_pb(m.device, d.device)
            m.state = int(d.state)
            m.receipts_answered = d.receipts_answered
            m.last_count = d.last_count
            m.base_key_at_answer = d.base_key_at_answer
            m.registration_id = d.registration_id
            _positions_to(m.sent, d.sent)
        return msg.SerializeToString()

    @classmethod
    def deserialize(cls, data: bytes) -> SendLogEntry:
        msg = pb.SendLogEntry()
        parse_stored(msg, data, "send log entry")
        try:
            return cls(
                message_id=msg.message_id,
                plaintext=msg.plaintext,
                timestamp_ms=msg.timestamp_ms,
                group_id=msg.group_id if msg.HasField("group_id") else None,
                priority=Priority(msg.priority),
                devices=[
                    DeviceState(
                        address_from_pb(m.device),
                        SendState(m.state),
                        m.receipts_answered,
                        m.last_count,
                        m.base_key_at_answer,
                        m.registration_id,
                        _positions_from(m.sent),
                    )
                    for m in msg.devices
                ],
                expires_ms=msg.expires_ms,
            )
        except (UsageError, ValueError) as exc:
            raise StorageError(f"stored send log entry is invalid: {exc}") from None


MAX_FAILED_DIGESTS = 16
"""How many failed transmissions a receive record remembers (more than any budget sends)."""


def transmission_digest(body: bytes) -> bytes:
    """The 8-byte digest a receive record keeps of a failed transmission's ciphertext."""
    return hashlib.sha256(body).digest()[:8]


@dataclass(slots=True)
class ReceiveRecord:
    """The receiver's view of a message it could not (yet) decrypt."""

    message_id: str
    sender: ProtocolAddress
    state: RecvState = RecvState.NEW
    count: int = 0
    reason: RetryReason = RetryReason.UNKNOWN_ERROR
    timestamp_ms: int = 0
    group_id: str | None = None
    priority: Priority = Priority.DEFAULT
    no_session: bool = False
    failed: list[bytes] = field(default_factory=list)
    """Digests (:func:`transmission_digest`) of the transmissions that failed,
    newest last, at most :data:`MAX_FAILED_DIGESTS`: a copy whose digest is
    here is a redelivery, not a new transmission (the retry count a peer
    writes, if any, cannot tell: yowsup 3.3.0 writes none)."""

    def note_failed(self, digest: bytes) -> None:
        """Remember that the transmission with ``digest`` failed (bounded, oldest dropped)."""
        if digest not in self.failed:
            self.failed.append(digest)
            del self.failed[:-MAX_FAILED_DIGESTS]

    def serialize(self) -> bytes:
        msg = pb.ReceiveRecord(
            message_id=self.message_id,
            state=int(self.state),
            count=self.count,
            reason=int(self.reason),
            timestamp_ms=self.timestamp_ms,
            priority=int(self.priority),
            no_session=self.no_session,
            failed=self.failed,
            version=VERSION,
        )
        address_to_pb(msg.sender, self.sender)
        if self.group_id is not None:
            msg.group_id = self.group_id
        return msg.SerializeToString()

    @classmethod
    def deserialize(cls, data: bytes) -> ReceiveRecord:
        msg = pb.ReceiveRecord()
        parse_stored(msg, data, "receive record")
        try:
            return cls(
                message_id=msg.message_id,
                sender=address_from_pb(msg.sender),
                state=RecvState(msg.state),
                count=msg.count,
                reason=RetryReason(msg.reason),
                timestamp_ms=msg.timestamp_ms,
                group_id=msg.group_id if msg.HasField("group_id") else None,
                priority=Priority(msg.priority),
                no_session=msg.no_session,
                failed=list(msg.failed)[-MAX_FAILED_DIGESTS:],
            )
        except (UsageError, ValueError) as exc:
            raise StorageError(f"stored receive record is invalid: {exc}") from None


@dataclass(slots=True)
class GapRecord:
    """Skipped counters of one sending chain of one device."""

    sender: ProtocolAddress
    next: int = 0  # the counter after the highest one received
    missing: dict[int, int] = field(default_factory=dict)  # counter -> first seen missing (ms)
    arrived: set[int] = field(default_factory=set)  # counters >= next seen only in failures

    def serialize(self) -> bytes:
        msg = pb.GapRecord(next=self.next, version=VERSION)
        address_to_pb(msg.sender, self.sender)
        msg.missing.extend(self.missing)
        msg.seen_ms.extend(self.missing.values())
        msg.arrived.extend(sorted(self.arrived))
        return msg.SerializeToString()

    @classmethod
    def deserialize(cls, data: bytes) -> GapRecord:
        msg = pb.GapRecord()
        parse_stored(msg, data, "gap record")
        missing = dict(zip(msg.missing, msg.seen_ms, strict=False))
        return cls(address_from_pb(msg.sender), msg.next, missing, set(msg.arrived))


@dataclass(slots=True)
class KeyHandover:
    """Whether a device has our sender key for a group.

    A group message goes out as the shared SenderKeyMessage only once the
    device confirmed (a delivery receipt) one of the pairwise messages that
    carried the key; until then every message to it goes pairwise with the
    key along, so reordering or loss never leaves it without the key.

    Attributes:
        key_id: our sender key id this is about.
        confirmed: the device confirmed a message carrying the key.
        carriers: ids of recent messages that carried the key (bounded).
    """

    key_id: int
    confirmed: bool = False
    carriers: list[str] = field(default_factory=list)

    MAX_CARRIERS = 16

    def serialize(self) -> bytes:
        msg = pb.KeyHandoverRecord(
            key_id=self.key_id, confirmed=self.confirmed, carriers=self.carriers, version=VERSION
        )
        return msg.SerializeToString()

    @classmethod
    def deserialize(cls, data: bytes) -> KeyHandover:
        msg = pb.KeyHandoverRecord()
        parse_stored(msg, data, "sender-key handover record")
        return cls(msg.key_id, msg.confirmed, list(msg.carriers))

    @classmethod
    def deserialize_legacy(cls, data: bytes) -> KeyHandover:
        """The hand-packed record of earlier releases (kind ``skdm``).

        ``key id u32 || confirmed u8 || carriers joined by 0x1f``.
        """
        if len(data) < 5:
            raise StorageError("stored sender-key handover record is truncated")
        try:
            tail = data[5:].decode()
        except UnicodeDecodeError:
            raise StorageError("stored sender-key handover record is corrupt") from None
        carriers = tail.split(_SEP) if tail else []
        return cls(int.from_bytes(data[:4], "big"), data[4] == 1, carriers)


@dataclass(frozen=True, slots=True, kw_only=True)
class Unplaced:
    """One failed transmission whose place on the sender's chains is unknown.

    Attributes:
        message_id: the message it belonged to.
        retry_count: which transmission of it (0 the first, n the resend for receipt n).
        ratchet_key: the raw 32-byte chain its header named, or ``None`` (unreadable).
        counter: the counter its header named, or ``None`` (unreadable).
        seen_ms: when it failed.
    """

    message_id: str
    retry_count: int
    ratchet_key: bytes | None
    counter: int | None
    seen_ms: int


@dataclass(slots=True)
class BundleWait:
    """Retry receipts of one device waiting for its bundle (:mod:`axolotl.retry.bundles`)."""

    sender: ProtocolAddress
    asked_ms: int = 0  # when the FetchBundle went out
    waiting: dict[str, int] = field(default_factory=dict)  # message id -> count, oldest first

    MAX = 64

    def add(self, message_id: str, count: int) -> None:
        """Wait with one more message (its highest count wins); drop the oldest past MAX."""
        self.waiting[message_id] = max(count, self.waiting.pop(message_id, 0))
        while len(self.waiting) > self.MAX:
            del self.waiting[next(iter(self.waiting))]

    def serialize(self) -> bytes:
        msg = pb.BundleWait(
            message_ids=list(self.waiting),
            counts=list(self.waiting.values()),
            asked_ms=self.asked_ms,
            version=VERSION,
        )
        address_to_pb(msg.sender, self.sender)
        return msg.SerializeToString()

    @classmethod
    def deserialize(cls, data: bytes) -> BundleWait:
        msg = pb.BundleWait()
        parse_stored(msg, data, "bundle wait record")
        if len(msg.message_ids) != len(msg.counts):
            raise StorageError("stored bundle wait record is invalid: ids and counts differ")
        try:
            waiting = dict(zip(msg.message_ids, msg.counts, strict=True))
            return cls(address_from_pb(msg.sender), msg.asked_ms, waiting)
        except (UsageError, ValueError) as exc:
            raise StorageError(f"stored bundle wait record is invalid: {exc}") from None


@dataclass(slots=True)
class UnplacedFailures:
    """The unplaced failed transmissions of one device, oldest first (bounded)."""

    sender: ProtocolAddress
    failures: list[Unplaced] = field(default_factory=list)

    MAX = 16

    def add(self, failure: Unplaced) -> None:
        """Remember one more (the same transmission twice counts once); drop the oldest past MAX."""
        same = (failure.message_id, failure.retry_count)
        kept = [f for f in self.failures if (f.message_id, f.retry_count) != same]
        self.failures = [*kept, failure][-self.MAX :]

    def serialize(self) -> bytes:
        msg = pb.UnplacedFailures(version=VERSION)
        address_to_pb(msg.sender, self.sender)
        for f in self.failures:
            m = msg.failures.add(message_id=f.message_id, retry_count=f.retry_count)
            m.seen_ms = f.seen_ms
            if f.ratchet_key is not None:
                m.ratchet_key = b"\x05" + f.ratchet_key
            if f.counter is not None:
                m.counter = f.counter
        return msg.SerializeToString()

    @classmethod
    def deserialize(cls, data: bytes) -> UnplacedFailures:
        msg = pb.UnplacedFailures()
        parse_stored(msg, data, "unplaced failures record")
        try:
            return cls(address_from_pb(msg.sender), _unplaced_from(msg.failures))
        except (UsageError, ValueError) as exc:
            raise StorageError(f"stored unplaced failures record is invalid: {exc}") from None


def _unplaced_from(failures: Iterable[Any]) -> list[Unplaced]:
    return [
        Unplaced(
            message_id=m.message_id,
            retry_count=m.retry_count,
            ratchet_key=m.ratchet_key[1:] if m.HasField("ratchet_key") else None,
            counter=m.counter if m.HasField("counter") else None,
            seen_ms=m.seen_ms,
        )
        for m in failures
    ]


def read_through(
    store: ProtocolStore, kind: str, legacy_kind: str, key: str, upgrade: Callable[[bytes], bytes]
) -> bytes | None:
    """The record under (``kind``, ``key``); an earlier release's, under ``legacy_kind``, is
    rewritten in the current form first (``upgrade``) and its old record dropped, once.

    Raises:
        StorageError: the old record is corrupt (``upgrade`` says so).
    """
    data = store.get_record(kind, key)
    if data is not None:
        return data
    old = store.get_record(legacy_kind, key)
    if old is None:
        return None
    data = upgrade(old)
    store.put_record(kind, key, data)
    store.delete_record(legacy_kind, key)
    return data


def load_handover(store: ProtocolStore, key: str) -> KeyHandover | None:
    """The handover record under ``key`` (an earlier release's ``skdm`` record read through)."""
    data = read_through(
        store, HANDOVER, SKDM, key, lambda old: KeyHandover.deserialize_legacy(old).serialize()
    )
    return KeyHandover.deserialize(data) if data is not None else None


def save_handover(store: ProtocolStore, key: str, handover: KeyHandover) -> None:
    """Store ``handover``."""
    store.put_record(HANDOVER, key, handover.serialize())
