"""The RetryReceipt protobuf codec."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from axolotl._pb import retry_pb2
from axolotl.errors import AxolotlError, DecodeError, InvalidReceipt
from axolotl.receipts import (
    IncomingRetryReceipt,
    OutgoingRetryReceipt,
    RetryReason,
    parse_receipt_proto,
    receipt_from_proto,
    receipt_to_proto,
)
from tests.test_receipts_entities import BASE, BUNDLE, receipts


@given(receipts)
def test_proto_round_trip(r: Any) -> None:
    data = receipt_to_proto(r)
    assert receipt_from_proto(data, type(r)) == r
    assert parse_receipt_proto(data) == r


def test_direction_is_checked() -> None:
    out = OutgoingRetryReceipt(**BASE, keys=BUNDLE, reason=RetryReason.NO_SESSION)
    with pytest.raises(InvalidReceipt) as info:
        receipt_from_proto(receipt_to_proto(out), IncomingRetryReceipt)
    assert info.value.field == "direction"
    inc = out.received_from("9@s.whatsapp.net")
    with pytest.raises(InvalidReceipt):
        receipt_from_proto(receipt_to_proto(inc), OutgoingRetryReceipt)


def _msg(**changes: Any) -> bytes:
    msg = retry_pb2.RetryReceipt()
    msg.ParseFromString(receipt_to_proto(OutgoingRetryReceipt(**BASE, keys=BUNDLE)))
    for name, value in changes.items():
        if value is None:
            msg.ClearField(name)
        elif name == "keys":
            for k, v in value.items():
                if v is None:
                    msg.keys.ClearField(k)
                else:
                    setattr(msg.keys, k, v)
        else:
            setattr(msg, name, value)
    return msg.SerializeToString()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (_msg(direction=None), "direction"),
        (_msg(message_id=None), "id"),
        (_msg(message_id=""), "id"),
        (_msg(remote_jid=None), "to"),
        (_msg(count=0), "retry.count"),
        (_msg(count=10**9), "retry.count"),
        (_msg(count=None), "retry.count"),
        (_msg(version=0), "retry.v"),
        (_msg(timestamp=None), "retry.t"),
        (_msg(registration_id=None), "registration"),
        (_msg(reason=42), "retry.error"),
        (_msg(keys={"key_type": 4}), "keys.type"),
        (_msg(keys={"identity": bytes(31)}), "keys.identity"),
        (_msg(keys={"pre_key_id": 2**24}), "keys.key.id"),
        (_msg(keys={"pre_key": None}), "keys.key"),
        (_msg(keys={"signed_pre_key_id": 2**24}), "keys.skey.id"),
        (_msg(keys={"signed_pre_key_signature": bytes(63)}), "keys.skey.signature"),
        (_msg(keys={"signed_pre_key": None}), "keys.skey.value"),
        # field 2 (message_id) as a length-delimited invalid UTF-8 string
        (_msg() + bytes([0x12, 2, 0xFF, 0xFE]), "id"),
        (_msg() + bytes([0x22, 1, 0xC0]), "participant"),
    ],
)
def test_bad_protos_name_the_field(data: bytes, field: str) -> None:
    with pytest.raises(InvalidReceipt) as info:
        receipt_from_proto(data, OutgoingRetryReceipt)
    assert info.value.field == field


@pytest.mark.parametrize("data", [b"\xff", b"\x0a\x05ab", b"\x08"])
def test_malformed_protobuf_is_decode_error(data: bytes) -> None:
    with pytest.raises(DecodeError):
        parse_receipt_proto(data)


@given(st.binary(max_size=200))
def test_random_bytes_raise_only_axolotl_errors(data: bytes) -> None:
    with contextlib.suppress(AxolotlError):
        parse_receipt_proto(data)


@given(receipts, st.data())
def test_bit_flips_raise_only_axolotl_errors(r: Any, data: st.DataObject) -> None:
    raw = bytearray(receipt_to_proto(r))
    i = data.draw(st.integers(0, len(raw) * 8 - 1))
    raw[i // 8] ^= 1 << (i % 8)
    with contextlib.suppress(AxolotlError):
        parse_receipt_proto(bytes(raw))
