"""Sender keys: group messages encrypted once and signed (libsignal's group cipher).

Each member creates a sender key for a group -- key id, chain key, iteration
and an XEdDSA signing key pair -- and sends its
:class:`~axolotl.wire.SenderKeyDistributionMessage` pairwise to the others.
A :class:`~axolotl.wire.SenderKeyMessage` is AES-256-CBC under the message
key for one iteration of the chain (HMAC 0x01 for the seed, 0x02 for the
next chain key; HKDF info ``WhisperGroup`` -> IV 16 B, cipher key 32 B) and
signed by the sender. Records are keyed by (group id, sender address) and
keep up to ``max_sender_key_states`` states, newest first. Decryption is
transactional like pairwise decryption.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from google.protobuf.message import DecodeError as _PbDecodeError

from axolotl._pb import storage_pb2
from axolotl.address import ProtocolAddress
from axolotl.crypto.cipher import aes_cbc_decrypt, aes_cbc_encrypt
from axolotl.crypto.curve import KeyPair, PrivateKey, PublicKey
from axolotl.crypto.kdf import hkdf, kdf_chain
from axolotl.errors import (
    DecodeError,
    DuplicateMessage,
    FutureMessage,
    InvalidKey,
    NoSenderKey,
    RemoteError,
)
from axolotl.rng import Rng, default_rng
from axolotl.session._cache import RecordCache
from axolotl.session.config import DEFAULT_CONFIG, SessionConfig
from axolotl.store.base import ProtocolStore
from axolotl.wire import SenderKeyDistributionMessage, SenderKeyMessage

__all__ = [
    "SenderKeyRecord",
    "SenderKeyState",
    "create_sender_key_distribution",
    "process_sender_key_distribution",
    "group_encrypt",
    "group_decrypt",
]

RECORD_VERSION = 1
_MAX_KEY_ID = 0x7FFFFFFF


def sender_message_keys(seed: bytes) -> tuple[bytes, bytes]:
    """(IV, cipher key) for a sender-key message seed (HKDF info ``WhisperGroup``)."""
    okm = hkdf(seed, None, b"WhisperGroup", 48)
    return okm[:16], okm[16:]


@dataclass(slots=True)
class SenderKeyState:
    """One sender key chain of one group member.

    Attributes:
        key_id: the sender key id (31 bits).
        iteration: the next iteration of the chain.
        chain_key: the chain key at ``iteration``.
        signing_key: the sender's public signing key.
        signing_private: our private signing key, only on our own state.
        skipped: message-key seeds of skipped iterations, oldest first.
    """

    key_id: int
    iteration: int
    chain_key: bytes
    signing_key: PublicKey
    signing_private: PrivateKey | None = None
    skipped: dict[int, bytes] = field(default_factory=dict)

    def next_seed(self) -> tuple[int, bytes]:
        """Advance the chain; return (iteration used, message-key seed)."""
        seed, self.chain_key = kdf_chain(self.chain_key)
        iteration = self.iteration
        self.iteration += 1
        return iteration, seed

    def seed_for(self, iteration: int, config: SessionConfig) -> bytes:
        """The message-key seed for ``iteration``, keeping skipped ones.

        Raises:
            DuplicateMessage: ``iteration`` was already received.
            FutureMessage: ``iteration`` lies more than ``config.max_skip`` ahead.
        """
        if iteration < self.iteration:
            seed = self.skipped.pop(iteration, None)
            if seed is None:
                raise DuplicateMessage(
                    f"sender key iteration {iteration} already received "
                    f"(chain at {self.iteration})",
                    iteration,
                )
            return seed
        if iteration - self.iteration > config.max_skip:
            raise FutureMessage(
                f"sender key iteration {iteration} is {iteration - self.iteration} ahead "
                f"(limit {config.max_skip})",
                iteration,
            )
        while self.iteration < iteration:
            index, seed = self.next_seed()
            self.skipped[index] = seed
        excess = len(self.skipped) - config.max_skipped_keys
        if excess > 0:
            for old in list(self.skipped)[:excess]:
                del self.skipped[old]
        return self.next_seed()[1]


@dataclass(slots=True)
class SenderKeyRecord:
    """All sender key states of one (group, sender), newest first."""

    states: list[SenderKeyState] = field(default_factory=list)

    def state_for(self, key_id: int) -> SenderKeyState | None:
        """The state with ``key_id``, if kept."""
        for state in self.states:
            if state.key_id == key_id:
                return state
        return None

    def add(self, state: SenderKeyState, limit: int) -> None:
        """Put ``state`` first, replacing one with the same key id, keeping ``limit`` states."""
        self.states = [state, *(s for s in self.states if s.key_id != state.key_id)][:limit]

    def serialize(self) -> bytes:
        """Versioned protobuf form (``SenderKeyRecordStructure``)."""
        msg = storage_pb2.SenderKeyRecordStructure(version=RECORD_VERSION)
        for state in self.states:
            s = msg.sender_key_states.add()
            s.sender_key_id = state.key_id
            s.sender_chain_key.iteration = state.iteration
            s.sender_chain_key.seed = state.chain_key
            s.sender_signing_key.public = state.signing_key.serialize()
            if state.signing_private is not None:
                s.sender_signing_key.private = state.signing_private.raw
            for iteration, seed in state.skipped.items():
                mk = s.sender_message_keys.add()
                mk.iteration = iteration
                mk.seed = seed
        return msg.SerializeToString()

    @classmethod
    def deserialize(cls, data: bytes) -> SenderKeyRecord:
        """Read :meth:`serialize` output.

        Raises:
            DecodeError: malformed bytes or a newer format version.
        """
        msg = storage_pb2.SenderKeyRecordStructure()
        try:
            msg.ParseFromString(data)
            if msg.version > RECORD_VERSION:
                raise ValueError(f"format version {msg.version} is newer than {RECORD_VERSION}")
            states = [
                SenderKeyState(
                    key_id=s.sender_key_id,
                    iteration=s.sender_chain_key.iteration,
                    chain_key=s.sender_chain_key.seed,
                    signing_key=PublicKey.deserialize(s.sender_signing_key.public),
                    signing_private=(
                        PrivateKey(s.sender_signing_key.private)
                        if s.sender_signing_key.HasField("private")
                        else None
                    ),
                    skipped={mk.iteration: mk.seed for mk in s.sender_message_keys},
                )
                for s in msg.sender_key_states
            ]
        except (_PbDecodeError, InvalidKey, ValueError) as exc:
            raise DecodeError("SenderKeyRecord", str(exc) or "malformed protobuf") from None
        return cls(states)


_cache: RecordCache[SenderKeyRecord] = RecordCache(SenderKeyRecord.deserialize)


def _load(store: ProtocolStore, group_id: str, sender: ProtocolAddress) -> SenderKeyRecord:
    data = store.load_sender_key(group_id, sender)
    return _cache.take(data) if data is not None else SenderKeyRecord()


def _store(
    store: ProtocolStore, group_id: str, sender: ProtocolAddress, record: SenderKeyRecord
) -> None:
    data = record.serialize()
    store.store_sender_key(group_id, sender, data)
    _cache.put(data, record)


def create_sender_key_distribution(
    store: ProtocolStore,
    group_id: str,
    sender: ProtocolAddress,
    *,
    rng: Rng = default_rng,
    config: SessionConfig = DEFAULT_CONFIG,
) -> SenderKeyDistributionMessage:
    """Our distribution message for ``group_id``, creating our sender key on first use.

    Args:
        store: the protocol store.
        group_id: the group.
        sender: our own address (the key is stored under it).
        rng: randomness for a new key id, chain key and signing key.
        config: how many states to keep.

    Returns:
        The message to send pairwise to every member's device.
    """
    with store.transaction():
        record = _load(store, group_id, sender)
        if not record.states or record.states[0].signing_private is None:
            key_id = int.from_bytes(rng(4), "big") & _MAX_KEY_ID
            chain_key = rng(32)
            signing = KeyPair.generate(rng)
            record.add(
                SenderKeyState(
                    key_id=key_id,
                    iteration=0,
                    chain_key=chain_key,
                    signing_key=signing.public_key,
                    signing_private=signing.private_key,
                ),
                config.max_sender_key_states,
            )
            _store(store, group_id, sender, record)
        state = record.states[0]
        return SenderKeyDistributionMessage.create(
            key_id=state.key_id,
            iteration=state.iteration,
            chain_key=state.chain_key,
            signing_key=state.signing_key,
        )


def process_sender_key_distribution(
    store: ProtocolStore,
    group_id: str,
    sender: ProtocolAddress,
    message: SenderKeyDistributionMessage,
    *,
    config: SessionConfig = DEFAULT_CONFIG,
) -> None:
    """Store a member's sender key from its distribution message.

    A message for a sender key we already hold (same key id and signing key)
    changes nothing, whatever its iteration: at a later iteration our state
    can still derive every key the message could, plus the older ones it
    cannot; at an earlier one it would re-open used message keys (a replay).
    """
    with store.transaction():
        record = _load(store, group_id, sender)
        existing = record.state_for(message.key_id)
        if existing is not None and existing.signing_key == message.signing_key:
            return
        record.add(
            SenderKeyState(
                key_id=message.key_id,
                iteration=message.iteration,
                chain_key=message.chain_key,
                signing_key=message.signing_key,
            ),
            config.max_sender_key_states,
        )
        _store(store, group_id, sender, record)


def group_encrypt(
    store: ProtocolStore,
    group_id: str,
    sender: ProtocolAddress,
    plaintext: bytes,
    *,
    rng: Rng = default_rng,
) -> bytes:
    """Encrypt and sign ``plaintext`` with our sender key; return the SenderKeyMessage bytes.

    Raises:
        NoSenderKey: no own sender key for the group (call
            :func:`create_sender_key_distribution` first).
    """
    with store.transaction():
        record = _load(store, group_id, sender)
        state = record.states[0] if record.states else None
        if state is None or state.signing_private is None:
            raise NoSenderKey(f"no own sender key for group {group_id!r}", sender)
        iteration, seed = state.next_seed()
        iv, key = sender_message_keys(seed)
        message = SenderKeyMessage.create(
            signing_key=state.signing_private,
            key_id=state.key_id,
            iteration=iteration,
            ciphertext=aes_cbc_encrypt(key, iv, plaintext),
            rng=rng,
        )
        _store(store, group_id, sender, record)
    return message.serialized


def group_decrypt(
    store: ProtocolStore,
    group_id: str,
    sender: ProtocolAddress,
    body: bytes,
    *,
    config: SessionConfig = DEFAULT_CONFIG,
) -> bytes:
    """Verify and decrypt a SenderKeyMessage from ``sender``.

    Raises:
        NoSenderKey: no sender key for (group, sender) with the message's key id.
        InvalidSignature: the signature does not verify.
        DuplicateMessage: the iteration was already received.
        FutureMessage: the iteration lies beyond ``config.max_skip``.
        InvalidMessage: bad padding.
        DecodeError, InvalidVersion: malformed bytes.

        Every one of them names ``sender`` (``RemoteError.address``).
    """
    try:
        return _group_decrypt(store, group_id, sender, body, config)
    except RemoteError as exc:
        exc.about(sender)
        raise


def _group_decrypt(
    store: ProtocolStore, group_id: str, sender: ProtocolAddress, body: bytes, config: SessionConfig
) -> bytes:
    message = SenderKeyMessage.parse(body)
    with store.transaction():
        record = _load(store, group_id, sender)
        state = record.state_for(message.key_id)
        if state is None:
            raise NoSenderKey(
                f"no sender key {message.key_id} of {sender} for group {group_id!r}", sender
            )
        message.verify_signature(state.signing_key)
        iv, key = sender_message_keys(state.seed_for(message.iteration, config))
        plaintext = aes_cbc_decrypt(key, iv, message.ciphertext)
        _store(store, group_id, sender, record)
    return plaintext
