"""The minimal binary-XML-style tree that WhatsApp-style stacks pass around.

A :class:`Node` has a tag, string attributes (in insertion order), and either
child nodes or bytes content -- the shape of yowsup's ``ProtocolTreeNode``,
whatsmeow's ``waBinary.Node`` and Baileys' ``BinaryNode`` once their binary
token encoding is stripped. Retry receipts travel in this form (DESIGN.md,
"Wire formats").

Nodes also have a readable text form for logs and the command line::

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

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NoReturn

from axolotl.errors import DecodeError, InvalidReceipt, UsageError

if TYPE_CHECKING:
    from axolotl.receipts.entities import (
        IncomingRetryReceipt,
        KeyBundle,
        OutgoingRetryReceipt,
        ReceiptT,
        RetryReason,
    )

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

_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.:")
_HEX_CHARS = frozenset("0123456789abcdefABCDEF")
_WS = " \t\r\n"


def _check_name(what: str, name: object) -> str:
    if not isinstance(name, str) or not name or not _NAME_CHARS.issuperset(name):
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
        """The readable text form (see the module docstring).

        Args:
            indent: spaces per nesting level, one element per line; ``None``
                writes everything on one line.

        Returns:
            Text that :func:`parse_text` turns back into an equal node.
        """
        out: list[str] = []
        _render(self, out, 0, indent)
        return "".join(out)

    @staticmethod
    def parse_text(text: str) -> Node:
        """Read the text form; see :func:`parse_text`."""
        return parse_text(text)

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


def _render(node: Node, out: list[str], level: int, indent: int | None) -> None:
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
            _render(kid, out, level + 1, indent)
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
        while self.pos < len(text) and text[self.pos] in _NAME_CHARS:
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


# -- the retry receipt tree codec (DESIGN.md, "Wire formats") ------------------------
#
# Kept lean: this runs once per undecryptable message on busy clients, and the
# benchmark holds it to a third of yowsup's entity <-> ProtocolTreeNode cost.

_new = object.__new__


def _node(tag: str, attrs: dict[str, str], children: tuple[Node, ...], data: bytes | None) -> Node:
    node = _new(Node)
    node.tag = tag
    node.attrs = attrs
    node.children = children
    node.data = data
    return node


_tuple_new = tuple.__new__
_UINT32_MAX = 0xFFFFFFFF
_UINT64_MAX = 0xFFFFFFFFFFFFFFFF
_DECIMAL = tuple(str(i) for i in range(256))
_SMALL_INT = {text: number for number, text in enumerate(_DECIMAL)}
_MAX_COUNT = 255  # entities.MAX_COUNT; the tests hold them equal


def _fail(field: str, reason: str) -> NoReturn:
    raise InvalidReceipt(field, reason)


def _keys_to_node(keys: KeyBundle) -> Node:
    kids = [
        _node("type", {}, (), bytes([keys.key_type])),
        _node("identity", {}, (), keys.identity),
    ]
    if keys.pre_key_id is not None:
        kids.append(
            _node(
                "key",
                {},
                (
                    _node("id", {}, (), keys.pre_key_id.to_bytes(3, "big")),
                    _node("value", {}, (), keys.pre_key),
                ),
                None,
            )
        )
    kids.append(
        _node(
            "skey",
            {},
            (
                _node("id", {}, (), keys.signed_pre_key_id.to_bytes(3, "big")),
                _node("value", {}, (), keys.signed_pre_key),
                _node("signature", {}, (), keys.signed_pre_key_signature),
            ),
            None,
        )
    )
    if keys.device_identity is not None:
        kids.append(_node("device-identity", {}, (), keys.device_identity))
    return _node("keys", {}, tuple(kids), None)


# ``<registration>`` nodes by registration id. A client sends every receipt
# with its own one id, so one node serves them all and to_node builds two
# nodes instead of three. Sharing is safe because nodes are never changed
# after they are built (see Node); the table is bounded for relays and tests
# that see many ids.
_REGISTRATION_NODES: dict[int, Node] = {}
_MAX_REGISTRATION_NODES = 64


def _registration_node(reg_id: int) -> Node:
    node = _node("registration", {}, (), reg_id.to_bytes(4, "big"))
    if len(_REGISTRATION_NODES) >= _MAX_REGISTRATION_NODES:
        _REGISTRATION_NODES.clear()
    _REGISTRATION_NODES[reg_id] = node
    return node


def receipt_to_node(receipt: OutgoingRetryReceipt | IncomingRetryReceipt) -> Node:
    """Build the ``<receipt type="retry">`` tree of a receipt.

    Attribute and child order follow DESIGN.md: ``id``, ``to``/``from``,
    ``[participant]``, ``[recipient]``, ``type``, ``[t]``; then
    ``<retry count id t v [error]/>``, ``<registration>`` (4 bytes
    big-endian) and ``[<keys>]``.

    Args:
        receipt: an outgoing (``to``) or incoming (``from``) receipt.

    Returns:
        The node.
    """
    # Hot path: nodes are assembled inline (no helper calls), numbers below
    # 256 come from a table.
    mid, jid, count, timestamp, reg_id, participant, recipient, version, reason, rts, keys = receipt
    if participant is None and recipient is None:
        attrs = {"id": mid, receipt._jid_attr: jid, "type": "retry"}
    else:
        attrs = {"id": mid, receipt._jid_attr: jid}
        if participant is not None:
            attrs["participant"] = participant
        if recipient is not None:
            attrs["recipient"] = recipient
        attrs["type"] = "retry"
    if rts is not None:
        attrs["t"] = str(rts)
    retry_attrs = {
        "count": _DECIMAL[count],
        "id": mid,
        "t": str(timestamp),
        "v": _DECIMAL[version] if version < 256 else str(version),
    }
    if reason is not None:
        retry_attrs["error"] = _DECIMAL[reason]
    retry = _new(Node)
    retry.tag = "retry"
    retry.attrs = retry_attrs
    retry.children = ()
    retry.data = None
    registration = _REGISTRATION_NODES.get(reg_id)
    if registration is None:
        registration = _registration_node(reg_id)
    root = _new(Node)
    root.tag = "receipt"
    root.attrs = attrs
    root.children = (
        (retry, registration) if keys is None else (retry, registration, _keys_to_node(keys))
    )
    root.data = None
    return root


def _data(node: Node | None, field: str, length: int | None = None) -> bytes:
    if node is None:
        _fail(field, "missing")
    data = node.data
    if data is None:
        _fail(field, "must carry bytes, not nodes" if node.children else "carries no bytes")
    if type(data) is not bytes:
        _fail(field, f"must carry bytes, got {type(data).__name__}")
    if length is not None and len(data) != length:
        _fail(field, f"must be {length} bytes, got {len(data)}")
    return data


def _pick(node: Node, field: str, tags: tuple[str, ...]) -> dict[str, Node]:
    """The children of ``node`` with the given tags; others are ignored, duplicates refused."""
    if node.data is not None:
        _fail(field, "must carry nodes, not bytes")
    found: dict[str, Node] = {}
    for kid in node.children:
        tag = kid.tag
        if tag in tags:
            if tag in found:
                _fail(f"{field}.{tag}", "duplicated")
            found[tag] = kid
    return found


def _keys_from_node(keys: Node) -> KeyBundle:
    parts = _pick(keys, "keys", ("type", "identity", "key", "skey", "device-identity"))
    key_type = _data(parts.get("type"), "keys.type", 1)[0]
    identity = _data(parts.get("identity"), "keys.identity")
    pre_key_id: int | None = None
    pre_key: bytes | None = None
    key = parts.get("key")
    if key is not None:
        sub = _pick(key, "keys.key", ("id", "value"))
        pre_key_id = int.from_bytes(_data(sub.get("id"), "keys.key.id", 3), "big")
        pre_key = _data(sub.get("value"), "keys.key.value")
    skey = parts.get("skey")
    if skey is None:
        _fail("keys.skey", "missing")
    sub = _pick(skey, "keys.skey", ("id", "value", "signature"))
    signed_id = int.from_bytes(_data(sub.get("id"), "keys.skey.id", 3), "big")
    signed = _data(sub.get("value"), "keys.skey.value")
    signature = _data(sub.get("signature"), "keys.skey.signature")
    device = parts.get("device-identity")
    device_identity = None if device is None else _data(device, "keys.device-identity")
    return _e.make_key_bundle(
        key_type, identity, pre_key_id, pre_key, signed_id, signed, signature, device_identity
    )


def _digits(value: object, field: str, high: int, low: int = 0) -> int:
    """Parse a decimal attribute and check its range, naming ``field`` when it is wrong."""
    if type(value) is not str or not value.isascii() or not value.isdigit():
        _fail(field, f"not a decimal number: {value!r}")
    if len(value) > 20:
        _fail(field, f"number too large: {value[:24]}")
    number = int(value)
    if not low <= number <= high:
        _fail(field, f"must be in {low}..{high}, got {number}")
    return number


def _check_text_attr(value: object, field: str) -> None:
    """Require non-empty UTF-8 text."""
    if type(value) is not str:
        _fail(field, f"must be text, got {type(value).__name__}")
    if not value:
        _fail(field, "must not be empty")
    if not value.isascii() and not _utf8(value):
        _fail(field, "is not valid UTF-8 text")


def _utf8(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def receipt_from_node(cls: type[ReceiptT], node: Node, /) -> ReceiptT:
    """Read a ``<receipt type="retry">`` tree into ``cls``.

    Unknown attributes and children are ignored (and not kept); a known child
    given twice is refused.

    Args:
        cls: :class:`OutgoingRetryReceipt` (reads ``to``) or
            :class:`IncomingRetryReceipt` (reads ``from``); this is
            ``OutgoingRetryReceipt.from_node`` and ``IncomingRetryReceipt.from_node``.
        node: the receipt node.

    Returns:
        The receipt.

    Raises:
        InvalidReceipt: a field is missing, duplicated, malformed or out of
            range; ``field`` names it (``"retry"``, ``"registration"``,
            ``"retry.count"``, ``"keys.skey.signature"``, ...).
        UsageError: ``node`` is not a :class:`Node`.
    """
    # Hot path: a valid receipt is read with subscripts and inline tests only;
    # anything unusual drops to helpers that name what is wrong.
    if type(node) is not Node and not isinstance(node, Node):
        raise UsageError(f"expected a Node, got {type(node).__name__}")
    if node.tag != "receipt":
        _fail("receipt", f"expected a <receipt> node, got <{node.tag}>")
    attrs = node.attrs
    jid_name = cls._jid_attr
    try:
        message_id = attrs["id"]
        jid = attrs[jid_name]
        kind = attrs["type"]
    except KeyError as exc:
        _fail(exc.args[0], "missing")
    if not (
        type(message_id) is str
        and message_id
        and message_id.isascii()
        and type(jid) is str
        and jid
        and jid.isascii()
    ):
        _check_text_attr(message_id, "id")
        _check_text_attr(jid, jid_name)
    if kind != "retry":
        _fail("type", f'must be "retry", got {kind!r}')
    participant = recipient = receipt_timestamp = None
    if len(attrs) > 3:
        participant = attrs.get("participant")
        if participant is not None:
            _check_text_attr(participant, "participant")
        recipient = attrs.get("recipient")
        if recipient is not None:
            _check_text_attr(recipient, "recipient")
        t = attrs.get("t")
        if t is not None:
            receipt_timestamp = _digits(t, "t", 0xFFFFFFFFFFFFFFFF)

    kids = node.children
    if len(kids) == 2 and kids[0].tag == "retry" and kids[1].tag == "registration":
        retry, registration = kids
        keys = None
    else:
        retry, registration, keys = _receipt_children(kids)

    rattrs = retry.attrs
    try:
        count = _SMALL_INT.get(rattrs["count"])
        timestamp_text = rattrs["t"]
        version = _SMALL_INT.get(rattrs["v"])
    except KeyError as exc:
        _fail(f"retry.{exc.args[0]}", "missing")
    if count is None or count == 0:
        count = _digits(rattrs["count"], "retry.count", _MAX_COUNT, 1)
    if type(timestamp_text) is str and timestamp_text.isdigit() and timestamp_text.isascii():
        timestamp = int(timestamp_text)
        if timestamp > 0xFFFFFFFFFFFFFFFF:
            _digits(timestamp_text, "retry.t", 0xFFFFFFFFFFFFFFFF)
    else:
        timestamp = _digits(timestamp_text, "retry.t", 0xFFFFFFFFFFFFFFFF)
    if version is None or version == 0:
        version = _digits(rattrs["v"], "retry.v", 0xFFFFFFFF, 1)
    reason: RetryReason | None = None
    if len(rattrs) > 3:
        retry_id = rattrs.get("id")
        if retry_id is not None and retry_id != message_id:
            _fail("retry.id", f"{retry_id!r} differs from the receipt id {message_id!r}")
        error = rattrs.get("error")
        if error is not None:
            reason = _e.REASON_BY_TEXT.get(error)
            if reason is None:
                _fail("retry.error", f"unknown reason code {error!r}")

    data = registration.data
    if type(data) is not bytes or len(data) != 4:
        data = _data(registration, "registration", 4)
    return _tuple_new(
        cls,
        (
            message_id,
            jid,
            count,
            timestamp,
            int.from_bytes(data, "big"),
            participant,
            recipient,
            version,
            reason,
            receipt_timestamp,
            None if keys is None else _keys_from_node(keys),
        ),
    )


def _receipt_children(kids: tuple[Node, ...]) -> tuple[Node, Node, Node | None]:
    """Find ``<retry>``, ``<registration>`` and ``<keys>`` in any order (others ignored)."""
    retry = registration = keys = None
    for kid in kids:
        tag = kid.tag
        if tag == "retry":
            if retry is not None:
                _fail("retry", "duplicated")
            retry = kid
        elif tag == "registration":
            if registration is not None:
                _fail("registration", "duplicated")
            registration = kid
        elif tag == "keys":
            if keys is not None:
                _fail("keys", "duplicated")
            keys = kid
    if retry is None:
        _fail("retry", "missing")
    if registration is None:
        _fail("registration", "missing")
    return retry, registration, keys


def parse_receipt_node(node: Node) -> OutgoingRetryReceipt | IncomingRetryReceipt:
    """Read a receipt node of either direction: ``from`` means incoming, else outgoing.

    Raises:
        InvalidReceipt: as :func:`receipt_from_node`.
        UsageError: ``node`` is not a :class:`Node`.
    """
    if isinstance(node, Node) and "from" in node.attrs:
        return receipt_from_node(_e.IncomingRetryReceipt, node)
    return receipt_from_node(_e.OutgoingRetryReceipt, node)


# Last: entities binds receipt_to_node / receipt_from_node as methods, so it
# imports this module; these functions reach back to it only at call time.
from axolotl.receipts import entities as _e  # noqa: E402
