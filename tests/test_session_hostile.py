"""An attacker on the path between two devices: forged prekey-message fields, costly records.

The identity key, registration id, prekey ids and base key of a
PreKeySignalMessage travel outside its MAC (only the enclosed SignalMessage is
MAC'd, over the identities of the session that decrypts it). None of them may
change the identity store, whatever the trust policy.
"""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from axolotl.errors import AxolotlError, InvalidMessage, UntrustedIdentity
from axolotl.keys import generate_identity_key_pair
from axolotl.rng import DeterministicRng
from axolotl.session import (
    TrustPolicy,
    accept_changed_identity,
    decrypt,
    encrypt,
    process_prekey_bundle,
    reject_changed_identity,
)
from axolotl.wire import MessageType, PreKeySignalMessage
from tests.parties import Party

MALLORY = generate_identity_key_pair(DeterministicRng("mallory")).public_key


def _two_prekey_messages() -> tuple[Party, Party, PreKeySignalMessage, PreKeySignalMessage]:
    alice, bob = Party.memory("alice"), Party.memory("bob")
    process_prekey_bundle(alice.store, bob.address, bob.bundle(), rng=alice.rng)
    first, second = (encrypt(alice.store, bob.address, t) for t in (b"one", b"two"))
    assert first.type == second.type == MessageType.PREKEY
    return alice, bob, PreKeySignalMessage.parse(first.body), PreKeySignalMessage.parse(second.body)


def _with(message: PreKeySignalMessage, **fields: object) -> bytes:
    values: dict[str, object] = {
        "registration_id": message.registration_id,
        "pre_key_id": message.pre_key_id,
        "signed_pre_key_id": message.signed_pre_key_id,
        "base_key": message.base_key,
        "identity_key": message.identity_key,
        "message": message.message,
    }
    values.update(fields)
    return PreKeySignalMessage.create(**values).serialized  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "trust", [reject_changed_identity, accept_changed_identity], ids=["reject", "accept"]
)
def test_forged_identity_in_a_second_prekey_message_is_never_stored(trust: TrustPolicy) -> None:
    alice, bob, first, second = _two_prekey_messages()
    assert decrypt(bob.store, alice.address, 3, first.serialized, rng=bob.rng) == b"one"
    genuine = bob.store.get_identity(alice.address)
    session = bob.store.load_session(alice.address)
    forged = _with(second, identity_key=MALLORY)
    with pytest.raises((InvalidMessage, UntrustedIdentity)):
        decrypt(bob.store, alice.address, 3, forged, rng=bob.rng, trust=trust)
    assert bob.store.get_identity(alice.address) == genuine
    assert bob.store.load_session(alice.address) == session
    # The genuine second message still decrypts, and Alice's next genuine
    # new session is accepted under the default policy (no lock-out).
    assert decrypt(bob.store, alice.address, 3, second.serialized, rng=bob.rng) == b"two"
    process_prekey_bundle(alice.store, bob.address, bob.bundle(), rng=alice.rng)
    fresh = encrypt(alice.store, bob.address, b"three")
    assert decrypt(bob.store, alice.address, fresh.type, fresh.body, rng=bob.rng) == b"three"


def test_forged_identity_never_reaches_the_trust_policy() -> None:
    """A policy that would show "safety number changed" is never asked about a forged key."""
    alice, bob, first, second = _two_prekey_messages()
    decrypt(bob.store, alice.address, 3, first.serialized, rng=bob.rng)
    asked: list[object] = []

    def policy(address: object, stored: object, new: object) -> bool:
        asked.append(new)
        return True

    with pytest.raises(InvalidMessage, match="identity key"):
        decrypt(bob.store, alice.address, 3, _with(second, identity_key=MALLORY), trust=policy)
    assert asked == []


def test_forged_identity_in_a_replayed_first_message_is_refused() -> None:
    alice, bob, first, _ = _two_prekey_messages()
    decrypt(bob.store, alice.address, 3, first.serialized, rng=bob.rng)
    genuine = bob.store.get_identity(alice.address)
    with pytest.raises(AxolotlError):
        decrypt(
            bob.store, alice.address, 3, _with(first, identity_key=MALLORY),
            rng=bob.rng, trust=accept_changed_identity,
        )  # fmt: skip
    assert bob.store.get_identity(alice.address) == genuine


_FIELDS = st.sampled_from(
    ["registration_id", "pre_key_id", "signed_pre_key_id", "base_key", "identity_key"]
)


@settings(max_examples=60, deadline=None)
@given(field=_FIELDS, value=st.integers(0, 2**32 - 1), accept=st.booleans())
def test_no_unauthenticated_field_of_a_second_prekey_message_changes_the_identity(
    field: str, value: int, accept: bool
) -> None:
    alice, bob, first, second = _two_prekey_messages()
    decrypt(bob.store, alice.address, 3, first.serialized, rng=bob.rng)
    genuine = bob.store.get_identity(alice.address)
    if field in ("base_key", "identity_key"):
        replacement: object = generate_identity_key_pair(DeterministicRng(value)).public_key
    else:
        replacement = value
    body = _with(second, **{field: replacement})
    trust = accept_changed_identity if accept else reject_changed_identity
    with contextlib.suppress(AxolotlError):
        assert decrypt(bob.store, alice.address, 3, body, rng=bob.rng, trust=trust) == b"two"
    assert bob.store.get_identity(alice.address) == genuine


# -- the work of one decrypt is bounded ------------------------------------------


def _maximal_record(bob: Party, alice: Party) -> bytes:
    """Bob's record of Alice with the archive full of states that hold many skipped keys."""
    import os

    from axolotl.crypto.curve import KeyPair
    from axolotl.session import SessionRecord
    from axolotl.session.config import DEFAULT_CONFIG
    from axolotl.session.state import ReceiverChain, SenderChain, SessionState

    data = bob.store.load_session(alice.address)
    assert data is not None
    record = SessionRecord.deserialize(data)
    current = record.current
    assert current is not None

    def clone() -> SessionState:
        chains = [
            ReceiverChain(
                KeyPair.generate().public_key,
                os.urandom(32),
                500,
                {k: os.urandom(32) for k in range(100, 500)},
            )
            for _ in range(DEFAULT_CONFIG.max_receiver_chains)
        ]
        return SessionState(
            local_identity=current.local_identity,
            remote_identity=current.remote_identity,
            root_key=os.urandom(32),
            sender_chain=SenderChain(KeyPair.generate(), os.urandom(32), 3),
            local_registration_id=current.local_registration_id,
            receiver_chains=chains,
        )

    record.previous = [clone() for _ in range(DEFAULT_CONFIG.max_archived_states)]
    return record.serialize()


@pytest.mark.parametrize("shape", ["new ratchet key", "known chain", "skipped counter"])
def test_a_forged_message_costs_one_parse_and_a_bounded_number_of_derivations(
    shape: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import axolotl.session.ratchet as ratchet
    from axolotl.crypto.curve import KeyPair, PrivateKey
    from axolotl.session import SessionRecord
    from axolotl.session.config import DEFAULT_CONFIG
    from axolotl.wire import SignalMessage

    alice, bob = Party.memory("alice"), Party.memory("bob")
    process_prekey_bundle(alice.store, bob.address, bob.bundle(), rng=alice.rng)
    first = encrypt(alice.store, bob.address, b"hi")
    decrypt(bob.store, alice.address, first.type, first.body, rng=bob.rng)
    bob.store.store_session(alice.address, _maximal_record(bob, alice))
    before = bob.store.load_session(alice.address)
    genuine = SignalMessage.parse(PreKeySignalMessage.parse(first.body).message.serialized)
    key = {"new ratchet key": KeyPair.generate().public_key}.get(shape, genuine.ratchet_key)
    counter = {"known chain": 1 + DEFAULT_CONFIG.max_skip, "skipped counter": 0}.get(shape, 2000)
    forged = SignalMessage.create(
        mac_key=bytes(32), sender_identity=genuine.ratchet_key, receiver_identity=key,
        ratchet_key=key, counter=counter, previous_counter=0, ciphertext=bytes(16),
    ).serialized  # fmt: skip
    counts = {"parse": 0, "chain": 0, "dh": 0}
    real_parse, real_step, real_agree = (
        SessionRecord.deserialize.__func__,  # type: ignore[attr-defined]
        ratchet.kdf_next_chain_key,
        PrivateKey.agree,
    )

    def parse(cls: type, data: bytes) -> object:
        counts["parse"] += 1
        return real_parse(cls, data)

    def step(ck: bytes) -> bytes:
        counts["chain"] += 1
        return real_step(ck)

    def agree(self: PrivateKey, public: object) -> bytes:
        counts["dh"] += 1
        return real_agree(self, public)  # type: ignore[arg-type]

    monkeypatch.setattr(SessionRecord, "deserialize", classmethod(parse))
    monkeypatch.setattr(ratchet, "kdf_next_chain_key", step)
    monkeypatch.setattr(PrivateKey, "agree", agree)
    with pytest.raises(AxolotlError):
        decrypt(bob.store, alice.address, 2, forged, rng=bob.rng)
    assert counts["parse"] <= 1
    assert counts["chain"] <= DEFAULT_CONFIG.max_trial_chain_steps
    assert counts["dh"] <= DEFAULT_CONFIG.max_trial_ratchet_steps
    assert bob.store.load_session(alice.address) == before


def test_a_genuine_message_decrypts_against_a_maximal_record() -> None:
    alice, bob = Party.memory("alice"), Party.memory("bob")
    process_prekey_bundle(alice.store, bob.address, bob.bundle(), rng=alice.rng)
    first = encrypt(alice.store, bob.address, b"hi")
    decrypt(bob.store, alice.address, first.type, first.body, rng=bob.rng)
    bob.store.store_session(alice.address, _maximal_record(bob, alice))
    later = [encrypt(alice.store, bob.address, b"m%d" % i) for i in range(3)]
    assert decrypt(bob.store, alice.address, later[2].type, later[2].body, rng=bob.rng) == b"m2"
    assert decrypt(bob.store, alice.address, later[0].type, later[0].body, rng=bob.rng) == b"m0"
