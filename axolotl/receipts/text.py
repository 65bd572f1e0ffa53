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
``to_text`` writes, a raw ``>`` in a value and uppercase hex in data.
"""

from __future__ import annotations

import re
from itertools import repeat
from operator import attrgetter

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

# A character's longest escape (&#x10ffff;) is 10 characters.
_MAX_RAW_VALUE = 10 * MAX_VALUE_LENGTH
_WS = "[ \t\r\n]"
_NAME_RE = f"[A-Za-z0-9_.:-]{{1,{MAX_NAME_LENGTH}}}"
_START = re.compile(
    f'{_WS}*<({_NAME_RE})((?:{_WS}+{_NAME_RE}="[^"<]{{0,{_MAX_RAW_VALUE}}}"){{0,{MAX_ATTRS}}})'
    f"{_WS}*(/?>)"
)
_ATTR = re.compile(f'{_WS}+({_NAME_RE})="([^"]*)"')
_CLOSE = re.compile(f"{_WS}*</({_NAME_RE}){_WS}*>")
_DATA = re.compile(f"{_WS}*0x([0-9a-fA-F]{{0,{2 * MAX_DATA_LENGTH}}}){_WS}*</({_NAME_RE}){_WS}*>")
_SPACE = re.compile(f"{_WS}*")
_SPACE_CHARS = frozenset(" \t\r\n")
_NAME_AT = re.compile(_NAME_RE)
_HEX_RUN = re.compile(f"[0-9a-fA-F]{{0,{2 * MAX_DATA_LENGTH + 1}}}")
_VALUE_RUN = re.compile(f'[^"<]{{0,{_MAX_RAW_VALUE}}}')
_NUMREF = re.compile("&#x(0|[1-9a-f][0-9a-f]{0,5});")
_NAME_CHAR = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.:")


def _fail(pos: int, reason: str) -> DecodeError:
    return DecodeError("node text", f"{reason} at offset {pos}")


def _skip_space(text: str, pos: int) -> int:
    m = _SPACE.match(text, pos)
    return pos if m is None else m.end()


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


def _decode_numeric(text: str, pos: int) -> str:
    """Replace the canonical numeric references in ``text`` by their (non-printable) characters."""
    parts = _NUMREF.split(text)
    if len(parts) == 1:
        return text
    codes = list(map(int, parts[1::2], repeat(16)))
    if max(codes) > 0x10FFFF:
        raise _fail(pos, "character reference beyond U+10FFFF")
    chars = list(map(chr, codes))
    if any(map(str.isprintable, chars)):
        raise _fail(pos, "character reference to a printable character: write it as is")
    parts[1::2] = chars
    return "".join(parts)


def _decode_named(value: str) -> str:
    return (
        value.replace("&quot;", '"').replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    )


# Stand-ins for a decoded '"' while a start tag's attribute text is still split
# at its quotes; any one not present in the text will do.
_QUOTE_STAND_INS = ("\x00", "\x01", "\x02", "\x03", "\ue000", "\ue001", "\ufdd0", "\ufdd1")
_STRIP = " \t\r\n="


def _attributes(attr_text: str, pos: int, spent: int) -> tuple[dict[str, str], int, int]:
    """Read the attributes of a start tag; (attrs, their text size, unprintable characters).

    ``attr_text`` already matched the attribute syntax, so splitting it at
    its quotes is exact: names in the even pieces, raw values in the odd
    ones. References are decoded in the whole attribute text at once, so
    the work per start tag is a fixed number of C calls (split, map, count,
    replace) whatever the number of values or references. ``spent`` is the
    unprintable text already read in this tree.
    """
    pieces = attr_text.split('"')
    if len(pieces) == 3:  # the common single attribute
        key = pieces[0].strip(_STRIP)
        raw = value = pieces[1]
        if not raw.isprintable():
            raise _fail(pos, "a raw control character inside an attribute value (write &#x..;)")
        unprintable = 0
        if "&" in raw:
            if "&#x" in raw:
                if spent + raw.count("&#x") > MAX_UNPRINTABLE_TEXT:
                    raise _fail(pos, f"more than {MAX_UNPRINTABLE_TEXT} escaped characters")
                value = _decode_numeric(raw, pos)
            if value.count("&") != (
                value.count("&quot;")
                + value.count("&amp;")
                + value.count("&lt;")
                + value.count("&gt;")
            ):
                bad = raw[raw.find("&") :][:12]
                raise _fail(pos, f"unknown or non-canonical character reference near {bad!r}")
            value = _decode_named(value)
            if not value.isprintable():
                unprintable = len(value)
                if spent + unprintable > MAX_UNPRINTABLE_TEXT:
                    raise _fail(pos, f"more than {MAX_UNPRINTABLE_TEXT} escaped characters")
        if len(value) > MAX_VALUE_LENGTH:
            raise _fail(pos, f"an attribute value longer than {MAX_VALUE_LENGTH} characters")
        return {key: value}, len(key) + len(raw) + 4 + 3 * raw.count(">"), unprintable
    names = list(map(str.strip, pieces[0:-1:2], repeat(_STRIP)))
    raws = pieces[1::2]
    # The canonical text of a value is its raw text with '>' escaped, and
    # attributes are separated by one space, which is how to_text writes
    # them: then the text is its own size. (A value holds no '"', so '"  '
    # is a separator; printable text holds no TAB, CR or LF.)
    printable = attr_text.isprintable()
    if printable and attr_text[1] != " " and '"  ' not in attr_text:
        size = len(attr_text)
    else:
        size = sum(map(len, names)) + sum(map(len, raws)) + 4 * len(names)
        if not printable and not all(map(str.isprintable, raws)):
            raise _fail(pos, "a raw control character inside an attribute value (write &#x..;)")
    size += 3 * attr_text.count(">")
    unprintable = 0
    if "&" in attr_text:
        text = attr_text
        numeric = text.count("&#x")
        if numeric:
            # Each reference makes at least one character of unprintable text.
            if spent + numeric > MAX_UNPRINTABLE_TEXT:
                raise _fail(pos, f"more than {MAX_UNPRINTABLE_TEXT} escaped characters")
            # Numeric first: they decode to non-printable characters, never to
            # '&' or '"', so neither the named ones nor the quotes are disturbed.
            text = _decode_numeric(text, pos)
        quot = text.count("&quot;")
        named = quot + text.count("&amp;") + text.count("&lt;") + text.count("&gt;")
        if text.count("&") != named:
            bad = text[text.find("&") :][:12]
            raise _fail(pos, f"unknown or non-canonical character reference near {bad!r}")
        stand_in = ""
        if quot:
            stand_in = next((c for c in _QUOTE_STAND_INS if c not in text), "")
        if stand_in or not quot:
            text = (
                text.replace("&quot;", stand_in)
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&amp;", "&")
            )
            raws = text.split('"')[1::2]
            if quot:
                raws = list(map(str.replace, raws, repeat(stand_in), repeat('"')))
        else:  # every stand-in is taken (by numeric references): value by value
            raws = list(map(_decode_named, text.split('"')[1::2]))
        if numeric:
            unprintable = sum(len(v) for v in raws if not v.isprintable())
            if spent + unprintable > MAX_UNPRINTABLE_TEXT:
                raise _fail(pos, f"more than {MAX_UNPRINTABLE_TEXT} escaped characters")
    attrs = dict(zip(names, raws, strict=True))
    if len(attrs) != len(names):
        seen: set[str] = set()
        for key in names:
            if key in seen:
                raise _fail(pos, f"duplicated attribute {key!r}")
            seen.add(key)
    if len(attr_text) > MAX_VALUE_LENGTH and max(map(len, raws)) > MAX_VALUE_LENGTH:
        raise _fail(pos, f"an attribute value longer than {MAX_VALUE_LENGTH} characters")
    return attrs, size, unprintable


def _diagnose(text: str, pos: int) -> DecodeError:
    """Say why no element starts at ``pos`` (the slow path, run once per failure)."""
    p = _skip_space(text, pos)
    if p >= len(text):
        return _fail(p, "unexpected end of text")
    if text.startswith("0x", p):
        run = _HEX_RUN.match(text, p + 2)
        digits = 0 if run is None else run.end() - p - 2
        if digits > 2 * MAX_DATA_LENGTH:
            return _fail(p, f"data longer than {MAX_DATA_LENGTH} bytes")
        if digits % 2:
            return _fail(p, "odd number of hex digits")
        return _fail(p + 2 + digits, "expected '</' after the data")
    if text.startswith("</", p):
        return _fail(p, "malformed or unexpected end tag")
    if not text.startswith("<", p):
        return _fail(p, "expected '<'")
    p += 1
    name = _NAME_AT.match(text, p)
    if name is None:
        return _fail(p, "expected a tag name")
    p = name.end()
    if p < len(text) and text[p] in _NAME_CHAR:
        return _fail(p, f"a tag name longer than {MAX_NAME_LENGTH} characters")
    for n in range(MAX_ATTRS + 1):
        q = _skip_space(text, p)
        if text.startswith(("/>", ">"), q):
            break
        if q == p:
            return _fail(p, "expected whitespace, '>' or '/>'")
        if n == MAX_ATTRS:
            return _fail(q, f"more than {MAX_ATTRS} attributes")
        name = _NAME_AT.match(text, q)
        if name is None:
            return _fail(q, "expected an attribute name, '>' or '/>'")
        p = name.end()
        if p < len(text) and text[p] in _NAME_CHAR:
            return _fail(p, f"an attribute name longer than {MAX_NAME_LENGTH} characters")
        if not text.startswith('="', p):
            return _fail(p, "expected '=\"'")
        run = _VALUE_RUN.match(text, p + 2)
        end = p + 2 if run is None else run.end()
        if end >= len(text):
            return _fail(end, "unterminated attribute value")
        if text[end] == "<":
            return _fail(end, "'<' inside an attribute value")
        if text[end] != '"':
            return _fail(p, f"an attribute value longer than {_MAX_RAW_VALUE} characters")
        p = end + 1
    return _fail(p, "malformed start tag")


def parse_text(text: str) -> Node:
    """Read a node from its text form (as written by :meth:`Node.to_text`).

    Whitespace between elements is ignored; ``<x></x>`` reads as ``<x/>``.
    Time and memory are linear in ``len(text)``, and bounded by the limits.

    Args:
        text: one root element, at most
            :data:`~axolotl.receipts.limits.MAX_INPUT_LENGTH` characters.

    Returns:
        The node.

    Raises:
        DecodeError: the text is not one well-formed element of this form
            (the message gives the offset), or crosses a limit of
            :mod:`axolotl.receipts.limits`.
        UsageError: ``text`` is not a ``str``.
    """
    if not isinstance(text, str):
        raise UsageError(f"node text must be str, got {type(text).__name__}")
    if len(text) > MAX_INPUT_LENGTH:
        raise _fail(0, f"text longer than {MAX_INPUT_LENGTH} characters ({len(text)})")
    stack: list[_Open] = []
    pos = nodes = total = spent = nattrs = 0
    start, close_at, data_at, new = _START.match, _CLOSE.match, _DATA.match, object.__new__
    while True:
        m = start(text, pos)
        if m is None:
            raise _diagnose(text, pos)
        tag, attr_text, end = m.group(1, 2, 3)
        nodes += 1
        if nodes > MAX_NODES:
            raise _fail(pos, f"more than {MAX_NODES} nodes")
        unprintable = 0
        if attr_text:
            attrs, head, unprintable = _attributes(attr_text, pos, spent)
            spent += unprintable
            nattrs += len(attrs)
            if nattrs > MAX_TOTAL_ATTRS:
                raise _fail(pos, f"more than {MAX_TOTAL_ATTRS} attributes in the tree")
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
            elif ahead[:1] in _SPACE_CHARS:
                c = close_at(text, pos)
                if c is None:
                    d = data_at(text, pos)
            if c is not None:  # <x></x> is <x/>
                if c[1] != tag:
                    raise _fail(c.start(), f"end tag </{c[1]}> does not match <{tag}>")
                pos = c.end()
                size = head + 2
            elif d is not None:
                digits, end_tag = d.group(1, 2)
                if len(digits) % 2:
                    raise _fail(d.start(1), "odd number of hex digits")
                if end_tag != tag:
                    raise _fail(d.start(2), f"end tag </{end_tag}> does not match <{tag}>")
                pos = d.end()
                data = bytes.fromhex(digits)
                size = head + 6 + len(digits) + len(tag)
            elif ahead in ("</", "0x"):
                raise _diagnose(text, pos)
            else:
                # Children follow (or garbage, which the next match reports);
                # they sit one level below this element.
                if len(stack) + 2 > MAX_DEPTH:
                    raise _fail(m.start(1), f"nested deeper than {MAX_DEPTH}")
                own = head + 4 + len(tag)  # "<tag attrs" ">" ... "</tag>"
                total += own
                if total > MAX_TEXT_LENGTH:
                    raise _fail(pos, f"the tree's text exceeds {MAX_TEXT_LENGTH} characters")
                stack.append(_Open(tag, attrs, own, unprintable))
                continue
        else:
            size = head + 2
        total += size
        if total > MAX_TEXT_LENGTH:
            raise _fail(pos, f"the tree's text exceeds {MAX_TEXT_LENGTH} characters")
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
                raise _fail(pos, f"<{parent.tag}> has more than {MAX_CHILDREN} children")
            if text.startswith("</", pos):
                c = close_at(text, pos)
                if c is None:
                    raise _diagnose(text, pos)
            elif text.startswith("<", pos):
                break  # a sibling starts right here
            else:
                c = close_at(text, pos)
                if c is None:
                    break  # a sibling after whitespace (or garbage, which the next match reports)
            if c[1] != parent.tag:
                raise _fail(c.start(), f"end tag </{c[1]}> does not match <{parent.tag}>")
            pos = c.end()
            stack.pop()
            node = _close(parent)
        else:
            if _skip_space(text, pos) != len(text):
                raise _fail(pos, "unexpected text after the root element")
            return node
