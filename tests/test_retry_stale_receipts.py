"""The ratchet-key guard: a receipt about an older sending chain gets a resend, not a rebuild.

Issue "nothing lost", item 2 (Signal's stale-request check, beside the
registration-id and base-key guards of axolotl/retry/incarnation.py and
sender._repair): once the session has moved on past the chain a failed
message went out on, the session is not what broke, so the key bundle a
count-2 receipt carries is no reason to rebuild -- unless the receipt's
reason says the receiver lacks the session or prekey.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from axolotl.receipts import RetryReason
from axolotl.receipts.jid import address_to_jid
from axolotl.retry import Deliver, Envelope, RetryLayer, SendReceipt, Transmit
from tests.parties import Party

NOW = 1_700_000_000_000


def _one(actions: list[object], kind: type) -> object:
    (found,) = [a for a in actions if isinstance(a, kind)]
    return found


def _flip(env: Envelope) -> Envelope:
    body = bytearray(env.body)
    body[-12] ^= 1
    return replace(env, body=bytes(body))


def _count_2_receipt(*, ratchet_moved: bool) -> tuple[RetryLayer, RetryLayer, SendReceipt]:
    alice, bob = Party.memory("alice"), Party.memory("bob")
    a = RetryLayer(alice.store, alice.address, rng=alice.rng)
    b = RetryLayer(bob.store, bob.address, rng=bob.rng)
    a.process_bundle(bob.address, bob.bundle())
    first = _one(a.send([bob.address], "M0", b"hello", NOW), Transmit)
    _one(b.receive(first.envelope, NOW), Deliver)  # type: ignore[attr-defined]
    broken = _one(a.send([bob.address], "M1", b"lost in transit", NOW + 1), Transmit)
    _one(b.receive(_flip(broken.envelope), NOW + 2), SendReceipt)  # type: ignore[attr-defined]
    if ratchet_moved:  # bob answers; alice's next sending chain is a new one
        reply = _one(b.send([alice.address], "R1", b"hi", NOW + 3), Transmit)
        _one(a.receive(reply.envelope, NOW + 4), Deliver)  # type: ignore[attr-defined]
    second = _one(b.tick(NOW + 600_000), SendReceipt)
    assert second.receipt.count == 2 and second.receipt.keys is not None  # type: ignore[attr-defined]
    return a, b, second  # type: ignore[return-value]


def _answer(a: RetryLayer, b: RetryLayer, receipt: SendReceipt) -> list[object]:
    incoming = receipt.receipt.received_from(address_to_jid(b.local))
    return a.receive_receipt(incoming, NOW + 600_001, device=b.local)


def test_a_receipt_about_an_older_sending_chain_is_answered_without_a_rebuild() -> None:
    a, b, second = _count_2_receipt(ratchet_moved=True)
    resend = _one(_answer(a, b, second), Transmit)
    assert a.stats.rebuilds == 0 and a.stats.resends == 1
    # The resend, on the session as it is now, is read at once.
    got = _one(b.receive(resend.envelope, NOW + 600_002), Deliver)  # type: ignore[attr-defined]
    assert got.plaintext == b"lost in transit"  # type: ignore[attr-defined]


def test_a_receipt_about_the_current_chain_rebuilds_as_before() -> None:
    a, b, second = _count_2_receipt(ratchet_moved=False)
    _one(_answer(a, b, second), Transmit)
    assert a.stats.rebuilds == 1


@pytest.mark.parametrize(
    "reason", [RetryReason.NO_SESSION, RetryReason.INVALID_KEY_ID, RetryReason.INVALID_SESSION]
)
def test_a_reason_that_needs_a_new_session_rebuilds_whatever_the_chain(
    reason: RetryReason,
) -> None:
    a, b, second = _count_2_receipt(ratchet_moved=True)
    stale = SendReceipt(replace(second.receipt, reason=reason), second.device)
    _one(_answer(a, b, stale), Transmit)
    assert a.stats.rebuilds == 1
