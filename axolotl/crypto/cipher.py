"""AES-256-CBC with PKCS#7 padding, HMAC-SHA256 and constant-time comparison.

Signal v3 encrypts message bodies with AES-256-CBC/PKCS#7 and authenticates
them with a truncated HMAC-SHA256 (Double Ratchet spec, section 5.2,
"Recommended cryptographic algorithms").
"""

from __future__ import annotations

import hmac as _hmac
from hashlib import sha256

from cryptography.hazmat.primitives.ciphers import Cipher
from cryptography.hazmat.primitives.ciphers.algorithms import AES
from cryptography.hazmat.primitives.ciphers.modes import CBC

from axolotl.errors import InvalidMessage, UsageError

__all__ = ["aes_cbc_encrypt", "aes_cbc_decrypt", "hmac_sha256", "constant_time_equal"]

_BLOCK = 16
# PKCS#7 pad strings by length, so padding and its check build no bytes.
_PADS = tuple(bytes((n,)) * n for n in range(_BLOCK + 1))


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
    # The library's CBC context pads nothing itself, so update() returns every
    # whole block at once; the input is padded to whole blocks here, which
    # leaves finalize() nothing to add (skipping it saves a call per message).
    encryptor = Cipher(AES(key), CBC(iv)).encryptor()
    return encryptor.update(plaintext + _PADS[_BLOCK - len(plaintext) % _BLOCK])


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
    # As in aes_cbc_encrypt: the input is whole blocks, so update() returns
    # all of it and finalize() would add nothing.
    padded = Cipher(AES(key), CBC(iv)).decryptor().update(ciphertext)
    pad = padded[-1]
    if not 1 <= pad <= _BLOCK or padded[-pad:] != _PADS[pad]:
        raise InvalidMessage("bad PKCS#7 padding")
    return padded[:-pad]


def hmac_sha256(key: bytes, data: bytes) -> bytes:
    """HMAC-SHA256 of ``data`` under ``key`` (32-byte tag)."""
    return _hmac.digest(key, data, sha256)


def constant_time_equal(a: bytes, b: bytes) -> bool:
    """Compare two byte strings in time independent of where they differ."""
    return _hmac.compare_digest(a, b)
