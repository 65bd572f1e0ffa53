"""Resends that carry no retry count (yowsup 3.3.0 writes no ``<enc count>``).

The receiver tells a stale copy of a failed transmission (a server
redelivery: the same bytes) from a new transmission by the bytes it
failed on, not by the count the envelope claims: a countless resend that
fails again gets the next receipt, a redelivered copy gets none.
"""

from __future__ import annotations

from dataclasses import replace

from axolotl.retry import Envelope, RetryLayer, SendReceipt, Transmit
from tests.parties import Party

NOW = 1_700_000_000_000


def _layers() -> tuple[RetryLayer, RetryLayer, Party, Party]:
    alice, bob = Party.memory("alice"), Party.memory("bob")
    a = RetryLayer(alice.store, alice.address, rng=alice.rng)
    b = RetryLayer(bob.store, bob.address, rng=bob.rng)
    a.process_bundle(bob.address, bob.bundle())
    return a, b, alice, bob


def _broken(env: Envelope) -> Envelope:
    return replace(env, body=env.body[:-1] + bytes([env.body[-1] ^ 1]))


def _receipts(actions: list[object]) -> list[int]:
    return [a.receipt.count for a in actions if isinstance(a, SendReceipt)]


def _transmits(actions: list[object]) -> list[Envelope]:
    return [a.envelope for a in actions if isinstance(a, Transmit)]


def test_countless_resend_failing_again_gets_the_next_receipt() -> None:
    a, b, _, _ = _layers()
    (first,) = _transmits(a.send([b.local], "M1", b"hello", NOW))
    assert _receipts(b.receive(_broken(first), NOW)) == [1]
    # The sender resends from scratch (a new session, new bytes) and writes no count.
    (second,) = _transmits(a.send([b.local], "M2", b"other", NOW))
    resend = replace(_broken(second), message_id="M1", retry_count=0)
    assert _receipts(b.receive(resend, NOW + 1)) == [2]


def test_a_redelivered_copy_of_a_failed_transmission_gets_no_receipt() -> None:
    a, b, _, _ = _layers()
    (first,) = _transmits(a.send([b.local], "M1", b"hello", NOW))
    broken = _broken(first)
    assert _receipts(b.receive(broken, NOW)) == [1]
    assert _receipts(b.receive(broken, NOW + 1)) == []
    # ... also once a second receipt is out: the first copy is old news.
    (second,) = _transmits(a.send([b.local], "M2", b"other", NOW))
    assert _receipts(b.receive(replace(_broken(second), message_id="M1"), NOW + 2)) == [2]
    assert _receipts(b.receive(broken, NOW + 3)) == []
