"""A duck-typed bridge to yowsup's ``ProtocolTreeNode`` (yowsup is never imported).

yowsup layers hand nodes around as ``yowsup.structs.ProtocolTreeNode``: a
``tag``, an ``attributes`` dict, a ``children`` list (``getAllChildren()``)
and ``data`` bytes (``getData()``). :func:`node_from_yowsup` reads any object
shaped like that; :func:`node_to_yowsup` builds one through a factory the
caller passes in -- normally the class itself::

    from yowsup.structs import ProtocolTreeNode
    ptn = receipt_to_yowsup(receipt, ProtocolTreeNode)
    receipt = receipt_from_yowsup(incoming_ptn, IncomingRetryReceipt)

yowsup attribute values may be ``str``, ``bytes`` or ``int``; bytes must be
UTF-8, ints at most 20 digits; ``str`` data is encoded as UTF-8. The trees read obey the limits of
:mod:`axolotl.receipts.limits`, like every other node. Problems are reported
with dotted paths below the root (``"retry.count"``, ``"keys.skey"``), the same
field names the receipt codec uses.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from axolotl.errors import DecodeError, InvalidReceipt, UsageError
from axolotl.receipts.entities import IncomingRetryReceipt, OutgoingRetryReceipt, ReceiptT
from axolotl.receipts.limits import (
    MAX_ATTRS,
    MAX_CHILDREN,
    MAX_DATA_LENGTH,
    MAX_DEPTH,
    MAX_NAME_LENGTH,
    MAX_NODES,
    MAX_RECEIPT_NODES,
    MAX_UINT_DIGITS,
    MAX_VALUE_LENGTH,
    check_max_nodes,
    excerpt,
)
from axolotl.receipts.node import NAME_CHARS, Node
from axolotl.receipts.tree import receipt_from_node, receipt_to_node

__all__ = ["node_from_yowsup", "node_to_yowsup", "receipt_from_yowsup", "receipt_to_yowsup"]


NodeFactory = Callable[[str, dict[str, str], list[Any], bytes | None], Any]
"""``ProtocolTreeNode(tag, attributes, children, data)`` or anything called like it."""

# An int attribute is written in decimal; more than MAX_UINT_DIGITS digits is
# no number any receipt field takes (and str() refuses past 4300 digits).
_MAX_INT = 10**MAX_UINT_DIGITS


def _path(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _text(value: object, field: str, limit: int) -> str:
    """A yowsup value as text of at most ``limit`` characters (length checked first).

    A ``str`` is taken as it is, as ``Node`` takes any ``str`` (so every node
    survives the trip to yowsup and back); whether a field may hold it is for
    the layer that reads the field (a receipt refuses non-printable ids).
    """
    if isinstance(value, str):
        if len(value) > limit:
            raise DecodeError(field, f"longer than {limit} characters ({len(value)})")
        return str(value)
    if isinstance(value, bytes | bytearray):
        # UTF-8 takes at least one byte per character: a longer value cannot fit.
        if len(value) > 4 * limit:
            raise DecodeError(field, f"longer than {limit} characters ({len(value)} bytes)")
        try:
            text = bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            raise DecodeError(field, "is not valid UTF-8 text") from None
        if len(text) > limit:
            raise DecodeError(field, f"longer than {limit} characters ({len(text)})")
        return text
    if isinstance(value, int) and not isinstance(value, bool):
        if not -_MAX_INT < value < _MAX_INT:
            raise DecodeError(field, f"an integer of more than {MAX_UINT_DIGITS} digits")
        return str(int(value))
    raise DecodeError(field, f"must be text, got {type(value).__name__}")


def _name(value: object, field: str) -> str:
    name = _text(value, field, MAX_NAME_LENGTH)
    if not name or not NAME_CHARS.issuperset(name):
        raise DecodeError(field, f"not a valid name: {excerpt(name)}")
    return name


def _convert(ptn: Any, prefix: str, depth: int, nodes: list[int]) -> Node:
    # ``nodes`` = [converted so far, the cap], across the whole tree: a wide
    # hostile tree stops at the cap instead of being converted first and
    # refused after.
    if depth >= MAX_DEPTH:
        raise DecodeError(prefix or "node", f"nested deeper than {MAX_DEPTH}")
    nodes[0] += 1
    if nodes[0] > nodes[1]:
        raise DecodeError(prefix or "node", f"more than {nodes[1]} nodes in the tree")
    try:
        raw_tag = ptn.tag if hasattr(ptn, "tag") else ptn.getTag()
        raw_attrs = ptn.attributes
        raw_children = ptn.getAllChildren()
        raw_data = ptn.getData()
    except AttributeError as exc:
        raise DecodeError(prefix or "node", f"not a ProtocolTreeNode: {exc}") from None
    tag = _name(raw_tag, prefix or "node")
    here = prefix if depth else ""
    attrs: dict[str, str] = {}
    if raw_attrs:
        if not isinstance(raw_attrs, dict):
            raise DecodeError(here or tag, "attributes must be a dict")
        if len(raw_attrs) > MAX_ATTRS:
            raise DecodeError(here or tag, f"more than {MAX_ATTRS} attributes")
        for key, value in raw_attrs.items():
            name = _name(key, _path(here, "attribute name"))
            attrs[name] = _text(value, _path(here, name), MAX_VALUE_LENGTH)
    data: bytes | None
    if raw_data is None:
        data = None
    elif isinstance(raw_data, bytes | bytearray):
        data = bytes(raw_data)
    elif isinstance(raw_data, str):
        try:
            data = _text(raw_data, here or tag, MAX_DATA_LENGTH).encode("utf-8")
        except UnicodeEncodeError:
            raise DecodeError(here or tag, "data is not valid UTF-8 text") from None
    else:
        raise DecodeError(here or tag, f"data must be bytes, got {type(raw_data).__name__}")
    if data is not None and len(data) > MAX_DATA_LENGTH:
        raise DecodeError(here or tag, f"data longer than {MAX_DATA_LENGTH} bytes ({len(data)})")
    children: list[Node] = []
    if raw_children:
        if not isinstance(raw_children, list | tuple):
            raise DecodeError(here or tag, "children must be a list")
        if len(raw_children) > MAX_CHILDREN:
            raise DecodeError(here or tag, f"more than {MAX_CHILDREN} children")
        for kid in raw_children:
            kid_tag = getattr(kid, "tag", None)
            kid_name = (
                kid_tag if isinstance(kid_tag, str) and len(kid_tag) <= MAX_NAME_LENGTH else "?"
            )
            children.append(_convert(kid, _path(here, kid_name), depth + 1, nodes))
    if children and data is not None:
        raise DecodeError(here or tag, "has both children and data")
    try:
        # The constructor checks what is left: the tree's text size and totals.
        return Node(tag, attrs, children, data)
    except UsageError as exc:
        raise DecodeError(here or tag, str(exc)) from None


def node_from_yowsup(ptn: Any, *, max_nodes: int = MAX_NODES) -> Node:
    """Convert a yowsup ``ProtocolTreeNode`` (or a look-alike) to a :class:`Node`.

    Args:
        ptn: an object with ``tag`` (or ``getTag()``), ``attributes``,
            ``getAllChildren()`` and ``getData()``.
        max_nodes: refuse a tree of more nodes, before converting the rest
            (1..:data:`~axolotl.receipts.limits.MAX_NODES`; a reader of one
            kind of tree passes its own, smaller bound).

    Returns:
        The node (yowsup's empty ``data`` ``b""`` stays ``b""``).

    Raises:
        DecodeError: a name is not a valid name, a bytes value is not
            UTF-8, an int has more than 20 digits, data is not bytes,
            a node has both children and data, a limit of
            :mod:`axolotl.receipts.limits` is crossed (lengths are checked
            before anything is converted), or ``ptn`` lacks one of the
            members above. ``what`` is the dotted path of the field.
        UsageError: ``max_nodes`` is out of range.
    """
    return _convert(ptn, "", 0, [0, check_max_nodes(max_nodes)])


def node_to_yowsup(node: Node, factory: NodeFactory) -> Any:
    """Build a yowsup ``ProtocolTreeNode`` (through ``factory``) from a :class:`Node`.

    Args:
        node: the node.
        factory: called as ``factory(tag, attributes, children, data)`` for
            every node, children first; pass ``ProtocolTreeNode``.

    Returns:
        Whatever ``factory`` returned for the root.

    Raises:
        UsageError: ``node`` is not a :class:`Node`.
    """
    if not isinstance(node, Node):
        raise UsageError(f"expected a Node, got {type(node).__name__}")
    kids = [node_to_yowsup(kid, factory) for kid in node.children]
    return factory(node.tag, dict(node.attrs), kids, node.data)


def receipt_to_yowsup(
    receipt: OutgoingRetryReceipt | IncomingRetryReceipt, factory: NodeFactory
) -> Any:
    """``node_to_yowsup(receipt_to_node(receipt), factory)``.

    Args:
        receipt: an outgoing or incoming receipt.
        factory: as for :func:`node_to_yowsup`.

    Returns:
        Whatever ``factory`` returned for the root.
    """
    return node_to_yowsup(receipt_to_node(receipt), factory)


def receipt_from_yowsup(ptn: Any, cls: type[ReceiptT]) -> ReceiptT:
    """Read a retry receipt straight from a yowsup ``ProtocolTreeNode``.

    Args:
        ptn: the ``<receipt type="retry">`` node.
        cls: :class:`IncomingRetryReceipt` for a received node (``from``),
            :class:`OutgoingRetryReceipt` for one of ours (``to``).

    Returns:
        The receipt.

    Raises:
        InvalidReceipt: any problem, conversion ones included; ``field``
            names it as the node codec does (``"retry.count"``).
    """
    try:
        node = node_from_yowsup(ptn, max_nodes=MAX_RECEIPT_NODES)
    except DecodeError as exc:
        raise InvalidReceipt(exc.what, exc.reason) from None
    return receipt_from_node(node, cls)
