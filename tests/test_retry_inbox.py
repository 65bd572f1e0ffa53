"""The inbox: a delivery or a report survives a crash before the application wrote it.

Issue "nothing lost", item 1: the layer commits the delivered id with the
decrypt, so without an inbox a process killed between that commit and the
application's own write loses the message for good. Item 3: delivered ids are
evicted in delivery order, never by the clock.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from axolotl.errors import StorageError, UsageError
from axolotl.retry import (
    Deliver,
    Envelope,
    RetryLayer,
    RetryPolicy,
    SendFailed,
    SendFailure,
    SendReceipt,
    Transmit,
    Undecryptable,
)
from axolotl.retry.records import DELIVERED, INBOX, REPORT
from axolotl.store.sqlite import SQLiteStore
from tests.parties import Party

NOW = 1_700_000_000_000
HOUR = 3_600_000


def _transmits(actions: list[object]) -> list[Envelope]:
    return [a.envelope for a in actions if isinstance(a, Transmit)]


def _delivers(actions: list[object]) -> list[Deliver]:
    return [a for a in actions if isinstance(a, Deliver)]


class Pair:
    def __init__(self, tmp_path: Path, policy: RetryPolicy | None = None) -> None:
        self.policy = policy or RetryPolicy()
        self.alice = Party.memory("alice")
        bob = Party.memory("bob")
        self.path = tmp_path / "bob.db"
        store = SQLiteStore.create(
            self.path, bob.store.get_identity_key_pair(), bob.store.get_local_registration_id()
        )
        store.store_signed_pre_key(bob.store.load_signed_pre_key(1))
        self.bob = Party(bob.address, store, bob.rng)
        self.a = RetryLayer(self.alice.store, self.alice.address, rng=self.alice.rng)
        self.b = RetryLayer(store, bob.address, rng=bob.rng, policy=self.policy)
        self.a.process_bundle(bob.address, self.bob.bundle())

    def send(self, message_id: str, text: bytes) -> Envelope:
        (env,) = _transmits(self.a.send([self.b.local], message_id, text, NOW))
        return env

    def restart(self) -> None:
        """Bob's process dies and comes back from his database."""
        self.bob.store.close()  # type: ignore[attr-defined]
        store = SQLiteStore.open(self.path)
        self.bob = Party(self.bob.address, store, self.bob.rng)
        self.b = RetryLayer(store, self.bob.address, rng=self.bob.rng, policy=self.policy)


def test_a_delivery_the_application_never_wrote_is_handed_out_again(tmp_path: Path) -> None:
    p = Pair(tmp_path)
    env = p.send("M1", b"precious")
    (deliver,) = _delivers(p.b.receive(env, NOW))
    p.restart()  # killed before the application wrote it down
    assert p.b.inbox() == [deliver]
    # The server redelivers the envelope: still exactly once (no second Deliver).
    assert _delivers(p.b.receive(env, NOW + 1)) == []
    p.b.confirm(deliver)
    assert p.b.inbox() == []
    p.b.confirm(deliver)  # idempotent
    p.restart()
    assert p.b.inbox() == []


def test_the_inbox_keeps_delivery_order_and_the_group(tmp_path: Path) -> None:
    p = Pair(tmp_path)
    texts = [f"m{i}".encode() for i in range(5)]
    envs = [p.send(f"M{i}", t) for i, t in enumerate(texts)]
    for env in reversed(envs):  # delivered newest first (skipped keys)
        p.b.receive(env, NOW)
    p.restart()
    assert [d.message_id for d in p.b.inbox()] == [f"M{i}" for i in reversed(range(5))]
    assert [d.plaintext for d in p.b.inbox(limit=2)] == [texts[4], texts[3]]
    p.b.confirm(Deliver("M2", p.alice.address, b"any text: only the identity counts"))
    assert [d.message_id for d in p.b.inbox()] == ["M4", "M3", "M1", "M0"]


def test_an_unconfirmed_delivery_counts_as_delivered_after_its_id_is_evicted(
    tmp_path: Path,
) -> None:
    p = Pair(tmp_path, RetryPolicy(delivered_ids_kept=1))
    first = p.send("M1", b"one")
    p.b.receive(first, NOW)
    p.b.receive(p.send("M2", b"two"), NOW)
    assert p.bob.store.count_records(DELIVERED) == 1  # M1's id is gone ...
    actions = p.b.receive(first, NOW + 1)  # ... but its delivery waits unconfirmed
    assert _delivers(actions) == []
    assert [a for a in actions if isinstance(a, SendReceipt)] == []


def test_eviction_follows_delivery_order_not_the_clock(tmp_path: Path) -> None:
    p = Pair(tmp_path, RetryPolicy(delivered_ids_kept=2, inbox=False))
    envs = [p.send(f"M{i}", b"x") for i in range(3)]
    p.b.receive(envs[0], NOW)
    p.b.receive(envs[1], NOW - HOUR)  # the clock stepped back an hour
    p.b.receive(envs[2], NOW - HOUR + 1)
    # The first delivered is forgotten, not the one stamped earliest.
    for env in envs[1:]:
        actions = p.b.receive(env, NOW)
        assert _delivers(actions) == []
        assert [a for a in actions if isinstance(a, SendReceipt)] == []


def test_without_the_inbox_nothing_is_kept(tmp_path: Path) -> None:
    p = Pair(tmp_path, RetryPolicy(inbox=False))
    (deliver,) = _delivers(p.b.receive(p.send("M1", b"x"), NOW))
    assert deliver.plaintext == b"x"
    assert p.bob.store.count_records(INBOX) == 0
    assert p.b.inbox() == []


def test_a_store_from_before_the_sequence_evicts_its_old_ids_first(tmp_path: Path) -> None:
    p = Pair(tmp_path, RetryPolicy(delivered_ids_kept=3))
    # Delivered ids as an older version wrote them: due = delivery time (ms).
    for i in range(3):
        p.bob.store.put_record(DELIVERED, f"carol\x1f1\x1fOLD{i}", b"", NOW + i)
    p.b.receive(p.send("M1", b"new"), NOW - 10 * HOUR)
    keys = [k for k, _, _ in p.bob.store.records(DELIVERED)]
    assert len(keys) == 3 and "carol\x1f1\x1fOLD0" not in keys
    assert any(k.endswith("M1") for k in keys)


def test_confirm_refuses_misuse(tmp_path: Path) -> None:
    p = Pair(tmp_path)
    with pytest.raises(UsageError):
        p.b.confirm(("alice", "M1"))  # type: ignore[arg-type]


def test_a_message_id_is_refused_after_its_send_log_entry_is_gone(tmp_path: Path) -> None:
    from axolotl.retry import DeliveryReceipt
    from axolotl.store.sqlite import SQLiteStore as Store

    p = Pair(tmp_path)
    path = tmp_path / "alice.db"
    alice = Store.create(
        path, p.alice.store.get_identity_key_pair(), p.alice.store.get_local_registration_id()
    )
    a = RetryLayer(alice, p.alice.address, rng=p.alice.rng, policy=RetryPolicy(sent_ids_kept=3))
    a.process_bundle(p.bob.address, p.bob.bundle())
    (env,) = _transmits(a.send([p.b.local], "M1", b"first", NOW))
    a.server_ack("M1", p.b.local, NOW)
    p.b.receive(env, NOW)
    a.receive_receipt(DeliveryReceipt(message_id="M1", device=p.b.local), NOW)
    assert alice.count_records("sendlog") == 0  # confirmed: the entry is gone
    with pytest.raises(UsageError, match="already sent"):
        a.send([p.b.local], "M1", b"second text, same id", NOW)
    alice.close()
    alice = Store.open(path)
    a = RetryLayer(alice, p.alice.address, rng=p.alice.rng, policy=RetryPolicy(sent_ids_kept=3))
    with pytest.raises(UsageError, match="already sent"):  # across a restart too
        a.send([p.b.local], "M1", b"second text, same id", NOW)
    # The record is bounded (sent_ids_kept): three later sends push M1 out.
    for i in range(3):
        a.send([p.b.local], f"N{i}", b"x", NOW)
    assert alice.count_records("sentid") == 3
    alice.close()


def test_an_expiring_send_log_entry_reports_every_unconfirmed_device(tmp_path: Path) -> None:
    from axolotl.retry import SendFailed, SendFailure

    p = Pair(tmp_path)
    carol = Party.memory("carol")
    p.a.process_bundle(carol.address, carol.bundle())
    envs = _transmits(p.a.send([p.b.local, carol.address], "M1", b"to both", NOW))
    for env in envs:
        p.a.server_ack("M1", env.recipient, NOW)
    from axolotl.retry import DeliveryReceipt

    p.a.receive_receipt(DeliveryReceipt(message_id="M1", device=p.b.local), NOW)
    age = RetryPolicy().send_log_max_age_ms
    # A device that ticks twice a day (a jump of more than a day would count
    # as one day: see test_retry_clock.py).
    for t in range(NOW + HOUR, NOW + age, 12 * HOUR):
        assert [a for a in p.a.tick(t) if isinstance(a, SendFailed)] == []
    failed = [a for a in p.a.tick(NOW + age) if isinstance(a, SendFailed)]
    assert failed == [SendFailed("M1", carol.address, SendFailure.EXPIRED)]
    assert p.alice.store.count_records("sendlog") == 0


def _bad_mac(env: Envelope) -> Envelope:
    """``env`` with a bit of its inner message's MAC flipped."""
    body = bytearray(env.body)
    body[-12] ^= 1
    return replace(env, body=bytes(body))


def _tick_until(layer: RetryLayer, kind: type, start: int, steps: int = 200) -> list[object]:
    """Tick ``layer`` a minute at a time until it returns a ``kind``; everything it returned."""
    seen: list[object] = []
    for i in range(1, steps):
        seen += layer.tick(start + i * 60_000)
        if any(isinstance(a, kind) for a in seen):
            return seen
    raise AssertionError(f"no {kind.__name__} in {steps} minutes")


def test_a_report_survives_the_crash_until_confirmed_in_order_with_deliveries(
    tmp_path: Path,
) -> None:
    p = Pair(tmp_path, RetryPolicy(max_retries=1))
    (first,) = _delivers(p.b.receive(p.send("M1", b"shown"), NOW))
    bad = p.send("M2", b"never shown")
    p.b.receive(_bad_mac(bad), NOW)
    (report,) = [a for a in _tick_until(p.b, Undecryptable, NOW) if isinstance(a, Undecryptable)]
    assert (report.message_id, report.sender) == ("M2", p.alice.address)
    # Bob's own send goes nowhere: the outbox gives up on it.
    actions = p.b.send([p.alice.address], "R1", b"reply", NOW)
    assert _transmits(actions)
    failed = [a for a in _tick_until(p.b, SendFailed, NOW + HOUR) if isinstance(a, SendFailed)]
    assert failed == [SendFailed("R1", p.alice.address, SendFailure.UNACKNOWLEDGED)]
    p.restart()  # killed before the application wrote any of it down
    assert p.b.inbox() == [first, report, failed[0]]
    assert p.bob.store.count_records(REPORT) == 2
    p.b.confirm(report)
    p.b.confirm(report)  # idempotent
    assert p.b.inbox() == [first, failed[0]]
    # Only the identity counts; a SendFailed of another reason is another report.
    p.b.confirm(SendFailed("R1", p.alice.address, SendFailure.EXPIRED))
    assert p.b.inbox(limit=5) == [first, failed[0]]
    p.b.confirm(failed[0])
    p.b.confirm(first)
    p.restart()
    assert p.b.inbox() == [] and p.bob.store.count_records(REPORT) == 0


def test_without_the_inbox_no_report_is_kept(tmp_path: Path) -> None:
    p = Pair(tmp_path, RetryPolicy(max_retries=1, inbox=False))
    bad = p.send("M1", b"x")
    p.b.receive(_bad_mac(bad), NOW)
    _tick_until(p.b, Undecryptable, NOW)
    assert p.bob.store.count_records(REPORT) == 0 and p.b.inbox() == []


def test_a_corrupt_stored_report_is_a_storage_error(tmp_path: Path) -> None:
    p = Pair(tmp_path)
    p.bob.store.put_record(REPORT, "u-bad", b"\xff\xff", 1)
    with pytest.raises(StorageError):
        p.b.inbox()


def test_was_sent_answers_whether_a_send_committed(tmp_path: Path) -> None:
    p = Pair(tmp_path)
    assert not p.a.was_sent("M1")
    p.send("M1", b"x")
    assert p.a.was_sent("M1") and not p.a.was_sent("M2")
    with pytest.raises(UsageError):
        p.a.was_sent("")
