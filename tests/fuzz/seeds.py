"""Valid seeds, produced by the library itself, and the stores they are aimed at.

:func:`world` builds (once per process, deterministically) two established
devices and what passed between them:

* Alice -> Bob pairwise: three prekey messages on Alice's first base key (Bob
  read the first), a reply, a run of SignalMessages of which Bob read some
  (the others left skipped keys), then a second session (Bob's first state is
  archived) with prekey messages on its base key and a message 1,999
  counters ahead (the furthest ``max_skip`` allows). Mallory, a third
  identity, wrote one prekey message to Bob as well.
* Alice's sender key in group ``fuzz-group``: its distribution message (Bob
  processed it) and group messages of which Bob read some, plus one 1,999
  iterations ahead.
* Retry receipts of both directions, with and without key bundles, pairwise
  and group, as entities (and from them nodes, text and protobuf bytes).

Bob's store, as it is after all that, is what the decrypt targets attack.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from axolotl.keys import IdentityKeyPair, PreKeyBundle
from axolotl.receipts import (
    DecryptionErrorMessage,
    IncomingRetryReceipt,
    OutgoingRetryReceipt,
    RetryReason,
    key_bundle_from_prekey_bundle,
)
from axolotl.session import (
    create_sender_key_distribution,
    decrypt,
    encrypt,
    group_decrypt,
    group_encrypt,
    process_prekey_bundle,
    process_sender_key_distribution,
)
from axolotl.session.group import SenderKeyRecord
from axolotl.store.memory import MemoryStore
from axolotl.wire import MessageType
from tests.parties import Party

__all__ = ["GROUP", "World", "world"]

GROUP = "fuzz-group"
_FAR = 1999  # counters ahead of the receiver: just inside SessionConfig.max_skip (2000)


@dataclass(frozen=True, slots=True, kw_only=True)
class World:
    """Everything the targets start from (treat as read-only; stores are snapshotted)."""

    alice: Party
    bob: Party
    mallory: Party
    pairwise: tuple[tuple[int, bytes], ...]
    """(message type, body) Alice (and one Mallory) sent Bob: read, unread and duplicates."""
    group: tuple[bytes, ...]
    """SenderKeyMessages from Alice in :data:`GROUP`."""
    distributions: tuple[bytes, ...]
    """SenderKeyDistributionMessages (Alice's, and a fresh one of Mallory's)."""
    alice_signing: IdentityKeyPair
    """Alice's sender-key signing pair (a hostile member re-signs what it mutates)."""
    receipts: tuple[OutgoingRetryReceipt | IncomingRetryReceipt, ...]
    bob_bundle: PreKeyBundle
    """A bundle Bob published (Alice holds a session with Bob already)."""
    bob_identity: IdentityKeyPair
    mallory_identity: IdentityKeyPair
    dems: tuple[DecryptionErrorMessage, ...]
    keys: tuple[bytes, ...]
    """Real 33-byte public keys of all parties: a dictionary for value transplants."""

    @property
    def bob_store(self) -> MemoryStore:
        """Bob's store (the decrypt targets' victim)."""
        store = self.bob.store
        assert isinstance(store, MemoryStore)
        return store

    @property
    def alice_store(self) -> MemoryStore:
        """Alice's store (the bundle targets' victim)."""
        store = self.alice.store
        assert isinstance(store, MemoryStore)
        return store


def _send(a: Party, b: Party, text: bytes) -> tuple[int, bytes]:
    msg = encrypt(a.store, b.address, text)
    return int(msg.type), msg.body


def _recv(b: Party, a: Party, m: tuple[int, bytes]) -> bytes:
    return decrypt(b.store, a.address, m[0], m[1], rng=b.rng)


def _pairwise(alice: Party, bob: Party, mallory: Party) -> list[tuple[int, bytes]]:
    out: list[tuple[int, bytes]] = []
    process_prekey_bundle(alice.store, bob.address, bob.bundle(), rng=alice.rng)
    p = [_send(alice, bob, b"prekey %d" % i) for i in range(3)]
    assert all(m[0] == MessageType.PREKEY for m in p)
    _recv(bob, alice, p[0])
    _recv(alice, bob, _send(bob, alice, b"reply"))
    s = [_send(alice, bob, b"signal %d" % i) for i in range(8)]
    for i in (0, 2, 5):
        _recv(bob, alice, s[i])
    # A second session: Bob's first state (with its skipped keys) is archived.
    process_prekey_bundle(alice.store, bob.address, bob.bundle(), rng=alice.rng)
    q = [_send(alice, bob, b"second session %d" % i) for i in range(2)]
    _recv(bob, alice, q[0])
    _recv(alice, bob, _send(bob, alice, b"reply 2"))
    t = [_send(alice, bob, b"third %d" % i) for i in range(3)]
    _recv(bob, alice, t[0])
    far = t[-1]
    for _ in range(_FAR):
        far = _send(alice, bob, b"far ahead")
    out += p + s + q + t + [far]
    # Mallory, claiming to be Alice: a prekey message under another identity.
    process_prekey_bundle(mallory.store, bob.address, bob.bundle(), rng=mallory.rng)
    out.append(_send(mallory, bob, b"from mallory"))
    return out


def _group(
    alice: Party, bob: Party, mallory: Party
) -> tuple[list[bytes], list[bytes], IdentityKeyPair]:
    skdm = create_sender_key_distribution(alice.store, GROUP, alice.address, rng=alice.rng)
    process_sender_key_distribution(bob.store, GROUP, alice.address, skdm)
    g = [
        group_encrypt(alice.store, GROUP, alice.address, b"group %d" % i, rng=alice.rng)
        for i in range(6)
    ]
    for i in (0, 2):
        group_decrypt(bob.store, GROUP, alice.address, g[i])
    far = g[-1]
    for _ in range(_FAR):
        far = group_encrypt(alice.store, GROUP, alice.address, b"far", rng=alice.rng)
    other = create_sender_key_distribution(mallory.store, GROUP, mallory.address, rng=mallory.rng)
    data = alice.store.load_sender_key(GROUP, alice.address)
    assert data is not None
    state = SenderKeyRecord.deserialize(data).states[0]
    assert state.signing_private is not None
    signing = IdentityKeyPair(state.signing_key, state.signing_private)
    return [*g, far], [skdm.serialized, other.serialized], signing


def _receipts(
    bob: Party, bundle: PreKeyBundle
) -> list[OutgoingRetryReceipt | IncomingRetryReceipt]:
    reg = bob.store.get_local_registration_id()
    keys = key_bundle_from_prekey_bundle(bundle, device_identity=b"\x0a\x20" + bytes(range(32)))
    plain = OutgoingRetryReceipt.for_failed_message(
        message_id="3EB0C127D7BACC83D6A1", sender="491234@s.whatsapp.net",
        timestamp=1432833266, count=1, registration_id=reg,
    )  # fmt: skip
    with_keys = OutgoingRetryReceipt.for_failed_message(
        message_id="3EB0C127D7BACC83D6A2", sender="491234@s.whatsapp.net",
        timestamp=1432833267, count=2, registration_id=reg, reason=RetryReason.BAD_MAC, keys=keys,
    )  # fmt: skip
    group = OutgoingRetryReceipt.for_failed_message(
        message_id="3EB0C127D7BACC83D6A3", sender="120363025@g.us", timestamp=1700000000,
        count=3, registration_id=reg, reason=RetryReason.NO_SESSION,
        participant="491234:7@s.whatsapp.net", recipient="499876@s.whatsapp.net",
        keys=key_bundle_from_prekey_bundle(bundle),
    )  # fmt: skip
    outgoing = [plain, with_keys, group]
    incoming = [
        r.received_from("499876:2@s.whatsapp.net", receipt_timestamp=1700000123) for r in outgoing
    ]
    return [*outgoing, *incoming]


def _dems(pairwise: list[tuple[int, bytes]], group: list[bytes]) -> list[DecryptionErrorMessage]:
    out = [
        DecryptionErrorMessage.for_original(body, kind, 1700000000123 + i, 1)
        for i, (kind, body) in enumerate(pairwise[:4])
    ]
    out.append(DecryptionErrorMessage.for_original(group[0], MessageType.SENDER_KEY, 2**63, 7))
    return out


@functools.cache
def world() -> World:
    """Build the seeds and stores (deterministic; about 0.3 s; cached per process)."""
    alice, bob, mallory = Party.memory("alice"), Party.memory("bob"), Party.memory("mallory")
    pairwise = _pairwise(alice, bob, mallory)
    group, distributions, signing = _group(alice, bob, mallory)
    bundle = bob.bundle()
    identities = [p.store.get_identity_key_pair().public_key for p in (alice, bob, mallory)]
    keys = tuple(
        k.serialize() for k in (*identities, signing.public_key, bundle.signed_pre_key_public)
    )
    return World(
        alice=alice,
        bob=bob,
        mallory=mallory,
        pairwise=tuple(pairwise),
        group=tuple(group),
        distributions=tuple(distributions),
        alice_signing=signing,
        receipts=tuple(_receipts(bob, bundle)),
        bob_bundle=bundle,
        bob_identity=bob.store.get_identity_key_pair(),
        mallory_identity=mallory.store.get_identity_key_pair(),
        dems=tuple(_dems(pairwise, group)),
        keys=keys,
    )
