"""The inbox: every decrypted message and every report is kept until the application confirms it.

A delivery is stored in the same transaction as the decrypt that produced it
(``records.INBOX``, the plaintext with its sender, id and group), so a process
that dies after the layer committed and before the application wrote the
message down loses nothing: ``RetryLayer.inbox()`` hands the unconfirmed
deliveries out again, in delivery order, and ``RetryLayer.confirm`` (once the
application's own write is durable; idempotent) drops one. The delivered-id
record of exactly-once delivery stays as it was, and a pending inbox entry
counts as delivered too, even once its id has been evicted from that record.

The reports that tell the application a message is lost to it --
:class:`~axolotl.retry.events.Undecryptable` ("waiting for this message")
and :class:`~axolotl.retry.events.SendFailed` -- are kept the same way
(``records.REPORT``), in the transaction of the call that returned them, so a
crash between that commit and the application's own write cannot swallow one
either. ``RetryLayer.inbox()`` hands out deliveries and reports together, in
the order they happened.

Delivery order is a sequence number (:mod:`axolotl.retry.sequence`), not the
clock: it orders the inbox and decides which delivered ids are evicted first,
so a clock that steps back cannot make the newest delivery the first forgotten.
"""

from __future__ import annotations

import heapq

from axolotl._pb import retry_state_pb2 as pb
from axolotl.errors import StorageError, UsageError
from axolotl.receipts import RetryReason
from axolotl.retry import sequence
from axolotl.retry._context import Context
from axolotl.retry.events import Deliver, SendFailed, SendFailure, Undecryptable
from axolotl.retry.records import (
    DELIVERED,
    INBOX,
    REPORT,
    VERSION,
    address_from_pb,
    address_to_pb,
    message_key,
    parse_stored,
)

__all__ = ["Pending", "confirm", "keep", "keep_report", "next_sequence", "pending"]

Pending = Deliver | Undecryptable | SendFailed
"""What the inbox holds until the application confirms it."""

_REPORT_KIND = {
    Undecryptable: pb.PendingReport.UNDECRYPTABLE,
    SendFailed: pb.PendingReport.SEND_FAILED,
}


def next_sequence(ctx: Context) -> int:
    """The next delivery sequence number (stored, so it survives restarts)."""
    return sequence.next_value(ctx, "delivery", DELIVERED)


def keep(ctx: Context, deliver: Deliver, sequence: int) -> None:
    """Keep ``deliver`` until it is confirmed."""
    entry = pb.InboxEntry(
        message_id=deliver.message_id, plaintext=deliver.plaintext, version=VERSION
    )
    address_to_pb(entry.sender, deliver.sender)
    if deliver.group_id is not None:
        entry.group_id = deliver.group_id
    ctx.store.put_record(
        INBOX, message_key(deliver.sender, deliver.message_id), entry.SerializeToString(), sequence
    )


def _report_key(report: Undecryptable | SendFailed) -> str:
    # A SendFailed of each reason is its own report (the outbox may give up on
    # a message whose send log later expires for the same device).
    if isinstance(report, Undecryptable):
        return "u" + message_key(report.sender, report.message_id)
    return f"f{int(report.reason)}" + message_key(report.device, report.message_id)


def keep_report(ctx: Context, report: Undecryptable | SendFailed, sequence: int) -> None:
    """Keep ``report`` until it is confirmed."""
    entry = pb.PendingReport(
        kind=_REPORT_KIND[type(report)], message_id=report.message_id, version=VERSION
    )
    if isinstance(report, Undecryptable):
        address_to_pb(entry.address, report.sender)
        entry.reason, entry.count = int(report.reason), report.count
    else:
        address_to_pb(entry.address, report.device)
        entry.reason = int(report.reason)
    ctx.store.put_record(REPORT, _report_key(report), entry.SerializeToString(), sequence)


def _invalid(what: str, exc: Exception) -> StorageError:
    return StorageError(f"stored {what} is invalid: {exc}")


def _deliver(data: bytes) -> Deliver:
    entry = pb.InboxEntry()
    parse_stored(entry, data, "inbox entry")
    try:
        sender = address_from_pb(entry.sender)
    except UsageError as exc:
        raise _invalid("inbox entry", exc) from None
    group_id = entry.group_id if entry.HasField("group_id") else None
    return Deliver(entry.message_id, sender, entry.plaintext, group_id)


def _report(data: bytes) -> Undecryptable | SendFailed:
    entry = pb.PendingReport()
    parse_stored(entry, data, "pending report")
    try:
        address = address_from_pb(entry.address)
        if entry.kind == pb.PendingReport.UNDECRYPTABLE:
            return Undecryptable(entry.message_id, address, RetryReason(entry.reason), entry.count)
        if entry.kind == pb.PendingReport.SEND_FAILED:
            return SendFailed(entry.message_id, address, SendFailure(entry.reason))
    except (UsageError, ValueError) as exc:
        raise _invalid("pending report", exc) from None
    raise StorageError(f"stored pending report has an unknown kind {entry.kind}")


def pending(ctx: Context, limit: int | None = None) -> list[Pending]:
    """The unconfirmed deliveries and reports, oldest first (at most ``limit``)."""
    store = ctx.store
    both = heapq.merge(
        ((due or 0, 0, value) for _, value, due in store.records(INBOX, limit)),
        ((due or 0, 1, value) for _, value, due in store.records(REPORT, limit)),
    )
    out: list[Pending] = []
    for _, kind, value in both:
        if limit is not None and len(out) >= limit:
            break
        out.append(_deliver(value) if kind == 0 else _report(value))
    return out


def confirm(ctx: Context, item: Pending) -> None:
    """Drop ``item`` from the inbox (nothing if it is not there)."""
    if isinstance(item, Deliver):
        ctx.store.delete_record(INBOX, message_key(item.sender, item.message_id))
    else:
        ctx.store.delete_record(REPORT, _report_key(item))
