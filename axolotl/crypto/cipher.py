"""AES-256-CBC with PKCS#7 padding, HMAC-SHA256 and constant-time comparison.

Signal v3 encrypts message bodies with AES-256-CBC/PKCS#7 and authenticates
them with a truncated HMAC-SHA256 (Double Ratchet spec, section 5.2,
"Recommended cryptographic algorithms").
"""

from __future__ import annotations

import hmac as _hmac
from hashlib import sha256

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from axolotl.errors import InvalidMessage, UsageError

__all__ = ["aes_cbc_encrypt", "aes_cbc_decrypt", "hmac_sha256", "constant_time_equal"]

_BLOCK = 16


def _check_key_iv(key: bytes, iv: bytes) -> None:
    if len(key) != 32:
        raise UsageError(f"AES-256 key must be 32 bytes, got {len(key)}")
    if len(iv) != _BLOCK:
        raise UsageError(f"AES-CBC IV must be 16 bytes, got {len(iv)}")


def aes_cbc_encrypt(key: bytes, iv: bytes, plaintext: bytes) -> bytes:
    """Encrypt with AES-256-CBC after PKCS#7 padding (always 1-16 pad bytes).

    Raises:
        UsageError: the key is not 32 bytes or the IV not 16.
    """
    _check_key_iv(key, iv)
    pad = _BLOCK - len(plaintext) % _BLOCK
    enc = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return enc.update(plaintext + bytes([pad]) * pad) + enc.finalize()


def aes_cbc_decrypt(key: bytes, iv: bytes, ciphertext: bytes) -> bytes:
    """Decrypt AES-256-CBC and strip PKCS#7 padding.

    Raises:
        InvalidMessage: the ciphertext is empty, not block aligned, or its
            padding is malformed.
        UsageError: the key is not 32 bytes or the IV not 16.
    """
    _check_key_iv(key, iv)
    if not ciphertext or len(ciphertext) % _BLOCK:
        raise InvalidMessage(
            f"ciphertext length {len(ciphertext)} is not a positive multiple of 16"
        )
    dec = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    padded = dec.update(ciphertext) + dec.finalize()
    pad = padded[-1]
    if not 1 <= pad <= _BLOCK or padded[-pad:] != bytes([pad]) * pad:
        raise InvalidMessage("bad PKCS#7 padding")
    return padded[:-pad]


def hmac_sha256(key: bytes, data: bytes) -> bytes:
    """HMAC-SHA256 of ``data`` under ``key`` (32-byte tag)."""
    return _hmac.digest(key, data, sha256)


def constant_time_equal(a: bytes, b: bytes) -> bool:
    """Compare two byte strings in time independent of where they differ."""
    return _hmac.compare_digest(a, b)
