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

Constructing an entity with a bad value raises :class:`~axolotl.errors.UsageError`
(the message names the field); reading one from a node or protobuf raises
:class:`~axolotl.errors.InvalidReceipt` with the same field names. Codecs live
in :mod:`axolotl.receipts.node` (tree) and :mod:`axolotl.receipts.pb`.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, ClassVar, Final, NamedTuple, NoReturn, TypeVar

from axolotl.crypto.curve import DJB_TYPE, PublicKey
from axolotl.errors import InvalidReceipt, UsageError
from axolotl.receipts.node import Node, receipt_from_node, receipt_to_node

__all__ = [
    "RetryReason",
    "KeyBundle",
    "OutgoingRetryReceipt",
    "IncomingRetryReceipt",
    "RetryReceipt",
    "MAX_COUNT",
    "KEY_BUNDLE_TYPE",
]

MAX_COUNT: Final = 255
"""Largest retry count accepted (deployed clients stop after 5)."""

KEY_BUNDLE_TYPE: Final = DJB_TYPE
"""The only ``<type>`` byte a key bundle may carry (Curve25519, 0x05)."""

_UINT32_MAX: Final = 0xFFFFFFFF
_UINT24_MAX: Final = 0xFFFFFF
_UINT64_MAX: Final = 0xFFFFFFFFFFFFFFFF


@enum.unique
class RetryReason(enum.IntEnum):
    """Why the receiver could not decrypt (the ``retry@error`` code, DESIGN.md)."""

    UNKNOWN_ERROR = 0
    NO_SESSION = 1
    INVALID_KEY = 2
    INVALID_KEY_ID = 3
    INVALID_MESSAGE = 4
    INVALID_SIGNATURE = 5
    FUTURE_MESSAGE = 6
    BAD_MAC = 7
    INVALID_SESSION = 8
    INVALID_MESSAGE_KEY = 9


# -- validation, shared by construction (UsageError) and decoding (InvalidReceipt) --

Fail = Callable[[str, str], NoReturn]


def usage_fail(field: str, reason: str) -> NoReturn:
    """Raise the construction-time error for ``field``."""
    raise UsageError(f"{field}: {reason}")


def remote_fail(field: str, reason: str) -> NoReturn:
    """Raise the decoding-time error for ``field``."""
    raise InvalidReceipt(field, reason)


def check_int(fail: Fail, field: str, value: object, low: int, high: int) -> None:
    """Require an ``int`` (not bool) in ``low..high``."""
    if type(value) is not int and (isinstance(value, bool) or not isinstance(value, int)):
        fail(field, f"must be an integer, got {type(value).__name__}")
    if not low <= value <= high:
        fail(field, f"must be in {low}..{high}, got {value}")


def check_text(fail: Fail, field: str, value: object) -> None:
    """Require a non-empty ``str`` that is valid UTF-8 (no lone surrogates)."""
    if type(value) is not str:
        fail(field, f"must be a string, got {type(value).__name__}")
    if not value:
        fail(field, "must not be empty")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            fail(field, "is not valid UTF-8 text")


def check_bytes(fail: Fail, field: str, value: object, length: int | None) -> None:
    """Require ``bytes``, of exactly ``length`` when given."""
    if type(value) is not bytes:
        fail(field, f"must be bytes, got {type(value).__name__}")
    if length is not None and len(value) != length:
        fail(field, f"must be {length} bytes, got {len(value)}")


def check_reason(fail: Fail, field: str, value: object) -> None:
    """Require ``None`` or a :class:`RetryReason`."""
    if value is not None and not isinstance(value, RetryReason):
        fail(field, f"must be a RetryReason or None, got {value!r}")


# -- key bundle ----------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyBundle:
    """The ``<keys>`` child: a fresh prekey bundle of the receipt's sender.

    Keys are kept as their raw 32 bytes, as the node carries them (the type
    byte travels once, in ``<type>``); the ``*_public`` properties wrap them as
    :class:`~axolotl.crypto.curve.PublicKey`.

    Attributes:
        identity: identity public key, 32 bytes.
        signed_pre_key_id: signed prekey id (24-bit; 3 bytes big-endian on the wire).
        signed_pre_key: signed prekey public key, 32 bytes.
        signed_pre_key_signature: XEdDSA signature over the signed prekey, 64 bytes.
        pre_key_id: one-time prekey id (24-bit), or ``None`` with ``pre_key``.
        pre_key: one-time prekey public key, 32 bytes, or ``None``.
        device_identity: opaque device-identity bytes (WhatsApp's
            ``ADVSignedDeviceIdentity``), or ``None``.
        key_type: the ``<type>`` byte; only 0x05 is valid.
    """

    identity: bytes
    signed_pre_key_id: int
    signed_pre_key: bytes
    signed_pre_key_signature: bytes
    pre_key_id: int | None = None
    pre_key: bytes | None = None
    device_identity: bytes | None = None
    key_type: int = KEY_BUNDLE_TYPE

    def __post_init__(self) -> None:
        self.validate(usage_fail)

    def validate(self, fail: Fail) -> None:
        """Check every field, reporting through ``fail(field, reason)`` (node field names)."""
        check_int(fail, "keys.type", self.key_type, 0, 0xFF)
        if self.key_type != KEY_BUNDLE_TYPE:
            fail("keys.type", f"type byte must be 0x05, got 0x{self.key_type:02x}")
        check_bytes(fail, "keys.identity", self.identity, 32)
        if (self.pre_key_id is None) != (self.pre_key is None):
            fail("keys.key", "one-time prekey id and value come together")
        if self.pre_key_id is not None:
            check_int(fail, "keys.key.id", self.pre_key_id, 0, _UINT24_MAX)
            check_bytes(fail, "keys.key.value", self.pre_key, 32)
        check_int(fail, "keys.skey.id", self.signed_pre_key_id, 0, _UINT24_MAX)
        check_bytes(fail, "keys.skey.value", self.signed_pre_key, 32)
        check_bytes(fail, "keys.skey.signature", self.signed_pre_key_signature, 64)
        if self.device_identity is not None:
            check_bytes(fail, "keys.device-identity", self.device_identity, None)

    @property
    def identity_public(self) -> PublicKey:
        """The identity key as a :class:`PublicKey`."""
        return PublicKey(self.identity)

    @property
    def pre_key_public(self) -> PublicKey | None:
        """The one-time prekey as a :class:`PublicKey`, or ``None``."""
        return None if self.pre_key is None else PublicKey(self.pre_key)

    @property
    def signed_pre_key_public(self) -> PublicKey:
        """The signed prekey as a :class:`PublicKey`."""
        return PublicKey(self.signed_pre_key)

    @classmethod
    def from_public_keys(
        cls,
        *,
        identity: PublicKey,
        signed_pre_key_id: int,
        signed_pre_key: PublicKey,
        signed_pre_key_signature: bytes,
        pre_key_id: int | None = None,
        pre_key: PublicKey | None = None,
        device_identity: bytes | None = None,
    ) -> KeyBundle:
        """Build a bundle from :class:`PublicKey` values (as the stores hold them).

        Args:
            identity: our identity public key.
            signed_pre_key_id: id of our current signed prekey (24-bit).
            signed_pre_key: its public key.
            signed_pre_key_signature: its 64-byte signature.
            pre_key_id: id of a fresh one-time prekey (24-bit), or ``None``.
            pre_key: its public key, or ``None``.
            device_identity: opaque device-identity bytes, or ``None``.

        Returns:
            The bundle.

        Raises:
            UsageError: a value is out of range or of the wrong type.
        """
        return cls(
            identity=identity.raw,
            signed_pre_key_id=signed_pre_key_id,
            signed_pre_key=signed_pre_key.raw,
            signed_pre_key_signature=signed_pre_key_signature,
            pre_key_id=pre_key_id,
            pre_key=None if pre_key is None else pre_key.raw,
            device_identity=device_identity,
        )


# -- receipts ------------------------------------------------------------------
#
# The two receipt classes are immutable NamedTuple-based values rather than
# frozen dataclasses: building a frozen dataclass of eleven fields costs about
# 1 us in CPython 3.11 (one object.__setattr__ per field), which alone would
# miss the benchmark target (build + encode + parse at a third of yowsup's
# ~6-10 us). A tuple is built in one C call. Equality is by type and fields.

_tuple_new = tuple.__new__


def _utf8(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _check_receipt(
    fail: Fail,
    jid_name: str,
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
    """Check receipt fields; the valid case runs a few inline tests, a bad one the helpers."""
    if not (type(message_id) is str and message_id and (message_id.isascii() or _utf8(message_id))):
        check_text(fail, "id", message_id)
    if not (type(jid) is str and jid and (jid.isascii() or _utf8(jid))):
        check_text(fail, jid_name, jid)
    if participant is not None and not (
        type(participant) is str and participant and (participant.isascii() or _utf8(participant))
    ):
        check_text(fail, "participant", participant)
    if recipient is not None and not (
        type(recipient) is str and recipient and (recipient.isascii() or _utf8(recipient))
    ):
        check_text(fail, "recipient", recipient)
    if not (type(count) is int and 1 <= count <= MAX_COUNT):
        check_int(fail, "retry.count", count, 1, MAX_COUNT)
    if not (type(version) is int and 1 <= version <= _UINT32_MAX):
        check_int(fail, "retry.v", version, 1, _UINT32_MAX)
    if not (type(timestamp) is int and 0 <= timestamp <= _UINT64_MAX):
        check_int(fail, "retry.t", timestamp, 0, _UINT64_MAX)
    if receipt_timestamp is not None and not (
        type(receipt_timestamp) is int and 0 <= receipt_timestamp <= _UINT64_MAX
    ):
        check_int(fail, "t", receipt_timestamp, 0, _UINT64_MAX)
    if not (type(registration_id) is int and 0 <= registration_id <= _UINT32_MAX):
        check_int(fail, "registration", registration_id, 0, _UINT32_MAX)
    if reason is not None and type(reason) is not RetryReason:
        check_reason(fail, "retry.error", reason)
    if keys is not None and type(keys) is not KeyBundle:
        fail("keys", f"must be a KeyBundle or None, got {type(keys).__name__}")


class _ReceiptValue:
    """Behaviour shared by both receipt classes (mixed in ahead of the tuple base)."""

    __slots__ = ()

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
        # One inline test passes the common case; the helper names what is wrong.
        if not (
            type(message_id) is str
            and message_id
            and message_id.isascii()
            and type(to) is str
            and to
            and to.isascii()
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
            _check_receipt(
                usage_fail,
                "to",
                message_id,
                to,
                count,
                timestamp,
                registration_id,
                participant,
                recipient,
                version,
                reason,
                receipt_timestamp,
                keys,
            )
        return _tuple_new(
            cls,
            (
                message_id, to, count, timestamp, registration_id, participant,
                recipient, version, reason, receipt_timestamp, keys,
            ),
        )  # fmt: skip

    @classmethod
    def _make(cls, iterable: Iterable[Any]) -> OutgoingRetryReceipt:  # type: ignore[override]
        return cls(**dict(zip(cls._fields, iterable, strict=True)))

    def replace(self, **changes: Any) -> OutgoingRetryReceipt:
        """A copy with some fields changed (validated like the constructor).

        Raises:
            UsageError: a changed value is invalid.
            TypeError: an unknown field name.
        """
        return type(self)(**{**self._asdict(), **changes})

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

    to_node = receipt_to_node
    """The ``<receipt to=... type="retry">`` node, exactly as DESIGN.md lays it out."""

    from_node: classmethod[OutgoingRetryReceipt, [Node], OutgoingRetryReceipt] = classmethod(
        receipt_from_node
    )
    """Read a receipt node that carries ``to`` (raises InvalidReceipt naming the field)."""

    def to_proto_bytes(self) -> bytes:
        """The ``RetryReceipt`` protobuf (``proto/retry.proto``), direction OUTGOING."""
        return _pb.receipt_to_proto(self)

    @classmethod
    def from_proto_bytes(cls, data: bytes) -> OutgoingRetryReceipt:
        """Read an OUTGOING ``RetryReceipt`` protobuf.

        Raises:
            DecodeError: the bytes are not a protobuf message.
            InvalidReceipt: a field is missing or out of range, or the
                direction is not OUTGOING.
        """
        return _pb.receipt_from_proto(data, cls)

    def received_from(
        self, sender: str, *, receipt_timestamp: int | None = None
    ) -> IncomingRetryReceipt:
        """This receipt as its addressee sees it once the server has relayed it.

        The relay replaces ``to`` with ``from`` (the JID of the device that sent
        the receipt) and may stamp its own ``t``; every other field arrives as sent.

        Args:
            sender: the JID of the device that sent this receipt.
            receipt_timestamp: the ``t`` the server stamps on delivery.

        Returns:
            The incoming receipt.

        Raises:
            UsageError: ``sender`` or ``receipt_timestamp`` is invalid.
        """
        return IncomingRetryReceipt(
            message_id=self.message_id,
            sender=sender,
            count=self.count,
            timestamp=self.timestamp,
            registration_id=self.registration_id,
            participant=self.participant,
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
        # One inline test passes the common case; the helper names what is wrong.
        if not (
            type(message_id) is str
            and message_id
            and message_id.isascii()
            and type(sender) is str
            and sender
            and sender.isascii()
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
            _check_receipt(
                usage_fail,
                "from",
                message_id,
                sender,
                count,
                timestamp,
                registration_id,
                participant,
                recipient,
                version,
                reason,
                receipt_timestamp,
                keys,
            )
        return _tuple_new(
            cls,
            (
                message_id, sender, count, timestamp, registration_id, participant,
                recipient, version, reason, receipt_timestamp, keys,
            ),
        )  # fmt: skip

    @classmethod
    def _make(cls, iterable: Iterable[Any]) -> IncomingRetryReceipt:  # type: ignore[override]
        return cls(**dict(zip(cls._fields, iterable, strict=True)))

    def replace(self, **changes: Any) -> IncomingRetryReceipt:
        """A copy with some fields changed (validated like the constructor).

        Raises:
            UsageError: a changed value is invalid.
            TypeError: an unknown field name.
        """
        return type(self)(**{**self._asdict(), **changes})

    to_node = receipt_to_node
    """The ``<receipt from=... type="retry">`` node, as the relay delivers it."""

    from_node: classmethod[IncomingRetryReceipt, [Node], IncomingRetryReceipt] = classmethod(
        receipt_from_node
    )
    """Read a receipt node that carries ``from`` (raises InvalidReceipt naming the field)."""

    def to_proto_bytes(self) -> bytes:
        """The ``RetryReceipt`` protobuf (``proto/retry.proto``), direction INCOMING."""
        return _pb.receipt_to_proto(self)

    @classmethod
    def from_proto_bytes(cls, data: bytes) -> IncomingRetryReceipt:
        """Read an INCOMING ``RetryReceipt`` protobuf.

        Raises:
            DecodeError: the bytes are not a protobuf message.
            InvalidReceipt: a field is missing or out of range, or the
                direction is not INCOMING.
        """
        return _pb.receipt_from_proto(data, cls)


RetryReceipt = OutgoingRetryReceipt | IncomingRetryReceipt
"""Either direction."""

ReceiptT = TypeVar("ReceiptT", OutgoingRetryReceipt, IncomingRetryReceipt)
"""A receipt class of either direction (for the codecs' signatures)."""


# -- construction for the codecs ----------------------------------------------------

_new = object.__new__
_set = object.__setattr__


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
    _check_receipt(
        remote_fail, cls._jid_attr, message_id, jid, count,
        timestamp, registration_id, participant, recipient, version, reason, receipt_timestamp,
        keys,
    )  # fmt: skip
    return _tuple_new(
        cls,
        (
            message_id, jid, count, timestamp, registration_id, participant, recipient,
            version, reason, receipt_timestamp, keys,
        ),
    )  # fmt: skip


def make_key_bundle(
    key_type: int,
    identity: bytes,
    pre_key_id: int | None,
    pre_key: bytes | None,
    signed_pre_key_id: int,
    signed_pre_key: bytes,
    signed_pre_key_signature: bytes,
    device_identity: bytes | None,
) -> KeyBundle:
    """Build a key bundle from decoded values and validate it as remote data.

    Raises:
        InvalidReceipt: a value is out of range (``field`` names it).
    """
    obj = _new(KeyBundle)
    _set(obj, "key_type", key_type)
    _set(obj, "identity", identity)
    _set(obj, "pre_key_id", pre_key_id)
    _set(obj, "pre_key", pre_key)
    _set(obj, "signed_pre_key_id", signed_pre_key_id)
    _set(obj, "signed_pre_key", signed_pre_key)
    _set(obj, "signed_pre_key_signature", signed_pre_key_signature)
    _set(obj, "device_identity", device_identity)
    obj.validate(remote_fail)
    return obj


REASON_BY_TEXT: Final = {str(reason.value): reason for reason in RetryReason}
"""``retry@error`` text -> reason (for the node codec)."""


# The codec modules import this one; bound here, after every class exists.
from axolotl.receipts import pb as _pb  # noqa: E402
