"""Unplaced failures: how a framing without replaced positions keeps gap detection honest.

Driven through :mod:`axolotl.retry.gaps` over a memory store: counters noted
on a chain, failures whose place is unknown, and ``due`` after the grace
period. Each unplaced failure accounts for one missing counter of its
device (the one its header named, else any), and for nothing once its
chain proved real, its very transmission arrived, or a day went by.
"""

from __future__ import annotations

import pytest

from axolotl.address import ProtocolAddress
from axolotl.errors import StorageError
from axolotl.framing import Framing, NativeFraming, WhatsAppFraming
from axolotl.keys import generate_identity_key_pair
from axolotl.retry import Gap, RetryPolicy, gaps
from axolotl.retry._context import Collected, Context
from axolotl.retry.records import UNPLACED, Unplaced, UnplacedFailures, address_key
from axolotl.rng import DeterministicRng
from axolotl.session import DEFAULT_CONFIG, reject_changed_identity
from axolotl.store.memory import MemoryStore

ALICE = ProtocolAddress("alice@s.example", 1)
CHAIN, OTHER = bytes([1]) * 32, bytes([2]) * 32
T0, GRACE, DAY = 1_000_000, 10_000, 86_400_000


def _ctx(framing: Framing | None = None) -> Context:
    rng = DeterministicRng("unplaced")
    store = MemoryStore(generate_identity_key_pair(rng), 7)
    return Context(
        store,
        ProtocolAddress("bob@s.example", 1),
        RetryPolicy(),
        rng,
        reject_changed_identity,
        DEFAULT_CONFIG,
        framing or WhatsAppFraming(),
    )


def _reported(ctx: Context, now: int) -> list[int]:
    out = Collected()
    gaps.due(ctx, now, out)
    return [c for a in out.sorted() if isinstance(a, Gap) for c in a.missing]


def _chain(ctx: Context, *counters: int, chain: bytes = CHAIN) -> None:
    for c in counters:
        gaps.note(ctx, ALICE, chain, c, T0)


def test_an_unreadable_failure_accounts_for_one_missing_counter() -> None:
    ctx = _ctx()
    gaps.unplaced(ctx, ALICE, "M1", 0, None, None, T0)
    _chain(ctx, 0, 3)  # 1 and 2 missing, one of them the unreadable failure
    assert _reported(ctx, T0 + GRACE) == [2]
    assert ctx.stats.gaps_covered == 1
    assert ctx.store.get_record(UNPLACED, address_key(ALICE)) is None, "used up"


def test_a_failure_naming_a_counter_covers_that_counter_first() -> None:
    ctx = _ctx()
    gaps.unplaced(ctx, ALICE, "M1", 0, OTHER, 2, T0)  # a chain never seen: corrupted key
    _chain(ctx, 0, 3)
    assert _reported(ctx, T0 + GRACE) == [1]
    ctx2 = _ctx()
    gaps.unplaced(ctx2, ALICE, "M1", 0, OTHER, 7, T0)  # names a counter not missing: no cover
    _chain(ctx2, 0, 2)
    assert _reported(ctx2, T0 + GRACE) == [1]


def test_a_failure_whose_chain_proves_real_accounts_for_nothing() -> None:
    ctx = _ctx()
    gaps.unplaced(ctx, ALICE, "M1", 0, OTHER, 1, T0)
    _chain(ctx, 5, chain=OTHER)  # an authenticated message on that chain: it was placed
    _chain(ctx, 0, 2)
    assert 1 in _reported(ctx, T0 + GRACE)


def test_a_transmission_that_arrived_intact_after_all_accounts_for_nothing() -> None:
    ctx = _ctx()
    gaps.unplaced(ctx, ALICE, "M1", 0, None, None, T0)
    gaps.unplaced(ctx, ALICE, "M1", 1, None, None, T0)  # its resend failed too
    gaps.recovered(ctx, ALICE, "M1", 0)  # a clean copy of the first transmission was delivered
    data = ctx.store.get_record(UNPLACED, address_key(ALICE))
    assert data is not None
    assert [f.retry_count for f in UnplacedFailures.deserialize(data).failures] == [1]
    gaps.recovered(ctx, ALICE, "M1", 1)
    assert ctx.store.get_record(UNPLACED, address_key(ALICE)) is None


def test_unplaced_failures_expire_after_a_day() -> None:
    ctx = _ctx()
    gaps.unplaced(ctx, ALICE, "M1", 0, None, None, T0)
    assert ctx.store.next_due_ms([UNPLACED]) == T0 + DAY
    assert _reported(ctx, T0 + DAY) == []
    assert ctx.store.get_record(UNPLACED, address_key(ALICE)) is None
    stale = _ctx()
    gaps.unplaced(stale, ALICE, "M1", 0, None, None, T0)
    for c in (0, 2):
        gaps.note(stale, ALICE, CHAIN, c, T0 + DAY - GRACE)
    assert _reported(stale, T0 + DAY) == [1], "an expired failure covers nothing"


def test_unplaced_failures_are_bounded_and_counted_once_per_transmission() -> None:
    ctx = _ctx()
    for i in range(UnplacedFailures.MAX + 5):
        gaps.unplaced(ctx, ALICE, f"M{i}", 0, None, None, T0 + i)
    gaps.unplaced(ctx, ALICE, "M20", 0, None, None, T0 + 99)  # the same transmission again
    data = ctx.store.get_record(UNPLACED, address_key(ALICE))
    assert data is not None
    kept = UnplacedFailures.deserialize(data).failures
    assert len(kept) == UnplacedFailures.MAX
    assert [f.message_id for f in kept][-1] == "M20" and kept[0].message_id == "M5"


def test_the_native_framing_never_consults_them() -> None:
    ctx = _ctx(NativeFraming())
    gaps.unplaced(ctx, ALICE, "M1", 0, None, None, T0)  # (the layer never makes one natively)
    _chain(ctx, 0, 2)
    assert _reported(ctx, T0 + GRACE) == [1]


def test_the_record_round_trips_and_refuses_corruption() -> None:
    record = UnplacedFailures(
        ALICE,
        [
            Unplaced(message_id="A", retry_count=0, ratchet_key=None, counter=None, seen_ms=5),
            Unplaced(message_id="B", retry_count=2, ratchet_key=OTHER, counter=0, seen_ms=6),
        ],
    )
    assert UnplacedFailures.deserialize(record.serialize()) == record
    for bad in (b"\xff", record.serialize()[:-3], b"\x78\x02"):  # truncated, version 2
        with pytest.raises(StorageError):
            UnplacedFailures.deserialize(bad)
