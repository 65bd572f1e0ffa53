"""Signal protocol v3 wire messages: parse, serialize, MAC and signature checks.

The four messages libsignal-protocol-java and python-axolotl exchange, each a
version byte followed by a protobuf body (``proto/wire.proto``, field numbers
from libsignal's ``WhisperTextProtocol.proto``):

* :class:`SignalMessage` (type 2): ``version || body || mac8``, where ``mac8``
  is HMAC-SHA256 under the message's MAC key over
  ``sender_identity || receiver_identity || version || body`` (identities in
  their 33-byte form), truncated to 8 bytes.
* :class:`PreKeySignalMessage` (type 3): ``version || body``; the body carries
  the X3DH parameters and a complete serialized SignalMessage.
* :class:`SenderKeyMessage` (type 4): ``version || body || sig64``, an XEdDSA
  signature by the sender's signing key over ``version || body``.
* :class:`SenderKeyDistributionMessage` (type 5): ``version || body``.

The version byte is ``(message_version << 4) | current_version``; this library
writes ``0x33`` and reads any byte whose high nibble is 3 (the low nibble only
says what the sender could speak, as in libsignal).

Every message keeps the exact bytes it was parsed from or serialized to
(``serialized``), so a MAC or signature is always checked over what was on the
wire. Build messages with ``create`` or ``parse``; the constructor only
validates field values and trusts ``serialized`` to match them.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TypeVar

from google.protobuf.message import DecodeError as _PbDecodeError
from google.protobuf.message import Message as _PbMessage

from axolotl._pb import wire_pb2
from axolotl.crypto.cipher import constant_time_equal, hmac_sha256
from axolotl.crypto.curve import PrivateKey, PublicKey
from axolotl.errors import BadMac, DecodeError, InvalidKey, InvalidVersion, UsageError
from axolotl.rng import Rng, default_rng

__all__ = [
    "CURRENT_VERSION",
    "MAC_LENGTH",
    "SIGNATURE_LENGTH",
    "CHAIN_KEY_LENGTH",
    "MessageType",
    "SignalMessage",
    "PreKeySignalMessage",
    "SenderKeyMessage",
    "SenderKeyDistributionMessage",
]

CURRENT_VERSION = 3
"""The Signal message version this library writes and reads."""
MAC_LENGTH = 8
"""Bytes of HMAC-SHA256 kept at the end of a SignalMessage."""
SIGNATURE_LENGTH = 64
"""Bytes of XEdDSA signature at the end of a SenderKeyMessage."""
CHAIN_KEY_LENGTH = 32
"""Bytes of a sender chain key in a SenderKeyDistributionMessage."""

_VERSION_BYTE = bytes([(CURRENT_VERSION << 4) | CURRENT_VERSION])
_UINT32_MAX = 0xFFFFFFFF

_M = TypeVar("_M", bound=_PbMessage)


@enum.unique
class MessageType(enum.IntEnum):
    """The ciphertext type a transport carries beside the bytes (libsignal CiphertextMessage)."""

    SIGNAL = 2
    PREKEY = 3
    SENDER_KEY = 4
    SENDER_KEY_DISTRIBUTION = 5


# -- validation helpers -------------------------------------------------------


def _check_uint32(what: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _UINT32_MAX:
        raise UsageError(f"{what} must be an integer in 0..2^32-1, got {value!r}")


def _check_public_key(what: str, value: object) -> None:
    if not isinstance(value, PublicKey):
        raise UsageError(f"{what} must be a PublicKey, got {type(value).__name__}")


def _check_bytes(what: str, value: object, *, length: int | None = None) -> None:
    if not isinstance(value, bytes):
        raise UsageError(f"{what} must be bytes, got {type(value).__name__}")
    if length is None and not value:
        raise UsageError(f"{what} must not be empty")
    if length is not None and len(value) != length:
        raise UsageError(f"{what} must be {length} bytes, got {len(value)}")


# -- parsing helpers (remote data: DecodeError / InvalidVersion / InvalidKey) ---


def _parse_body(data: bytes, message: _M, what: str, tail: int, *required: str) -> tuple[bytes, _M]:
    """Read ``version || body || tail`` into ``message``.

    Checks the length and the version nibble, parses the protobuf body (what
    precedes ``tail`` bytes of MAC or signature) and requires ``required``.

    Returns:
        ``data`` as bytes (the message's ``serialized``), and ``message``.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise UsageError(f"{what} must be parsed from bytes, got {type(data).__name__}")
    data = bytes(data)
    if len(data) < 1 + tail + 1:
        raise DecodeError(what, f"{len(data)} bytes is too short")
    version = data[0] >> 4
    if version != CURRENT_VERSION:
        raise InvalidVersion(version, what)
    try:
        message.ParseFromString(data[1 : len(data) - tail])
    except (_PbDecodeError, ValueError, TypeError, RuntimeError) as exc:
        raise DecodeError(what, str(exc) or "malformed protobuf") from None
    for name in required:
        if not message.HasField(name):
            raise DecodeError(f"{what}.{name}", "required field is missing")
    return data, message


def _public_key(what: str, data: bytes) -> PublicKey:
    try:
        return PublicKey.deserialize(data)
    except InvalidKey as exc:
        raise InvalidKey(f"{what}: {exc}") from None


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
        _check_bytes("serialized", self.serialized)

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
        _check_bytes("mac_key", mac_key, length=32)
        _check_public_key("sender_identity", sender_identity)
        _check_public_key("receiver_identity", receiver_identity)
        _check_signal_fields(ratchet_key, counter, previous_counter, ciphertext)
        body = wire_pb2.SignalMessage(
            ratchet_key=ratchet_key.serialize(),
            counter=counter,
            previous_counter=previous_counter,
            ciphertext=ciphertext,
        ).SerializeToString()
        unsigned = _VERSION_BYTE + body
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
        data, msg = _parse_body(
            data, wire_pb2.SignalMessage(), "SignalMessage", MAC_LENGTH,
            "ratchet_key", "counter", "ciphertext",
        )  # fmt: skip
        if not msg.ciphertext:
            raise DecodeError("SignalMessage.ciphertext", "empty")
        return cls(
            ratchet_key=_public_key("SignalMessage.ratchet_key", msg.ratchet_key),
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
        _check_bytes("mac_key", mac_key, length=32)
        _check_public_key("sender_identity", sender_identity)
        _check_public_key("receiver_identity", receiver_identity)
        unsigned, theirs = self.serialized[:-MAC_LENGTH], self.serialized[-MAC_LENGTH:]
        ours = _mac(mac_key, sender_identity, receiver_identity, unsigned)
        if not constant_time_equal(ours, theirs):
            raise BadMac(f"SignalMessage MAC does not match (counter {self.counter})")


def _check_signal_fields(
    ratchet_key: object, counter: object, previous_counter: object, ciphertext: object
) -> None:
    _check_public_key("ratchet_key", ratchet_key)
    _check_uint32("counter", counter)
    _check_uint32("previous_counter", previous_counter)
    _check_bytes("ciphertext", ciphertext)


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
        _check_bytes("serialized", self.serialized)

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
            serialized=_VERSION_BYTE + body,
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
        data, msg = _parse_body(
            data, wire_pb2.PreKeySignalMessage(), "PreKeySignalMessage", 0,
            "signed_pre_key_id", "base_key", "identity_key", "message",
        )  # fmt: skip
        return cls(
            # libsignal reads an absent registrationId as 0.
            registration_id=msg.registration_id,
            pre_key_id=msg.pre_key_id if msg.HasField("pre_key_id") else None,
            signed_pre_key_id=msg.signed_pre_key_id,
            base_key=_public_key("PreKeySignalMessage.base_key", msg.base_key),
            identity_key=_public_key("PreKeySignalMessage.identity_key", msg.identity_key),
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
    _check_uint32("registration_id", registration_id)
    if pre_key_id is not None:
        _check_uint32("pre_key_id", pre_key_id)
    _check_uint32("signed_pre_key_id", signed_pre_key_id)
    _check_public_key("base_key", base_key)
    _check_public_key("identity_key", identity_key)
    if not isinstance(message, SignalMessage):
        raise UsageError(f"message must be a SignalMessage, got {type(message).__name__}")


# -- SenderKeyMessage -------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class SenderKeyMessage:
    """A group message encrypted under a sender key (type 4).

    Attributes:
        key_id: the sender key id (which distribution it belongs to).
        iteration: the sender chain iteration of its message key.
        ciphertext: AES-256-CBC ciphertext.
        serialized: the exact wire bytes, signature included.
    """

    key_id: int
    iteration: int
    ciphertext: bytes
    serialized: bytes

    def __post_init__(self) -> None:
        _check_sender_key_fields(self.key_id, self.iteration, self.ciphertext)
        _check_bytes("serialized", self.serialized)

    @property
    def signature(self) -> bytes:
        """The 64-byte XEdDSA signature at the end of :attr:`serialized`."""
        return self.serialized[-SIGNATURE_LENGTH:]

    @classmethod
    def create(
        cls,
        *,
        signing_key: PrivateKey,
        key_id: int,
        iteration: int,
        ciphertext: bytes,
        rng: Rng = default_rng,
    ) -> SenderKeyMessage:
        """Serialize a group message and sign it with the sender's signing key.

        Args:
            signing_key: the private half of the sender key's signing key.
            key_id: the sender key id.
            iteration: the chain iteration of the message key used.
            ciphertext: the encrypted body (non-empty).
            rng: source of the 64 random bytes XEdDSA needs.

        Returns:
            The message, with ``serialized`` ready for the wire.

        Raises:
            UsageError: a value is out of range or of the wrong type.
        """
        if not isinstance(signing_key, PrivateKey):
            raise UsageError(f"signing_key must be a PrivateKey, got {type(signing_key).__name__}")
        _check_sender_key_fields(key_id, iteration, ciphertext)
        body = wire_pb2.SenderKeyMessage(
            id=key_id, iteration=iteration, ciphertext=ciphertext
        ).SerializeToString()
        unsigned = _VERSION_BYTE + body
        signature = signing_key.sign(unsigned, rng)
        return cls(
            key_id=key_id,
            iteration=iteration,
            ciphertext=ciphertext,
            serialized=unsigned + signature,
        )

    @classmethod
    def parse(cls, data: bytes) -> SenderKeyMessage:
        """Read a SenderKeyMessage. The signature is not checked here; see :meth:`verify_signature`.

        Args:
            data: ``version || body || sig64``.

        Returns:
            The message; ``serialized`` is ``data``.

        Raises:
            InvalidVersion: the version nibble is not 3.
            DecodeError: too short, malformed protobuf, or ``id``,
                ``iteration`` or ``ciphertext`` missing or empty.
        """
        data, msg = _parse_body(
            data, wire_pb2.SenderKeyMessage(), "SenderKeyMessage", SIGNATURE_LENGTH,
            "id", "iteration", "ciphertext",
        )  # fmt: skip
        ciphertext = msg.ciphertext
        if not ciphertext:
            raise DecodeError("SenderKeyMessage.ciphertext", "empty")
        # Every group message passes here, and the checks __post_init__ would
        # repeat are already guaranteed: protobuf uint32 fields are ints in
        # 0..2^32-1, bytes fields are bytes, the ciphertext was just checked
        # non-empty and ``data`` is at least 66 bytes. Skipping them saves
        # more than half of the parse.
        message = object.__new__(cls)
        _set = object.__setattr__
        _set(message, "key_id", msg.id)
        _set(message, "iteration", msg.iteration)
        _set(message, "ciphertext", ciphertext)
        _set(message, "serialized", data)
        return message

    def verify_signature(self, signing_public: PublicKey) -> None:
        """Check the XEdDSA signature over ``version || body``.

        Args:
            signing_public: the sender key's public signing key.

        Raises:
            InvalidSignature: the signature does not verify.
            UsageError: ``signing_public`` is not a PublicKey.
        """
        _check_public_key("signing_public", signing_public)
        signing_public.verify(self.serialized[:-SIGNATURE_LENGTH], self.signature)


def _check_sender_key_fields(key_id: object, iteration: object, ciphertext: object) -> None:
    _check_uint32("key_id", key_id)
    _check_uint32("iteration", iteration)
    _check_bytes("ciphertext", ciphertext)


# -- SenderKeyDistributionMessage -----------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class SenderKeyDistributionMessage:
    """Hands a sender key to one group member (type 5), sent inside a pairwise session.

    Attributes:
        key_id: the sender key id.
        iteration: the chain iteration ``chain_key`` belongs to.
        chain_key: the 32-byte sender chain key at ``iteration``.
        signing_key: the public key group messages will be signed with.
        serialized: the exact wire bytes.
    """

    key_id: int
    iteration: int
    chain_key: bytes
    signing_key: PublicKey
    serialized: bytes

    def __post_init__(self) -> None:
        _check_distribution_fields(self.key_id, self.iteration, self.chain_key, self.signing_key)
        _check_bytes("serialized", self.serialized)

    @classmethod
    def create(
        cls, *, key_id: int, iteration: int, chain_key: bytes, signing_key: PublicKey
    ) -> SenderKeyDistributionMessage:
        """Serialize a distribution message.

        Args:
            key_id: the sender key id.
            iteration: the chain iteration of ``chain_key``.
            chain_key: the 32-byte chain key.
            signing_key: the public signing key.

        Returns:
            The message, with ``serialized`` ready for the wire.

        Raises:
            UsageError: a value is out of range or of the wrong type.
        """
        _check_distribution_fields(key_id, iteration, chain_key, signing_key)
        body = wire_pb2.SenderKeyDistributionMessage(
            id=key_id,
            iteration=iteration,
            chain_key=chain_key,
            signing_key=signing_key.serialize(),
        ).SerializeToString()
        return cls(
            key_id=key_id,
            iteration=iteration,
            chain_key=chain_key,
            signing_key=signing_key,
            serialized=_VERSION_BYTE + body,
        )

    @classmethod
    def parse(cls, data: bytes) -> SenderKeyDistributionMessage:
        """Read a SenderKeyDistributionMessage.

        Args:
            data: ``version || body``.

        Returns:
            The message; ``serialized`` is ``data``.

        Raises:
            InvalidVersion: the version nibble is not 3.
            DecodeError: too short, malformed protobuf, a required field
                missing, or a chain key that is not 32 bytes.
            InvalidKey: the signing key is not a 33-byte 0x05 key.
        """
        data, msg = _parse_body(
            data, wire_pb2.SenderKeyDistributionMessage(), "SenderKeyDistributionMessage", 0,
            "id", "iteration", "chain_key", "signing_key",
        )  # fmt: skip
        if len(msg.chain_key) != CHAIN_KEY_LENGTH:
            raise DecodeError(
                "SenderKeyDistributionMessage.chain_key",
                f"must be {CHAIN_KEY_LENGTH} bytes, got {len(msg.chain_key)}",
            )
        return cls(
            key_id=msg.id,
            iteration=msg.iteration,
            chain_key=msg.chain_key,
            signing_key=_public_key("SenderKeyDistributionMessage.signing_key", msg.signing_key),
            serialized=data,
        )


def _check_distribution_fields(
    key_id: object, iteration: object, chain_key: object, signing_key: object
) -> None:
    _check_uint32("key_id", key_id)
    _check_uint32("iteration", iteration)
    _check_bytes("chain_key", chain_key, length=CHAIN_KEY_LENGTH)
    _check_public_key("signing_key", signing_key)
