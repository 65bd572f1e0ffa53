"""Retry receipt field values and their checks: reason codes, key bundles, limits.

The checks report through a ``fail(field, reason)`` callable, so one
implementation serves construction (:func:`usage_fail`, raising
:class:`~axolotl.errors.UsageError`) and decoding (:func:`remote_fail`, raising
:class:`~axolotl.errors.InvalidReceipt`); fields are named as in the node form
(README.md, "Retry receipts"). The receipts themselves are in
:mod:`axolotl.receipts.entities`.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, NoReturn

from axolotl._slots import draft_class
from axolotl.crypto.curve import DJB_TYPE, PublicKey
from axolotl.errors import InvalidReceipt, UsageError
from axolotl.receipts.limits import (
    MAX_DEVICE_IDENTITY_LENGTH,
    MAX_ID_LENGTH,
    MAX_JID_LENGTH,
    excerpt,
)

__all__ = [
    "RetryReason",
    "KeyBundle",
    "MAX_COUNT",
    "KEY_BUNDLE_TYPE",
    "REASON_BY_TEXT",
    "Fail",
    "usage_fail",
    "remote_fail",
    "check_int",
    "check_text",
    "check_bytes",
    "check_reason",
    "check_receipt",
    "is_utf8",
    "make_key_bundle",
]

MAX_COUNT: Final = 255
"""Largest retry count accepted (deployed clients stop after 5)."""

KEY_BUNDLE_TYPE: Final = DJB_TYPE
"""The only ``<type>`` byte a key bundle may carry (Curve25519, 0x05)."""

UINT24_MAX: Final = 0xFFFFFF
UINT32_MAX: Final = 0xFFFFFFFF
UINT64_MAX: Final = 0xFFFFFFFFFFFFFFFF


@enum.unique
class RetryReason(enum.IntEnum):
    """Why the receiver could not decrypt (the ``retry@error`` code)."""

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


def check_text(fail: Fail, field: str, value: object, max_length: int = MAX_JID_LENGTH) -> None:
    """Require 1..``max_length`` printable characters (see :mod:`axolotl.receipts.limits`).

    Printable (:meth:`str.isprintable`) excludes every control character
    (NUL, TAB, CR, LF, ESC, DEL, C1), format characters (ZWSP, bidirectional
    overrides), line and paragraph separators, lone surrogates (so the text
    is valid UTF-8) and unassigned code points; U+0020 is allowed.
    """
    if type(value) is not str:
        fail(field, f"must be a string, got {type(value).__name__}")
    if not value:
        fail(field, "must not be empty")
    if len(value) > max_length:
        fail(field, f"must be at most {max_length} characters, got {len(value)}")
    if not value.isprintable():
        index, char = next((i, c) for i, c in enumerate(value) if not c.isprintable())
        if 0xD800 <= ord(char) <= 0xDFFF:
            fail(field, f"is not valid UTF-8 text: a lone surrogate at index {index}")
        fail(
            field,
            f"must be printable text: character {index} is {char!r} (U+{ord(char):04X}),"
            f" in {excerpt(value)}",
        )


def jid_ok(jid: str) -> bool:
    """Whether the ``str`` ``jid`` is a valid JID: 1..MAX_JID_LENGTH printable characters."""
    return 0 < len(jid) <= MAX_JID_LENGTH and jid.isprintable()


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


def check_receipt(
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
    """Check every receipt field, naming the first bad one (the slow path of construction)."""
    check_text(fail, "id", message_id, MAX_ID_LENGTH)
    check_text(fail, jid_name, jid, MAX_JID_LENGTH)
    if participant is not None:
        check_text(fail, "participant", participant, MAX_JID_LENGTH)
    if recipient is not None:
        check_text(fail, "recipient", recipient, MAX_JID_LENGTH)
    check_int(fail, "retry.count", count, 1, MAX_COUNT)
    check_int(fail, "retry.v", version, 1, UINT32_MAX)
    check_int(fail, "retry.t", timestamp, 0, UINT64_MAX)
    if receipt_timestamp is not None:
        check_int(fail, "t", receipt_timestamp, 0, UINT64_MAX)
    check_int(fail, "registration", registration_id, 0, UINT32_MAX)
    check_reason(fail, "retry.error", reason)
    if keys is not None and type(keys) is not KeyBundle:
        fail("keys", f"must be a KeyBundle or None, got {type(keys).__name__}")


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
            ``ADVSignedDeviceIdentity``, at most 4096 bytes), or ``None``.
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
        # One inline test passes a valid bundle; the checks below name what is wrong.
        key_type, pre_key_id, pre_key = self.key_type, self.pre_key_id, self.pre_key
        identity, signed_id, device = self.identity, self.signed_pre_key_id, self.device_identity
        signed, signature = self.signed_pre_key, self.signed_pre_key_signature
        if (
            type(key_type) is int
            and key_type == KEY_BUNDLE_TYPE
            and type(identity) is bytes
            and len(identity) == 32
            and type(signed_id) is int
            and 0 <= signed_id <= UINT24_MAX
            and type(signed) is bytes
            and len(signed) == 32
            and type(signature) is bytes
            and len(signature) == 64
            and (
                (pre_key_id is None and pre_key is None)
                or (
                    type(pre_key_id) is int
                    and 0 <= pre_key_id <= UINT24_MAX
                    and type(pre_key) is bytes
                    and len(pre_key) == 32
                )
            )
            and (
                device is None
                or (type(device) is bytes and len(device) <= MAX_DEVICE_IDENTITY_LENGTH)
            )
        ):
            return
        check_int(fail, "keys.type", self.key_type, 0, 0xFF)
        if self.key_type != KEY_BUNDLE_TYPE:
            fail("keys.type", f"type byte must be 0x05, got 0x{self.key_type:02x}")
        check_bytes(fail, "keys.identity", self.identity, 32)
        if (self.pre_key_id is None) != (self.pre_key is None):
            fail("keys.key", "one-time prekey id and value come together")
        if self.pre_key_id is not None:
            check_int(fail, "keys.key.id", self.pre_key_id, 0, UINT24_MAX)
            check_bytes(fail, "keys.key.value", self.pre_key, 32)
        check_int(fail, "keys.skey.id", self.signed_pre_key_id, 0, UINT24_MAX)
        check_bytes(fail, "keys.skey.value", self.signed_pre_key, 32)
        check_bytes(fail, "keys.skey.signature", self.signed_pre_key_signature, 64)
        if self.device_identity is not None:
            check_bytes(fail, "keys.device-identity", self.device_identity, None)
            if len(self.device_identity) > MAX_DEVICE_IDENTITY_LENGTH:
                fail(
                    "keys.device-identity",
                    f"must be at most {MAX_DEVICE_IDENTITY_LENGTH} bytes,"
                    f" got {len(self.device_identity)}",
                )

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


def is_utf8(value: str) -> bool:
    """Whether ``value`` encodes as UTF-8 (it has no lone surrogates)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


# -- construction for the codecs ----------------------------------------------------


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

    The generated constructor would check the values as the application's
    (raising :class:`~axolotl.errors.UsageError`); this fills a draft
    (:mod:`axolotl._slots`), which also skips the generated ``__init__``'s
    per-field ``object.__setattr__``, and runs the same checks as the peer's.

    Raises:
        InvalidReceipt: a value is out of range (``field`` names it).
    """
    draft = _KeyBundleDraft()
    draft.key_type = key_type
    draft.identity = identity
    draft.pre_key_id = pre_key_id
    draft.pre_key = pre_key
    draft.signed_pre_key_id = signed_pre_key_id
    draft.signed_pre_key = signed_pre_key
    draft.signed_pre_key_signature = signed_pre_key_signature
    draft.device_identity = device_identity
    draft.__class__ = KeyBundle
    bundle: KeyBundle = draft
    bundle.validate(remote_fail)
    return bundle


_KeyBundleDraft = draft_class(KeyBundle)


REASON_BY_TEXT: Final = {str(reason.value): reason for reason in RetryReason}
"""``retry@error`` text -> reason (for the node codec)."""
