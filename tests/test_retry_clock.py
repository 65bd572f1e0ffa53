"""Timers that a lying clock cannot break (issue "nothing lost", item 3).

The stack passes one ``now_ms`` (the message timestamp and the time); the
layer schedules on its own clock derived from it: a step back is absorbed
(timers go on from where they were, no stall), a jump forward beyond
``RetryPolicy.max_clock_jump_ms`` counts as that much (one far-future tick
cannot prune the send log or push every retransmission out by the jump).
"""

from __future__ import annotations

from dataclasses import replace

from axolotl.retry import Envelope, RetryLayer, RetryPolicy, SendFailed, Transmit, WakeAt
from axolotl.wire import MessageType
from tests.parties import Party

NOW = 1_700_000_000_000
HOUR = 3_600_000
YEAR = 365 * 24 * HOUR


def _transmits(actions: list[object]) -> list[Envelope]:
    return [a.envelope for a in actions if isinstance(a, Transmit)]


def _pair(policy: RetryPolicy | None = None) -> tuple[RetryLayer, Party, Party]:
    alice, bob = Party.memory("alice"), Party.memory("bob")
    a = RetryLayer(alice.store, alice.address, rng=alice.rng, policy=policy or RetryPolicy())
    a.process_bundle(bob.address, bob.bundle())
    return a, alice, bob


def _retransmitted_by(a: RetryLayer, start: int, step: int, until: int) -> int | None:
    """The first tick time (from ``start``, every ``step``) at which something goes out again."""
    t = start
    while t <= until:
        if _transmits(a.tick(t)):
            return t
        t += step
    return None


def test_a_far_future_tick_keeps_the_send_log_and_the_retransmissions() -> None:
    a, alice, bob = _pair()
    a.send([bob.address], "M1", b"x", NOW)  # never acked by the server
    actions = a.tick(NOW + 10 * YEAR)  # one tick from a clock gone wrong
    assert not [x for x in actions if isinstance(x, SendFailed)]
    assert alice.store.count_records("sendlog") == 1
    # The clock is right again: retransmissions go on within seconds, not years.
    assert _retransmitted_by(a, NOW + 1000, 1000, NOW + 120_000) is not None


def test_a_step_back_does_not_stall_the_timers() -> None:
    a, _, bob = _pair()
    a.send([bob.address], "M1", b"x", NOW)
    first = _retransmitted_by(a, NOW, 500, NOW + 60_000)
    assert first is not None
    # The clock steps back an hour: the next retransmission still comes within
    # the backoff (about a minute at most), not an hour later.
    back = first - HOUR
    again = _retransmitted_by(a, back + 500, 500, back + 130_000)
    assert again is not None


def test_a_real_long_offline_period_still_expires_the_send_log() -> None:
    policy = RetryPolicy()
    a, alice, bob = _pair(policy)
    a.send([bob.address], "M1", b"x", NOW)
    t = NOW
    expired: list[SendFailed] = []
    # Ticks every few hours, as a device that sleeps and wakes: time is real.
    while t < NOW + policy.send_log_max_age_ms + 2 * 24 * HOUR:
        t += 6 * HOUR
        expired += [x for x in a.tick(t) if isinstance(x, SendFailed)]
    assert alice.store.count_records("sendlog") == 0
    assert [f.message_id for f in expired].count("M1") >= 1


def test_a_tick_at_the_wake_time_the_layer_asked_for_is_no_jump() -> None:
    # A device with one timer two weeks out (a given-up message to forget),
    # woken exactly when asked: the timer fires, however long the wait.
    policy = RetryPolicy(gave_up_kept_ms=14 * 24 * HOUR, max_retries=1)
    alice, bob = Party.memory("alice"), Party.memory("bob")
    b = RetryLayer(bob.store, bob.address, rng=bob.rng, policy=policy)
    junk = Envelope(
        message_id="J1",
        sender=alice.address,
        recipient=bob.address,
        type=MessageType.SIGNAL,
        body=b"\x33" + bytes(40),
        timestamp_ms=NOW,
    )
    wakes = [x.ms for x in b.receive(junk, NOW) if isinstance(x, WakeAt)]
    t = NOW
    while wakes and bob.store.count_records("gaveup") + bob.store.count_records("recv"):
        t = wakes[0]
        wakes = [x.ms for x in b.tick(t) if isinstance(x, WakeAt)]
    # Forgotten when due (two weeks on), not 13 days later per capped wake.
    assert NOW + 14 * 24 * HOUR <= t < NOW + 15 * 24 * HOUR
    assert bob.store.count_records("gaveup") == 0 and bob.store.count_records("recv") == 0
    # The layer's clock followed the stack's: a receipt timer set now is due
    # within its backoff.
    actions = b.receive(replace(junk, message_id="J2", timestamp_ms=t), t)
    (wake,) = [x.ms for x in actions if isinstance(x, WakeAt)]
    assert t < wake < t + HOUR
