"""AES-256-CBC/PKCS#7, HMAC-SHA256 and constant-time comparison."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from axolotl.crypto.cipher import aes_cbc_decrypt, aes_cbc_encrypt, constant_time_equal, hmac_sha256
from axolotl.errors import AxolotlError, InvalidMessage, UsageError

KEY = bytes(range(32))
IV = bytes(range(16, 32))


@pytest.mark.parametrize("length", range(65))
def test_round_trip_every_length(length: int) -> None:
    plaintext = bytes((i * 7) & 0xFF for i in range(length))
    ciphertext = aes_cbc_encrypt(KEY, IV, plaintext)
    assert len(ciphertext) == (length // 16 + 1) * 16  # always 1-16 pad bytes
    assert aes_cbc_decrypt(KEY, IV, ciphertext) == plaintext


@given(
    st.binary(min_size=32, max_size=32),
    st.binary(min_size=16, max_size=16),
    st.binary(max_size=200),
)
def test_round_trip_random(key: bytes, iv: bytes, plaintext: bytes) -> None:
    assert aes_cbc_decrypt(key, iv, aes_cbc_encrypt(key, iv, plaintext)) == plaintext


@pytest.mark.parametrize("length", [0, 1, 15, 17, 33])
def test_unaligned_ciphertext_is_invalid_message(length: int) -> None:
    with pytest.raises(InvalidMessage, match=f"length {length}"):
        aes_cbc_decrypt(KEY, IV, bytes(length))


def _raw_cbc(blocks: bytes) -> bytes:
    """Encrypt already padded bytes: encrypt with a full pad block, drop it."""
    return aes_cbc_encrypt(KEY, IV, blocks)[: len(blocks)]


@pytest.mark.parametrize(
    "padded",
    [
        bytes(15) + b"\x00",  # pad byte 0
        bytes(15) + b"\x11",  # pad byte 17 > block size
        bytes(14) + b"\x01\x02",  # claims 2 pad bytes, one is wrong
        bytes(12) + b"\x03\x04\x04\x04",
        bytes(16) + bytes(15) + b"\x20",
    ],
)
def test_bad_padding_is_invalid_message(padded: bytes) -> None:
    with pytest.raises(InvalidMessage, match="padding"):
        aes_cbc_decrypt(KEY, IV, _raw_cbc(padded))


@given(st.binary(min_size=16, max_size=64).filter(lambda b: len(b) % 16 == 0))
def test_random_ciphertext_raises_only_invalid_message(ciphertext: bytes) -> None:
    try:
        aes_cbc_decrypt(KEY, IV, ciphertext)
    except AxolotlError as exc:
        assert isinstance(exc, InvalidMessage)


@pytest.mark.parametrize(("key", "iv"), [(bytes(31), IV), (bytes(33), IV), (KEY, bytes(15))])
def test_bad_key_or_iv_is_usage_error(key: bytes, iv: bytes) -> None:
    with pytest.raises(UsageError):
        aes_cbc_encrypt(key, iv, b"x")
    with pytest.raises(UsageError):
        aes_cbc_decrypt(key, iv, bytes(16))


def test_hmac_sha256_rfc4231_case_2() -> None:
    # RFC 4231, section 4.3 (test case 2).
    tag = hmac_sha256(b"Jefe", b"what do ya want for nothing?")
    assert tag.hex() == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"


@given(st.binary(max_size=40), st.binary(max_size=40))
def test_constant_time_equal(a: bytes, b: bytes) -> None:
    assert constant_time_equal(a, b) == (a == b)
    assert constant_time_equal(a, a)
