"""Constructors reject what parsers reject, and random input raises only typed errors.

Properties over every receipt codec (node tree, node text, dict form, yowsup
bridge, protobuf, DecryptionErrorMessage / PlaintextContent):

* a receipt field is accepted by the constructor exactly when each parser
  accepts it (ids, JIDs, numbers);
* whatever a parser returns, the validating constructors accept again
  (rebuilt through ``Node(...)`` and ``replace()``, it is equal);
* random bytes, text and trees raise nothing but ``AxolotlError``.
"""

from __future__ import annotations

import contextlib
import dataclasses
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from axolotl.cli.receipt import InputError, read_input, read_receipt
from axolotl.errors import AxolotlError, DecodeError, InvalidReceipt, UsageError
from axolotl.receipts import (
    DecryptionErrorMessage,
    Node,
    OutgoingRetryReceipt,
    node_from_yowsup,
    node_to_yowsup,
    parse_receipt_node,
    parse_receipt_proto,
    parse_text,
    receipt_from_node,
    receipt_from_yowsup,
    receipt_to_node,
    receipt_to_proto,
)
from axolotl.receipts.limits import MAX_UINT_DIGITS
from tests.test_receipts_entities import BASE, receipts
from tests.test_receipts_yowsup import FakeProtocolTreeNode

# Any character at all, and lengths around the 256 limit.
any_text = (
    st.text(st.characters(), max_size=40)
    | st.integers(250, 262).map(lambda n: "a" * n)
    | st.sampled_from(["\x1b[31m", "a\nb", "\u202e", "a\x00", "\ud800", " ", "é@s.whatsapp.net"])
)
FIELDS = {"message_id": "id", "to": "to", "participant": "participant", "recipient": "recipient"}


def _outcome(build: Any, *errors: type[Exception]) -> bool:
    """True when ``build()`` succeeds, False when it raises one of ``errors``."""
    try:
        build()
    except errors:
        return False
    return True


def _node_with(field: str, value: str) -> Node:
    node = receipt_to_node(OutgoingRetryReceipt(**BASE, participant="p@g.us", recipient="r@s"))
    kids = node.children
    if field == "id":
        kids = (Node("retry", {**kids[0].attrs, "id": value}), *kids[1:])
    return Node("receipt", {**node.attrs, field: value}, kids)


@settings(max_examples=300)
@given(st.sampled_from(sorted(FIELDS)), any_text)
def test_text_fields_constructor_and_parsers_agree(name: str, value: str) -> None:
    field = FIELDS[name]
    by_constructor = _outcome(lambda: OutgoingRetryReceipt(**{**BASE, name: value}), UsageError)
    node = _node_with(field, value)
    assert (
        _outcome(lambda: receipt_from_node(node, OutgoingRetryReceipt), InvalidReceipt)
        == by_constructor
    )
    ptn = node_to_yowsup(node, FakeProtocolTreeNode)
    by_yowsup = _outcome(lambda: receipt_from_yowsup(ptn, OutgoingRetryReceipt), InvalidReceipt)
    assert by_yowsup == by_constructor
    by_text = _outcome(lambda: parse_receipt_node(parse_text(node.to_text())), InvalidReceipt)
    assert by_text == by_constructor
    if by_constructor:
        receipt = OutgoingRetryReceipt(**{**BASE, name: value})
        assert parse_receipt_proto(receipt_to_proto(receipt)) == receipt


numbers = (
    st.text("0123456789", min_size=1, max_size=MAX_UINT_DIGITS + 2)
    | st.text("0123456789+- .xe\u0661\u00b2", max_size=6)
    | st.integers(-5, 2**65).map(str)
)
RANGES = {"count": (1, 255), "t": (0, 2**64 - 1), "v": (1, 2**32 - 1)}


@settings(max_examples=300)
@given(st.sampled_from(sorted(RANGES)), numbers)
def test_numbers_are_read_exactly_in_the_canonical_syntax(name: str, text: str) -> None:
    low, high = RANGES[name]
    canonical = (
        text.isascii()
        and text.isdigit()
        and len(text) <= MAX_UINT_DIGITS
        and (text == "0" or not text.startswith("0"))
        and low <= int(text) <= high
    )
    node = receipt_to_node(OutgoingRetryReceipt(**BASE))
    retry = Node("retry", {**node.children[0].attrs, name: text})
    bad = Node("receipt", node.attrs, [retry, node.children[1]])
    try:
        receipt = receipt_from_node(bad, OutgoingRetryReceipt)
    except InvalidReceipt as exc:
        assert not canonical and exc.field == f"retry.{name}"
    else:
        assert canonical
        value = {"count": receipt.count, "t": receipt.timestamp, "v": receipt.version}[name]
        assert str(value) == text


# -- whatever a parser returns, the constructors accept ---------------------------------


def rebuild(node: Node) -> Node:
    """The same tree again, through the validating constructor at every level."""
    return Node(node.tag, node.attrs, [rebuild(kid) for kid in node.children], node.data)


names = st.text("abcxyzAZ09_-.:", min_size=1, max_size=6)
values = st.text(st.characters(), max_size=10) | st.sampled_from(
    ['"&<>', "\x1b\x00\n", "\ud800", "a" * 300]
)
trees = st.recursive(
    st.builds(Node, names, st.dictionaries(names, values, max_size=5), st.just(()),
              st.none() | st.binary(max_size=20)),
    lambda kids: st.builds(
        Node, names, st.dictionaries(names, values, max_size=5), st.lists(kids, max_size=5)
    ),
    max_leaves=20,
)  # fmt: skip


@given(trees)
def test_parsed_trees_pass_the_constructor(tree: Node) -> None:
    for parsed in (
        parse_text(tree.to_text()),
        parse_text(tree.to_text(indent=None)),
        Node.from_dict(tree.to_dict()),
    ):
        assert rebuild(parsed) == parsed == tree
    assert rebuild(node_from_yowsup(node_to_yowsup(tree, FakeProtocolTreeNode))) == tree


@given(st.text(st.characters(), min_size=1, max_size=10))
def test_any_value_node_accepts_crosses_every_node_codec(value: str) -> None:
    # Node takes any str (lone surrogates too): the text, dict and yowsup
    # forms all carry it back, and only a layer reading a field refuses it.
    node = Node("x", {"a": value})
    assert parse_text(node.to_text()) == node
    assert Node.from_dict(node.to_dict()) == node
    assert node_from_yowsup(node_to_yowsup(node, FakeProtocolTreeNode)) == node


@given(receipts)
def test_parsed_receipts_pass_the_constructor(receipt: Any) -> None:
    node = receipt_to_node(receipt)
    for parsed in (
        receipt_from_node(node, type(receipt)),
        parse_receipt_node(parse_text(node.to_text())),
        parse_receipt_proto(receipt_to_proto(receipt)),
        receipt_from_yowsup(node_to_yowsup(node, FakeProtocolTreeNode), type(receipt)),
    ):
        assert dataclasses.replace(parsed) == parsed == receipt


# -- random input: typed errors only ------------------------------------------------------


@settings(max_examples=300)
@given(st.binary(max_size=300))
def test_random_bytes_into_every_parser(data: bytes) -> None:
    text = data.decode("utf-8", "replace")
    for parse in (
        lambda: parse_text(text),
        lambda: parse_receipt_node(parse_text(text)),
        lambda: parse_receipt_proto(data),
        lambda: DecryptionErrorMessage.parse(data),
        lambda: DecryptionErrorMessage.from_plaintext_content(data),
    ):
        with contextlib.suppress(AxolotlError):
            parse()


class _BytesStdin:
    def __init__(self, data: bytes) -> None:
        import io

        self.buffer = io.BytesIO(data)


@settings(max_examples=300)
@given(st.binary(max_size=300) | st.text(max_size=100).map(str.encode))
def test_random_cli_input_raises_only_input_or_axolotl_errors(data: bytes) -> None:
    with contextlib.suppress(InputError, AxolotlError):
        read_receipt(read_input(None, _BytesStdin(data)))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)
dict_leaves = st.fixed_dictionaries(
    {"tag": names | json_values},
    optional={
        "attrs": st.dictionaries(names, values | json_values, max_size=3) | json_values,
        "data": st.text("0123456789abcdefg ", max_size=8) | json_values,
    },
)
dict_trees = st.recursive(
    dict_leaves,
    lambda kids: st.fixed_dictionaries(
        {"tag": names, "children": st.lists(kids, max_size=3) | json_values}
    ),
    max_leaves=10,
)


@given(dict_trees | json_values)
def test_random_dicts_raise_only_decode_errors(obj: Any) -> None:
    with contextlib.suppress(DecodeError):
        Node.from_dict(obj)


class _Odd:
    """A yowsup look-alike whose members are whatever hypothesis draws."""

    def __init__(self, tag: Any, attributes: Any, children: Any, data: Any) -> None:
        self.tag = tag
        self.attributes = attributes
        self.children = children
        self.data = data

    def getAllChildren(self) -> Any:
        return self.children

    def getData(self) -> Any:
        return self.data


scalars = st.none() | st.integers() | st.text(max_size=6) | st.binary(max_size=6) | st.booleans()
odd_attrs = st.dictionaries(names | scalars, scalars, max_size=3) | scalars
odd_trees = st.recursive(
    st.builds(_Odd, names | scalars, odd_attrs, st.none(), st.none() | scalars),
    lambda kids: st.builds(
        _Odd,
        names,
        st.dictionaries(names, scalars, max_size=3),
        st.lists(kids, max_size=3),
        st.none(),
    ),
    max_leaves=10,
)


@given(odd_trees)
def test_random_yowsup_trees_raise_only_typed_errors(ptn: Any) -> None:
    with contextlib.suppress(DecodeError):
        node_from_yowsup(ptn)
    with contextlib.suppress(InvalidReceipt):
        receipt_from_yowsup(ptn, OutgoingRetryReceipt)
