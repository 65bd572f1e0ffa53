"""The Node type, its text form, and the retry receipt tree codec."""

from __future__ import annotations

import contextlib
import dataclasses
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from axolotl.errors import AxolotlError, DecodeError, InvalidReceipt, UsageError
from axolotl.receipts import (
    IncomingRetryReceipt,
    Node,
    OutgoingRetryReceipt,
    RetryReason,
    parse_receipt_node,
    parse_text,
    receipt_from_node,
    receipt_to_node,
)
from tests.test_receipts_entities import BASE, BUNDLE, receipts

EXPECTED_FULL = """\
<receipt id="3EB0C431C2A4D3E8F1A2" to="4915225256022@s.whatsapp.net" participant="4915225256023@s.whatsapp.net" recipient="4915225256024@s.whatsapp.net" type="retry">
  <retry count="2" id="3EB0C431C2A4D3E8F1A2" t="1432833266" v="1" error="7"/>
  <registration>0x00003039</registration>
  <keys>
    <type>0x05</type>
    <identity>0x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f</identity>
    <key>
      <id>0x000001</id>
      <value>0x202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f</value>
    </key>
    <skey>
      <id>0x000007</id>
      <value>0x404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f</value>
      <signature>0x606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f</signature>
    </skey>
  </keys>
</receipt>"""  # noqa: E501


def full() -> OutgoingRetryReceipt:
    return OutgoingRetryReceipt(
        **BASE,
        participant="4915225256023@s.whatsapp.net",
        recipient="4915225256024@s.whatsapp.net",
        reason=RetryReason.BAD_MAC,
        keys=BUNDLE,
    )


def minimal_node() -> Node:
    return receipt_to_node(OutgoingRetryReceipt(**BASE))


# -- layout -----------------------------------------------------------------------------


def test_minimal_layout_is_exactly_the_design() -> None:
    n = minimal_node()
    assert n.tag == "receipt"
    assert list(n.attrs.items()) == [
        ("id", BASE["message_id"]),
        ("to", BASE["to"]),
        ("type", "retry"),
    ]
    assert [k.tag for k in n.children] == ["retry", "registration"]
    retry, registration = n.children
    assert list(retry.attrs.items()) == [
        ("count", "2"),
        ("id", BASE["message_id"]),
        ("t", "1432833266"),
        ("v", "1"),
    ]
    assert retry.children == () and retry.data is None
    assert registration.data == bytes.fromhex("00003039") and registration.attrs == {}


def test_full_layout_text() -> None:
    assert receipt_to_node(full()).to_text() == EXPECTED_FULL


def test_incoming_uses_from_and_receipt_t() -> None:
    inc = full().received_from("4915225256099@s.whatsapp.net", receipt_timestamp=1432833777)
    n = receipt_to_node(inc)
    assert list(n.attrs) == ["id", "from", "participant", "recipient", "type", "t"]
    assert n.attrs["t"] == "1432833777"
    assert receipt_from_node(n, IncomingRetryReceipt) == inc
    assert parse_receipt_node(n) == inc


def test_outgoing_round_trip_and_device_identity() -> None:
    r = dataclasses.replace(
        full(), keys=BUNDLE.__class__(**{**_bundle_kwargs(), "device_identity": b"\x0a\x0b"})
    )
    n = receipt_to_node(r)
    assert n.child("keys") is not None
    keys = n.child("keys")
    assert keys is not None and [k.tag for k in keys.children][-1] == "device-identity"
    assert receipt_from_node(n, OutgoingRetryReceipt) == r
    assert parse_receipt_node(n) == r


def _bundle_kwargs() -> dict[str, Any]:
    return {
        "identity": BUNDLE.identity,
        "pre_key_id": BUNDLE.pre_key_id,
        "pre_key": BUNDLE.pre_key,
        "signed_pre_key_id": BUNDLE.signed_pre_key_id,
        "signed_pre_key": BUNDLE.signed_pre_key,
        "signed_pre_key_signature": BUNDLE.signed_pre_key_signature,
    }


def test_unknown_attributes_and_children_are_ignored() -> None:
    n = minimal_node()
    noisy = Node(
        "receipt",
        {**n.attrs, "offline": "0", "category": "peer"},
        [Node("unknown", {"a": "b"}), *n.children, Node("extra", data=b"\x00")],
    )
    assert receipt_from_node(noisy, OutgoingRetryReceipt) == OutgoingRetryReceipt(**BASE)


def test_children_in_any_order() -> None:
    n = receipt_to_node(full())
    shuffled = Node(n.tag, n.attrs, list(reversed(n.children)))
    assert receipt_from_node(shuffled, OutgoingRetryReceipt) == full()


# -- bad input: each names its field --------------------------------------------------


def _edit(node: Node, path: list[str], **changes: Any) -> Node:
    """A copy of ``node`` with the child at ``path`` (tags) replaced by ``changes``."""
    if not path:
        return Node(
            changes.get("tag", node.tag),
            changes.get("attrs", node.attrs),
            changes.get("children", node.children),
            changes.get("data", node.data),
        )
    kids = [(_edit(k, path[1:], **changes) if k.tag == path[0] else k) for k in node.children]
    return Node(node.tag, node.attrs, kids, node.data)


def _without(node: Node, tag: str) -> Node:
    return Node(node.tag, node.attrs, [k for k in node.children if k.tag != tag])


def _retry_attrs(**changes: str | None) -> dict[str, str]:
    attrs = dict(minimal_node().children[0].attrs)
    for k, v in changes.items():
        if v is None:
            attrs.pop(k, None)
        else:
            attrs[k] = v
    return attrs


BAD_NODES: list[tuple[str, Node, str]] = [
    ("no retry", _without(minimal_node(), "retry"), "retry"),
    ("no registration", _without(minimal_node(), "registration"), "registration"),
    (
        "registration 3 bytes",
        _edit(minimal_node(), ["registration"], data=b"\x00\x30\x39"),
        "registration",
    ),
    (
        "registration 5 bytes",
        _edit(minimal_node(), ["registration"], data=b"\x00\x00\x00\x30\x39"),
        "registration",
    ),
    ("registration empty", _edit(minimal_node(), ["registration"], data=None), "registration"),
    ("count abc", _edit(minimal_node(), ["retry"], attrs=_retry_attrs(count="abc")), "retry.count"),
    ("count 0", _edit(minimal_node(), ["retry"], attrs=_retry_attrs(count="0")), "retry.count"),
    (
        "count 10^9",
        _edit(minimal_node(), ["retry"], attrs=_retry_attrs(count="1000000000")),
        "retry.count",
    ),
    ("count -1", _edit(minimal_node(), ["retry"], attrs=_retry_attrs(count="-1")), "retry.count"),
    (
        "count missing",
        _edit(minimal_node(), ["retry"], attrs=_retry_attrs(count=None)),
        "retry.count",
    ),
    ("t missing", _edit(minimal_node(), ["retry"], attrs=_retry_attrs(t=None)), "retry.t"),
    ("t 2^64", _edit(minimal_node(), ["retry"], attrs=_retry_attrs(t=str(2**64))), "retry.t"),
    ("v 0", _edit(minimal_node(), ["retry"], attrs=_retry_attrs(v="0")), "retry.v"),
    ("v x", _edit(minimal_node(), ["retry"], attrs=_retry_attrs(v="x")), "retry.v"),
    ("error 42", _edit(minimal_node(), ["retry"], attrs=_retry_attrs(error="42")), "retry.error"),
    ("retry id differs", _edit(minimal_node(), ["retry"], attrs=_retry_attrs(id="zz")), "retry.id"),
    (
        "duplicated retry",
        Node(
            "receipt", minimal_node().attrs, [*minimal_node().children, minimal_node().children[0]]
        ),
        "retry",
    ),
    (
        "duplicated registration",
        Node(
            "receipt", minimal_node().attrs, [*minimal_node().children, minimal_node().children[1]]
        ),
        "registration",
    ),
    ("wrong tag", _edit(minimal_node(), [], tag="message"), "receipt"),
    (
        "type read",
        _edit(minimal_node(), [], attrs={**minimal_node().attrs, "type": "read"}),
        "type",
    ),
    ("no id", _edit(minimal_node(), [], attrs={"to": "x", "type": "retry"}), "id"),
    ("empty id", _edit(minimal_node(), [], attrs={"id": "", "to": "x", "type": "retry"}), "id"),
    ("no to", _edit(minimal_node(), [], attrs={"id": "x", "type": "retry"}), "to"),
    (
        "id not UTF-8",
        _edit(minimal_node(), [], attrs={**minimal_node().attrs, "id": "a\udcff"}),
        "id",
    ),
    (
        "participant not UTF-8",
        _edit(minimal_node(), [], attrs={**minimal_node().attrs, "participant": "\ud800"}),
        "participant",
    ),
    (
        "receipt t abc",
        _edit(minimal_node(), [], attrs={**minimal_node().attrs, "t": "abc"}),
        "t",
    ),
]

_KEYS = receipt_to_node(full())


def _keys_edit(path: list[str], **changes: Any) -> Node:
    return _edit(_KEYS, ["keys", *path], **changes)


def _keys_without(tag: str) -> Node:
    keys = _KEYS.child("keys")
    assert keys is not None
    return _edit(_KEYS, ["keys"], children=[k for k in keys.children if k.tag != tag])


BAD_NODES += [
    ("key id 4 bytes", _keys_edit(["key", "id"], data=b"\x00\x00\x00\x01"), "keys.key.id"),
    ("skey id 4 bytes", _keys_edit(["skey", "id"], data=b"\x00\x00\x00\x07"), "keys.skey.id"),
    (
        "signature 63 bytes",
        _keys_edit(["skey", "signature"], data=bytes(63)),
        "keys.skey.signature",
    ),
    ("type byte 0x04", _keys_edit(["type"], data=b"\x04"), "keys.type"),
    ("type two bytes", _keys_edit(["type"], data=b"\x05\x05"), "keys.type"),
    ("no type", _keys_without("type"), "keys.type"),
    ("identity 33 bytes", _keys_edit(["identity"], data=bytes(33)), "keys.identity"),
    ("no identity", _keys_without("identity"), "keys.identity"),
    ("no skey", _keys_without("skey"), "keys.skey"),
    ("prekey 31 bytes", _keys_edit(["key", "value"], data=bytes(31)), "keys.key.value"),
    ("keys as bytes", _keys_edit([], children=(), data=b"\x01"), "keys"),
    (
        "duplicated identity",
        _edit(
            _KEYS,
            ["keys"],
            children=[*(_KEYS.child("keys").children), Node("identity", data=bytes(32))],  # type: ignore[union-attr]
        ),
        "keys.identity",
    ),
]


@pytest.mark.parametrize(
    ("node", "field"), [(n, f) for _, n, f in BAD_NODES], ids=[c[0] for c in BAD_NODES]
)
def test_bad_nodes_raise_invalid_receipt_naming_the_field(node: Node, field: str) -> None:
    with pytest.raises(InvalidReceipt) as info:
        receipt_from_node(node, OutgoingRetryReceipt)
    assert info.value.field == field


def test_from_node_refuses_non_nodes() -> None:
    with pytest.raises(UsageError):
        receipt_from_node("<receipt/>", OutgoingRetryReceipt)  # type: ignore[arg-type]


def test_outgoing_node_is_not_read_as_incoming() -> None:
    with pytest.raises(InvalidReceipt) as info:
        receipt_from_node(minimal_node(), IncomingRetryReceipt)
    assert info.value.field == "from"


# -- Node itself ---------------------------------------------------------------------


def test_node_validates_on_construction() -> None:
    with pytest.raises(UsageError):
        Node("")
    with pytest.raises(UsageError):
        Node("a b")
    with pytest.raises(UsageError):
        Node("a", {"k": 1})  # type: ignore[dict-item]
    with pytest.raises(UsageError):
        Node("a", children=[Node("b")], data=b"")
    with pytest.raises(UsageError):
        Node("a", children=["b"])  # type: ignore[list-item]


def test_node_equality_ignores_attribute_order_but_text_keeps_it() -> None:
    a = Node("x", {"a": "1", "b": "2"})
    b = Node("x", {"b": "2", "a": "1"})
    assert a == b
    assert a.to_text() == '<x a="1" b="2"/>'
    assert b.to_text() == '<x b="2" a="1"/>'


def test_text_escapes_and_empty_data() -> None:
    n = Node("x", {"q": 'a"b<c>&d\n\t\x00é'}, data=b"")
    text = n.to_text()
    assert text == '<x q="a&quot;b&lt;c&gt;&amp;d&#xa;&#x9;&#x0;é">0x</x>'
    assert parse_text(text) == n
    assert parse_text("<x></x>") == Node("x")
    assert parse_text("  <x >\n <y/>\n</x >  ") == Node("x", children=[Node("y")])


@pytest.mark.parametrize(
    "text",
    [
        "",
        "x",
        "<",
        "<x",
        "<x>",
        "<x></y>",
        "<x a=1/>",
        '<x a="1" a="2"/>',
        '<x a="1"b="2"/>',
        "<x>0x1</x>",
        "<x>0xzz</x>",
        "<x>0x00<y/></x>",
        "<x/><y/>",
        '<x a="&bogus;"/>',
        '<x a="&#x110000;"/>',
        '<x a="<"/>',
        "<x>text</x>",
        "<" * 100,
        "<a>" * 40 + "</a>" * 40,
    ],
)
def test_malformed_text_raises_decode_error(text: str) -> None:
    with pytest.raises(DecodeError):
        parse_text(text)


def test_dict_form_round_trip_and_errors() -> None:
    n = receipt_to_node(full())
    assert Node.from_dict(n.to_dict()) == n
    for bad in ({"tag": 5}, {"tag": "x", "data": "zz"}, {"tag": "x", "children": "no"}, [1]):
        with pytest.raises(DecodeError):
            Node.from_dict(bad)


# -- properties ----------------------------------------------------------------------

names = st.text("abcdefghijklmnopqrstuvwxyzABCXYZ0123456789_-.:", min_size=1, max_size=8)
values = st.text(st.characters(), max_size=12)

nodes = st.recursive(
    st.builds(
        Node,
        names,
        st.dictionaries(names, values, max_size=4),
        st.just(()),
        st.none() | st.binary(max_size=12),
    ),
    lambda kids: st.builds(
        Node, names, st.dictionaries(names, values, max_size=4), st.lists(kids, max_size=4)
    ),
    max_leaves=12,
)


@given(receipts)
def test_receipt_node_round_trip(r: Any) -> None:
    n = receipt_to_node(r)
    assert receipt_from_node(n, type(r)) == r
    assert parse_text(n.to_text()) == n
    assert parse_text(n.to_text(indent=None)) == n
    assert receipt_from_node(parse_text(n.to_text()), type(r)) == r


@given(nodes)
def test_text_round_trip_is_exact(n: Node) -> None:
    text = n.to_text()
    back = parse_text(text)
    assert back == n
    assert back.to_text() == text
    assert parse_text(n.to_text(indent=None)) == n
    assert Node.from_dict(n.to_dict()) == n


@given(nodes)
def test_random_nodes_raise_only_axolotl_errors(n: Node) -> None:
    for cls in (OutgoingRetryReceipt, IncomingRetryReceipt):
        with contextlib.suppress(AxolotlError):
            receipt_from_node(n, cls)


@st.composite
def mutated_receipt_nodes(draw: st.DrawFn) -> Node:
    """A valid receipt node with one attribute value or data field replaced at random."""
    n = receipt_to_node(draw(receipts))
    text = n.to_text(indent=None)
    i = draw(st.integers(0, len(text) - 1))
    j = draw(st.integers(i, min(len(text), i + 6)))
    mutated = text[:i] + draw(st.text('0123456789abcdefx"<>/= ', max_size=4)) + text[j:]
    try:
        return parse_text(mutated)
    except DecodeError:
        return n


@settings(max_examples=300)
@given(mutated_receipt_nodes())
def test_mutated_receipts_raise_only_axolotl_errors(n: Node) -> None:
    with contextlib.suppress(AxolotlError):
        parse_receipt_node(n)


@given(st.text(max_size=80) | st.text('<>/="x0 abc&#;', max_size=80))
def test_random_text_raises_only_decode_error(text: str) -> None:
    with contextlib.suppress(DecodeError):
        parse_text(text)


def test_every_node_built_is_new_and_independent() -> None:
    # No node is shared between two receipts (there is no cache to share
    # from), so a caller that rewrites one (as a relay rewrites to => from)
    # changes nothing else.
    r = OutgoingRetryReceipt(**{**BASE, "registration_id": 7})
    a, b = receipt_to_node(r), receipt_to_node(r)
    assert a == b
    for x, y in zip(a.children, b.children, strict=True):
        assert x is not y and x.attrs is not y.attrs
    a.attrs["from"] = a.attrs.pop("to")
    a.children[0].attrs["count"] = "9"
    assert receipt_from_node(b, OutgoingRetryReceipt) == r
    assert receipt_from_node(a, IncomingRetryReceipt).count == 9
    for reg_id in (0, 1000, 2**32 - 1):
        built = receipt_to_node(OutgoingRetryReceipt(**{**BASE, "registration_id": reg_id}))
        assert built.children[1].data == reg_id.to_bytes(4, "big")


# -- the fast paths agree with the general ones ----------------------------------------


def _outcome(read: Any, node: Node) -> object:
    try:
        return read(node)
    except InvalidReceipt as exc:
        return ("InvalidReceipt", exc.field, str(exc))


@st.composite
def keys_nodes(draw: st.DrawFn) -> Node:
    """A ``<keys>`` node of a valid bundle, then children reordered, dropped, doubled or changed."""
    from tests.test_receipts_entities import key_bundles

    node = receipt_to_node(dataclasses.replace(full(), keys=draw(key_bundles())))
    keys = node.child("keys")
    assert keys is not None
    kids = list(keys.children)
    leaves = ["type", "identity", "device-identity", "key/id", "key/value", "skey/id"]
    leaves += ["skey/value", "skey/signature"]
    for _ in range(draw(st.integers(0, 3))):
        how = draw(st.sampled_from(["swap", "drop", "double", "extra", "data", "nest"]))
        if how == "swap" and len(kids) > 1:
            i, j = draw(st.integers(0, len(kids) - 1)), draw(st.integers(0, len(kids) - 1))
            kids[i], kids[j] = kids[j], kids[i]
        elif how == "drop" and kids:
            kids.pop(draw(st.integers(0, len(kids) - 1)))
        elif how == "double" and kids:
            kids.append(kids[draw(st.integers(0, len(kids) - 1))])
        elif how == "extra":
            kids.insert(draw(st.integers(0, len(kids))), Node("other", data=b"x"))
        elif how == "data":
            path = draw(st.sampled_from(leaves)).split("/")
            data = draw(st.binary(max_size=70))
            for index, kid in enumerate(kids):
                if kid.tag == path[0] and len(path) == 1 and kid.data is not None:
                    kids[index] = Node(kid.tag, data=data)
                elif kid.tag == path[0] and len(path) == 2:
                    sub = [Node(k.tag, data=data) if k.tag == path[1] else k for k in kid.children]
                    kids[index] = Node(kid.tag, children=sub)
        elif how == "nest" and kids:
            index = draw(st.integers(0, len(kids) - 1))
            kids[index] = Node(kids[index].tag, children=[Node("x")])
    return Node("keys", children=kids[:32])


@settings(max_examples=400)
@given(keys_nodes())
def test_the_canonical_keys_path_reads_as_the_general_one(keys: Node) -> None:
    from axolotl.receipts import tree

    assert _outcome(tree._keys_from_node, keys) == _outcome(tree._keys_in_any_order, keys)


_BUNDLE_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-2, 2**24 + 1),
    st.sampled_from([5, 4, 2**24 - 1, 2**24, 5.0]),
    st.binary(min_size=0, max_size=70),
    st.sampled_from([bytes(n) for n in (0, 31, 32, 33, 63, 64, 65, 4096, 4097)]),
    st.sampled_from([bytearray(32), bytearray(64), "x" * 32]),
)


@st.composite
def bundle_values(draw: st.DrawFn) -> dict[str, Any]:
    """The fields of a valid bundle, up to three of them replaced by any value."""
    from tests.test_receipts_entities import key_bundles

    bundle = draw(key_bundles())
    values = {name: getattr(bundle, name) for name in BUNDLE.__dataclass_fields__}
    for name in draw(st.lists(st.sampled_from(sorted(values)), max_size=3)):
        values[name] = draw(_BUNDLE_VALUES)
    return values


def _bundle_accepted(values: dict[str, Any]) -> bool:
    from axolotl.receipts.fields import make_key_bundle

    try:
        make_key_bundle(
            values["key_type"], values["identity"], values["pre_key_id"], values["pre_key"],
            values["signed_pre_key_id"], values["signed_pre_key"],
            values["signed_pre_key_signature"], values["device_identity"],
        )  # fmt: skip
    except InvalidReceipt:
        return False
    return True


def _bundle_spec(values: dict[str, Any]) -> bool:
    """What DESIGN.md's ``<keys>`` allows, written out independently of fields.py."""

    def is_bytes(value: object, length: int) -> bool:
        return type(value) is bytes and len(value) == length

    def is_id(value: object) -> bool:
        return type(value) is int and 0 <= value < 2**24

    pre_key_id, pre_key = values["pre_key_id"], values["pre_key"]
    device = values["device_identity"]
    return (
        type(values["key_type"]) is int
        and values["key_type"] == 5
        and is_bytes(values["identity"], 32)
        and is_id(values["signed_pre_key_id"])
        and is_bytes(values["signed_pre_key"], 32)
        and is_bytes(values["signed_pre_key_signature"], 64)
        and (
            (pre_key_id is None and pre_key is None)
            or (is_id(pre_key_id) and is_bytes(pre_key, 32))
        )
        and (device is None or (type(device) is bytes and len(device) <= 4096))
    )


_BOUNDARIES = [None, True, False, -1, 0, 4, 5, 5.0, 2**24 - 1, 2**24, "x" * 32, bytearray(32)]
_BOUNDARIES += [bytes(n) for n in (0, 1, 31, 32, 33, 63, 64, 65, 4096, 4097)]


@pytest.mark.parametrize("name", sorted(BUNDLE.__dataclass_fields__))
def test_the_bundle_check_accepts_exactly_the_spec_field_by_field(name: str) -> None:
    # KeyBundle.validate passes a valid bundle in one inline test and names a
    # bad field in the checks after it: each field at each boundary, in a
    # bundle with and without the optional parts, gets the spec's answer.
    without = {**{n: getattr(BUNDLE, n) for n in BUNDLE.__dataclass_fields__}}
    without.update(pre_key_id=None, pre_key=None, device_identity=None)
    for base in ({n: getattr(BUNDLE, n) for n in BUNDLE.__dataclass_fields__}, without):
        for value in _BOUNDARIES:
            values = {**base, name: value}
            assert _bundle_accepted(values) == _bundle_spec(values), (name, value)


@settings(max_examples=300)
@given(bundle_values())
def test_the_bundle_check_agrees_with_the_spec(values: dict[str, Any]) -> None:
    assert _bundle_accepted(values) == _bundle_spec(values)
