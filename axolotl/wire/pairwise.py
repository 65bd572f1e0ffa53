"""Pairwise messages: SignalMessage (type 2) and PreKeySignalMessage (type 3).

* :class:`SignalMessage`: ``version || body || mac8``, where ``mac8`` is
  HMAC-SHA256 under the message's MAC key over
  ``sender_identity || receiver_identity || version || body`` (identities in
  their 33-byte form), truncated to 8 bytes (Double Ratchet spec 3.5 /
  libsignal v3).
* :class:`PreKeySignalMessage`: ``version || body``; the body carries the X3DH
  parameters (X3DH spec 3.3) and a complete serialized SignalMessage.

Bodies are ``SignalMessage`` and ``PreKeySignalMessage`` of
``proto/wire.proto``; the version byte and body parsing are in
:mod:`axolotl.wire._framing`.
"""

from __future__ import annotations

from dataclasses import dataclass

from axolotl._pb import wire_pb2
from axolotl.crypto.cipher import constant_time_equal, hmac_sha256
from axolotl.crypto.curve import PublicKey
from axolotl.errors import BadMac, DecodeError, UsageError
from axolotl.wire._framing import (
    VERSION_BYTE,
    check_bytes,
    check_public_key,
    check_uint32,
    parse_body,
    parse_public_key,
)

MAC_LENGTH = 8
"""Bytes of HMAC-SHA256 kept at the end of a SignalMessage."""


# -- SignalMessage --------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class SignalMessage:
    """A Double Ratchet message (``WhisperMessage`` / ``SignalMessage``, type 2).

    Attributes:
        ratchet_key: the sender's current ratchet public key.
        counter: the message number in the sending chain (``N``).
        previous_counter: length of the sender's previous sending chain (``PN``).
        ciphertext: AES-256-CBC ciphertext of the padded plaintext.
        serialized: the exact wire bytes, MAC included.
    """

    ratchet_key: PublicKey
    counter: int
    previous_counter: int
    ciphertext: bytes
    serialized: bytes

    def __post_init__(self) -> None:
        _check_signal_fields(self.ratchet_key, self.counter, self.previous_counter, self.ciphertext)
        check_bytes("serialized", self.serialized)

    @property
    def message_version(self) -> int:
        """The version in the high nibble of the first byte (always 3 here)."""
        return self.serialized[0] >> 4

    @classmethod
    def create(
        cls,
        *,
        mac_key: bytes,
        sender_identity: PublicKey,
        receiver_identity: PublicKey,
        ratchet_key: PublicKey,
        counter: int,
        previous_counter: int,
        ciphertext: bytes,
    ) -> SignalMessage:
        """Serialize a new message and append its MAC (Double Ratchet spec 3.5 / libsignal v3).

        Args:
            mac_key: the 32-byte MAC key derived from this message's key.
            sender_identity: our identity public key.
            receiver_identity: the recipient's identity public key.
            ratchet_key: our current ratchet public key.
            counter: message number in the sending chain.
            previous_counter: length of the previous sending chain.
            ciphertext: the encrypted body (non-empty).

        Returns:
            The message, with ``serialized`` ready for the wire.

        Raises:
            UsageError: a value is out of range or of the wrong type.
        """
        check_bytes("mac_key", mac_key, length=32)
        check_public_key("sender_identity", sender_identity)
        check_public_key("receiver_identity", receiver_identity)
        _check_signal_fields(ratchet_key, counter, previous_counter, ciphertext)
        body = wire_pb2.SignalMessage(
            ratchet_key=ratchet_key.serialize(),
            counter=counter,
            previous_counter=previous_counter,
            ciphertext=ciphertext,
        ).SerializeToString()
        unsigned = VERSION_BYTE + body
        mac = _mac(mac_key, sender_identity, receiver_identity, unsigned)
        return cls(
            ratchet_key=ratchet_key,
            counter=counter,
            previous_counter=previous_counter,
            ciphertext=ciphertext,
            serialized=unsigned + mac,
        )

    @classmethod
    def parse(cls, data: bytes) -> SignalMessage:
        """Read a SignalMessage from the wire. The MAC is not checked here; see :meth:`verify_mac`.

        Args:
            data: ``version || body || mac8``.

        Returns:
            The message; ``serialized`` is ``data``.

        Raises:
            InvalidVersion: the version nibble is not 3.
            DecodeError: too short, malformed protobuf, or a required field
                (``ratchet_key``, ``counter``, ``ciphertext``) missing or empty.
            InvalidKey: the ratchet key is not a 33-byte 0x05 key.
        """
        data, msg = parse_body(
            data, wire_pb2.SignalMessage(), "SignalMessage", MAC_LENGTH,
            "ratchet_key", "counter", "ciphertext",
        )  # fmt: skip
        if not msg.ciphertext:
            raise DecodeError("SignalMessage.ciphertext", "empty")
        return cls(
            ratchet_key=parse_public_key("SignalMessage.ratchet_key", msg.ratchet_key),
            counter=msg.counter,
            # libsignal reads an absent previousCounter as 0.
            previous_counter=msg.previous_counter,
            ciphertext=msg.ciphertext,
            serialized=data,
        )

    def verify_mac(
        self, *, sender_identity: PublicKey, receiver_identity: PublicKey, mac_key: bytes
    ) -> None:
        """Check the truncated MAC in constant time.

        Args:
            sender_identity: the sender's identity public key.
            receiver_identity: our identity public key.
            mac_key: the 32-byte MAC key derived from the message key.

        Raises:
            BadMac: the MAC does not match.
            UsageError: ``mac_key`` is not 32 bytes or a key is not a PublicKey.
        """
        check_bytes("mac_key", mac_key, length=32)
        check_public_key("sender_identity", sender_identity)
        check_public_key("receiver_identity", receiver_identity)
        unsigned, theirs = self.serialized[:-MAC_LENGTH], self.serialized[-MAC_LENGTH:]
        ours = _mac(mac_key, sender_identity, receiver_identity, unsigned)
        if not constant_time_equal(ours, theirs):
            raise BadMac(f"SignalMessage MAC does not match (counter {self.counter})", self.counter)


def _check_signal_fields(
    ratchet_key: object, counter: object, previous_counter: object, ciphertext: object
) -> None:
    check_public_key("ratchet_key", ratchet_key)
    check_uint32("counter", counter)
    check_uint32("previous_counter", previous_counter)
    check_bytes("ciphertext", ciphertext)


def _mac(mac_key: bytes, sender: PublicKey, receiver: PublicKey, unsigned: bytes) -> bytes:
    full = hmac_sha256(mac_key, sender.serialize() + receiver.serialize() + unsigned)
    return full[:MAC_LENGTH]


# -- PreKeySignalMessage ----------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class PreKeySignalMessage:
    """A session-starting message (``PreKeyWhisperMessage``, type 3).

    Attributes:
        registration_id: the sender's registration id (0 when absent on the wire).
        pre_key_id: the recipient's one-time prekey used, or ``None``.
        signed_pre_key_id: the recipient's signed prekey used.
        base_key: the sender's X3DH ephemeral (base) key.
        identity_key: the sender's identity public key.
        message: the enclosed first SignalMessage.
        serialized: the exact wire bytes.
    """

    registration_id: int
    pre_key_id: int | None
    signed_pre_key_id: int
    base_key: PublicKey
    identity_key: PublicKey
    message: SignalMessage
    serialized: bytes

    def __post_init__(self) -> None:
        _check_prekey_fields(
            self.registration_id, self.pre_key_id, self.signed_pre_key_id,
            self.base_key, self.identity_key, self.message,
        )  # fmt: skip
        check_bytes("serialized", self.serialized)

    @classmethod
    def create(
        cls,
        *,
        registration_id: int,
        pre_key_id: int | None,
        signed_pre_key_id: int,
        base_key: PublicKey,
        identity_key: PublicKey,
        message: SignalMessage,
    ) -> PreKeySignalMessage:
        """Wrap a first SignalMessage with the X3DH parameters (X3DH spec 3.3).

        Args:
            registration_id: our registration id.
            pre_key_id: the recipient's one-time prekey id, or ``None`` when
                the bundle had none (the field is then omitted, as libsignal
                and python-axolotl do).
            signed_pre_key_id: the recipient's signed prekey id.
            base_key: our X3DH base key.
            identity_key: our identity public key.
            message: the SignalMessage to enclose.

        Returns:
            The message, with ``serialized`` ready for the wire.

        Raises:
            UsageError: a value is out of range or of the wrong type.
        """
        _check_prekey_fields(
            registration_id, pre_key_id, signed_pre_key_id, base_key, identity_key, message
        )
        body = wire_pb2.PreKeySignalMessage(
            registration_id=registration_id,
            pre_key_id=pre_key_id,  # None leaves the optional field absent
            signed_pre_key_id=signed_pre_key_id,
            base_key=base_key.serialize(),
            identity_key=identity_key.serialize(),
            message=message.serialized,
        ).SerializeToString()
        return cls(
            registration_id=registration_id,
            pre_key_id=pre_key_id,
            signed_pre_key_id=signed_pre_key_id,
            base_key=base_key,
            identity_key=identity_key,
            message=message,
            serialized=VERSION_BYTE + body,
        )

    @classmethod
    def parse(cls, data: bytes) -> PreKeySignalMessage:
        """Read a PreKeySignalMessage and its enclosed SignalMessage.

        Args:
            data: ``version || body``.

        Returns:
            The message; ``serialized`` is ``data``.

        Raises:
            InvalidVersion: the outer or inner version nibble is not 3.
            DecodeError: too short, malformed protobuf, or ``signed_pre_key_id``,
                ``base_key``, ``identity_key`` or ``message`` missing.
            InvalidKey: a key is not a 33-byte 0x05 key.
        """
        data, msg = parse_body(
            data, wire_pb2.PreKeySignalMessage(), "PreKeySignalMessage", 0,
            "signed_pre_key_id", "base_key", "identity_key", "message",
        )  # fmt: skip
        return cls(
            # libsignal reads an absent registrationId as 0.
            registration_id=msg.registration_id,
            pre_key_id=msg.pre_key_id if msg.HasField("pre_key_id") else None,
            signed_pre_key_id=msg.signed_pre_key_id,
            base_key=parse_public_key("PreKeySignalMessage.base_key", msg.base_key),
            identity_key=parse_public_key("PreKeySignalMessage.identity_key", msg.identity_key),
            message=SignalMessage.parse(msg.message),
            serialized=data,
        )


def _check_prekey_fields(
    registration_id: object,
    pre_key_id: object,
    signed_pre_key_id: object,
    base_key: object,
    identity_key: object,
    message: object,
) -> None:
    check_uint32("registration_id", registration_id)
    if pre_key_id is not None:
        check_uint32("pre_key_id", pre_key_id)
    check_uint32("signed_pre_key_id", signed_pre_key_id)
    check_public_key("base_key", base_key)
    check_public_key("identity_key", identity_key)
    if not isinstance(message, SignalMessage):
        raise UsageError(f"message must be a SignalMessage, got {type(message).__name__}")
