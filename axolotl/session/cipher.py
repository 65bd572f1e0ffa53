"""Encrypting and decrypting pairwise messages (Double Ratchet spec, sections 3.4-3.5).

Free functions over a :class:`~axolotl.store.base.ProtocolStore`, like
libsignal's ``message_encrypt`` / ``message_decrypt``. Every call is one
store transaction: load the record (a private copy), compute, store it back
only on success. After any failure the stored record is byte-identical to
before, no one-time prekey is consumed and no identity is saved.
"""

from __future__ import annotations

from dataclasses import dataclass

from axolotl.address import ProtocolAddress
from axolotl.crypto.cipher import aes_cbc_decrypt, aes_cbc_encrypt
from axolotl.crypto.curve import PublicKey
from axolotl.crypto.kdf import derive_message_keys
from axolotl.errors import (
    AxolotlError,
    DecodeError,
    DuplicateMessage,
    FutureMessage,
    InvalidMessage,
    NoSession,
    RemoteError,
)
from axolotl.rng import Rng, default_rng
from axolotl.session.builder import state_from_prekey_message
from axolotl.session.config import DEFAULT_CONFIG, SessionConfig
from axolotl.session.ratchet import (
    LocatedKey,
    TrialBudget,
    commit_message_key,
    locate_message_key,
    next_sending_seed,
)
from axolotl.session.state import (
    ReceiverChain,
    SessionRecord,
    SessionState,
    dump_record,
    load_record,
    return_record,
)
from axolotl.session.trust import TrustPolicy, reject_changed_identity
from axolotl.store.base import ProtocolStore
from axolotl.wire import MessageType, PreKeySignalMessage, SignalMessage

__all__ = ["CiphertextMessage", "DecryptedMessage", "encrypt", "decrypt", "decrypt_message"]


@dataclass(frozen=True, slots=True)
class CiphertextMessage:
    """An encrypted message ready for the wire.

    Attributes:
        type: :attr:`MessageType.PREKEY` until the peer replied, then
            :attr:`MessageType.SIGNAL`.
        body: the serialized wire message.
        counter: its counter on our sending chain.
        ratchet_key: that chain's ratchet public key (with ``counter``, where
            the message went out: a retry layer remembers it so a resend can
            name the transmission it replaces).
    """

    type: MessageType
    body: bytes
    counter: int
    ratchet_key: PublicKey


@dataclass(frozen=True, slots=True)
class DecryptedMessage:
    """A decrypted message with the ratchet position it came from.

    Attributes:
        plaintext: the message.
        counter: its counter in the sender's chain.
        previous_counter: length of the sender's previous chain.
        ratchet_key: the sender's ratchet key for this chain.
        new_session: the message (a PreKeySignalMessage) created a session.
    """

    plaintext: bytes
    counter: int
    previous_counter: int
    ratchet_key: PublicKey
    new_session: bool = False


def _load(store: ProtocolStore, address: ProtocolAddress) -> bytes:
    data = store.load_session(address)
    if data is None:
        raise NoSession(f"no session with {address}", address)
    return data


def encrypt(
    store: ProtocolStore,
    address: ProtocolAddress,
    plaintext: bytes,
) -> CiphertextMessage:
    """Encrypt ``plaintext`` for ``address`` on the current session.

    Raises:
        NoSession: there is no session with ``address``.
    """
    with store.transaction():
        record = load_record(_load(store, address))
        state = record.current
        if state is None:
            raise NoSession(f"no current session with {address}", address)
        counter, seed = next_sending_seed(state.sender_chain)
        cipher_key, mac_key, iv = derive_message_keys(seed)
        message = SignalMessage.create(
            mac_key=mac_key,
            sender_identity=state.local_identity,
            receiver_identity=state.remote_identity,
            ratchet_key=state.sender_chain.ratchet_key_pair.public_key,
            counter=counter,
            previous_counter=state.previous_counter,
            ciphertext=aes_cbc_encrypt(cipher_key, iv, plaintext),
        )
        ratchet_key = state.sender_chain.ratchet_key_pair.public_key
        result = CiphertextMessage(MessageType.SIGNAL, message.serialized, counter, ratchet_key)
        pending = state.pending_pre_key
        if pending is not None:
            prekey_message = PreKeySignalMessage.create(
                registration_id=state.local_registration_id,
                pre_key_id=pending.pre_key_id,
                signed_pre_key_id=pending.signed_pre_key_id,
                base_key=pending.base_key,
                identity_key=state.local_identity,
                message=message,
            )
            result = CiphertextMessage(
                MessageType.PREKEY, prekey_message.serialized, counter, ratchet_key
            )
        store.store_session(address, dump_record(record))
    return result


def _trial_decrypt(
    record: SessionRecord,
    message: SignalMessage,
    address: ProtocolAddress,
    rng: Rng,
    config: SessionConfig,
) -> tuple[LocatedKey, bytes]:
    """Trial decryption over the record's states, none of them changed.

    States with a chain for the message's ratchet key go first (the current
    one, then the archive, newest first), then those that would need a DH
    ratchet step, in the same order. All trials share one
    :class:`~axolotl.session.ratchet.TrialBudget`. The error reported is the
    first one met, so a duplicate on the chain the message names is reported
    as such.
    """
    states = record.states()
    if not states:
        raise NoSession(f"no session with {address}", address)
    key = message.ratchet_key
    with_chain: list[tuple[SessionState, ReceiverChain | None]] = []
    without: list[tuple[SessionState, ReceiverChain | None]] = []
    for state in states:
        chain = state.receiver_chain(key)
        (without if chain is None else with_chain).append((state, chain))
    budget = TrialBudget(config)
    first_error: AxolotlError | None = None
    for state, chain in with_chain + without:
        try:
            located = locate_message_key(state, chain, key, message.counter, rng, config, budget)
            cipher_key, mac_key, iv = derive_message_keys(located.seed)
            message.verify_mac(
                sender_identity=state.remote_identity,
                receiver_identity=state.local_identity,
                mac_key=mac_key,
            )
            return located, aes_cbc_decrypt(cipher_key, iv, message.ciphertext)
        except (InvalidMessage, DuplicateMessage, FutureMessage) as exc:
            first_error = first_error or exc
    assert first_error is not None
    raise first_error


def _commit(record: SessionRecord, located: LocatedKey, config: SessionConfig) -> None:
    """The message decrypted on ``located.state``: use its key and make that state current."""
    commit_message_key(located, config)
    located.state.pending_pre_key = None
    record.make_current(located.state, config.max_archived_states)


def decrypt_message(
    store: ProtocolStore,
    address: ProtocolAddress,
    message_type: int,
    body: bytes,
    *,
    trust: TrustPolicy = reject_changed_identity,
    rng: Rng = default_rng,
    config: SessionConfig = DEFAULT_CONFIG,
) -> DecryptedMessage:
    """Decrypt a SignalMessage (type 2) or PreKeySignalMessage (type 3) from ``address``.

    Args:
        store: the protocol store.
        address: the sender's device.
        message_type: the envelope's message type (2 or 3).
        body: the serialized wire message.
        trust: policy for an identity key that changed (prekey messages).
        rng: randomness for the DH ratchet step.
        config: skip and retention bounds.

    Returns:
        The plaintext with its ratchet position.

    Raises:
        NoSession: no session, and the message is not a prekey message.
        InvalidMessage: undecryptable (:class:`~axolotl.errors.BadMac` among them).
        DuplicateMessage: the counter was already received.
        FutureMessage: the counter lies beyond ``config.max_skip``.
        InvalidKeyId: a prekey message names a prekey we do not have.
        UntrustedIdentity: a prekey message carries a refused identity key.
        InvalidVersion, DecodeError, InvalidKey: malformed bytes.

        Every one of them names ``address`` (``RemoteError.address``).
    """
    try:
        return _decrypt_message(store, address, message_type, body, trust, rng, config)
    except RemoteError as exc:
        exc.about(address)
        raise


def _decrypt_message(
    store: ProtocolStore,
    address: ProtocolAddress,
    message_type: int,
    body: bytes,
    trust: TrustPolicy,
    rng: Rng,
    config: SessionConfig,
) -> DecryptedMessage:
    if message_type == MessageType.SIGNAL:
        signal = SignalMessage.parse(body)
        with store.transaction():
            data = _load(store, address)
            record = load_record(data)
            try:
                located, plaintext = _trial_decrypt(record, signal, address, rng, config)
            except AxolotlError:
                return_record(data, record)
                raise
            _commit(record, located, config)
            store.store_session(address, dump_record(record))
        return DecryptedMessage(
            plaintext, signal.counter, signal.previous_counter, signal.ratchet_key
        )
    if message_type == MessageType.PREKEY:
        prekey = PreKeySignalMessage.parse(body)
        with store.transaction():
            stored = store.load_session(address)
            record = load_record(stored) if stored is not None else SessionRecord()
            created = False
            try:
                created, used_pre_key, stored_identity = state_from_prekey_message(
                    store, address, record, prekey, trust, config
                )
                located, plaintext = _trial_decrypt(record, prekey.message, address, rng, config)
                # The MAC binds the identity of the state that decrypted: only
                # that one is saved, and only when it is the one the message
                # names (which the trust policy has accepted).
                if located.state.remote_identity != prekey.identity_key:
                    raise InvalidMessage(
                        f"prekey message from {address}: its identity key is not the one of "
                        "the session that decrypts it (the unauthenticated field was altered)"
                    )
            except AxolotlError:
                if stored is not None and not created:
                    return_record(stored, record)
                raise
            _commit(record, located, config)
            if stored_identity != located.state.remote_identity:  # else it is stored already
                store.save_identity(address, located.state.remote_identity)
            store.store_session(address, dump_record(record))
            if used_pre_key is not None:
                store.remove_pre_key(used_pre_key)
        m = prekey.message
        return DecryptedMessage(plaintext, m.counter, m.previous_counter, m.ratchet_key, created)
    raise DecodeError("message type", f"{message_type} is not a pairwise message type (2 or 3)")


def decrypt(
    store: ProtocolStore,
    address: ProtocolAddress,
    message_type: int,
    body: bytes,
    *,
    trust: TrustPolicy = reject_changed_identity,
    rng: Rng = default_rng,
    config: SessionConfig = DEFAULT_CONFIG,
) -> bytes:
    """Decrypt and return only the plaintext; see :func:`decrypt_message`."""
    return decrypt_message(
        store, address, message_type, body, trust=trust, rng=rng, config=config
    ).plaintext
