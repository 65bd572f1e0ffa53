"""Parsing ``<message>`` stanzas into envelopes (see :mod:`axolotl.retry.stanza`)."""

from __future__ import annotations

from collections.abc import Iterable

from axolotl._slots import draft_class
from axolotl.address import ProtocolAddress
from axolotl.errors import InvalidReceipt, UsageError
from axolotl.receipts import Node
from axolotl.receipts.fields import MAX_COUNT
from axolotl.receipts.jid import address_from_jid
from axolotl.receipts.limits import excerpt, parse_uint
from axolotl.retry.events import Envelope
from axolotl.retry.policy import Priority
from axolotl.retry.stanza._layout import (
    ENC_NAME,
    ENC_TYPE,
    ENC_VERSION,
    MAX_ATTR_CHARS,
    MAX_ENC_BYTES,
    MAX_FANOUT,
    MAX_MESSAGE_CHILDREN,
    MAX_T,
    MessageStanza,
    fail,
    is_group_jid,
)
from axolotl.wire import MessageType

_FAST_TYPES = {"pkmsg": MessageType.PREKEY, "msg": MessageType.SIGNAL}

__all__ = ["parse_message_node"]

# The parser checks every field an Envelope, a ProtocolAddress and a
# MessageStanza validate (message id non-empty text; types 2/3/4, skmsg only in
# a group; count 0..255; timestamp >= 0; address name non-empty, device
# 0..2^32-1), so it fills them in as drafts (axolotl/_slots.py) without their
# validation running again: most of the cost of a parse otherwise
# (benchmarks/bench_stanza.py).
_EnvelopeDraft = draft_class(Envelope)
_StanzaDraft = draft_class(MessageStanza)
_DEFAULT_PRIORITY = Priority.DEFAULT
_MAX_DEVICE_ID = 0xFFFFFFFF


def _envelope(
    message_id: str,
    sender: ProtocolAddress,
    recipient: ProtocolAddress,
    kind: MessageType,
    body: bytes,
    timestamp_ms: int,
    retry_count: int,
    group_id: str | None,
) -> Envelope:
    draft = _EnvelopeDraft()
    draft.message_id = message_id
    draft.sender = sender
    draft.recipient = recipient
    draft.type = kind
    draft.body = body
    draft.timestamp_ms = timestamp_ms
    draft.retry_count = retry_count
    draft.group_id = group_id
    draft.priority = _DEFAULT_PRIORITY
    draft.__class__ = Envelope
    envelope: Envelope = draft
    return envelope


def _stanza(
    envelopes: tuple[Envelope, ...],
    kind: str,
    media_type: str | None,
    device_identity: bytes | None,
) -> MessageStanza:
    draft = _StanzaDraft()
    draft.envelopes = envelopes
    draft.kind = kind
    draft.media_type = media_type
    draft.device_identity = device_identity
    draft.__class__ = MessageStanza
    stanza: MessageStanza = draft
    return stanza


_SENDERS: dict[str, ProtocolAddress] = {}
"""Sender JIDs the fast path has read, to their addresses.

A client hears from a bounded set of devices, so each sender's JID is checked
and split once (:func:`_sender`) and looked up after. Only JIDs that passed
every check of an incoming pairwise ``from`` enter (1..``MAX_ATTR_CHARS``
printable characters, not a group, ``user[:device]@server`` with a canonical
device number), and the table is bounded: emptied when full.
"""
_MAX_SENDERS = 1024


def _sender(jid: str) -> ProtocolAddress | None:
    """The address of a pairwise sender's JID, as address_from_jid reads it, or None.

    None for anything the fast path of :func:`parse_message_node` leaves to
    the full parser: a group JID, no ``@``, an empty user, a device part that
    is not a canonical device number, or text that is not
    1..``MAX_ATTR_CHARS`` printable characters. A JID read is remembered in
    :data:`_SENDERS`.
    """
    if not (0 < len(jid) <= MAX_ATTR_CHARS and jid.isprintable()) or is_group_jid(jid):
        return None
    user, at, server = jid.partition("@")
    name, colon, device = user.partition(":")
    if not name or not at:
        return None
    device_id = 0
    if colon:
        if not (
            0 < len(device) <= 10
            and device.isascii()
            and device.isdigit()
            and (device[0] != "0" or len(device) == 1)
        ):
            return None
        device_id = int(device)
        if device_id > _MAX_DEVICE_ID:
            return None
    address = ProtocolAddress(name + at + server, device_id)
    if len(_SENDERS) >= _MAX_SENDERS:
        _SENDERS.clear()
    _SENDERS[jid] = address
    return address


def _text(value: object, what: str) -> str:
    if type(value) is not str:
        fail(what, f"must be text, got {type(value).__name__}")
    if not value:
        fail(what, "must not be empty")
    if len(value) > MAX_ATTR_CHARS:
        fail(what, f"longer than {MAX_ATTR_CHARS} characters")
    if not value.isprintable():  # lone surrogates are not printable either
        fail(what, "is not printable UTF-8 text")
    return value


def _canonical(value: object, what: str, low: int, high: int) -> int:
    """A decimal attribute in its one canonical spelling (the receipts' integer syntax)."""
    number = parse_uint(value, high)
    if number is None or number < low:
        fail(what, f"must be a canonical decimal number in {low}..{high}, got {excerpt(value)}")
    return number


def _address(jid: str, what: str) -> ProtocolAddress:
    try:
        return address_from_jid(jid)
    except InvalidReceipt as exc:
        fail(what, exc.reason)


def _data(node: Node, what: str) -> bytes:
    data = node.data
    if node.children or data is None:
        fail(what, "must carry bytes")
    if not data:
        fail(what, "must not be empty")
    if len(data) > MAX_ENC_BYTES:
        fail(what, f"larger than {MAX_ENC_BYTES} bytes ({len(data)})")
    return data


class _Enc:
    __slots__ = ("body", "count", "media_type", "type")

    def __init__(self, node: Node, what: str) -> None:
        attrs = node.attrs
        version = attrs.get("v")
        if version is None:
            fail(f"{what}.v", "missing")
        if version != ENC_VERSION:
            fail(f"{what}.v", f'must be "2", got {version[:24]!r}')
        name = attrs.get("type")
        if name is None:
            fail(f"{what}.type", "missing")
        kind = ENC_TYPE.get(name)
        if kind is None:
            fail(f"{what}.type", f"unknown enc type {name[:24]!r}")
        self.type = kind
        count = attrs.get("count")
        self.count = 0 if count is None else _canonical(count, f"{what}.count", 1, MAX_COUNT)
        media = attrs.get("mediatype")
        self.media_type = None if media is None else _text(media, f"{what}.mediatype")
        self.body = _data(node, what)


def _pick_encs(encs: list[_Enc], what: str) -> tuple[_Enc | None, _Enc | None]:
    """The pairwise and the skmsg ``<enc>`` of one stanza (or of one ``<to>``)."""
    pairwise = shared = None
    for enc in encs:
        if enc.type == MessageType.SENDER_KEY:
            if shared is not None:
                fail(what, "duplicated enc of type skmsg")
            shared = enc
        else:
            if pairwise is not None:
                fail(
                    what,
                    f"more than one pairwise enc ({ENC_NAME[pairwise.type]}, {ENC_NAME[enc.type]})",
                )
            pairwise = enc
    return pairwise, shared


def parse_message_node(node: Node, local: ProtocolAddress) -> MessageStanza:
    """Read a ``<message>`` stanza into its envelopes.

    An incoming stanza (``from``) names its sender: ``from`` is the sending
    device, or the group with ``participant`` = the author's device; ``t`` is
    required (the server stamps every delivery). An outgoing one (``to``)
    is read with ``local`` as the sender, its ``<participants>`` included;
    without ``t`` (yowsup 3.3.0 writes none) its timestamp reads as 0.
    ``participant`` belongs to group (and broadcast) stanzas only; it and
    every ``<to jid>`` name a device, never a group.

    Args:
        node: the ``<message>`` node.
        local: this device: the recipient of an incoming stanza, the sender
            of an outgoing one.

    Returns:
        The :class:`MessageStanza`.

    Raises:
        DecodeError: an attribute is missing, malformed or out of range, an
            ``<enc>`` has an unknown ``type`` or ``v``, a non-canonical
            ``count``, no or oversized bytes, two ``<enc>`` of a kind, a
            ``skmsg`` outside a group, a group JID as ``participant`` or
            ``<to jid>``, a limit is passed, ``<device-identity>``
            without a ``pkmsg``, or ``mediatype`` values disagree; ``what``
            names the field (``"message.enc.count"``).
        UsageError: ``node`` is not a :class:`Node` or ``local`` not a
            :class:`ProtocolAddress`.
    """
    # The common stanza, a pairwise message as delivered, is read right here,
    # every check in line (benchmarks/bench_stanza.py):
    #   <message from=user[:device]@server id type t>
    #     <enc v="2" type="pkmsg|msg">bytes</enc></message>
    # one child, no participant, no count or mediatype (other attributes are
    # ignored, as _parse ignores them). Anything else, or anything wrong, goes
    # to _parse, which reads every shape and names what is wrong; the tests
    # hold the two to the same answers.
    if type(node) is not Node or type(local) is not ProtocolAddress:
        return _parse(node, local)
    attrs = node.attrs
    kids = node.children
    if node.tag != "message" or len(kids) != 1 or "participant" in attrs:
        return _parse(node, local)
    enc = kids[0]
    eattrs = enc.attrs
    try:
        jid = attrs["from"]
        message_id = attrs["id"]
        kind = attrs["type"]
        t = attrs["t"]
        enc_type = _FAST_TYPES[eattrs["type"]]
        version = eattrs["v"]
    except KeyError:
        return _parse(node, local)
    body = enc.data
    if not (
        version == ENC_VERSION
        and "count" not in eattrs
        and "mediatype" not in eattrs
        and enc.tag == "enc"
        and not enc.children
        and type(body) is bytes
        and 0 < len(body) <= MAX_ENC_BYTES
        and 0 < len(message_id) <= MAX_ATTR_CHARS
        and message_id.isprintable()  # lone surrogates are not printable either
        and (kind == "text" or (0 < len(kind) <= MAX_ATTR_CHARS and kind.isprintable()))
        and 0 < len(t) <= 16  # 16 digits stay below MAX_T
        and t.isascii()
        and t.isdigit()
        and (t[0] != "0" or len(t) == 1)
    ):
        return _parse(node, local)
    sender = _SENDERS.get(jid) or _sender(jid)
    if sender is None:
        return _parse(node, local)
    # _envelope and _stanza, written out: their calls were a sixth of the parse.
    envelope = _EnvelopeDraft()
    envelope.message_id = message_id
    envelope.sender = sender
    envelope.recipient = local
    envelope.type = enc_type
    envelope.body = body
    envelope.timestamp_ms = int(t) * 1000
    envelope.retry_count = 0
    envelope.group_id = None
    envelope.priority = _DEFAULT_PRIORITY
    envelope.__class__ = Envelope
    stanza = _StanzaDraft()
    stanza.envelopes = (envelope,)
    stanza.kind = kind
    stanza.media_type = None
    stanza.device_identity = None
    stanza.__class__ = MessageStanza
    parsed: MessageStanza = stanza
    return parsed


def _parse(node: Node, local: ProtocolAddress) -> MessageStanza:
    """The full parser: every shape, every check, errors naming the field."""
    if not isinstance(node, Node):
        raise UsageError(f"expected a Node, got {type(node).__name__}")
    if not isinstance(local, ProtocolAddress):
        raise UsageError(f"local must be a ProtocolAddress, got {type(local).__name__}")
    if node.tag != "message":
        fail("message", f"expected a <message> node, got <{node.tag}>")
    attrs = node.attrs
    message_id = attrs.get("id")
    if message_id is None:
        fail("message.id", "missing")
    _text(message_id, "message.id")
    kind = attrs.get("type")
    if kind is None:
        fail("message.type", "missing")
    _text(kind, "message.type")
    incoming = "from" in attrs
    jid_name = "from" if incoming else "to"
    jid = attrs.get(jid_name)
    if jid is None:
        fail("message.from", "missing, and no `to` either")
    _text(jid, f"message.{jid_name}")
    participant = attrs.get("participant")
    if participant is not None:
        _text(participant, "message.participant")
        if not is_group_jid(jid):
            fail("message.participant", f"only on a group message, not {jid_name} a device")
        if is_group_jid(participant):
            # It names a device (the author, or the one a resend is for); a group
            # here would make an envelope the builder cannot write back.
            fail("message.participant", f"names a group, not a device: {excerpt(participant)}")
    t = attrs.get("t")
    if t is None:
        if incoming:
            fail("message.t", "missing")
        timestamp_ms = 0
    else:
        timestamp_ms = _canonical(t, "message.t", 0, MAX_T) * 1000

    if node.data is not None:
        fail("message", "must carry nodes, not bytes")
    if len(node.children) > MAX_MESSAGE_CHILDREN:
        fail("message", f"more than {MAX_MESSAGE_CHILDREN} children")
    encs: list[_Enc] = []
    fanout: list[tuple[str, _Enc]] = []
    device_identity = None
    seen_participants = seen_identity = False
    for kid in node.children:
        if kid.tag == "enc":
            encs.append(_Enc(kid, "message.enc"))
        elif kid.tag == "participants":
            if incoming:
                fail("message.participants", "not allowed in an incoming stanza")
            if seen_participants:
                fail("message.participants", "duplicated")
            seen_participants = True
            fanout = _participants(kid)
        elif kid.tag == "device-identity":
            if seen_identity:
                fail("message.device-identity", "duplicated")
            seen_identity = True
            device_identity = _data(kid, "message.device-identity")
    pairwise, shared = _pick_encs(encs, "message.enc")
    if pairwise is None and shared is None and not fanout:
        fail("message.enc", "missing")

    # Who is who: the sender and group of every envelope in the stanza.
    group_id: str | None = None
    if incoming:
        recipient = local
        if participant is not None:
            group_id = jid
            sender = _address(participant, "message.participant")
        elif is_group_jid(jid):
            fail("message.participant", "missing on a group message")
        else:
            sender = _address(jid, "message.from")
        direct_to = recipient
    else:
        sender = local
        if participant is not None or is_group_jid(jid):
            group_id = jid
        direct_to = _address(
            participant or jid, f"message.{'participant' if participant else 'to'}"
        )
    if shared is not None and group_id is None:
        fail("message.enc", "a skmsg outside a group")
    if pairwise is not None and not incoming and participant is None and is_group_jid(jid):
        fail("message.participant", "missing on a pairwise message to a group")

    def envelope(enc: _Enc, recipient: ProtocolAddress) -> Envelope:
        return _envelope(
            message_id, sender, recipient, enc.type, enc.body, timestamp_ms, enc.count, group_id
        )

    out: list[Envelope] = []
    if pairwise is not None:
        out.append(envelope(pairwise, direct_to))
    out.extend(envelope(enc, device) for device, enc in _fanout_addresses(fanout))
    if shared is not None:
        out.append(envelope(shared, direct_to))
    all_encs = [e for e in (pairwise, shared) if e is not None] + [e for _, e in fanout]
    media_types = {e.media_type for e in all_encs if e.media_type is not None}
    if len(media_types) > 1:
        fail("message.enc.mediatype", f"differs between enc nodes: {sorted(media_types)}")
    if device_identity is not None and not any(e.type == MessageType.PREKEY for e in all_encs):
        fail("message.device-identity", "only accompanies a pkmsg")
    return _stanza(tuple(out), kind, media_types.pop() if media_types else None, device_identity)


def _participants(node: Node) -> list[tuple[str, _Enc]]:
    if node.data is not None:
        fail("message.participants", "must carry nodes, not bytes")
    if len(node.children) > MAX_FANOUT:
        fail("message.participants", f"more than {MAX_FANOUT} devices")
    out: list[tuple[str, _Enc]] = []
    seen: set[str] = set()
    for to in node.children:
        if to.tag != "to":
            continue
        jid = to.attrs.get("jid")
        if jid is None:
            fail("message.participants.to.jid", "missing")
        _text(jid, "message.participants.to.jid")
        if is_group_jid(jid):
            fail("message.participants.to.jid", f"names a group, not a device: {excerpt(jid)}")
        if jid in seen:
            fail("message.participants.to", f"device {jid[:64]!r} listed twice")
        seen.add(jid)
        if to.data is not None:
            fail("message.participants.to", "must carry nodes, not bytes")
        if len(to.children) > MAX_MESSAGE_CHILDREN:
            fail("message.participants.to", f"more than {MAX_MESSAGE_CHILDREN} children")
        encs = [_Enc(e, "message.participants.to.enc") for e in to.children if e.tag == "enc"]
        pairwise, shared = _pick_encs(encs, "message.participants.to.enc")
        if shared is not None:
            fail("message.participants.to.enc", "a skmsg goes once, beside <participants>")
        if pairwise is None:
            fail("message.participants.to.enc", "missing")
        out.append((jid, pairwise))
    return out


def _fanout_addresses(fanout: Iterable[tuple[str, _Enc]]) -> Iterable[tuple[ProtocolAddress, _Enc]]:
    for jid, enc in fanout:
        yield _address(jid, "message.participants.to.jid"), enc
