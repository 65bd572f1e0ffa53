"""The limits of axolotl.receipts.limits: enforced by Node(), the renderer and every parser.

Hostile inputs of a megabyte (and more) must be refused with a typed error;
the time they take is measured by hand, never asserted here.
"""

from __future__ import annotations

from typing import Any

import pytest

from axolotl.errors import AxolotlError, DecodeError, InvalidReceipt, UsageError
from axolotl.receipts import (
    DecryptionErrorMessage,
    IncomingRetryReceipt,
    Node,
    OutgoingRetryReceipt,
    node_from_yowsup,
    parse_receipt_node,
    parse_receipt_proto,
    parse_text,
    receipt_from_yowsup,
)
from axolotl.receipts import fields as fields_module
from axolotl.receipts.limits import (
    MAX_ATTRS,
    MAX_CHILDREN,
    MAX_DATA_LENGTH,
    MAX_DEM_LENGTH,
    MAX_DEPTH,
    MAX_INDENT,
    MAX_INPUT_LENGTH,
    MAX_NAME_LENGTH,
    MAX_NODES,
    MAX_PLAINTEXT_CONTENT_LENGTH,
    MAX_RECEIPT_PROTO_LENGTH,
    MAX_TEXT_LENGTH,
    MAX_TOTAL_ATTRS,
    MAX_UNPRINTABLE_TEXT,
    MAX_VALUE_LENGTH,
    parse_uint,
)
from tests.test_receipts_entities import BASE, BUNDLE
from tests.test_receipts_yowsup import FakeProtocolTreeNode

MB = 1 << 20


def test_input_limit_leaves_room_for_the_widest_indentation() -> None:
    widest = MAX_TEXT_LENGTH + MAX_NODES * (2 * MAX_INDENT * (MAX_DEPTH - 1) + 2)
    assert widest <= MAX_INPUT_LENGTH


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
    node = OutgoingRetryReceipt(**BASE).to_node()
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
        OutgoingRetryReceipt.from_node(_receipt_node(**{name: value}))
    assert info.value.field == f"retry.{name}"


@pytest.mark.parametrize("value", NON_CANONICAL)
def test_receipt_t_is_canonical(value: str) -> None:
    node = OutgoingRetryReceipt(**BASE).to_node()
    bad = Node(node.tag, {**node.attrs, "t": value}, node.children)
    with pytest.raises(InvalidReceipt) as info:
        OutgoingRetryReceipt.from_node(bad)
    assert info.value.field == "t"


def test_zero_is_canonical_where_zero_is_allowed() -> None:
    assert OutgoingRetryReceipt.from_node(_receipt_node(t="0")).timestamp == 0
    assert OutgoingRetryReceipt.from_node(_receipt_node(error="0")).reason == 0


def test_a_4301_digit_timestamp_is_a_typed_error_on_every_path() -> None:
    # Python's int() raises ValueError past 4300 digits: no path may get there.
    digits = "9" * 4301
    text = OutgoingRetryReceipt(**BASE).to_node().to_text()
    hostile = text.replace('t="1432833266"', f't="{digits}"')
    with pytest.raises(DecodeError):
        parse_text(hostile)
    with pytest.raises(UsageError):
        _receipt_node(t=digits)
    # a node built without the constructor's checks reaches the receipt codec
    good = OutgoingRetryReceipt(**BASE).to_node()
    retry = Node._make("retry", {**good.children[0].attrs, "t": digits}, (), None)
    raw = Node._make("receipt", dict(good.attrs), (retry, good.children[1]), None)
    with pytest.raises(InvalidReceipt) as info:
        OutgoingRetryReceipt.from_node(raw)
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
        OutgoingRetryReceipt.from_node(_receipt_node(id=None))
    assert (info.value.field, info.value.reason) == ("retry.id", "missing")
    with pytest.raises(InvalidReceipt) as info:
        OutgoingRetryReceipt.from_node(_receipt_node(id=BASE["message_id"] + "x"))
    assert info.value.field == "retry.id"


# -- node constructor, renderer -----------------------------------------------------


def _chain(depth: int, make: Any = Node) -> Node:
    node = make("x", {}, (), None) if make is not Node else Node("x")
    for _ in range(depth - 1):
        node = make("x", {}, (node,), None) if make is not Node else Node("x", children=[node])
    return node


def _round_trips(node: Node) -> None:
    assert parse_text(node.to_text()) == node
    assert parse_text(node.to_text(indent=None)) == node
    assert parse_text(node.to_text(indent=MAX_INDENT)) == node
    assert Node.from_dict(node.to_dict()) == node


def test_depth() -> None:
    _round_trips(_chain(MAX_DEPTH))
    with pytest.raises(UsageError, match="deeper"):
        Node("x", children=[_chain(MAX_DEPTH)])


def test_children_and_nodes() -> None:
    wide = Node("r", children=[Node("a")] * MAX_CHILDREN)
    _round_trips(wide)
    with pytest.raises(UsageError, match="children"):
        Node("r", children=[Node("a")] * (MAX_CHILDREN + 1))
    pair = Node("p", children=[Node("a")])
    half = (MAX_NODES - 1) // 2  # 1 + 2 * half nodes
    _round_trips(Node("r", children=[pair] * half))
    with pytest.raises(UsageError, match="nodes"):
        Node("r", children=[Node("m", children=[pair] * half), pair])


def test_attributes_names_values() -> None:
    many = {f"a{i}": "v" for i in range(MAX_ATTRS)}
    _round_trips(Node("x", many))
    with pytest.raises(UsageError, match="attributes"):
        Node("x", {**many, "one-more": "v"})
    _round_trips(Node("n" * MAX_NAME_LENGTH, {"k" * MAX_NAME_LENGTH: "v"}))
    for bad in ({"k" * (MAX_NAME_LENGTH + 1): "v"}, {"": "v"}, {"a b": "v"}):
        with pytest.raises(UsageError):
            Node("x", bad)
    with pytest.raises(UsageError):
        Node("n" * (MAX_NAME_LENGTH + 1))
    _round_trips(Node("x", {"v": '&"<>' * (MAX_VALUE_LENGTH // 4)}))
    with pytest.raises(UsageError, match="characters"):
        Node("x", {"v": "a" * (MAX_VALUE_LENGTH + 1)})


def test_total_attributes() -> None:
    full = Node("a", {f"a{i}": "" for i in range(MAX_ATTRS)})
    count = MAX_TOTAL_ATTRS // MAX_ATTRS
    _round_trips(Node("r", children=[full] * count))
    with pytest.raises(UsageError, match="attributes"):
        Node("r", {"x": ""}, [full] * count)


def test_data_and_text_size() -> None:
    big = Node("d", data=bytes(MAX_DATA_LENGTH))
    assert parse_text(big.to_text()) == big
    with pytest.raises(UsageError, match="bytes"):
        Node("d", data=bytes(MAX_DATA_LENGTH + 1))
    fits = MAX_TEXT_LENGTH // (2 * MAX_DATA_LENGTH + 9)  # each child: <d>0x...</d>
    tree = Node("r", children=[big] * fits)
    assert len(tree.to_text(indent=None)) <= MAX_TEXT_LENGTH
    assert parse_text(tree.to_text(indent=None)) == tree
    with pytest.raises(UsageError, match="as text"):
        Node("r", children=[big] * (fits + 1))


def test_unprintable_text() -> None:
    value = "\x1b" * 64
    count = MAX_UNPRINTABLE_TEXT // 64
    tree = Node("r", children=[Node("a", {"v": value})] * count)
    _round_trips(tree)
    with pytest.raises(UsageError, match="non-printable"):
        Node("r", {"w": "\x00"}, tree.children)


def test_renderer_never_recurses_without_bound() -> None:
    deep = _chain(3000, Node._make)
    with pytest.raises(UsageError, match="deeper"):
        deep.to_text()
    assert "does not render" in repr(deep)
    with pytest.raises(UsageError):  # the constructor refuses it as a child, too
        Node("x", children=[deep])


def test_renderer_rechecks_a_node_changed_after_construction() -> None:
    node = Node("x", {"a": "1"})
    node.attrs["a"] = 5  # type: ignore[assignment]
    with pytest.raises(UsageError):
        node.to_text()
    node = Node("x", children=[Node("y")])
    node.children = (_chain(40, Node._make),)
    with pytest.raises(UsageError):
        node.to_text()


@pytest.mark.parametrize("indent", [-1, MAX_INDENT + 1, True, 2.0])
def test_indent_is_bounded(indent: Any) -> None:
    with pytest.raises(UsageError):
        Node("x").to_text(indent=indent)


# -- hostile text -------------------------------------------------------------------

HOSTILE_TEXT = {
    "1 MB attribute": '<receipt id="' + "a" * MB + '"/>',
    "1 MB of named entities": '<receipt id="' + "&amp;" * (MB // 5) + '"/>',
    "1 MB of numeric references": '<receipt id="' + "&#x1;" * (MB // 5) + '"/>',
    "numeric references spread over attributes": "<r>"
    + ("<a " + " ".join(f'a{j}="' + "&#x1;" * 100 + '"' for j in range(32)) + "/>") * 64
    + "</r>",
    "1 MB of nested tags": "<a>" * (MB // 3),
    "1 MB of siblings": "<r>" + "<a/>" * (MB // 4) + "</r>",
    "1 MB of tiny attributes": "<r>"
    + ("<a " + " ".join(f'a{j}=""' for j in range(32)) + "/>") * (MB // 200)
    + "</r>",
    "1 MB tag name": "<" + "a" * MB + "/>",
    "1 MB attribute name": "<a " + "b" * MB + '=""/>',
    "2 MB of hex data": "<r>0x" + "ab" * (MAX_DATA_LENGTH + 1) + "</r>",
    "10 MB registration field": "<receipt><registration>0x"
    + "00" * (5 * MB)
    + "</registration></receipt>",
    "unterminated 1 MB value": '<a b="' + "x" * MB,
    "too long": " " * (MAX_INPUT_LENGTH + 1),
}


@pytest.mark.parametrize("text", list(HOSTILE_TEXT.values()), ids=list(HOSTILE_TEXT))
def test_hostile_text_is_a_decode_error(text: str) -> None:
    with pytest.raises(DecodeError):
        parse_text(text)


def test_a_megabyte_of_whitespace_or_data_parses_then_fails_as_a_receipt() -> None:
    node = parse_text("<r>" + " \n\t" * (MB // 3) + "</r>")
    assert node == Node("r")
    with pytest.raises(InvalidReceipt):
        parse_receipt_node(node)
    node = parse_text("<receipt>0x" + "ab" * (MB // 2) + "</receipt>")
    assert node.data == b"\xab" * (MB // 2)
    with pytest.raises(InvalidReceipt):
        parse_receipt_node(node)


@pytest.mark.parametrize(
    "value",
    [
        "&#x41;",  # a printable character is written as is
        "&#x01;",  # no leading zeros
        "&#X1;",
        "&#x1B;",  # lowercase hex
        "&#26;",  # decimal references are not part of the form
        "&#x110000;",
        "&apos;",
        "&amp",
        "\x1b",  # raw control characters must be references
        "a\nb",
    ],
)
def test_only_canonical_references(value: str) -> None:
    with pytest.raises(DecodeError):
        parse_text(f'<x a="{value}"/>')


def test_canonical_references_and_a_raw_gt() -> None:
    assert parse_text('<x a="&#x1b;&#xa;&lt;&amp;lt;>"/>') == Node("x", {"a": "\x1b\n<&lt;>"})


# -- hostile trees from dicts and yowsup ---------------------------------------------


def test_hostile_dicts_are_decode_errors() -> None:
    for bad in (
        {"tag": "x", "attrs": {"a": "b" * MB}},
        {"tag": "x", "attrs": {f"a{i}": "" for i in range(MAX_ATTRS + 1)}},
        {"tag": "x", "children": [{"tag": "y"}] * (MAX_CHILDREN + 1)},
        {"tag": "x", "data": "00" * (MAX_DATA_LENGTH + 1)},
        {"tag": "x", "children": [{"tag": "y", "children": [{"tag": "z"}] * 4000}] * 5},
    ):
        with pytest.raises(DecodeError):
            Node.from_dict(bad)


def test_hostile_yowsup_trees_are_decode_errors() -> None:
    leaf = FakeProtocolTreeNode("y")
    for bad in (
        FakeProtocolTreeNode("x", {"a": "b" * MB}),
        FakeProtocolTreeNode("x", {"a": b"b" * MB}),
        FakeProtocolTreeNode("x", {"a": 10**30}),
        FakeProtocolTreeNode("x", {f"a{i}": "" for i in range(MAX_ATTRS + 1)}),
        FakeProtocolTreeNode("x", {"k" * (MAX_NAME_LENGTH + 1): ""}),
        FakeProtocolTreeNode("x", {}, [leaf] * (MAX_CHILDREN + 1)),
        FakeProtocolTreeNode("x", {}, [FakeProtocolTreeNode("y", {}, [leaf] * 4000)] * 5),
        FakeProtocolTreeNode("x", {}, None, bytes(MAX_DATA_LENGTH + 1)),
        FakeProtocolTreeNode("x", {}, None, "é" * MAX_DATA_LENGTH),
    ):
        with pytest.raises(DecodeError):
            node_from_yowsup(bad)


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
    node = _outgoing(participant="p@g.us", recipient="r@s").to_node()
    attrs = {**node.attrs, field: value}
    kids = node.children
    if field == "id":
        kids = (Node("retry", {**kids[0].attrs, "id": value}), *kids[1:])
    with pytest.raises(InvalidReceipt) as info:
        OutgoingRetryReceipt.from_node(Node._make("receipt", attrs, kids, None))
    assert info.value.field == field
    if "\ud800" not in value:
        text = Node("receipt", attrs, kids).to_text()
        with pytest.raises(InvalidReceipt) as info:
            parse_receipt_node(parse_text(text))
        assert info.value.field == field


@pytest.mark.parametrize("value", GOOD_TEXT)
def test_good_text_is_accepted_everywhere(value: str) -> None:
    receipt = _outgoing(message_id=value, to=value, participant=value, recipient=value)
    node = receipt.to_node()
    assert OutgoingRetryReceipt.from_node(node) == receipt
    assert parse_receipt_node(parse_text(node.to_text())) == receipt
    assert parse_receipt_proto(receipt.to_proto_bytes()) == receipt


def test_device_identity_length() -> None:
    from tests.test_receipts_node import _bundle_kwargs

    limit = fields_module.MAX_DEVICE_IDENTITY_LENGTH
    keys = BUNDLE.__class__(**_bundle_kwargs(), device_identity=bytes(limit))
    receipt = _outgoing(keys=keys)
    assert OutgoingRetryReceipt.from_node(receipt.to_node()) == receipt
    assert parse_receipt_proto(receipt.to_proto_bytes()) == receipt
    with pytest.raises(UsageError, match=r"^keys\.device-identity: "):
        BUNDLE.__class__(**_bundle_kwargs(), device_identity=bytes(limit + 1))
    node = receipt.to_node()
    keys_node = node.children[2]
    longer = Node(
        "keys",
        children=[*keys_node.children[:-1], Node("device-identity", data=bytes(limit + 1))],
    )
    with pytest.raises(InvalidReceipt) as info:
        OutgoingRetryReceipt.from_node(Node("receipt", node.attrs, [*node.children[:2], longer]))
    assert info.value.field == "keys.device-identity"


def test_the_largest_receipt_fits_every_codec() -> None:
    from tests.test_receipts_node import _bundle_kwargs

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
        data = receipt.to_proto_bytes()
        assert len(data) < MAX_RECEIPT_PROTO_LENGTH // 2
        assert parse_receipt_proto(data) == receipt
        node = receipt.to_node()
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


def test_the_table_of_checked_jids_is_bounded_and_holds_only_valid_ones() -> None:
    for i in range(3000):
        IncomingRetryReceipt(
            message_id="m", sender=f"{i}@s.whatsapp.net", count=1, timestamp=1, registration_id=1
        )
    with pytest.raises(UsageError):
        _outgoing(to="bad\njid")
    assert 0 < len(fields_module.CHECKED_JIDS) <= 1024
    assert all(0 < len(j) <= 256 and j.isprintable() for j in fields_module.CHECKED_JIDS)
    assert "bad\njid" not in fields_module.CHECKED_JIDS


def test_every_limit_error_is_an_axolotl_error() -> None:
    # UsageError is the local family, DecodeError and InvalidReceipt the remote one.
    assert issubclass(UsageError, AxolotlError)
    assert issubclass(DecodeError, AxolotlError) and issubclass(InvalidReceipt, AxolotlError)
