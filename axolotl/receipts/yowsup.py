"""A duck-typed bridge to yowsup's ``ProtocolTreeNode`` (yowsup is never imported).

yowsup layers hand nodes around as ``yowsup.structs.ProtocolTreeNode``: a
``tag``, an ``attributes`` dict, a ``children`` list (``getAllChildren()``)
and ``data`` bytes (``getData()``). :func:`node_from_yowsup` reads any object
shaped like that; :func:`node_to_yowsup` builds one through a factory the
caller passes in -- normally the class itself::

    from yowsup.structs import ProtocolTreeNode
    ptn = node_to_yowsup(receipt.to_node(), ProtocolTreeNode)
    receipt = receipt_from_yowsup(incoming_ptn, IncomingRetryReceipt)

yowsup attribute values may be ``str``, ``bytes`` or ``int``; bytes must be
UTF-8. Problems are reported with dotted paths below the root
(``"retry.count"``, ``"keys.skey"``), the same field names the receipt codec uses.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from axolotl.errors import DecodeError, InvalidReceipt, UsageError
from axolotl.receipts.entities import IncomingRetryReceipt, OutgoingRetryReceipt, ReceiptT
from axolotl.receipts.node import MAX_DEPTH, NAME_CHARS, Node
from axolotl.receipts.tree import receipt_from_node

__all__ = ["node_from_yowsup", "node_to_yowsup", "receipt_from_yowsup", "receipt_to_yowsup"]


NodeFactory = Callable[[str, dict[str, str], list[Any], bytes | None], Any]
"""``ProtocolTreeNode(tag, attributes, children, data)`` or anything called like it."""


def _path(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _text(value: object, field: str) -> str:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise DecodeError(field, "is not valid UTF-8 text") from None
        return value
    if isinstance(value, bytes | bytearray):
        try:
            return bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            raise DecodeError(field, "is not valid UTF-8 text") from None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise DecodeError(field, f"must be text, got {type(value).__name__}")


def _name(value: object, field: str) -> str:
    name = _text(value, field)
    if not name or not NAME_CHARS.issuperset(name):
        raise DecodeError(field, f"not a valid name: {name!r}")
    return name


def _convert(ptn: Any, prefix: str, depth: int) -> Node:
    if depth >= MAX_DEPTH:
        raise DecodeError(prefix or "node", f"nested deeper than {MAX_DEPTH}")
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
        for key, value in raw_attrs.items():
            name = _name(key, _path(here, "attribute name"))
            attrs[name] = _text(value, _path(here, name))
    data: bytes | None
    if raw_data is None:
        data = None
    elif isinstance(raw_data, bytes | bytearray):
        data = bytes(raw_data)
    elif isinstance(raw_data, str):
        data = _text(raw_data, here or tag).encode("utf-8")
    else:
        raise DecodeError(here or tag, f"data must be bytes, got {type(raw_data).__name__}")
    children: list[Node] = []
    if raw_children:
        if not isinstance(raw_children, list | tuple):
            raise DecodeError(here or tag, "children must be a list")
        for kid in raw_children:
            kid_tag = getattr(kid, "tag", None)
            kid_prefix = _path(here, kid_tag if isinstance(kid_tag, str) else "?")
            children.append(_convert(kid, kid_prefix, depth + 1))
    if children and data is not None:
        raise DecodeError(here or tag, "has both children and data")
    return Node._make(tag, attrs, tuple(children), data)


def node_from_yowsup(ptn: Any) -> Node:
    """Convert a yowsup ``ProtocolTreeNode`` (or a look-alike) to a :class:`Node`.

    Args:
        ptn: an object with ``tag`` (or ``getTag()``), ``attributes``,
            ``getAllChildren()`` and ``getData()``.

    Returns:
        The node (yowsup's empty ``data`` ``b""`` stays ``b""``).

    Raises:
        DecodeError: a name or value is not UTF-8 text, data is not bytes,
            a node has both children and data, the tree nests deeper than
            :data:`~axolotl.receipts.node.MAX_DEPTH`, or ``ptn`` lacks one of
            the members above. ``what`` is the dotted path of the field.
    """
    return _convert(ptn, "", 0)


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
    """``node_to_yowsup(receipt.to_node(), factory)``."""
    return node_to_yowsup(receipt.to_node(), factory)


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
        node = node_from_yowsup(ptn)
    except DecodeError as exc:
        raise InvalidReceipt(exc.what, exc.reason) from None
    return receipt_from_node(cls, node)
