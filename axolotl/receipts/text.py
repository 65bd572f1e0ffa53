"""The readable text form of a :class:`~axolotl.receipts.node.Node`.

One element per line (or all on one line), attributes in insertion order::

    <receipt id="3EB0" to="491234@s.whatsapp.net" type="retry">
      <retry count="2" id="3EB0" t="1432833266" v="1"/>
      <registration>0x00003039</registration>
    </receipt>

Bytes content is written as ``0x`` and lowercase hex (``0x`` alone is empty
content); attribute values escape ``& " < >`` and every non-printable
character as XML references. :func:`parse_text` reads that form back exactly:
``parse_text(node.to_text()) == node`` for every node.
"""

from __future__ import annotations

from axolotl.errors import DecodeError, UsageError
from axolotl.receipts.node import MAX_DEPTH, NAME_CHARS, Node

__all__ = ["parse_text", "render"]

_HEX_CHARS = frozenset("0123456789abcdefABCDEF")
_WS = " \t\r\n"


# -- rendering -------------------------------------------------------------------

_ESCAPES = {"&": "&amp;", '"': "&quot;", "<": "&lt;", ">": "&gt;"}


def _escape(value: str) -> str:
    if value.isprintable() and not any(c in value for c in '&"<>'):
        return value
    return "".join(_ESCAPES.get(c) or (c if c.isprintable() else f"&#x{ord(c):x};") for c in value)


def _open_tag(node: Node) -> str:
    if not node.attrs:
        return "<" + node.tag
    attrs = " ".join(f'{k}="{_escape(v)}"' for k, v in node.attrs.items())
    return f"<{node.tag} {attrs}"


def render(node: Node, out: list[str], level: int, indent: int | None) -> None:
    """Append the text form of ``node`` at nesting ``level`` to ``out`` (see Node.to_text)."""
    pad = "" if indent is None else " " * (indent * level)
    out.append(pad)
    out.append(_open_tag(node))
    if node.data is not None:
        out.append(f">0x{node.data.hex()}</{node.tag}>")
    elif node.children:
        out.append(">")
        if indent is not None:
            out.append("\n")
        for kid in node.children:
            render(kid, out, level + 1, indent)
            if indent is not None:
                out.append("\n")
        out.append(f"{pad}</{node.tag}>")
    else:
        out.append("/>")


# -- parsing ---------------------------------------------------------------------


class _Open:
    """An element whose end tag the parser has not reached yet."""

    __slots__ = ("attrs", "children", "data", "tag")

    def __init__(self, tag: str, attrs: dict[str, str]) -> None:
        self.tag = tag
        self.attrs = attrs
        self.children: list[Node] = []
        self.data: bytes | None = None


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def fail(self, reason: str) -> DecodeError:
        return DecodeError("node text", f"{reason} at offset {self.pos}")

    def skip_ws(self) -> None:
        text, pos = self.text, self.pos
        while pos < len(text) and text[pos] in _WS:
            pos += 1
        self.pos = pos

    def expect(self, literal: str) -> None:
        if not self.text.startswith(literal, self.pos):
            raise self.fail(f"expected {literal!r}")
        self.pos += len(literal)

    def name(self, what: str) -> str:
        start = self.pos
        text = self.text
        while self.pos < len(text) and text[self.pos] in NAME_CHARS:
            self.pos += 1
        if self.pos == start:
            raise self.fail(f"expected {what}")
        return text[start : self.pos]

    def value(self) -> str:
        self.expect('"')
        text = self.text
        out: list[str] = []
        while True:
            if self.pos >= len(text):
                raise self.fail("unterminated attribute value")
            c = text[self.pos]
            if c == '"':
                self.pos += 1
                return "".join(out)
            if c == "<":
                raise self.fail("'<' inside an attribute value")
            if c == "&":
                out.append(self.reference())
                continue
            out.append(c)
            self.pos += 1

    def reference(self) -> str:
        end = self.text.find(";", self.pos, self.pos + 12)
        if end < 0:
            raise self.fail("unterminated character reference")
        ref = self.text[self.pos + 1 : end]
        named = {"amp": "&", "quot": '"', "lt": "<", "gt": ">"}.get(ref)
        if named is not None:
            self.pos = end + 1
            return named
        if ref[:2] == "#x" and len(ref) > 2 and _HEX_CHARS.issuperset(ref[2:]):
            code = int(ref[2:], 16)
            if code <= 0x10FFFF:
                self.pos = end + 1
                return chr(code)
        raise self.fail(f"unknown character reference &{ref};")

    def start_tag(self) -> tuple[str, dict[str, str], bool]:
        """Read ``<name attrs`` up to ``>`` or ``/>``; return (tag, attrs, self_closing)."""
        self.expect("<")
        tag = self.name("a tag name")
        attrs: dict[str, str] = {}
        while True:
            had_ws = self.pos < len(self.text) and self.text[self.pos] in _WS
            self.skip_ws()
            if self.text.startswith("/>", self.pos):
                self.pos += 2
                return tag, attrs, True
            if self.text.startswith(">", self.pos):
                self.pos += 1
                return tag, attrs, False
            if not had_ws:
                raise self.fail("expected whitespace, '>' or '/>'")
            key = self.name("an attribute name")
            if key in attrs:
                raise self.fail(f"duplicated attribute {key!r}")
            self.expect("=")
            attrs[key] = self.value()

    def hex_data(self) -> bytes:
        self.expect("0x")
        start = self.pos
        text = self.text
        while self.pos < len(text) and text[self.pos] in _HEX_CHARS:
            self.pos += 1
        digits = text[start : self.pos]
        if len(digits) % 2:
            raise self.fail("odd number of hex digits")
        return bytes.fromhex(digits)

    def document(self) -> Node:
        self.skip_ws()
        stack: list[_Open] = []
        while True:
            tag, attrs, closed = self.start_tag()
            if closed:
                node = Node._make(tag, attrs, (), None)
            else:
                if len(stack) + 1 >= MAX_DEPTH:
                    raise self.fail(f"nested deeper than {MAX_DEPTH}")
                current = _Open(tag, attrs)
                stack.append(current)
                self.skip_ws()
                if self.text.startswith("0x", self.pos):
                    current.data = self.hex_data()
                    self.skip_ws()
                if (
                    current.data is None
                    and self.text.startswith("<", self.pos)
                    and not (self.text.startswith("</", self.pos))
                ):
                    continue  # descend into the first child
                node = self.close(stack)
            # attach ``node`` to its parent, closing parents whose content ends here
            while True:
                if not stack:
                    self.skip_ws()
                    if self.pos != len(self.text):
                        raise self.fail("unexpected text after the root element")
                    return node
                parent = stack[-1]
                parent.children.append(node)
                self.skip_ws()
                if self.text.startswith("</", self.pos):
                    node = self.close(stack)
                    continue
                if self.text.startswith("<", self.pos):
                    break  # a sibling follows
                raise self.fail("expected '<'")

    def close(self, stack: list[_Open]) -> Node:
        current = stack.pop()
        self.expect("</")
        end = self.name("an end tag name")
        if end != current.tag:
            raise self.fail(f"end tag </{end}> does not match <{current.tag}>")
        self.skip_ws()
        self.expect(">")
        return Node._make(current.tag, current.attrs, tuple(current.children), current.data)


def parse_text(text: str) -> Node:
    """Read a node from its text form (as written by :meth:`Node.to_text`).

    Whitespace between elements is ignored; ``<x></x>`` reads as ``<x/>``.

    Args:
        text: one root element.

    Returns:
        The node.

    Raises:
        DecodeError: the text is not one well-formed element of this form
            (the message gives the offset), or nests deeper than
            :data:`MAX_DEPTH`.
    """
    if not isinstance(text, str):
        raise UsageError(f"node text must be str, got {type(text).__name__}")
    return _Parser(text).document()
