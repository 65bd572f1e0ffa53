"""Pairwise sessions: X3DH set-up, the Double Ratchet, bounds, transactional failure."""

from __future__ import annotations

import pytest

from axolotl.errors import (
    AxolotlError,
    DuplicateMessage,
    FutureMessage,
    InvalidKeyId,
    InvalidMessage,
    InvalidSignature,
    NoSession,
    UntrustedIdentity,
)
from axolotl.keys import PreKeyBundle, generate_identity_key_pair
from axolotl.session import (
    SessionConfig,
    SessionRecord,
    accept_changed_identity,
    decrypt,
    decrypt_message,
    encrypt,
    process_prekey_bundle,
)
from axolotl.store.memory import MemoryStore
from axolotl.wire import MessageType
from tests.parties import Party


def _snapshot(p: Party, other: Party) -> tuple[bytes | None, list[int]]:
    return p.store.load_session(other.address), [
        i for i in range(1, 10) if p.store.contains_pre_key(i)
    ]


def _pair() -> tuple[Party, Party]:
    alice, bob = Party.memory("alice"), Party.memory("bob")
    process_prekey_bundle(alice.store, bob.address, bob.bundle(), rng=alice.rng)
    return alice, bob


def send(a: Party, b: Party, text: bytes) -> tuple[int, bytes]:
    msg = encrypt(a.store, b.address, text)
    return int(msg.type), msg.body


def recv(b: Party, a: Party, m: tuple[int, bytes]) -> bytes:
    return decrypt(b.store, a.address, m[0], m[1], rng=b.rng)


def test_first_messages_are_prekey_messages_until_a_reply() -> None:
    alice, bob = _pair()
    m1, m2 = send(alice, bob, b"hello"), send(alice, bob, b"again")
    assert m1[0] == m2[0] == MessageType.PREKEY
    assert recv(bob, alice, m1) == b"hello"
    assert recv(bob, alice, m2) == b"again"
    assert not bob.store.contains_pre_key(1), "one-time prekey consumed"
    reply = send(bob, alice, b"hi")
    assert reply[0] == MessageType.SIGNAL
    assert recv(alice, bob, reply) == b"hi"
    assert send(alice, bob, b"now signal")[0] == MessageType.SIGNAL


def test_long_conversation_with_ratchet_turns_and_sizes() -> None:
    alice, bob = _pair()
    recv(bob, alice, send(alice, bob, b"start"))
    for i in range(60):
        a, b = (alice, bob) if i % 3 else (bob, alice)
        text = bytes([i % 256]) * (i * 7 % 50)
        assert recv(b, a, send(a, b, text)) == text


def test_out_of_order_delivery_and_skipped_keys() -> None:
    alice, bob = _pair()
    msgs = [send(alice, bob, f"m{i}".encode()) for i in range(10)]
    for i in [3, 0, 9, 1, 2, 8, 4, 7, 6, 5]:
        assert recv(bob, alice, msgs[i]) == f"m{i}".encode()
    # across a ratchet turn: old chain messages still decrypt
    late = send(alice, bob, b"late")
    reply = send(bob, alice, b"r")
    recv(alice, bob, reply)
    newer = send(alice, bob, b"newer")
    assert recv(bob, alice, newer) == b"newer"
    assert recv(bob, alice, late) == b"late"


def test_duplicate_raises_and_changes_nothing() -> None:
    alice, bob = _pair()
    m = send(alice, bob, b"once")
    recv(bob, alice, m)
    before = _snapshot(bob, alice)
    with pytest.raises(DuplicateMessage) as info:
        recv(bob, alice, m)
    assert info.value.counter == 0
    assert _snapshot(bob, alice) == before
    s = send(bob, alice, b"x")
    recv(alice, bob, s)
    with pytest.raises(DuplicateMessage):
        recv(alice, bob, s)


def test_every_corruption_fails_typed_and_changes_nothing() -> None:
    alice, bob = _pair()
    recv(bob, alice, send(alice, bob, b"setup"))
    recv(alice, bob, send(bob, alice, b"ack"))
    m = send(alice, bob, b"payload" * 5)
    before = _snapshot(bob, alice)
    for i in range(len(m[1])):
        for bit in (0, 7):
            bad = bytearray(m[1])
            bad[i] ^= 1 << bit
            with pytest.raises(AxolotlError):
                recv(bob, alice, (m[0], bytes(bad)))
            assert _snapshot(bob, alice) == before
    assert recv(bob, alice, m) == b"payload" * 5


def test_future_message_bound() -> None:
    alice, bob = _pair()
    config = SessionConfig(max_skip=5, max_skipped_keys=10)
    recv(bob, alice, send(alice, bob, b"0"))
    msgs = [send(alice, bob, b"x") for _ in range(7)]
    before = _snapshot(bob, alice)
    with pytest.raises(FutureMessage):
        decrypt(bob.store, alice.address, *msgs[6], rng=bob.rng, config=config)
    assert _snapshot(bob, alice) == before
    assert decrypt(bob.store, alice.address, *msgs[5], rng=bob.rng, config=config) == b"x"


def test_skipped_keys_are_bounded_per_session() -> None:
    alice, bob = _pair()
    config = SessionConfig(max_skip=100, max_skipped_keys=10)
    recv(bob, alice, send(alice, bob, b"0"))
    msgs = [send(alice, bob, bytes([i])) for i in range(30)]
    decrypt(bob.store, alice.address, *msgs[29], rng=bob.rng, config=config)
    record = SessionRecord.deserialize(bob.store.load_session(alice.address) or b"")
    assert record.current is not None and record.current.skipped_key_count() == 10
    assert decrypt(bob.store, alice.address, *msgs[28], rng=bob.rng, config=config) == bytes([28])
    with pytest.raises(DuplicateMessage):  # evicted: the oldest went first
        decrypt(bob.store, alice.address, *msgs[0], rng=bob.rng, config=config)


def test_record_with_2000_skipped_keys_is_under_200_kb() -> None:
    alice, bob = _pair()
    recv(bob, alice, send(alice, bob, b"0"))
    msgs = [send(alice, bob, b"") for _ in range(2001)]
    recv(bob, alice, msgs[-1])
    data = bob.store.load_session(alice.address) or b""
    record = SessionRecord.deserialize(data)
    assert record.current is not None and record.current.skipped_key_count() == 2000
    assert len(data) < 200_000


def test_replayed_prekey_message_is_not_rebuilt() -> None:
    alice, bob = _pair()
    m = send(alice, bob, b"first")
    recv(bob, alice, m)
    recv(bob, alice, send(alice, bob, b"second"))
    with pytest.raises(DuplicateMessage):
        recv(bob, alice, m)
    record = SessionRecord.deserialize(bob.store.load_session(alice.address) or b"")
    assert record.previous == []


def test_unknown_prekey_id_raises_and_stores_nothing() -> None:
    alice, bob = _pair()
    m = send(alice, bob, b"x")
    bob.store.remove_pre_key(1)
    with pytest.raises(InvalidKeyId) as info:
        recv(bob, alice, m)
    assert info.value.key_id == 1
    assert bob.store.load_session(alice.address) is None
    assert bob.store.get_identity(alice.address) is None


def test_no_session() -> None:
    alice, bob = Party.memory("alice"), Party.memory("bob")
    with pytest.raises(NoSession):
        encrypt(alice.store, bob.address, b"x")
    other_alice, other_bob = _pair()
    recv(other_bob, other_alice, send(other_alice, other_bob, b"x"))
    reply = send(other_bob, other_alice, b"y")
    with pytest.raises(NoSession):
        decrypt(alice.store, other_bob.address, *reply)


def test_bad_bundle_signature() -> None:
    alice, bob = Party.memory("alice"), Party.memory("bob")
    b = bob.bundle()
    forged = PreKeyBundle(
        **{
            **{f: getattr(b, f) for f in b.__dataclass_fields__},
            "signed_pre_key_signature": bytes(64),
        }
    )
    with pytest.raises(InvalidSignature):
        process_prekey_bundle(alice.store, bob.address, forged, rng=alice.rng)
    assert alice.store.load_session(bob.address) is None


def test_changed_identity_needs_the_trust_policy() -> None:
    alice, bob = _pair()
    recv(bob, alice, send(alice, bob, b"x"))
    # bob reinstalls: new identity, same address
    new_bob = Party.memory("bob", seed="bob-reinstalled")
    with pytest.raises(UntrustedIdentity):
        process_prekey_bundle(alice.store, bob.address, new_bob.bundle(), rng=alice.rng)
    process_prekey_bundle(
        alice.store, bob.address, new_bob.bundle(), rng=alice.rng, trust=accept_changed_identity
    )
    assert recv(new_bob, alice, send(alice, new_bob, b"hello again")) == b"hello again"
    # and on the receiving side: the old bob refuses alice's new identity
    new_alice = Party.memory("alice", seed="alice-reinstalled")
    process_prekey_bundle(new_alice.store, new_bob.address, new_bob.bundle(), rng=new_alice.rng)
    m = send(new_alice, new_bob, b"who")
    with pytest.raises(UntrustedIdentity):
        recv(new_bob, new_alice, m)
    assert (
        decrypt(
            new_bob.store, new_alice.address, *m, rng=new_bob.rng, trust=accept_changed_identity
        )
        == b"who"
    )


def test_archived_session_still_decrypts_and_is_promoted() -> None:
    alice, bob = _pair()
    recv(bob, alice, send(alice, bob, b"a"))
    recv(alice, bob, send(bob, alice, b"b"))
    late_from_bob = send(bob, alice, b"on the old session")
    # alice starts over with a fresh bundle: the old session is archived
    process_prekey_bundle(alice.store, bob.address, bob.bundle(), rng=alice.rng)
    assert recv(alice, bob, late_from_bob) == b"on the old session"
    fresh = send(alice, bob, b"new")
    assert fresh[0] == MessageType.SIGNAL, "the promoted old session is current again"
    assert recv(bob, alice, fresh) == b"new"


def test_decrypt_message_reports_position() -> None:
    alice, bob = _pair()
    body = encrypt(alice.store, bob.address, b"x")
    d = decrypt_message(bob.store, alice.address, body.type, body.body, rng=bob.rng)
    assert d.new_session and d.counter == 0
    body = encrypt(alice.store, bob.address, b"y")
    d = decrypt_message(bob.store, alice.address, body.type, body.body, rng=bob.rng)
    assert not d.new_session and d.counter == 1


def test_garbage_raises_only_axolotl_errors() -> None:
    alice, bob = _pair()
    for t in (MessageType.SIGNAL, MessageType.PREKEY, 7):
        for body in (b"", b"\x33", b"\x33" + bytes(40), bytes(range(200))):
            with pytest.raises(AxolotlError):
                decrypt(bob.store, alice.address, int(t), body)
    assert isinstance(InvalidMessage("x"), AxolotlError)


def test_session_record_roundtrip() -> None:
    alice, bob = _pair()
    recv(bob, alice, send(alice, bob, b"x"))
    data = bob.store.load_session(alice.address) or b""
    assert SessionRecord.deserialize(data).serialize() == data
    assert MemoryStore(generate_identity_key_pair(), 1) is not None


def test_new_bundle_publishes_a_fresh_prekey_and_the_newest_signed_prekey() -> None:
    from axolotl.address import ProtocolAddress
    from axolotl.keys import generate_signed_pre_key
    from axolotl.rng import DeterministicRng
    from axolotl.session import new_bundle

    rng = DeterministicRng("new-bundle")
    identity = generate_identity_key_pair(rng)
    bob = MemoryStore(identity, 77)
    assert new_bundle(bob, 3, rng) is None
    assert bob.next_pre_key_id() == 1, "nothing generated or stored without a signed prekey"
    older = generate_signed_pre_key(identity, 9, 1_000, rng)
    newer = generate_signed_pre_key(identity, 2, 2_000, rng)
    bob.store_signed_pre_key(older)
    bob.store_signed_pre_key(newer)
    first, second = new_bundle(bob, 3, rng), new_bundle(bob, 3, rng)
    assert first is not None and second is not None
    assert (first.pre_key_id, second.pre_key_id) == (1, 2)
    assert bob.load_pre_key(1).key_pair.public_key == first.pre_key_public
    assert first.signed_pre_key_id == 2 and first.signed_pre_key_public == newer.key_pair.public_key
    assert (first.device_id, first.registration_id) == (3, 77)
    assert first.identity_key == identity.public_key
    alice = MemoryStore(generate_identity_key_pair(rng), 1)
    bob_address = ProtocolAddress("bob", 3)
    process_prekey_bundle(alice, bob_address, first, rng=rng)
    message = encrypt(alice, bob_address, b"hi")
    assert decrypt(bob, ProtocolAddress("alice", 1), message.type, message.body, rng=rng) == b"hi"


def _as_version_1(data: bytes) -> bytes:
    """The same record in format version 1 (skipped keys as repeated MessageKey)."""
    import struct

    from axolotl._pb import storage_pb2

    msg = storage_pb2.RecordStructure()
    msg.ParseFromString(data)
    msg.version = 1
    states = [msg.current_session, *msg.previous_sessions]
    for state in states:
        for chain in state.receiver_chains:
            packed = chain.packed_message_keys
            for index, seed in struct.iter_unpack(">I32s", packed):
                chain.message_keys.add(index=index, seed=seed)
            chain.ClearField("packed_message_keys")
    return msg.SerializeToString()


def test_a_version_1_record_migrates_and_still_decrypts_its_skipped_messages() -> None:
    alice, bob = _pair()
    recv(bob, alice, send(alice, bob, b"0"))
    msgs = [send(alice, bob, bytes([i])) for i in range(20)]
    recv(bob, alice, msgs[19])
    data = bob.store.load_session(alice.address) or b""
    old = _as_version_1(data)
    assert old != data
    assert SessionRecord.deserialize(old) == SessionRecord.deserialize(data)
    assert SessionRecord.deserialize(old).serialize() == data, "rewritten as version 2"
    bob.store.store_session(alice.address, old)
    assert recv(bob, alice, msgs[3]) == bytes([3])
    assert recv(bob, alice, msgs[18]) == bytes([18])


def test_packed_skipped_keys_of_a_bad_length_are_a_decode_error() -> None:
    from axolotl._pb import storage_pb2
    from axolotl.errors import DecodeError

    alice, bob = _pair()
    recv(bob, alice, send(alice, bob, b"0"))
    recv(bob, alice, [send(alice, bob, b"") for _ in range(3)][-1])
    msg = storage_pb2.RecordStructure()
    msg.ParseFromString(bob.store.load_session(alice.address) or b"")
    msg.current_session.receiver_chains[0].packed_message_keys += b"\x00"
    with pytest.raises(DecodeError, match="multiple of 36"):
        SessionRecord.deserialize(msg.SerializeToString())
