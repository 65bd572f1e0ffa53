"""Whole retry conversations between our stack and yowsup 3.3.0's own axolotl layers.

Our side is the README's ``WhatsAppDevice`` (``RetryLayer`` on ``WhatsAppFraming``,
message stanzas), run as written by :class:`~tests.peers.axolotl_whatsapp.AxolotlUser`;
the other side is yowsup's ``AxolotlSendLayer`` / ``AxolotlReceivelayer`` /
``AxolotlManager`` on python-axolotl 0.2.3 and its own store, in the peer venv.
Both talk through the model WhatsApp server (``tests/peers/yowsup_client.py``),
which acks every message. Each scenario runs in both directions: the tests
only carry stanzas, corrupt or drop them, and wipe state.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from tests.peers.axolotl_whatsapp import AxolotlUser
from tests.peers.fixtures import yowsup_layers_peer  # noqa: F401 (registers the fixture)
from tests.peers.yowsup_client import (
    Node,
    WhatsAppServer,
    YowsupLayersPeer,
    YowsupUser,
    break_mac,
    kids,
    need,
    replace_enc,
)

_phones = itertools.count(4915660100001)
_groups = itertools.count(1700000001)

User = AxolotlUser | YowsupUser


@dataclass
class World:
    peer: YowsupLayersPeer
    server: WhatsAppServer

    def yowsup(self) -> YowsupUser:
        user = YowsupUser(self.peer, str(next(_phones)), prekeys=16, receipts=True)
        return self.server.join(user)

    def ours(self) -> AxolotlUser:
        return self.server.join(AxolotlUser(str(next(_phones))))

    def group(self, *members: User) -> str:
        jid = f"{members[0].jid.split('@')[0]}-{next(_groups)}@g.us"
        return self.server.create_group(jid, [m.jid for m in members])

    def send(self, user: User, to: str, text: str, message_id: str) -> int:
        """Send and run to quiescence; return the hop index the exchange starts at."""
        start = len(self.server.hops)
        self.server.submit(user.jid, user.send_text(to, text, message_id))
        self.server.run()
        return start

    def pair(self, first: User, second: User) -> None:
        """A session both ways (so the next message is a ``msg``)."""
        self.send(first, second.jid, "setup 1", f"setup-{first.jid}")
        self.send(second, first.jid, "setup 2", f"setup-{second.jid}")


@pytest.fixture
def world(yowsup_layers_peer: YowsupLayersPeer) -> World:  # noqa: F811
    return World(yowsup_layers_peer, WhatsAppServer(server_acks=True))


def tamper(
    server: WhatsAppServer,
    message_id: str,
    dst: str,
    *,
    times: int = 1,
    only: str | None = None,
    edit: Callable[[Node], Node] = break_mac,
) -> None:
    """Break the ``<enc>`` (of type ``only``) of the first ``times`` deliveries of one
    message to ``dst``."""
    seen = itertools.count()

    def intercept(src: str, to: str, stanza: Node) -> Node | None:
        if stanza["tag"] != "message" or stanza["attrs"]["id"] != message_id or to != dst:
            return stanza
        if next(seen) >= times:
            return stanza
        return replace_enc(
            stanza, lambda e: edit(e) if only is None or e["attrs"]["type"] == only else e
        )

    server.intercept = intercept


def retry_counts(server: WhatsAppServer, user: User) -> list[str]:
    return [
        need(r, "retry")["attrs"]["count"]
        for r in server.sent("receipt", user.jid)
        if r["attrs"].get("type") == "retry"
    ]


def assert_clean(*users: User) -> None:
    for user in users:
        if isinstance(user, YowsupUser):
            assert user.raised == [], user.raised
            assert user.state()["wedged"] == []
        else:
            assert user.errors == [], user.errors
            assert user.device.waiting == []
            assert user.device.unacked == {}
            assert user.device.layer.pending() == []
            assert user.device.fetch == []
            assert user.device.layer.inbox() == []  # every delivery confirmed


DIRECTIONS = ["ours-to-yowsup", "yowsup-to-ours"]


def sender_receiver(world: World, direction: str) -> tuple[User, User]:
    ours, theirs = world.ours(), world.yowsup()
    return (ours, theirs) if direction == "ours-to-yowsup" else (theirs, ours)


# ---------------------------------------------------------------------------
# plain messages


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_pairwise_messages(world: World, direction: str) -> None:
    a, b = sender_receiver(world, direction)
    world.send(a, b.jid, "hello", "P-1")
    world.send(b, a.jid, "hi", "P-2")
    world.send(a, b.jid, "again", "P-3")
    assert b.bodies() == ["hello", "again"]
    assert a.bodies() == ["hi"]
    sent = world.server.sent("message", a.jid)
    assert [[c["attrs"]["type"] for c in m["children"]] for m in sent] == [["pkmsg"], ["msg"]]
    assert world.server.sent("receipt", b.jid) == [
        {"tag": "receipt", "attrs": {"id": i, "to": a.jid}, "children": [], "data": None}
        for i in ("P-1", "P-3")
    ] or isinstance(b, YowsupUser)
    assert_clean(a, b)


def test_ours_padding_and_message_as_yowsup_reads_them(world: World) -> None:
    ours, theirs = world.ours(), world.yowsup()
    for i in range(6):
        world.send(ours, theirs.jid, f"text {i}", f"F-{i}")
    assert theirs.bodies() == [f"text {i}" for i in range(6)]
    # yowsup's manager strips by the last byte exactly what our framing added.
    unpads = [f for f in theirs.framing if f["op"] == "unpad"]
    assert len(unpads) == 6
    for f in unpads:
        tail = bytes.fromhex(f["tail"])
        assert 1 <= len(tail) <= 16 and tail == bytes([len(tail)]) * len(tail)
    messages = [u["message"] for u in theirs.up if u["message"] is not None]
    assert messages == [{"fields": [1], "conversation": f"text {i}"} for i in range(6)]
    assert_clean(ours, theirs)


# ---------------------------------------------------------------------------
# groups


def test_group_ours_sends_to_yowsup_members(world: World) -> None:
    ours, b, c = world.ours(), world.yowsup(), world.yowsup()
    group = world.group(ours, b, c)
    world.send(ours, group, "group one", "G-1")
    world.send(ours, group, "group two", "G-2")
    assert b.bodies() == c.bodies() == ["group one", "group two"]
    assert [(m["from"], m["participant"]) for m in b.delivered] == [(group, ours.jid)] * 2
    first, second = world.server.sent("message", ours.jid)
    assert first["attrs"]["to"] == group
    assert [t["attrs"] for t in kids(need(first, "participants"), "to")] == [
        {"jid": b.jid},
        {"jid": c.jid},
    ]
    # The first carries the sender key merged into the text, the second is skmsg alone.
    handover = next(u["message"] for u in b.up if u["message"] is not None)
    assert handover["fields"] == [1, 2] and handover["conversation"] == "group one"
    assert handover["sender_key_distribution_message"]["group_id"] == group
    assert [ch["attrs"]["type"] for ch in second["children"]] == ["skmsg"]
    assert {"group_id": group, "sender": ours.jid.split("@")[0]} in b.state()["sender_keys"]
    assert_clean(ours, b, c)


def test_group_yowsup_sends_to_ours(world: World) -> None:
    a, ours, c = world.yowsup(), world.ours(), world.yowsup()
    group = world.group(a, ours, c)
    world.send(a, group, "group one", "H-1")
    world.send(a, group, "group two", "H-2")
    assert ours.shown() == [
        ("H-1", a.jid, group, "group one"),
        ("H-2", a.jid, group, "group two"),
    ]
    assert c.bodies() == ["group one", "group two"]
    # Our delivery receipts go to the group, naming the author.
    receipts = world.server.sent("receipt", ours.jid)
    assert [r["attrs"] for r in receipts] == [
        {"id": i, "to": group, "participant": a.jid} for i in ("H-1", "H-2")
    ]
    assert_clean(a, ours, c)


# ---------------------------------------------------------------------------
# retry conversations


@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("established", [True, False], ids=["msg", "pkmsg"])
def test_corrupted_message_retry_resend_delivered_once(
    world: World, direction: str, established: bool
) -> None:
    a, b = sender_receiver(world, direction)
    if established:
        world.pair(a, b)
    tamper(world.server, "C-1", b.jid)
    world.send(a, b.jid, "precious", "C-1")
    assert b.bodies().count("precious") == 1
    assert retry_counts(world.server, b) == ["1"]
    original, resend = world.server.delivered("message", b.jid)[-2:]
    assert need(original, "enc")["attrs"]["type"] == ("msg" if established else "pkmsg")
    assert resend["attrs"]["id"] == "C-1"
    world.send(b, a.jid, "got it", "C-2")
    world.send(a, b.jid, "good", "C-3")
    assert a.bodies()[-1] == "got it" and b.bodies()[-1] == "good"
    assert_clean(a, b)


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_second_failure_at_count_two(world: World, direction: str) -> None:
    a, b = sender_receiver(world, direction)
    world.pair(a, b)
    tamper(world.server, "T-1", b.jid, times=2)
    world.send(a, b.jid, "third time lucky", "T-1")
    assert b.bodies().count("third time lucky") == 1
    assert retry_counts(world.server, b) == ["1", "2"]
    world.send(b, a.jid, "reply", "T-2")
    world.send(a, b.jid, "and on", "T-3")
    assert a.bodies()[-1] == "reply" and b.bodies()[-1] == "and on"
    assert_clean(a, b)


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_receiver_lost_its_session(world: World, direction: str) -> None:
    a, b = sender_receiver(world, direction)
    world.pair(a, b)
    assert b.wipe_session(a.jid)
    world.send(a, b.jid, "after the wipe", "W-1")
    assert b.bodies().count("after the wipe") == 1
    if isinstance(a, AxolotlUser):
        # yowsup builds a session of its own from our bundle, fails on our msg and
        # asks without keys, at every count: count 1 is answered on the session,
        # count 2 on the same base key makes our layer fetch b's bundle and rebuild.
        assert retry_counts(world.server, b) == ["1", "2"]
        assert a.device.layer.stats.rebuilds == 1
        assert world.server.key_requests[-1] == [b.jid]
        types = [need(m, "enc")["attrs"]["type"] for m in world.server.sent("message", a.jid)]
        assert types[-3:] == ["msg", "msg", "pkmsg"]
    else:
        # We have no session: our first receipt carries our keys (yowsup fetches
        # them from the server anyway) and its resend starts a new session.
        [receipt] = [r for r in world.server.sent("receipt", b.jid) if r["attrs"].get("type")]
        assert [c["tag"] for c in receipt["children"]] == ["retry", "registration", "keys"]
    world.send(b, a.jid, "reply", "W-2")
    world.send(a, b.jid, "and on", "W-3")
    assert a.bodies()[-1] == "reply" and b.bodies()[-1] == "and on"
    assert_clean(a, b)


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_group_member_without_sender_key(world: World, direction: str) -> None:
    a, b = sender_receiver(world, direction)
    c = world.yowsup()
    group = world.group(a, b, c)
    world.send(a, group, "one", "S-1")
    assert b.wipe_sender_key(group, a.jid)
    world.send(a, group, "two", "S-2")
    assert b.bodies() == ["one", "two"] and c.bodies() == ["one", "two"]
    assert retry_counts(world.server, b) == ["1"]
    resend = world.server.sent("message", a.jid)[-1]
    assert resend["attrs"]["to"] == group and resend["attrs"]["participant"] == b.jid
    world.send(a, group, "three", "S-3")
    assert b.bodies() == c.bodies() == ["one", "two", "three"]
    assert_clean(a, b, c)


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_group_corrupted_sender_key_message(world: World, direction: str) -> None:
    a, b = sender_receiver(world, direction)
    c = world.yowsup()
    group = world.group(a, b, c)
    world.send(a, group, "one", "X-1")
    tamper(world.server, "X-2", b.jid, only="skmsg")
    world.send(a, group, "two", "X-2")
    assert b.bodies() == c.bodies() == ["one", "two"]
    assert retry_counts(world.server, b) == ["1"]
    world.send(a, group, "three", "X-3")
    assert b.bodies() == c.bodies() == ["one", "two", "three"]
    assert_clean(a, b, c)
