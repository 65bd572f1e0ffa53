"""A receipt that says the session is broken but brings no keys: the layer asks the stack.

yowsup 3.3.0 (and any stack that never attaches ``<keys>``) sends keyless
retry receipts at every count; WhatsApp senders (yowsup itself, whatsmeow's
``shouldRecreateSession``) then fetch the receiver's bundle from the server.
Our layer emits :class:`FetchBundle` instead of resending on a session that
is known to fail, and answers the waiting receipts once the stack hands the
bundle to :meth:`RetryLayer.bundle_fetched` (or, without one, on the old
session when the wait times out).
"""

from __future__ import annotations

from axolotl.address import ProtocolAddress
from axolotl.receipts import IncomingRetryReceipt
from axolotl.retry import (
    Deliver,
    Envelope,
    FetchBundle,
    RetryLayer,
    RetryPolicy,
    Transmit,
    WakeAt,
    address_to_jid,
)
from axolotl.wire import MessageType
from tests.parties import Party

NOW = 1_700_000_000_000
POLICY = RetryPolicy()


def _transmits(actions: list[object]) -> list[Envelope]:
    return [a.envelope for a in actions if isinstance(a, Transmit)]


def _fetches(actions: list[object]) -> list[ProtocolAddress]:
    return [a.device for a in actions if isinstance(a, FetchBundle)]


class Pair:
    """Alice and Bob with a session both ways; Bob's receipts carry no keys."""

    def __init__(self) -> None:
        self.alice, self.bob = Party.memory("alice"), Party.memory("bob")
        self.a = RetryLayer(self.alice.store, self.alice.address, rng=self.alice.rng)
        self.b = RetryLayer(self.bob.store, self.bob.address, rng=self.bob.rng)
        self.a.process_bundle(self.bob.address, self.bob.bundle())
        (first,) = _transmits(self.a.send([self.b.local], "SETUP-1", b"one", NOW))
        self.b.receive(first, NOW)
        (reply,) = _transmits(self.b.send([self.a.local], "SETUP-2", b"two", NOW))
        self.a.receive(reply, NOW)

    def receipt(self, message_id: str, count: int) -> IncomingRetryReceipt:
        return IncomingRetryReceipt(
            message_id=message_id,
            sender=address_to_jid(self.b.local),
            count=count,
            timestamp=NOW // 1000,
            registration_id=self.bob.store.get_local_registration_id(),
        )

    def answer(self, message_id: str, count: int, now: int = NOW) -> list[object]:
        return self.a.receive_receipt(self.receipt(message_id, count), now, device=self.b.local)


def test_keyless_receipt_at_count_two_fetches_a_bundle_then_rebuilds() -> None:
    p = Pair()
    (original,) = _transmits(p.a.send([p.b.local], "M1", b"lost", NOW))
    p.bob.store.delete_session(p.alice.address)  # Bob lost his session
    # Count 1: answered on the session (it may be fine: a corrupted copy).
    (first,) = _transmits(p.answer("M1", 1))
    assert first.type == MessageType.SIGNAL and first.retry_count == 1
    # Count 2 on the same base key, no keys: ask the stack, resend nothing yet.
    actions = p.answer("M1", 2)
    assert _fetches(actions) == [p.b.local]
    assert _transmits(actions) == []
    # The same count again while waiting: nothing new.
    assert _fetches(p.answer("M1", 2)) == [] and _transmits(p.answer("M1", 2)) == []
    actions = p.a.bundle_fetched(p.b.local, p.bob.bundle(), NOW + 10)
    (resend,) = _transmits(actions)
    assert resend.type == MessageType.PREKEY and resend.retry_count == 2
    assert resend.message_id == "M1"
    assert p.a.stats.rebuilds == 1
    delivered = [a for a in p.b.receive(resend, NOW + 20) if isinstance(a, Deliver)]
    assert [d.plaintext for d in delivered] == [b"lost"]
    assert original.body != resend.body


def test_every_message_waiting_on_the_device_is_answered_by_one_bundle() -> None:
    p = Pair()
    p.a.send([p.b.local], "M1", b"one", NOW)
    p.a.send([p.b.local], "M2", b"two", NOW)
    for mid in ("M1", "M2"):
        p.answer(mid, 1)
    assert _fetches(p.answer("M1", 2)) == [p.b.local]
    assert _fetches(p.answer("M2", 2)) == []  # already asked
    resends = _transmits(p.a.bundle_fetched(p.b.local, p.bob.bundle(), NOW + 10))
    assert sorted(e.message_id for e in resends) == ["M1", "M2"]
    assert {e.type for e in resends} == {MessageType.PREKEY}
    assert p.a.stats.rebuilds == 1


def test_no_bundle_falls_back_to_the_old_session() -> None:
    p = Pair()
    p.a.send([p.b.local], "M1", b"one", NOW)
    p.answer("M1", 1)
    assert _fetches(p.answer("M1", 2)) == [p.b.local]
    (resend,) = _transmits(p.a.bundle_fetched(p.b.local, None, NOW + 10))
    assert resend.type == MessageType.SIGNAL and resend.retry_count == 2
    assert p.a.stats.rebuilds == 0


def test_an_unanswered_fetch_times_out_to_a_resend_on_the_old_session() -> None:
    p = Pair()
    p.a.send([p.b.local], "M1", b"one", NOW)
    p.answer("M1", 1)
    actions = p.answer("M1", 2)
    wake = [a.ms for a in actions if isinstance(a, WakeAt)]
    assert wake and wake[0] <= NOW + POLICY.bundle_wait_ms

    # (the outbox retransmits the unacked originals meanwhile: not resends)
    def resends(actions: list[object]) -> list[Envelope]:
        return [e for e in _transmits(actions) if e.retry_count == 2]

    assert resends(p.a.tick(NOW + POLICY.bundle_wait_ms - 1)) == []
    (resend,) = resends(p.a.tick(NOW + POLICY.bundle_wait_ms))
    assert resend.type == MessageType.SIGNAL and resend.retry_count == 2
    # A bundle arriving after the fallback changes nothing.
    late = p.a.bundle_fetched(p.b.local, p.bob.bundle(), NOW + POLICY.bundle_wait_ms)
    assert resends(late) == []


def test_a_bundle_nobody_asked_for_is_ignored() -> None:
    p = Pair()
    before = p.alice.store.load_session(p.bob.address)
    actions = p.a.bundle_fetched(p.b.local, p.bob.bundle(), NOW)
    assert [a for a in actions if not isinstance(a, WakeAt)] == []
    assert p.alice.store.load_session(p.bob.address) == before


def test_one_fetch_per_rebuild_window() -> None:
    p = Pair()
    p.a.send([p.b.local], "M1", b"one", NOW)
    p.answer("M1", 1)
    p.answer("M1", 2)
    p.a.bundle_fetched(p.b.local, p.bob.bundle(), NOW + 10)
    p.a.send([p.b.local], "M2", b"two", NOW + 20)
    p.answer("M2", 1, NOW + 30)
    # A rebuild happened in this window already: resend on the session as it is.
    actions = p.answer("M2", 2, NOW + 40)
    assert _fetches(actions) == []
    assert [e.retry_count for e in _transmits(actions)] == [2]
