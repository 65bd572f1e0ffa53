"""Every state a message can be in, on either side, and every allowed transition.

Two tables, in the manner of h11's ``_state.py``: the receiver's view of one
(message id, sender device) and the sender's view of one (message id,
recipient device). The layer decides *which* event happened (for instance
whether a failure still fits the budget); the table decides whether that
event is legal now and where it leads. An event a table does not list raises
:class:`~axolotl.errors.IllegalTransition` naming role, state and event.
"""

from __future__ import annotations

import enum

from axolotl.errors import IllegalTransition

__all__ = [
    "RecvState",
    "RecvEvent",
    "SendState",
    "SendEvent",
    "RECEIVER",
    "SENDER",
    "next_recv_state",
    "next_send_state",
]


@enum.unique
class RecvState(enum.IntEnum):
    """The receiver's view of one message from one device."""

    NEW = 0  # nothing known yet
    FAILING = 1  # decryption failed; a retry receipt is out, a resend awaited
    GAVE_UP = 2  # budget spent, Undecryptable reported; a late resend is still taken
    DELIVERED = 3  # handed to the application (exactly once)


@enum.unique
class RecvEvent(enum.Enum):
    """What can happen to a message on the receiving side."""

    DECRYPTED = "decrypted"  # an envelope for it decrypted
    FAILED = "failed"  # an envelope for it failed, budget left: send a receipt
    BUDGET_SPENT = "budget_spent"  # a failure or timer with no receipts left
    RETRY_DUE = "retry_due"  # no resend came in time, budget left: ask again
    DUPLICATE = "duplicate"  # an envelope for an already-handled message
    KEY_ONLY = "key_only"  # an envelope for it decrypted, but held only a sender key


RECEIVER: dict[tuple[RecvState, RecvEvent], RecvState] = {
    (RecvState.NEW, RecvEvent.DECRYPTED): RecvState.DELIVERED,
    (RecvState.NEW, RecvEvent.FAILED): RecvState.FAILING,
    (RecvState.NEW, RecvEvent.BUDGET_SPENT): RecvState.GAVE_UP,
    (RecvState.NEW, RecvEvent.DUPLICATE): RecvState.NEW,
    (RecvState.NEW, RecvEvent.KEY_ONLY): RecvState.NEW,
    (RecvState.FAILING, RecvEvent.DECRYPTED): RecvState.DELIVERED,
    (RecvState.FAILING, RecvEvent.FAILED): RecvState.FAILING,
    (RecvState.FAILING, RecvEvent.RETRY_DUE): RecvState.FAILING,
    (RecvState.FAILING, RecvEvent.BUDGET_SPENT): RecvState.GAVE_UP,
    (RecvState.FAILING, RecvEvent.DUPLICATE): RecvState.FAILING,
    (RecvState.FAILING, RecvEvent.KEY_ONLY): RecvState.FAILING,
    (RecvState.GAVE_UP, RecvEvent.DECRYPTED): RecvState.DELIVERED,
    (RecvState.GAVE_UP, RecvEvent.FAILED): RecvState.GAVE_UP,
    (RecvState.GAVE_UP, RecvEvent.BUDGET_SPENT): RecvState.GAVE_UP,
    (RecvState.GAVE_UP, RecvEvent.DUPLICATE): RecvState.GAVE_UP,
    (RecvState.GAVE_UP, RecvEvent.KEY_ONLY): RecvState.GAVE_UP,
    (RecvState.DELIVERED, RecvEvent.DUPLICATE): RecvState.DELIVERED,
    (RecvState.DELIVERED, RecvEvent.FAILED): RecvState.DELIVERED,
    (RecvState.DELIVERED, RecvEvent.BUDGET_SPENT): RecvState.DELIVERED,
}


@enum.unique
class SendState(enum.IntEnum):
    """The sender's view of one message to one device."""

    NEW = 0  # logged, not yet transmitted
    IN_FLIGHT = 1  # transmitted, no server ack yet: retransmitted on a timer
    ACKED = 2  # the server has it
    DELIVERED = 3  # the device confirmed it
    FAILED = 4  # never acknowledged within the budget: SendFailed reported


@enum.unique
class SendEvent(enum.Enum):
    """What can happen to a message on the sending side."""

    TRANSMIT = "transmit"
    RETRANSMIT_DUE = "retransmit_due"
    BUDGET_SPENT = "budget_spent"
    RECONNECT = "reconnect"
    SERVER_ACK = "server_ack"
    DELIVERY_RECEIPT = "delivery_receipt"
    RETRY_RECEIPT = "retry_receipt"  # an accepted receipt: re-encrypt and resend


SENDER: dict[tuple[SendState, SendEvent], SendState] = {
    (SendState.NEW, SendEvent.TRANSMIT): SendState.IN_FLIGHT,
    (SendState.IN_FLIGHT, SendEvent.RETRANSMIT_DUE): SendState.IN_FLIGHT,
    (SendState.IN_FLIGHT, SendEvent.RECONNECT): SendState.IN_FLIGHT,
    (SendState.IN_FLIGHT, SendEvent.BUDGET_SPENT): SendState.FAILED,
    (SendState.IN_FLIGHT, SendEvent.SERVER_ACK): SendState.ACKED,
    (SendState.IN_FLIGHT, SendEvent.DELIVERY_RECEIPT): SendState.DELIVERED,
    (SendState.IN_FLIGHT, SendEvent.RETRY_RECEIPT): SendState.IN_FLIGHT,
    (SendState.ACKED, SendEvent.SERVER_ACK): SendState.ACKED,
    (SendState.ACKED, SendEvent.DELIVERY_RECEIPT): SendState.DELIVERED,
    (SendState.ACKED, SendEvent.RETRY_RECEIPT): SendState.IN_FLIGHT,
    (SendState.FAILED, SendEvent.SERVER_ACK): SendState.ACKED,
    (SendState.FAILED, SendEvent.DELIVERY_RECEIPT): SendState.DELIVERED,
    (SendState.FAILED, SendEvent.RETRY_RECEIPT): SendState.IN_FLIGHT,
    (SendState.DELIVERED, SendEvent.SERVER_ACK): SendState.DELIVERED,
    (SendState.DELIVERED, SendEvent.DELIVERY_RECEIPT): SendState.DELIVERED,
}


def next_recv_state(state: RecvState, event: RecvEvent) -> RecvState:
    """The receiver's next state.

    Raises:
        IllegalTransition: the table does not allow ``event`` in ``state``.
    """
    try:
        return RECEIVER[state, event]
    except KeyError:
        raise IllegalTransition("receiver", state.name, event.value) from None


def next_send_state(state: SendState, event: SendEvent) -> SendState:
    """The sender's next state.

    Raises:
        IllegalTransition: the table does not allow ``event`` in ``state``.
    """
    try:
        return SENDER[state, event]
    except KeyError:
        raise IllegalTransition("sender", state.name, event.value) from None
