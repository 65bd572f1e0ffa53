"""XEdDSA signatures over Curve25519 keys, as Signal computes and checks them.

Implements Signal's "The XEdDSA and VXEdDSA Signature Schemes" (Trevor Perrin,
2016): ``calculate_key_pair`` (section 2.3), ``xeddsa_sign`` (section 2.5)
and ``xeddsa_verify`` (section 2.6), with the libsignal conventions that make
the signatures interoperate:

* Signing forces the Edwards sign bit of the public key ``A`` to zero by
  negating the private scalar when needed (section 2.3), exactly as
  libsignal-protocol-c's ``xed25519_sign``. The nonce is
  ``hash_1(a || M || Z)``: SHA-512 over the prefix ``0xFE`` followed by 31
  ``0xFF`` bytes (section 2.4), the 32-byte private scalar, the message and
  64 random bytes. Our output reproduces libsignal-protocol-c's published
  ``xeddsa_fast_test`` signature byte for byte.
* Verification takes the sign bit of ``A`` from bit 7 of signature byte 63 and
  clears it before checking, as libsignal (Rust), libsignal-protocol-java's
  curve25519-java and python-axolotl do. It therefore accepts both our
  signatures (bit always 0) and the older libsignal "curve25519_sign"
  signatures that store the real sign bit there.

The Edwards arithmetic runs in libsodium (through pynacl): two fixed-base
scalar multiplications to sign, one Ed25519 verification (double-scalar
multiplication) to verify. The only pure-Python field operation is one
modular inverse that maps the Montgomery ``u`` to the Edwards ``y``; it is
cached per public key, since the same identity or sender signing key is
checked again and again.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import lru_cache

from nacl.bindings import (
    crypto_core_ed25519_scalar_add,
    crypto_core_ed25519_scalar_mul,
    crypto_core_ed25519_scalar_negate,
    crypto_core_ed25519_scalar_reduce,
    crypto_scalarmult_ed25519_base_noclamp,
    crypto_sign_open,
)
from nacl.exceptions import CryptoError

from axolotl.errors import InvalidSignature, UsageError

__all__ = [
    "SIGNATURE_LEN",
    "EdwardsKeyPair",
    "calculate_key_pair",
    "sign",
    "sign_with_key_pair",
    "verify",
]

SIGNATURE_LEN = 64
_KEY_LEN = 32
_RANDOM_LEN = 64
_P = 2**255 - 19
# hash_1 of the spec (section 2.4): 2^256 - 1 - 1 as 32 little-endian bytes.
_HASH1_PREFIX = b"\xfe" + b"\xff" * 31
_ZERO32 = bytes(32)
# The encoding of the Edwards neutral element (x = 0, y = 1).
_IDENTITY = b"\x01" + bytes(31)


def _clamp(raw: bytes) -> bytes:
    """Clamp a Curve25519 private key as X25519 does (RFC 7748, section 5)."""
    k = bytearray(raw)
    k[0] &= 248
    k[31] &= 127
    k[31] |= 64
    return bytes(k)


def _base_mult(scalar: bytes) -> bytes:
    """``scalar * B`` for a reduced scalar; libsodium refuses the neutral result."""
    if scalar == _ZERO32:
        return _IDENTITY
    return crypto_scalarmult_ed25519_base_noclamp(scalar)


@dataclass(frozen=True, slots=True)
class EdwardsKeyPair:
    """The Edwards form of a Curve25519 private key (spec section 2.3).

    Computing it costs a fixed-base scalar multiplication; a caller that signs
    repeatedly with one key (``PrivateKey`` does) keeps it and passes it to
    :func:`sign_with_key_pair`.

    Attributes:
        nonce_scalar: the 32 bytes of ``a`` that enter the nonce hash: the
            clamped key itself when no negation is needed, else ``-k mod q``
            (as libsignal-protocol-c's ``xed25519_sign``).
        scalar: ``a`` reduced mod q, for the arithmetic.
        public: the 32-byte Edwards public key ``A``, sign bit 0.
    """

    nonce_scalar: bytes = field(repr=False)
    scalar: bytes = field(repr=False)
    public: bytes

    def __post_init__(self) -> None:
        for name in ("nonce_scalar", "scalar", "public"):
            value = getattr(self, name)
            if not isinstance(value, bytes) or len(value) != _KEY_LEN:
                raise UsageError(f"EdwardsKeyPair.{name} must be 32 bytes")


def calculate_key_pair(private_raw: bytes) -> EdwardsKeyPair:
    """Spec section 2.3: the Edwards key pair (a, A) with A's sign bit forced to 0.

    Args:
        private_raw: the 32-byte Curve25519 private key (clamped here if it is
            not already, so ``A`` matches the X25519 public key).

    Returns:
        The :class:`EdwardsKeyPair`.

    Raises:
        UsageError: the key is not 32 bytes.
    """
    if len(private_raw) != _KEY_LEN:
        raise UsageError(f"XEdDSA private key must be 32 bytes, got {len(private_raw)}")
    k = _clamp(bytes(private_raw))
    k_reduced = crypto_core_ed25519_scalar_reduce(k + _ZERO32)
    e = crypto_scalarmult_ed25519_base_noclamp(k_reduced)
    if e[31] & 0x80:
        a = crypto_core_ed25519_scalar_negate(k_reduced)
        return EdwardsKeyPair(nonce_scalar=a, scalar=a, public=e[:31] + bytes([e[31] & 0x7F]))
    return EdwardsKeyPair(nonce_scalar=k, scalar=k_reduced, public=e)


def sign(private_raw: bytes, message: bytes, random64: bytes) -> bytes:
    """XEdDSA-sign ``message`` with a Curve25519 private key (spec section 2.5).

    Args:
        private_raw: the 32-byte Curve25519 private key (clamped here if it
            is not already, so the signature matches the X25519 public key).
        message: the bytes to sign.
        random64: 64 secret random bytes ``Z`` for the nonce.

    Returns:
        The 64-byte signature ``R || s``; bit 7 of byte 63 is always 0.

    Raises:
        UsageError: the key is not 32 bytes or ``random64`` not 64 bytes.
    """
    if len(random64) != _RANDOM_LEN:
        raise UsageError(f"XEdDSA needs 64 random bytes, got {len(random64)}")
    return sign_with_key_pair(calculate_key_pair(private_raw), message, random64)


def sign_with_key_pair(key_pair: EdwardsKeyPair, message: bytes, random64: bytes) -> bytes:
    """:func:`sign` with the Edwards key pair already computed.

    Args:
        key_pair: from :func:`calculate_key_pair`.
        message: the bytes to sign.
        random64: 64 secret random bytes ``Z`` for the nonce.

    Returns:
        The 64-byte signature ``R || s``.

    Raises:
        UsageError: ``random64`` is not 64 bytes.
    """
    if len(random64) != _RANDOM_LEN:
        raise UsageError(f"XEdDSA needs 64 random bytes, got {len(random64)}")
    message = bytes(message)
    r = crypto_core_ed25519_scalar_reduce(
        hashlib.sha512(_HASH1_PREFIX + key_pair.nonce_scalar + message + bytes(random64)).digest()
    )
    big_r = _base_mult(r)
    h = crypto_core_ed25519_scalar_reduce(
        hashlib.sha512(big_r + key_pair.public + message).digest()
    )
    s = crypto_core_ed25519_scalar_add(r, crypto_core_ed25519_scalar_mul(h, key_pair.scalar))
    return big_r + s


@lru_cache(maxsize=512)
def _edwards_public(u_raw: bytes) -> tuple[bytes, bytes]:
    """The Edwards public key ``A`` for a Montgomery ``u``, with sign bit 0 and with sign bit 1.

    ``y = (u - 1) / (u + 1)`` costs a modular inverse; both encodings are
    kept so that verifying is a table look-up whichever sign bit a
    signature carries.

    Raises:
        InvalidSignature: ``u`` is not a canonical field element (``u >= p``,
            which includes any key with bit 255 set) or is ``-1``, which has
            no Edwards image.
    """
    u = int.from_bytes(u_raw, "little")
    if u >= _P:
        raise InvalidSignature("public key u-coordinate is not reduced mod 2^255-19")
    if u == _P - 1:
        raise InvalidSignature("public key u = -1 has no Edwards form")
    y = ((u - 1) * pow(u + 1, -1, _P) % _P).to_bytes(32, "little")
    return y, y[:31] + bytes((y[31] | 0x80,))


def verify(public_raw: bytes, message: bytes, signature: bytes) -> None:
    """Check an XEdDSA signature against a Curve25519 public key (spec section 2.6).

    The Edwards sign bit of the public key is read from bit 7 of signature
    byte 63 (libsignal's convention) and cleared before the check.

    Args:
        public_raw: the 32-byte Montgomery ``u``-coordinate (no type byte).
        message: the signed bytes.
        signature: the 64-byte signature.

    Raises:
        InvalidSignature: the key or signature has the wrong length, the key is
            not a valid point, ``s`` is not canonical (``s >= q``), ``R`` or
            ``A`` is malformed or of small order, or the signature does not
            match.
    """
    if len(public_raw) != _KEY_LEN:
        raise InvalidSignature(f"public key must be 32 bytes, got {len(public_raw)}")
    if len(signature) != SIGNATURE_LEN:
        raise InvalidSignature(f"signature must be 64 bytes, got {len(signature)}")
    sig = bytes(signature)
    positive, negative = _edwards_public(bytes(public_raw))
    # Signatures made by XEdDSA (ours, libsignal's) always have bit 7 of byte
    # 63 clear, so the common case passes the signature through uncopied.
    if sig[63] & 0x80:
        signed, big_a = sig[:63] + bytes((sig[63] & 0x7F,)) + bytes(message), negative
    else:
        signed, big_a = sig + bytes(message), positive
    try:
        crypto_sign_open(signed, big_a)
    except CryptoError:
        raise InvalidSignature("XEdDSA signature does not verify") from None
