"""The minimal binary-XML-style tree that WhatsApp-style stacks pass around.

A :class:`Node` has a tag, string attributes (in insertion order), and either
child nodes or bytes content -- the shape of yowsup's ``ProtocolTreeNode``,
whatsmeow's ``waBinary.Node`` and Baileys' ``BinaryNode`` once their binary
token encoding is stripped. Retry receipts travel in this form (DESIGN.md,
"Wire formats").

Nodes also have a readable text form for logs and the command line
(:meth:`Node.to_text`, :func:`parse_text`), described in
:mod:`axolotl.receipts.text`; ``parse_text(node.to_text()) == node`` for every
node.

The retry receipt <-> node mapping is in :mod:`axolotl.receipts.tree`; its
functions are re-exported here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from axolotl.errors import DecodeError, UsageError

__all__ = [
    "Node",
    "parse_text",
    "MAX_DEPTH",
    "receipt_to_node",
    "receipt_from_node",
    "parse_receipt_node",
]

MAX_DEPTH = 32
"""Deepest nesting accepted from text, dicts or foreign trees (receipts need 4)."""

NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.:")
"""The characters of tag and attribute names."""


def _check_name(what: str, name: object) -> str:
    if not isinstance(name, str) or not name or not NAME_CHARS.issuperset(name):
        raise UsageError(f"{what} must be a non-empty name of letters, digits, _-.: ; got {name!r}")
    return name


class Node:
    """One element of a WhatsApp-style node tree.

    Treat a node as immutable: the library never changes one after building
    it, and ``children`` is a tuple. ``attrs`` keeps insertion order, which is
    the order :meth:`to_text` writes; equality ignores attribute order, as XML
    does.

    Args:
        tag: element name (letters, digits and ``_-.:``).
        attrs: attribute names (same alphabet) to string values.
        children: child nodes; a node has children or ``data``, not both.
        data: bytes content, or ``None``.

    Raises:
        UsageError: a name, value or child has the wrong type, or both
            ``children`` and ``data`` are given.
    """

    __slots__ = ("attrs", "children", "data", "tag")

    tag: str
    attrs: dict[str, str]
    children: tuple[Node, ...]
    data: bytes | None

    def __init__(
        self,
        tag: str,
        attrs: Mapping[str, str] | None = None,
        children: Iterable[Node] = (),
        data: bytes | None = None,
    ) -> None:
        _check_name("node tag", tag)
        attributes = dict(attrs) if attrs is not None else {}
        for key, value in attributes.items():
            _check_name("attribute name", key)
            if not isinstance(value, str):
                raise UsageError(f"attribute {key!r} must be a string, got {type(value).__name__}")
        kids = tuple(children)
        for kid in kids:
            if not isinstance(kid, Node):
                raise UsageError(f"children must be Nodes, got {type(kid).__name__}")
        if data is not None:
            if not isinstance(data, bytes | bytearray | memoryview):
                raise UsageError(f"node data must be bytes, got {type(data).__name__}")
            data = bytes(data)
            if kids:
                raise UsageError("a node has children or data, not both")
        self.tag = tag
        self.attrs = attributes
        self.children = kids
        self.data = data

    @classmethod
    def _make(
        cls, tag: str, attrs: dict[str, str], children: tuple[Node, ...], data: bytes | None
    ) -> Node:
        """Build without validation (the codecs' trusted fast path)."""
        node = object.__new__(cls)
        node.tag = tag
        node.attrs = attrs
        node.children = children
        node.data = data
        return node

    def child(self, tag: str) -> Node | None:
        """The first child with this tag, or ``None``."""
        for kid in self.children:
            if kid.tag == tag:
                return kid
        return None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Node):
            return NotImplemented
        return (
            self.tag == other.tag
            and self.data == other.data
            and self.attrs == other.attrs
            and self.children == other.children
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Node.parse_text({self.to_text(indent=None)!r})"

    # -- text form ---------------------------------------------------------------

    def to_text(self, indent: int | None = 2) -> str:
        """The readable text form (see :mod:`axolotl.receipts.text`).

        Args:
            indent: spaces per nesting level, one element per line; ``None``
                writes everything on one line.

        Returns:
            Text that :func:`parse_text` turns back into an equal node.
        """
        out: list[str] = []
        _text.render(self, out, 0, indent)
        return "".join(out)

    @staticmethod
    def parse_text(text: str) -> Node:
        """Read the text form; see :func:`parse_text`."""
        return _text.parse_text(text)

    # -- plain-data form ---------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready form ``{"tag", "attrs", "children", "data"}`` (data: hex or ``None``)."""
        return {
            "tag": self.tag,
            "attrs": dict(self.attrs),
            "children": [kid.to_dict() for kid in self.children],
            "data": None if self.data is None else self.data.hex(),
        }

    @classmethod
    def from_dict(cls, obj: object) -> Node:
        """Read the form :meth:`to_dict` writes (as exchanged with the test peers).

        Raises:
            DecodeError: a member is missing, of the wrong type, not hex, or
                nested deeper than :data:`MAX_DEPTH`.
        """
        return _from_dict(obj, 0)


def _from_dict(obj: object, depth: int) -> Node:
    if depth >= MAX_DEPTH:
        raise DecodeError("node", f"nested deeper than {MAX_DEPTH}")
    if not isinstance(obj, Mapping):
        raise DecodeError("node", f"expected an object, got {type(obj).__name__}")
    tag = obj.get("tag")
    attrs = obj.get("attrs") or {}
    children = obj.get("children") or []
    data = obj.get("data")
    if not isinstance(attrs, Mapping):
        raise DecodeError("node.attrs", "not an object")
    if not isinstance(children, Sequence) or isinstance(children, str | bytes):
        raise DecodeError("node.children", "not a list")
    raw: bytes | None = None
    if data is not None:
        if not isinstance(data, str):
            raise DecodeError("node.data", "not a hex string")
        try:
            raw = bytes.fromhex(data)
        except ValueError:
            raise DecodeError("node.data", "not hex") from None
    kids = tuple(_from_dict(kid, depth + 1) for kid in children)
    try:
        return Node(tag, attrs, kids, raw)  # type: ignore[arg-type]
    except UsageError as exc:
        raise DecodeError("node", str(exc)) from None


# Last: text.py and tree.py build on Node. Their names are re-exported so that
# everything this module offered before the split still imports from here
# (the private ones are what the tests inspect).
from axolotl.receipts import text as _text  # noqa: E402
from axolotl.receipts.text import parse_text  # noqa: E402
from axolotl.receipts.tree import _MAX_COUNT as _MAX_COUNT  # noqa: E402
from axolotl.receipts.tree import _MAX_REGISTRATION_NODES as _MAX_REGISTRATION_NODES  # noqa: E402
from axolotl.receipts.tree import _REGISTRATION_NODES as _REGISTRATION_NODES  # noqa: E402
from axolotl.receipts.tree import (  # noqa: E402
    parse_receipt_node,
    receipt_from_node,
    receipt_to_node,
)
