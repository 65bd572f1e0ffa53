"""The retry layer under the WhatsApp framing: what goes on the wire, and every bad plaintext.

A bad plaintext inside an authentic message (bad padding, a malformed or
empty Message, a malformed field 2) is a typed error inside the layer: the
usual retry receipt goes out, nothing is delivered, and the session (or
sender key) is left as it was.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from axolotl.address import ProtocolAddress
from axolotl.errors import UsageError
from axolotl.framing import Frame, NativeFraming, WhatsAppFraming, conversation, unpad
from axolotl.framing.whatsapp import top_level_fields
from axolotl.retry import (
    Ack,
    Deliver,
    DeliveryReceipt,
    Envelope,
    RetryLayer,
    SendReceipt,
    Transmit,
)
from axolotl.retry.records import OUTBOX, SENDLOG
from axolotl.session import (
    create_sender_key_distribution,
    decrypt_message,
    encrypt,
    group_decrypt,
    group_encrypt,
)
from axolotl.wire import MessageType
from tests.framing_helpers import FramedNetwork

WA = WhatsAppFraming()
GROUP = "g@g.example"


@pytest.fixture
def net() -> Iterator[FramedNetwork]:
    n = FramedNetwork(["alice", "bob", "carol"], seed=41, framing=WA)
    yield n
    n.close()


def _transmits(actions: list[object]) -> list[Envelope]:
    return [a.envelope for a in actions if isinstance(a, Transmit)]


def _established(net: FramedNetwork) -> None:
    net.send("alice", ["bob"], b"a session first")
    net.send("bob", ["alice"], b"and back")
    net.run()


# -- what goes on the wire ------------------------------------------------------------------


def test_a_pairwise_plaintext_is_the_body_and_its_padding(net: FramedNetwork) -> None:
    alice, bob = net.devices[net.address("alice")], net.devices[net.address("bob")]
    body = conversation("hello bob")
    (env,) = _transmits(alice.layer.send([bob.address], "M1", body, net.now))
    plaintext = decrypt_message(bob.store, alice.address, env.type, env.body).plaintext
    pad = plaintext[-1]
    assert 1 <= pad <= WA.max_padding and plaintext == body + bytes([pad]) * pad


def test_a_group_message_carries_the_key_merged_in_then_goes_padded_under_the_sender_key(
    net: FramedNetwork,
) -> None:
    alice = net.devices[net.address("alice")]
    bob, carol = net.devices[net.address("bob")], net.devices[net.address("carol")]
    first = conversation("first")
    envs = _transmits(alice.layer.send([bob.address, carol.address], "G1", first, net.now, GROUP))
    env = next(e for e in envs if e.recipient == carol.address)
    assert env.type in (MessageType.PREKEY, MessageType.SIGNAL)
    message = unpad(decrypt_message(carol.store, alice.address, env.type, env.body).plaintext)
    assert [f for f, *_ in top_level_fields(message)] == [1, 2]  # conversation, then the key
    assert WA.decode_pairwise(message + b"\x01").body == first
    # bob takes it through his layer and confirms: the next message goes as a SenderKeyMessage
    bob_env = next(e for e in envs if e.recipient == bob.address)
    assert any(isinstance(a, Deliver) for a in bob.layer.receive(bob_env, net.now))
    alice.layer.receive_receipt(DeliveryReceipt(message_id="G1", device=bob.address), net.now)
    second = conversation("second")
    envs = _transmits(alice.layer.send([bob.address], "G2", second, net.now, GROUP))
    assert [e.type for e in envs] == [MessageType.SENDER_KEY]
    plaintext = group_decrypt(bob.store, GROUP, alice.address, envs[0].body)
    assert unpad(plaintext) == second and plaintext != second


def test_bodies_the_framing_cannot_carry_are_refused_before_anything_is_stored(
    net: FramedNetwork,
) -> None:
    alice = net.devices[net.address("alice")]
    bob = net.address("bob")
    skdm_inside = conversation("x") + b"\x12\x00"
    for body in (b"", b"hi bob", skdm_inside):
        for group in (None, GROUP):
            with pytest.raises(UsageError):
                alice.layer.send([bob], "REFUSED", body, net.now, group)
    assert alice.store.records(SENDLOG) == [] and alice.store.records(OUTBOX) == []


def test_the_layer_refuses_what_is_not_a_framing(net: FramedNetwork) -> None:
    alice = net.devices[net.address("alice")]
    with pytest.raises(UsageError, match="not a framing"):
        RetryLayer(alice.store, alice.address, framing=object())  # type: ignore[arg-type]
    assert RetryLayer(alice.store, alice.address, framing=WA).framing is WA
    assert isinstance(RetryLayer(alice.store, alice.address).framing, NativeFraming)


# -- bad plaintexts inside authentic messages --------------------------------------------------


def _state(net: FramedNetwork, name: str) -> dict[str, object]:
    store = net.devices[net.address(name)].store
    return {
        "sessions": [store.load_session(a) for a in net.devices],
        "sender_keys": [store.load_sender_key(GROUP, a) for a in net.devices],
        "delivered": store.records("delivered"),
    }


BAD = {
    "padding 0": conversation("hi") + b"\x00",
    "padding longer than the plaintext": b"\x0a\x01x\x09",
    "padding bytes not all n": conversation("hi") + b"\x01\x03\x03",
    "empty plaintext": b"",
    "only padding": b"\x02\x02",
    "not a Message": b"\xff\xff\x01",
    "field 2 malformed": conversation("hi") + b"\x12\x02\xff\xff" + b"\x01",
    "field 2 without the key": conversation("hi") + b"\x12\x03\x0a\x01g" + b"\x01",
    "field 2 with a broken key": conversation("hi") + b"\x12\x06\x0a\x01g\x12\x01\x33" + b"\x01",
}


@pytest.mark.parametrize("bad", list(BAD))
def test_a_bad_pairwise_plaintext_gets_a_receipt_and_changes_nothing(
    net: FramedNetwork, bad: str
) -> None:
    _established(net)
    alice, bob = net.devices[net.address("alice")], net.devices[net.address("bob")]
    message = encrypt(alice.store, bob.address, BAD[bad])
    before = _state(net, "bob")
    env = Envelope(
        message_id="BAD",
        sender=alice.address,
        recipient=bob.address,
        type=message.type,
        body=message.body,
        timestamp_ms=0,
    )
    actions = bob.layer.receive(env, net.now)
    assert not any(isinstance(a, Deliver) for a in actions)
    assert any(isinstance(a, SendReceipt) for a in actions)
    assert _state(net, "bob") == before, "the failed decrypt left the session as it was"


@pytest.mark.parametrize("bad", list(BAD))
def test_a_bad_group_plaintext_gets_a_receipt_and_changes_nothing(
    net: FramedNetwork, bad: str
) -> None:
    net.send("alice", ["bob"], b"the sender key first", group=GROUP)
    net.run()
    alice, bob = net.devices[net.address("alice")], net.devices[net.address("bob")]
    body = group_encrypt(alice.store, GROUP, alice.address, BAD[bad], rng=net.rng)
    before = _state(net, "bob")
    env = Envelope(
        message_id="BADGROUP",
        sender=alice.address,
        recipient=bob.address,
        type=MessageType.SENDER_KEY,
        body=body,
        timestamp_ms=0,
        group_id=GROUP,
    )
    actions = bob.layer.receive(env, net.now)
    assert not any(isinstance(a, Deliver) for a in actions)
    assert any(isinstance(a, SendReceipt) for a in actions)
    assert _state(net, "bob") == before, "the failed decrypt left the sender key as it was"


# -- a WhatsApp stack's group message: a bare handover beside the SenderKeyMessage -------------


def _envelope(
    sender: ProtocolAddress, recipient: ProtocolAddress, kind: int, body: bytes, retry: int = 0
) -> Envelope:
    return Envelope(
        message_id="WAGROUP",
        sender=sender,
        recipient=recipient,
        type=MessageType(kind),
        body=body,
        timestamp_ms=1,
        retry_count=retry,
        group_id=GROUP,
    )


def test_a_bare_handover_then_the_group_message_is_delivered_once(net: FramedNetwork) -> None:
    _established(net)
    alice, bob = net.devices[net.address("alice")], net.devices[net.address("bob")]
    skdm = create_sender_key_distribution(alice.store, GROUP, alice.address, rng=net.rng)
    handover = Frame(body=None, distribution=skdm.serialized, group_id=GROUP)
    pairwise = encrypt(alice.store, bob.address, WA.encode_pairwise(handover, net.rng))
    body = conversation("to the group")
    group = group_encrypt(
        alice.store, GROUP, alice.address, WA.encode_group(body, net.rng), rng=net.rng
    )
    env = _envelope(alice.address, bob.address, pairwise.type, pairwise.body)
    assert [a for a in bob.layer.receive(env, net.now) if type(a).__name__ != "WakeAt"] == []
    skmsg = _envelope(alice.address, bob.address, MessageType.SENDER_KEY, group)
    actions = bob.layer.receive(skmsg, net.now)
    assert [a.plaintext for a in actions if isinstance(a, Deliver)] == [body]
    again = bob.layer.receive(skmsg, net.now)
    assert not any(isinstance(a, Deliver) for a in again) and any(isinstance(a, Ack) for a in again)
    assert bob.layer.stats.handovers_only == 1


def test_a_group_message_before_its_key_is_recovered_by_a_yowsup_style_resend(
    net: FramedNetwork,
) -> None:
    """skmsg first (no key: receipt), the bare handover, then the resend merging key and body."""
    _established(net)
    alice, bob = net.devices[net.address("alice")], net.devices[net.address("bob")]
    skdm = create_sender_key_distribution(alice.store, GROUP, alice.address, rng=net.rng)
    body = conversation("early")
    group = group_encrypt(
        alice.store, GROUP, alice.address, WA.encode_group(body, net.rng), rng=net.rng
    )
    skmsg = _envelope(alice.address, bob.address, MessageType.SENDER_KEY, group)
    assert any(isinstance(a, SendReceipt) for a in bob.layer.receive(skmsg, net.now))
    handover = Frame(body=None, distribution=skdm.serialized, group_id=GROUP)
    bare = encrypt(alice.store, bob.address, WA.encode_pairwise(handover, net.rng))
    actions = bob.layer.receive(
        _envelope(alice.address, bob.address, bare.type, bare.body), net.now
    )
    assert not any(isinstance(a, Deliver | Ack) for a in actions)
    merged = Frame(body=body, distribution=skdm.serialized, group_id=GROUP)
    resend = encrypt(alice.store, bob.address, WA.encode_pairwise(merged, net.rng))
    env = _envelope(alice.address, bob.address, resend.type, resend.body, retry=1)
    actions = bob.layer.receive(env, net.now)
    assert [a.plaintext for a in actions if isinstance(a, Deliver)] == [body]
    assert bob.store.records("recv") == [], "the failure record is settled"


def test_a_native_sender_is_never_read_as_whatsapp(net: FramedNetwork) -> None:
    """Both ends must use the same framing; a mismatch is refused, never delivered as garbage."""
    _established(net)
    alice, bob = net.devices[net.address("alice")], net.devices[net.address("bob")]
    native = RetryLayer(alice.store, alice.address, rng=net.rng)  # the default framing
    delivered = receipts = 0
    # A native Payload ends in the body's last byte, read as the padding: too
    # long, or (small values) it cuts the Payload's own body record short.
    for last in range(1, 40):
        body = bytes([0x08, last])
        (env,) = _transmits(native.send([bob.address], f"N{last}", body, net.now))
        actions = bob.layer.receive(env, net.now)
        delivered += sum(isinstance(a, Deliver) for a in actions)
        receipts += sum(isinstance(a, SendReceipt) for a in actions)
    assert delivered == 0 and receipts == 39
