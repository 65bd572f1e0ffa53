"""Curve25519 key types: wire form, hostile bytes, X25519 agreement."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from axolotl.crypto.curve import DJB_TYPE, KeyPair, PrivateKey, PublicKey, calculate_agreement
from axolotl.errors import AxolotlError, InvalidKey, UsageError
from axolotl.rng import DeterministicRng

raw32 = st.binary(min_size=32, max_size=32)


@given(raw32)
def test_public_key_round_trip(raw: bytes) -> None:
    key = PublicKey(raw)
    wire = key.serialize()
    assert wire == bytes([DJB_TYPE]) + raw
    assert PublicKey.deserialize(wire) == key


@settings(max_examples=300)
@given(st.binary(max_size=70))
def test_deserialize_random_bytes_raises_only_invalid_key(data: bytes) -> None:
    try:
        key = PublicKey.deserialize(data)
    except AxolotlError as exc:
        assert isinstance(exc, InvalidKey)
    else:
        assert len(data) == 33 and data[0] == DJB_TYPE
        assert key.raw == data[1:]


@given(st.integers(0, 255).filter(lambda b: b != DJB_TYPE), raw32)
def test_wrong_type_byte_is_named(type_byte: int, raw: bytes) -> None:
    with pytest.raises(InvalidKey, match=f"0x{type_byte:02x}"):
        PublicKey.deserialize(bytes([type_byte]) + raw)


@pytest.mark.parametrize("length", [1, 2, 32, 34, 65])
def test_wrong_length_is_named(length: int) -> None:
    with pytest.raises(InvalidKey, match=f"got {length}"):
        PublicKey.deserialize(bytes([DJB_TYPE]) + bytes(length - 1))


def test_empty_is_named() -> None:
    with pytest.raises(InvalidKey, match="empty"):
        PublicKey.deserialize(b"")


@pytest.mark.parametrize("bad", [b"", bytes(31), bytes(33), "x" * 32, None])
def test_constructors_reject_bad_raw(bad: object) -> None:
    with pytest.raises(InvalidKey):
        PublicKey(bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidKey):
        PrivateKey(bad)  # type: ignore[arg-type]


@settings(max_examples=30, deadline=None)
@given(raw32, raw32)
def test_agreement_is_symmetric(a: bytes, b: bytes) -> None:
    alice, bob = KeyPair.from_private(a), KeyPair.from_private(b)
    shared = alice.private_key.agree(bob.public_key)
    assert shared == bob.private_key.agree(alice.public_key)
    assert shared == calculate_agreement(bob.public_key, alice.private_key)
    assert len(shared) == 32


@settings(max_examples=30, deadline=None)
@given(raw32)
def test_from_private_clamps(raw: bytes) -> None:
    kp = KeyPair.from_private(raw)
    k = kp.private_key.raw
    assert k[0] & 7 == 0 and k[31] & 0x80 == 0 and k[31] & 0x40
    # X25519 clamps too, so the unclamped bytes name the same public key.
    assert PrivateKey(raw).public_key() == kp.public_key


def test_generate_uses_rng() -> None:
    assert KeyPair.generate(DeterministicRng(1)) == KeyPair.generate(DeterministicRng(1))
    assert KeyPair.generate(DeterministicRng(1)) != KeyPair.generate(DeterministicRng(2))


def test_from_private_wrong_length() -> None:
    with pytest.raises(UsageError):
        KeyPair.from_private(bytes(31))


@pytest.mark.parametrize("u", [0, 1])
def test_low_order_public_key_agreement_raises_invalid_key(u: int) -> None:
    kp = KeyPair.generate(DeterministicRng("low-order"))
    with pytest.raises(InvalidKey):
        kp.private_key.agree(PublicKey(u.to_bytes(32, "little")))


def test_private_key_repr_hides_secret() -> None:
    kp = KeyPair.generate(DeterministicRng("repr"))
    kp.private_key.sign(b"m", DeterministicRng("sig"))  # fills the Edwards cache
    text = repr(kp.private_key)
    assert kp.private_key.raw.hex() not in text
    assert repr(kp.private_key.raw) not in text
