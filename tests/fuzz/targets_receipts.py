"""Fuzz targets for retry receipts: node tree, node text, protobuf, the yowsup bridge, node codecs.

A receipt any codec accepted must come back equal through every codec (node,
text, protobuf): a value one side accepts and the other refuses is a
:class:`~tests.fuzz.engine.Violation`, as is a node the constructor accepted
that its own text or dict form cannot carry.
"""

from __future__ import annotations

import contextlib
import dataclasses
import random
import re
from collections.abc import Callable, Sequence
from typing import Any

from axolotl.errors import AxolotlError, DecodeError
from axolotl.receipts import (
    IncomingRetryReceipt,
    Node,
    OutgoingRetryReceipt,
    RetryReceipt,
    node_from_yowsup,
    node_to_yowsup,
    parse_receipt_node,
    parse_receipt_proto,
    parse_text,
    receipt_from_node,
    receipt_from_proto,
    receipt_from_yowsup,
    receipt_to_node,
    receipt_to_proto,
)
from axolotl.receipts.limits import MAX_RECEIPT_NODES
from tests.fuzz.engine import Harness, Target, Violation
from tests.fuzz.mutate_node import (
    Flat,
    build_node,
    flat_from_json,
    flat_to_json,
    flatten,
    mutate_flat,
    mutate_text,
)
from tests.fuzz.mutate_pb import Nested, mutate_message
from tests.fuzz.seeds import world
from tests.fuzz.targets_wire import bytes_harness

__all__ = [
    "TARGETS",
    "FakeProtocolTreeNode",
    "check_receipt",
    "flat_harness",
    "ptn_from_flat",
    "tag_for_yowsup",
]

_KEYS = {12: Nested()}


def check_receipt(receipt: RetryReceipt) -> None:
    """Every codec must carry ``receipt`` back unchanged.

    Raises:
        Violation: a codec refused or changed a receipt another codec accepted.
    """
    cls = type(receipt)
    try:
        node = receipt_to_node(receipt)
        by_node = receipt_from_node(node, cls)
        by_text = receipt_from_node(parse_text(node.to_text()), cls)
        by_proto = receipt_from_proto(receipt_to_proto(receipt), cls)
    except AxolotlError as exc:
        raise Violation(f"accepted receipt does not survive the codecs: {exc!r}") from exc
    for how, again in (("node", by_node), ("text", by_text), ("protobuf", by_proto)):
        if again != receipt:
            raise Violation(f"{how} round trip changed the receipt: {receipt!r} -> {again!r}")


def flat_harness(
    seeds: Sequence[Flat],
    run: Any,
    *,
    valid_names: bool = True,
    prepare: Any = build_node,
    remote: bool = True,
) -> Harness:
    """A harness whose inputs are flat trees (saved as JSON), built into Nodes untimed."""

    def mutate(rng: random.Random, flat: Flat, pool: Sequence[Flat]) -> Flat:
        return mutate_flat(rng, flat, pool, valid_names=valid_names)

    def decode(data: bytes) -> Flat:
        try:
            return flat_from_json(data.decode("utf-8"))
        except (ValueError, TypeError, UnicodeDecodeError, RecursionError):
            return seeds[0]  # atheris hands over arbitrary bytes: fall back to a seed

    return Harness(
        seeds=list(seeds),
        mutate=mutate,
        run=run,
        encode=lambda flat: flat_to_json(flat).encode("ascii"),
        decode=decode,
        prepare=prepare,
        remote=remote,
    )


def _seed_nodes() -> list[Node]:
    return [receipt_to_node(r) for r in world().receipts]


# -- tree ------------------------------------------------------------------------------------


def _receipt_node() -> Harness:
    def run(node: Node) -> None:
        check_receipt(parse_receipt_node(node))

    return flat_harness([flatten(n) for n in _seed_nodes()], run)


# -- text --------------------------------------------------------------------------------------


def _receipt_text() -> Harness:
    nodes = _seed_nodes()
    trees = [flatten(n) for n in nodes]
    seeds = [n.to_text() for n in nodes] + [n.to_text(indent=None) for n in nodes]

    def run(text: str) -> tuple[Node, RetryReceipt]:
        # What a peer's text costs us (timed): the parse, capped as a reader of
        # receipts caps it, and the receipt read.
        node = parse_text(text, max_nodes=MAX_RECEIPT_NODES)
        return node, parse_receipt_node(node)

    def check(text: str, result: tuple[Node, RetryReceipt]) -> None:
        # The round trips (untimed). A node whose receipt is refused is not
        # round-tripped here: node_codecs does that for every node Node() accepts.
        node, receipt = result
        try:
            again = parse_text(node.to_text())
        except AxolotlError as exc:
            raise Violation(f"parsed node does not survive to_text: {exc!r}") from exc
        if flatten(again) != flatten(node):
            raise Violation("parse_text(node.to_text()) differs from node")
        check_receipt(receipt)

    def mutate(rng: random.Random, text: str, pool: Sequence[str]) -> str:
        return mutate_text(rng, text, pool, trees)

    return Harness(
        seeds=seeds,
        mutate=mutate,
        run=run,
        check=check,
        encode=lambda text: text.encode("utf-8", "surrogatepass"),
        decode=decode_text,
    )


def decode_text(data: bytes) -> str:
    """Saved text back (UTF-8, lone surrogates kept); arbitrary bytes read as Latin-1."""
    try:
        return data.decode("utf-8", "surrogatepass")
    except UnicodeDecodeError:
        return data.decode("latin-1")


# -- protobuf ---------------------------------------------------------------------------------


def _receipt_proto() -> Harness:
    w = world()

    def run(data: bytes) -> None:
        receipt = parse_receipt_proto(data)
        for cls in (OutgoingRetryReceipt, IncomingRetryReceipt):
            with contextlib.suppress(AxolotlError):  # the other direction is refused, typed
                receipt_from_proto(data, cls)
        check_receipt(receipt)

    return bytes_harness(
        [receipt_to_proto(r) for r in w.receipts],
        lambda rng, d, pool: mutate_message(rng, d, _KEYS, pool, [k[1:] for k in w.keys]),
        run,
    )


# -- node codecs: the constructor and the renderers ---------------------------------------------


class FakeProtocolTreeNode:
    """Shaped like yowsup's ``ProtocolTreeNode`` (yowsup is not a dependency)."""

    def __init__(self, tag: Any, attributes: Any, children: Any = None, data: Any = None) -> None:
        self.tag = tag
        self.attributes = attributes
        self.children = children
        self.data = data

    def getAllChildren(self) -> Any:
        return self.children

    def getData(self) -> Any:
        return self.data


def _codec_round_trips(node: Node) -> list[tuple[str, Callable[[], Node]]]:
    return [
        ("to_text/parse_text", lambda: parse_text(node.to_text())),
        ("to_text(indent=None)/parse_text", lambda: parse_text(node.to_text(indent=None))),
        ("to_dict/from_dict", lambda: Node.from_dict(node.to_dict())),
        (
            "node_to_yowsup/node_from_yowsup",
            lambda: node_from_yowsup(node_to_yowsup(node, FakeProtocolTreeNode)),
        ),
    ]


_CODEC_PASSES = 8
_US_PER_NODE_PASS = 10.0
"""The linear budget of node_codecs: a codec pass (render or parse) may take this
per node (~3 us measured on a quiet host; quadratic work at 12,288 nodes costs
seconds)."""


def _node_codecs() -> Harness:
    def run(node: Node) -> list[tuple[str, Node]]:
        out = []
        for codec, round_trip in _codec_round_trips(node):
            try:
                out.append((codec, round_trip()))
            except DecodeError as exc:
                # The reason only: the field path varies, the bug does not.
                raise Violation(f"a node Node() accepted fails {codec}: {exc.reason}") from exc
            except AxolotlError as exc:
                raise Violation(f"a node Node() accepted fails {codec}: {exc!r}") from exc
        return out

    def check(node: Node, result: list[tuple[str, Node]]) -> None:
        shape = flatten(node)
        for codec, again in result:
            if flatten(again) != shape:
                raise Violation(f"{codec} changed the node")

    def allowance_ms(node: Node) -> float:
        # A local tree at the limits (12,288 nodes) costs its size: judged per node.
        return len(flatten(node)) * _CODEC_PASSES * _US_PER_NODE_PASS / 1000

    # Local API (a Node the application built): any AxolotlError is fair.
    base = flat_harness([flatten(n) for n in _seed_nodes()], run, valid_names=False, remote=False)
    return dataclasses.replace(base, check=check, allowance_ms=allowance_ms)


# -- yowsup ----------------------------------------------------------------------------------

_BYTES, _INT = "\x00b:", "\x00i:"


def _ptn_value(value: str) -> Any:
    """Attribute values tagged by the mutator become bytes or ints, as yowsup may hand them."""
    if value.startswith(_BYTES):
        return value[len(_BYTES) :].encode("latin-1", "replace")
    number = re.fullmatch(r"-?[0-9]{1,64}", value[len(_INT) :])
    if value.startswith(_INT) and number is not None:
        return int(number.group())
    return value


def ptn_from_flat(flat: Flat) -> FakeProtocolTreeNode:
    """The yowsup-shaped tree of ``flat``, built leaves first (any depth)."""
    kids: list[list[FakeProtocolTreeNode]] = [[] for _ in flat]
    built: FakeProtocolTreeNode | None = None
    for index in range(len(flat) - 1, -1, -1):
        tag, attrs, data, parent = flat[index]
        built = FakeProtocolTreeNode(tag, {k: _ptn_value(v) for k, v in attrs}, kids[index], data)
        if parent >= 0:
            kids[parent].insert(0, built)
    assert built is not None
    return built


def tag_for_yowsup(rng: random.Random, flat: Flat) -> Flat:
    """One attribute value of ``flat`` tagged to reach yowsup as bytes or an int."""
    rows = list(flat)
    i = rng.randrange(len(rows))
    tag, attrs, data, parent = rows[i]
    if not attrs:
        return flat
    j = rng.randrange(len(attrs))
    key, value = attrs[j]
    value = rng.choice((_BYTES + value, _BYTES + "\xff\xfe", _INT + value, _INT + "-1"))
    rows[i] = (tag, (*attrs[:j], (key, value), *attrs[j + 1 :]), data, parent)
    return tuple(rows)


def _receipt_yowsup() -> Harness:
    seeds = [flatten(n) for n in _seed_nodes()]
    base = flat_harness(seeds, None)

    def mutate(rng: random.Random, flat: Flat, pool: Sequence[Flat]) -> Flat:
        if rng.random() < 0.75:
            mutant: Flat = base.mutate(rng, flat, pool)
            return mutant
        return tag_for_yowsup(rng, flat)

    def run(ptn: FakeProtocolTreeNode) -> None:
        receipt: RetryReceipt
        if isinstance(ptn.attributes, dict) and "from" in ptn.attributes:
            receipt = receipt_from_yowsup(ptn, IncomingRetryReceipt)
        else:
            receipt = receipt_from_yowsup(ptn, OutgoingRetryReceipt)
        check_receipt(receipt)

    return Harness(
        seeds=seeds, mutate=mutate, run=run, encode=base.encode, decode=base.decode,
        prepare=ptn_from_flat,
    )  # fmt: skip


TARGETS = (
    Target(
        name="receipt_node",
        doc="Node() + parse_receipt_node, codec round trips",
        build=_receipt_node,
    ),
    Target(
        name="receipt_text", doc="parse_text + parse_receipt_node, round trips", build=_receipt_text
    ),
    Target(
        name="receipt_proto",
        doc="parse_receipt_proto / receipt_from_proto, round trips",
        build=_receipt_proto,
    ),
    Target(
        name="receipt_yowsup",
        doc="receipt_from_yowsup on ProtocolTreeNode look-alikes",
        build=_receipt_yowsup,
    ),
    Target(
        name="node_codecs",
        doc="Node() then to_text/parse_text, to_dict/from_dict, yowsup",
        build=_node_codecs,
    ),
)
