"""What goes into the retry layer and what comes out of it.

The layer is sans-IO (README.md, "The retry layer: wiring it into a stack"):
the stack hands it envelopes, receipts, acks and the time, and carries out the
frozen action objects it returns -- put an envelope on the wire, send a
receipt, show a message, set a timer. Nothing here touches a socket or a clock.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from axolotl._slots import draft_class, set_class, slot_setters
from axolotl.address import ProtocolAddress
from axolotl.errors import UsageError
from axolotl.receipts import OutgoingRetryReceipt, RetryReason
from axolotl.retry.policy import Priority
from axolotl.wire import MessageType

__all__ = [
    "Action",
    "Ack",
    "Deliver",
    "DeliveryReceipt",
    "Envelope",
    "Gap",
    "SendFailed",
    "SendReceipt",
    "Transmit",
    "Undecryptable",
    "WakeAt",
]

_ENVELOPE_TYPES = (
    MessageType.SIGNAL,
    MessageType.PREKEY,
    MessageType.SENDER_KEY,
)
_SENDER_KEY = MessageType.SENDER_KEY  # (an enum member read off its class costs a lookup each time)


@dataclass(frozen=True, slots=True, kw_only=True)
class Envelope:
    """One encrypted message for one device, as it travels.

    Attributes:
        message_id: the id of the message; the same on every transmission and
            resend, so the receiver de-duplicates.
        sender: the sending device.
        recipient: the receiving device.
        type: 2 (SignalMessage), 3 (PreKeySignalMessage) or 4 (SenderKeyMessage).
        body: the wire message.
        timestamp_ms: when the message was first sent (the ``t`` a retry
            receipt echoes, in seconds).
        retry_count: 0 on the first send, else the receipt count it answers.
        group_id: the group, for group messages (and their pairwise resends).
        priority: the message's class.
    """

    message_id: str
    sender: ProtocolAddress
    recipient: ProtocolAddress
    type: MessageType
    body: bytes
    timestamp_ms: int
    retry_count: int = 0
    group_id: str | None = None
    priority: Priority = Priority.DEFAULT

    # Written out instead of the generated __init__: that one stores each
    # field through object.__setattr__ (a lookup through the class and a call
    # per field), most of the cost of building an envelope. Here the instance
    # is filled as a draft of the same layout with plain stores and made an
    # Envelope again (axolotl/_slots.py). A dataclass subclass gets a
    # generated __init__ of its own, which runs __post_init__: the same checks.
    def __init__(
        self,
        *,
        message_id: str,
        sender: ProtocolAddress,
        recipient: ProtocolAddress,
        type: MessageType,
        body: bytes,
        timestamp_ms: int,
        retry_count: int = 0,
        group_id: str | None = None,
        priority: Priority = Priority.DEFAULT,
    ) -> None:
        _check_envelope(message_id, type, retry_count, timestamp_ms, group_id)
        if builtins.type(self) is not Envelope:  # a subclass's layout is its own: no draft fits
            _set_message_id(self, message_id)
            _set_sender(self, sender)
            _set_recipient(self, recipient)
            _set_type(self, type)
            _set_body(self, body)
            _set_timestamp_ms(self, timestamp_ms)
            _set_retry_count(self, retry_count)
            _set_group_id(self, group_id)
            _set_priority(self, priority)
            return
        set_class(self, _EnvelopeDraft)
        draft: Any = self
        draft.message_id = message_id
        draft.sender = sender
        draft.recipient = recipient
        draft.type = type
        draft.body = body
        draft.timestamp_ms = timestamp_ms
        draft.retry_count = retry_count
        draft.group_id = group_id
        draft.priority = priority
        draft.__class__ = Envelope

    def __post_init__(self) -> None:
        _check_envelope(
            self.message_id, self.type, self.retry_count, self.timestamp_ms, self.group_id
        )


def _check_envelope(
    message_id: object, kind: object, retry_count: int, timestamp_ms: int, group_id: object
) -> None:
    if not isinstance(message_id, str) or not message_id:
        raise UsageError("envelope message_id must be a non-empty string")
    if kind not in _ENVELOPE_TYPES:
        raise UsageError(f"envelope type {kind!r} is not 2, 3 or 4")
    if kind == _SENDER_KEY and not group_id:
        raise UsageError("a sender-key envelope needs its group_id")
    if not 0 <= retry_count <= 255:
        raise UsageError(f"retry_count {retry_count} out of range 0..255")
    if timestamp_ms < 0:
        raise UsageError("timestamp_ms must be >= 0")


(
    _set_message_id,
    _set_sender,
    _set_recipient,
    _set_type,
    _set_body,
    _set_timestamp_ms,
    _set_retry_count,
    _set_group_id,
    _set_priority,
) = slot_setters(
    Envelope,
    "message_id",
    "sender",
    "recipient",
    "type",
    "body",
    "timestamp_ms",
    "retry_count",
    "group_id",
    "priority",
)
_EnvelopeDraft = draft_class(Envelope)


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryReceipt:
    """A device confirms it got a message: the send log may forget it for that device."""

    message_id: str
    device: ProtocolAddress


@dataclass(frozen=True, slots=True)
class Transmit:
    """Put ``envelope`` on the wire; report the server's ack with ``server_ack``."""

    envelope: Envelope


@dataclass(frozen=True, slots=True)
class SendReceipt:
    """Send this retry receipt to ``device`` (the sender of a message we could not decrypt)."""

    receipt: OutgoingRetryReceipt
    device: ProtocolAddress


@dataclass(frozen=True, slots=True)
class Deliver:
    """Show the application this message. Emitted exactly once per (sender, message id)."""

    message_id: str
    sender: ProtocolAddress
    plaintext: bytes
    group_id: str | None = None


@dataclass(frozen=True, slots=True)
class Ack:
    """Acknowledge ``message_id`` from ``sender`` to the server (and the sender).

    Attributes:
        group_id: the group the message came in, as the envelope said (a
            WhatsApp-style delivery receipt goes ``to`` the group with
            ``participant`` = the sender), or ``None`` for a pairwise chat.
    """

    message_id: str
    sender: ProtocolAddress
    group_id: str | None = None


@dataclass(frozen=True, slots=True)
class Undecryptable:
    """The message could not be recovered within the policy: show "waiting for this message"."""

    message_id: str
    sender: ProtocolAddress
    reason: RetryReason
    count: int


class SendFailure(IntEnum):
    """Why a :class:`SendFailed` was reported."""

    UNACKNOWLEDGED = 1
    """The server never acknowledged the envelope within its priority's budget."""
    EXPIRED = 2
    """The device never confirmed the message and its send-log entry reached
    ``RetryPolicy.send_log_max_age_ms``: no resend can repair it any more."""
    EVICTED = 3
    """The device never confirmed the message and the send log made room for
    ``RetryPolicy.send_log_max_entries`` newer ones: no resend can repair it
    any more."""


@dataclass(frozen=True, slots=True)
class SendFailed:
    """The message did not get across to ``device``, for ``reason``: show it as not delivered."""

    message_id: str
    device: ProtocolAddress
    reason: SendFailure = SendFailure.UNACKNOWLEDGED


@dataclass(frozen=True, slots=True)
class FetchBundle:
    """Fetch ``device``'s published prekey bundle and hand it to ``RetryLayer.bundle_fetched``.

    A retry receipt said the session with ``device`` is broken (no session,
    a reinstall, the same base key failing again) but carried no keys, as
    yowsup 3.3.0's never do. Its resend waits for the bundle (at most
    ``RetryPolicy.bundle_wait_ms``; then, or on ``bundle_fetched(device,
    None, ...)``, it goes out on the old session).
    """

    device: ProtocolAddress


@dataclass(frozen=True, slots=True)
class Gap:
    """Messages from ``sender`` were skipped and never arrived: re-fetch them from the server.

    Attributes:
        missing: the missing counters of the sender's chain.
    """

    sender: ProtocolAddress
    missing: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class WakeAt:
    """Call ``tick`` no later than ``ms``: the earliest timer the layer holds."""

    ms: int


Action = (
    Transmit | SendReceipt | Deliver | Ack | Undecryptable | SendFailed | FetchBundle | Gap | WakeAt
)
