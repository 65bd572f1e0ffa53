"""The limits of axolotl.receipts.limits: enforced by Node(), the renderer and every parser.

Hostile inputs of a megabyte (and more) must be refused with a typed error;
the time they take is measured by hand, never asserted here.
"""

from __future__ import annotations

from typing import Any

import pytest

from axolotl.errors import DecodeError, InvalidReceipt, UsageError
from axolotl.receipts import (
    Node,
    OutgoingRetryReceipt,
    node_from_yowsup,
    node_to_yowsup,
    parse_receipt_node,
    parse_text,
    receipt_from_yowsup,
    receipt_to_node,
)
from axolotl.receipts.limits import (
    MAX_ATTRS,
    MAX_CHILDREN,
    MAX_DATA_LENGTH,
    MAX_DEPTH,
    MAX_INDENT,
    MAX_INPUT_LENGTH,
    MAX_NAME_LENGTH,
    MAX_NODES,
    MAX_RECEIPT_NODES,
    MAX_TEXT_LENGTH,
    MAX_TOTAL_ATTRS,
    MAX_UNPRINTABLE_TEXT,
    MAX_VALUE_LENGTH,
)
from axolotl.receipts.node import unchecked
from tests.test_receipts_entities import BASE, BUNDLE
from tests.test_receipts_yowsup import FakeProtocolTreeNode

MB = 1 << 20


def test_input_limit_leaves_room_for_the_widest_indentation() -> None:
    widest = MAX_TEXT_LENGTH + MAX_NODES * (2 * MAX_INDENT * (MAX_DEPTH - 1) + 2)
    assert widest <= MAX_INPUT_LENGTH


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
    deep = _chain(3000, unchecked)
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
    node.children = (_chain(40, unchecked),)
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


def test_a_reader_of_one_kind_of_tree_stops_at_its_own_node_cap() -> None:
    wide = Node("x", children=[Node("y", children=[Node("z")]) for _ in range(600)])
    text = wide.to_text(indent=None)
    ptn = node_from_yowsup_input(wide)
    assert parse_text(text) == wide and node_from_yowsup(ptn) == wide
    for cap in (1, MAX_RECEIPT_NODES, 1000):
        with pytest.raises(DecodeError, match=f"more than {cap} nodes"):
            parse_text(text, max_nodes=cap)
        with pytest.raises(DecodeError, match=f"more than {cap} nodes"):
            node_from_yowsup(ptn, max_nodes=cap)
    assert parse_text(text, max_nodes=1201) == wide
    assert node_from_yowsup(ptn, max_nodes=1201) == wide
    for bad in (0, -1, MAX_NODES + 1, 2.5, True, "10"):
        with pytest.raises(UsageError):
            parse_text(text, max_nodes=bad)
        with pytest.raises(UsageError):
            node_from_yowsup(ptn, max_nodes=bad)


def test_a_receipt_from_yowsup_is_refused_past_the_receipt_node_cap() -> None:
    receipt = OutgoingRetryReceipt(**BASE, keys=BUNDLE)
    ptn = node_to_yowsup(receipt_to_node(receipt), FakeProtocolTreeNode)
    assert receipt_from_yowsup(ptn, OutgoingRetryReceipt) == receipt
    # Unknown children are ignored by the receipt codec, but a tree past the
    # cap is not converted at all.
    ptn.children.extend(FakeProtocolTreeNode("pad") for _ in range(MAX_RECEIPT_NODES))
    with pytest.raises(InvalidReceipt, match=f"more than {MAX_RECEIPT_NODES} nodes"):
        receipt_from_yowsup(ptn, OutgoingRetryReceipt)


def node_from_yowsup_input(node: Node) -> FakeProtocolTreeNode:
    """``node`` as a yowsup-shaped tree."""
    return node_to_yowsup(node, FakeProtocolTreeNode)  # type: ignore[no-any-return]
