"""What the retry layer does with any event: two tables and the judgements that feed them.

In the manner of h11's ``_state.py``. The receiver's view of one (message id,
sender device) and the sender's view of one (message id, recipient device)
are state machines; each table maps ``(state, event)`` to the next state and
the :class:`Effect` the layer carries out (``sender.py``, ``receiver.py``,
``outbox.py`` do what the effect says and nothing else). Which event
happened is decided here too, by pure judgements over a record and the
policy: :func:`judge_failure` (a failed decrypt: news, a copy seen before,
or the budget spent), :func:`judge_transmission` (an outbox timer: again or
give up) and :func:`judge_receipt` (a retry receipt: answered, or which
ignore rule holds). An event a table does not list raises
:class:`~axolotl.errors.IllegalTransition` naming role, state and event.

Where each state is stored:

* receiver: ``NEW`` is no record; ``FAILING`` a ``records.RECV`` record;
  ``GAVE_UP`` a ``records.GAVEUP`` mark (older stores: a ``RECV`` record in
  that state); ``DELIVERED`` the delivered-id marker ``records.DELIVERED``
  or a pending inbox entry.
* sender: a :class:`~axolotl.retry.records.DeviceState` in the message's
  send-log entry; an ``IN_FLIGHT`` envelope is also in ``records.OUTBOX``.

The receipt ignore rules (:class:`ReceiptVerdict`) and the failure
judgement together are every reason the layer ignores something; the
stale-request guards that decide a session *rebuild* on an accepted receipt
are in ``sender._repair`` (registration id, base key, ratchet key).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

from axolotl.errors import IllegalTransition

if TYPE_CHECKING:  # type hints only: records imports the states from here
    from axolotl.retry.policy import PriorityClass, RetryPolicy
    from axolotl.retry.records import DeviceState, ReceiveRecord

__all__ = [
    "Effect",
    "RecvState",
    "RecvEvent",
    "SendState",
    "SendEvent",
    "Transition",
    "RECEIVER",
    "SENDER",
    "ReceiptVerdict",
    "Verdict",
    "recv_transition",
    "send_transition",
    "judge_failure",
    "judge_transmission",
    "judge_receipt",
]


class Effect(enum.Enum):
    """What the layer does on a transition."""

    # receiver
    DELIVER = "hand the plaintext out once (inbox, Deliver), forget the failure, ack"
    ACK = "ack again: the message was delivered before"
    ASK = "send a retry receipt (the next count), wait for the resend"
    GIVE_UP = "report Undecryptable, keep a given-up mark"
    HOLD = "nothing new: a failure already asked for, or a sender key alone"
    # sender
    TRANSMIT = "transmit, keep the envelope until the server acks"
    RETRANSMIT = "transmit the kept envelope again"
    FAIL = "drop the envelope, report SendFailed(UNACKNOWLEDGED)"
    STOP = "drop the kept envelope: the server (or the device) has it"
    RESEND = "re-encrypt on the session as it is now (rebuilt if broken), transmit"
    REPORT_EXPIRED = "report SendFailed(EXPIRED or EVICTED): no resend can repair it now"
    IGNORE = "log and ignore"


_S_co = TypeVar("_S_co", bound=enum.IntEnum, covariant=True)


@dataclass(frozen=True, slots=True)
class Transition(Generic[_S_co]):
    """A table's answer: the next state and what to do."""

    state: _S_co
    effect: Effect


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
    FAILED = "failed"  # an envelope for it failed, and that is news
    BUDGET_SPENT = "budget_spent"  # a failure or timer with no receipts left
    RETRY_DUE = "retry_due"  # no resend came in time, budget left: ask again
    DUPLICATE = "duplicate"  # a copy of what was handled: delivered, or failed the same way
    KEY_ONLY = "key_only"  # an envelope for it decrypted, but held only a sender key


_R, _RE = RecvState, RecvEvent

RECEIVER: dict[tuple[RecvState, RecvEvent], Transition[RecvState]] = {
    (_R.NEW, _RE.DECRYPTED): Transition(_R.DELIVERED, Effect.DELIVER),
    (_R.NEW, _RE.FAILED): Transition(_R.FAILING, Effect.ASK),
    (_R.NEW, _RE.KEY_ONLY): Transition(_R.NEW, Effect.HOLD),
    (_R.FAILING, _RE.DECRYPTED): Transition(_R.DELIVERED, Effect.DELIVER),
    (_R.FAILING, _RE.FAILED): Transition(_R.FAILING, Effect.ASK),
    (_R.FAILING, _RE.RETRY_DUE): Transition(_R.FAILING, Effect.ASK),
    (_R.FAILING, _RE.BUDGET_SPENT): Transition(_R.GAVE_UP, Effect.GIVE_UP),
    (_R.FAILING, _RE.DUPLICATE): Transition(_R.FAILING, Effect.HOLD),
    (_R.FAILING, _RE.KEY_ONLY): Transition(_R.FAILING, Effect.HOLD),
    # A late resend is still taken; failing copies are no news.
    (_R.GAVE_UP, _RE.DECRYPTED): Transition(_R.DELIVERED, Effect.DELIVER),
    (_R.GAVE_UP, _RE.DUPLICATE): Transition(_R.GAVE_UP, Effect.HOLD),
    (_R.GAVE_UP, _RE.KEY_ONLY): Transition(_R.GAVE_UP, Effect.HOLD),
    # Exactly once: a delivered message is never decrypted again, only acked.
    (_R.DELIVERED, _RE.DUPLICATE): Transition(_R.DELIVERED, Effect.ACK),
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
    RETRANSMIT_DUE = "retransmit_due"  # an outbox timer, budget left
    BUDGET_SPENT = "budget_spent"  # an outbox timer, no transmissions left
    RECONNECT = "reconnect"
    SERVER_ACK = "server_ack"
    DELIVERY_RECEIPT = "delivery_receipt"
    RETRY_RECEIPT = "retry_receipt"  # an accepted receipt (see judge_receipt)
    LOG_EXPIRED = "log_expired"  # the send log lets the message go (age or count bound)


_S, _SE = SendState, SendEvent

SENDER: dict[tuple[SendState, SendEvent], Transition[SendState]] = {
    (_S.NEW, _SE.TRANSMIT): Transition(_S.IN_FLIGHT, Effect.TRANSMIT),
    (_S.IN_FLIGHT, _SE.RETRANSMIT_DUE): Transition(_S.IN_FLIGHT, Effect.RETRANSMIT),
    (_S.IN_FLIGHT, _SE.RECONNECT): Transition(_S.IN_FLIGHT, Effect.RETRANSMIT),
    (_S.IN_FLIGHT, _SE.BUDGET_SPENT): Transition(_S.FAILED, Effect.FAIL),
    (_S.IN_FLIGHT, _SE.SERVER_ACK): Transition(_S.ACKED, Effect.STOP),
    (_S.IN_FLIGHT, _SE.DELIVERY_RECEIPT): Transition(_S.DELIVERED, Effect.STOP),
    (_S.IN_FLIGHT, _SE.RETRY_RECEIPT): Transition(_S.IN_FLIGHT, Effect.RESEND),
    (_S.IN_FLIGHT, _SE.LOG_EXPIRED): Transition(_S.IN_FLIGHT, Effect.REPORT_EXPIRED),
    (_S.ACKED, _SE.SERVER_ACK): Transition(_S.ACKED, Effect.STOP),
    (_S.ACKED, _SE.DELIVERY_RECEIPT): Transition(_S.DELIVERED, Effect.STOP),
    (_S.ACKED, _SE.RETRY_RECEIPT): Transition(_S.IN_FLIGHT, Effect.RESEND),
    (_S.ACKED, _SE.LOG_EXPIRED): Transition(_S.ACKED, Effect.REPORT_EXPIRED),
    # A late ack or receipt after the outbox gave up still counts; the plaintext
    # stays in the send log for a receipt; SendFailed was reported already.
    (_S.FAILED, _SE.SERVER_ACK): Transition(_S.ACKED, Effect.STOP),
    (_S.FAILED, _SE.DELIVERY_RECEIPT): Transition(_S.DELIVERED, Effect.STOP),
    (_S.FAILED, _SE.RETRY_RECEIPT): Transition(_S.IN_FLIGHT, Effect.RESEND),
    (_S.FAILED, _SE.LOG_EXPIRED): Transition(_S.FAILED, Effect.IGNORE),
    (_S.DELIVERED, _SE.SERVER_ACK): Transition(_S.DELIVERED, Effect.STOP),
    (_S.DELIVERED, _SE.DELIVERY_RECEIPT): Transition(_S.DELIVERED, Effect.STOP),
    (_S.DELIVERED, _SE.RETRY_RECEIPT): Transition(_S.DELIVERED, Effect.IGNORE),
    (_S.DELIVERED, _SE.LOG_EXPIRED): Transition(_S.DELIVERED, Effect.IGNORE),
}


def recv_transition(state: RecvState, event: RecvEvent) -> Transition[RecvState]:
    """The receiver's next state and effect.

    Raises:
        IllegalTransition: the table does not allow ``event`` in ``state``.
    """
    try:
        return RECEIVER[state, event]
    except KeyError:
        raise IllegalTransition("receiver", state.name, event.value) from None


def send_transition(state: SendState, event: SendEvent) -> Transition[SendState]:
    """The sender's next state and effect.

    Raises:
        IllegalTransition: the table does not allow ``event`` in ``state``.
    """
    try:
        return SENDER[state, event]
    except KeyError:
        raise IllegalTransition("sender", state.name, event.value) from None


# -- judgements: which event happened ----------------------------------------------


def judge_failure(
    state: RecvState,
    record: ReceiveRecord,
    digest: bytes,
    retry_count: int,
    policy: RetryPolicy,
) -> RecvEvent:
    """What a failed decrypt of a message in ``state`` is.

    A copy of a given-up message, and a transmission that failed before (a
    server redelivery, a stale copy: the same bytes), are ``DUPLICATE``: the
    receipt for it is out already. The bytes decide, not the count the
    envelope claims (yowsup 3.3.0 writes none on its resends); a record
    stored before digests were kept falls back to the count. Anything else is
    ``FAILED``, or ``BUDGET_SPENT`` when every receipt has been sent.
    """
    if state is RecvState.GAVE_UP:
        return RecvEvent.DUPLICATE
    if state is RecvState.FAILING and (
        digest in record.failed or (not record.failed and retry_count < record.count)
    ):
        return RecvEvent.DUPLICATE
    return RecvEvent.BUDGET_SPENT if record.count >= policy.max_retries else RecvEvent.FAILED


def judge_retry_due(record: ReceiveRecord, policy: RetryPolicy) -> RecvEvent:
    """A receipt timer ran out without a resend: ask again, or the budget is spent."""
    return RecvEvent.BUDGET_SPENT if record.count >= policy.max_retries else RecvEvent.RETRY_DUE


def judge_transmission(transmissions: int, budget: PriorityClass) -> SendEvent:
    """An outbox timer for an envelope sent ``transmissions`` times: again, or give up."""
    if transmissions >= budget.max_transmissions:
        return SendEvent.BUDGET_SPENT
    return SendEvent.RETRANSMIT_DUE


class ReceiptVerdict(enum.Enum):
    """A retry receipt is answered (``ACCEPT``), or ignored for one of these reasons."""

    ACCEPT = "accepted"
    UNKNOWN_MESSAGE = "for an unknown or expired message"
    NOT_A_RECIPIENT = "from a device that was not a recipient"
    ANSWERED = "for a count already answered"
    OVER_BUDGET = "over the resend budget"


@dataclass(frozen=True, slots=True)
class Verdict:
    """:func:`judge_receipt`'s answer.

    Attributes:
        verdict: accepted, or why not.
        reset_budget: the receipt comes from a newly accepted incarnation of
            the device (a reinstall): this message's budget starts again for it.
        accept_incarnation: record the receipt's registration id as the
            device's accepted one.
    """

    verdict: ReceiptVerdict
    reset_budget: bool = False
    accept_incarnation: bool = False


def judge_receipt(
    ds: DeviceState | None,
    known: bool,
    count: int,
    changed: bool,
    accepted: bool,
    policy: RetryPolicy,
) -> Verdict:
    """Whether a retry receipt is answered, from the records alone.

    Args:
        ds: the device's state in the message's send-log entry (None: the
            device was not a recipient).
        known: the message is in the send log.
        count: the receipt's count.
        changed: the receipt's registration id differs from the one known
            for the device.
        accepted: :mod:`axolotl.retry.incarnation` accepts that change (at
            most once per rebuild window; True when nothing changed).
        policy: the budget (``max_retries``).

    A changed registration id that is accepted moves the budget to the new
    incarnation (once: ``reset_budget``); a refused one is judged on the
    budget as it is. Whether a delivered device's receipt is ignored is the
    table's to say (``DELIVERED``, ``RETRY_RECEIPT``).
    """
    if not known:
        return Verdict(ReceiptVerdict.UNKNOWN_MESSAGE)
    if ds is None:
        return Verdict(ReceiptVerdict.NOT_A_RECIPIENT)
    reset = changed and accepted and bool(ds.registration_id)
    last_count = 0 if reset else ds.last_count
    answered = 0 if reset else ds.receipts_answered
    if count <= last_count:
        return Verdict(ReceiptVerdict.ANSWERED, reset)
    if answered >= policy.max_retries or count > policy.max_retries:
        return Verdict(ReceiptVerdict.OVER_BUDGET, reset)
    return Verdict(ReceiptVerdict.ACCEPT, reset, changed and accepted)
