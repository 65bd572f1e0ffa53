"""The duck-typed bridge to yowsup's ProtocolTreeNode.

Runs against yowsup 3.3.0's own ``ProtocolTreeNode`` class, loaded by file path
from the peer venv (it imports nothing but ``binascii``), and against a minimal
stand-in so the test runs without the peer venv too.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given

from axolotl.errors import AxolotlError, DecodeError, InvalidReceipt, UsageError
from axolotl.receipts import (
    IncomingRetryReceipt,
    Node,
    OutgoingRetryReceipt,
    node_from_yowsup,
    node_to_yowsup,
    receipt_from_yowsup,
    receipt_to_node,
    receipt_to_yowsup,
)
from tests.test_receipts_entities import BASE, BUNDLE, receipts
from tests.test_receipts_node import nodes

ROOT = Path(__file__).resolve().parents[1]


class FakeProtocolTreeNode:
    """The members of yowsup's ProtocolTreeNode the bridge uses."""

    def __init__(
        self,
        tag: str,
        attributes: dict[Any, Any] | None = None,
        children: list[Any] | None = None,
        data: Any = None,
    ) -> None:
        self.tag = tag
        self.attributes = attributes or {}
        self.children = children or []
        self.data = data

    def getAllChildren(self) -> list[Any]:
        return self.children

    def getData(self) -> Any:
        return self.data


def _real_yowsup_class() -> Any:
    found = sorted(
        (ROOT / ".peers").glob("*/lib/python*/site-packages/yowsup/structs/protocoltreenode.py")
    )
    if not found:
        return None
    spec = importlib.util.spec_from_file_location("_yowsup_protocoltreenode", found[0])
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.ProtocolTreeNode


FACTORIES = [pytest.param(FakeProtocolTreeNode, id="stand-in")]
_REAL = _real_yowsup_class()
FACTORIES.append(
    pytest.param(
        _REAL,
        id="yowsup-3.3.0",
        marks=pytest.mark.skipif(_REAL is None, reason="peer venv (.peers) not built"),
    )
)


@pytest.mark.parametrize("factory", FACTORIES)
def test_receipt_survives_yowsup_nodes(factory: Any) -> None:
    r = OutgoingRetryReceipt(**BASE, keys=BUNDLE, participant="1@g.us")
    ptn = receipt_to_yowsup(r, factory)
    assert ptn.tag == "receipt" and ptn.attributes["to"] == BASE["to"]
    registration = next(c for c in ptn.getAllChildren() if c.tag == "registration")
    assert registration.getData() == b"\x00\x00\x30\x39"
    assert node_from_yowsup(ptn) == receipt_to_node(r)
    assert receipt_from_yowsup(ptn, OutgoingRetryReceipt) == r


@pytest.mark.parametrize("factory", FACTORIES)
def test_yowsup_style_values_are_accepted(factory: Any) -> None:
    # yowsup code sometimes leaves ints and bytes in attributes
    retry = factory("retry", {"count": 2, "id": b"m1", "t": "5", "v": 1})
    registration = factory("registration", None, None, b"\x00\x00\x00\x09")
    ptn = factory(
        "receipt", {"id": "m1", "from": "a@s.whatsapp.net", "type": "retry"}, [retry, registration]
    )
    inc = receipt_from_yowsup(ptn, IncomingRetryReceipt)
    assert (inc.count, inc.version, inc.registration_id) == (2, 1, 9)


@pytest.mark.parametrize("factory", FACTORIES)
def test_non_utf8_attribute_names_the_field(factory: Any) -> None:
    retry = factory("retry", {"count": b"\xff", "id": "m1", "t": "5", "v": "1"})
    registration = factory("registration", None, None, b"\x00\x00\x00\x09")
    ptn = factory("receipt", {"id": "m1", "from": "a", "type": "retry"}, [retry, registration])
    with pytest.raises(InvalidReceipt) as info:
        receipt_from_yowsup(ptn, IncomingRetryReceipt)
    assert info.value.field == "retry.count"
    ptn = factory("receipt", {"id": b"\xc3", "from": "a", "type": "retry"}, [retry])
    with pytest.raises(InvalidReceipt) as info:
        receipt_from_yowsup(ptn, IncomingRetryReceipt)
    assert info.value.field == "id"


def test_structural_problems_are_decode_errors() -> None:
    both = FakeProtocolTreeNode("x", {}, [FakeProtocolTreeNode("y")], b"\x00")
    with pytest.raises(DecodeError):
        node_from_yowsup(both)
    with pytest.raises(DecodeError):
        node_from_yowsup(FakeProtocolTreeNode("x", {}, None, 5))
    with pytest.raises(DecodeError):
        node_from_yowsup(FakeProtocolTreeNode("bad tag"))
    with pytest.raises(DecodeError):
        node_from_yowsup(object())
    deep = FakeProtocolTreeNode("x")
    for _ in range(40):
        deep = FakeProtocolTreeNode("x", {}, [deep])
    with pytest.raises(DecodeError):
        node_from_yowsup(deep)
    with pytest.raises(UsageError):
        node_to_yowsup("x", FakeProtocolTreeNode)  # type: ignore[arg-type]


@given(nodes)
def test_node_round_trip_through_stand_in(n: Node) -> None:
    try:
        back = node_from_yowsup(node_to_yowsup(n, FakeProtocolTreeNode))
    except DecodeError:
        # only a value that is not UTF-8 text (a lone surrogate) may be refused
        assert any(not _utf8(v) for v in _all_values(n))
        return
    assert back == n


@given(receipts)
def test_receipt_round_trip_through_stand_in(r: Any) -> None:
    assert receipt_from_yowsup(receipt_to_yowsup(r, FakeProtocolTreeNode), type(r)) == r


@given(nodes)
def test_random_nodes_raise_only_invalid_receipt(n: Node) -> None:
    try:
        receipt_from_yowsup(node_to_yowsup(n, FakeProtocolTreeNode), OutgoingRetryReceipt)
    except AxolotlError as exc:
        assert isinstance(exc, InvalidReceipt)


def _all_values(n: Node) -> list[str]:
    return [*n.attrs.values(), *(v for k in n.children for v in _all_values(k))]


def _utf8(value: str) -> bool:
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True
