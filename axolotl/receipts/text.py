"""The readable text form of a :class:`~axolotl.receipts.node.Node`.

One element per line (or all on one line), attributes in insertion order::

    <receipt id="3EB0" to="491234@s.whatsapp.net" type="retry">
      <retry count="2" id="3EB0" t="1432833266" v="1"/>
      <registration>0x00003039</registration>
    </receipt>

Bytes content is written as ``0x`` and lowercase hex (``0x`` alone is empty
content); attribute values escape ``& " < >`` as ``&amp; &quot; &lt; &gt;``
and every non-printable character as ``&#x`` + lowercase hex without leading
zeros + ``;``. :func:`parse_text` reads that form back exactly:
``parse_text(node.to_text()) == node`` for every node.

The parser is strict and linear: it reads with a handful of regular
expressions (one per start tag, end tag or data run), never character by
character, refuses a raw control character inside a value and any reference
but the canonical ones above, and stops at the first limit of
:mod:`axolotl.receipts.limits` it crosses (input length, depth, children,
nodes, attributes, name, value and data lengths, text size). It accepts
whitespace between elements and ``<x></x>`` for ``<x/>``, and, beyond what
``to_text`` writes, a raw ``>`` in a value and uppercase hex in data. Its
scanning half (the regular expressions, attribute reading, diagnosis) is
:mod:`axolotl.receipts._scan`.
"""

from __future__ import annotations

from operator import attrgetter

from axolotl.errors import UsageError
from axolotl.receipts._scan import (
    CLOSE,
    DATA,
    SPACE_CHARS,
    START,
    attributes,
    diagnose,
    fail,
    skip_space,
)
from axolotl.receipts.limits import (
    MAX_CHILDREN,
    MAX_DEPTH,
    MAX_INDENT,
    MAX_INPUT_LENGTH,
    MAX_NODES,
    MAX_TEXT_LENGTH,
    MAX_TOTAL_ATTRS,
    check_max_nodes,
)
from axolotl.receipts.node import Node, sealed

__all__ = ["parse_text", "render", "escape", "escaped_length"]


# -- rendering -------------------------------------------------------------------

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


def render(node: Node, indent: int | None) -> str:
    """The text form of ``node`` (see :meth:`Node.to_text`).

    Iterative, and it checks depth, node count, value types and output
    length again as it goes, so even a node changed after construction
    cannot make it recurse without bound or grow past
    :data:`~axolotl.receipts.limits.MAX_INPUT_LENGTH`.

    Raises:
        UsageError: ``indent`` is not ``None`` or 0..MAX_INDENT, or the tree
            exceeds a limit (only possible if it was changed after construction).
    """
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


# -- parsing ---------------------------------------------------------------------


class _Open:
    """An element whose end tag the parser has not reached yet."""

    __slots__ = ("attrs", "kids", "own", "tag", "unprintable")

    def __init__(self, tag: str, attrs: dict[str, str], own: int, unprintable: int) -> None:
        self.tag = tag
        self.attrs = attrs
        self.own = own  # its own text: "<tag attrs" ">" and "</tag>"
        self.unprintable = unprintable
        self.kids: list[Node] = []


_stats_of = attrgetter("_stats")


def _close(frame: _Open) -> Node:
    """The node of a closed element, its totals added up from its children's (in C)."""
    kids = frame.kids
    sizes, counts, heights, unprintables, attr_counts = zip(*map(_stats_of, kids), strict=True)
    stats = (
        frame.own + sum(sizes),
        1 + sum(counts),
        1 + max(heights),
        frame.unprintable + sum(unprintables),
        len(frame.attrs) + sum(attr_counts),
    )
    return sealed(frame.tag, frame.attrs, tuple(kids), None, stats)


def parse_text(text: str, *, max_nodes: int = MAX_NODES) -> Node:
    """Read a node from its text form (as written by :meth:`Node.to_text`).

    Whitespace between elements is ignored; ``<x></x>`` reads as ``<x/>``.
    Time and memory are linear in ``len(text)``, and bounded by the limits.

    Args:
        text: one root element, at most
            :data:`~axolotl.receipts.limits.MAX_INPUT_LENGTH` characters.
        max_nodes: refuse a tree of more nodes, as soon as the parse reaches
            one more (1..:data:`~axolotl.receipts.limits.MAX_NODES`; a reader
            of receipts passes :data:`~axolotl.receipts.limits.MAX_RECEIPT_NODES`).

    Returns:
        The node.

    Raises:
        DecodeError: the text is not one well-formed element of this form
            (the message gives the offset), or crosses a limit of
            :mod:`axolotl.receipts.limits`.
        UsageError: ``text`` is not a ``str``, or ``max_nodes`` is out of range.
    """
    if not isinstance(text, str):
        raise UsageError(f"node text must be str, got {type(text).__name__}")
    if max_nodes != MAX_NODES:
        max_nodes = check_max_nodes(max_nodes)
    if len(text) > MAX_INPUT_LENGTH:
        raise fail(0, f"text longer than {MAX_INPUT_LENGTH} characters ({len(text)})")
    stack: list[_Open] = []
    pos = nodes = total = spent = nattrs = 0
    start, close_at, data_at, new = START.match, CLOSE.match, DATA.match, object.__new__
    while True:
        m = start(text, pos)
        if m is None:
            raise diagnose(text, pos)
        tag, attr_text, end = m.group(1, 2, 3)
        nodes += 1
        if nodes > max_nodes:
            raise fail(pos, f"more than {max_nodes} nodes")
        unprintable = 0
        if attr_text:
            attrs, head, unprintable = attributes(attr_text, pos, spent)
            spent += unprintable
            nattrs += len(attrs)
            if nattrs > MAX_TOTAL_ATTRS:
                raise fail(pos, f"more than {MAX_TOTAL_ATTRS} attributes in the tree")
            head += 1 + len(tag)  # "<tag attrs"
        else:
            attrs, head = {}, 1 + len(tag)
        pos = m.end()
        data: bytes | None = None
        if end == ">":
            # Content follows: peek at it rather than try each form in turn.
            ahead = text[pos : pos + 2]
            c = d = None
            if ahead == "</":
                c = close_at(text, pos)
            elif ahead == "0x":
                d = data_at(text, pos)
            elif ahead[:1] in SPACE_CHARS:
                c = close_at(text, pos)
                if c is None:
                    d = data_at(text, pos)
            if c is not None:  # <x></x> is <x/>
                if c[1] != tag:
                    raise fail(c.start(), f"end tag </{c[1]}> does not match <{tag}>")
                pos = c.end()
                size = head + 2
            elif d is not None:
                digits, end_tag = d.group(1, 2)
                if len(digits) % 2:
                    raise fail(d.start(1), "odd number of hex digits")
                if end_tag != tag:
                    raise fail(d.start(2), f"end tag </{end_tag}> does not match <{tag}>")
                pos = d.end()
                data = bytes.fromhex(digits)
                size = head + 6 + len(digits) + len(tag)
            elif ahead in ("</", "0x"):
                raise diagnose(text, pos)
            else:
                # Children follow (or garbage, which the next match reports);
                # they sit one level below this element.
                if len(stack) + 2 > MAX_DEPTH:
                    raise fail(m.start(1), f"nested deeper than {MAX_DEPTH}")
                own = head + 4 + len(tag)  # "<tag attrs" ">" ... "</tag>"
                total += own
                if total > MAX_TEXT_LENGTH:
                    raise fail(pos, f"the tree's text exceeds {MAX_TEXT_LENGTH} characters")
                stack.append(_Open(tag, attrs, own, unprintable))
                continue
        else:
            size = head + 2
        total += size
        if total > MAX_TEXT_LENGTH:
            raise fail(pos, f"the tree's text exceeds {MAX_TEXT_LENGTH} characters")
        node: Node = new(Node)
        node.tag = tag
        node.attrs = attrs
        node.children = ()
        node.data = data
        node._stats = (size, 1, 1, unprintable, len(attrs))
        # Attach ``node`` to its parent, closing each parent whose content ends here.
        while stack:
            parent = stack[-1]
            kids = parent.kids
            kids.append(node)
            if len(kids) > MAX_CHILDREN:
                raise fail(pos, f"<{parent.tag}> has more than {MAX_CHILDREN} children")
            if text.startswith("</", pos):
                c = close_at(text, pos)
                if c is None:
                    raise diagnose(text, pos)
            elif text.startswith("<", pos):
                break  # a sibling starts right here
            else:
                c = close_at(text, pos)
                if c is None:
                    break  # a sibling after whitespace (or garbage, which the next match reports)
            if c[1] != parent.tag:
                raise fail(c.start(), f"end tag </{c[1]}> does not match <{parent.tag}>")
            pos = c.end()
            stack.pop()
            node = _close(parent)
        else:
            if skip_space(text, pos) != len(text):
                raise fail(pos, "unexpected text after the root element")
            return node
