"""The minimal binary-XML-style tree that WhatsApp-style stacks pass around.

A :class:`Node` has a tag, string attributes (in insertion order), and either
child nodes or bytes content -- the shape of yowsup's ``ProtocolTreeNode``,
whatsmeow's ``waBinary.Node`` and Baileys' ``BinaryNode`` once their binary
token encoding is stripped. Retry receipts travel in this form (README.md,
"Retry receipts").

Nodes also have a readable text form for logs and the command line, described
in :mod:`axolotl.receipts.text`: :meth:`Node.to_text` writes it (here, so this
module needs nothing above it) and :func:`axolotl.receipts.text.parse_text`
reads it back; ``parse_text(node.to_text()) == node`` for every node.

This module knows nothing of receipts: the receipt <-> node mapping is in
:mod:`axolotl.receipts.tree`, which imports this one (never the reverse).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from axolotl.errors import DecodeError, UsageError
from axolotl.receipts.limits import (
    MAX_ATTRS,
    MAX_CHILDREN,
    MAX_DATA_LENGTH,
    MAX_DEPTH,
    MAX_INDENT,
    MAX_INPUT_LENGTH,
    MAX_NAME_LENGTH,
    MAX_NODES,
    MAX_TEXT_LENGTH,
    MAX_TOTAL_ATTRS,
    MAX_UNPRINTABLE_TEXT,
    MAX_VALUE_LENGTH,
    excerpt,
)

__all__ = ["Node", "MAX_DEPTH", "NAME_CHARS", "escape", "escaped_length", "sealed", "unchecked"]

NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.:")
"""The characters of tag and attribute names."""

Stats = tuple[int, int, int, int, int]
"""What a subtree adds up to: (compact text length, nodes, height, unprintable text, attributes)."""


def _check_name(what: str, name: object) -> str:
    if (
        not isinstance(name, str)
        or not 0 < len(name) <= MAX_NAME_LENGTH
        or not NAME_CHARS.issuperset(name)
    ):
        raise UsageError(
            f"{what} must be 1..{MAX_NAME_LENGTH} letters, digits or _-.: ; got {excerpt(name)}"
        )
    return name


def _measure(
    tag: object, attrs: dict[Any, Any], kids: tuple[Any, ...], data: object, depth: int
) -> Stats:
    """Check one node against every limit and add up its subtree (``depth``: its level - 1).

    The subtree totals of the children come from their cache (see
    :func:`_stats_of`), so building a tree bottom-up costs each node once.

    Raises:
        UsageError: a name, value or child is invalid or a limit is crossed.
    """
    tag = _check_name("node tag", tag)
    if len(attrs) > MAX_ATTRS:
        raise UsageError(f"<{tag}> has {len(attrs)} attributes, more than {MAX_ATTRS}")
    size = 1 + len(tag)  # "<tag"
    unprintable = 0
    for key, value in attrs.items():
        _check_name("attribute name", key)
        if not isinstance(value, str):
            raise UsageError(f"attribute {key!r} must be a string, got {type(value).__name__}")
        if len(value) > MAX_VALUE_LENGTH:
            raise UsageError(
                f"attribute {key!r} is {len(value)} characters, more than {MAX_VALUE_LENGTH}"
            )
        if not value.isprintable():
            unprintable += len(value)
        size += len(key) + 4 + escaped_length(value)  # ' key="value"'
    count = height = 1
    nattrs = len(attrs)
    if data is not None:
        if type(data) is not bytes:
            raise UsageError(f"node data must be bytes, got {type(data).__name__}")
        if kids:
            raise UsageError("a node has children or data, not both")
        if len(data) > MAX_DATA_LENGTH:
            raise UsageError(f"<{tag}> data is {len(data)} bytes, more than {MAX_DATA_LENGTH}")
        size += 6 + 2 * len(data) + len(tag)  # ">0x" hex "</tag>"
    elif kids:
        if len(kids) > MAX_CHILDREN:
            raise UsageError(f"<{tag}> has {len(kids)} children, more than {MAX_CHILDREN}")
        size += 4 + len(tag)  # ">" ... "</tag>"
        deepest = 0
        for kid in kids:
            if not isinstance(kid, Node):
                raise UsageError(f"children must be Nodes, got {type(kid).__name__}")
            kid_size, kid_count, kid_height, kid_unprintable, kid_attrs = _stats_of(kid, depth + 1)
            size += kid_size
            count += kid_count
            unprintable += kid_unprintable
            nattrs += kid_attrs
            if kid_height > deepest:
                deepest = kid_height
        height += deepest
    else:
        size += 2  # "/>"
    if depth + height > MAX_DEPTH:
        raise UsageError(f"<{tag}> nests deeper than {MAX_DEPTH} levels")
    if count > MAX_NODES:
        raise UsageError(f"<{tag}> holds {count} nodes, more than {MAX_NODES}")
    if nattrs > MAX_TOTAL_ATTRS:
        raise UsageError(f"<{tag}> holds {nattrs} attributes, more than {MAX_TOTAL_ATTRS}")
    if size > MAX_TEXT_LENGTH:
        raise UsageError(f"<{tag}> is {size} characters as text, more than {MAX_TEXT_LENGTH}")
    if unprintable > MAX_UNPRINTABLE_TEXT:
        raise UsageError(
            f"<{tag}> has {unprintable} characters of values with non-printable characters,"
            f" more than {MAX_UNPRINTABLE_TEXT}"
        )
    return size, count, height, unprintable, nattrs


def _stats_of(node: Node, depth: int) -> Stats:
    """The cached subtree totals of ``node``, checked and cached now if it was built unchecked.

    Nodes built by the codecs' fast paths (:func:`unchecked`) carry no totals
    until one is used as a child; ``depth`` bounds the walk.
    """
    stats: Stats | None = getattr(node, "_stats", None)
    if stats is None:
        if depth >= MAX_DEPTH:
            raise UsageError(f"a tree nests deeper than {MAX_DEPTH} levels")
        stats = _measure(node.tag, node.attrs, node.children, node.data, depth)
        node._stats = stats
    return stats


def sealed(
    tag: str, attrs: dict[str, str], children: tuple[Node, ...], data: bytes | None, stats: Stats
) -> Node:
    """A node whose parts and totals a parser has already checked (no re-validation).

    For :mod:`axolotl.receipts.text`, which adds up the totals as it reads.
    """
    node = object.__new__(Node)
    node.tag = tag
    node.attrs = attrs
    node.children = children
    node.data = data
    node._stats = stats
    return node


def unchecked(
    tag: str, attrs: dict[str, str], children: tuple[Node, ...], data: bytes | None
) -> Node:
    """A node built without validation, for codecs that only build valid trees.

    The receipt codec (:mod:`axolotl.receipts.tree`) writes only names from
    its own layout and values its entities have checked, so it skips the
    constructor's checks (most of the cost of building a receipt node). The
    totals are added up the first time the node becomes a child of a
    checked one, so limits still hold wherever the node goes.
    """
    node = object.__new__(Node)
    node.tag = tag
    node.attrs = attrs
    node.children = children
    node.data = data
    return node


class Node:
    """One element of a WhatsApp-style node tree.

    Treat a node as immutable: the library never changes one after building
    it, and ``children`` is a tuple. ``attrs`` keeps insertion order, which is
    the order :meth:`to_text` writes; equality ignores attribute order, as XML
    does.

    Construction enforces the tree limits of :mod:`axolotl.receipts.limits`
    (depth, children, nodes, attributes, name, value and data lengths, text
    size), the same ones every parser enforces, so any node renders and
    parses back through every form (text, dict, yowsup).

    Args:
        tag: element name (1..64 letters, digits and ``_-.:``).
        attrs: attribute names (same alphabet) to string values.
        children: child nodes; a node has children or ``data``, not both.
        data: bytes content, or ``None``.

    Raises:
        UsageError: a name, value or child has the wrong type, both
            ``children`` and ``data`` are given, or a limit is crossed.
    """

    __slots__ = ("_stats", "attrs", "children", "data", "tag")

    tag: str
    attrs: dict[str, str]
    children: tuple[Node, ...]
    data: bytes | None
    _stats: Stats

    def __init__(
        self,
        tag: str,
        attrs: Mapping[str, str] | None = None,
        children: Iterable[Node] = (),
        data: bytes | None = None,
    ) -> None:
        attributes = dict(attrs) if attrs is not None else {}
        kids = tuple(children)
        if data is not None:
            if not isinstance(data, bytes | bytearray | memoryview):
                raise UsageError(f"node data must be bytes, got {type(data).__name__}")
            data = bytes(data)
        self._stats = _measure(tag, attributes, kids, data, 0)
        self.tag = tag
        self.attrs = attributes
        self.children = kids
        self.data = data

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

    # No __hash__: a class that defines __eq__ alone is unhashable, as a node
    # must be (its attrs are a dict).

    def __repr__(self) -> str:
        try:
            return f"parse_text({self.to_text(indent=None)!r})"
        except UsageError:  # changed after construction beyond the limits
            return f"<Node {self.tag!r}: does not render>"

    # -- text form ---------------------------------------------------------------

    def to_text(self, indent: int | None = 2) -> str:
        """The readable text form (see :mod:`axolotl.receipts.text`).

        Iterative, and it checks depth, node count, value types and output
        length again as it goes, so even a node changed after construction
        cannot make it recurse without bound or grow past
        :data:`~axolotl.receipts.limits.MAX_INPUT_LENGTH`.

        Args:
            indent: spaces per nesting level (0..8), one element per line;
                ``None`` writes everything on one line.

        Returns:
            Text that :func:`~axolotl.receipts.text.parse_text` turns back
            into an equal node.

        Raises:
            UsageError: ``indent`` is out of range, or the node was changed
                after construction so that it crosses a limit.
        """
        return _render(self, indent)

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
                a limit of :mod:`axolotl.receipts.limits` is crossed.
        """
        return _from_dict(obj, 0, [0])


def _from_dict(obj: object, depth: int, nodes: list[int]) -> Node:
    # ``nodes`` counts across the whole tree, so a wide hostile object stops
    # at MAX_NODES instead of being converted first and refused after.
    if depth >= MAX_DEPTH:
        raise DecodeError("node", f"nested deeper than {MAX_DEPTH}")
    nodes[0] += 1
    if nodes[0] > MAX_NODES:
        raise DecodeError("node", f"more than {MAX_NODES} nodes")
    if not isinstance(obj, Mapping):
        raise DecodeError("node", f"expected an object, got {type(obj).__name__}")
    tag: Any = obj.get("tag")  # of any type: Node() checks it and names what is wrong
    attrs = obj.get("attrs") or {}
    children = obj.get("children") or []
    data = obj.get("data")
    if not isinstance(attrs, Mapping):
        raise DecodeError("node.attrs", "not an object")
    if len(attrs) > MAX_ATTRS:
        raise DecodeError("node.attrs", f"more than {MAX_ATTRS} attributes")
    if not isinstance(children, Sequence) or isinstance(children, str | bytes):
        raise DecodeError("node.children", "not a list")
    if len(children) > MAX_CHILDREN:
        raise DecodeError("node.children", f"more than {MAX_CHILDREN} children")
    raw: bytes | None = None
    if data is not None:
        if not isinstance(data, str):
            raise DecodeError("node.data", "not a hex string")
        if len(data) > 2 * MAX_DATA_LENGTH:
            raise DecodeError("node.data", f"more than {MAX_DATA_LENGTH} bytes")
        try:
            raw = bytes.fromhex(data)
        except ValueError:
            raise DecodeError("node.data", "not hex") from None
    kids = tuple(_from_dict(kid, depth + 1, nodes) for kid in children)
    try:
        return Node(tag, attrs, kids, raw)
    except UsageError as exc:
        raise DecodeError("node", str(exc)) from None


# -- rendering the text form ---------------------------------------------------------

_ESCAPES = {"&": "&amp;", '"': "&quot;", "<": "&lt;", ">": "&gt;"}


def escape(value: str) -> str:
    """``value`` as written inside ``"..."``: ``& " < >`` and non-printable characters escaped."""
    if value.isprintable():
        if "&" not in value and '"' not in value and "<" not in value and ">" not in value:
            return value
        return (
            value.replace("&", "&amp;")
            .replace('"', "&quot;")
            .replace("<", "&lt;")
            .replace(">", "&gt;")
        )
    # Character by character: bounded by MAX_UNPRINTABLE_TEXT per tree.
    return "".join(_ESCAPES.get(c) or (c if c.isprintable() else f"&#x{ord(c):x};") for c in value)


def escaped_length(value: str) -> int:
    """``len(escape(value))``, without building it when ``value`` is printable."""
    if value.isprintable():
        return (
            len(value)
            + 4 * value.count("&")
            + 5 * value.count('"')
            + 3 * (value.count("<") + value.count(">"))
        )
    return len(escape(value))


def _too_big(reason: str) -> UsageError:
    # Only a node changed after construction (or built through a private
    # path) gets here: Node() itself refuses what would not render.
    return UsageError(f"cannot render this node: {reason} (was it changed after construction?)")


def _render(node: Node, indent: int | None) -> str:
    if indent is not None and (type(indent) is not int or not 0 <= indent <= MAX_INDENT):
        raise UsageError(f"indent must be None or 0..{MAX_INDENT}, got {indent!r}")
    lines = indent is not None
    step = indent or 0
    out: list[str] = []
    append = out.append
    total = count = 0
    # Items are (node, level) to open, or the text that closes a node.
    stack: list[tuple[Node, int] | str] = [(node, 0)]
    pop, push = stack.pop, stack.append
    while stack:
        item = pop()
        if isinstance(item, str):
            append(item)
            total += len(item)
            continue
        current, level = item
        count += 1
        if count > MAX_NODES:
            raise _too_big(f"more than {MAX_NODES} nodes")
        if level >= MAX_DEPTH:
            raise _too_big(f"nested deeper than {MAX_DEPTH}")
        if type(current.tag) is not str:
            raise _too_big(f"a tag is a {type(current.tag).__name__}, not a string")
        pad = " " * (step * level)
        parts = [pad, "<", current.tag]
        for key, value in current.attrs.items():
            if type(value) is not str:
                raise _too_big(f"attribute {key!r} is a {type(value).__name__}, not a string")
            parts += (" ", key, '="', escape(value), '"')
        data, kids = current.data, current.children
        if data is not None:
            parts += (">0x", data.hex(), "</", current.tag, ">")
        elif kids:
            parts.append(">\n" if lines else ">")
            push(f"{pad}</{current.tag}>")
            for kid in reversed(kids):
                if not isinstance(kid, Node):
                    raise _too_big(f"a child is a {type(kid).__name__}, not a Node")
                if lines:
                    push("\n")
                push((kid, level + 1))
        else:
            parts.append("/>")
        piece = "".join(parts)
        append(piece)
        total += len(piece)
        if total > MAX_INPUT_LENGTH:
            raise _too_big(f"its text exceeds {MAX_INPUT_LENGTH} characters")
    return "".join(out)
