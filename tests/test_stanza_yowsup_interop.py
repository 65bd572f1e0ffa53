"""Message stanzas against yowsup 3.3.0's own axolotl layers (tests/peers/yowsup_layers_peer.py).

* Stanzas we build (``envelope_to_node``, ``envelopes_to_node``), after the
  server's rewrite (``to`` -> ``from``, a ``t`` stamp), are read by yowsup's
  ``AxolotlReceivelayer``: pairwise ``pkmsg`` (with ``count`` and
  ``<device-identity>``), a group handover directed at one member, then the
  shared ``skmsg``; every text reaches its application.
* Stanzas yowsup builds, as sent and as delivered, parse into envelopes whose
  bodies are the Signal messages yowsup encrypted.

The plaintext is framed as a WhatsApp stack expects (a ``Message`` protobuf with
``conversation``, then n bytes of value n), by hand: the framing is not this
module's subject.
"""

from __future__ import annotations

import itertools

from axolotl.address import ProtocolAddress
from axolotl.crypto.curve import PublicKey
from axolotl.keys import PreKeyBundle
from axolotl.receipts import Node
from axolotl.retry import Envelope
from axolotl.retry.stanza import envelope_to_node, envelopes_to_node, parse_message_node
from axolotl.session import (
    create_sender_key_distribution,
    encrypt,
    group_encrypt,
    process_prekey_bundle,
)
from axolotl.wire import MessageType, PreKeySignalMessage, SenderKeyMessage
from tests.parties import Party
from tests.peers.fixtures import yowsup_layers_peer  # noqa: F401 (registers the fixture)
from tests.peers.yowsup_client import (
    WhatsAppServer,
    YowsupLayersPeer,
    YowsupUser,
    data_of,
    kids,
    need,
)

_phones = itertools.count(4915550200001)
_groups = itertools.count(1700000001)
SERVER_T = 1_700_000_500


def _user(peer: YowsupLayersPeer) -> YowsupUser:
    return YowsupUser(peer, str(next(_phones)), prekeys=8)


def _bundle(user: YowsupUser) -> PreKeyBundle:
    b = user.bundle()
    return PreKeyBundle(
        registration_id=b["registration_id"],
        device_id=b["device_id"],
        pre_key_id=b["pre_key_id"],
        pre_key_public=PublicKey.deserialize(bytes.fromhex(b["pre_key_public"])),
        signed_pre_key_id=b["signed_pre_key_id"],
        signed_pre_key_public=PublicKey.deserialize(bytes.fromhex(b["signed_pre_key_public"])),
        signed_pre_key_signature=bytes.fromhex(b["signed_pre_key_signature"]),
        identity_key=PublicKey.deserialize(bytes.fromhex(b["identity_key"])),
    )


def _field(number: int, value: bytes) -> bytes:
    """One length-delimited protobuf field."""
    out = bytearray([number << 3 | 2])
    n = len(value)
    while n >= 0x80:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out) + value


def _whatsapp_text(text: str, pad: int, handover: tuple[str, bytes] | None = None) -> bytes:
    """``Message{conversation = 1 [, senderKeyDistributionMessage = 2]}`` and n bytes of n."""
    message = _field(1, text.encode())
    if handover is not None:
        group, skdm = handover
        message += _field(2, _field(1, group.encode()) + _field(2, skdm))
    return message + bytes([pad]) * pad


def _delivered(node: Node) -> dict[str, object]:
    """The server's rewrite of a pairwise stanza: ``to`` becomes our ``from``, plus ``t``."""
    attrs = {k: v for k, v in node.attrs.items() if k not in ("to", "t")}
    return Node("message", {**attrs, "from": _US_JID, "t": str(SERVER_T)}, node.children).to_dict()


_US_JID = f"{next(_phones)}@s.whatsapp.net"


def test_yowsup_reads_our_stanzas(yowsup_layers_peer: YowsupLayersPeer) -> None:  # noqa: F811
    bob = _user(yowsup_layers_peer)
    us = Party.memory(_US_JID, 0)
    them = ProtocolAddress(bob.jid, 0)
    process_prekey_bundle(us.store, them, _bundle(bob), rng=us.rng)

    def send(
        text: str, message_id: str, retry_count: int = 0, device_identity: bytes | None = None
    ) -> Node:
        message = encrypt(us.store, them, _whatsapp_text(text, 1 + len(text) % 7))
        envelope = Envelope(
            message_id=message_id,
            sender=us.address,
            recipient=them,
            type=message.type,
            body=message.body,
            timestamp_ms=SERVER_T * 1000,
            retry_count=retry_count,
        )
        node = envelope_to_node(envelope, device_identity=device_identity)
        bob.receive(_delivered(node))
        return node

    first = send("hello from us", "S-1", device_identity=b"\x0a\x03adv")
    assert [k.tag for k in first.children] == ["enc", "device-identity"]
    assert first.children[0].attrs["type"] == "pkmsg"
    # a resend's count on the enc (whatsmeow, Baileys) does not disturb yowsup
    second = send("a resend", "S-2", retry_count=2)
    assert second.children[0].attrs == {"v": "2", "type": "pkmsg", "count": "2"}
    assert bob.bodies() == ["hello from us", "a resend"]
    assert [(m["id"], m["from"], m["participant"]) for m in bob.delivered] == [
        ("S-1", _US_JID, None),
        ("S-2", _US_JID, None),
    ]
    assert bob.raised == []
    assert bob.state()["sessions"] == [_US_JID.split("@")[0]]


def test_yowsup_reads_our_group_stanzas(yowsup_layers_peer: YowsupLayersPeer) -> None:  # noqa: F811
    bob = _user(yowsup_layers_peer)
    us = Party.memory(_US_JID, 0)
    them = ProtocolAddress(bob.jid, 0)
    group = f"{_US_JID.split('@')[0]}-{next(_groups)}@g.us"
    process_prekey_bundle(us.store, them, _bundle(bob), rng=us.rng)
    skdm = create_sender_key_distribution(us.store, group, us.address, rng=us.rng)

    def deliver(node: Node) -> None:
        attrs = {k: v for k, v in node.attrs.items() if k not in ("to", "participant", "t")}
        attrs.update({"from": group, "participant": _US_JID, "t": str(SERVER_T)})
        bob.receive(Node("message", attrs, node.children).to_dict())

    # the sender key goes pairwise, directed at bob (as a resend to one member goes)
    handover = encrypt(us.store, them, _whatsapp_text("first", 5, (group, skdm.serialized)))
    directed = envelope_to_node(
        Envelope(
            message_id="G-1",
            sender=us.address,
            recipient=them,
            type=handover.type,
            body=handover.body,
            timestamp_ms=SERVER_T * 1000,
            retry_count=1,
            group_id=group,
        )
    )
    assert (directed.attrs["to"], directed.attrs["participant"]) == (group, bob.jid)
    deliver(directed)
    # then the group message itself: one shared skmsg
    body = group_encrypt(us.store, group, us.address, _whatsapp_text("second", 2), rng=us.rng)
    shared = envelopes_to_node(
        [
            Envelope(
                message_id="G-2",
                sender=us.address,
                recipient=ProtocolAddress(group, 0),
                type=MessageType.SENDER_KEY,
                body=body,
                timestamp_ms=SERVER_T * 1000,
                group_id=group,
            )
        ]
    )
    assert [k.tag for k in shared.children] == ["enc"] and "participant" not in shared.attrs
    deliver(shared)
    assert bob.raised == []
    assert bob.bodies() == ["first", "second"]
    assert [(m["from"], m["participant"]) for m in bob.delivered] == [(group, _US_JID)] * 2
    assert [k["group_id"] for k in bob.state()["sender_keys"]] == [group]


def test_we_read_yowsups_stanzas(yowsup_layers_peer: YowsupLayersPeer) -> None:  # noqa: F811
    server = WhatsAppServer()
    a, b, c = (server.join(_user(yowsup_layers_peer)) for _ in range(3))
    server.submit(a.jid, a.send_text(b.jid, "pairwise", "Y-1"))
    server.run()
    group = server.create_group(
        f"{a.jid.split('@')[0]}-{next(_groups)}@g.us", [a.jid, b.jid, c.jid]
    )
    server.submit(a.jid, a.send_text(group, "to the group", "Y-2"))
    server.run()
    assert b.bodies() == ["pairwise", "to the group"] and c.bodies() == ["to the group"]
    a_addr, b_addr, c_addr = (ProtocolAddress(u.jid, 0) for u in (a, b, c))

    # pairwise, as sent (yowsup writes no t: it reads as 0) and as delivered
    sent = server.sent("message", a.jid)
    out = parse_message_node(Node.from_dict(sent[0]), a_addr)
    [e] = out.envelopes
    assert (e.message_id, e.sender, e.recipient, e.type, e.retry_count, e.timestamp_ms) == (
        "Y-1",
        a_addr,
        b_addr,
        MessageType.PREKEY,
        0,
        0,
    )
    assert e.body == data_of(need(sent[0], "enc"))
    PreKeySignalMessage.parse(e.body)
    delivered = server.delivered("message", b.jid)
    [e_in] = parse_message_node(Node.from_dict(delivered[0]), b_addr).envelopes
    t = int(delivered[0]["attrs"]["t"])
    assert e_in == Envelope(
        **{**{f: getattr(e, f) for f in Envelope.__dataclass_fields__}, "timestamp_ms": t * 1000}
    )

    # the group fan-out: <enc skmsg/> then <participants> with a pkmsg for c, the
    # member yowsup had no session with; b (who had one) gets no sender key in it,
    # asks with a retry receipt, and yowsup resends to b alone: to=group, participant=b
    fan = parse_message_node(Node.from_dict(sent[1]), a_addr)
    assert [(x.recipient, x.type) for x in fan.envelopes] == [
        (c_addr, MessageType.PREKEY),
        (ProtocolAddress(group, 0), MessageType.SENDER_KEY),
    ]
    assert {x.group_id for x in fan.envelopes} == {group}
    [to_c] = kids(need(sent[1], "participants"), "to")
    assert fan.envelopes[0].body == data_of(need(to_c, "enc"))
    SenderKeyMessage.parse(fan.envelopes[1].body)
    assert [need(r, "retry")["attrs"]["count"] for r in server.sent("receipt", b.jid)] == ["1"]
    assert sent[2]["attrs"]["participant"] == b.jid
    [resend] = parse_message_node(Node.from_dict(sent[2]), a_addr).envelopes
    assert (resend.message_id, resend.recipient, resend.group_id, resend.type) == (
        "Y-2",
        b_addr,
        group,
        MessageType.PREKEY,
    )
    assert resend.retry_count == 0  # yowsup 3.3.0 writes no count on a resend
    [resend_in] = parse_message_node(
        Node.from_dict(server.delivered("message", b.jid)[-1]), b_addr
    ).envelopes
    assert (resend_in.sender, resend_in.group_id, resend_in.body) == (a_addr, group, resend.body)
    # as c gets it: its pkmsg and the shared skmsg, from the group, authored by a
    got = parse_message_node(Node.from_dict(server.delivered("message", c.jid)[-1]), c_addr)
    assert [(x.type, x.sender, x.recipient, x.group_id) for x in got.envelopes] == [
        (MessageType.PREKEY, a_addr, c_addr, group),
        (MessageType.SENDER_KEY, a_addr, c_addr, group),
    ]
    assert got.envelopes[1].body == fan.envelopes[1].body
    # a later group message is the skmsg alone
    server.submit(a.jid, a.send_text(group, "again", "Y-3"))
    server.run()
    [alone] = parse_message_node(
        Node.from_dict(server.delivered("message", b.jid)[-1]), b_addr
    ).envelopes
    assert (alone.type, alone.message_id) == (MessageType.SENDER_KEY, "Y-3")
