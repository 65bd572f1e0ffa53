"""Retry receipt entities: construction, validation, helpers.

Also the hypothesis strategies the other ``test_receipts_*`` modules import.
"""

from __future__ import annotations

import copy
import dataclasses
import pickle
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from axolotl.errors import InvalidReceipt, UsageError
from axolotl.receipts import (
    IncomingRetryReceipt,
    KeyBundle,
    OutgoingRetryReceipt,
    RetryReason,
    entities,
    receipt_from_node,
    receipt_to_node,
)

# -- strategies (imported by the other test_receipts_* modules) -----------------------

# Ids and JIDs are printable text (str.isprintable: no C* or Z* category but
# the space), see axolotl.receipts.limits.
printable = st.characters(blacklist_categories=("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp", "Zs"))
texts = st.text(printable | st.just(" "), min_size=1, max_size=24)
jids = st.from_regex(r"\A[0-9]{1,15}(:[0-9]{1,2})?@(s\.whatsapp\.net|g\.us|lid)\Z")


@st.composite
def key_bundles(draw: st.DrawFn) -> KeyBundle:
    with_pre_key = draw(st.booleans())
    return KeyBundle(
        identity=draw(st.binary(min_size=32, max_size=32)),
        signed_pre_key_id=draw(st.integers(0, 0xFFFFFF)),
        signed_pre_key=draw(st.binary(min_size=32, max_size=32)),
        signed_pre_key_signature=draw(st.binary(min_size=64, max_size=64)),
        pre_key_id=draw(st.integers(0, 0xFFFFFF)) if with_pre_key else None,
        pre_key=draw(st.binary(min_size=32, max_size=32)) if with_pre_key else None,
        device_identity=draw(st.none() | st.binary(max_size=80)),
    )


def _fields(jid_name: str) -> dict[str, Any]:
    return {
        "message_id": texts,
        jid_name: jids | texts,
        "count": st.integers(1, 255),
        "timestamp": st.integers(0, 2**64 - 1),
        "registration_id": st.integers(0, 2**32 - 1),
        "participant": st.none() | jids,
        "recipient": st.none() | jids,
        "version": st.integers(1, 2**32 - 1),
        "reason": st.none() | st.sampled_from(RetryReason),
        "receipt_timestamp": st.none() | st.integers(0, 2**64 - 1),
        "keys": st.none() | key_bundles(),
    }


outgoing_receipts = st.fixed_dictionaries(_fields("to")).map(lambda kw: OutgoingRetryReceipt(**kw))
incoming_receipts = st.fixed_dictionaries(_fields("sender")).map(
    lambda kw: IncomingRetryReceipt(**kw)
)
receipts = outgoing_receipts | incoming_receipts

BUNDLE = KeyBundle(
    identity=bytes(range(32)),
    pre_key_id=1,
    pre_key=bytes(range(32, 64)),
    signed_pre_key_id=7,
    signed_pre_key=bytes(range(64, 96)),
    signed_pre_key_signature=bytes(range(96, 160)),
)

BASE = {
    "message_id": "3EB0C431C2A4D3E8F1A2",
    "to": "4915225256022@s.whatsapp.net",
    "count": 2,
    "timestamp": 1432833266,
    "registration_id": 12345,
}


# -- tests ----------------------------------------------------------------------------


def test_reason_codes_match_design() -> None:
    assert [(r.name, r.value) for r in RetryReason] == [
        ("UNKNOWN_ERROR", 0),
        ("NO_SESSION", 1),
        ("INVALID_KEY", 2),
        ("INVALID_KEY_ID", 3),
        ("INVALID_MESSAGE", 4),
        ("INVALID_SIGNATURE", 5),
        ("FUTURE_MESSAGE", 6),
        ("BAD_MAC", 7),
        ("INVALID_SESSION", 8),
        ("INVALID_MESSAGE_KEY", 9),
    ]


def test_max_count_agrees_with_node_codec() -> None:
    assert entities.MAX_COUNT == 255
    top = OutgoingRetryReceipt(**{**BASE, "count": entities.MAX_COUNT})
    node = receipt_to_node(top)
    assert receipt_from_node(node, OutgoingRetryReceipt) == top
    node.children[0].attrs["count"] = str(entities.MAX_COUNT + 1)
    with pytest.raises(InvalidReceipt, match=r"retry\.count"):
        receipt_from_node(node, OutgoingRetryReceipt)
    with pytest.raises(UsageError, match=r"retry\.count"):
        OutgoingRetryReceipt(**{**BASE, "count": entities.MAX_COUNT + 1})


def test_for_failed_message_addresses_the_sender() -> None:
    r = OutgoingRetryReceipt.for_failed_message(
        message_id="m1",
        sender="1@s.whatsapp.net",
        timestamp=5,
        count=1,
        registration_id=9,
        reason=RetryReason.BAD_MAC,
        participant="2@s.whatsapp.net",
        keys=BUNDLE,
    )
    assert (r.to, r.participant, r.reason, r.keys, r.version) == (
        "1@s.whatsapp.net",
        "2@s.whatsapp.net",
        RetryReason.BAD_MAC,
        BUNDLE,
        1,
    )


def test_received_from_swaps_address_and_keeps_fields() -> None:
    r = OutgoingRetryReceipt(**BASE, keys=BUNDLE, reason=RetryReason.NO_SESSION)
    inc = r.received_from("7@s.whatsapp.net", receipt_timestamp=99)
    assert isinstance(inc, IncomingRetryReceipt)
    assert (inc.sender, inc.receipt_timestamp, inc.keys, inc.reason) == (
        "7@s.whatsapp.net",
        99,
        BUNDLE,
        RetryReason.NO_SESSION,
    )


def test_equality_is_by_type_and_fields() -> None:
    r = OutgoingRetryReceipt(**BASE)
    assert r == OutgoingRetryReceipt(**BASE)
    assert hash(r) == hash(OutgoingRetryReceipt(**BASE))
    assert r != dataclasses.replace(r, count=3)
    inc = IncomingRetryReceipt(
        message_id=r.message_id, sender=r.to, count=2, timestamp=r.timestamp, registration_id=12345
    )
    assert r != inc and inc != r
    assert r != dataclasses.astuple(r)


@pytest.mark.parametrize("cls", [OutgoingRetryReceipt, IncomingRetryReceipt])
def test_receipts_are_frozen_slotted_keyword_only_dataclasses(cls: type[Any]) -> None:
    params = dataclasses.fields(cls)
    assert [f.name for f in params][:2] == [
        "message_id",
        "to" if cls is OutgoingRetryReceipt else "sender",
    ]
    assert all(f.kw_only for f in params)
    assert cls.__dataclass_params__.frozen and "__slots__" in cls.__dict__
    assert cls.__eq__ is not object.__eq__ and "__new__" not in cls.__dict__
    r = OutgoingRetryReceipt(**BASE)
    receipt = r if cls is OutgoingRetryReceipt else r.received_from("7@s.whatsapp.net")
    with pytest.raises(dataclasses.FrozenInstanceError):
        receipt.count = 3  # type: ignore[misc]
    assert not hasattr(receipt, "__dict__")
    with pytest.raises(TypeError):
        cls(BASE["message_id"], BASE["to"], 2, 5, 9)


def test_copy_pickle_and_replace_validate() -> None:
    r = OutgoingRetryReceipt(**BASE, keys=BUNDLE)
    assert copy.copy(r) == r
    assert copy.deepcopy(r) == r
    assert pickle.loads(pickle.dumps(r)) == r
    assert type(pickle.loads(pickle.dumps(r))) is OutgoingRetryReceipt
    with pytest.raises(UsageError, match=r"retry\.count"):
        dataclasses.replace(r, count=0)
    with pytest.raises(UsageError, match=r"retry\.count"):
        dataclasses.replace(r, count=256)
    assert dataclasses.replace(r, count=3).count == 3


def test_a_subclass_is_built_and_checked_like_its_base() -> None:
    class Tagged(OutgoingRetryReceipt):
        pass

    t = Tagged(**BASE)
    assert type(t) is Tagged and t.to == BASE["to"] and t.keys is None
    with pytest.raises(UsageError, match=r"retry\.count"):
        Tagged(**{**BASE, "count": 0})
    assert receipt_from_node(receipt_to_node(t), OutgoingRetryReceipt) == OutgoingRetryReceipt(
        **BASE
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"message_id": ""}, "id"),
        ({"message_id": 5}, "id"),
        ({"message_id": "\ud800"}, "id"),
        ({"to": ""}, "to"),
        ({"count": 0}, "retry.count"),
        ({"count": 256}, "retry.count"),
        ({"count": 10**9}, "retry.count"),
        ({"count": True}, "retry.count"),
        ({"count": "2"}, "retry.count"),
        ({"version": 0}, "retry.v"),
        ({"timestamp": -1}, "retry.t"),
        ({"timestamp": 2**64}, "retry.t"),
        ({"registration_id": 2**32}, "registration"),
        ({"registration_id": -1}, "registration"),
        ({"participant": ""}, "participant"),
        ({"recipient": b"x"}, "recipient"),
        ({"reason": 7}, "retry.error"),
        ({"receipt_timestamp": -5}, "t"),
        ({"keys": "bundle"}, "keys"),
    ],
)
def test_construction_refuses_bad_values(change: dict[str, Any], field: str) -> None:
    with pytest.raises(UsageError, match=f"^{field.replace('.', '[.]')}: "):
        OutgoingRetryReceipt(**{**BASE, **change})


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"identity": bytes(31)}, "keys.identity"),
        ({"signed_pre_key": bytes(33)}, "keys.skey.value"),
        ({"signed_pre_key_signature": bytes(63)}, "keys.skey.signature"),
        ({"signed_pre_key_id": 2**24}, "keys.skey.id"),
        ({"pre_key_id": 2**24}, "keys.key.id"),
        ({"pre_key": bytes(31)}, "keys.key.value"),
        ({"pre_key": None}, "keys.key"),
        ({"key_type": 4}, "keys.type"),
        ({"device_identity": "x"}, "keys.device-identity"),
    ],
)
def test_key_bundle_refuses_bad_values(change: dict[str, Any], field: str) -> None:
    kwargs = {
        "identity": BUNDLE.identity,
        "pre_key_id": 1,
        "pre_key": BUNDLE.pre_key,
        "signed_pre_key_id": 7,
        "signed_pre_key": BUNDLE.signed_pre_key,
        "signed_pre_key_signature": BUNDLE.signed_pre_key_signature,
    }
    with pytest.raises(UsageError, match=f"^{field.replace('.', '[.]')}: "):
        KeyBundle(**{**kwargs, **change})


def test_key_bundle_public_key_views() -> None:
    assert BUNDLE.identity_public.raw == BUNDLE.identity
    assert BUNDLE.signed_pre_key_public.serialize() == b"\x05" + BUNDLE.signed_pre_key
    assert BUNDLE.pre_key_public is not None and BUNDLE.pre_key_public.raw == BUNDLE.pre_key
    rebuilt = KeyBundle.from_public_keys(
        identity=BUNDLE.identity_public,
        signed_pre_key_id=7,
        signed_pre_key=BUNDLE.signed_pre_key_public,
        signed_pre_key_signature=BUNDLE.signed_pre_key_signature,
        pre_key_id=1,
        pre_key=BUNDLE.pre_key_public,
    )
    assert rebuilt == BUNDLE


@given(receipts)
def test_generated_receipts_are_valid_and_replace_round_trips(r: Any) -> None:
    assert dataclasses.replace(r) == r
