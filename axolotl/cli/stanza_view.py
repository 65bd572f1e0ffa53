r"""What ``axolotl receipt inspect`` shows of a ``<message>`` stanza.

The stanza is read by :func:`~axolotl.retry.stanza.parse_message_node`, so a
malformed one is that parser's :class:`~axolotl.errors.DecodeError` naming
the field (``message.enc.count``), and every limit of
:mod:`axolotl.retry.stanza` holds. The parser needs this device's address:
the recipient of an incoming stanza (which names only its sender), the
sender of an outgoing one (which names only its recipients). The inspector
does not know it, so it passes :data:`LOCAL`, a placeholder that the output
shows as "this device" (``null`` in JSON). It is told apart by identity, not
by value, so no JID a peer writes can pass for it.

For each envelope the view reads what its ciphertext shows without keys,
with the parsers of :mod:`axolotl.wire` (neither MAC nor signature is
checked): the version byte; for a ``pkmsg`` the registration id, the
prekey ids, the base and identity keys and the header of the enclosed
SignalMessage; for a ``msg`` the ratchet key and counters; for a ``skmsg``
the sender key id and iteration. A ciphertext that does not parse is a note
on its envelope, not a failure of the stanza.

Peer values are escaped with :func:`~axolotl.cli._output.shown`, as for
receipts; errors are made one line with :func:`~axolotl.cli._output.one_line`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from axolotl.address import ProtocolAddress
from axolotl.cli._output import one_line, shown
from axolotl.errors import AxolotlError
from axolotl.receipts import Node
from axolotl.receipts.jid import address_to_jid
from axolotl.retry import Envelope
from axolotl.retry.stanza import MessageStanza, parse_message_node
from axolotl.wire import MessageType, PreKeySignalMessage, SenderKeyMessage, SignalMessage

__all__ = ["LOCAL", "InspectedMessage", "describe_message", "message_json", "read_message"]

LOCAL = ProtocolAddress("(this device)", 0)
"""The ``local`` given to the parser; compared by identity, shown as "this device"."""

_ENC_NAMES = {
    MessageType.PREKEY: ("pkmsg", "PreKeySignalMessage"),
    MessageType.SIGNAL: ("msg", "SignalMessage"),
    MessageType.SENDER_KEY: ("skmsg", "SenderKeyMessage"),
}

_COLUMN = 22
"""Where values start, as in the receipt view."""


@dataclass(frozen=True, slots=True, kw_only=True)
class InspectedMessage:
    """A parsed ``<message>`` stanza beside the node it was read from.

    Attributes:
        node: the ``<message>`` node (its attributes as the peer wrote them).
        stanza: what the parser read, with :data:`LOCAL` for this device.
        encs: the ``<enc>`` node of each envelope, in the envelopes' order.
    """

    node: Node
    stanza: MessageStanza
    encs: tuple[Node, ...]

    @property
    def incoming(self) -> bool:
        """Whether the stanza was delivered to us (``from``), not sent (``to``)."""
        return "from" in self.node.attrs


def read_message(node: Node) -> InspectedMessage:
    """Read a ``<message>`` node for inspection.

    Args:
        node: the node (its tag is ``message``).

    Returns:
        The stanza with its envelopes and their ``<enc>`` nodes.

    Raises:
        DecodeError: the stanza is malformed; ``what`` names the field.
    """
    stanza = parse_message_node(node, LOCAL)
    return InspectedMessage(node=node, stanza=stanza, encs=_enc_nodes(node))


def _enc_nodes(node: Node) -> tuple[Node, ...]:
    """The ``<enc>`` nodes in the parser's envelope order: pairwise, fan-out, shared skmsg.

    Only called on a stanza the parser accepted, so every shape is the one it checked:
    at most one pairwise and one skmsg ``<enc>`` beside, one ``<participants>``
    whose every ``<to>`` holds exactly one (pairwise) ``<enc>``.
    """
    direct = [kid for kid in node.children if kid.tag == "enc"]
    fanout = [
        next(enc for enc in to.children if enc.tag == "enc")
        for kid in node.children
        if kid.tag == "participants"
        for to in kid.children
        if to.tag == "to"
    ]
    pairwise = [enc for enc in direct if enc.attrs.get("type") != "skmsg"]
    shared = [enc for enc in direct if enc.attrs.get("type") == "skmsg"]
    return (*pairwise, *fanout, *shared)


# -- what the ciphertext shows without keys ---------------------------------------------


def _ciphertext_fields(kind: MessageType, body: bytes) -> dict[str, Any]:
    """The header fields of ``body`` (a wire message of type ``kind``), in display order.

    Raises:
        AxolotlError: the body does not parse as that message.
    """
    if kind == MessageType.PREKEY:
        pre = PreKeySignalMessage.parse(body)
        return {
            "registration_id": pre.registration_id,
            "pre_key_id": pre.pre_key_id,
            "signed_pre_key_id": pre.signed_pre_key_id,
            "base_key": pre.base_key.serialize().hex(),
            "identity_key": pre.identity_key.serialize().hex(),
            **_signal_fields(pre.message),
        }
    if kind == MessageType.SIGNAL:
        return _signal_fields(SignalMessage.parse(body))
    sender_key = SenderKeyMessage.parse(body)
    return {"key_id": sender_key.key_id, "iteration": sender_key.iteration}


def _signal_fields(message: SignalMessage) -> dict[str, Any]:
    return {
        "ratchet_key": message.ratchet_key.serialize().hex(),
        "counter": message.counter,
        "previous_counter": message.previous_counter,
    }


def _read_ciphertext(kind: MessageType, body: bytes) -> tuple[dict[str, Any] | None, str | None]:
    """(fields, None), or (None, why not) when the ciphertext does not parse."""
    try:
        return _ciphertext_fields(kind, body), None
    except AxolotlError as exc:
        return None, str(exc)


_FIELD_LABELS = {
    "registration_id": "registration id",
    "pre_key_id": "prekey id",
    "signed_pre_key_id": "signed prekey id",
    "base_key": "base key",
    "identity_key": "identity key",
    "ratchet_key": "ratchet key",
    "counter": "counter",
    "previous_counter": "previous counter",
    "key_id": "sender key id",
    "iteration": "iteration",
}


# -- text --------------------------------------------------------------------------------


def _line(indent: int, label: str, value: str) -> str:
    return f"{' ' * indent}{label + ':':<{_COLUMN - indent}}{value}"


def _device(address: ProtocolAddress, group: str | None) -> str:
    """A device as its JID and number; :data:`LOCAL` as this device."""
    if address is LOCAL:
        return "(this device)"
    jid = address_to_jid(address)
    if jid == group:  # the shared skmsg of a fan-out goes to every member at once
        return f"{shown(jid)} (the whole group)"
    return f"{shown(jid)} (device {address.device_id})"


def _attr(node: Node, name: str) -> str:
    value = node.attrs.get(name)
    return "(none)" if value is None else shown(value)


def describe_message(message: InspectedMessage) -> list[str]:
    """Every field of the stanza and its envelopes, one line each (peer text escaped).

    Args:
        message: what :func:`read_message` returned.

    Returns:
        The lines, without newlines.
    """
    node, stanza = message.node, message.stanza
    envelopes = stanza.envelopes
    group = envelopes[0].group_id if envelopes else None
    lines = [
        "Incoming message stanza (delivered to this device)"
        if message.incoming
        else "Outgoing message stanza (this device sends it)",
        _line(2, "message id", _attr(node, "id")),
        _line(2, "from", _attr(node, "from"))
        if message.incoming
        else _line(2, "to", _attr(node, "to")),
        _line(2, "type", _attr(node, "type")),
        _line(2, "t", _attr(node, "t")),
        _line(2, "group", "(none)" if group is None else shown(group)),
        _line(2, "participant", _attr(node, "participant")),
        _line(
            2,
            "device identity",
            "(none)"
            if stanza.device_identity is None
            else f"{stanza.device_identity.hex()} ({len(stanza.device_identity)} bytes)",
        ),
        _line(2, "envelopes", str(len(envelopes))),
    ]
    for number, (envelope, enc) in enumerate(zip(envelopes, message.encs, strict=True), 1):
        lines += _describe_envelope(envelope, enc, f"{number} of {len(envelopes)}", group)
    return lines


def _describe_envelope(envelope: Envelope, enc: Node, number: str, group: str | None) -> list[str]:
    short, long = _ENC_NAMES[envelope.type]
    body = envelope.body
    lines = [
        _line(2, f"envelope {number}", f"{short} ({long}, type {int(envelope.type)})"),
        _line(4, "sender", _device(envelope.sender, group)),
        _line(4, "recipient", _device(envelope.recipient, group)),
        _line(4, "retry count", str(envelope.retry_count)),
        _line(4, "media type", _attr(enc, "mediatype")),
        _line(4, "body", f"{len(body)} bytes"),
        _line(4, "version byte", _version(body[0])),
    ]
    fields, error = _read_ciphertext(envelope.type, body)
    if fields is None:
        lines.append(_line(4, "ciphertext", f"does not parse as a {long}: {one_line(error or '')}"))
        return lines
    for name, value in fields.items():
        lines.append(_line(4, _FIELD_LABELS[name], "(none)" if value is None else str(value)))
    return lines


def _version(byte: int) -> str:
    # High nibble: the message's version; low nibble: the highest the sender speaks.
    return f"0x{byte:02x} (message version {byte >> 4}, sender speaks up to {byte & 0x0F})"


# -- JSON --------------------------------------------------------------------------------


def _device_json(address: ProtocolAddress, group: str | None) -> tuple[str | None, int | None]:
    if address is LOCAL:
        return None, None
    jid = address_to_jid(address)
    return jid, None if jid == group else address.device_id


def message_json(message: InspectedMessage) -> dict[str, Any]:
    """The stanza as JSON-ready values (bytes as hex; ``null`` where a field is absent).

    ``sender``/``recipient`` of an envelope are device JIDs, ``null`` for
    this device; ``recipient_device`` is ``null`` for the whole group.

    Args:
        message: what :func:`read_message` returned.

    Returns:
        The JSON object (``stanza`` is ``"message"``).
    """
    node, stanza = message.node, message.stanza
    attrs = node.attrs
    group = stanza.envelopes[0].group_id if stanza.envelopes else None
    t = attrs.get("t")
    return {
        "stanza": "message",
        "direction": "incoming" if message.incoming else "outgoing",
        "message_id": attrs.get("id"),
        "from": attrs.get("from"),
        "to": None if message.incoming else attrs.get("to"),
        "type": stanza.kind,
        "t": None if t is None else int(t),
        "group": group,
        "participant": attrs.get("participant"),
        "media_type": stanza.media_type,
        "device_identity": None if stanza.device_identity is None else stanza.device_identity.hex(),
        "envelopes": [
            _envelope_json(envelope, enc, group)
            for envelope, enc in zip(stanza.envelopes, message.encs, strict=True)
        ],
    }


def _envelope_json(envelope: Envelope, enc: Node, group: str | None) -> dict[str, Any]:
    sender, sender_device = _device_json(envelope.sender, group)
    recipient, recipient_device = _device_json(envelope.recipient, group)
    fields, error = _read_ciphertext(envelope.type, envelope.body)
    return {
        "enc_type": _ENC_NAMES[envelope.type][0],
        "message_type": int(envelope.type),
        "sender": sender,
        "sender_device": sender_device,
        "recipient": recipient,
        "recipient_device": recipient_device,
        "retry_count": envelope.retry_count,
        "media_type": enc.attrs.get("mediatype"),
        "body_length": len(envelope.body),
        "version_byte": envelope.body[0],
        "ciphertext": fields,
        "ciphertext_error": error,
    }
