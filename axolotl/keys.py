"""Identity keys, prekeys, signed prekeys, prekey bundles and registration ids.

These are the long- and medium-term keys of X3DH (Signal's X3DH spec, section
2.2 "Keys" and 3.2 "Publishing keys"): an identity key pair per installation,
a signed prekey rotated now and then, and a batch of one-time prekeys. A
:class:`PreKeyBundle` is what a server hands out so a peer can start a session.
Records serialise to the versioned protobuf structures in ``proto/storage.proto``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from google.protobuf.message import DecodeError as _PbDecodeError
from google.protobuf.message import Message as _PbMessage

from axolotl._pb import storage_pb2
from axolotl.address import ProtocolAddress
from axolotl.crypto.curve import KeyPair, PrivateKey, PublicKey
from axolotl.errors import DecodeError, InvalidKey, UsageError
from axolotl.rng import Rng, default_rng

__all__ = [
    "IdentityKeyPair",
    "KeyPair",
    "PreKeyBundle",
    "PreKeyRecord",
    "ProtocolAddress",
    "PublicKey",
    "SignedPreKeyRecord",
    "generate_identity_key_pair",
    "generate_pre_keys",
    "generate_registration_id",
    "generate_signed_pre_key",
    "MAX_KEY_ID",
    "MAX_REGISTRATION_ID",
]

RECORD_VERSION = 1
_R = TypeVar("_R")
MAX_KEY_ID = 0xFFFFFF
"""Prekey ids travel as 3 bytes (retry receipts) and wrap at 2^24 - 1, as in libsignal."""
MAX_REGISTRATION_ID = 16380
"""libsignal and deployed clients draw registration ids from 1..16380 (14 bits)."""


_UINT32_MAX = 0xFFFFFFFF
_UINT64_MAX = 0xFFFFFFFFFFFFFFFF
SIGNATURE_LENGTH = 64


def _check_int(what: str, value: object, high: int) -> None:
    # bool is an int to Python but never a key id or timestamp.
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= high:
        raise UsageError(f"{what} must be an integer in 0..{high}, got {value!r}")


def _check_key_id(what: str, key_id: object) -> None:
    _check_int(what, key_id, MAX_KEY_ID)


def _check_instance(what: str, value: object, cls: type) -> None:
    if not isinstance(value, cls):
        raise UsageError(f"{what} must be a {cls.__name__}, got {type(value).__name__}")


def _check_signature(what: str, value: object) -> None:
    if not isinstance(value, bytes) or len(value) != SIGNATURE_LENGTH:
        got = f"{len(value)} bytes" if isinstance(value, bytes) else type(value).__name__
        raise UsageError(f"{what} must be {SIGNATURE_LENGTH} bytes, got {got}")


def _record(what: str, build: Callable[[], _R]) -> _R:
    """Build a record from decoded values: a value out of range is a bad record, not misuse."""
    try:
        return build()
    except UsageError as exc:
        raise DecodeError(what, str(exc)) from None


def _parse(message: _PbMessage, data: bytes, what: str) -> None:
    try:
        message.ParseFromString(data)
    except (_PbDecodeError, ValueError, TypeError) as exc:
        raise DecodeError(what, str(exc) or "malformed protobuf") from None
    version = getattr(message, "version", RECORD_VERSION)
    if version > RECORD_VERSION:
        raise DecodeError(what, f"record format version {version} is newer than {RECORD_VERSION}")


def _keypair_from(public: bytes, private: bytes, what: str) -> KeyPair:
    try:
        pair = KeyPair(PublicKey.deserialize(public), PrivateKey(private))
    except InvalidKey as exc:
        raise DecodeError(what, str(exc)) from None
    if pair.private_key.public_key() != pair.public_key:
        raise DecodeError(what, "public key does not match private key")
    return pair


@dataclass(frozen=True, slots=True)
class IdentityKeyPair:
    """An installation's long-term identity key pair."""

    public_key: PublicKey
    private_key: PrivateKey

    def sign(self, message: bytes, rng: Rng = default_rng) -> bytes:
        """XEdDSA-sign ``message`` with the identity key."""
        return self.private_key.sign(message, rng)

    def serialize(self) -> bytes:
        """Versioned protobuf form (``IdentityKeyPairStructure``)."""
        return storage_pb2.IdentityKeyPairStructure(
            version=RECORD_VERSION,
            public_key=self.public_key.serialize(),
            private_key=self.private_key.raw,
        ).SerializeToString()

    @classmethod
    def deserialize(cls, data: bytes) -> IdentityKeyPair:
        """Read :meth:`serialize` output.

        Raises:
            DecodeError: malformed, newer format, or mismatched keys.
        """
        msg = storage_pb2.IdentityKeyPairStructure()
        _parse(msg, data, "IdentityKeyPair")
        pair = _keypair_from(msg.public_key, msg.private_key, "IdentityKeyPair")
        return cls(pair.public_key, pair.private_key)


@dataclass(frozen=True, slots=True)
class PreKeyRecord:
    """A one-time prekey (X3DH ``OPK``) with its id."""

    id: int
    key_pair: KeyPair

    def __post_init__(self) -> None:
        _check_key_id("prekey id", self.id)
        _check_instance("prekey key pair", self.key_pair, KeyPair)

    def serialize(self) -> bytes:
        """Versioned protobuf form (``PreKeyRecordStructure``)."""
        return storage_pb2.PreKeyRecordStructure(
            version=RECORD_VERSION,
            id=self.id,
            public_key=self.key_pair.public_key.serialize(),
            private_key=self.key_pair.private_key.raw,
        ).SerializeToString()

    @classmethod
    def deserialize(cls, data: bytes) -> PreKeyRecord:
        """Read :meth:`serialize` output.

        Raises:
            DecodeError: malformed, newer format, or mismatched keys.
        """
        msg = storage_pb2.PreKeyRecordStructure()
        _parse(msg, data, "PreKeyRecord")
        pair = _keypair_from(msg.public_key, msg.private_key, "PreKeyRecord")
        return _record("PreKeyRecord", lambda: cls(msg.id, pair))


@dataclass(frozen=True, slots=True)
class SignedPreKeyRecord:
    """A signed prekey (X3DH ``SPK``): key pair, identity signature and creation time."""

    id: int
    key_pair: KeyPair
    signature: bytes
    timestamp: int

    def __post_init__(self) -> None:
        _check_key_id("signed prekey id", self.id)
        _check_instance("signed prekey key pair", self.key_pair, KeyPair)
        _check_signature("signed prekey signature", self.signature)
        _check_int("signed prekey timestamp", self.timestamp, _UINT64_MAX)

    def serialize(self) -> bytes:
        """Versioned protobuf form (``SignedPreKeyRecordStructure``)."""
        return storage_pb2.SignedPreKeyRecordStructure(
            version=RECORD_VERSION,
            id=self.id,
            public_key=self.key_pair.public_key.serialize(),
            private_key=self.key_pair.private_key.raw,
            signature=self.signature,
            timestamp=self.timestamp,
        ).SerializeToString()

    @classmethod
    def deserialize(cls, data: bytes) -> SignedPreKeyRecord:
        """Read :meth:`serialize` output.

        Raises:
            DecodeError: malformed, newer format, or mismatched keys.
        """
        msg = storage_pb2.SignedPreKeyRecordStructure()
        _parse(msg, data, "SignedPreKeyRecord")
        pair = _keypair_from(msg.public_key, msg.private_key, "SignedPreKeyRecord")
        signature = bytes(msg.signature)
        return _record("SignedPreKeyRecord", lambda: cls(msg.id, pair, signature, msg.timestamp))


@dataclass(frozen=True, slots=True, kw_only=True)
class PreKeyBundle:
    """What a peer publishes so others can start a session with it (X3DH 3.2).

    Attributes:
        registration_id: the peer's registration id.
        device_id: the peer's device id.
        pre_key_id: one-time prekey id, or ``None`` when the server ran out.
        pre_key_public: the one-time prekey, or ``None``.
        signed_pre_key_id: signed prekey id.
        signed_pre_key_public: the signed prekey.
        signed_pre_key_signature: XEdDSA signature of the identity key over
            the serialised signed prekey (33 bytes with the type byte).
        identity_key: the peer's identity public key.

    Raises:
        UsageError: a field has the wrong type or is out of range (ids are
            24-bit, the registration and device ids 32-bit, the signature 64
            bytes, keys :class:`PublicKey`); the message names the field.
    """

    registration_id: int
    device_id: int
    pre_key_id: int | None
    pre_key_public: PublicKey | None
    signed_pre_key_id: int
    signed_pre_key_public: PublicKey
    signed_pre_key_signature: bytes
    identity_key: PublicKey

    def __post_init__(self) -> None:
        # Every field is checked here: a bundle comes from a server or a retry
        # receipt, and a wrong type must not surface later as a TypeError deep
        # in X3DH.
        _check_int("PreKeyBundle.registration_id", self.registration_id, _UINT32_MAX)
        _check_int("PreKeyBundle.device_id", self.device_id, _UINT32_MAX)
        if (self.pre_key_id is None) != (self.pre_key_public is None):
            raise UsageError(
                "PreKeyBundle.pre_key_id and pre_key_public must both be set or both be None"
            )
        if self.pre_key_id is not None:
            _check_key_id("PreKeyBundle.pre_key_id", self.pre_key_id)
            _check_instance("PreKeyBundle.pre_key_public", self.pre_key_public, PublicKey)
        _check_key_id("PreKeyBundle.signed_pre_key_id", self.signed_pre_key_id)
        _check_instance("PreKeyBundle.signed_pre_key_public", self.signed_pre_key_public, PublicKey)
        _check_signature("PreKeyBundle.signed_pre_key_signature", self.signed_pre_key_signature)
        _check_instance("PreKeyBundle.identity_key", self.identity_key, PublicKey)

    def verify_signature(self) -> None:
        """Check the identity key's signature over the signed prekey.

        Raises:
            InvalidSignature: it does not verify.
        """
        self.identity_key.verify(
            self.signed_pre_key_public.serialize(), self.signed_pre_key_signature
        )


def generate_registration_id(rng: Rng = default_rng) -> int:
    """A registration id in 1..16380, the range libsignal and deployed clients use."""
    return int.from_bytes(rng(4), "big") % MAX_REGISTRATION_ID + 1


def generate_identity_key_pair(rng: Rng = default_rng) -> IdentityKeyPair:
    """A fresh identity key pair."""
    pair = KeyPair.generate(rng)
    return IdentityKeyPair(pair.public_key, pair.private_key)


def generate_pre_keys(start: int, count: int, rng: Rng = default_rng) -> list[PreKeyRecord]:
    """``count`` one-time prekeys with ids from ``start``, wrapping within 1..2^24-1."""
    if count < 0:
        raise UsageError("count must be >= 0")
    return [
        PreKeyRecord((start - 1 + i) % (MAX_KEY_ID - 1) + 1, KeyPair.generate(rng))
        for i in range(count)
    ]


def generate_signed_pre_key(
    identity: IdentityKeyPair, key_id: int, timestamp_ms: int, rng: Rng = default_rng
) -> SignedPreKeyRecord:
    """A signed prekey: a fresh pair signed by ``identity`` (signature over its 33-byte form)."""
    pair = KeyPair.generate(rng)
    signature = identity.sign(pair.public_key.serialize(), rng)
    return SignedPreKeyRecord(key_id, pair, signature, timestamp_ms)
