"""Gap detection around corrupted messages: a recovered message is never reported missing.

A transmission the receiver could not read leaves its counter unseen on the
sender's chain (or, with a corrupted ratchet key, seen on a chain that does
not exist). Under the native framing the resend names the transmissions it
replaces, so once it is delivered those counters are accounted for; under the
WhatsApp framing the receiver puts the missing counter down to the failure it
asked a resend for. A message that truly never came is still reported.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from axolotl.address import ProtocolAddress
from axolotl.errors import DecodeError
from axolotl.framing import Framing, Payload
from axolotl.receipts.jid import address_to_jid
from axolotl.retry import Deliver, Gap, SendReceipt, Transmit
from axolotl.retry.policy import Priority
from axolotl.retry.records import DeviceState, SendLogEntry
from tests.framing_helpers import FRAMINGS, body_of
from tests.framing_helpers import FramedNetwork as Network

GRACE_MS = 10_000  # the default policy's gap_grace_ms

# Where to flip a bit in a SignalMessage (offset, mask): the version byte's
# high nibble (unreadable), inside the ratchet key (readable, wrong chain),
# the ciphertext (readable, right chain, bad MAC).
WHERE = {"version byte": (0, 0x40), "ratchet key": (10, 0x04), "ciphertext": (-12, 0x04)}


@pytest.fixture(params=sorted(FRAMINGS))
def framing(request: pytest.FixtureRequest) -> Framing:
    return FRAMINGS[request.param]


@pytest.fixture
def net(framing: Framing) -> Iterator[Network]:
    n = Network(["alice", "bob"], seed=31, framing=framing)
    yield n
    n.close()


def _one_transmit(actions: list[object]) -> Transmit:
    (t,) = [a for a in actions if isinstance(a, Transmit)]
    return t


@pytest.mark.parametrize("where", list(WHERE))
def test_a_recovered_message_is_not_reported_missing(
    net: Network, framing: Framing, where: str
) -> None:
    alice_a, bob_a = net.address("alice"), net.address("bob")
    alice, bob = net.devices[alice_a].layer, net.devices[bob_a].layer
    now = net.now
    hello, victim_body = body_of(framing, b"hello"), body_of(framing, b"victim")
    # An established session both ways, so later messages are plain SignalMessages.
    for sender, receiver, to in ((alice, bob, bob_a), (bob, alice, alice_a)):
        env = _one_transmit(sender.send([to], sender.new_message_id(), hello, now)).envelope
        assert any(isinstance(a, Deliver) for a in receiver.receive(env, now))
    victim = alice.new_message_id()
    env = _one_transmit(alice.send([bob_a], victim, victim_body, now)).envelope
    body = bytearray(env.body)
    offset, mask = WHERE[where]
    body[offset] ^= mask
    broken = type(env)(
        **{f: getattr(env, f) for f in env.__slots__ if f != "body"}, body=bytes(body)
    )
    (ask,) = [a for a in bob.receive(broken, now) if isinstance(a, SendReceipt)]
    # The next message arrives: the victim's counter is now skipped on the real chain.
    later_body = body_of(framing, b"later")
    later = _one_transmit(alice.send([bob_a], alice.new_message_id(), later_body, now)).envelope
    assert any(isinstance(a, Deliver) for a in bob.receive(later, now))
    receipt = ask.receipt.received_from(address_to_jid(bob_a))
    resend = _one_transmit(alice.receive_receipt(receipt, now + 100)).envelope
    delivered = [a for a in bob.receive(resend, now + 200) if isinstance(a, Deliver)]
    assert [d.plaintext for d in delivered] == [victim_body]
    actions = bob.tick(now + 2 * GRACE_MS)
    assert not [a for a in actions if isinstance(a, Gap)]


def test_a_resend_that_crossed_the_delivery_is_not_reported_missing(
    net: Network, framing: Framing
) -> None:
    """A corrupted copy asks, an intact copy delivers, the resend then arrives as a duplicate.

    The resend took a counter on alice's chain that bob never decrypts (the
    message was delivered already); it arrived, so it is not a gap.
    """
    alice_a, bob_a = net.address("alice"), net.address("bob")
    alice, bob = net.devices[alice_a].layer, net.devices[bob_a].layer
    now = net.now
    env = _one_transmit(alice.send([bob_a], "TWICE", body_of(framing, b"twice"), now)).envelope
    broken = type(env)(
        **{f: getattr(env, f) for f in env.__slots__ if f != "body"},
        body=env.body[:-1] + bytes([env.body[-1] ^ 1]),
    )
    (ask,) = [a for a in bob.receive(broken, now) if isinstance(a, SendReceipt)]
    assert any(isinstance(a, Deliver) for a in bob.receive(env, now))  # the intact copy
    receipt = ask.receipt.received_from(address_to_jid(bob_a))
    resend = _one_transmit(alice.receive_receipt(receipt, now + 100)).envelope
    assert not any(isinstance(a, Deliver) for a in bob.receive(resend, now + 200))
    later = _one_transmit(alice.send([bob_a], "LATER", body_of(framing, b"later"), now)).envelope
    assert any(isinstance(a, Deliver) for a in bob.receive(later, now + 300))
    assert not [a for a in bob.tick(now + 2 * GRACE_MS) if isinstance(a, Gap)]


def test_a_message_that_never_came_is_still_reported(net: Network, framing: Framing) -> None:
    alice_a, bob_a = net.address("alice"), net.address("bob")
    alice, bob = net.devices[alice_a].layer, net.devices[bob_a].layer
    now = net.now
    one, lost, three = (body_of(framing, t) for t in (b"one", b"lost on the server", b"three"))
    first = _one_transmit(alice.send([bob_a], alice.new_message_id(), one, now)).envelope
    bob.receive(first, now)
    alice.send([bob_a], alice.new_message_id(), lost, now)
    third = _one_transmit(alice.send([bob_a], alice.new_message_id(), three, now)).envelope
    bob.receive(third, now)
    gaps = [a for a in bob.tick(now + 2 * GRACE_MS) if isinstance(a, Gap)]
    assert len(gaps) == 1 and gaps[0].sender == alice_a and len(gaps[0].missing) == 1


_positions = st.lists(
    st.tuples(st.binary(min_size=32, max_size=32), st.integers(0, 2**32 - 1)), max_size=16
)


@given(st.binary(max_size=64), _positions)
def test_payload_round_trips_its_replaced_positions(body: bytes, positions: list) -> None:  # type: ignore[type-arg]
    payload = Payload(body, replaces=tuple(positions))
    assert Payload.parse(payload.serialize()) == payload


def test_payload_refuses_malformed_positions() -> None:
    from axolotl._pb import payload_pb2 as pb

    too_many = pb.Payload(body=b"x")
    for i in range(Payload.MAX_REPLACES + 1):
        too_many.replaces.add(ratchet_key=b"\x05" + bytes(32), counter=i)
    bad_key = pb.Payload(body=b"x")
    bad_key.replaces.add(ratchet_key=b"\x05" + bytes(31), counter=1)
    wrong_type = pb.Payload(body=b"x")
    wrong_type.replaces.add(ratchet_key=b"\x08" + bytes(32), counter=1)
    no_counter = pb.Payload(body=b"x")
    no_counter.replaces.add(ratchet_key=b"\x05" + bytes(32))
    for msg in (too_many, bad_key, wrong_type, no_counter):
        with pytest.raises(DecodeError):
            Payload.parse(msg.SerializeToString())


def test_the_send_log_keeps_the_last_positions_of_each_device() -> None:
    ds = DeviceState(ProtocolAddress("bob@s.example", 1))
    for counter in range(DeviceState.MAX_SENT + 3):
        ds.note_sent((bytes([counter]) * 32, counter))
    assert [c for _, c in ds.sent] == list(range(3, DeviceState.MAX_SENT + 3))
    entry = SendLogEntry("m", b"p", 1, None, Priority.DEFAULT, [ds])
    assert SendLogEntry.deserialize(entry.serialize()).devices[0].sent == ds.sent
