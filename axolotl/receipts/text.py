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

Writing the form is :meth:`Node.to_text` (in :mod:`axolotl.receipts.node`,
with :func:`~axolotl.receipts.node.escape`): this module imports the node
module, never the reverse.
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
    MAX_INPUT_LENGTH,
    MAX_NODES,
    MAX_TEXT_LENGTH,
    MAX_TOTAL_ATTRS,
    check_max_nodes,
)
from axolotl.receipts.node import Node, sealed

__all__ = ["parse_text"]


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
    start, close_at, data_at = START.match, CLOSE.match, DATA.match
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
        node = sealed(tag, attrs, (), data, (size, 1, 1, unprintable, len(attrs)))
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
