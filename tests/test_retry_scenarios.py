"""The retry layer end to end, one fault at a time, over the fault-injecting network.

Every scenario runs on every store backend of ``tests/store_fixtures.py`` and
under every framing (``tests/framing_helpers.py``: under the WhatsApp framing
the texts travel as WhatsApp ``Message{conversation}`` bodies).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from axolotl.framing import Framing
from axolotl.receipts import RetryReason
from axolotl.retry import RetryPolicy
from tests.framing_helpers import FRAMINGS
from tests.framing_helpers import FramedNetwork as Network
from tests.helpers import Faults
from tests.store_fixtures import BACKENDS, PERSISTENT_BACKENDS, StoreBackend


@pytest.fixture(params=BACKENDS, ids=str)
def backend(request: pytest.FixtureRequest) -> StoreBackend:
    chosen: StoreBackend = request.param
    return chosen


@pytest.fixture(params=sorted(FRAMINGS))
def framing(request: pytest.FixtureRequest) -> Framing:
    return FRAMINGS[request.param]


@pytest.fixture
def net(backend: StoreBackend, framing: Framing) -> Iterator[Network]:
    n = Network(["alice", "bob", "carol"], seed=1, backend=backend, framing=framing)
    yield n
    n.close()


def _delivered(net: Network, name: str) -> dict[str, bytes]:
    """What ``name`` was given, as the texts the scenario sent."""
    delivered = net.devices[net.address(name)].delivered.items()
    return {mid: net.text(body) for (_, mid), body in delivered}


def test_clean_network_delivers_pairwise_and_group(net: Network) -> None:
    m1 = net.send("alice", ["bob"], b"hi bob")
    m2 = net.send("bob", ["alice", "carol"], b"to both", group="g1@g.example")
    m3 = net.send("carol", ["alice", "bob"], b"group again", group="g1@g.example")
    net.run()
    assert _delivered(net, "bob")[m1] == b"hi bob"
    assert _delivered(net, "alice")[m2] == b"to both"
    assert _delivered(net, "carol")[m2] == b"to both"
    assert _delivered(net, "bob")[m3] == b"group again"
    net.check_exactly_once()
    assert all(d.receipts_sent == 0 for d in net.devices.values())
    # every envelope was acked and every message confirmed: nothing pending
    assert all(not d.layer.pending() for d in net.devices.values())


def test_second_group_message_uses_the_sender_key(net: Network) -> None:
    net.send("alice", ["bob", "carol"], b"first", group="g@g.example")
    net.run()
    before = net.devices[net.address("alice")].transmissions
    m = net.send("alice", ["bob", "carol"], b"second", group="g@g.example")
    net.run()
    assert _delivered(net, "carol")[m] == b"second"
    assert net.devices[net.address("alice")].transmissions == before + 2


def test_corrupted_message_is_recovered_by_one_receipt(net: Network) -> None:
    net.faults = Faults(corrupt=1.0)
    m = net.send("alice", ["bob"], b"fragile")
    net.faults = Faults()
    net.run()
    bob = net.devices[net.address("bob")]
    assert _delivered(net, "bob")[m] == b"fragile"
    assert bob.receipts_sent == 1
    net.check_exactly_once()


def test_wiped_session_is_rebuilt_from_the_key_bundle(net: Network) -> None:
    net.send("alice", ["bob"], b"before")
    net.run()
    net.wipe_session("bob", "alice")
    m = net.send("alice", ["bob"], b"after the wipe")
    net.run()
    assert _delivered(net, "bob")[m] == b"after the wipe"
    net.check_exactly_once()
    reply = net.send("bob", ["alice"], b"and back")
    net.run()
    assert _delivered(net, "alice")[reply] == b"and back"


def test_reinstalled_device_gets_new_messages(net: Network) -> None:
    net.send("alice", ["bob"], b"old bob")
    net.run()
    net.reinstall("bob")
    m = net.send("alice", ["bob"], b"new bob")
    net.run()
    assert _delivered(net, "bob")[m] == b"new bob"
    back = net.send("bob", ["alice"], b"hello from new bob")
    net.run()
    assert _delivered(net, "alice")[back] == b"hello from new bob"


def test_a_copy_re_emitted_to_a_reinstalled_device_is_delivered_again_not_doubled(
    net: Network,
) -> None:
    m = net.send("alice", ["bob"], b"before the reinstall")
    net.disconnect("alice")  # never sees the server's ack: the copy stays in her outbox
    net.faults = Faults(drop=1.0)  # and bob's delivery receipt is lost
    net.run(until_ms=net.now + 100)
    net.faults = Faults()
    assert _delivered(net, "bob")[m] == b"before the reinstall"
    net.reinstall("bob")  # the new bob has no record of having delivered it
    net.reconnect("alice")  # re-emits it; the new bob asks, alice rebuilds and resends
    net.run()
    assert (m, net.address("bob")) in net.delivered_again
    net.check_exactly_once()  # still exactly once within each incarnation
    again = net.send("alice", ["bob"], b"after")
    net.run()
    assert _delivered(net, "bob")[again] == b"after"
    net.check_exactly_once()


def test_a_failure_pending_at_a_reinstalled_device_is_gone_with_it(net: Network) -> None:
    net.send("alice", ["carol"], b"a session first")
    net.run()
    net.faults = Faults(corrupt=1.0)
    m = net.send("alice", ["carol"], b"unreadable")
    net.faults = Faults(drop=1.0)  # carol's retry receipt is lost on its way
    net.run(until_ms=net.now + 100)
    carol = net.devices[net.address("carol")]
    assert carol.receipts_sent == 1 and m not in _delivered(net, "carol")
    net.reinstall("carol")  # her receive record, and its timer, go with the old install
    net.faults = Faults()
    net.run()
    assert (m, net.address("carol")) in net.lost_with_receiver
    assert m not in _delivered(net, "carol")
    net.check_exactly_once()  # not counted lost: the reinstall took it, as with a sender's


def test_lost_sender_key_is_resent_pairwise(net: Network) -> None:
    net.send("alice", ["bob", "carol"], b"first", group="g@g.example")
    net.run()
    carol = net.devices[net.address("carol")]
    # carol loses alice's sender key (e.g. restored from an old backup)
    carol.store.delete_sender_key("g@g.example", net.address("alice"))
    m = net.send("alice", ["bob", "carol"], b"second", group="g@g.example")
    net.run()
    assert _delivered(net, "carol")[m] == b"second"
    assert carol.receipts_sent == 1
    net.check_exactly_once()


def test_budget_exhausted_gives_undecryptable_once(backend: StoreBackend, framing: Framing) -> None:
    policy = RetryPolicy(max_retries=3)
    net = Network(["alice", "bob"], seed=2, policy=policy, backend=backend, framing=framing)
    try:
        net.faults = Faults(corrupt=1.0)
        m = net.send("alice", ["bob"], b"doomed")
        net.run()
        bob = net.devices[net.address("bob")]
        assert [u.message_id for u in bob.undecryptable] == [m]
        assert bob.undecryptable[0].reason == RetryReason.BAD_MAC
        assert bob.receipts_sent == 3
        assert m not in _delivered(net, "bob")
    finally:
        net.close()


def test_dropped_envelopes_are_retransmitted_until_acked(net: Network) -> None:
    net.faults = Faults(drop=0.5)
    ids = [net.send("alice", ["bob"], f"m{i}".encode()) for i in range(20)]
    net.faults = Faults()
    net.run()
    got = _delivered(net, "bob")
    assert all(got[m] == f"m{i}".encode() for i, m in enumerate(ids))
    net.check_exactly_once()


def test_duplicates_are_delivered_once(net: Network) -> None:
    net.faults = Faults(duplicate=1.0, max_delay_ms=200)
    ids = [net.send("alice", ["bob", "carol"], f"d{i}".encode()) for i in range(10)]
    net.run()
    assert set(ids) <= set(_delivered(net, "bob"))
    net.check_exactly_once()


def test_disconnected_sender_reemits_on_reconnect(net: Network) -> None:
    net.disconnect("alice")
    m = net.send("alice", ["bob"], b"offline")
    net.run(until_ms=net.now + 500)
    assert m not in _delivered(net, "bob")
    net.reconnect("alice")
    net.run()
    assert _delivered(net, "bob")[m] == b"offline"


def test_unacked_forever_reports_send_failed(net: Network) -> None:
    net.faults = Faults(drop=1.0)
    m = net.send("alice", ["bob"], b"into the void")
    net.run()
    alice = net.devices[net.address("alice")]
    assert [f.message_id for f in alice.send_failed] == [m]
    net.check_exactly_once()


@pytest.mark.parametrize("persistent", PERSISTENT_BACKENDS, ids=str)
def test_restart_keeps_everything(persistent: StoreBackend, framing: Framing) -> None:
    net = Network(["alice", "bob"], seed=3, backend=persistent, framing=framing)
    try:
        net.faults = Faults(corrupt=1.0)
        m = net.send("alice", ["bob"], b"survive restarts")
        net.faults = Faults()
        net.run(until_ms=net.now + 30)
        net.restart("bob")
        net.restart("alice")
        net.run()
        assert _delivered(net, "bob")[m] == b"survive restarts"
        net.check_exactly_once()
    finally:
        net.close()


def test_gap_is_reported_when_skipped_messages_never_come(net: Network) -> None:
    net.send("alice", ["bob"], b"zero")
    net.run()
    net.faults = Faults(lose=1.0)
    net.send("alice", ["bob"], b"lost")  # the server acks it, then loses it
    net.faults = Faults()
    net.send("alice", ["bob"], b"after the gap")
    net.run()
    bob = net.devices[net.address("bob")]
    assert bob.gaps and bob.gaps[0].sender == net.address("alice")


def test_reordered_traffic_is_delivered_once(net: Network) -> None:
    net.faults = Faults(min_delay_ms=1, max_delay_ms=3_000)
    ids = [net.send("alice", ["bob", "carol"], f"r{i}".encode()) for i in range(30)]
    ids += [net.send("bob", ["alice"], f"b{i}".encode(), group="g@g.example") for i in range(10)]
    net.run()
    got = _delivered(net, "carol")
    assert [got[m] for m in ids[:30]] == [f"r{i}".encode() for i in range(30)]
    net.check_exactly_once()
    assert all(d.receipts_sent == 0 for d in net.devices.values())


def test_send_log_is_pruned_by_age_and_delivered_ids_are_bounded(
    backend: StoreBackend, framing: Framing
) -> None:
    policy = RetryPolicy(send_log_max_age_ms=60_000, delivered_ids_kept=5)
    net = Network(["alice", "bob"], seed=9, policy=policy, backend=backend, framing=framing)
    try:
        net.disconnect("bob")  # nothing is confirmed: the log keeps the plaintext
        m = net.send("alice", ["bob"], b"old")
        alice = net.devices[net.address("alice")]
        assert alice.store.count_records("sendlog") == 1
        net.run(until_ms=net.now + 120_000)
        assert alice.store.count_records("sendlog") == 0, "pruned after its maximum age"
        net.reconnect("bob")
        net.run()
        assert m in _delivered(net, "bob"), "the outbox still delivered it"
        for i in range(12):
            net.send("alice", ["bob"], f"n{i}".encode())
        net.run()
        bob = net.devices[net.address("bob")]
        assert bob.store.count_records("delivered") == 5
        net.check_exactly_once()
    finally:
        net.close()
