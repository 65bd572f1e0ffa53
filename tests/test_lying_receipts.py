"""Receipts that lie about the device's registration id: budgets and rebuild windows hold.

A changed registration id means a reinstalled device: it counts its receipts
from 1 again and needs a new session. A peer that claims a new one on every
receipt must not get a fresh budget or a rebuild each time.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from axolotl.receipts import IncomingRetryReceipt, KeyBundle, key_bundle_from_prekey_bundle
from axolotl.retry import Transmit
from tests.helpers import Network


@pytest.fixture
def net() -> Iterator[Network]:
    n = Network(["alice", "bob"], seed=11)
    yield n
    n.close()


def _keys(net: Network) -> KeyBundle:
    return key_bundle_from_prekey_bundle(net.bundle(net.address("bob")))


def _receipt(message_id: str, count: int, registration_id: int, keys: KeyBundle | None) -> object:
    return IncomingRetryReceipt(
        message_id=message_id,
        sender="bob:1@s.example",
        count=count,
        timestamp=1,
        registration_id=registration_id,
        keys=keys,
    )


def _resends(net: Network, receipt: object, advance_ms: int = 1000) -> int:
    net.now += advance_ms
    alice = net.devices[net.address("alice")]
    actions = alice.layer.receive_receipt(receipt, net.now, device=net.address("bob"))  # type: ignore[arg-type]
    return sum(isinstance(a, Transmit) for a in actions)


def test_a_new_registration_id_on_every_receipt_gets_no_fresh_budget_nor_rebuild(
    net: Network,
) -> None:
    m = net.send("alice", ["bob"], b"x")  # in flight: no delivery receipt yet
    alice = net.devices[net.address("alice")]
    session_before = len(alice.store.load_session(net.address("bob")) or b"")
    resends = 0
    for n in range(100):
        resends += _resends(net, _receipt(m, 1 + n % 3, 1000 + n, _keys(net)))
    assert resends <= net.policy.max_retries
    assert alice.layer.stats.rebuilds <= 1
    assert len(alice.store.load_session(net.address("bob")) or b"") < 3 * session_before


def test_a_real_reinstall_is_rebuilt_at_once_and_counts_from_one_again(net: Network) -> None:
    m = net.send("alice", ["bob"], b"x")
    bob_id = net.devices[net.address("bob")].store.get_local_registration_id()
    # Keyless receipts on the same base key: count 1 is answered on the session,
    # from count 2 on the resend waits for Bob's bundle (FetchBundle).
    assert [_resends(net, _receipt(m, count, bob_id, None)) for count in (1, 2, 3)] == [1, 0, 0]
    alice = net.devices[net.address("alice")]
    assert alice.layer.stats.rebuilds == 0
    # Bob reinstalls: a new registration id, his receipts count from 1 again.
    assert _resends(net, _receipt(m, 1, bob_id + 1, _keys(net))) == 1
    assert alice.layer.stats.rebuilds == 1
    assert _resends(net, _receipt(m, 2, bob_id + 1, _keys(net))) == 1
    assert alice.layer.stats.rebuilds == 1, "one rebuild per window"
    # Another message the old install had asked about: the new install's count 1 is answered.
    m2 = net.send("alice", ["bob"], b"y")
    assert _resends(net, _receipt(m2, 1, bob_id, None)) == 1
    assert _resends(net, _receipt(m2, 1, bob_id + 1, None)) == 1


def test_after_the_window_a_further_registration_id_change_is_accepted(net: Network) -> None:
    m = net.send("alice", ["bob"], b"x")
    bob_id = net.devices[net.address("bob")].store.get_local_registration_id()
    assert _resends(net, _receipt(m, 1, bob_id + 1, _keys(net))) == 1
    assert _resends(net, _receipt(m, 1, bob_id + 2, _keys(net))) == 0, "budget kept in the window"
    alice = net.devices[net.address("alice")]
    assert alice.layer.stats.rebuilds == 1
    window = net.policy.rebuild_window_ms
    assert _resends(net, _receipt(m, 1, bob_id + 2, _keys(net)), advance_ms=window + 1) == 1
    assert alice.layer.stats.rebuilds == 2


def test_an_ignored_receipt_claiming_a_new_registration_id_changes_nothing(net: Network) -> None:
    m = net.send("alice", ["bob"], b"x")
    bob_id = net.devices[net.address("bob")].store.get_local_registration_id()
    alice = net.devices[net.address("alice")]
    assert _resends(net, _receipt(m, 1, bob_id, None)) == 1
    before = alice.store.records("rebuild")
    # A count past the budget is ignored, and its new registration id is not recorded.
    over = net.policy.max_retries + 1
    assert _resends(net, _receipt(m, over, bob_id + 7, None)) == 0
    assert alice.store.records("rebuild") == before
    # So a real reinstall right after is still accepted at once.
    assert _resends(net, _receipt(m, 1, bob_id + 1, _keys(net))) == 1
    assert alice.layer.stats.rebuilds == 1
