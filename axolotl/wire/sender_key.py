"""Sender-key (group) messages: SenderKeyMessage (type 4) and SenderKeyDistributionMessage (type 5).

* :class:`SenderKeyMessage`: ``version || body || sig64``, an XEdDSA signature
  by the sender's signing key over ``version || body``.
* :class:`SenderKeyDistributionMessage`: ``version || body``; sent inside a
  pairwise session, it hands one member the key id, iteration, chain key and
  public signing key the sender's group messages will use.

Bodies are ``SenderKeyMessage`` and ``SenderKeyDistributionMessage`` of
``proto/wire.proto``; the version byte and body parsing are in
:mod:`axolotl.wire._framing`. The group cipher itself is
:mod:`axolotl.session.group`.
"""

from __future__ import annotations

from dataclasses import dataclass

from axolotl._pb import wire_pb2
from axolotl.crypto.curve import PrivateKey, PublicKey
from axolotl.errors import DecodeError, UsageError
from axolotl.rng import Rng, default_rng
from axolotl.wire._framing import (
    VERSION_BYTE,
    check_bytes,
    check_public_key,
    check_uint32,
    parse_body,
    parse_public_key,
)

SIGNATURE_LENGTH = 64
"""Bytes of XEdDSA signature at the end of a SenderKeyMessage."""
CHAIN_KEY_LENGTH = 32
"""Bytes of a sender chain key in a SenderKeyDistributionMessage."""


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
        check_bytes("serialized", self.serialized)

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
        unsigned = VERSION_BYTE + body
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
        data, msg = parse_body(
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
        check_public_key("signing_public", signing_public)
        signing_public.verify(self.serialized[:-SIGNATURE_LENGTH], self.signature)


def _check_sender_key_fields(key_id: object, iteration: object, ciphertext: object) -> None:
    check_uint32("key_id", key_id)
    check_uint32("iteration", iteration)
    check_bytes("ciphertext", ciphertext)


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
        check_bytes("serialized", self.serialized)

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
            serialized=VERSION_BYTE + body,
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
        data, msg = parse_body(
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
            signing_key=parse_public_key(
                "SenderKeyDistributionMessage.signing_key", msg.signing_key
            ),
            serialized=data,
        )


def _check_distribution_fields(
    key_id: object, iteration: object, chain_key: object, signing_key: object
) -> None:
    check_uint32("key_id", key_id)
    check_uint32("iteration", iteration)
    check_bytes("chain_key", chain_key, length=CHAIN_KEY_LENGTH)
    check_public_key("signing_key", signing_key)
