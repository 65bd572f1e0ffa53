"""Message stanzas: ``<message><enc/></message>`` nodes built from and parsed into Envelopes.

The WhatsApp layout (DESIGN.md, "Plugging into a stack"), as yowsup 3.3.0,
whatsmeow and Baileys build it, in the same :class:`~axolotl.receipts.Node`
form (and text form) as retry receipts::

    <message id=ID to=JID type="text" t=SECONDS [participant=DEVICE]>
      <enc v="2" type="pkmsg|msg|skmsg" [count=N] [mediatype=M]>bytes</enc>
      [<device-identity>bytes</device-identity>]
    </message>

* a single-recipient stanza (:func:`envelope_to_node`) carries its ``<enc>``
  directly: ``to`` is the device's JID, or, for a group, the group with
  ``participant`` naming the one device it is meant for (a directed group
  resend, whatsmeow ``retry.go`` and Baileys ``relayMessage``);
* a fan-out (:func:`envelopes_to_node`) holds one shared ``<enc type="skmsg">``
  and ``<participants><to jid=DEVICE><enc/></to>...</participants>`` for the
  devices that get a pairwise message (whatsmeow ``prepareMessageNode``,
  Baileys ``createParticipantNodes``; yowsup 3.3.0 sends the same to user JIDs);
* a resend's retry count rides on its ``<enc count=N>`` (whatsmeow sets
  ``encrypted.Attrs["count"]``, Baileys ``count: participant.count``);
  yowsup 3.3.0 writes none, which reads as 0;
* ``<device-identity>`` goes beside the ``<enc>``/``<participants>`` whenever
  the stanza carries a ``pkmsg`` and the stack supplies one (whatsmeow
  ``includeIdentity``, Baileys ``shouldIncludeDeviceIdentity``), never otherwise.

Incoming stanzas, as the server delivers them, carry ``from`` (the sender's
device, or the group with ``participant`` = the author) and the server's ``t``
stamp, and one pairwise ``<enc>`` and/or one ``skmsg`` (in any order).
:func:`parse_message_node` reads both directions; it is strict: the limits
below, one canonical integer syntax (no sign, no leading zero), ``v="2"`` and
the three known ``type`` values only, no duplicated ``<enc>``; anything else
raises :class:`~axolotl.errors.DecodeError` whose ``what`` is the dotted path
of the field (``"message.enc.count"``). Unknown attributes and children are
ignored, as the receipt codec does.

What the node cannot carry: ``t`` has second precision (``timestamp_ms`` is
``t * 1000`` on parse) and an envelope's ``priority`` is local (parsed
envelopes have the default). A shared ``skmsg`` of a fan-out is addressed to
the whole group: its parsed envelope's recipient is the group's address
(``address_from_jid(group)``), and :func:`envelopes_to_node` takes the
``skmsg`` envelopes of every device and writes their common body once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final, NoReturn

from axolotl.address import ProtocolAddress
from axolotl.errors import DecodeError, InvalidReceipt, UsageError
from axolotl.receipts import Node
from axolotl.receipts.fields import MAX_COUNT, is_utf8
from axolotl.retry.events import Envelope
from axolotl.retry.jid import address_from_jid, address_to_jid
from axolotl.wire import MessageType

__all__ = [
    "MAX_ATTR_CHARS",
    "MAX_ENC_BYTES",
    "MAX_FANOUT",
    "MAX_MESSAGE_CHILDREN",
    "MessageStanza",
    "envelope_to_node",
    "envelopes_to_node",
    "parse_message_node",
    "stanza_to_node",
]

MAX_ENC_BYTES: Final = 1 << 18
"""Largest ``<enc>`` (and ``<device-identity>``) content accepted: 256 KiB.

WhatsApp's longest text (65 536 characters, up to 4 bytes each in UTF-8) plus
protobuf framing, padding and the Signal overhead stays below it.
"""

MAX_FANOUT: Final = 5120
"""Most ``<to>`` devices in one ``<participants>``: 1024 members x 5 devices."""

MAX_MESSAGE_CHILDREN: Final = 64
"""Most children of one ``<message>`` (known ones need 3; whatsmeow adds ``<meta>``, ``<biz>``)."""

MAX_ATTR_CHARS: Final = 256
"""Longest id, JID, ``type`` or ``mediatype`` value accepted."""

_MAX_T: Final = 0xFFFFFFFFFFFFFFFF // 1000
"""Largest ``t`` (seconds) whose milliseconds still fit the 64-bit records."""

ENC_VERSION: Final = "2"
_ENC_TYPE = {
    "pkmsg": MessageType.PREKEY,
    "msg": MessageType.SIGNAL,
    "skmsg": MessageType.SENDER_KEY,
}
_ENC_NAME = {kind: name for name, kind in _ENC_TYPE.items()}
_PAIRWISE = (MessageType.PREKEY, MessageType.SIGNAL)
_GROUP_SERVERS = ("@g.us", "@broadcast")


def _fail(what: str, reason: str) -> NoReturn:
    raise DecodeError(what, reason)


def is_group_jid(jid: str) -> bool:
    """Whether ``jid`` names a group or broadcast list (not a device)."""
    return jid.endswith(_GROUP_SERVERS)


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageStanza:
    """A parsed ``<message>``: its envelopes and what the node adds to them.

    Attributes:
        envelopes: one per ``<enc>``: the pairwise ones first (in document
            order, so a sender-key handover is processed before the
            ``skmsg`` it unlocks), then the ``skmsg``.
        kind: the message ``type`` attribute (``"text"``, ``"media"``, ...).
        media_type: the ``mediatype`` of the ``<enc>`` nodes, or ``None``.
        device_identity: the ``<device-identity>`` bytes, or ``None``.
    """

    envelopes: tuple[Envelope, ...]
    kind: str = "text"
    media_type: str | None = None
    device_identity: bytes | None = None


# -- building ----------------------------------------------------------------------


def _check_extras(kind: str, media_type: str | None, device_identity: bytes | None) -> None:
    _name_attr_usage("kind", kind)
    if media_type is not None:
        _name_attr_usage("media_type", media_type)
    if device_identity is not None:
        if not isinstance(device_identity, bytes) or not device_identity:
            raise UsageError("device_identity must be non-empty bytes")
        if len(device_identity) > MAX_ENC_BYTES:
            raise UsageError(f"device_identity is over {MAX_ENC_BYTES} bytes")


def _name_attr_usage(what: str, value: object) -> None:
    if not isinstance(value, str) or not value or len(value) > MAX_ATTR_CHARS:
        raise UsageError(f"{what} must be a non-empty string of at most {MAX_ATTR_CHARS} chars")
    if not value.isprintable() or not is_utf8(value):
        raise UsageError(f"{what} must be printable UTF-8 text")


def _enc(envelope: Envelope, media_type: str | None) -> Node:
    attrs = {"v": ENC_VERSION, "type": _ENC_NAME[envelope.type]}
    if envelope.retry_count:
        attrs["count"] = str(envelope.retry_count)
    if media_type is not None:
        attrs["mediatype"] = media_type
    return Node("enc", attrs, data=envelope.body)


def _message_attrs(envelope: Envelope, to: str, kind: str) -> dict[str, str]:
    _name_attr_usage("message_id", envelope.message_id)
    _name_attr_usage("to", to)
    return {
        "id": envelope.message_id,
        "to": to,
        "type": kind,
        "t": str(envelope.timestamp_ms // 1000),
    }


def envelope_to_node(
    envelope: Envelope,
    *,
    kind: str = "text",
    media_type: str | None = None,
    device_identity: bytes | None = None,
) -> Node:
    """Build the single-recipient stanza for one envelope.

    A pairwise envelope goes ``to`` its device, or for a group message (and
    its resends) ``to`` the group with ``participant`` = the device; a
    ``skmsg`` goes ``to`` the group, directed at the device with
    ``participant`` unless its recipient is the group itself. The retry count
    rides on the ``<enc>``.

    Args:
        envelope: the envelope (``Transmit.envelope``).
        kind: the message ``type`` (``"text"``; ``"media"`` for media).
        media_type: the ``<enc mediatype>`` for media (``"image"``, ...).
        device_identity: the stack's ``ADVSignedDeviceIdentity`` bytes;
            written only beside a ``pkmsg``, as whatsmeow and Baileys do.

    Returns:
        The ``<message>`` node (outgoing: ``to``).

    Raises:
        UsageError: ``envelope`` is not an :class:`Envelope`, or an extra is
            malformed.
    """
    if not isinstance(envelope, Envelope):
        raise UsageError(f"expected an Envelope, got {type(envelope).__name__}")
    _check_extras(kind, media_type, device_identity)
    device = address_to_jid(envelope.recipient)
    _name_attr_usage("recipient jid", device)
    if envelope.group_id is None:
        attrs = _message_attrs(envelope, device, kind)
    else:
        attrs = _message_attrs(envelope, envelope.group_id, kind)
        if device != envelope.group_id:
            attrs["participant"] = device
    children = [_enc(envelope, media_type)]
    if device_identity is not None and envelope.type == MessageType.PREKEY:
        children.append(Node("device-identity", data=device_identity))
    return Node("message", attrs, children)


def envelopes_to_node(
    envelopes: Sequence[Envelope],
    *,
    to: str | None = None,
    kind: str = "text",
    media_type: str | None = None,
    device_identity: bytes | None = None,
) -> Node:
    """Build one fan-out stanza for the envelopes of one message.

    The ``skmsg`` envelopes (one per device that holds our sender key, all
    with the same body) become one shared ``<enc type="skmsg">``; each
    pairwise envelope becomes ``<to jid=DEVICE><enc/></to>`` inside
    ``<participants>``, in the given order.

    Args:
        envelopes: the message's envelopes (``Transmit`` actions of one send):
            one message id, sender, timestamp and group.
        to: the chat: defaults to the group, else to the one account every
            recipient device belongs to; required for a pairwise fan-out
            over several accounts.
        kind: the message ``type``.
        media_type: ``mediatype`` on every ``<enc>``.
        device_identity: written once, when any envelope is a ``pkmsg``.

    Returns:
        The ``<message>`` node.

    Raises:
        UsageError: no envelopes, envelopes of different messages, senders,
            timestamps or groups, ``skmsg`` bodies that differ, a device
            listed twice, more than :data:`MAX_FANOUT` devices, or no ``to``
            where none can be derived.
    """
    envs = tuple(envelopes)
    if not envs:
        raise UsageError("a fan-out needs at least one envelope")
    for env in envs:
        if not isinstance(env, Envelope):
            raise UsageError(f"expected Envelopes, got {type(env).__name__}")
    _check_extras(kind, media_type, device_identity)
    first = envs[0]
    for env in envs[1:]:
        if (env.message_id, env.sender, env.timestamp_ms, env.group_id) != (
            first.message_id,
            first.sender,
            first.timestamp_ms,
            first.group_id,
        ):
            raise UsageError("a fan-out carries one message: same id, sender, timestamp, group")
    pairwise = [env for env in envs if env.type in _PAIRWISE]
    shared = [env for env in envs if env.type == MessageType.SENDER_KEY]
    if len({env.body for env in shared}) > 1:
        raise UsageError("the skmsg envelopes of one message must share one body")
    if len({env.retry_count for env in shared}) > 1:
        raise UsageError("the skmsg envelopes of one message must share one retry count")
    if len(pairwise) > MAX_FANOUT:
        raise UsageError(f"more than {MAX_FANOUT} devices in one fan-out")
    jids = [address_to_jid(env.recipient) for env in pairwise]
    for jid in jids:
        _name_attr_usage("recipient jid", jid)
    if len(set(jids)) != len(jids):
        raise UsageError("a fan-out lists a device twice")
    if to is None:
        to = first.group_id
    if to is None:
        accounts = {env.recipient.name for env in pairwise}
        if len(accounts) != 1:
            raise UsageError("a pairwise fan-out over several accounts needs `to`")
        to = accounts.pop()
    _name_attr_usage("to", to)
    children: list[Node] = []
    if shared:
        children.append(_enc(shared[0], media_type))
    if pairwise:
        children.append(
            Node(
                "participants",
                children=[
                    Node("to", {"jid": jid}, [_enc(env, media_type)])
                    for jid, env in zip(jids, pairwise, strict=True)
                ],
            )
        )
    if device_identity is not None and any(e.type == MessageType.PREKEY for e in pairwise):
        children.append(Node("device-identity", data=device_identity))
    return Node("message", _message_attrs(first, to, kind), children)


def stanza_to_node(stanza: MessageStanza) -> Node:
    """Build the single-recipient stanza of a :class:`MessageStanza` with one envelope.

    Raises:
        UsageError: the stanza does not hold exactly one envelope.
    """
    if len(stanza.envelopes) != 1:
        raise UsageError("stanza_to_node builds single-recipient stanzas; use envelopes_to_node")
    return envelope_to_node(
        stanza.envelopes[0],
        kind=stanza.kind,
        media_type=stanza.media_type,
        device_identity=stanza.device_identity,
    )


# -- parsing -----------------------------------------------------------------------


def _text(value: object, what: str) -> str:
    if type(value) is not str:
        _fail(what, f"must be text, got {type(value).__name__}")
    if not value:
        _fail(what, "must not be empty")
    if len(value) > MAX_ATTR_CHARS:
        _fail(what, f"longer than {MAX_ATTR_CHARS} characters")
    if not value.isprintable():  # lone surrogates are not printable either
        _fail(what, "is not printable UTF-8 text")
    return value


def _canonical(value: object, what: str, low: int, high: int) -> int:
    """A decimal attribute in its one canonical spelling (no sign, no leading zero)."""
    if (
        type(value) is not str
        or not value.isascii()
        or not value.isdigit()
        or (value[0] == "0" and len(value) > 1)
    ):
        _fail(what, f"not a canonical decimal number: {str(value)[:24]!r}")
    if len(value) > 20:
        _fail(what, f"number too large: {value[:24]}")
    number = int(value)
    if not low <= number <= high:
        _fail(what, f"must be in {low}..{high}, got {number}")
    return number


def _address(jid: str, what: str) -> ProtocolAddress:
    try:
        return address_from_jid(jid)
    except InvalidReceipt as exc:
        _fail(what, exc.reason)


def _data(node: Node, what: str) -> bytes:
    data = node.data
    if node.children or data is None:
        _fail(what, "must carry bytes")
    if not data:
        _fail(what, "must not be empty")
    if len(data) > MAX_ENC_BYTES:
        _fail(what, f"larger than {MAX_ENC_BYTES} bytes ({len(data)})")
    return data


class _Enc:
    __slots__ = ("body", "count", "media_type", "type")

    def __init__(self, node: Node, what: str) -> None:
        attrs = node.attrs
        version = attrs.get("v")
        if version is None:
            _fail(f"{what}.v", "missing")
        if version != ENC_VERSION:
            _fail(f"{what}.v", f'must be "2", got {version[:24]!r}')
        name = attrs.get("type")
        if name is None:
            _fail(f"{what}.type", "missing")
        kind = _ENC_TYPE.get(name)
        if kind is None:
            _fail(f"{what}.type", f"unknown enc type {name[:24]!r}")
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
                _fail(what, "duplicated enc of type skmsg")
            shared = enc
        else:
            if pairwise is not None:
                _fail(
                    what,
                    f"more than one pairwise enc ({_ENC_NAME[pairwise.type]}, "
                    f"{_ENC_NAME[enc.type]})",
                )
            pairwise = enc
    return pairwise, shared


def parse_message_node(node: Node, local: ProtocolAddress) -> MessageStanza:
    """Read a ``<message>`` stanza into its envelopes.

    An incoming stanza (``from``) names its sender: ``from`` is the sending
    device, or the group with ``participant`` = the author's device; ``t`` is
    required (the server stamps every delivery). An outgoing one (``to``)
    is read with ``local`` as the sender, its ``<participants>`` included.

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
            ``skmsg`` outside a group, a limit is passed, ``<device-identity>``
            without a ``pkmsg``, or ``mediatype`` values disagree; ``what``
            names the field (``"message.enc.count"``).
        UsageError: ``node`` is not a :class:`Node` or ``local`` not a
            :class:`ProtocolAddress`.
    """
    if not isinstance(node, Node):
        raise UsageError(f"expected a Node, got {type(node).__name__}")
    if not isinstance(local, ProtocolAddress):
        raise UsageError(f"local must be a ProtocolAddress, got {type(local).__name__}")
    if node.tag != "message":
        _fail("message", f"expected a <message> node, got <{node.tag}>")
    attrs = node.attrs
    message_id = attrs.get("id")
    if message_id is None:
        _fail("message.id", "missing")
    _text(message_id, "message.id")
    kind = attrs.get("type")
    if kind is None:
        _fail("message.type", "missing")
    _text(kind, "message.type")
    incoming = "from" in attrs
    jid_name = "from" if incoming else "to"
    jid = attrs.get(jid_name)
    if jid is None:
        _fail("message.from", "missing, and no `to` either")
    _text(jid, f"message.{jid_name}")
    participant = attrs.get("participant")
    if participant is not None:
        _text(participant, "message.participant")
    t = attrs.get("t")
    if t is None:
        if incoming:
            _fail("message.t", "missing")
        timestamp_ms = 0
    else:
        timestamp_ms = _canonical(t, "message.t", 0, _MAX_T) * 1000

    if node.data is not None:
        _fail("message", "must carry nodes, not bytes")
    if len(node.children) > MAX_MESSAGE_CHILDREN:
        _fail("message", f"more than {MAX_MESSAGE_CHILDREN} children")
    encs: list[_Enc] = []
    fanout: list[tuple[str, _Enc]] = []
    device_identity = None
    seen_participants = seen_identity = False
    for kid in node.children:
        if kid.tag == "enc":
            encs.append(_Enc(kid, "message.enc"))
        elif kid.tag == "participants":
            if incoming:
                _fail("message.participants", "not allowed in an incoming stanza")
            if seen_participants:
                _fail("message.participants", "duplicated")
            seen_participants = True
            fanout = _participants(kid)
        elif kid.tag == "device-identity":
            if seen_identity:
                _fail("message.device-identity", "duplicated")
            seen_identity = True
            device_identity = _data(kid, "message.device-identity")
    pairwise, shared = _pick_encs(encs, "message.enc")
    if pairwise is None and shared is None and not fanout:
        _fail("message.enc", "missing")

    # Who is who: the sender and group of every envelope in the stanza.
    group_id: str | None = None
    if incoming:
        recipient = local
        if participant is not None:
            group_id = jid
            sender = _address(participant, "message.participant")
        elif is_group_jid(jid):
            _fail("message.participant", "missing on a group message")
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
        _fail("message.enc", "a skmsg outside a group")
    if pairwise is not None and not incoming and participant is None and is_group_jid(jid):
        _fail("message.participant", "missing on a pairwise message to a group")

    def envelope(enc: _Enc, recipient: ProtocolAddress) -> Envelope:
        try:
            return Envelope(
                message_id=message_id,
                sender=sender,
                recipient=recipient,
                type=enc.type,
                body=enc.body,
                timestamp_ms=timestamp_ms,
                retry_count=enc.count,
                group_id=group_id,
            )
        except UsageError as exc:  # the checks above should leave nothing for this
            _fail("message", str(exc))

    out: list[Envelope] = []
    if pairwise is not None:
        out.append(envelope(pairwise, direct_to))
    out.extend(envelope(enc, device) for device, enc in _fanout_addresses(fanout))
    if shared is not None:
        out.append(envelope(shared, direct_to))
    all_encs = [e for e in (pairwise, shared) if e is not None] + [e for _, e in fanout]
    media_types = {e.media_type for e in all_encs if e.media_type is not None}
    if len(media_types) > 1:
        _fail("message.enc.mediatype", f"differs between enc nodes: {sorted(media_types)}")
    if device_identity is not None and not any(e.type == MessageType.PREKEY for e in all_encs):
        _fail("message.device-identity", "only accompanies a pkmsg")
    return MessageStanza(
        envelopes=tuple(out),
        kind=kind,
        media_type=media_types.pop() if media_types else None,
        device_identity=device_identity,
    )


def _participants(node: Node) -> list[tuple[str, _Enc]]:
    if node.data is not None:
        _fail("message.participants", "must carry nodes, not bytes")
    if len(node.children) > MAX_FANOUT:
        _fail("message.participants", f"more than {MAX_FANOUT} devices")
    out: list[tuple[str, _Enc]] = []
    seen: set[str] = set()
    for to in node.children:
        if to.tag != "to":
            continue
        jid = to.attrs.get("jid")
        if jid is None:
            _fail("message.participants.to.jid", "missing")
        _text(jid, "message.participants.to.jid")
        if jid in seen:
            _fail("message.participants.to", f"device {jid[:64]!r} listed twice")
        seen.add(jid)
        if to.data is not None:
            _fail("message.participants.to", "must carry nodes, not bytes")
        if len(to.children) > MAX_MESSAGE_CHILDREN:
            _fail("message.participants.to", f"more than {MAX_MESSAGE_CHILDREN} children")
        encs = [_Enc(e, "message.participants.to.enc") for e in to.children if e.tag == "enc"]
        pairwise, shared = _pick_encs(encs, "message.participants.to.enc")
        if shared is not None:
            _fail("message.participants.to.enc", "a skmsg goes once, beside <participants>")
        if pairwise is None:
            _fail("message.participants.to.enc", "missing")
        out.append((jid, pairwise))
    return out


def _fanout_addresses(fanout: Iterable[tuple[str, _Enc]]) -> Iterable[tuple[ProtocolAddress, _Enc]]:
    for jid, enc in fanout:
        yield _address(jid, "message.participants.to.jid"), enc
