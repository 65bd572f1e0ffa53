"""Starting sessions: from a prekey bundle (initiator) or a PreKeySignalMessage (responder).

X3DH spec, section 3.2 (publishing keys: :func:`new_bundle`), 3.3 (sending
the initial message) and 3.4 (receiving it).
The responder side is used by :mod:`axolotl.session.cipher` inside the same
transaction as the decryption, so a prekey message that fails to decrypt
neither consumes the one-time prekey nor stores a session.
"""

from __future__ import annotations

from axolotl.address import ProtocolAddress
from axolotl.crypto.curve import KeyPair, PublicKey
from axolotl.errors import InvalidMessage
from axolotl.keys import PreKeyBundle, generate_pre_keys
from axolotl.rng import Rng, default_rng
from axolotl.session.config import DEFAULT_CONFIG, SessionConfig
from axolotl.session.state import PendingPreKey, SessionRecord, SessionState
from axolotl.session.trust import TrustPolicy, check_identity, reject_changed_identity
from axolotl.session.x3dh import initialize_alice, initialize_bob
from axolotl.store.base import ProtocolStore
from axolotl.wire import PreKeySignalMessage

__all__ = ["new_bundle", "process_prekey_bundle", "state_from_prekey_message"]


def new_bundle(store: ProtocolStore, device_id: int, rng: Rng = default_rng) -> PreKeyBundle | None:
    """A bundle of ours to publish (X3DH 3.2): a fresh one-time prekey and our newest signed prekey.

    The one-time prekey gets the store's next prekey id and is stored, so the
    session it starts can be accepted.

    Args:
        store: our store (it must hold a signed prekey).
        device_id: our device id, as the bundle names it.
        rng: randomness for the one-time prekey.

    Returns:
        The bundle, or ``None`` when the store holds no signed prekey (store
        one first; nothing was generated or stored).
    """
    signed = store.load_signed_pre_keys()
    if not signed:
        return None
    newest = max(signed, key=lambda r: (r.timestamp, r.id))
    (pre_key,) = generate_pre_keys(store.next_pre_key_id(), 1, rng)
    store.store_pre_key(pre_key)
    return PreKeyBundle(
        registration_id=store.get_local_registration_id(),
        device_id=device_id,
        pre_key_id=pre_key.id,
        pre_key_public=pre_key.key_pair.public_key,
        signed_pre_key_id=newest.id,
        signed_pre_key_public=newest.key_pair.public_key,
        signed_pre_key_signature=newest.signature,
        identity_key=store.get_identity_key_pair().public_key,
    )


def process_prekey_bundle(
    store: ProtocolStore,
    address: ProtocolAddress,
    bundle: PreKeyBundle,
    *,
    trust: TrustPolicy = reject_changed_identity,
    rng: Rng = default_rng,
    config: SessionConfig = DEFAULT_CONFIG,
) -> None:
    """Build a new session with ``address`` from its published bundle (X3DH 3.3).

    The signed prekey's signature is verified first. Any existing session is
    archived (it stays usable for decrypting late messages). Until the peer
    replies, :func:`~axolotl.session.cipher.encrypt` produces
    PreKeySignalMessages.

    Raises:
        InvalidSignature: the signed prekey signature does not verify.
        UntrustedIdentity: the bundle's identity key differs from the stored
            one and ``trust`` refused it.
    """
    check_identity(store, address, bundle.identity_key, trust)
    bundle.verify_signature()
    # The draw order (base key, then ratchet key) matches python-axolotl, so a
    # transcript of random draws replays against it.
    base_key = KeyPair.generate(rng)
    sending_key = KeyPair.generate(rng)
    state = initialize_alice(
        our_identity=store.get_identity_key_pair(),
        our_base_key=base_key,
        their_identity=bundle.identity_key,
        their_signed_pre_key=bundle.signed_pre_key_public,
        their_one_time_pre_key=bundle.pre_key_public,
        sending_ratchet_key=sending_key,
        local_registration_id=store.get_local_registration_id(),
    )
    state.pending_pre_key = PendingPreKey(
        bundle.pre_key_id, bundle.signed_pre_key_id, base_key.public_key
    )
    state.remote_registration_id = bundle.registration_id
    state.alice_base_key = base_key.public_key.serialize()
    with store.transaction():
        data = store.load_session(address)
        record = SessionRecord.deserialize(data) if data is not None else SessionRecord()
        record.archive_current(config.max_archived_states)
        record.current = state
        store.store_session(address, record.serialize())
        store.save_identity(address, bundle.identity_key)


def state_from_prekey_message(
    store: ProtocolStore,
    address: ProtocolAddress,
    record: SessionRecord,
    message: PreKeySignalMessage,
    trust: TrustPolicy,
    config: SessionConfig,
) -> tuple[bool, int | None, PublicKey | None]:
    """Install the responder's session for ``message`` in ``record`` (X3DH 3.4).

    A message whose base key built a state already (a replay, or the
    initiator's later prekey messages) changes nothing; its identity key
    must then be the one that state was built with. That field lies outside
    the MAC, so this check comes first: a forged identity key never reaches
    the trust policy, and only an identity the decrypting session binds is
    ever saved (see :func:`~axolotl.session.cipher.decrypt_message`).

    Returns:
        (whether a new state was installed, the one-time prekey id the caller
        must remove once the message decrypted or ``None``, the identity
        stored for ``address`` before this message or ``None``).

    Raises:
        InvalidMessage: the base key built a state with another identity key
            (the field was altered in transit).
        UntrustedIdentity: the message's identity key was refused.
        InvalidKeyId: the signed prekey or one-time prekey is unknown.
    """
    known = record.state_with_base_key(message.base_key)
    if known is not None and known.remote_identity != message.identity_key:
        raise InvalidMessage(
            f"prekey message from {address}: its identity key differs from the one of the "
            "session its base key built (the unauthenticated field was altered)"
        )
    stored = check_identity(store, address, message.identity_key, trust)
    if known is not None:
        return False, None, stored
    signed = store.load_signed_pre_key(message.signed_pre_key_id)
    one_time = (
        store.load_pre_key(message.pre_key_id).key_pair if message.pre_key_id is not None else None
    )
    state: SessionState = initialize_bob(
        our_identity=store.get_identity_key_pair(),
        our_signed_pre_key=signed.key_pair,
        our_one_time_pre_key=one_time,
        their_identity=message.identity_key,
        their_base_key=message.base_key,
        local_registration_id=store.get_local_registration_id(),
        remote_registration_id=message.registration_id,
    )
    record.archive_current(config.max_archived_states)
    record.current = state
    return True, message.pre_key_id, stored
