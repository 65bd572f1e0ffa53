"""The stanza layout's constants, limits and parsed form (see :mod:`axolotl.retry.stanza`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, NoReturn

from axolotl.errors import DecodeError, UsageError
from axolotl.retry.events import Envelope
from axolotl.wire import MessageType

__all__ = [
    "ENC_VERSION",
    "MAX_ATTR_CHARS",
    "MAX_ENC_BYTES",
    "MAX_FANOUT",
    "MAX_INCOMING_NODES",
    "MAX_MESSAGE_CHILDREN",
    "MessageStanza",
    "is_group_jid",
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

MAX_INCOMING_NODES: Final = 256
"""Most nodes in a stanza a peer sends (``from``): it carries no ``<participants>``,
so a few ``<enc>`` and the whatsmeow extras need a dozen. The yowsup bridge
stops converting there; only our own fan-outs reach the tree limit."""

MAX_ATTR_CHARS: Final = 256
"""Longest id, JID, ``type`` or ``mediatype`` value accepted."""

MAX_T: Final = 0xFFFFFFFFFFFFFFFF // 1000
"""Largest ``t`` (seconds) whose milliseconds still fit the 64-bit records."""

ENC_VERSION: Final = "2"
ENC_TYPE = {
    "pkmsg": MessageType.PREKEY,
    "msg": MessageType.SIGNAL,
    "skmsg": MessageType.SENDER_KEY,
}
ENC_NAME = {kind: name for name, kind in ENC_TYPE.items()}
PAIRWISE = (MessageType.PREKEY, MessageType.SIGNAL)
_GROUP_SERVERS = ("@g.us", "@broadcast")


def fail(what: str, reason: str) -> NoReturn:
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

    def __post_init__(self) -> None:
        if not isinstance(self.envelopes, tuple) or not all(
            isinstance(e, Envelope) for e in self.envelopes
        ):
            raise UsageError("MessageStanza.envelopes must be a tuple of Envelopes")
        if not isinstance(self.kind, str) or not self.kind:
            raise UsageError("MessageStanza.kind must be a non-empty string")
        if self.media_type is not None and not isinstance(self.media_type, str):
            raise UsageError("MessageStanza.media_type must be a string or None")
        if self.device_identity is not None and not isinstance(self.device_identity, bytes):
            raise UsageError("MessageStanza.device_identity must be bytes or None")
