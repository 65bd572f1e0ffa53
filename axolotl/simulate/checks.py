"""What became of every copy the simulated network carried, and what went wrong.

A *copy* is one message to one recipient device (a group message to two
devices is two copies). Each copy ends in exactly one :class:`Outcome`, taken
in this order: delivered; reported undecryptable by its recipient; reported
send-failed by its sender; gone with a reinstall of its sender (which wiped
the send log a resend needs) or of its recipient (which wiped the failure it
was still asking a resend for); else lost, which is a violation. A copy that
a reinstall touched but that was reported or delivered anyway counts as
reported or delivered: that is what the user saw.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

from axolotl.address import ProtocolAddress
from axolotl.retry.events import SendFailure

if TYPE_CHECKING:
    from axolotl.simulate.network import Network

__all__ = ["Outcome", "false_alarm_gaps", "lost", "outcomes", "over_budget", "wrong"]

Copy = tuple[str, ProtocolAddress]  # (message id, recipient device)


@enum.unique
class Outcome(enum.Enum):
    """How one copy ended."""

    DELIVERED = "delivered"
    UNDECRYPTABLE = "undecryptable"
    SEND_FAILED = "send failed"
    GONE_WITH_SENDER = "gone with a reinstalled sender"
    GONE_WITH_RECIPIENT = "gone with a reinstalled recipient"
    LOST = "lost"


def outcomes(net: Network) -> dict[Copy, Outcome]:
    """The outcome of every copy sent, in send order."""
    undecryptable = {
        (u.message_id, d.address) for d in net.devices.values() for u in d.undecryptable
    }
    # Only the outbox giving up is an outcome; an entry expiring from the send
    # log unconfirmed (SendFailure.EXPIRED, which the final drain reaches past
    # the send log's age) is reported to the application, but the copy is
    # judged by what really happened to it, so a lost one still shows as lost.
    send_failed = {
        (f.message_id, f.device)
        for d in net.devices.values()
        for f in d.send_failed
        if f.reason is SendFailure.UNACKNOWLEDGED
    }
    result: dict[Copy, Outcome] = {}
    for message_id, (src, recipients, _, _) in net.sent.items():
        for r in recipients:
            copy = (message_id, r)
            if (src, message_id) in net.devices[r].delivered:
                result[copy] = Outcome.DELIVERED
            elif copy in undecryptable:
                result[copy] = Outcome.UNDECRYPTABLE
            elif copy in send_failed:
                result[copy] = Outcome.SEND_FAILED
            elif message_id in net.lost_with_sender:
                result[copy] = Outcome.GONE_WITH_SENDER
            elif copy in net.lost_with_receiver:
                result[copy] = Outcome.GONE_WITH_RECIPIENT
            else:
                result[copy] = Outcome.LOST
    return result


def lost(net: Network, ends: dict[Copy, Outcome] | None = None) -> list[str]:
    """Copies neither delivered nor reported nor gone with a reinstall (see :func:`outcomes`)."""
    ends = outcomes(net) if ends is None else ends
    return [
        f"{message_id} from {net.sent[message_id][0]} to {r} neither delivered nor reported"
        for (message_id, r), outcome in ends.items()
        if outcome is Outcome.LOST
    ]


def wrong(net: Network) -> list[str]:
    """Deliveries whose plaintext differs from what was sent, and double deliveries."""
    problems = list(net.violations)
    for message_id, (src, recipients, text, _) in net.sent.items():
        for r in recipients:
            got = net.devices[r].delivered.get((src, message_id))
            if got is not None and got != text:
                problems.append(f"{message_id} to {r}: wrong plaintext")
    return problems


def over_budget(net: Network) -> list[str]:
    """Messages that drew more receipts or transmissions than the policy allows."""
    p = net.policy
    problems = []
    budget = max(c.max_transmissions for c in p.classes.values()) * (1 + p.max_retries)
    for d in net.devices.values():
        for message_id, n in d.receipts_by_message.items():
            if n > p.max_retries:
                problems.append(f"{d.address}: {n} receipts for {message_id}")
        for (message_id, r), n in d.transmissions_by_message.items():
            if message_id in net.sent and n > budget:
                problems.append(f"{d.address}: {n} transmissions of {message_id} to {r}")
    return problems


def false_alarm_gaps(net: Network, ends: dict[Copy, Outcome] | None = None) -> int:
    """How many ``Gap`` reports name a sender none of whose copies to that device went missing.

    A ``Gap`` asks the stack to re-fetch counters of a sender's chain from the
    server. When every copy that sender sent to that device was delivered or
    reported undecryptable (it arrived, unreadable), there was nothing to
    re-fetch: the report was a false alarm.
    """
    ends = outcomes(net) if ends is None else ends
    missing: set[tuple[ProtocolAddress, ProtocolAddress]] = set()
    for (message_id, r), outcome in ends.items():
        if outcome not in (Outcome.DELIVERED, Outcome.UNDECRYPTABLE):  # it never arrived
            missing.add((net.sent[message_id][0], r))
    return sum(
        1 for d in net.devices.values() for g in d.gaps if (g.sender, d.address) not in missing
    )
