"""Test parties: a protocol store with published keys, for session tests."""

from __future__ import annotations

from dataclasses import dataclass, field

from axolotl.address import ProtocolAddress
from axolotl.framing import Framing, NativeFraming
from axolotl.keys import (
    PreKeyBundle,
    generate_identity_key_pair,
    generate_pre_keys,
    generate_registration_id,
    generate_signed_pre_key,
)
from axolotl.retry._context import Context
from axolotl.retry.policy import RetryPolicy
from axolotl.rng import DeterministicRng, Rng
from axolotl.session.config import SessionConfig
from axolotl.session.trust import reject_changed_identity
from axolotl.store.base import ProtocolStore
from axolotl.store.memory import MemoryStore


@dataclass
class Party:
    """One device: its address, store and randomness."""

    address: ProtocolAddress
    store: ProtocolStore
    rng: Rng
    signed_pre_key_id: int = 1
    next_pre_key: int = field(default=1)

    @classmethod
    def memory(cls, name: str, device_id: int = 1, seed: int | str | None = None) -> Party:
        rng: Rng = DeterministicRng(seed if seed is not None else f"{name}.{device_id}")
        identity = generate_identity_key_pair(rng)
        store = MemoryStore(identity, generate_registration_id(rng))
        party = cls(ProtocolAddress(name, device_id), store, rng)
        store.store_signed_pre_key(
            generate_signed_pre_key(identity, party.signed_pre_key_id, 0, rng)
        )
        return party

    def bundle(self, with_one_time: bool = True) -> PreKeyBundle:
        """Publish a bundle, generating a fresh one-time prekey."""
        signed = self.store.load_signed_pre_key(self.signed_pre_key_id)
        pre_key_id = pre_key_public = None
        if with_one_time:
            (record,) = generate_pre_keys(self.next_pre_key, 1, self.rng)
            self.next_pre_key += 1
            self.store.store_pre_key(record)
            pre_key_id, pre_key_public = record.id, record.key_pair.public_key
        return PreKeyBundle(
            registration_id=self.store.get_local_registration_id(),
            device_id=self.address.device_id,
            pre_key_id=pre_key_id,
            pre_key_public=pre_key_public,
            signed_pre_key_id=signed.id,
            signed_pre_key_public=signed.key_pair.public_key,
            signed_pre_key_signature=signed.signature,
            identity_key=self.store.get_identity_key_pair().public_key,
        )


def talking_pair(alice_name: str = "alice", bob_name: str = "bob") -> tuple[Party, Party]:
    """Two parties with a session both ways (a prekey message, then a reply)."""
    from axolotl.session import decrypt, encrypt, process_prekey_bundle

    alice, bob = Party.memory(alice_name), Party.memory(bob_name)
    process_prekey_bundle(alice.store, bob.address, bob.bundle(), rng=alice.rng)
    first = encrypt(alice.store, bob.address, b"x" * 200)
    decrypt(bob.store, alice.address, first.type, first.body, rng=bob.rng)
    reply = encrypt(bob.store, alice.address, b"y")
    decrypt(alice.store, bob.address, reply.type, reply.body, rng=alice.rng)
    return alice, bob


def with_full_archive(data: bytes, skipped_per_chain: int) -> bytes:
    """The session record ``data`` with its archive filled to ``max_archived_states``.

    Each archived state is the current one's shape under fresh random keys
    (what a peer that re-established its session that often leaves): every
    one has ``max_receiver_chains`` receiving chains holding
    ``skipped_per_chain`` skipped keys each.
    """
    import os

    from axolotl.crypto.curve import KeyPair
    from axolotl.session import SessionRecord
    from axolotl.session.config import DEFAULT_CONFIG
    from axolotl.session.state import ReceiverChain, SenderChain, SessionState

    record = SessionRecord.deserialize(data)
    current = record.current
    assert current is not None

    def chain(index: int) -> ReceiverChain:
        skipped = {index - 1 - k: os.urandom(32) for k in range(skipped_per_chain)}
        return ReceiverChain(KeyPair.generate().public_key, os.urandom(32), index, skipped)

    def clone() -> SessionState:
        return SessionState(
            local_identity=current.local_identity,
            remote_identity=current.remote_identity,
            root_key=os.urandom(32),
            sender_chain=SenderChain(KeyPair.generate(), os.urandom(32), 7),
            local_registration_id=current.local_registration_id,
            remote_registration_id=current.remote_registration_id,
            receiver_chains=[
                chain(skipped_per_chain + 1 + i) for i in range(DEFAULT_CONFIG.max_receiver_chains)
            ],
            alice_base_key=KeyPair.generate().public_key.serialize(),
        )

    record.previous = [clone() for _ in range(DEFAULT_CONFIG.max_archived_states)]
    return record.serialize()


def retry_context(
    party: Party,
    policy: RetryPolicy | None = None,
    config: SessionConfig | None = None,
    framing: Framing | None = None,
) -> Context:
    """The retry layer's surroundings for ``party``, for tests that call its modules directly."""
    return Context(
        party.store,
        party.address,
        policy or RetryPolicy(),
        party.rng,
        reject_changed_identity,
        config or SessionConfig(),
        framing or NativeFraming(),
    )
