"""Gap detection: skipped ratchet counters that never arrive become a ``Gap`` action.

Every decrypted pairwise message tells its chain (the sender's ratchet key)
and counter. Counters jumped over are remembered with the time they were
first missed; one that arrives later is crossed off. A counter still missing
``policy.gap_grace_ms`` later is reported once as
:class:`~axolotl.retry.events.Gap` so the stack can re-fetch from its
server's offline store. A chain's record is forgotten a day after its last
activity when nothing is missing, and the idlest are forgotten first when
more than ``policy.gap_chains_kept`` chains are tracked; a chain tracks at most
``config.max_skip`` missing counters (the ratchet keeps no more skipped keys),
the oldest of any more reported at the next tick.

A transmission we could not read (a corrupted header: an unreadable one, or
one naming a chain that does not exist) leaves its real counter unseen.
Under the native framing the sender's resend carries, inside its
authenticated payload, the positions of the transmissions it replaces; the
receiver notes them here, so a message recovered by a resend is never
reported missing.

The WhatsApp framing carries nothing of the kind, so the receiver uses what
it knows of its own failures instead: a failed transmission whose place is
unknown (an unreadable header, or one naming a chain never seen
authenticated) is kept as *unplaced* (:func:`unplaced`), a few per device
for a day. When counters of that device go missing past the grace period,
each unplaced failure accounts for one of them -- the one its header named
if that counter is missing, else any -- and only the rest are reported. An
unplaced failure whose chain later proves real, or whose very transmission
arrives intact after all (:func:`recovered`), accounts for nothing. What
this cannot see is a corrupted counter on a known chain: that message's real
counter is reported missing although a resend recovered it (measured in
``tests/test_framing_gaps.py``).
"""

from __future__ import annotations

from axolotl.address import ProtocolAddress
from axolotl.retry._context import Collected, Context
from axolotl.retry.events import Gap
from axolotl.retry.records import GAP, UNPLACED, GapRecord, Unplaced, UnplacedFailures, address_key
from axolotl.session import DecryptedMessage

__all__ = ["observe", "note", "due", "unplaced", "recovered"]

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
) -> bool:
    """Note that ``counter`` arrived on the chain of ``ratchet_key``.

    A message that failed to decrypt is noted unauthenticated: its counter is
    not missing (a retry receipt is already asking for it), but since its
    header may be corrupted it never moves the chain forward; it is only
    remembered (a few per chain) so a later message does not count it missing.

    Returns:
        Whether an authenticated message had been seen on that chain before.
    """
    key = _key(sender, ratchet_key)
    data = ctx.store.get_record(GAP, key)
    record = GapRecord.deserialize(data) if data is not None else GapRecord(sender)
    if data is None:
        _make_room(ctx, now_ms)
    known = record.next > 0
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
        excess = len(record.missing) - ctx.config.max_skip
        if excess > 0:
            # More missing than the ratchet keeps skipped keys for: the oldest
            # are reported at the next tick instead of after the grace period.
            for old in sorted(record.missing)[:excess]:
                record.missing[old] = 0
        record.next = counter + 1
        record.arrived = {c for c in record.arrived if c > counter}
    _save(ctx, key, record, now_ms)
    return known


def _make_room(ctx: Context, now_ms: int) -> None:
    """Before a new chain is tracked: past ``gap_chains_kept``, forget the idlest chains.

    Only chains with nothing missing go (their ``due`` is their last activity
    plus a day, later than ``now + gap_grace_ms``; a chain with a missing
    counter is due within the grace period and is kept until it is reported).
    A tenth of the bound is freed at once, so the scan is paid once per that
    many new chains.
    """
    store = ctx.store
    keep = ctx.policy.gap_chains_kept
    count = store.count_records(GAP)
    if count < keep:
        return
    horizon = now_ms + ctx.policy.gap_grace_ms
    idle = [key for key, _, due in store.records(GAP) if due is not None and due > horizon]
    for key in idle[: count - keep + 1 + keep // 10]:
        store.delete_record(GAP, key)


def due(ctx: Context, now_ms: int, out: Collected) -> None:
    """Report counters missing past the grace period; forget idle chains and old failures."""
    while True:
        batch = ctx.store.due_records(GAP, now_ms, _BATCH)
        for key, value, _ in batch:
            record = GapRecord.deserialize(value)
            cutoff = now_ms - ctx.policy.gap_grace_ms
            late = sorted(c for c, seen in record.missing.items() if seen <= cutoff)
            if late:
                for c in late:
                    del record.missing[c]
                _save(ctx, key, record, now_ms)
                reported = _uncovered(ctx, record.sender, late, now_ms)
                if reported:
                    out.add(Gap(record.sender, tuple(reported)))
            elif not record.missing:
                ctx.store.delete_record(GAP, key)
            else:
                _save(ctx, key, record, now_ms)
        if len(batch) < _BATCH:
            break
    while True:
        batch = ctx.store.due_records(UNPLACED, now_ms, _BATCH)
        for key, value, _ in batch:
            failures = UnplacedFailures.deserialize(value)
            failures.failures = [f for f in failures.failures if f.seen_ms + _IDLE_MS > now_ms]
            _save_unplaced(ctx, key, failures)
        if len(batch) < _BATCH:
            return


# -- failures whose place is unknown (framings without replaced positions) ----------


def _save_unplaced(ctx: Context, key: str, failures: UnplacedFailures) -> None:
    if failures.failures:
        due = min(f.seen_ms for f in failures.failures) + _IDLE_MS
        ctx.store.put_record(UNPLACED, key, failures.serialize(), due)
    else:
        ctx.store.delete_record(UNPLACED, key)


def unplaced(
    ctx: Context,
    sender: ProtocolAddress,
    message_id: str,
    retry_count: int,
    ratchet_key: bytes | None,
    counter: int | None,
    now_ms: int,
) -> None:
    """Keep a failed transmission from ``sender`` whose place on its chains is unknown.

    Args:
        ratchet_key: the chain its header named (raw 32 bytes), ``None`` if unreadable.
        counter: the counter its header named, ``None`` if unreadable.
    """
    key = address_key(sender)
    data = ctx.store.get_record(UNPLACED, key)
    failures = UnplacedFailures.deserialize(data) if data is not None else UnplacedFailures(sender)
    failures.add(
        Unplaced(
            message_id=message_id,
            retry_count=retry_count,
            ratchet_key=ratchet_key,
            counter=counter,
            seen_ms=now_ms,
        )
    )
    _save_unplaced(ctx, key, failures)


def recovered(ctx: Context, sender: ProtocolAddress, message_id: str, retry_count: int) -> None:
    """A message that had failed was delivered: its very transmission no longer counts as unplaced.

    A copy of the same transmission (same retry count) that arrived intact
    took its own place on the chain; the place of an earlier, different
    transmission (a lower retry count) is still unknown.
    """
    key = address_key(sender)
    data = ctx.store.get_record(UNPLACED, key)
    if data is None:
        return
    failures = UnplacedFailures.deserialize(data)
    kept = [
        f for f in failures.failures if (f.message_id, f.retry_count) != (message_id, retry_count)
    ]
    if len(kept) != len(failures.failures):
        failures.failures = kept
        _save_unplaced(ctx, key, failures)


def _uncovered(ctx: Context, sender: ProtocolAddress, late: list[int], now_ms: int) -> list[int]:
    """The late counters of ``sender`` that no unplaced failure accounts for (those used up)."""
    if ctx.framing.names_replaced:
        return late  # resends name what they replace: nothing is ever unplaced
    key = address_key(sender)
    data = ctx.store.get_record(UNPLACED, key)
    if data is None:
        return late
    failures = UnplacedFailures.deserialize(data)
    live: list[Unplaced] = []
    for f in failures.failures:
        if f.seen_ms + _IDLE_MS <= now_ms:
            continue  # expired (its timer may not have fired yet in this tick)
        if f.ratchet_key is not None:
            chain = ctx.store.get_record(GAP, _key(sender, f.ratchet_key))
            if chain is not None and GapRecord.deserialize(chain).next > 0:
                continue  # the chain it named is real: it was placed after all
        live.append(f)
    left = list(late)
    for c in late:  # first the failures whose header named the missing counter
        match = next((f for f in live if f.counter == c), None)
        if match is not None:
            live.remove(match)
            left.remove(c)
    for c in list(left):  # then those that named nothing readable
        match = next((f for f in live if f.counter is None), None)
        if match is not None:
            live.remove(match)
            left.remove(c)
    ctx.stats.gaps_covered += len(late) - len(left)
    failures.failures = live
    _save_unplaced(ctx, key, failures)
    return left
