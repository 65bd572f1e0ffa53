"""Retry receipt fields under the limits: canonical numbers, retry@id, ids and JIDs, sizes.

The constructors and every codec (node tree, node text, protobuf, yowsup
bridge) accept and refuse the same values, with the same field names.
"""

from __future__ import annotations

import sys
from typing import Any

import pytest

from axolotl.errors import AxolotlError, DecodeError, InvalidReceipt, UsageError
from axolotl.receipts import (
    DecryptionErrorMessage,
    IncomingRetryReceipt,
    Node,
    OutgoingRetryReceipt,
    node_to_yowsup,
    parse_receipt_node,
    parse_receipt_proto,
    parse_text,
    receipt_from_node,
    receipt_from_yowsup,
    receipt_to_node,
    receipt_to_proto,
)
from axolotl.receipts import fields as fields_module
from axolotl.receipts.limits import (
    MAX_DEM_LENGTH,
    MAX_PLAINTEXT_CONTENT_LENGTH,
    MAX_RECEIPT_PROTO_LENGTH,
    parse_uint,
)
from axolotl.receipts.node import unchecked
from tests.test_receipts_entities import BASE, BUNDLE
from tests.test_receipts_node import _bundle_kwargs
from tests.test_receipts_yowsup import FakeProtocolTreeNode

# -- one canonical integer syntax ----------------------------------------------------


@pytest.mark.parametrize(
    ("text", "number"),
    [("0", 0), ("1", 1), ("255", 255), ("18446744073709551615", 2**64 - 1)],
)
def test_canonical_numbers(text: str, number: int) -> None:
    assert parse_uint(text, 2**64 - 1) == number


@pytest.mark.parametrize(
    "text",
    [
        "",
        "01",
        "00",
        "+1",
        "-1",
        " 1",
        "1 ",
        "1.0",
        "1e3",
        "0x1",
        "\u0661",
        "\u00b2",
        "9" * 21,
        "9" * 4301,
    ],
)
def test_non_canonical_numbers(text: str) -> None:
    assert parse_uint(text, 2**64 - 1) is None


def test_out_of_range_and_non_strings() -> None:
    assert parse_uint("256", 255) is None
    assert parse_uint(5, 255) is None
    assert parse_uint(None, 255) is None


def _receipt_node(**retry: str | None) -> Node:
    node = receipt_to_node(OutgoingRetryReceipt(**BASE))
    attrs = dict(node.children[0].attrs)
    for key, value in retry.items():
        if value is None:
            attrs.pop(key, None)
        else:
            attrs[key] = value
    return Node(node.tag, node.attrs, [Node("retry", attrs), *node.children[1:]])


NON_CANONICAL = ["01", "007", "+2", "-2", " 2", "2 ", "\u0662", "0x2", "2.0", "9" * 21, "9" * 4000]


@pytest.mark.parametrize("value", NON_CANONICAL)
@pytest.mark.parametrize("name", ["count", "t", "v", "error"])
def test_numeric_retry_attributes_are_canonical(name: str, value: str) -> None:
    with pytest.raises(InvalidReceipt) as info:
        receipt_from_node(_receipt_node(**{name: value}), OutgoingRetryReceipt)
    assert info.value.field == f"retry.{name}"


@pytest.mark.parametrize("value", NON_CANONICAL)
def test_receipt_t_is_canonical(value: str) -> None:
    node = receipt_to_node(OutgoingRetryReceipt(**BASE))
    bad = Node(node.tag, {**node.attrs, "t": value}, node.children)
    with pytest.raises(InvalidReceipt) as info:
        receipt_from_node(bad, OutgoingRetryReceipt)
    assert info.value.field == "t"


def test_zero_is_canonical_where_zero_is_allowed() -> None:
    assert receipt_from_node(_receipt_node(t="0"), OutgoingRetryReceipt).timestamp == 0
    assert receipt_from_node(_receipt_node(error="0"), OutgoingRetryReceipt).reason == 0


def test_a_4301_digit_timestamp_is_a_typed_error_on_every_path() -> None:
    # Python's int() raises ValueError past 4300 digits: no path may get there.
    digits = "9" * 4301
    text = receipt_to_node(OutgoingRetryReceipt(**BASE)).to_text()
    hostile = text.replace('t="1432833266"', f't="{digits}"')
    with pytest.raises(DecodeError):
        parse_text(hostile)
    with pytest.raises(UsageError):
        _receipt_node(t=digits)
    # a node built without the constructor's checks reaches the receipt codec
    good = receipt_to_node(OutgoingRetryReceipt(**BASE))
    retry = unchecked("retry", {**good.children[0].attrs, "t": digits}, (), None)
    raw = unchecked("receipt", dict(good.attrs), (retry, good.children[1]), None)
    with pytest.raises(InvalidReceipt) as info:
        receipt_from_node(raw, OutgoingRetryReceipt)
    assert info.value.field == "retry.t"
    ptn = FakeProtocolTreeNode(
        "receipt",
        dict(good.attrs),
        [
            FakeProtocolTreeNode("retry", {**good.children[0].attrs, "t": digits}),
            FakeProtocolTreeNode("registration", None, None, good.children[1].data),
        ],
    )
    with pytest.raises(InvalidReceipt) as info:
        receipt_from_yowsup(ptn, OutgoingRetryReceipt)
    assert info.value.field == "retry.t"
    ptn.children[0].attributes["t"] = 10**4301 - 1  # yowsup code may leave ints
    with pytest.raises(InvalidReceipt) as info:
        receipt_from_yowsup(ptn, OutgoingRetryReceipt)
    assert info.value.field == "retry.t"


def test_retry_id_is_required_and_equal() -> None:
    with pytest.raises(InvalidReceipt) as info:
        receipt_from_node(_receipt_node(id=None), OutgoingRetryReceipt)
    assert (info.value.field, info.value.reason) == ("retry.id", "missing")
    with pytest.raises(InvalidReceipt) as info:
        receipt_from_node(_receipt_node(id=BASE["message_id"] + "x"), OutgoingRetryReceipt)
    assert info.value.field == "retry.id"


# -- receipt fields --------------------------------------------------------------------

BAD_TEXT = [
    "",
    "a" * 257,
    "a\x00b",
    "a\rb",
    "a\nb",
    "a\tb",
    "\x1b[31mred",
    "a\x07",
    "a\x7fb",
    "a\x85b",
    "a\u200bb",
    "a\u202eb",
    "a\u2028b",
    "a\ud800",
]
GOOD_TEXT = ["a" * 256, "a b@s.whatsapp.net", "é€😀@x", "a&<>\"'\\b"]


def _outgoing(**changes: Any) -> OutgoingRetryReceipt:
    return OutgoingRetryReceipt(**{**BASE, **changes})


@pytest.mark.parametrize("value", BAD_TEXT)
@pytest.mark.parametrize(
    ("name", "field"),
    [
        ("message_id", "id"),
        ("to", "to"),
        ("participant", "participant"),
        ("recipient", "recipient"),
    ],
)
def test_bad_text_is_refused_by_constructor_and_codecs(name: str, field: str, value: str) -> None:
    with pytest.raises(UsageError, match=f"^{field}: "):
        _outgoing(**{name: value})
    node = receipt_to_node(_outgoing(participant="p@g.us", recipient="r@s"))
    attrs = {**node.attrs, field: value}
    kids = node.children
    if field == "id":
        kids = (unchecked("retry", {**kids[0].attrs, "id": value}, (), None), *kids[1:])
    with pytest.raises(InvalidReceipt) as info:
        receipt_from_node(unchecked("receipt", attrs, kids, None), OutgoingRetryReceipt)
    assert info.value.field == field
    text = Node("receipt", attrs, kids).to_text()
    with pytest.raises(InvalidReceipt) as info:
        parse_receipt_node(parse_text(text))
    assert info.value.field == field
    ptn = node_to_yowsup(Node("receipt", attrs, kids), FakeProtocolTreeNode)
    with pytest.raises(InvalidReceipt) as info:
        receipt_from_yowsup(ptn, OutgoingRetryReceipt)
    assert info.value.field == field


@pytest.mark.parametrize("value", GOOD_TEXT)
def test_good_text_is_accepted_everywhere(value: str) -> None:
    receipt = _outgoing(message_id=value, to=value, participant=value, recipient=value)
    node = receipt_to_node(receipt)
    assert receipt_from_node(node, OutgoingRetryReceipt) == receipt
    assert parse_receipt_node(parse_text(node.to_text())) == receipt
    assert parse_receipt_proto(receipt_to_proto(receipt)) == receipt


def test_device_identity_length() -> None:
    limit = fields_module.MAX_DEVICE_IDENTITY_LENGTH
    keys = BUNDLE.__class__(**_bundle_kwargs(), device_identity=bytes(limit))
    receipt = _outgoing(keys=keys)
    assert receipt_from_node(receipt_to_node(receipt), OutgoingRetryReceipt) == receipt
    assert parse_receipt_proto(receipt_to_proto(receipt)) == receipt
    with pytest.raises(UsageError, match=r"^keys\.device-identity: "):
        BUNDLE.__class__(**_bundle_kwargs(), device_identity=bytes(limit + 1))
    node = receipt_to_node(receipt)
    keys_node = node.children[2]
    longer = Node(
        "keys",
        children=[*keys_node.children[:-1], Node("device-identity", data=bytes(limit + 1))],
    )
    with pytest.raises(InvalidReceipt) as info:
        receipt_from_node(
            Node("receipt", node.attrs, [*node.children[:2], longer]), OutgoingRetryReceipt
        )
    assert info.value.field == "keys.device-identity"


def test_the_largest_receipt_fits_every_codec() -> None:
    text = "\U0001f600" * 256  # four UTF-8 bytes each
    keys = BUNDLE.__class__(
        **_bundle_kwargs(), device_identity=bytes(fields_module.MAX_DEVICE_IDENTITY_LENGTH)
    )
    biggest = OutgoingRetryReceipt(
        message_id='"' * 256,  # the longest escape in the text form
        to=text,
        participant=text,
        recipient=text,
        count=255,
        timestamp=2**64 - 1,
        registration_id=2**32 - 1,
        version=2**32 - 1,
        reason=fields_module.RetryReason.INVALID_MESSAGE_KEY,
        receipt_timestamp=2**64 - 1,
        keys=keys,
    )
    inc = biggest.received_from(text, receipt_timestamp=2**64 - 1)
    for receipt in (biggest, inc):
        data = receipt_to_proto(receipt)
        assert len(data) < MAX_RECEIPT_PROTO_LENGTH // 2
        assert parse_receipt_proto(data) == receipt
        node = receipt_to_node(receipt)
        assert parse_receipt_node(parse_text(node.to_text())) == receipt
        assert parse_receipt_node(Node.from_dict(node.to_dict())) == receipt


def test_too_long_protobufs_are_refused_before_parsing() -> None:
    with pytest.raises(DecodeError):
        parse_receipt_proto(bytes(MAX_RECEIPT_PROTO_LENGTH + 1))
    with pytest.raises(DecodeError):
        DecryptionErrorMessage.parse(b"\x10\x05" + bytes(MAX_DEM_LENGTH))
    with pytest.raises(DecodeError):
        DecryptionErrorMessage.from_plaintext_content(
            b"\xc0" + bytes(MAX_PLAINTEXT_CONTENT_LENGTH) + b"\x80"
        )


def test_no_receipt_module_keeps_state_between_calls() -> None:
    # No module-global cache: building, encoding and parsing thousands of
    # receipts with distinct JIDs and registration ids leaves every
    # module-level container of axolotl.receipts as it was.
    modules = [m for name, m in sys.modules.items() if name.startswith("axolotl.receipts")]

    def containers() -> dict[str, int]:
        return {
            f"{m.__name__}.{name}": len(value)
            for m in modules
            for name, value in vars(m).items()
            if isinstance(value, dict | list | set | bytearray) and not name.startswith("__")
        }

    before = containers()
    for i in range(3000):
        r = IncomingRetryReceipt(
            message_id="m", sender=f"{i}@s.whatsapp.net", count=1, timestamp=1, registration_id=i
        )
        assert receipt_from_node(receipt_to_node(r), IncomingRetryReceipt) == r
        assert parse_receipt_proto(receipt_to_proto(r)) == r
    with pytest.raises(UsageError):
        _outgoing(to="bad\njid")
    assert containers() == before


def test_every_limit_error_is_an_axolotl_error() -> None:
    # UsageError is the local family, DecodeError and InvalidReceipt the remote one.
    assert issubclass(UsageError, AxolotlError)
    assert issubclass(DecodeError, AxolotlError) and issubclass(InvalidReceipt, AxolotlError)
