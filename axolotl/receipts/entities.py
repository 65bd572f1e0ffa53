"""Retry receipt entities: what a receiver sends when it cannot decrypt a message.

The fields are those of the WhatsApp-style ``<receipt type="retry">`` node
(README.md, "Retry receipts"), as built by yowsup, whatsmeow (``retry.go``,
``sendRetryReceipt``) and Baileys (``messages-recv.ts``, ``sendRetryRequest``):

* message id (``receipt@id`` and ``retry@id``), remote JID (``to`` when we
  send it, ``from`` when we receive it), optional ``participant`` (group
  sender) and ``recipient``;
* retry count (``retry@count``), version (``retry@v``, 1 today), the failed
  message's own timestamp (``retry@t``, unix seconds), the receipt's timestamp
  (``receipt@t``, set by the server on delivery), an optional reason code
  (``retry@error``);
* the receiver's registration id (``<registration>``, 4 bytes big-endian);
* optionally a fresh key bundle (``<keys>``) so the sender can rebuild the
  session.

Ids and JIDs are 1..256 printable characters (no control characters: see
:mod:`axolotl.receipts.limits` for every limit). Constructing an entity with a
bad value raises :class:`~axolotl.errors.UsageError`
(the message names the field); reading one from a node or protobuf raises
:class:`~axolotl.errors.InvalidReceipt` with the same field names. Field values and
their checks are in :mod:`axolotl.receipts.fields`. The receipts are plain
values: the codecs are functions over them, in :mod:`axolotl.receipts.tree`
(node), :mod:`axolotl.receipts.pb` (protobuf) and :mod:`axolotl.receipts.yowsup`,
which import this module (it imports none of them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from axolotl._slots import draft_class, set_class
from axolotl.errors import UsageError
from axolotl.receipts.fields import (
    KEY_BUNDLE_TYPE,
    MAX_COUNT,
    Fail,
    KeyBundle,
    RetryReason,
    check_receipt,
    remote_fail,
    usage_fail,
)

__all__ = [
    "RetryReason",
    "KeyBundle",
    "OutgoingRetryReceipt",
    "IncomingRetryReceipt",
    "RetryReceipt",
    "ReceiptT",
    "MAX_COUNT",
    "KEY_BUNDLE_TYPE",
    "jid_name",
    "make_receipt",
    "checked_receipt",
]


def _check(
    fail: Fail,
    jid_attr: str,
    message_id: object,
    jid: object,
    count: object,
    timestamp: object,
    registration_id: object,
    participant: object,
    recipient: object,
    version: object,
    reason: object,
    receipt_timestamp: object,
    keys: object,
) -> None:
    """Check a receipt's fields, reporting the first bad one through ``fail``."""
    # One inline test passes the common case; check_receipt names what is wrong.
    # (256 is MAX_ID_LENGTH and MAX_JID_LENGTH, inlined on this hot path.)
    if not (
        type(message_id) is str
        and 0 < len(message_id) <= 256
        and message_id.isprintable()
        and type(jid) is str
        and 0 < len(jid) <= 256
        and jid.isprintable()
        and type(count) is int
        and 0 < count <= 255
        and type(timestamp) is int
        and 0 <= timestamp <= 0xFFFFFFFFFFFFFFFF
        and type(registration_id) is int
        and 0 <= registration_id <= 0xFFFFFFFF
        and type(version) is int
        and 0 < version <= 0xFFFFFFFF
        and participant is None
        and recipient is None
        and reason is None
        and receipt_timestamp is None
        and (keys is None or type(keys) is KeyBundle)
    ):
        check_receipt(
            fail, jid_attr, message_id, jid, count, timestamp, registration_id,
            participant, recipient, version, reason, receipt_timestamp, keys,
        )  # fmt: skip


# The constructors below are written out instead of the generated __init__:
# that one stores each field through object.__setattr__ (a lookup through the
# class and a call per field, 2 us or more for eleven fields on the benchmark host),
# which alone would cost the receipt round trip its target
# (benchmarks/bench_receipts.py). Here the new instance is filled as a draft of
# the same layout with plain stores and made a receipt again (axolotl/_slots.py,
# as axolotl.retry.Envelope does), then __post_init__ checks it. A subclass
# has a layout of its own, so it is filled through object.__setattr__.


def _fill_slowly(receipt: object, names: tuple[str, ...], values: tuple[object, ...]) -> None:
    for name, value in zip(names, values, strict=True):
        object.__setattr__(receipt, name, value)


@dataclass(frozen=True, slots=True, kw_only=True)
class OutgoingRetryReceipt:
    """A retry receipt we send to the sender of a message we could not decrypt.

    An immutable value (keyword-only constructor, validated); equal to
    another only if it is also an OutgoingRetryReceipt with equal fields.
    Encode it with :func:`~axolotl.receipts.tree.receipt_to_node` or
    :func:`~axolotl.receipts.pb.receipt_to_proto`; change a field with
    :func:`dataclasses.replace` (validated like the constructor).

    Attributes:
        message_id: id of the failed message.
        to: the JID the failed message came from (the node's ``to``).
        count: which retry this is, 1..255.
        timestamp: the failed message's timestamp (its ``t``, unix seconds).
        registration_id: our registration id (32-bit).
        participant: the group member who sent it, for group messages.
        recipient: the ``recipient`` of the failed message, when it had one.
        version: retry protocol version (``v``), 1.
        reason: why decryption failed, or ``None`` to leave ``error`` out (as
            whatsmeow and yowsup do).
        receipt_timestamp: the receipt's own ``t``; senders leave it out.
        keys: a fresh key bundle, or ``None``.

    Raises:
        UsageError: a field is missing, of the wrong type or out of range
            (the message starts with the field's node name, e.g. ``retry.count``).
    """

    message_id: str
    to: str
    count: int
    timestamp: int
    registration_id: int
    participant: str | None = None
    recipient: str | None = None
    version: int = 1
    reason: RetryReason | None = None
    receipt_timestamp: int | None = None
    keys: KeyBundle | None = None

    def __init__(
        self,
        *,
        message_id: str,
        to: str,
        count: int,
        timestamp: int,
        registration_id: int,
        participant: str | None = None,
        recipient: str | None = None,
        version: int = 1,
        reason: RetryReason | None = None,
        receipt_timestamp: int | None = None,
        keys: KeyBundle | None = None,
    ) -> None:
        if type(self) is not OutgoingRetryReceipt:
            _fill_slowly(self, _OUTGOING_FIELDS, (
                message_id, to, count, timestamp, registration_id, participant, recipient,
                version, reason, receipt_timestamp, keys,
            ))  # fmt: skip
        else:
            set_class(self, _OutgoingDraft)
            draft: Any = self
            draft.message_id = message_id
            draft.to = to
            draft.count = count
            draft.timestamp = timestamp
            draft.registration_id = registration_id
            draft.participant = participant
            draft.recipient = recipient
            draft.version = version
            draft.reason = reason
            draft.receipt_timestamp = receipt_timestamp
            draft.keys = keys
            draft.__class__ = OutgoingRetryReceipt
        self.__post_init__()

    def __post_init__(self) -> None:
        _check(
            usage_fail, "to", self.message_id, self.to, self.count, self.timestamp,
            self.registration_id, self.participant, self.recipient, self.version,
            self.reason, self.receipt_timestamp, self.keys,
        )  # fmt: skip

    @classmethod
    def for_failed_message(
        cls,
        *,
        message_id: str,
        sender: str,
        timestamp: int,
        count: int,
        registration_id: int,
        reason: RetryReason | None = None,
        participant: str | None = None,
        recipient: str | None = None,
        keys: KeyBundle | None = None,
    ) -> OutgoingRetryReceipt:
        """The receipt asking ``sender`` to resend a message we failed to decrypt.

        Args:
            message_id: the failed message's id.
            sender: the JID it came from (its ``from``); the receipt goes there.
            timestamp: the failed message's timestamp (its ``t``).
            count: the retry number, starting at 1.
            registration_id: our registration id.
            reason: why decryption failed.
            participant: the group member who sent it (its ``participant``).
            recipient: its ``recipient``, when it had one.
            keys: a fresh key bundle (from the second retry on, or at once when
                there was no session).

        Returns:
            The receipt, ready for :func:`~axolotl.receipts.tree.receipt_to_node`
            or :func:`~axolotl.receipts.pb.receipt_to_proto`.

        Raises:
            UsageError: a value is out of range or of the wrong type.
        """
        return cls(
            message_id=message_id,
            to=sender,
            count=count,
            timestamp=timestamp,
            registration_id=registration_id,
            participant=participant,
            recipient=recipient,
            reason=reason,
            keys=keys,
        )

    def received_from(
        self, sender: str, *, receipt_timestamp: int | None = None
    ) -> IncomingRetryReceipt:
        """This receipt as its addressee sees it once the server has relayed it.

        The relay may stamp its own ``t``. For a pairwise receipt it replaces
        ``to`` with ``from`` = the JID of the device that sent the receipt. For
        a group receipt (``to`` is the group, ``participant`` the member whose
        message failed) it delivers ``from`` = the group and ``participant`` =
        the device that sent the receipt, as WhatsApp-style servers do (the
        sender of the message learns who asks). Every other field arrives as sent.

        Args:
            sender: the JID of the device that sent this receipt.
            receipt_timestamp: the ``t`` the server stamps on delivery.

        Returns:
            The incoming receipt.

        Raises:
            UsageError: ``sender`` or ``receipt_timestamp`` is invalid.
        """
        group = self.participant is not None
        return IncomingRetryReceipt(
            message_id=self.message_id,
            sender=self.to if group else sender,
            count=self.count,
            timestamp=self.timestamp,
            registration_id=self.registration_id,
            participant=sender if group else None,
            recipient=self.recipient,
            version=self.version,
            reason=self.reason,
            receipt_timestamp=receipt_timestamp,
            keys=self.keys,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class IncomingRetryReceipt:
    """A retry receipt we received for a message we sent.

    An immutable value (keyword-only constructor, validated); equal to
    another only if it is also an IncomingRetryReceipt with equal fields.
    Read one with :func:`~axolotl.receipts.tree.receipt_from_node` or
    :func:`~axolotl.receipts.pb.receipt_from_proto`.

    Attributes:
        message_id: id of the message the peer could not decrypt.
        sender: the JID the receipt came from (the node's ``from``).
        count: the peer's retry number, 1..255.
        timestamp: the original message's timestamp as the peer saw it.
        registration_id: the peer's registration id.
        participant: the group member the receipt is about, when present.
        recipient: the ``recipient`` attribute, when present.
        version: retry protocol version (``v``).
        reason: the peer's reason code, or ``None`` when it gave none.
        receipt_timestamp: the receipt's ``t`` (server time), or ``None``.
        keys: the peer's fresh key bundle, or ``None``.

    Raises:
        UsageError: a field is missing, of the wrong type or out of range.
    """

    message_id: str
    sender: str
    count: int
    timestamp: int
    registration_id: int
    participant: str | None = None
    recipient: str | None = None
    version: int = 1
    reason: RetryReason | None = None
    receipt_timestamp: int | None = None
    keys: KeyBundle | None = None

    def __init__(
        self,
        *,
        message_id: str,
        sender: str,
        count: int,
        timestamp: int,
        registration_id: int,
        participant: str | None = None,
        recipient: str | None = None,
        version: int = 1,
        reason: RetryReason | None = None,
        receipt_timestamp: int | None = None,
        keys: KeyBundle | None = None,
    ) -> None:
        if type(self) is not IncomingRetryReceipt:
            _fill_slowly(self, _INCOMING_FIELDS, (
                message_id, sender, count, timestamp, registration_id, participant, recipient,
                version, reason, receipt_timestamp, keys,
            ))  # fmt: skip
        else:
            set_class(self, _IncomingDraft)
            draft: Any = self
            draft.message_id = message_id
            draft.sender = sender
            draft.count = count
            draft.timestamp = timestamp
            draft.registration_id = registration_id
            draft.participant = participant
            draft.recipient = recipient
            draft.version = version
            draft.reason = reason
            draft.receipt_timestamp = receipt_timestamp
            draft.keys = keys
            draft.__class__ = IncomingRetryReceipt
        self.__post_init__()

    def __post_init__(self) -> None:
        _check(
            usage_fail, "from", self.message_id, self.sender, self.count, self.timestamp,
            self.registration_id, self.participant, self.recipient, self.version,
            self.reason, self.receipt_timestamp, self.keys,
        )  # fmt: skip


# The fields in order, for _fill_slowly.
_OUTGOING_FIELDS = tuple(OutgoingRetryReceipt.__dataclass_fields__)
_INCOMING_FIELDS = tuple(IncomingRetryReceipt.__dataclass_fields__)
_OutgoingDraft = draft_class(OutgoingRetryReceipt)
_IncomingDraft = draft_class(IncomingRetryReceipt)

RetryReceipt = OutgoingRetryReceipt | IncomingRetryReceipt
"""Either direction."""

ReceiptT = TypeVar("ReceiptT", OutgoingRetryReceipt, IncomingRetryReceipt)
"""A receipt class of either direction (for the codecs' signatures)."""


def jid_name(cls: type[OutgoingRetryReceipt] | type[IncomingRetryReceipt]) -> str:
    """The node attribute that holds a receipt's JID: ``to`` (outgoing) or ``from`` (incoming).

    Raises:
        UsageError: ``cls`` is neither receipt class.
    """
    if cls is OutgoingRetryReceipt:
        return "to"
    if cls is IncomingRetryReceipt:
        return "from"
    raise UsageError(f"expected OutgoingRetryReceipt or IncomingRetryReceipt, got {cls!r}")


def make_receipt(
    cls: type[ReceiptT],
    message_id: str,
    jid: str,
    count: int,
    timestamp: int,
    registration_id: int,
    participant: str | None,
    recipient: str | None,
    version: int,
    reason: RetryReason | None,
    receipt_timestamp: int | None,
    keys: KeyBundle | None,
) -> ReceiptT:
    """Build a receipt from decoded values, validating them as remote data.

    The codecs use this instead of the constructor so that the checks (the
    constructor's own) fail as :class:`~axolotl.errors.InvalidReceipt`.

    Args:
        cls: the receipt class; ``jid`` becomes its ``to`` or ``sender``.
        message_id, jid, count, timestamp, registration_id, participant,
            recipient, version, reason, receipt_timestamp, keys: the
            receipt's fields in declaration order (``jid`` is
            ``to`` or ``sender``).

    Returns:
        The receipt.

    Raises:
        InvalidReceipt: a value is out of range (``field`` names it).
        UsageError: ``cls`` is neither receipt class.
    """
    _check(
        remote_fail, jid_name(cls), message_id, jid, count, timestamp, registration_id,
        participant, recipient, version, reason, receipt_timestamp, keys,
    )  # fmt: skip
    return checked_receipt(
        cls, message_id, jid, count, timestamp, registration_id, participant, recipient,
        version, reason, receipt_timestamp, keys,
    )  # fmt: skip


def checked_receipt(
    cls: type[ReceiptT],
    message_id: str,
    jid: str,
    count: int,
    timestamp: int,
    registration_id: int,
    participant: str | None,
    recipient: str | None,
    version: int,
    reason: RetryReason | None,
    receipt_timestamp: int | None,
    keys: KeyBundle | None,
) -> ReceiptT:
    """Build a receipt from values its caller has checked already, without checking them again.

    For the node codec (:func:`~axolotl.receipts.tree.receipt_from_node`),
    which checks every field as it reads it, with the constructor's limits
    (tests/test_receipts_parity.py holds every codec to the constructor's
    answers); checking the result again would cost the parse a third. Any
    other caller wants :func:`make_receipt`.

    Args:
        cls: the receipt class; ``jid`` becomes its ``to`` or ``sender``.
        message_id, jid, count, timestamp, registration_id, participant,
            recipient, version, reason, receipt_timestamp, keys: the
            receipt's fields in declaration order, each already valid (``jid`` is
            ``to`` or ``sender``).

    Returns:
        The receipt.

    Raises:
        UsageError: ``cls`` is neither receipt class.
    """
    draft: Any
    if cls is IncomingRetryReceipt:
        draft = _IncomingDraft()
        draft.sender = jid
    elif cls is OutgoingRetryReceipt:
        draft = _OutgoingDraft()
        draft.to = jid
    else:
        raise UsageError(f"expected OutgoingRetryReceipt or IncomingRetryReceipt, got {cls!r}")
    draft.message_id = message_id
    draft.count = count
    draft.timestamp = timestamp
    draft.registration_id = registration_id
    draft.participant = participant
    draft.recipient = recipient
    draft.version = version
    draft.reason = reason
    draft.receipt_timestamp = receipt_timestamp
    draft.keys = keys
    draft.__class__ = cls
    receipt: ReceiptT = draft
    return receipt
