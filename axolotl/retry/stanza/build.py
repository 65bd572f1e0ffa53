"""Building ``<message>`` stanzas from envelopes (see :mod:`axolotl.retry.stanza`)."""

from __future__ import annotations

from collections.abc import Sequence

from axolotl.address import ProtocolAddress
from axolotl.errors import UsageError
from axolotl.receipts import Node
from axolotl.receipts.fields import is_utf8
from axolotl.receipts.jid import address_to_jid
from axolotl.retry.events import Envelope
from axolotl.retry.stanza._layout import (
    ENC_NAME,
    ENC_VERSION,
    MAX_ATTR_CHARS,
    MAX_ENC_BYTES,
    MAX_FANOUT,
    MAX_T,
    PAIRWISE,
    MessageStanza,
    is_group_jid,
)
from axolotl.wire import MessageType

__all__ = ["envelope_to_node", "envelopes_to_node", "stanza_to_node"]

_new = object.__new__

_MAX_TIMESTAMP_MS = MAX_T * 1000 + 999
"""The largest ``timestamp_ms`` whose ``t`` (seconds) the parser reads back."""


def _make(tag: str, attrs: dict[str, str], children: tuple[Node, ...], data: bytes | None) -> Node:
    """A node from values checked here already (as receipts' tree codec does)."""
    node: Node = _new(Node)
    node.tag = tag
    node.attrs = attrs
    node.children = children
    node.data = data
    return node


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
    if type(value) is str and 0 < len(value) <= MAX_ATTR_CHARS and value.isprintable():
        return  # the common case, in one test (isprintable also refuses lone surrogates)
    if not isinstance(value, str) or not value or len(value) > MAX_ATTR_CHARS:
        raise UsageError(f"{what} must be a non-empty string of at most {MAX_ATTR_CHARS} chars")
    if not value.isprintable() or not is_utf8(value):
        raise UsageError(f"{what} must be printable UTF-8 text")


def _check_group(group_id: str | None) -> None:
    # The stanza tells a group by its JID (``...@g.us``): any other group id
    # would read back as a pairwise chat.
    if group_id is not None and not is_group_jid(group_id):
        raise UsageError(f"group_id {group_id!r} is not a group JID (...@g.us, ...@broadcast)")


def _device_jid(address: object) -> str:
    """The JID of a recipient device, one that reads back as the same address.

    ``address_to_jid`` writes ``user[:device]@server``; a user part that is
    empty or holds a ``:`` of its own would read back as another device (or
    not at all), so such a name is refused here rather than sent.
    """
    if not isinstance(address, ProtocolAddress):
        raise UsageError(f"envelope recipient must be a ProtocolAddress, got {address!r:.80}")
    user = address.name.partition("@")[0]
    if not user or ":" in user:
        raise UsageError(
            f"recipient name {address.name!r:.80} has no JID: its user part (before @)"
            " must be non-empty and without ':'"
        )
    jid = address_to_jid(address)
    _name_attr_usage("recipient jid", jid)
    return jid


def _check_fields(envelope: Envelope) -> bytes:
    """Check what the stanza carries of an envelope beyond Envelope's own checks.

    The ``<enc>`` body, the ``t`` (whole seconds of an ``int`` ``timestamp_ms``
    within what the parser reads back), the ``count`` and the message id.

    Returns:
        The body as ``bytes`` (a bytes-like body is copied).

    Raises:
        UsageError: a field that would not make a stanza that parses back.
    """
    body = envelope.body
    if not isinstance(body, bytes | bytearray | memoryview):
        raise UsageError(f"envelope body must be bytes, got {type(body).__name__}")
    body = bytes(body)
    if not 0 < len(body) <= MAX_ENC_BYTES:
        raise UsageError(f"envelope body must be 1..{MAX_ENC_BYTES} bytes, got {len(body)}")
    timestamp_ms = envelope.timestamp_ms
    if type(timestamp_ms) is not int:
        raise UsageError(f"envelope timestamp_ms must be an int, got {type(timestamp_ms).__name__}")
    if timestamp_ms > _MAX_TIMESTAMP_MS:  # (not quoted: str() of a huge int raises)
        raise UsageError(
            f"envelope timestamp_ms must be at most {_MAX_TIMESTAMP_MS},"
            f" got a {timestamp_ms.bit_length()}-bit number"
        )
    if type(envelope.retry_count) is not int:
        raise UsageError(f"envelope retry_count must be an int, got {envelope.retry_count!r:.40}")
    _name_attr_usage("message_id", envelope.message_id)
    return body


def _enc(envelope: Envelope, body: bytes, media_type: str | None) -> Node:
    attrs = {"v": ENC_VERSION, "type": ENC_NAME[envelope.type]}
    if envelope.retry_count:
        attrs["count"] = str(envelope.retry_count)
    if media_type is not None:
        attrs["mediatype"] = media_type
    return _make("enc", attrs, (), body)


def _message_attrs(envelope: Envelope, to: str, kind: str) -> dict[str, str]:
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
        The ``<message>`` node (outgoing: ``to``), which
        :func:`~axolotl.retry.stanza.parse_message_node` reads back into the
        same envelope (``timestamp_ms`` to the second).

    Raises:
        UsageError: ``envelope`` is not an :class:`Envelope`, an extra is
            malformed, or a field does not fit the stanza: a body that is not
            1..:data:`MAX_ENC_BYTES` bytes, a message id or JID that is not
            1..:data:`MAX_ATTR_CHARS` printable characters, a recipient whose
            name has no JID (a user part that is empty or holds ``:``), a
            ``timestamp_ms`` that is not an ``int`` the parser reads back, a
            group id that is not a group JID, or a recipient that is a group
            JID (other than the group of a ``skmsg``).
    """
    # Kept lean (benchmarks/bench_stanza.py): the common envelope is checked in
    # one expression and its nodes are assembled without Node's own
    # re-validation (every value is checked here, so the nodes are valid);
    # anything the expression does not vouch for goes through the checks that
    # name what is wrong.
    if type(envelope) is not Envelope and not isinstance(envelope, Envelope):
        raise UsageError(f"expected an Envelope, got {type(envelope).__name__}")
    if kind != "text" or media_type is not None or device_identity is not None:
        _check_extras(kind, media_type, device_identity)
    recipient = envelope.recipient
    body = envelope.body
    message_id = envelope.message_id
    timestamp_ms = envelope.timestamp_ms
    if (
        type(recipient) is ProtocolAddress
        and recipient.device_id == 0
        and ":" not in (device := recipient.name)
        and device[0] != "@"
        and len(device) <= MAX_ATTR_CHARS
        and device.isprintable()
    ):
        pass  # a primary device's JID is its name
    else:
        device = _device_jid(recipient)
    if is_group_jid(device) and (
        envelope.type != MessageType.SENDER_KEY or device != envelope.group_id
    ):
        # The stanza would read back as another message (or not at all): a
        # group JID stands where only a device may (participant, pairwise to).
        raise UsageError(f"recipient {device!r} is a group JID; only a skmsg goes to its group")
    if not (
        type(body) is bytes
        and 0 < len(body) <= MAX_ENC_BYTES
        and type(timestamp_ms) is int
        and timestamp_ms <= _MAX_TIMESTAMP_MS
        and type(envelope.retry_count) is int
        and 0 < len(message_id) <= MAX_ATTR_CHARS
        and message_id.isprintable()
    ):
        body = _check_fields(envelope)
    # _enc and _message_attrs, written out: the calls were a tenth of the build.
    kind_of = envelope.type
    count = envelope.retry_count
    enc_attrs = {"v": ENC_VERSION, "type": ENC_NAME[kind_of]}
    if count:
        enc_attrs["count"] = str(count)
    if media_type is not None:
        enc_attrs["mediatype"] = media_type
    enc: Node = _new(Node)
    enc.tag = "enc"
    enc.attrs = enc_attrs
    enc.children = ()
    enc.data = body
    group_id = envelope.group_id
    if group_id is None:
        attrs = {"id": message_id, "to": device, "type": kind, "t": str(timestamp_ms // 1000)}
    else:
        _name_attr_usage("group_id", group_id)
        _check_group(group_id)
        attrs = {"id": message_id, "to": group_id, "type": kind, "t": str(timestamp_ms // 1000)}
        if device != group_id:
            attrs["participant"] = device
    if device_identity is not None and kind_of == MessageType.PREKEY:
        children: tuple[Node, ...] = (enc, _make("device-identity", {}, (), device_identity))
    else:
        children = (enc,)
    message: Node = _new(Node)
    message.tag = "message"
    message.attrs = attrs
    message.children = children
    message.data = None
    return message


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
            listed twice, a pairwise recipient that is a group JID, more
            than :data:`MAX_FANOUT` devices, or no ``to`` where none can be
            derived.
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
    checked = [(env, _check_fields(env)) for env in envs]  # with each body as bytes
    pairwise = [(env, body) for env, body in checked if env.type in PAIRWISE]
    shared = [(env, body) for env, body in checked if env.type not in PAIRWISE]
    if len({body for _, body in shared}) > 1:
        raise UsageError("the skmsg envelopes of one message must share one body")
    if len({env.retry_count for env, _ in shared}) > 1:
        raise UsageError("the skmsg envelopes of one message must share one retry count")
    if len(pairwise) > MAX_FANOUT:
        raise UsageError(f"more than {MAX_FANOUT} devices in one fan-out")
    jids = [_device_jid(env.recipient) for env, _ in pairwise]
    for jid in jids:
        if is_group_jid(jid):
            raise UsageError(f"recipient {jid!r} of a pairwise envelope is a group JID")
    if len(set(jids)) != len(jids):
        raise UsageError("a fan-out lists a device twice")
    if first.group_id is not None:
        _name_attr_usage("group_id", first.group_id)
        _check_group(first.group_id)
    if first.group_id is not None and to not in (None, first.group_id):
        raise UsageError(f"a group message goes to its group {first.group_id!r}, not {to!r}")
    if first.group_id is None and to is not None and is_group_jid(to):
        raise UsageError(f"`to` {to!r} is a group, but the envelopes have no group_id")
    if to is None:
        to = first.group_id
    if to is None:
        accounts = {env.recipient.name for env, _ in pairwise}
        if len(accounts) != 1:
            raise UsageError("a pairwise fan-out over several accounts needs `to`")
        to = accounts.pop()
    _name_attr_usage("to", to)
    children: list[Node] = []
    if shared:
        children.append(_enc(*shared[0], media_type))
    if pairwise:
        children.append(
            Node(
                "participants",
                children=[
                    Node("to", {"jid": jid}, [_enc(env, body, media_type)])
                    for jid, (env, body) in zip(jids, pairwise, strict=True)
                ],
            )
        )
    if device_identity is not None and any(e.type == MessageType.PREKEY for e, _ in pairwise):
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
