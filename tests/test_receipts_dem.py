"""libsignal's DecryptionErrorMessage and its PlaintextContent framing."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from axolotl.crypto.curve import KeyPair, PublicKey
from axolotl.errors import AxolotlError, DecodeError, InvalidKey, UsageError
from axolotl.receipts import DecryptionErrorMessage
from axolotl.rng import DeterministicRng
from axolotl.wire import MessageType, PreKeySignalMessage, SenderKeyMessage, SignalMessage

RNG = DeterministicRng(b"test_receipts_dem")
SENDER = KeyPair.generate(RNG)
RECEIVER = KeyPair.generate(RNG)
RATCHET = KeyPair.generate(RNG)
BASE_KEY = KeyPair.generate(RNG)

SIGNAL = SignalMessage.create(
    mac_key=bytes(32),
    sender_identity=SENDER.public_key,
    receiver_identity=RECEIVER.public_key,
    ratchet_key=RATCHET.public_key,
    counter=42,
    previous_counter=41,
    ciphertext=bytes(range(20)),
)
PREKEY = PreKeySignalMessage.create(
    registration_id=365,
    pre_key_id=None,
    signed_pre_key_id=97,
    base_key=BASE_KEY.public_key,
    identity_key=SENDER.public_key,
    message=SIGNAL,
)
# libsignal's test values (rust/protocol/src/protocol.rs, test_decryption_error_message)
TIMESTAMP = 0x2_0000_0001
DEVICE_ID = 0x8086_2021


def test_for_signal_message_takes_its_ratchet_key() -> None:
    dem = DecryptionErrorMessage.for_original(
        SIGNAL.serialized, MessageType.SIGNAL, TIMESTAMP, DEVICE_ID
    )
    assert dem.ratchet_key == RATCHET.public_key
    back = DecryptionErrorMessage.parse(dem.serialize())
    assert back == dem
    assert (back.timestamp, back.device_id) == (TIMESTAMP, DEVICE_ID)


def test_for_prekey_message_takes_the_inner_ratchet_key() -> None:
    dem = DecryptionErrorMessage.for_original(PREKEY.serialized, 3, TIMESTAMP, DEVICE_ID)
    assert dem.ratchet_key == RATCHET.public_key
    assert DecryptionErrorMessage.parse(dem.serialize()) == dem


def test_for_sender_key_message_has_no_ratchet_key() -> None:
    skm = SenderKeyMessage.create(
        signing_key=BASE_KEY.private_key, key_id=1, iteration=2, ciphertext=b"test", rng=RNG
    )
    dem = DecryptionErrorMessage.for_original(
        skm.serialized, MessageType.SENDER_KEY, TIMESTAMP, DEVICE_ID
    )
    assert dem.ratchet_key is None
    assert DecryptionErrorMessage.parse(dem.serialize()) == dem


@pytest.mark.parametrize("kind", [MessageType.SENDER_KEY_DISTRIBUTION, 1, 99])
def test_for_other_types_is_a_usage_error(kind: int) -> None:
    with pytest.raises(UsageError):
        DecryptionErrorMessage.for_original(b"", kind, 5, 7)


def test_for_garbage_signal_message_is_a_remote_error() -> None:
    with pytest.raises(AxolotlError):
        DecryptionErrorMessage.for_original(b"\x33\x00", MessageType.SIGNAL, 5, 7)


def test_wire_layout_and_plaintext_content() -> None:
    dem = DecryptionErrorMessage(timestamp=5, device_id=7, ratchet_key=RATCHET.public_key)
    # field 1 (33 bytes), field 2 = 5, field 3 = 7 -- libsignal's encoding order
    assert dem.serialize() == b"\x0a\x21" + RATCHET.public_key.serialize() + b"\x10\x05\x18\x07"
    framed = dem.to_plaintext_content()
    assert framed[0] == 0xC0 and framed[-1] == 0x80
    # Content.decryption_error_message = 8 (tag 0x42)
    assert framed[1:3] == bytes([0x42, len(dem.serialize())])
    assert DecryptionErrorMessage.from_plaintext_content(framed) == dem


def test_absent_device_id_reads_as_zero_and_timestamp_is_required() -> None:
    assert DecryptionErrorMessage.parse(b"\x10\x05") == DecryptionErrorMessage(
        timestamp=5, device_id=0
    )
    with pytest.raises(DecodeError):
        DecryptionErrorMessage.parse(b"\x18\x07")
    with pytest.raises(InvalidKey):
        DecryptionErrorMessage.parse(b"\x0a\x02\x05\x00\x10\x05")


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\xc0",
        b"\xc1\x80",
        b"\xc0\x42\x00\x00",
        b"\xc0\xff\x80",
        b"\xc0\x80",
        b"\xc0\x42\x00\x80",
    ],
)
def test_bad_plaintext_content(data: bytes) -> None:
    with pytest.raises(DecodeError):
        DecryptionErrorMessage.from_plaintext_content(data)


def test_construction_validates() -> None:
    with pytest.raises(UsageError):
        DecryptionErrorMessage(timestamp=-1, device_id=0)
    with pytest.raises(UsageError):
        DecryptionErrorMessage(timestamp=0, device_id=2**32)
    with pytest.raises(UsageError):
        DecryptionErrorMessage(timestamp=0, device_id=0, ratchet_key=b"x")  # type: ignore[arg-type]


dems = st.builds(
    DecryptionErrorMessage,
    timestamp=st.integers(0, 2**64 - 1),
    device_id=st.integers(0, 2**32 - 1),
    ratchet_key=st.none() | st.binary(min_size=32, max_size=32).map(PublicKey),
)


@given(dems)
def test_round_trips(dem: DecryptionErrorMessage) -> None:
    assert DecryptionErrorMessage.parse(dem.serialize()) == dem
    assert DecryptionErrorMessage.from_plaintext_content(dem.to_plaintext_content()) == dem


@given(st.binary(max_size=120))
def test_random_bytes_raise_only_axolotl_errors(data: bytes) -> None:
    for parse in (DecryptionErrorMessage.parse, DecryptionErrorMessage.from_plaintext_content):
        with contextlib.suppress(AxolotlError):
            parse(data)


@given(dems, st.data())
def test_bit_flips_raise_only_axolotl_errors(
    dem: DecryptionErrorMessage, data: st.DataObject
) -> None:
    raw = bytearray(dem.to_plaintext_content())
    i = data.draw(st.integers(0, len(raw) * 8 - 1))
    raw[i // 8] ^= 1 << (i % 8)
    with contextlib.suppress(AxolotlError):
        DecryptionErrorMessage.from_plaintext_content(bytes(raw))
