"""Sender-key group sessions: distribution, encrypt/decrypt, bounds, bad input."""

from __future__ import annotations

import random

import pytest

from axolotl.errors import (
    AxolotlError,
    DecodeError,
    DuplicateMessage,
    FutureMessage,
    InvalidKey,
    InvalidSignature,
    NoSenderKey,
)
from axolotl.session import (
    SessionConfig,
    create_sender_key_distribution,
    group_decrypt,
    group_encrypt,
    process_sender_key_distribution,
)
from axolotl.session.group import SenderKeyRecord
from axolotl.wire import SenderKeyDistributionMessage, SenderKeyMessage
from tests.parties import Party

GROUP = "family@g.us"


def _members() -> tuple[Party, Party]:
    alice, bob = Party.memory("alice"), Party.memory("bob")
    skdm = create_sender_key_distribution(alice.store, GROUP, alice.address, rng=alice.rng)
    process_sender_key_distribution(
        bob.store, GROUP, alice.address, SenderKeyDistributionMessage.parse(skdm.serialized)
    )
    return alice, bob


def _enc(a: Party, text: bytes) -> bytes:
    return group_encrypt(a.store, GROUP, a.address, text, rng=a.rng)


def _dec(b: Party, a: Party, body: bytes, config: SessionConfig | None = None) -> bytes:
    if config is None:
        return group_decrypt(b.store, GROUP, a.address, body)
    return group_decrypt(b.store, GROUP, a.address, body, config=config)


def test_roundtrip_and_distribution_is_stable() -> None:
    alice, bob = _members()
    for i in range(20):
        assert _dec(bob, alice, _enc(alice, bytes([i]) * i)) == bytes([i]) * i
    again = create_sender_key_distribution(alice.store, GROUP, alice.address, rng=alice.rng)
    assert again.iteration == 20, "distribution reflects the current iteration, same key"


def test_out_of_order_and_duplicate() -> None:
    alice, bob = _members()
    msgs = [_enc(alice, f"m{i}".encode()) for i in range(10)]
    order = list(range(10))
    random.Random(1).shuffle(order)
    for i in order:
        assert _dec(bob, alice, msgs[i]) == f"m{i}".encode()
    before = bob.store.load_sender_key(GROUP, alice.address)
    with pytest.raises(DuplicateMessage):
        _dec(bob, alice, msgs[4])
    assert bob.store.load_sender_key(GROUP, alice.address) == before


def test_no_sender_key() -> None:
    alice, bob = Party.memory("alice"), Party.memory("bob")
    create_sender_key_distribution(alice.store, GROUP, alice.address, rng=alice.rng)
    with pytest.raises(NoSenderKey):
        _dec(bob, alice, _enc(alice, b"x"))
    with pytest.raises(NoSenderKey):
        group_encrypt(bob.store, GROUP, bob.address, b"x")


def test_forged_and_truncated_signature_store_nothing() -> None:
    alice, bob = _members()
    body = _enc(alice, b"signed")
    before = bob.store.load_sender_key(GROUP, alice.address)
    forged = body[:-64] + bytes(64)
    with pytest.raises(InvalidSignature):
        _dec(bob, alice, forged)
    flipped = bytearray(body)
    flipped[5] ^= 1
    with pytest.raises(AxolotlError):
        _dec(bob, alice, bytes(flipped))
    with pytest.raises(AxolotlError):
        _dec(bob, alice, body[:-1])
    assert bob.store.load_sender_key(GROUP, alice.address) == before
    assert _dec(bob, alice, body) == b"signed"


def test_iteration_far_ahead_is_refused() -> None:
    alice, bob = _members()
    skdm = create_sender_key_distribution(alice.store, GROUP, alice.address, rng=alice.rng)
    record = SenderKeyRecord.deserialize(alice.store.load_sender_key(GROUP, alice.address) or b"")
    state = record.states[0]
    assert state.signing_private is not None
    far = SenderKeyMessage.create(
        signing_key=state.signing_private,
        key_id=skdm.key_id,
        iteration=10**9,
        ciphertext=bytes(16),
        rng=alice.rng,
    )
    before = bob.store.load_sender_key(GROUP, alice.address)
    with pytest.raises(FutureMessage):
        _dec(bob, alice, far.serialized)
    assert bob.store.load_sender_key(GROUP, alice.address) == before


def test_skipped_keys_bounded() -> None:
    alice, bob = _members()
    config = SessionConfig(max_skip=50, max_skipped_keys=5)
    msgs = [_enc(alice, bytes([i])) for i in range(20)]
    _dec(bob, alice, msgs[19], config)
    record = SenderKeyRecord.deserialize(bob.store.load_sender_key(GROUP, alice.address) or b"")
    assert len(record.states[0].skipped) == 5
    assert _dec(bob, alice, msgs[18], config) == bytes([18])
    with pytest.raises(DuplicateMessage):
        _dec(bob, alice, msgs[0], config)


def test_bad_distribution_messages() -> None:
    alice, _ = _members()
    good = create_sender_key_distribution(alice.store, GROUP, alice.address, rng=alice.rng)
    for bad in (good.serialized[:-3], good.serialized[:5], b"\x33", b""):
        with pytest.raises((DecodeError, InvalidKey)):
            SenderKeyDistributionMessage.parse(bad)


def test_replayed_distribution_does_not_rewind() -> None:
    alice, bob = _members()
    skdm = SenderKeyDistributionMessage.parse(
        create_sender_key_distribution(alice.store, GROUP, alice.address, rng=alice.rng).serialized
    )
    first = _enc(alice, b"one")
    assert _dec(bob, alice, first) == b"one"
    process_sender_key_distribution(bob.store, GROUP, alice.address, skdm)
    with pytest.raises(DuplicateMessage):
        _dec(bob, alice, first)


def test_key_rotation_keeps_old_states() -> None:
    alice, bob = _members()
    old = _enc(alice, b"old key")
    alice2 = Party.memory("alice", seed="alice-rotated")
    skdm = create_sender_key_distribution(alice2.store, GROUP, alice2.address, rng=alice2.rng)
    process_sender_key_distribution(bob.store, GROUP, alice.address, skdm)
    assert _dec(bob, alice, _enc(alice2, b"new key")) == b"new key"
    assert _dec(bob, alice, old) == b"old key"
