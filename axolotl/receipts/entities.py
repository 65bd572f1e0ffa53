"""Retry receipt entities: what a receiver sends when it cannot decrypt a message.

The fields are those of the WhatsApp-style ``<receipt type="retry">`` node
(DESIGN.md, "Wire formats"), as built by yowsup, whatsmeow (``retry.go``,
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
their checks are in :mod:`axolotl.receipts.fields`; the codecs in
:mod:`axolotl.receipts.tree` (node) and :mod:`axolotl.receipts.pb`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple, TypeVar

from axolotl.receipts.fields import CHECKED_JIDS as _CHECKED_JIDS
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
from axolotl.receipts.fields import REASON_BY_TEXT as REASON_BY_TEXT  # re-exported
from axolotl.receipts.fields import check_bytes as check_bytes  # re-exported
from axolotl.receipts.fields import jid_ok as _jid_ok
from axolotl.receipts.fields import make_key_bundle as make_key_bundle  # re-exported
from axolotl.receipts.node import Node
from axolotl.receipts.tree import receipt_from_node, receipt_to_node

__all__ = [
    "RetryReason",
    "KeyBundle",
    "OutgoingRetryReceipt",
    "IncomingRetryReceipt",
    "RetryReceipt",
    "MAX_COUNT",
    "KEY_BUNDLE_TYPE",
]

# -- receipts ------------------------------------------------------------------
#
# The two receipt classes are immutable NamedTuple-based values rather than
# frozen dataclasses: building a frozen dataclass of eleven fields costs about
# 1 us in CPython 3.11 (one object.__setattr__ per field), which alone would
# miss the benchmark target (build + encode + parse at a third of yowsup's
# ~6-10 us). A tuple is built in one C call. Equality is by type and fields.
# They differ only in the name of the JID field (``to`` or ``sender``); all
# else lives once, in _ReceiptValue and _new_receipt (the checks that name a
# bad field in fields.check_receipt).

_tuple_new = tuple.__new__


def _new_receipt(
    cls: type[ReceiptT],
    fail: Fail,
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
    """Validate (reporting through ``fail``) and build a receipt of ``cls``."""
    # One inline test passes the common case; the helper names what is wrong.
    # (256 is MAX_ID_LENGTH and MAX_JID_LENGTH, inlined on this hot path.)
    if not (
        type(message_id) is str
        and 0 < len(message_id) <= 256
        and message_id.isprintable()
        and type(jid) is str
        and (jid in _CHECKED_JIDS or _jid_ok(jid))
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
            fail, cls._jid_attr, message_id, jid, count, timestamp, registration_id,
            participant, recipient, version, reason, receipt_timestamp, keys,
        )  # fmt: skip
    return _tuple_new(
        cls,
        (
            message_id, jid, count, timestamp, registration_id, participant,
            recipient, version, reason, receipt_timestamp, keys,
        ),
    )  # fmt: skip


_R = TypeVar("_R", bound="_ReceiptValue")


class _ReceiptValue:
    """Behaviour shared by both receipt classes (mixed in ahead of the tuple base)."""

    __slots__ = ()
    _jid_attr: ClassVar[str]
    """The node attribute that holds the JID: ``to`` or ``from``."""

    # Not NotImplemented for other types: a plain tuple would then compare equal.
    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return False
        return super().__eq__(other)  # the tuple's field-wise comparison

    def __ne__(self, other: object) -> bool:
        if type(other) is not type(self):
            return True
        return super().__ne__(other)

    def __hash__(self) -> int:
        return super().__hash__()

    def __getnewargs_ex__(self) -> tuple[tuple[()], dict[str, object]]:
        # copy and pickle rebuild through the validating constructor
        fields: tuple[str, ...] = type(self)._fields  # type: ignore[attr-defined]
        return (), dict(zip(fields, self, strict=True))  # type: ignore[call-overload]

    def replace(self: _R, **changes: Any) -> _R:
        """A copy with some fields changed (validated like the constructor).

        Raises:
            UsageError: a changed value is invalid.
            TypeError: an unknown field name.
        """
        return type(self)(**{**self._asdict(), **changes})  # type: ignore[attr-defined]

    if TYPE_CHECKING:

        def to_node(self) -> Node:
            """The ``<receipt type="retry">`` node, exactly as DESIGN.md lays it out.

            Outgoing receipts carry ``to``, incoming ones ``from`` (as the relay
            delivers them); see :func:`~axolotl.receipts.tree.receipt_to_node`.
            """

        @classmethod
        def from_node(cls: type[_R], node: Node, /) -> _R:
            """Read a receipt node carrying ``to`` (outgoing) or ``from`` (incoming).

            Raises:
                InvalidReceipt: naming the field; see
                    :func:`~axolotl.receipts.tree.receipt_from_node`.
            """

    else:
        # Bound directly, without a wrapper: these are the benchmarked hot path.
        to_node = receipt_to_node
        from_node = classmethod(receipt_from_node)

        # mypy keeps the NamedTuple signature; this one validates like the constructor.
        @classmethod
        def _make(cls, iterable: Iterable[Any]) -> Any:
            return cls(**dict(zip(cls._fields, iterable, strict=True)))

    def to_proto_bytes(self) -> bytes:
        """The ``RetryReceipt`` protobuf (``proto/retry.proto``), with this class's direction."""
        return _pb.receipt_to_proto(self)  # type: ignore[arg-type]

    @classmethod
    def from_proto_bytes(cls: type[_R], data: bytes) -> _R:
        """Read a ``RetryReceipt`` protobuf of this class's direction.

        Raises:
            DecodeError: the bytes are not a protobuf message.
            InvalidReceipt: a field is missing or out of range, or the
                direction is not this class's (OUTGOING or INCOMING).
        """
        return _pb.receipt_from_proto(data, cls)  # type: ignore[type-var]


class _OutgoingFields(NamedTuple):
    message_id: str
    to: str
    count: int  # type: ignore[assignment]  # shadows tuple.count, as NamedTuple allows
    timestamp: int
    registration_id: int
    participant: str | None
    recipient: str | None
    version: int
    reason: RetryReason | None
    receipt_timestamp: int | None
    keys: KeyBundle | None


class _IncomingFields(NamedTuple):
    message_id: str
    sender: str
    count: int  # type: ignore[assignment]  # shadows tuple.count, as NamedTuple allows
    timestamp: int
    registration_id: int
    participant: str | None
    recipient: str | None
    version: int
    reason: RetryReason | None
    receipt_timestamp: int | None
    keys: KeyBundle | None


class OutgoingRetryReceipt(_ReceiptValue, _OutgoingFields):
    """A retry receipt we send to the sender of a message we could not decrypt.

    An immutable value (keyword-only constructor, validated); equal to
    another only if it is also an OutgoingRetryReceipt with equal fields.

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

    __slots__ = ()
    _jid_attr: ClassVar[str] = "to"

    def __new__(
        cls,
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
    ) -> OutgoingRetryReceipt:
        return _new_receipt(
            cls, usage_fail, message_id, to, count, timestamp, registration_id,
            participant, recipient, version, reason, receipt_timestamp, keys,
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
            The receipt, ready for :meth:`to_node` or :meth:`to_proto_bytes`.

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


class IncomingRetryReceipt(_ReceiptValue, _IncomingFields):
    """A retry receipt we received for a message we sent.

    An immutable value (keyword-only constructor, validated); equal to
    another only if it is also an IncomingRetryReceipt with equal fields.

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

    __slots__ = ()
    _jid_attr: ClassVar[str] = "from"

    def __new__(
        cls,
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
    ) -> IncomingRetryReceipt:
        return _new_receipt(
            cls, usage_fail, message_id, sender, count, timestamp, registration_id,
            participant, recipient, version, reason, receipt_timestamp, keys,
        )  # fmt: skip


RetryReceipt = OutgoingRetryReceipt | IncomingRetryReceipt
"""Either direction."""

ReceiptT = TypeVar("ReceiptT", OutgoingRetryReceipt, IncomingRetryReceipt)
"""A receipt class of either direction (for the codecs' signatures)."""


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

    The codecs use this instead of the constructor so that the checks fail as
    :class:`~axolotl.errors.InvalidReceipt`.

    Raises:
        InvalidReceipt: a value is out of range (``field`` names it).
    """
    return _new_receipt(
        cls, remote_fail, message_id, jid, count, timestamp, registration_id,
        participant, recipient, version, reason, receipt_timestamp, keys,
    )  # fmt: skip


# The codec modules import this one; bound here, after every class exists.
from axolotl.receipts import pb as _pb  # noqa: E402
