"""Hostile or stray input to the retry layer: typed errors or logged ignores, no state change."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import replace

import pytest

from axolotl.address import ProtocolAddress
from axolotl.errors import InvalidSignature, UntrustedIdentity, UsageError
from axolotl.keys import generate_identity_key_pair
from axolotl.receipts import IncomingRetryReceipt, KeyBundle, OutgoingRetryReceipt
from axolotl.retry import (
    DeliveryReceipt,
    Envelope,
    FetchBundle,
    Priority,
    Transmit,
    WakeAt,
    address_to_jid,
)
from axolotl.retry.records import OUTBOX, SENDLOG
from axolotl.session import reject_changed_identity
from axolotl.wire import MessageType
from tests.helpers import Network


@pytest.fixture
def net() -> Iterator[Network]:
    n = Network(["alice", "bob", "carol"], seed=5)
    yield n
    n.close()


def _snapshot(net: Network, name: str) -> dict[str, object]:
    store = net.devices[net.address(name)].store
    return {
        kind: store.records(kind)
        for kind in (SENDLOG, OUTBOX, "recv", "delivered", "rebuild", "gap", "skdm")
    } | {"sessions": [store.load_session(a) for a in net.devices]}


def _receipt(
    net: Network, message_id: str, frm: str, count: int = 1, **kw: object
) -> IncomingRetryReceipt:
    store = net.devices[net.address(frm)].store
    return IncomingRetryReceipt(
        message_id=message_id,
        sender=f"{frm}:1@s.example",
        count=count,
        timestamp=1,
        registration_id=store.get_local_registration_id(),
        **kw,  # type: ignore[arg-type]
    )


def _answer(net: Network, receipt: IncomingRetryReceipt, frm: str) -> list[object]:
    alice = net.devices[net.address("alice")]
    return [
        a
        for a in alice.layer.receive_receipt(receipt, net.now, device=net.address(frm))
        if not isinstance(a, WakeAt)
    ]


def test_receipt_for_unknown_id_is_ignored(net: Network, caplog: pytest.LogCaptureFixture) -> None:
    before = _snapshot(net, "alice")
    with caplog.at_level(logging.INFO, logger="axolotl.retry"):
        assert _answer(net, _receipt(net, "NOPE", "bob"), "bob") == []
    assert "unknown" in caplog.text
    assert _snapshot(net, "alice") == before


def test_receipt_after_delivery_is_ignored(net: Network) -> None:
    m = net.send("alice", ["bob"], b"delivered")
    net.run()  # bob's delivery receipt lets alice forget the plaintext
    before = _snapshot(net, "alice")
    assert _answer(net, _receipt(net, m, "bob"), "bob") == []
    assert _snapshot(net, "alice") == before


def test_receipt_from_a_non_recipient_never_gets_a_resend(net: Network) -> None:
    m = net.send("alice", ["bob"], b"for bob only")
    before = _snapshot(net, "alice")
    assert _answer(net, _receipt(net, m, "carol"), "carol") == []
    assert _snapshot(net, "alice") == before


def test_replayed_receipt_is_answered_once_and_budget_holds(net: Network) -> None:
    m = net.send("alice", ["bob"], b"x")  # still in flight: no delivery receipt yet
    first = _answer(net, _receipt(net, m, "bob", 1), "bob")
    assert [type(a) for a in first] == [Transmit]
    assert first[0].envelope.retry_count == 1  # type: ignore[union-attr]
    assert _answer(net, _receipt(net, m, "bob", 1), "bob") == []
    flood: list[object] = []
    for count in range(2, 20):  # a flood: only the budget's worth is answered
        flood += _answer(net, _receipt(net, m, "bob", count), "bob")
    # Keyless receipts on the same base key from count 2 on: one bundle fetch,
    # and the resends wait for it (then go out once, not once per receipt).
    assert [type(a) for a in flood] == [FetchBundle]
    alice = net.devices[net.address("alice")]
    late = alice.layer.tick(net.now + net.policy.bundle_wait_ms)
    resends = [a.envelope for a in late if isinstance(a, Transmit) and a.envelope.retry_count]
    assert [e.retry_count for e in resends if e.retry_count > 1] == [net.policy.max_retries]


def test_bundle_with_bad_signature_raises_and_changes_nothing(net: Network) -> None:
    m = net.send("alice", ["bob"], b"x")  # still in flight: no delivery receipt yet
    ident = net.devices[net.address("bob")].store.get_identity_key_pair().public_key
    keys = KeyBundle(
        identity=ident.raw,
        signed_pre_key_id=1,
        signed_pre_key=bytes(range(32)),
        signed_pre_key_signature=bytes(64),
    )
    before = _snapshot(net, "alice")
    with pytest.raises(InvalidSignature):
        _answer(net, _receipt(net, m, "bob", 2, keys=keys), "bob")
    assert _snapshot(net, "alice") == before


def test_changed_identity_goes_through_the_trust_policy(net: Network) -> None:
    m = net.send("alice", ["bob"], b"x")  # still in flight: no delivery receipt yet
    alice = net.devices[net.address("alice")]
    alice.layer = type(alice.layer)(
        alice.store, alice.address, policy=net.policy, rng=net.rng, trust=reject_changed_identity
    )
    stranger = generate_identity_key_pair(net.rng)
    signed = net.bundle(net.address("bob"))
    keys = KeyBundle(
        identity=stranger.public_key.raw,
        signed_pre_key_id=signed.signed_pre_key_id,
        signed_pre_key=signed.signed_pre_key_public.raw,
        signed_pre_key_signature=stranger.sign(signed.signed_pre_key_public.serialize(), net.rng),
    )
    before = _snapshot(net, "alice")
    with pytest.raises(UntrustedIdentity):
        _answer(net, _receipt(net, m, "bob", 2, keys=keys), "bob")
    assert _snapshot(net, "alice") == before


def test_acks_and_delivery_receipts_for_unknown_ids_are_ignored(net: Network) -> None:
    alice = net.devices[net.address("alice")]
    before = _snapshot(net, "alice")
    assert alice.layer.server_ack("NOPE", net.address("bob"), net.now) == []
    dr = DeliveryReceipt(message_id="NOPE", device=net.address("bob"))
    assert alice.layer.receive_receipt(dr, net.now) == []
    assert _snapshot(net, "alice") == before


def test_misuse_raises_usage_errors(net: Network) -> None:
    alice = net.devices[net.address("alice")]
    bob = net.address("bob")
    with pytest.raises(UsageError):
        alice.layer.send([], "id", b"x", net.now)
    with pytest.raises(UsageError):
        alice.layer.send([bob, bob], "id", b"x", net.now)
    m = net.send("alice", ["bob"], b"x")
    with pytest.raises(UsageError):
        alice.layer.send([bob], m, b"again", net.now)
    env = Envelope(
        message_id="X",
        sender=bob,
        recipient=ProtocolAddress("someone-else", 1),
        type=MessageType.SIGNAL,
        body=b"\x33",
        timestamp_ms=0,
    )
    with pytest.raises(UsageError):
        alice.layer.receive(env, net.now)
    with pytest.raises(UsageError, match="not a receipt"):
        alice.layer.receive_receipt("not a receipt", net.now)  # type: ignore[arg-type]
    with pytest.raises(UsageError):
        Envelope(
            message_id="",
            sender=bob,
            recipient=bob,
            type=MessageType.SIGNAL,
            body=b"",
            timestamp_ms=0,
        )
    with pytest.raises(UsageError):
        Envelope(
            message_id="x",
            sender=bob,
            recipient=bob,
            type=MessageType.SENDER_KEY,
            body=b"",
            timestamp_ms=0,
        )


def test_garbage_envelopes_become_receipts_never_crashes(net: Network) -> None:
    bob = net.devices[net.address("bob")]
    alice = net.address("alice")
    for i, body in enumerate([b"", b"\x33", bytes(100), b"\x33" + bytes(range(80))]):
        for kind in (MessageType.SIGNAL, MessageType.PREKEY, MessageType.SENDER_KEY):
            env = Envelope(
                message_id=f"G{i}{int(kind)}",
                sender=alice,
                recipient=bob.address,
                type=kind,
                body=body,
                timestamp_ms=0,
                group_id="g@g.example",
            )
            actions = bob.layer.receive(env, net.now)
            assert any(type(a).__name__ == "SendReceipt" for a in actions)


def test_actions_come_out_highest_priority_first(net: Network) -> None:
    alice = net.devices[net.address("alice")]
    net.disconnect("alice")
    bob = net.address("bob")
    alice.layer.send([bob], "IMPL", b"typing", net.now, priority=Priority.IMPLICIT)
    alice.layer.send([bob], "RES", b"reaction", net.now, priority=Priority.RESENDABLE)
    alice.layer.send([bob], "DEF", b"text", net.now)
    actions = alice.layer.reconnected(net.now)
    order = [a.envelope.message_id for a in actions if isinstance(a, Transmit)]
    assert order == ["DEF", "RES", "IMPL"]
    assert isinstance(actions[-1], WakeAt)


def test_envelope_replace_keeps_validation() -> None:
    a = ProtocolAddress("a", 1)
    env = Envelope(
        message_id="m", sender=a, recipient=a, type=MessageType.SIGNAL, body=b"x", timestamp_ms=0
    )
    with pytest.raises(UsageError):
        replace(env, retry_count=256)


def test_group_receipt_names_the_asking_device_by_default(net: Network) -> None:
    """A relayed group receipt: from=group, participant=asker; the layer resends to the asker."""
    carol = net.address("carol")
    m = net.send("alice", ["bob", "carol"], b"group", group="g@g.example")
    outgoing = OutgoingRetryReceipt.for_failed_message(
        message_id=m,
        sender="g@g.example",
        participant=address_to_jid(net.address("alice")),
        timestamp=1,
        count=1,
        registration_id=net.devices[carol].store.get_local_registration_id(),
    )
    incoming = outgoing.received_from(address_to_jid(carol))
    assert incoming.sender == "g@g.example" and incoming.participant == address_to_jid(carol)
    alice = net.devices[net.address("alice")]
    actions = alice.layer.receive_receipt(incoming, net.now)  # no device given
    (resend,) = [a for a in actions if isinstance(a, Transmit)]
    assert resend.envelope.recipient == carol and resend.envelope.retry_count == 1


@pytest.mark.parametrize("bad", ["too many", "short key", "wrong key type"])
def test_malformed_replaced_positions_in_a_payload_fail_the_message_and_change_nothing(
    net: Network, bad: str
) -> None:
    from axolotl._pb import payload_pb2 as pb
    from axolotl.framing import Payload
    from axolotl.retry import Deliver, SendReceipt
    from axolotl.session import encrypt

    alice, bob = net.devices[net.address("alice")], net.devices[net.address("bob")]
    net.send("alice", ["bob"], b"a session first")
    net.send("bob", ["alice"], b"and back")
    net.run()
    payload = pb.Payload(body=b"authentic, but its payload is malformed")
    key, count = {
        "too many": (b"\x05" + bytes(32), Payload.MAX_REPLACES + 1),
        "short key": (b"\x05" + bytes(31), 1),
        "wrong key type": (b"\x08" + bytes(32), 1),
    }[bad]
    for counter in range(count):
        payload.replaces.add(ratchet_key=key, counter=counter)
    message = encrypt(alice.store, bob.address, payload.SerializeToString())
    before = _snapshot(net, "bob")
    env = Envelope(
        message_id="BADPAYLOAD",
        sender=alice.address,
        recipient=bob.address,
        type=message.type,
        body=message.body,
        timestamp_ms=0,
    )
    actions = bob.layer.receive(env, net.now)
    assert not any(isinstance(a, Deliver) for a in actions)
    assert any(isinstance(a, SendReceipt) for a in actions)
    after = _snapshot(net, "bob")
    assert after["sessions"] == before["sessions"], "the failed decrypt left the session as it was"
    assert after["delivered"] == before["delivered"]
