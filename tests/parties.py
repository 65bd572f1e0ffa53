"""Test parties: a protocol store with published keys, for session tests."""

from __future__ import annotations

from dataclasses import dataclass, field

from axolotl.address import ProtocolAddress
from axolotl.keys import (
    PreKeyBundle,
    generate_identity_key_pair,
    generate_pre_keys,
    generate_registration_id,
    generate_signed_pre_key,
)
from axolotl.rng import DeterministicRng, Rng
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
