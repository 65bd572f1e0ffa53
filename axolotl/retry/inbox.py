"""The inbox: every decrypted message is kept until the application confirms it.

A delivery is stored in the same transaction as the decrypt that produced it
(``records.INBOX``, the plaintext with its sender, id and group), so a process
that dies after the layer committed and before the application wrote the
message down loses nothing: ``RetryLayer.inbox()`` hands the unconfirmed
deliveries out again, in delivery order, and ``RetryLayer.confirm`` (once the
application's own write is durable; idempotent) drops one. The delivered-id
record of exactly-once delivery stays as it was, and a pending inbox entry
counts as delivered too, even once its id has been evicted from that record.

Delivery order is a sequence number (:mod:`axolotl.retry.sequence`), not the
clock: it orders the inbox and decides which delivered ids are evicted first,
so a clock that steps back cannot make the newest delivery the first forgotten.
"""

from __future__ import annotations

from axolotl._pb import retry_state_pb2 as pb
from axolotl.address import ProtocolAddress
from axolotl.errors import StorageError, UsageError
from axolotl.retry import sequence
from axolotl.retry._context import Context
from axolotl.retry.events import Deliver
from axolotl.retry.records import (
    DELIVERED,
    INBOX,
    VERSION,
    address_from_pb,
    address_to_pb,
    message_key,
    parse_stored,
)

__all__ = ["confirm", "holds", "keep", "next_sequence", "pending"]


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


def holds(ctx: Context, key: str) -> bool:
    """Whether the message under ``key`` (``message_key``) waits in the inbox."""
    return ctx.store.get_record(INBOX, key) is not None


def _deliver(data: bytes) -> Deliver:
    entry = pb.InboxEntry()
    parse_stored(entry, data, "inbox entry")
    try:
        sender = address_from_pb(entry.sender)
    except UsageError as exc:
        raise StorageError(f"stored inbox entry is invalid: {exc}") from None
    group_id = entry.group_id if entry.HasField("group_id") else None
    return Deliver(entry.message_id, sender, entry.plaintext, group_id)


def pending(ctx: Context, limit: int | None = None) -> list[Deliver]:
    """The unconfirmed deliveries, oldest first (at most ``limit``)."""
    return [_deliver(value) for _, value, _ in ctx.store.records(INBOX, limit)]


def confirm(ctx: Context, sender: ProtocolAddress, message_id: str) -> None:
    """Drop the delivery of ``message_id`` from ``sender`` (nothing if it is not there)."""
    ctx.store.delete_record(INBOX, message_key(sender, message_id))
