"""HKDF as Signal v3 uses it, and the Double Ratchet's KDF chains.

Signal v3 uses RFC 5869 HKDF-SHA256 (message version 3 counts the expand
iterations from 1, exactly as RFC 5869). The ratchet derivations follow the
Double Ratchet spec, section 5.2: ``KDF_RK`` (root key + DH output -> new root
key, chain key, info ``WhisperRatchet``), ``KDF_CK`` (HMAC with constant 0x01
for the message key seed, 0x02 for the next chain key) and the message-key
expansion (info ``WhisperMessageKeys`` -> 32-byte cipher key, 32-byte MAC key,
16-byte IV).
"""

from __future__ import annotations

from hashlib import sha256

from axolotl.errors import UsageError

__all__ = [
    "hkdf",
    "kdf_root",
    "kdf_chain",
    "kdf_next_chain_key",
    "derive_message_keys",
    "MessageKeys",
]

_HASH_LEN = 32
_BLOCK_LEN = 64
_ZERO_SALT = bytes(_HASH_LEN)

# HMAC-SHA256 (RFC 2104) spelled out over hashlib instead of ``hmac.digest``.
# Why: with OpenSSL 3 and later, every ``hmac.digest`` call fetches the
# algorithm and builds an HMAC context, ~1.4 µs per call here, while the same
# HMAC as two plain SHA-256 hashes over precomputed pad blocks costs ~0.6 µs.
# A sender-key message runs five HMACs (chain step, HKDF extract and expand)
# and a ratchet message as many, so this is a quarter of a group decrypt's
# cost outside the signature check. The tests compare it with ``hmac.digest``.
_IPAD = bytes(b ^ 0x36 for b in range(256))
_OPAD = bytes(b ^ 0x5C for b in range(256))
_ZERO_SALT_PADS = (bytes(_BLOCK_LEN).translate(_IPAD), bytes(_BLOCK_LEN).translate(_OPAD))


def _hmac_pads(key: bytes) -> tuple[bytes, bytes]:
    """The inner and outer pad blocks of HMAC-SHA256 under ``key`` (RFC 2104, section 2)."""
    if len(key) > _BLOCK_LEN:
        key = sha256(key).digest()
    block = bytes(key).ljust(_BLOCK_LEN, b"\x00")
    return block.translate(_IPAD), block.translate(_OPAD)


def _hmac(pads: tuple[bytes, bytes], data: bytes) -> bytes:
    """HMAC-SHA256 of ``data`` under the key whose pads :func:`_hmac_pads` returned."""
    return sha256(pads[1] + sha256(pads[0] + data).digest()).digest()


def hkdf(ikm: bytes, salt: bytes | None, info: bytes, length: int, *, version: int = 3) -> bytes:
    """RFC 5869 HKDF-SHA256.

    Args:
        ikm: input keying material.
        salt: salt; ``None`` or empty means 32 zero bytes (RFC 5869, 2.2).
        info: context information.
        length: output length, at most 255 * 32.
        version: the Signal message version whose HKDF variant to run: 3
            (the default, exactly RFC 5869: the expand block counter starts
            at 1) or 2 (pre-v3 sessions counted from 0; kept only so the
            published libsignal/python-axolotl v2 vectors can be checked).

    Returns:
        ``length`` bytes of output keying material.

    Raises:
        UsageError: ``length`` or ``version`` is out of range.
    """
    if version not in (2, 3):
        raise UsageError(f"HKDF variant must be message version 2 or 3, got {version}")
    if not 0 < length <= 255 * _HASH_LEN:
        raise UsageError(f"HKDF output length {length} out of range")
    prk = _hmac(_hmac_pads(salt) if salt else _ZERO_SALT_PADS, ikm)
    pads = _hmac_pads(prk)
    out = b""
    block = b""
    i = version - 2
    while len(out) < length:
        block = _hmac(pads, block + info + bytes((i,)))
        out += block
        i += 1
    return out[:length]


def kdf_root(root_key: bytes, dh_out: bytes) -> tuple[bytes, bytes]:
    """``KDF_RK``: derive (new root key, new chain key) from a DH ratchet step."""
    derived = hkdf(dh_out, root_key, b"WhisperRatchet", 64)
    return derived[:32], derived[32:]


def kdf_chain(chain_key: bytes) -> tuple[bytes, bytes]:
    """``KDF_CK``: derive (message key seed, next chain key) from a chain key."""
    pads = _hmac_pads(chain_key)
    return _hmac(pads, b"\x01"), _hmac(pads, b"\x02")


def kdf_next_chain_key(chain_key: bytes) -> bytes:
    """The next chain key alone (``KDF_CK`` with constant 0x02): one HMAC, for walking a chain."""
    return _hmac(_hmac_pads(chain_key), b"\x02")


MessageKeys = tuple[bytes, bytes, bytes]
"""(cipher key 32 B, MAC key 32 B, IV 16 B)."""


def derive_message_keys(seed: bytes) -> MessageKeys:
    """Expand a message key seed into (cipher key, MAC key, IV)."""
    okm = hkdf(seed, None, b"WhisperMessageKeys", 80)
    return okm[:32], okm[32:64], okm[64:80]
