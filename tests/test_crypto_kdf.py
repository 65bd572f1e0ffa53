"""HKDF and the Double Ratchet KDFs (the published vectors live in vectors/)."""

from __future__ import annotations

import hmac
from hashlib import sha256

import pytest
from hypothesis import given
from hypothesis import strategies as st

from axolotl.crypto.kdf import derive_message_keys, hkdf, kdf_chain, kdf_root
from axolotl.errors import UsageError

keys = st.binary(min_size=32, max_size=32)


@given(
    st.binary(max_size=64), st.binary(max_size=40), st.binary(max_size=40), st.integers(1, 255 * 32)
)
def test_hkdf_length_and_prefix(ikm: bytes, salt: bytes, info: bytes, length: int) -> None:
    out = hkdf(ikm, salt, info, length)
    assert len(out) == length
    # Expand is a stream: a shorter output is a prefix of a longer one.
    assert hkdf(ikm, salt, info, min(length, 33)) == out[: min(length, 33)]


@given(st.binary(max_size=64), st.binary(max_size=40))
def test_hkdf_empty_salt_is_zero_salt(ikm: bytes, info: bytes) -> None:
    assert hkdf(ikm, None, info, 42) == hkdf(ikm, b"", info, 42) == hkdf(ikm, bytes(32), info, 42)


@given(st.binary(max_size=64), st.binary(max_size=40), st.binary(max_size=40))
def test_hkdf_v2_first_block_is_v3_counter_zero(ikm: bytes, salt: bytes, info: bytes) -> None:
    prk = hmac.digest(salt or bytes(32), ikm, sha256)
    assert hkdf(ikm, salt, info, 32, version=2) == hmac.digest(prk, info + b"\x00", sha256)
    assert hkdf(ikm, salt, info, 32) == hmac.digest(prk, info + b"\x01", sha256)


@pytest.mark.parametrize("length", [0, -1, 255 * 32 + 1])
def test_hkdf_length_out_of_range(length: int) -> None:
    with pytest.raises(UsageError, match=str(length)):
        hkdf(b"k", None, b"i", length)


@pytest.mark.parametrize("version", [0, 1, 4])
def test_hkdf_unknown_version(version: int) -> None:
    with pytest.raises(UsageError, match="version"):
        hkdf(b"k", None, b"i", 32, version=version)


@given(keys, keys)
def test_kdf_root_splits_64_bytes(root: bytes, dh: bytes) -> None:
    new_root, chain = kdf_root(root, dh)
    assert new_root + chain == hkdf(dh, root, b"WhisperRatchet", 64)


@given(keys)
def test_kdf_chain_and_message_keys(chain_key: bytes) -> None:
    seed, nxt = kdf_chain(chain_key)
    assert seed != nxt and len(seed) == len(nxt) == 32
    cipher_key, mac_key, iv = derive_message_keys(seed)
    assert (len(cipher_key), len(mac_key), len(iv)) == (32, 32, 16)
    assert cipher_key + mac_key + iv == hkdf(seed, None, b"WhisperMessageKeys", 80)


@given(st.binary(max_size=200), st.binary(max_size=200))
def test_internal_hmac_matches_stdlib(key: bytes, data: bytes) -> None:
    # kdf.py computes HMAC-SHA256 over hashlib for speed; it must equal the
    # stdlib's for keys shorter than, equal to and longer than the 64-byte block.
    from axolotl.crypto.kdf import _hmac, _hmac_pads

    assert _hmac(_hmac_pads(key), data) == hmac.digest(key, data, sha256)


@given(keys)
def test_kdf_chain_is_hmac_01_02(chain_key: bytes) -> None:
    assert kdf_chain(chain_key) == (
        hmac.digest(chain_key, b"\x01", sha256),
        hmac.digest(chain_key, b"\x02", sha256),
    )
