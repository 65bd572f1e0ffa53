"""X3DH key agreement, Signal v3 flavour (X3DH spec, sections 3.3 and 3.4).

The master secret is ``0xFF * 32 || DH1 || DH2 || DH3 [|| DH4]`` (the 32
0xFF bytes are the "discontinuity bytes" that keep v3 secrets apart from
Curve25519 signatures), expanded with HKDF (info ``WhisperText``) into the
first root key and chain key. Then the initiator ("Alice") takes one DH
ratchet step against the responder's signed prekey, which doubles as the
responder's first ratchet key.
"""

from __future__ import annotations

from axolotl.crypto.curve import KeyPair, PublicKey
from axolotl.crypto.kdf import hkdf, kdf_root
from axolotl.keys import IdentityKeyPair
from axolotl.session.state import ReceiverChain, SenderChain, SessionState

__all__ = ["initialize_alice", "initialize_bob"]

_DISCONTINUITY = b"\xff" * 32


def _derive(secrets: bytes) -> tuple[bytes, bytes]:
    derived = hkdf(secrets, None, b"WhisperText", 64)
    return derived[:32], derived[32:]


def initialize_alice(
    *,
    our_identity: IdentityKeyPair,
    our_base_key: KeyPair,
    their_identity: PublicKey,
    their_signed_pre_key: PublicKey,
    their_one_time_pre_key: PublicKey | None,
    sending_ratchet_key: KeyPair,
    local_registration_id: int,
) -> SessionState:
    """The initiator's session after X3DH (X3DH 3.3) and its first ratchet step.

    Args:
        our_identity: our identity key pair (IK_A).
        our_base_key: our fresh ephemeral "base" key (EK_A).
        their_identity: the responder's identity key (IK_B).
        their_signed_pre_key: the responder's signed prekey (SPK_B), also
            their first ratchet key.
        their_one_time_pre_key: the responder's one-time prekey (OPK_B), if any.
        sending_ratchet_key: our first ratchet key pair.
        local_registration_id: our registration id.

    Returns:
        A state with one receiving chain (for SPK_B) and a sending chain.
    """
    secrets = (
        _DISCONTINUITY
        + our_identity.private_key.agree(their_signed_pre_key)
        + our_base_key.private_key.agree(their_identity)
        + our_base_key.private_key.agree(their_signed_pre_key)
    )
    if their_one_time_pre_key is not None:
        secrets += our_base_key.private_key.agree(their_one_time_pre_key)
    root_key, chain_key = _derive(secrets)
    new_root, sending_chain_key = kdf_root(
        root_key, sending_ratchet_key.private_key.agree(their_signed_pre_key)
    )
    return SessionState(
        local_identity=our_identity.public_key,
        remote_identity=their_identity,
        root_key=new_root,
        sender_chain=SenderChain(sending_ratchet_key, sending_chain_key, 0),
        receiver_chains=[ReceiverChain(their_signed_pre_key, chain_key, 0)],
        local_registration_id=local_registration_id,
    )


def initialize_bob(
    *,
    our_identity: IdentityKeyPair,
    our_signed_pre_key: KeyPair,
    our_one_time_pre_key: KeyPair | None,
    their_identity: PublicKey,
    their_base_key: PublicKey,
    local_registration_id: int,
    remote_registration_id: int,
) -> SessionState:
    """The responder's session after X3DH (X3DH 3.4).

    Our signed prekey pair is our first ratchet key; the sending chain starts
    from the X3DH chain key and the first receiving chain appears with the
    initiator's first ratchet key.
    """
    secrets = (
        _DISCONTINUITY
        + our_signed_pre_key.private_key.agree(their_identity)
        + our_identity.private_key.agree(their_base_key)
        + our_signed_pre_key.private_key.agree(their_base_key)
    )
    if our_one_time_pre_key is not None:
        secrets += our_one_time_pre_key.private_key.agree(their_base_key)
    root_key, chain_key = _derive(secrets)
    return SessionState(
        local_identity=our_identity.public_key,
        remote_identity=their_identity,
        root_key=root_key,
        sender_chain=SenderChain(our_signed_pre_key, chain_key, 0),
        local_registration_id=local_registration_id,
        remote_registration_id=remote_registration_id,
        alice_base_key=their_base_key.serialize(),
    )
