"""axolotl.keys: value checks of bundles and records, and what their deserializers raise.

The cases come from the fuzz campaign (``tests/fuzz``, targets ``prekey_bundle``
and ``records``): a PreKeyBundle built from a server's or a receipt's values
must refuse a wrong type with UsageError at construction, not fail later with
a TypeError or AttributeError deep in the session code; a stored record that
decodes to an out-of-range value is a DecodeError like any other bad record.
"""

from __future__ import annotations

from typing import Any

import pytest

from axolotl._pb import storage_pb2
from axolotl.crypto.curve import KeyPair
from axolotl.errors import DecodeError, UsageError
from axolotl.keys import (
    MAX_KEY_ID,
    PreKeyBundle,
    PreKeyRecord,
    SignedPreKeyRecord,
    generate_identity_key_pair,
    generate_signed_pre_key,
)
from axolotl.rng import DeterministicRng

_RNG = DeterministicRng("test-keys")
_IDENTITY = generate_identity_key_pair(_RNG)
_SIGNED = generate_signed_pre_key(_IDENTITY, 7, 1700000000000, _RNG)
_ONE_TIME = KeyPair.generate(_RNG)


def _bundle_fields() -> dict[str, Any]:
    return {
        "registration_id": 1234,
        "device_id": 1,
        "pre_key_id": 5,
        "pre_key_public": _ONE_TIME.public_key,
        "signed_pre_key_id": _SIGNED.id,
        "signed_pre_key_public": _SIGNED.key_pair.public_key,
        "signed_pre_key_signature": _SIGNED.signature,
        "identity_key": _IDENTITY.public_key,
    }


def test_a_valid_bundle_builds_and_verifies() -> None:
    PreKeyBundle(**_bundle_fields()).verify_signature()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("registration_id", None),
        ("registration_id", _IDENTITY.public_key),
        ("registration_id", True),
        ("registration_id", 1.0),
        ("registration_id", -1),
        ("registration_id", 2**32),
        ("device_id", None),
        ("device_id", -1),
        ("device_id", 2**32),
        ("device_id", "1"),
        ("pre_key_id", True),
        ("pre_key_id", MAX_KEY_ID + 1),
        ("pre_key_public", _ONE_TIME.public_key.serialize()),
        ("pre_key_public", 5),
        ("signed_pre_key_id", None),
        ("signed_pre_key_id", False),
        ("signed_pre_key_public", None),
        ("signed_pre_key_public", _SIGNED.key_pair.public_key.raw),
        ("signed_pre_key_signature", None),
        ("signed_pre_key_signature", 64),
        ("signed_pre_key_signature", "x" * 64),
        ("signed_pre_key_signature", bytearray(64)),
        ("identity_key", None),
        ("identity_key", _IDENTITY.public_key.serialize()),
        ("identity_key", 0),
    ],
)
def test_bundle_refuses_wrong_types_with_usage_error(field: str, value: object) -> None:
    fields = _bundle_fields()
    fields[field] = value
    with pytest.raises(UsageError, match=field.replace("_", ".")):
        PreKeyBundle(**fields)


def test_bundle_without_one_time_prekey() -> None:
    fields = _bundle_fields()
    fields["pre_key_id"] = fields["pre_key_public"] = None
    assert PreKeyBundle(**fields).pre_key_public is None


@pytest.mark.parametrize(
    ("args", "what"),
    [
        ((True, _ONE_TIME), "prekey id"),
        ((MAX_KEY_ID + 1, _ONE_TIME), "prekey id"),
        ((1, _ONE_TIME.public_key), "key pair"),
        ((1, None), "key pair"),
    ],
)
def test_prekey_record_refuses_bad_values(args: tuple[Any, ...], what: str) -> None:
    with pytest.raises(UsageError, match=what):
        PreKeyRecord(*args)


@pytest.mark.parametrize(
    ("change", "what"),
    [
        ({"key_pair": _SIGNED.key_pair.public_key}, "key pair"),
        ({"signature": None}, "signature"),
        ({"signature": 64}, "signature"),
        ({"timestamp": -1}, "timestamp"),
        ({"timestamp": 2**64}, "timestamp"),
        ({"timestamp": None}, "timestamp"),
        ({"timestamp": 1.5}, "timestamp"),
    ],
)
def test_signed_prekey_record_refuses_bad_values(change: dict[str, Any], what: str) -> None:
    fields = {
        "id": _SIGNED.id,
        "key_pair": _SIGNED.key_pair,
        "signature": _SIGNED.signature,
        "timestamp": _SIGNED.timestamp,
    }
    fields.update(change)
    with pytest.raises(UsageError, match=what):
        SignedPreKeyRecord(**fields)


def _stored(message: Any, **fields: Any) -> bytes:
    for name, value in fields.items():
        setattr(message, name, value)
    data: bytes = message.SerializeToString()
    return data


def test_stored_prekey_with_an_out_of_range_id_is_a_decode_error() -> None:
    good = storage_pb2.PreKeyRecordStructure.FromString(PreKeyRecord(1, _ONE_TIME).serialize())
    data = _stored(good, id=MAX_KEY_ID + 1)
    with pytest.raises(DecodeError, match="PreKeyRecord"):
        PreKeyRecord.deserialize(data)


def test_stored_signed_prekey_with_an_out_of_range_id_is_a_decode_error() -> None:
    good = storage_pb2.SignedPreKeyRecordStructure.FromString(_SIGNED.serialize())
    data = _stored(good, id=2**32 - 1)
    with pytest.raises(DecodeError, match="SignedPreKeyRecord"):
        SignedPreKeyRecord.deserialize(data)


def test_records_round_trip() -> None:
    record = PreKeyRecord(MAX_KEY_ID, _ONE_TIME)
    assert PreKeyRecord.deserialize(record.serialize()) == record
    assert SignedPreKeyRecord.deserialize(_SIGNED.serialize()) == _SIGNED
