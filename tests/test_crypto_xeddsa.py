"""XEdDSA: round trips, tampering, hostile signatures and keys, libsignal conventions."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from axolotl.crypto import xeddsa
from axolotl.crypto.curve import KeyPair, PrivateKey
from axolotl.errors import InvalidSignature, UsageError
from axolotl.rng import DeterministicRng

_P = 2**255 - 19
_Q = 2**252 + 27742317777372353535851937790883648493

keys = st.binary(min_size=32, max_size=32).map(KeyPair.from_private)
messages = st.binary(max_size=300)
randoms = st.binary(min_size=64, max_size=64)


@settings(max_examples=40, deadline=None)
@given(keys, messages, randoms)
def test_sign_verify_round_trip(kp: KeyPair, message: bytes, z: bytes) -> None:
    signature = xeddsa.sign(kp.private_key.raw, message, z)
    assert len(signature) == 64
    assert signature[63] & 0x80 == 0  # A's sign bit is forced to 0 (spec 2.3)
    xeddsa.verify(kp.public_key.raw, message, signature)
    kp.public_key.verify(message, signature)


@settings(max_examples=20, deadline=None)
@given(keys, messages, randoms)
def test_private_key_sign_matches_function(kp: KeyPair, message: bytes, z: bytes) -> None:
    # PrivateKey caches the Edwards form; the result must not change.
    first = kp.private_key.sign(message, lambda n: z)
    second = kp.private_key.sign(message, lambda n: z)
    assert first == second == xeddsa.sign(kp.private_key.raw, message, z)


@settings(max_examples=30, deadline=None)
@given(keys, messages, randoms, st.integers(0, 64 * 8 - 1))
def test_any_signature_bit_flip_fails(kp: KeyPair, message: bytes, z: bytes, bit: int) -> None:
    signature = bytearray(xeddsa.sign(kp.private_key.raw, message, z))
    signature[bit // 8] ^= 1 << (bit % 8)
    with pytest.raises(InvalidSignature):
        xeddsa.verify(kp.public_key.raw, message, bytes(signature))


@settings(max_examples=30, deadline=None)
@given(keys, messages.filter(bool), randoms, st.data())
def test_any_message_bit_flip_fails(
    kp: KeyPair, message: bytes, z: bytes, data: st.DataObject
) -> None:
    signature = xeddsa.sign(kp.private_key.raw, message, z)
    bit = data.draw(st.integers(0, len(message) * 8 - 1))
    tampered = bytearray(message)
    tampered[bit // 8] ^= 1 << (bit % 8)
    with pytest.raises(InvalidSignature):
        xeddsa.verify(kp.public_key.raw, bytes(tampered), signature)


def test_every_single_bit_flip_of_one_signature_fails() -> None:
    kp = KeyPair.generate(DeterministicRng("xeddsa-flips"))
    signature = xeddsa.sign(kp.private_key.raw, b"flip me", bytes(64))
    for bit in range(512):
        flipped = bytearray(signature)
        flipped[bit // 8] ^= 1 << (bit % 8)
        with pytest.raises(InvalidSignature):
            xeddsa.verify(kp.public_key.raw, b"flip me", bytes(flipped))


def test_wrong_key_fails() -> None:
    rng = DeterministicRng("xeddsa-wrong-key")
    alice, bob = KeyPair.generate(rng), KeyPair.generate(rng)
    signature = alice.private_key.sign(b"hello", rng)
    with pytest.raises(InvalidSignature):
        bob.public_key.verify(b"hello", signature)


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=64, max_size=64), messages)
def test_random_signature_raises_only_invalid_signature(signature: bytes, message: bytes) -> None:
    kp = KeyPair.generate(DeterministicRng("xeddsa-random-sig"))
    with pytest.raises(InvalidSignature):
        xeddsa.verify(kp.public_key.raw, message, signature)


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=32, max_size=32), st.binary(min_size=64, max_size=64))
def test_random_public_key_raises_only_invalid_signature(public: bytes, signature: bytes) -> None:
    with pytest.raises(InvalidSignature):
        xeddsa.verify(public, b"m", signature)


@settings(max_examples=50, deadline=None)
@given(st.binary(max_size=100).filter(lambda b: len(b) != 64))
def test_wrong_signature_length_is_named(signature: bytes) -> None:
    kp = KeyPair.generate(DeterministicRng("xeddsa-len"))
    with pytest.raises(InvalidSignature, match=f"64 bytes, got {len(signature)}"):
        xeddsa.verify(kp.public_key.raw, b"m", signature)


@pytest.mark.parametrize("length", [0, 31, 33])
def test_wrong_public_key_length_is_named(length: int) -> None:
    with pytest.raises(InvalidSignature, match=f"32 bytes, got {length}"):
        xeddsa.verify(bytes(length), b"m", bytes(64))


def test_non_canonical_s_is_rejected() -> None:
    # s + q verifies with the same equation; libsignal's check (s < 2^253)
    # would let it through, we reject it like Ed25519 implementations do.
    kp = KeyPair.generate(DeterministicRng("xeddsa-malleable"))
    signature = xeddsa.sign(kp.private_key.raw, b"m", bytes(64))
    s = int.from_bytes(signature[32:], "little")
    assert s + _Q < 2**253
    malleated = signature[:32] + (s + _Q).to_bytes(32, "little")
    with pytest.raises(InvalidSignature):
        xeddsa.verify(kp.public_key.raw, b"m", malleated)


@pytest.mark.parametrize(
    "u",
    [
        _P,  # not reduced
        _P + 1,
        2**255 - 1,  # bit 255 and not reduced
        _P - 1,  # u = -1 has no Edwards image
        0,  # small order
        1,  # small order
    ],
)
def test_bad_public_u_rejected(u: int) -> None:
    kp = KeyPair.generate(DeterministicRng("xeddsa-bad-u"))
    signature = xeddsa.sign(kp.private_key.raw, b"m", bytes(64))
    with pytest.raises(InvalidSignature):
        xeddsa.verify(u.to_bytes(32, "little"), b"m", signature)


def test_unclamped_private_key_signs_for_its_x25519_public_key() -> None:
    raw = bytes(range(1, 33))  # low bits set, bit 255 clear: X25519 clamps these
    private = PrivateKey(raw)
    signature = private.sign(b"m", lambda n: bytes(n))
    private.public_key().verify(b"m", signature)


def test_legacy_sign_bit_in_byte_63_is_honoured() -> None:
    # libsignal's older curve25519_sign does not negate the scalar: it signs
    # with a = k and the real A (sign bit 1 half the time) and stores that
    # sign bit in bit 7 of byte 63. Build such a signature through an explicit
    # Edwards key pair and check that both it and ours verify.
    rng = DeterministicRng("xeddsa-legacy")
    for _ in range(40):
        kp = KeyPair.generate(rng)
        k = kp.private_key.raw
        ours_pair = xeddsa.calculate_key_pair(k)
        if ours_pair.nonce_scalar != k:  # A had sign bit 1, so the spec negated k
            break
    else:  # pragma: no cover - probability 2^-40
        pytest.fail("no key with sign bit 1 found")
    legacy_pair = xeddsa.EdwardsKeyPair(
        nonce_scalar=k,
        scalar=(int.from_bytes(k, "little") % _Q).to_bytes(32, "little"),
        public=ours_pair.public[:31] + bytes([ours_pair.public[31] | 0x80]),
    )
    message, z = b"legacy", bytes(range(64))
    legacy = bytearray(xeddsa.sign_with_key_pair(legacy_pair, message, z))
    legacy[63] |= 0x80
    xeddsa.verify(kp.public_key.raw, message, bytes(legacy))
    ours = xeddsa.sign(k, message, z)
    assert ours != bytes(legacy)
    xeddsa.verify(kp.public_key.raw, message, ours)
    # Without the stored sign bit the legacy signature is for the wrong A.
    legacy[63] &= 0x7F
    with pytest.raises(InvalidSignature):
        xeddsa.verify(kp.public_key.raw, message, bytes(legacy))


def test_usage_errors() -> None:
    with pytest.raises(UsageError, match="32 bytes"):
        xeddsa.sign(bytes(31), b"m", bytes(64))
    with pytest.raises(UsageError, match="64 random bytes"):
        xeddsa.sign(bytes(32), b"m", bytes(63))
    with pytest.raises(UsageError):
        xeddsa.EdwardsKeyPair(nonce_scalar=b"", scalar=bytes(32), public=bytes(32))
