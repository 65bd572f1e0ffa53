"""yowsup 3.3.0's own axolotl layers, two or three of them talking through the model server.

Proves the harness (``tests/peers/yowsup_layers_peer.py`` + ``yowsup_client.py``)
before our own stack joins it: every receipt, key fetch and resend below comes from
yowsup's ``AxolotlSendLayer`` / ``AxolotlReceivelayer`` / ``AxolotlManager``; the
tests only carry stanzas, corrupt them, drop them or wipe state. ``test_pin_*``
tests pin yowsup 3.3.0 misbehaviour (each says what a peer of yowsup must expect).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.peers.client import PeerError
from tests.peers.fixtures import yowsup_layers_peer  # noqa: F401 (registers the fixture)
from tests.peers.yowsup_client import (
    Node,
    WhatsAppServer,
    YowsupLayersPeer,
    YowsupUser,
    break_mac,
    data_of,
    flip_byte,
    kids,
    need,
    replace_enc,
)

# One peer process serves the session: every test takes fresh numbers.
_phones = itertools.count(4915550100001)
_groups = itertools.count(1600000001)


@dataclass
class World:
    peer: YowsupLayersPeer
    server: WhatsAppServer

    def user(self, *, autotrust: bool = False) -> YowsupUser:
        # 16 prekeys instead of yowsup's 812 per connect: ~0.17 s less per user.
        user = YowsupUser(self.peer, str(next(_phones)), autotrust=autotrust, prekeys=16)
        return self.server.join(user)

    def group(self, *members: YowsupUser) -> str:
        jid = f"{members[0].jid.split('@')[0]}-{next(_groups)}@g.us"
        return self.server.create_group(jid, [m.jid for m in members])

    def send(self, user: YowsupUser, to: str, text: str, message_id: str) -> int:
        """Send and run to quiescence; return the hop index the exchange starts at."""
        start = len(self.server.hops)
        self.server.submit(user.jid, user.send_text(to, text, message_id))
        self.server.run()
        return start

    def pair(self) -> tuple[YowsupUser, YowsupUser]:
        """Two users with a session both ways (so the next message is a ``msg``)."""
        a, b = self.user(), self.user()
        self.send(a, b.jid, "setup 1", f"setup-{a.jid}")
        self.send(b, a.jid, "setup 2", f"setup-{b.jid}")
        return a, b


@pytest.fixture
def world(yowsup_layers_peer: YowsupLayersPeer) -> World:  # noqa: F811
    return World(yowsup_layers_peer, WhatsAppServer())


def tamper(
    server: WhatsAppServer,
    message_id: str,
    dst: str,
    *,
    skip: int = 0,
    times: int = 1,
    only: str | None = None,
    edit: Callable[[Node], Node] = break_mac,
) -> None:
    """Apply ``edit`` to the ``<enc>`` children (of type ``only``) of deliveries of one
    message to ``dst``: leave the first ``skip`` alone, then change ``times`` of them."""
    seen = itertools.count()

    def intercept(src: str, to: str, stanza: Node) -> Node | None:
        if stanza["tag"] != "message" or stanza["attrs"]["id"] != message_id or to != dst:
            return stanza
        if not skip <= next(seen) < skip + times:
            return stanza
        return replace_enc(
            stanza, lambda e: edit(e) if only is None or e["attrs"]["type"] == only else e
        )

    server.intercept = intercept


def retry_counts(server: WhatsAppServer, user: YowsupUser) -> list[str]:
    return [need(r, "retry")["attrs"]["count"] for r in server.sent("receipt", user.jid)]


def tags_since(server: WhatsAppServer, start: int, src: str) -> list[str]:
    return [h.node["tag"] for h in server.hops[start:] if h.kind == "send" and h.src == src]


def assert_clean(*users: YowsupUser) -> None:
    for user in users:
        assert user.raised == [], user.raised
        assert user.state()["wedged"] == []


# ---------------------------------------------------------------------------
# plain messages


def test_pairwise_messages_both_ways(world: World) -> None:
    a, b = world.user(), world.user()
    world.send(a, b.jid, "hello", "P-1")
    world.send(b, a.jid, "hi", "P-2")
    world.send(a, b.jid, "again", "P-3")
    assert b.bodies() == ["hello", "again"]
    assert a.bodies() == ["hi"]
    assert [(m["id"], m["from"], m["participant"]) for m in b.delivered] == [
        ("P-1", a.jid, None),
        ("P-3", a.jid, None),
    ]

    # yowsup fetched b's keys once, through the server, before its first message.
    assert world.server.key_requests == [[b.jid]]
    get_keys = world.server.sent("iq", a.jid)[0]
    assert {k: v for k, v in get_keys["attrs"].items() if k != "id"} == {
        "type": "get",
        "xmlns": "encrypt",
        "to": "s.whatsapp.net",
    }
    assert [u["attrs"] for u in kids(need(get_keys, "key"), "user")] == [{"jid": b.jid}]

    sent = world.server.sent("message", a.jid)
    assert [m["attrs"] for m in sent] == [
        {"type": "text", "id": "P-1", "to": b.jid},
        {"type": "text", "id": "P-3", "to": b.jid},
    ]
    assert [[c["attrs"] for c in m["children"]] for m in sent] == [
        [{"type": "pkmsg", "v": "2"}],
        [{"type": "msg", "v": "2"}],
    ]
    # What the server delivers (its rewrite) is what yowsup's receive layer reads.
    assert set(world.server.delivered("message", b.jid)[0]["attrs"]) == {"type", "id", "from", "t"}
    messages = [u["message"] for u in b.up if u["message"] is not None]
    assert messages == [
        {"fields": [1], "conversation": "hello"},
        {"fields": [1], "conversation": "again"},
    ]
    assert_clean(a, b)


def test_plaintext_padding_as_observed(world: World) -> None:
    a, b, c, d = world.user(), world.user(), world.user(), world.user()
    for i in range(4):
        world.send(a, b.jid, f"text {i}", f"F-{i}")
    world.send(a, world.group(a, c, d), "to the group", "F-G")

    # 4 pairwise, a sender-key handover (pkmsg) each for c and d, one skmsg.
    pads = [f for f in a.framing if f["op"] == "pad"]
    assert len(pads) == 7
    for pad in pads:
        assert 1 <= pad["n"] <= 255
        assert bytes.fromhex(pad["padding"]) == bytes([pad["n"]]) * pad["n"]
    # The receivers strip by the last byte exactly what a added.
    tails = [[f["tail"] for f in user.framing if f["op"] == "unpad"] for user in (b, c, d)]
    padding = [p["padding"] for p in pads]
    assert tails == [padding[:4], [padding[4], padding[6]], [padding[5], padding[6]]]
    assert_clean(a, b, c, d)


def test_group_fan_out_then_sender_key_only(world: World) -> None:
    a, b, c = world.user(), world.user(), world.user()
    group = world.group(a, b, c)
    start = world.send(a, group, "group one", "G-1")
    assert b.bodies() == ["group one"]
    assert c.bodies() == ["group one"]
    assert [(m["from"], m["participant"]) for m in b.delivered] == [(group, a.jid)]

    # yowsup asks the group's members, then the keys of everyone but itself.
    assert tags_since(world.server, start, a.jid) == ["iq", "iq", "message"]
    group_info = world.server.sent("iq", a.jid)[0]
    assert group_info["attrs"]["xmlns"] == "w:g2" and group_info["attrs"]["to"] == group
    assert world.server.key_requests == [[b.jid, c.jid]]

    first = world.server.sent("message", a.jid)[0]
    assert first["attrs"] == {"type": "text", "id": "G-1", "to": group}
    assert [ch["tag"] for ch in first["children"]] == ["enc", "participants"]
    assert need(first, "enc")["attrs"] == {"type": "skmsg", "v": "2"}
    to_nodes = kids(need(first, "participants"), "to")
    assert [t["attrs"] for t in to_nodes] == [{"jid": b.jid}, {"jid": c.jid}]
    assert [[e["attrs"] for e in t["children"]] for t in to_nodes] == [
        [{"type": "pkmsg", "v": "2"}],
        [{"type": "pkmsg", "v": "2"}],
    ]
    # The pkmsg carries only the sender key (field 2), the skmsg only the text.
    handover, text = (u["message"] for u in b.up)
    assert handover["fields"] == [2]
    assert handover["sender_key_distribution_message"]["group_id"] == group
    assert text == {"fields": [1], "conversation": "group one"}

    world.send(a, group, "group two", "G-2")
    second = world.server.sent("message", a.jid)[1]
    assert [ch["attrs"] for ch in second["children"]] == [{"type": "skmsg", "v": "2"}]
    assert b.bodies() == c.bodies() == ["group one", "group two"]
    assert {"group_id": group, "sender": a.jid.split("@")[0]} in b.state()["sender_keys"]
    assert a.state()["sender_keys"] == [{"group_id": group, "sender": a.jid.split("@")[0]}]
    assert_clean(a, b, c)


# ---------------------------------------------------------------------------
# retry conversations


@pytest.mark.parametrize("established", [True, False], ids=["msg", "pkmsg"])
def test_corrupted_message_retry_resend_delivered_once(world: World, established: bool) -> None:
    a, b = world.pair() if established else (world.user(), world.user())
    tamper(world.server, "C-1", b.jid)
    start = world.send(a, b.jid, "precious", "C-1")
    assert b.bodies().count("precious") == 1

    original = world.server.delivered("message", b.jid)[-2]
    assert need(original, "enc")["attrs"]["type"] == ("msg" if established else "pkmsg")
    [receipt] = world.server.sent("receipt", b.jid)
    assert receipt["attrs"] == {"id": "C-1", "to": a.jid, "type": "retry"}
    assert [c["tag"] for c in receipt["children"]] == ["retry", "registration"]
    retry = need(receipt, "retry")
    assert retry["attrs"] == {"count": "1", "id": "C-1", "v": "1", "t": original["attrs"]["t"]}
    assert data_of(need(receipt, "registration")) == b.registration_id.to_bytes(4, "big")
    incoming = world.server.delivered("receipt", a.jid)[0]
    assert set(incoming["attrs"]) == {"id", "type", "from", "t"}

    # The sender acks the receipt, re-fetches the keys (always: even when its
    # session was fine) and resends under the same id, from a new session.
    first_keys = [] if established else ["iq"]
    assert tags_since(world.server, start, a.jid) == [
        *first_keys,
        "message",
        "ack",
        "iq",
        "message",
    ]
    ack = world.server.sent("ack", a.jid)[0]
    assert ack["attrs"] == {"id": "C-1", "class": "receipt", "type": "retry", "to": b.jid}
    resend = world.server.sent("message", a.jid)[-1]
    assert resend["attrs"] == {"type": "text", "id": "C-1", "to": b.jid}
    assert [c["attrs"] for c in resend["children"]] == [{"type": "pkmsg", "v": "2"}]
    assert b.state()["retries"] == {}

    world.send(b, a.jid, "got it", "C-2")
    world.send(a, b.jid, "good", "C-3")
    assert a.bodies()[-1] == "got it" and b.bodies()[-1] == "good"
    assert_clean(a, b)


def test_second_failure_at_count_two(world: World) -> None:
    a, b = world.pair()
    tamper(world.server, "T-1", b.jid, times=2)
    world.send(a, b.jid, "third time lucky", "T-1")
    assert b.bodies().count("third time lucky") == 1
    assert retry_counts(world.server, b) == ["1", "2"]
    deliveries = world.server.delivered("message", b.jid)[-3:]
    receipts = world.server.sent("receipt", b.jid)
    # Each receipt carries the t of the copy that failed (the server stamps each copy).
    assert [need(r, "retry")["attrs"]["t"] for r in receipts] == [
        d["attrs"]["t"] for d in deliveries[:2]
    ]
    assert [need(d, "enc")["attrs"]["type"] for d in deliveries] == ["msg", "pkmsg", "pkmsg"]
    assert b.state()["retries"] == {}
    assert_clean(a, b)


def test_receiver_lost_its_session(world: World) -> None:
    a, b = world.pair()
    assert b.wipe_session(a.jid)
    start = world.send(a, b.jid, "after the wipe", "W-1")
    assert b.bodies().count("after the wipe") == 1
    # NoSession: yowsup's receive layer first fetches the *sender's* keys, builds
    # a session from them, fails to decrypt with it and only then asks.
    assert tags_since(world.server, start, b.jid) == ["iq", "receipt"]
    assert world.server.key_requests[-2:] == [[a.jid], [b.jid]]
    assert retry_counts(world.server, b) == ["1"]
    assert tags_since(world.server, start, a.jid) == ["message", "ack", "iq", "message"]
    world.send(b, a.jid, "reply", "W-2")
    world.send(a, b.jid, "and on", "W-3")
    assert a.bodies()[-1] == "reply" and b.bodies()[-1] == "and on"
    assert_clean(a, b)


def test_prekey_already_used_invalid_key_id(world: World) -> None:
    a, b = world.user(), world.user()
    world.send(a, b.jid, "first", "K-1")
    [(jid, used)] = world.server.served_bundles
    assert jid == b.jid
    # a starts over from the bundle b already consumed (a replaying server).
    a.wipe_session(b.jid)
    world.server.stale_bundles[b.jid] = [used]
    world.send(a, b.jid, "second", "K-2")
    assert b.bodies() == ["first", "second"]
    assert retry_counts(world.server, b) == ["1"]
    assert world.server.served_bundles[-1][1]["pre_key_id"] != used["pre_key_id"]
    assert_clean(a, b)


def test_group_member_without_sender_key(world: World) -> None:
    a, b, c = world.user(), world.user(), world.user()
    group = world.group(a, b, c)
    world.send(a, group, "one", "S-1")
    assert b.wipe_sender_key(group, a.jid)
    start = world.send(a, group, "two", "S-2")
    assert b.bodies() == ["one", "two"] and c.bodies() == ["one", "two"]

    [receipt] = world.server.sent("receipt", b.jid)
    assert receipt["attrs"] == {"id": "S-2", "participant": a.jid, "to": group, "type": "retry"}
    incoming = world.server.delivered("receipt", a.jid)[0]
    assert incoming["attrs"]["from"] == group and incoming["attrs"]["participant"] == b.jid
    assert tags_since(world.server, start, a.jid) == ["message", "ack", "iq", "message"]
    ack = world.server.sent("ack", a.jid)[0]
    assert ack["attrs"] == {
        "id": "S-2",
        "class": "receipt",
        "type": "retry",
        "to": group,
        "participant": b.jid,
    }
    # The resend goes to b alone: the original Message with the sender key merged in.
    resend = world.server.sent("message", a.jid)[-1]
    assert resend["attrs"] == {"type": "text", "id": "S-2", "participant": b.jid, "to": group}
    assert [ch["attrs"] for ch in resend["children"]] == [{"type": "pkmsg", "v": "2"}]
    recovered = b.up[-1]["message"]
    assert recovered["fields"] == [1, 2] and recovered["conversation"] == "two"
    assert recovered["sender_key_distribution_message"]["group_id"] == group
    assert len(world.server.delivered("message", c.jid)) == 2

    world.send(a, group, "three", "S-3")
    assert b.bodies() == c.bodies() == ["one", "two", "three"]
    assert_clean(a, b, c)


def test_group_corrupted_sender_key_message(world: World) -> None:
    a, b, c = world.user(), world.user(), world.user()
    group = world.group(a, b, c)
    world.send(a, group, "one", "X-1")
    tamper(world.server, "X-2", b.jid, only="skmsg")
    world.send(a, group, "two", "X-2")
    assert b.bodies() == c.bodies() == ["one", "two"]
    assert retry_counts(world.server, b) == ["1"]
    world.send(a, group, "three", "X-3")
    assert b.bodies() == c.bodies() == ["one", "two", "three"]
    assert_clean(a, b, c)


def test_group_second_failure_at_count_two(world: World) -> None:
    a, b, c = world.user(), world.user(), world.user()
    group = world.group(a, b, c)
    world.send(a, group, "one", "Y-1")
    # The skmsg breaks (bad signature), then the pairwise resend (bad MAC).
    tamper(world.server, "Y-2", b.jid, times=2)
    world.send(a, group, "two", "Y-2")
    assert b.bodies() == c.bodies() == ["one", "two"]
    assert retry_counts(world.server, b) == ["1", "2"]
    types = [
        [e["attrs"]["type"] for e in kids(m, "enc")]
        for m in world.server.delivered("message", b.jid)
    ]
    assert types[-3:] == [["skmsg"], ["pkmsg"], ["pkmsg"]]
    world.send(a, group, "three", "Y-3")
    assert b.bodies()[-1] == "three"
    assert_clean(a, b, c)


# ---------------------------------------------------------------------------
# yowsup 3.3.0 misbehaviour, pinned


@pytest.mark.parametrize(
    ("kind", "index", "error"),
    [
        ("msg", 0, "InvalidMessageException"),  # version byte 0x33 -> 0xcc: "Unknown version"
        ("msg", 1, "DecodeError"),  # protobuf's own error leaks out of python-axolotl
        ("pkmsg", 0, "InvalidVersionException"),
        ("pkmsg", 1, "InvalidMessageException"),
    ],
)
def test_pin_unparseable_message_gets_no_retry(
    world: World, kind: str, index: int, error: str
) -> None:
    """AxolotlManager.decrypt_msg / decrypt_pkmsg build python-axolotl's message
    object *before* their try block, and handleEncMessage catches only yowsup's own
    exception classes: a ciphertext that does not parse escapes the receive layer
    (in a real stack, into the socket loop). No receipt, the message is lost."""
    a, b = world.pair() if kind == "msg" else (world.user(), world.user())
    tamper(world.server, "U-1", b.jid, edit=lambda e: flip_byte(e, index))
    world.send(a, b.jid, "lost", "U-1")
    assert b.bodies().count("lost") == 0
    assert world.server.sent("receipt", b.jid) == []
    assert [r["error"] for r in b.raised] == [error]
    # Raised where the manager builds the message, outside its try block.
    assert b.raised[0]["yowsup_frame"].startswith("manager.py:")
    assert b.raised[0]["yowsup_frame"].endswith(" decrypt_" + kind)
    assert b.state()["retries"] == {} and b.state()["wedged"] == []
    # The session is untouched: the next message reads.
    world.send(a, b.jid, "next", "U-2")
    assert b.bodies()[-1] == "next"


def test_pin_missing_sender_key_restarts_the_retry_count(world: World) -> None:
    """handleSenderKeyMessage catches NoSession itself and sends the retry, so
    handleEncMessage goes on to reset_retries() as if the message had decrypted:
    after a missing sender key the next failure of the same message says count 1."""
    a, b, c = world.user(), world.user(), world.user()
    group = world.group(a, b, c)
    world.send(a, group, "one", "Z-1")
    b.wipe_sender_key(group, a.jid)
    tamper(world.server, "Z-2", b.jid, skip=1)  # the first resend (a pkmsg) breaks
    world.send(a, group, "two", "Z-2")
    assert b.bodies() == ["one", "two"]
    assert retry_counts(world.server, b) == ["1", "1"]
    assert_clean(a, b, c)


def test_pin_group_sender_key_only_to_members_without_session(world: World) -> None:
    """ensureSessionsAndSendToGroup hands the sender key only to the members it had
    to fetch keys for: a member with a session gets a bare skmsg, fails and asks."""
    a, b, c = world.user(), world.user(), world.user()
    world.send(a, b.jid, "pairwise first", "Q-1")
    group = world.group(a, b, c)
    world.send(a, group, "group", "Q-2")
    first = world.server.sent("message", a.jid)[1]
    assert [t["attrs"]["jid"] for t in kids(need(first, "participants"), "to")] == [c.jid]
    assert world.server.key_requests[1] == [c.jid]
    assert retry_counts(world.server, b) == ["1"]  # recovered by its own retry
    assert b.bodies() == ["pairwise first", "group"] and c.bodies() == ["group"]
    assert_clean(a, b, c)


@pytest.mark.parametrize("autotrust", [False, True])
def test_pin_reinstalled_receiver(world: World, autotrust: bool) -> None:
    """A receiver reinstalls (same number, new identity). Without autotrust the
    sender's rebuild hits UntrustedIdentity and the message is silently dropped
    (gone from its send queue too). With autotrust, AxolotlManager.create_session
    trusts the new identity but does not build the session, so the first resend
    still uses the stale one: one round (count 2) more."""
    a, b = world.user(autotrust=autotrust), world.user(autotrust=autotrust)
    world.send(a, b.jid, "before", "R-1")
    world.send(b, a.jid, "before too", "R-2")
    b2 = world.server.join(
        YowsupUser(
            world.peer, b.jid.split("@")[0], autotrust=autotrust, prekeys=16, instance=b.jid + "/2"
        )
    )
    world.send(a, b.jid, "after", "R-3")
    if autotrust:
        assert b2.bodies() == ["after"]
        assert retry_counts(world.server, b2) == ["1", "2"]
        resends = [need(m, "enc")["attrs"]["type"] for m in world.server.sent("message", a.jid)]
        assert resends[-3:] == ["msg", "msg", "pkmsg"]
    else:
        assert b2.bodies() == []
        assert retry_counts(world.server, b2) == ["1"]
        assert "R-3" not in a.state()["sent_queue"]
        assert b2.state()["retries"] == {"R-3": 1}
    assert_clean(a, b2)


def test_pin_no_timer_a_lost_resend_is_never_asked_for_again(world: World) -> None:
    """The receive layer asks only when a copy fails to decrypt; there is no timer.
    If the resend is lost, the message is never asked for again."""
    a, b = world.pair()
    seen = itertools.count()

    def intercept(src: str, to: str, stanza: Node) -> Node | None:
        if stanza["tag"] == "message" and stanza["attrs"]["id"] == "L-1" and to == b.jid:
            # The original arrives broken, the resend is lost.
            return replace_enc(stanza, break_mac) if next(seen) == 0 else None
        return stanza

    world.server.intercept = intercept
    world.send(a, b.jid, "lost resend", "L-1")
    assert retry_counts(world.server, b) == ["1"]
    assert b.bodies().count("lost resend") == 0
    assert b.state()["retries"] == {"L-1": 1}
    world.server.intercept = None
    world.send(a, b.jid, "later", "L-2")
    assert b.bodies()[-1] == "later" and retry_counts(world.server, b) == ["1"]


def test_pin_retry_count_does_not_survive_a_restart(world: World, tmp_path: Path) -> None:
    """The receive layer counts retries in memory (``_retries``): a receiver that
    restarts between two failures of one message says count 1 again. Its sqlite
    store (identity, sessions) does survive."""
    db = str(tmp_path / "axolotl.db")
    a = world.user()
    b = world.server.join(YowsupUser(world.peer, str(next(_phones)), db_path=db, prekeys=16))
    world.send(a, b.jid, "setup", "RS-0")
    restarted: list[YowsupUser] = []
    seen = itertools.count()

    def intercept(src: str, to: str, stanza: Node) -> Node | None:
        if stanza["tag"] != "message" or stanza["attrs"]["id"] != "RS-1":
            return stanza
        n = next(seen)
        if n == 1:  # b restarts on the same store before the resend arrives
            phone = b.jid.split("@")[0]
            again = YowsupUser(world.peer, phone, db_path=db, instance=phone + "/restarted")
            restarted.append(world.server.join(again))
        return replace_enc(stanza, break_mac) if n < 2 else stanza

    world.server.intercept = intercept
    world.send(a, b.jid, "across a restart", "RS-1")
    [b2] = restarted
    assert (b2.registration_id, b2.identity_key) == (b.registration_id, b.identity_key)
    assert b2.bodies() == ["across a restart"]
    assert retry_counts(world.server, b) == ["1", "1"]
    assert_clean(a, b, b2)


def test_pin_no_one_time_prekey_no_message(world: World) -> None:
    """ResultGetKeysIqProtocolEntity requires ``<key>``: a user whose one-time
    prekeys ran out cannot be messaged, and the sender's app hears nothing."""
    a, b = world.user(), world.user()
    world.server.exhausted.add(b.jid)
    world.send(a, b.jid, "hello?", "N-1")
    assert world.server.sent("message", a.jid) == []
    assert a.state()["sent_queue"] == [] and a.state()["sessions"] == []
    assert a.app == [] and a.raised == []


def test_pin_jid_without_keys_is_then_sent_plaintext(world: World) -> None:
    """A get-keys answer without the jid puts it on the send layer's skipEncJids
    (and the first send dies in NotImplementedError): every later message to that
    jid goes out unencrypted, the Message protobuf in a bare ``<proto>``."""
    a = world.user()
    ghost = f"{next(_phones)}@s.whatsapp.net"  # no such user on the server
    world.send(a, ghost, "first", "H-1")
    assert [r["error"] for r in a.raised] == ["NotImplementedError"]
    assert a.state()["skip_enc_jids"] == [ghost]
    [clear] = a.send_text(ghost, "second", "H-2")
    assert clear["attrs"] == {"type": "text", "id": "H-2", "to": ghost}
    assert [c["tag"] for c in clear["children"]] == ["proto"]
    assert data_of(need(clear, "proto")) == b"\x0a\x06second"


def test_pin_duplicate_gets_a_delivery_receipt(world: World) -> None:
    a, b = world.pair()
    world.send(a, b.jid, "once", "D-1")
    again = world.server.delivered("message", b.jid)[-1]
    out = b.receive(again)
    assert b.bodies().count("once") == 1
    assert [n["tag"] for n in out] == ["receipt"]
    assert out[0]["attrs"]["id"] == "D-1" and out[0]["attrs"]["to"] == a.jid
    assert "type" not in out[0]["attrs"]


def test_pin_exception_on_the_way_down_leaves_a_lock_held(world: World) -> None:
    """YowLayer.toLower takes the layer's Lock and releases it only when the layer
    below returns. A text protobuf refuses (a lone surrogate) raises on the way
    down, the app layer's lock stays held, and that layer's next send would block
    forever: the harness reports the user as wedged and refuses instead."""
    a, b = world.user(), world.user()
    assert a.send_text(b.jid, "\ud800", "V-1") == []
    assert [r["error"] for r in a.raised] == ["ValueError"]
    assert a.state()["wedged"] == ["App"]
    with pytest.raises(PeerError) as wedged:
        a.send_text(b.jid, "fine", "V-2")
    assert wedged.value.error == "Wedged"


# ---------------------------------------------------------------------------
# the harness itself


def test_harness_user_as_yowsup_connects(yowsup_layers_peer: YowsupLayersPeer) -> None:  # noqa: F811
    user = YowsupUser(yowsup_layers_peer, str(next(_phones)))
    # Connecting runs AxolotlControlLayer.on_connected: level_prekeys() makes 812.
    assert user.prekeys == 812
    state = user.state()
    assert state["prekeys_pending"] == 812 and state["sessions"] == []
    assert user.up == [] and user.app == [] and user.raised == []
    bundle = user.bundle()
    assert bundle["registration_id"] == user.registration_id
    assert bytes.fromhex(bundle["identity_key"]) == user.identity_key
    assert len(bytes.fromhex(bundle["signed_pre_key_signature"])) == 64
    assert [bundle["pre_key_id"], user.bundle()["pre_key_id"]] == [1, 2]


def test_harness_rejects_bad_requests(yowsup_layers_peer: YowsupLayersPeer) -> None:  # noqa: F811
    with pytest.raises(PeerError) as unknown:
        yowsup_layers_peer.call("no_such_command")
    assert unknown.value.error == "BadRequest"
    with pytest.raises(PeerError) as instance:
        yowsup_layers_peer.call("state", instance="nobody")
    assert instance.value.error == "BadRequest"
    with pytest.raises(PeerError) as phone:
        yowsup_layers_peer.call("create", instance="x", phone="alice")
    assert phone.value.error == "BadRequest"
    with pytest.raises(PeerError) as node:
        yowsup_layers_peer.call("receive", instance="x", node={"tag": 1})
    assert node.value.error == "BadRequest"
