"""A stateful property test of pairwise sessions over a hostile network, with restarts.

Two parties on SQLite stores exchange messages; hypothesis interleaves send,
deliver, drop, duplicate, reorder (delivery in any order), corrupt and
restart (close the store and reopen it from disk). Invariants: a delivered
plaintext is exactly what was sent; nothing is delivered twice; a corrupted
message fails with an AxolotlError and leaves the stored session
byte-identical -- or, when the flip hit an unauthenticated envelope field of a
prekey message, decrypts to exactly what was sent, once.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from axolotl.address import ProtocolAddress
from axolotl.errors import AxolotlError, DuplicateMessage
from axolotl.keys import (
    PreKeyBundle,
    generate_identity_key_pair,
    generate_pre_keys,
    generate_signed_pre_key,
)
from axolotl.rng import DeterministicRng
from axolotl.session import decrypt, encrypt, process_prekey_bundle
from axolotl.store.sqlite import SQLiteStore

A = ProtocolAddress("alice", 1)
B = ProtocolAddress("bob", 2)


class Sessions(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.dir = tempfile.TemporaryDirectory(prefix="axolotl-stateful-")
        self.rng = DeterministicRng(b"stateful")
        self.paths = {A: Path(self.dir.name) / "a.db", B: Path(self.dir.name) / "b.db"}
        self.stores = {
            addr: SQLiteStore.create(
                path,
                generate_identity_key_pair(self.rng),
                100 + addr.device_id,
                synchronous="NORMAL",
            )
            for addr, path in self.paths.items()
        }
        bob = self.stores[B]
        (pre,) = generate_pre_keys(1, 1, self.rng)
        signed = generate_signed_pre_key(bob.get_identity_key_pair(), 1, 0, self.rng)
        bob.store_pre_key(pre)
        bob.store_signed_pre_key(signed)
        process_prekey_bundle(
            self.stores[A],
            B,
            PreKeyBundle(
                registration_id=bob.get_local_registration_id(),
                device_id=B.device_id,
                pre_key_id=pre.id,
                pre_key_public=pre.key_pair.public_key,
                signed_pre_key_id=1,
                signed_pre_key_public=signed.key_pair.public_key,
                signed_pre_key_signature=signed.signature,
                identity_key=bob.get_identity_key_pair().public_key,
            ),
            rng=self.rng,
        )
        # in flight: (sender, type, body, plaintext id)
        self.network: list[tuple[ProtocolAddress, int, bytes, int]] = []
        self.sent: dict[int, bytes] = {}
        self.delivered: set[int] = set()
        self.next_id = 0

    def teardown(self) -> None:
        for s in self.stores.values():
            s.close()
        self.dir.cleanup()

    def _other(self, addr: ProtocolAddress) -> ProtocolAddress:
        return B if addr == A else A

    @rule(from_alice=st.booleans(), size=st.sampled_from([0, 1, 15, 16, 17, 100]))
    def send(self, from_alice: bool, size: int) -> None:
        sender = A if from_alice else B
        store = self.stores[sender]
        if not store.contains_session(self._other(sender)):
            sender = A
            store = self.stores[A]
        text = bytes([self.next_id % 256]) * size + self.next_id.to_bytes(4, "big")
        m = encrypt(store, self._other(sender), text)
        self.sent[self.next_id] = text
        self.network.append((sender, int(m.type), m.body, self.next_id))
        self.next_id += 1

    @precondition(lambda self: self.network)
    @rule(data=st.data(), keep=st.booleans())
    def deliver(self, data: st.DataObject, keep: bool) -> None:
        """Deliver any in-flight message (reordering); keep=True leaves a copy (duplicate)."""
        i = data.draw(st.integers(0, len(self.network) - 1))
        sender, kind, body, mid = self.network[i] if keep else self.network.pop(i)
        receiver = self.stores[self._other(sender)]
        try:
            text = decrypt(receiver, sender, kind, body, rng=self.rng)
        except DuplicateMessage:
            assert mid in self.delivered, f"message {mid} refused as duplicate but never delivered"
            return
        assert mid not in self.delivered, f"message {mid} delivered twice"
        assert text == self.sent[mid]
        self.delivered.add(mid)

    @precondition(lambda self: self.network)
    @rule(data=st.data())
    def drop(self, data: st.DataObject) -> None:
        self.network.pop(data.draw(st.integers(0, len(self.network) - 1)))

    @precondition(lambda self: self.network)
    @rule(data=st.data())
    def corrupt(self, data: st.DataObject) -> None:
        i = data.draw(st.integers(0, len(self.network) - 1))
        sender, kind, body, mid = self.network[i]
        pos = data.draw(st.integers(0, len(body) - 1))
        bit = data.draw(st.integers(0, 7))
        bad = bytearray(body)
        bad[pos] ^= 1 << bit
        receiver_addr = self._other(sender)
        receiver = self.stores[receiver_addr]
        before = receiver.load_session(sender), receiver.contains_pre_key(1)
        try:
            text = decrypt(receiver, sender, kind, bytes(bad), rng=self.rng)
        except AxolotlError:
            assert (receiver.load_session(sender), receiver.contains_pre_key(1)) == before
            return
        # Only the unauthenticated envelope of a prekey message (the version
        # byte's low nibble, the registration id) can change without failing,
        # and then the plaintext is still exactly what was sent.
        assert text == self.sent[mid], "a corrupted message decrypted to something else"
        assert mid not in self.delivered, f"message {mid} delivered twice"
        self.delivered.add(mid)

    @rule(alice=st.booleans())
    def restart(self, alice: bool) -> None:
        addr = A if alice else B
        self.stores[addr].close()
        self.stores[addr] = SQLiteStore.open(self.paths[addr], synchronous="NORMAL")

    @invariant()
    def delivered_only_what_was_sent(self) -> None:
        assert self.delivered <= set(self.sent)


Sessions.TestCase.settings = settings(
    max_examples=60,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestSessions = Sessions.TestCase
