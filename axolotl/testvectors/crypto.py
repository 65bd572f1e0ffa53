"""Checkers for the published crypto vectors in ``data/``.

Each checker recomputes a case from its inputs with :mod:`axolotl.crypto`
(nothing else) and compares with the published outputs. Every case has an
``op`` field saying which computation it is; hex strings carry bytes.

=================  ==============================  ==================================
kind               file                            ops
=================  ==============================  ==================================
``x25519``         ``rfc7748_x25519.json``         ``scalar_mult``, ``iterated``, ``dh``
``hkdf``           ``rfc5869_hkdf.json``           (one: extract + expand)
``curve25519``     ``libsignal_curve25519.json``   ``agreement``, ``verify``
``xeddsa``         ``xeddsa_libsignal_c.json``     ``sign``, ``verify``, ``sign_iterated``
``ratchet_kdf``    ``python_axolotl_ratchet_kdf``  ``chain_key``, ``root_key``
=================  ==============================  ==================================
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from axolotl.crypto import xeddsa
from axolotl.crypto.cipher import hmac_sha256
from axolotl.crypto.curve import PrivateKey, PublicKey
from axolotl.crypto.kdf import derive_message_keys, hkdf, kdf_chain, kdf_root
from axolotl.errors import InvalidSignature
from axolotl.testvectors import Case, VectorMismatch, expect_equal, unhex

__all__ = ["check_x25519", "check_hkdf", "check_curve25519", "check_xeddsa", "check_ratchet_kdf"]


def _op(case: Case, ops: dict[str, Callable[[Case], None]]) -> None:
    op = case.get("op")
    if not isinstance(op, str) or op not in ops:
        raise VectorMismatch("op", f"unknown op {op!r} (expected one of {sorted(ops)})")
    ops[op](case)


def _int(case: Case, key: str) -> int:
    value = case.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise VectorMismatch(key, f"missing or not a non-negative integer: {value!r}")
    return value


def _x25519(scalar: bytes, u: bytes) -> bytes:
    return PrivateKey(scalar).agree(PublicKey(u))


# -- RFC 7748 -----------------------------------------------------------------


def _x25519_scalar_mult(case: Case) -> None:
    got = _x25519(unhex(case, "scalar"), unhex(case, "u"))
    expect_equal("output", got, unhex(case, "output"))


def _x25519_iterated(case: Case) -> None:
    # RFC 7748, 5.2: k = u = 9; each round k, u = X25519(k, u), k.
    k = u = (9).to_bytes(32, "little")
    for _ in range(_int(case, "iterations")):
        k, u = _x25519(k, u), k
    expect_equal("output", k, unhex(case, "output"))


def _x25519_dh(case: Case) -> None:
    alice, bob = PrivateKey(unhex(case, "alice_private")), PrivateKey(unhex(case, "bob_private"))
    expect_equal("alice_public", alice.public_key().raw, unhex(case, "alice_public"))
    expect_equal("bob_public", bob.public_key().raw, unhex(case, "bob_public"))
    shared = unhex(case, "shared")
    expect_equal("shared (alice)", alice.agree(PublicKey(unhex(case, "bob_public"))), shared)
    expect_equal("shared (bob)", bob.agree(PublicKey(unhex(case, "alice_public"))), shared)


def check_x25519(case: Case) -> None:
    """RFC 7748 X25519 vectors: one scalar multiplication, the iterated chain, or Alice/Bob DH."""
    _op(
        case,
        {"scalar_mult": _x25519_scalar_mult, "iterated": _x25519_iterated, "dh": _x25519_dh},
    )


# -- RFC 5869 -----------------------------------------------------------------


def check_hkdf(case: Case) -> None:
    """RFC 5869 HKDF-SHA256: PRK = HMAC(salt or zeros, IKM), then OKM of the given length."""
    ikm, salt, info = unhex(case, "ikm"), unhex(case, "salt"), unhex(case, "info")
    prk = hmac_sha256(salt or bytes(32), ikm)
    expect_equal("prk", prk, unhex(case, "prk"))
    okm = hkdf(ikm, salt or None, info, _int(case, "length"))
    expect_equal("okm", okm, unhex(case, "okm"))


# -- libsignal Curve25519Test ------------------------------------------------------


def _curve_agreement(case: Case) -> None:
    alice_public = PublicKey.deserialize(unhex(case, "alice_public"))
    bob_public = PublicKey.deserialize(unhex(case, "bob_public"))
    alice, bob = PrivateKey(unhex(case, "alice_private")), PrivateKey(unhex(case, "bob_private"))
    expect_equal("alice_public", alice.public_key(), alice_public)
    expect_equal("bob_public", bob.public_key(), bob_public)
    shared = unhex(case, "shared")
    expect_equal("shared (bob private, alice public)", bob.agree(alice_public), shared)
    expect_equal("shared (alice private, bob public)", alice.agree(bob_public), shared)


def _public_of(case: Case) -> bytes:
    """The case's 32-byte public key: ``public`` (32 or 33 bytes) or derived from ``private``."""
    if "public" in case:
        public = unhex(case, "public")
        if len(public) == 33:
            public = PublicKey.deserialize(public).raw
        if "private" in case:
            derived = PrivateKey(unhex(case, "private")).public_key().raw
            expect_equal("public (from private)", derived, public)
        return public
    return PrivateKey(unhex(case, "private")).public_key().raw


def _expect_invalid(step: str, public: bytes, message: bytes, signature: bytes) -> None:
    try:
        xeddsa.verify(public, message, signature)
    except InvalidSignature:
        return
    raise VectorMismatch(step, "signature verified but must not")


def _verify(case: Case) -> None:
    public, message, signature = _public_of(case), unhex(case, "message"), unhex(case, "signature")
    valid = case.get("valid")
    if not isinstance(valid, bool):
        raise VectorMismatch("valid", f"missing or not a boolean: {valid!r}")
    if not valid:
        _expect_invalid("verify", public, message, signature)
        return
    try:
        xeddsa.verify(public, message, signature)
    except InvalidSignature as exc:
        raise VectorMismatch("verify", f"published signature rejected: {exc}") from None
    if case.get("bit_flips_fail"):
        for i in range(len(signature)):
            flipped = bytearray(signature)
            flipped[i] ^= 0x01
            _expect_invalid(f"signature byte {i} flipped", public, message, bytes(flipped))


def check_curve25519(case: Case) -> None:
    """libsignal's Curve25519Test: X25519 agreement between two known key pairs, or a signature."""
    _op(case, {"agreement": _curve_agreement, "verify": _verify})


# -- libsignal-protocol-c XEdDSA ----------------------------------------------------


def _xeddsa_sign(case: Case) -> None:
    private, message = unhex(case, "private"), unhex(case, "message")
    signature = xeddsa.sign(private, message, unhex(case, "random"))
    expect_equal("signature", signature, unhex(case, "signature"))
    try:
        xeddsa.verify(_public_of(case), message, signature)
    except InvalidSignature as exc:
        raise VectorMismatch("verify", f"own signature rejected: {exc}") from None


_ITERATED_VERIFY_EVERY = 250
"""Verify (and check the flipped copy fails) every this many rounds, not all 10,000: speed."""


def _xeddsa_sign_iterated(case: Case) -> None:
    # libsignal-protocol-c internal_slow_tests.c: each round derives the key and
    # the random from the previous (possibly bit-flipped) signature.
    message_len = _int(case, "message_len")
    if message_len == 0:
        raise VectorMismatch("message_len", "must be positive")
    signature = bytes([_int(case, "initial_fill") & 0xFF]) * 64
    message = bytearray(message_len)
    for count in range(1, _int(case, "iterations") + 1):
        privkey = hashlib.sha512(signature).digest()[:32]
        b = hashlib.sha512(privkey).digest()
        sig = bytearray(xeddsa.sign(privkey, bytes(message), b))
        check = count % _ITERATED_VERIFY_EVERY == 0
        if check:
            public = PrivateKey(privkey).public_key().raw
            try:
                xeddsa.verify(public, bytes(message), bytes(sig))
            except InvalidSignature as exc:
                raise VectorMismatch(f"round {count}", f"own signature rejected: {exc}") from None
        if b[63] & 1:
            sig[count % 64] ^= 1
        else:
            message[count % message_len] ^= 1
        signature = bytes(sig)
        if check:
            _expect_invalid(f"round {count} (flipped)", public, bytes(message), signature)
    expect_equal("signature", signature, unhex(case, "signature"))


def check_xeddsa(case: Case) -> None:
    """libsignal-protocol-c XEdDSA tests: deterministic signing, verification, the 10k chains."""
    _op(case, {"sign": _xeddsa_sign, "verify": _verify, "sign_iterated": _xeddsa_sign_iterated})


# -- Double Ratchet KDFs -------------------------------------------------------------


def _hkdf_version(case: Case) -> int:
    version = _int(case, "hkdf_version")
    if version not in (2, 3):
        raise VectorMismatch("hkdf_version", f"must be 2 or 3, got {version}")
    return version


def _chain_key(case: Case) -> None:
    seed, next_chain_key = kdf_chain(unhex(case, "chain_key"))
    expect_equal("next_chain_key", next_chain_key, unhex(case, "next_chain_key"))
    if _hkdf_version(case) == 3:
        cipher_key, mac_key, _iv = derive_message_keys(seed)
    else:
        okm = hkdf(seed, None, b"WhisperMessageKeys", 80, version=2)
        cipher_key, mac_key = okm[:32], okm[32:64]
    expect_equal("cipher_key", cipher_key, unhex(case, "cipher_key"))
    expect_equal("mac_key", mac_key, unhex(case, "mac_key"))


def _root_key(case: Case) -> None:
    root_key = unhex(case, "root_key")
    alice = PrivateKey(unhex(case, "alice_private"))
    # The published alicePublic is carried along but is not alicePrivate's
    # public key; the tests never use it, and neither do we.
    dh_out = alice.agree(PublicKey.deserialize(unhex(case, "bob_public")))
    if _hkdf_version(case) == 3:
        next_root, next_chain = kdf_root(root_key, dh_out)
    else:
        okm = hkdf(dh_out, root_key, b"WhisperRatchet", 64, version=2)
        next_root, next_chain = okm[:32], okm[32:]
    expect_equal("next_root_key", next_root, unhex(case, "next_root_key"))
    expect_equal("next_chain_key", next_chain, unhex(case, "next_chain_key"))


def check_ratchet_kdf(case: Case) -> None:
    """Double Ratchet chain-key and root-key steps (python-axolotl / libsignal tests)."""
    _op(case, {"chain_key": _chain_key, "root_key": _root_key})
