"""Bounded state (issue "nothing lost", item 5): junk from a contact costs fixed space.

Before: every junk envelope left a given-up receive record forever and each
of its receipts from count 2 on minted a one-time prekey that was never
published or deleted (300 junk envelopes: 300 records, 1,200 prekeys).
"""

from __future__ import annotations

import random

from axolotl.address import ProtocolAddress
from axolotl.retry import (
    Envelope,
    Gap,
    RetryLayer,
    RetryPolicy,
    SendFailed,
    SendFailure,
    Transmit,
    Undecryptable,
    gaps,
)
from axolotl.retry._context import Collected, Context
from axolotl.retry.records import GAP, GAVEUP, MINTED, RECV, SENDLOG
from axolotl.session.config import SessionConfig
from axolotl.wire import MessageType
from tests.parties import Party, retry_context

NOW = 1_700_000_000_000
DAY = 86_400_000


class World:
    def __init__(self, policy: RetryPolicy) -> None:
        self.alice, self.bob = Party.memory("alice"), Party.memory("bob")
        self.a = RetryLayer(self.alice.store, self.alice.address, rng=self.alice.rng)
        self.b = RetryLayer(self.bob.store, self.bob.address, rng=self.bob.rng, policy=policy)
        self.a.process_bundle(self.bob.address, self.bob.bundle())
        actions = self.a.send([self.bob.address], "HELLO", b"hi", NOW)
        (env,) = [x.envelope for x in actions if isinstance(x, Transmit)]
        self.b.receive(env, NOW)
        self.prekeys_at_start = self.prekeys()
        self.rnd = random.Random(7)

    def prekeys(self) -> int:
        return sum(
            self.bob.store.contains_pre_key(i) for i in range(1, self.bob.store.next_pre_key_id())
        )

    def junk(self, n: int, now: int) -> int:
        """``n`` junk envelopes from alice, every receipt timer run out; how many reported."""
        reported = 0
        for i in range(n):
            env = Envelope(
                message_id=f"JUNK{i:06d}",
                sender=self.alice.address,
                recipient=self.bob.address,
                type=MessageType.SIGNAL,
                body=bytes([0x33]) + self.rnd.randbytes(60),
                timestamp_ms=now,
            )
            self.b.receive(env, now)
        for minute in range(1, 120):
            actions = self.b.tick(now + minute * 60_000)
            reported += sum(isinstance(x, Undecryptable) for x in actions)
        return reported


def test_a_junk_flood_leaves_bounded_records_and_prekeys() -> None:
    policy = RetryPolicy(gave_up_kept=50, minted_prekeys_per_device=4)
    w = World(policy)
    assert w.junk(300, NOW) == 300  # every one reported, as before
    store = w.bob.store
    assert store.count_records(RECV) == 0
    assert store.count_records(GAVEUP) == 50
    assert store.count_records(MINTED) == 1
    assert w.prekeys() - w.prekeys_at_start == 4
    # The earliest were forgotten (50 of 300 kept): one of them failing again
    # starts over, and is reported again.
    assert w.junk(1, NOW + 3 * 3_600_000) == 1


def test_given_up_records_and_minted_prekeys_expire() -> None:
    w = World(RetryPolicy(gave_up_kept_ms=DAY, minted_prekey_max_age_ms=DAY))
    w.junk(20, NOW)
    store = w.bob.store
    assert store.count_records(GAVEUP) == 20 and w.prekeys() > w.prekeys_at_start
    w.b.tick(NOW + 2 * DAY)
    assert store.count_records(GAVEUP) == 0 and store.count_records(MINTED) == 0
    assert w.prekeys() == w.prekeys_at_start


def test_a_remembered_given_up_message_failing_again_sends_no_receipt() -> None:
    w = World(RetryPolicy())
    w.junk(1, NOW)
    assert w.bob.store.count_records(GAVEUP) == 1
    env = Envelope(
        message_id="JUNK000000",
        sender=w.alice.address,
        recipient=w.bob.address,
        type=MessageType.SIGNAL,
        body=bytes([0x33]) + bytes(60),
        timestamp_ms=NOW,
    )
    assert w.b.receive(env, NOW + 3 * 3_600_000)[:-1] == []  # only the WakeAt
    assert w.bob.store.count_records(RECV) == 0


# -- gap records --------------------------------------------------------------------------


def _gap_context(policy: RetryPolicy, config: SessionConfig | None = None) -> Context:
    return retry_context(Party.memory("bob"), policy, config)


def test_gap_tracking_forgets_the_idlest_chains_past_its_bound() -> None:
    ctx = _gap_context(RetryPolicy(gap_chains_kept=20))
    alice = ProtocolAddress("alice", 1)
    # One chain with a counter missing: kept whatever comes after it.
    gaps.note(ctx, alice, b"\x01" * 32, 3, NOW)
    for i in range(200):  # 200 chains, nothing missing on any
        gaps.note(ctx, alice, i.to_bytes(2, "big") * 16, 0, NOW + 1 + i)
    assert ctx.store.count_records(GAP) <= 20
    out = Collected()
    gaps.due(ctx, NOW + 60_000, out)
    assert [a for a in out.sorted() if isinstance(a, Gap)] == [Gap(alice, (0, 1, 2))]


def test_a_chain_tracks_at_most_max_skip_missing_counters() -> None:
    ctx = _gap_context(RetryPolicy(), SessionConfig(max_skip=50, max_skipped_keys=50))
    alice = ProtocolAddress("alice", 1)
    chain = b"\x02" * 32
    gaps.note(ctx, alice, chain, 50, NOW)  # 0..49 missing
    gaps.note(ctx, alice, chain, 100, NOW + 1)  # 51..99 too: 99 in all, 49 over
    out = Collected()
    gaps.due(ctx, NOW + 2, out)  # before the grace period: only the excess, oldest first
    (early,) = [a for a in out.sorted() if isinstance(a, Gap)]
    assert early.missing == tuple(range(49))
    out = Collected()
    gaps.due(ctx, NOW + 60_000, out)
    (rest,) = [a for a in out.sorted() if isinstance(a, Gap)]
    assert rest.missing == (49, *range(51, 100))


# -- the send log -------------------------------------------------------------------------


def test_the_send_log_lets_the_oldest_go_past_its_bound_and_says_so() -> None:
    alice, bob = Party.memory("alice"), Party.memory("bob")
    a = RetryLayer(
        alice.store, alice.address, rng=alice.rng, policy=RetryPolicy(send_log_max_entries=3)
    )
    a.process_bundle(bob.address, bob.bundle())
    failed: list[SendFailed] = []
    for i in range(5):  # no delivery receipt ever comes back
        actions = a.send([bob.address], f"M{i}", b"x", NOW + i)
        failed += [x for x in actions if isinstance(x, SendFailed)]
    assert failed == [
        SendFailed("M0", bob.address, SendFailure.EVICTED),
        SendFailed("M1", bob.address, SendFailure.EVICTED),
    ]
    assert alice.store.count_records(SENDLOG) == 3
