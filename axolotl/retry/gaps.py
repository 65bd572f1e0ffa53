"""Gap detection: skipped ratchet counters that never arrive become a ``Gap`` action.

Every decrypted pairwise message tells its chain (the sender's ratchet key)
and counter. Counters jumped over are remembered with the time they were
first missed; one that arrives later is crossed off. A counter still missing
``policy.gap_grace_ms`` later is reported once as
:class:`~axolotl.retry.events.Gap` so the stack can re-fetch from its
server's offline store. A chain's record is forgotten a day after its last
activity when nothing is missing.

A transmission we could not read (a corrupted header: an unreadable one, or
one naming a chain that does not exist) leaves its real counter unseen. The
sender's resend carries, inside its authenticated payload, the positions of
the transmissions it replaces; the receiver notes them here, so a message
recovered by a resend is never reported missing.
"""

from __future__ import annotations

from axolotl.address import ProtocolAddress
from axolotl.retry._context import Collected, Context
from axolotl.retry.events import Gap
from axolotl.retry.records import GAP, GapRecord, address_key
from axolotl.session import DecryptedMessage

__all__ = ["observe", "note", "due"]

_IDLE_MS = 86_400_000
_BATCH = 256


def _key(sender: ProtocolAddress, ratchet_key: bytes) -> str:
    return f"{address_key(sender)}\x1f{ratchet_key.hex()}"


def _save(ctx: Context, key: str, record: GapRecord, now_ms: int) -> None:
    if record.missing:
        due = min(record.missing.values()) + ctx.policy.gap_grace_ms
    else:
        due = now_ms + _IDLE_MS
    ctx.store.put_record(GAP, key, record.serialize(), due)


def observe(ctx: Context, sender: ProtocolAddress, message: DecryptedMessage, now_ms: int) -> None:
    """Note the counter of a decrypted message on its chain."""
    note(ctx, sender, message.ratchet_key.raw, message.counter, now_ms)


_MAX_ARRIVED = 64


def note(
    ctx: Context,
    sender: ProtocolAddress,
    ratchet_key: bytes,
    counter: int,
    now_ms: int,
    *,
    authenticated: bool = True,
) -> None:
    """Note that ``counter`` arrived on the chain of ``ratchet_key``.

    A message that failed to decrypt is noted unauthenticated: its counter is
    not missing (a retry receipt is already asking for it), but since its
    header may be corrupted it never moves the chain forward; it is only
    remembered (a few per chain) so a later message does not count it missing.
    """
    key = _key(sender, ratchet_key)
    data = ctx.store.get_record(GAP, key)
    record = GapRecord.deserialize(data) if data is not None else GapRecord(sender)
    if counter in record.missing:
        del record.missing[counter]
    elif counter >= record.next and not authenticated:
        record.arrived.add(counter)
        if len(record.arrived) > _MAX_ARRIVED:
            record.arrived.discard(max(record.arrived))
    elif counter >= record.next:
        # Bounded like the ratchet's own skipping: it refuses jumps beyond max_skip.
        first = max(record.next, counter - ctx.config.max_skip)
        for skipped in range(first, counter):
            if skipped not in record.arrived:
                record.missing[skipped] = now_ms
        record.next = counter + 1
        record.arrived = {c for c in record.arrived if c > counter}
    _save(ctx, key, record, now_ms)


def due(ctx: Context, now_ms: int, out: Collected) -> None:
    """Report counters missing past the grace period; forget idle chains."""
    while True:
        batch = ctx.store.due_records(GAP, now_ms, _BATCH)
        for key, value, _ in batch:
            record = GapRecord.deserialize(value)
            cutoff = now_ms - ctx.policy.gap_grace_ms
            late = sorted(c for c, seen in record.missing.items() if seen <= cutoff)
            if late:
                out.add(Gap(record.sender, tuple(late)))
                for c in late:
                    del record.missing[c]
                _save(ctx, key, record, now_ms)
            elif not record.missing:
                ctx.store.delete_record(GAP, key)
            else:
                _save(ctx, key, record, now_ms)
        if len(batch) < _BATCH:
            return
