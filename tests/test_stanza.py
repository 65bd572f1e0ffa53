"""Message stanzas (axolotl.retry.stanza): layout, server-side rewrite, bad input, round trips."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from axolotl.address import ProtocolAddress
from axolotl.errors import AxolotlError, DecodeError, UsageError
from axolotl.receipts import Node, parse_text
from axolotl.receipts.jid import address_to_jid
from axolotl.retry import Envelope
from axolotl.retry.stanza import (
    MAX_ENC_BYTES,
    MAX_INCOMING_NODES,
    MessageStanza,
    envelope_to_node,
    envelopes_to_node,
    parse_message_node,
    stanza_to_node,
)
from axolotl.retry.stanza.yowsup import envelope_to_yowsup, message_from_yowsup
from axolotl.wire import MessageType
from tests.stanza_helpers import fast_path

ALICE = ProtocolAddress("491700000001@s.whatsapp.net", 0)
BOB = ProtocolAddress("491700000002@s.whatsapp.net", 0)
BOB_2 = ProtocolAddress("491700000002@s.whatsapp.net", 2)
CAROL_1 = ProtocolAddress("491700000003@s.whatsapp.net", 1)
GROUP = "491700000001-1600000000@g.us"
T = 1_700_000_000


def env(**changes: Any) -> Envelope:
    fields: dict[str, Any] = {
        "message_id": "3EB0A1B2C3D4",
        "sender": ALICE,
        "recipient": BOB,
        "type": MessageType.SIGNAL,
        "body": b"\x33signal",
        "timestamp_ms": T * 1000,
    }
    fields.update(changes)
    return Envelope(**fields)


def relay(node: Node, sender: ProtocolAddress, server_t: int = T + 5) -> list[tuple[str, Node]]:
    """What the server delivers, per device JID: ``to`` -> ``from``, a ``t`` stamp, fan-out split.

    Follows tests/peers/yowsup_client.py's WhatsAppServer (and whatsmeow's view of
    incoming stanzas): a group stanza arrives ``from`` the group with ``participant``
    = the author; personal encs and the shared skmsg come in one stanza.
    """
    attrs = dict(node.attrs)
    to = attrs.pop("to")
    directed = attrs.pop("participant", None)
    attrs["t"] = str(server_t)
    author = address_to_jid(sender)
    if to.endswith("@g.us"):
        attrs["from"] = to
        attrs["participant"] = author
    else:
        attrs["from"] = author
    shared = [k for k in node.children if k.tag == "enc"]
    extra = [k for k in node.children if k.tag not in ("enc", "participants")]
    personal: dict[str, list[Node]] = {}
    for p in node.children:
        if p.tag == "participants":
            for t in p.children:
                personal[t.attrs["jid"]] = list(t.children)
    if directed is not None:
        return [(directed, Node("message", attrs, shared + extra))]
    if not personal:
        return [(to, Node("message", attrs, shared + extra))]
    out = [(jid, Node("message", attrs, encs + shared + extra)) for jid, encs in personal.items()]
    return out


# -- layout ---------------------------------------------------------------------------


def test_pairwise_layout_is_exactly_the_design() -> None:
    node = envelope_to_node(env())
    assert node.to_text() == (
        '<message id="3EB0A1B2C3D4" to="491700000002@s.whatsapp.net" type="text" t="1700000000">\n'
        '  <enc v="2" type="msg">0x337369676e616c</enc>\n'
        "</message>"
    )
    assert parse_message_node(node, ALICE) == MessageStanza(envelopes=(env(),))


def test_resend_count_on_enc_and_device_identity_beside_pkmsg() -> None:
    e = env(type=MessageType.PREKEY, retry_count=2, recipient=BOB_2)
    node = envelope_to_node(e, device_identity=b"\x0a\x02adv")
    assert node.attrs["to"] == "491700000002:2@s.whatsapp.net"
    assert [k.tag for k in node.children] == ["enc", "device-identity"]
    assert node.children[0].attrs == {"v": "2", "type": "pkmsg", "count": "2"}
    # no pkmsg, no device-identity (whatsmeow includeIdentity, Baileys shouldIncludeDeviceIdentity)
    assert [k.tag for k in envelope_to_node(env(), device_identity=b"x").children] == ["enc"]
    parsed = parse_message_node(node, ALICE)
    assert parsed.envelopes == (e,) and parsed.device_identity == b"\x0a\x02adv"


def test_group_resend_is_directed_at_one_participant() -> None:
    e = env(group_id=GROUP, recipient=CAROL_1, type=MessageType.PREKEY, retry_count=1)
    node = envelope_to_node(e)
    assert node.attrs == {
        "id": "3EB0A1B2C3D4",
        "to": GROUP,
        "type": "text",
        "t": str(T),
        "participant": "491700000003:1@s.whatsapp.net",
    }
    assert parse_message_node(node, ALICE).envelopes == (e,)
    [(dst, incoming)] = relay(node, ALICE)
    assert dst == "491700000003:1@s.whatsapp.net"
    got = parse_message_node(incoming, CAROL_1).envelopes
    assert got == (
        env(
            group_id=GROUP,
            recipient=CAROL_1,
            type=MessageType.PREKEY,
            retry_count=1,
            timestamp_ms=(T + 5) * 1000,
        ),
    )


def test_group_fan_out_shares_one_skmsg() -> None:
    skmsg = b"\x33group"
    envs = [
        env(group_id=GROUP, recipient=BOB, type=MessageType.SENDER_KEY, body=skmsg),
        env(group_id=GROUP, recipient=CAROL_1, type=MessageType.PREKEY, body=b"pk-carol"),
        env(group_id=GROUP, recipient=BOB_2, type=MessageType.SIGNAL, body=b"msg-bob2"),
    ]
    node = envelopes_to_node(envs, media_type="image", kind="media", device_identity=b"adv")
    assert node.to_text(indent=None) == (
        f'<message id="3EB0A1B2C3D4" to="{GROUP}" type="media" t="{T}">'
        '<enc v="2" type="skmsg" mediatype="image">0x3367726f7570</enc>'
        "<participants>"
        '<to jid="491700000003:1@s.whatsapp.net">'
        '<enc v="2" type="pkmsg" mediatype="image">0x706b2d6361726f6c</enc></to>'
        '<to jid="491700000002:2@s.whatsapp.net">'
        '<enc v="2" type="msg" mediatype="image">0x6d73672d626f6232</enc></to>'
        "</participants>"
        "<device-identity>0x616476</device-identity>"
        "</message>"
    )
    parsed = parse_message_node(node, ALICE)
    group_address = ProtocolAddress(GROUP, 0)
    assert parsed.envelopes == (
        envs[1],
        envs[2],
        env(**{**_fields(envs[0]), "recipient": group_address}),
    )
    assert (parsed.kind, parsed.media_type, parsed.device_identity) == ("media", "image", b"adv")
    # and every member reads its personal enc first, then the shared skmsg
    deliveries = dict(relay(node, ALICE))
    carol = parse_message_node(deliveries["491700000003:1@s.whatsapp.net"], CAROL_1)
    assert [e.type for e in carol.envelopes] == [MessageType.PREKEY, MessageType.SENDER_KEY]
    assert {e.sender for e in carol.envelopes} == {ALICE}
    assert {e.group_id for e in carol.envelopes} == {GROUP}


def _fields(e: Envelope) -> dict[str, Any]:
    return {name: getattr(e, name) for name in Envelope.__dataclass_fields__}


def test_pairwise_fan_out_to_the_devices_of_one_account() -> None:
    envs = [env(recipient=BOB, type=MessageType.PREKEY), env(recipient=BOB_2, body=b"two")]
    node = envelopes_to_node(envs)
    assert node.attrs["to"] == BOB.name
    assert [k.tag for k in node.children] == ["participants"]
    assert parse_message_node(node, ALICE).envelopes == tuple(envs)
    with pytest.raises(UsageError):
        envelopes_to_node([env(recipient=BOB), env(recipient=CAROL_1)])
    assert envelopes_to_node([env(recipient=BOB), env(recipient=CAROL_1)], to=BOB.name)


@pytest.mark.parametrize(
    "envs",
    [
        [],
        [env(), env(message_id="other", recipient=BOB_2)],
        [env(), env()],
        [
            env(group_id=GROUP, type=MessageType.SENDER_KEY, body=b"a"),
            env(group_id=GROUP, type=MessageType.SENDER_KEY, body=b"b", recipient=BOB_2),
        ],
    ],
    ids=["empty", "two-messages", "device-twice", "two-skmsg-bodies"],
)
def test_fan_out_refuses_what_is_not_one_message(envs: list[Envelope]) -> None:
    with pytest.raises(UsageError):
        envelopes_to_node(envs)


def test_builders_refuse_bad_extras() -> None:
    with pytest.raises(UsageError):
        envelope_to_node("not an envelope")  # type: ignore[arg-type]
    with pytest.raises(UsageError):
        envelope_to_node(env(), kind="")
    with pytest.raises(UsageError):
        envelope_to_node(env(), media_type="\x00")
    with pytest.raises(UsageError):
        envelope_to_node(env(), device_identity=b"x" * (MAX_ENC_BYTES + 1))
    with pytest.raises(UsageError):
        stanza_to_node(MessageStanza(envelopes=()))
    with pytest.raises(UsageError):
        envelope_to_node(env(group_id="not-a-group-jid"))
    with pytest.raises(UsageError):
        envelopes_to_node([env(group_id=GROUP)], to="491700000009-1@g.us")
    with pytest.raises(UsageError):
        envelopes_to_node([env()], to=GROUP)
    with pytest.raises(UsageError):
        MessageStanza(envelopes=[env()])  # type: ignore[arg-type]


def test_builders_refuse_a_group_jid_as_a_device() -> None:
    # The parser refuses such a stanza (participant and <to jid> name devices):
    # the builder must not write one. Only a skmsg goes to its own group.
    on_group_server = ProtocolAddress("491700000002@g.us", 2)
    everyone = ProtocolAddress(GROUP, 0)
    for bad in (
        env(recipient=on_group_server),
        env(recipient=on_group_server, group_id=GROUP),
        env(recipient=everyone, group_id=GROUP),
        env(recipient=on_group_server, group_id=GROUP, type=MessageType.SENDER_KEY),
    ):
        with pytest.raises(UsageError, match="group"):
            envelope_to_node(bad)
    with pytest.raises(UsageError, match="group"):
        envelopes_to_node([env(recipient=on_group_server, group_id=GROUP)])
    shared = env(recipient=everyone, group_id=GROUP, type=MessageType.SENDER_KEY)
    assert parse_message_node(envelope_to_node(shared), ALICE).envelopes == (shared,)


def test_incoming_pairwise_and_unknown_parts_ignored() -> None:
    node = parse_text(
        '<message from="491700000001@s.whatsapp.net" id="X1" type="text" t="7" notify="A">'
        '<meta polltype="vote"/><enc v="2" type="pkmsg" decrypt-fail="hide">0x01</enc></message>'
    )
    [e] = parse_message_node(node, BOB).envelopes
    assert (e.sender, e.recipient, e.type, e.body, e.timestamp_ms) == (
        ALICE,
        BOB,
        MessageType.PREKEY,
        b"\x01",
        7000,
    )


# -- bad input -------------------------------------------------------------------------

_IN = '<message from="491700000001@s.whatsapp.net" id="X1" type="text" t="7">{}</message>'
_GROUP_IN = (
    f'<message from="{GROUP}" participant="491700000001@s.whatsapp.net" id="X1" type="text" '
    't="7">{}</message>'
)
_ENC = '<enc v="2" type="msg">0x01</enc>'


@pytest.mark.parametrize(
    ("text", "what"),
    [
        (_IN.format('<enc v="2" type="frob">0x01</enc>'), "message.enc.type"),
        (_IN.format('<enc v="2">0x01</enc>'), "message.enc.type"),
        (_IN.format('<enc v="3" type="msg">0x01</enc>'), "message.enc.v"),
        (_IN.format('<enc v="02" type="msg">0x01</enc>'), "message.enc.v"),
        (_IN.format('<enc type="msg">0x01</enc>'), "message.enc.v"),
        (_IN.format('<enc v="2" type="msg" count="01">0x01</enc>'), "message.enc.count"),
        (_IN.format('<enc v="2" type="msg" count="+1">0x01</enc>'), "message.enc.count"),
        (_IN.format('<enc v="2" type="msg" count=" 1">0x01</enc>'), "message.enc.count"),
        (_IN.format('<enc v="2" type="msg" count="0">0x01</enc>'), "message.enc.count"),
        (_IN.format('<enc v="2" type="msg" count="256">0x01</enc>'), "message.enc.count"),
        (_IN.format('<enc v="2" type="msg" count="\u0661">0x01</enc>'), "message.enc.count"),
        (_IN.format('<enc v="2" type="msg"/>'), "message.enc"),
        (_IN.format('<enc v="2" type="msg">0x</enc>'), "message.enc"),
        (_IN.format(_ENC + _ENC), "message.enc"),
        (_IN.format(_ENC + '<enc v="2" type="pkmsg">0x01</enc>'), "message.enc"),
        (_IN.format(""), "message.enc"),
        (_IN.format('<enc v="2" type="skmsg">0x01</enc>'), "message.enc"),
        (_IN.format(_ENC + "<device-identity>0x01</device-identity>"), "message.device-identity"),
        (_IN.format("<participants/>" + _ENC), "message.participants"),
        (_IN.replace('t="7"', 't="07"').format(_ENC), "message.t"),
        (_IN.replace(' t="7"', "").format(_ENC), "message.t"),
        (_IN.replace(' id="X1"', "").format(_ENC), "message.id"),
        (_IN.replace(' id="X1"', ' id=""').format(_ENC), "message.id"),
        (_IN.replace(' type="text"', "").format(_ENC), "message.type"),
        (_IN.replace('from="491700000001@s.whatsapp.net" ', "").format(_ENC), "message.from"),
        (_IN.replace("491700000001@", "491700000001:x@").format(_ENC), "message.from"),
        (_IN.replace("491700000001@", "@").format(_ENC), "message.from"),
        (_IN.replace("X1", "X" * 300).format(_ENC), "message.id"),
        (_IN.replace("X1", "X&#x1;").format(_ENC), "message.id"),
        (
            f'<message from="{GROUP}" id="X1" type="text" t="7">{_ENC}</message>',
            "message.participant",
        ),
        (_GROUP_IN.format('<enc v="2" type="skmsg">0x01</enc>' * 2), "message.enc"),
        (
            _GROUP_IN.format(
                _ENC.replace(">", ' mediatype="image">', 1)
                + '<enc v="2" type="skmsg" mediatype="video">0x01</enc>'
            ),
            "message.enc.mediatype",
        ),
        (
            f'<message to="{GROUP}" id="X1" type="text"><participants><to jid="a@b">'
            '<enc v="2" type="skmsg">0x01</enc></to></participants></message>',
            "message.participants.to.enc",
        ),
        (
            f'<message to="{GROUP}" id="X1" type="text"><participants><to jid="a@b">{_ENC}</to>'
            f'<to jid="a@b">{_ENC}</to></participants></message>',
            "message.participants.to",
        ),
        (
            f'<message to="{GROUP}" id="X1" type="text"><participants><to>{_ENC}</to>'
            "</participants></message>",
            "message.participants.to.jid",
        ),
        (f'<message to="{GROUP}" id="X1" type="text">{_ENC}</message>', "message.participant"),
        ("<receipt/>", "message"),
        (
            _IN.replace(' t="7"', ' participant="a@s.whatsapp.net" t="7"').format(_ENC),
            "message.participant",
        ),
        (
            '<message to="a@s.whatsapp.net" participant="b@s.whatsapp.net" id="X1" type="text">'
            f"{_ENC}</message>",
            "message.participant",
        ),
    ],
)
def test_bad_stanzas_raise_decode_error_naming_the_field(text: str, what: str) -> None:
    with pytest.raises(DecodeError) as info:
        parse_message_node(parse_text(text), BOB)
    assert info.value.what == what, info.value


@pytest.mark.parametrize(
    ("text", "what"),
    [
        (
            '<message to="499876@s.whatsapp.net" id="X1" type="text"><participants>'
            f'<to jid="499876:2@g.us">{_ENC}</to></participants></message>',
            "message.participants.to.jid",
        ),
        (
            f'<message to="{GROUP}" participant="{GROUP}" id="X1" type="text">{_ENC}</message>',
            "message.participant",
        ),
        (
            f'<message to="{GROUP}" participant="a:1@broadcast" id="X1" type="text">'
            '<enc v="2" type="skmsg">0x01</enc></message>',
            "message.participant",
        ),
        (
            _GROUP_IN.replace("491700000001@s.whatsapp.net", "a:1@g.us").format(_ENC),
            "message.participant",
        ),
    ],
)
def test_a_group_jid_where_a_device_goes_is_refused(text: str, what: str) -> None:
    # Found by the message_stanza fuzz target: <to jid="...@g.us"> became a
    # pairwise envelope for a "device" on the group server, which
    # envelope_to_node writes as a group message without participant -- a
    # stanza the parser refuses. participant and <to jid> name devices only.
    with pytest.raises(DecodeError) as info:
        parse_message_node(parse_text(text), BOB)
    assert info.value.what == what, info.value


def test_oversize_enc_is_refused() -> None:
    # Node() holds up to 1 MiB a node (MAX_DATA_LENGTH, generic); the stanza
    # layer allows 256 KiB an <enc> on top and refuses the rest by name.
    body = b"\x00" * (MAX_ENC_BYTES + 1)
    attrs = {"from": ALICE.name, "id": "X", "type": "text", "t": "1"}
    big = Node("message", attrs, [Node("enc", {"v": "2", "type": "msg"}, data=body)])
    with pytest.raises(DecodeError) as info:
        parse_message_node(big, BOB)
    assert info.value.what == "message.enc", info.value
    ok = Node("message", attrs, [Node("enc", {"v": "2", "type": "msg"}, data=body[1:])])
    assert parse_message_node(ok, BOB).envelopes[0].body == body[1:]


def test_parse_refuses_non_nodes() -> None:
    with pytest.raises(UsageError):
        parse_message_node("<message/>", BOB)  # type: ignore[arg-type]
    with pytest.raises(UsageError):
        parse_message_node(envelope_to_node(env()), "bob")  # type: ignore[arg-type]


# -- yowsup bridge (duck-typed) ---------------------------------------------------------


class FakePTN:
    """The members of yowsup.structs.ProtocolTreeNode the bridge uses."""

    def __init__(
        self, tag: str, attributes: dict[str, Any], children: list[Any], data: Any
    ) -> None:
        self.tag, self.attributes, self.children, self.data = tag, attributes, children, data

    def getAllChildren(self) -> list[Any]:
        return self.children

    def getData(self) -> Any:
        return self.data


def test_yowsup_bridge_round_trip() -> None:
    e = env(type=MessageType.PREKEY, retry_count=3)
    ptn = envelope_to_yowsup(e, FakePTN, device_identity=b"adv")
    assert ptn.tag == "message" and ptn.children[0].attributes["count"] == "3"
    want = MessageStanza(envelopes=(e,), device_identity=b"adv")
    assert message_from_yowsup(ptn, ALICE, outgoing=True) == want
    ptn.children[0].attributes["v"] = 2  # yowsup may hold ints; they read as text
    assert message_from_yowsup(ptn, ALICE, outgoing=True).envelopes == (e,)
    ptn.children[0].attributes["type"] = b"\xff"
    with pytest.raises(DecodeError):
        message_from_yowsup(ptn, ALICE, outgoing=True)


def test_yowsup_bridge_reads_what_a_peer_sent_within_the_incoming_limit() -> None:
    e = env(type=MessageType.SIGNAL)
    ptn = envelope_to_yowsup(e, FakePTN)
    with pytest.raises(DecodeError) as exc:  # ours: no sender named
        message_from_yowsup(ptn, ALICE)
    assert exc.value.what == "message.from"
    incoming = FakePTN(
        "message",
        {"from": address_to_jid(ALICE), "id": e.message_id, "type": "text", "t": "1700000000"},
        ptn.children,
        None,
    )
    got = message_from_yowsup(incoming, e.recipient)
    assert [x.message_id for x in got.envelopes] == [e.message_id]
    with pytest.raises(DecodeError) as exc:
        message_from_yowsup(incoming, ALICE, outgoing=True)
    assert exc.value.what == "message.from"
    # A wide hostile tree stops at the incoming limit, whatever follows.
    junk = [FakePTN("x", {}, [FakePTN("y", {}, [], None)], None) for _ in range(6000)]
    wide = FakePTN("message", dict(incoming.attributes), [*ptn.children, *junk], None)
    with pytest.raises(DecodeError, match=f"more than {MAX_INCOMING_NODES} nodes"):
        message_from_yowsup(wide, e.recipient)


# -- properties --------------------------------------------------------------------------

_users = st.from_regex(r"[1-9][0-9]{5,14}", fullmatch=True)
addresses = st.builds(
    ProtocolAddress,
    st.builds(lambda u: f"{u}@s.whatsapp.net", _users),
    st.integers(0, 99),
)
groups = st.builds(lambda u: f"{u}-16000@g.us", _users)
ids = st.text(
    st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp", "Cf", "Co", "Cn", "Zs")),
    min_size=1,
    max_size=40,
)


@st.composite
def single_envelopes(draw: st.DrawFn) -> Envelope:
    group = draw(st.none() | groups)
    kinds = [MessageType.SIGNAL, MessageType.PREKEY] + ([MessageType.SENDER_KEY] if group else [])
    return Envelope(
        message_id=draw(ids),
        sender=draw(addresses),
        recipient=draw(addresses),
        type=draw(st.sampled_from(kinds)),
        body=draw(st.binary(min_size=1, max_size=64)),
        timestamp_ms=draw(st.integers(0, 2**40)) * 1000,
        retry_count=draw(st.integers(0, 255)),
        group_id=group,
    )


extras = st.fixed_dictionaries(
    {},
    optional={
        "kind": st.sampled_from(["text", "media", "reaction", "poll"]),
        "media_type": st.sampled_from(["image", "ptt", "document", "video"]),
        "device_identity": st.binary(min_size=1, max_size=32),
    },
)


@given(single_envelopes(), extras)
def test_single_stanza_round_trip_both_directions(e: Envelope, kw: dict[str, Any]) -> None:
    node = envelope_to_node(e, **kw)
    assert parse_text(node.to_text()) == node
    parsed = parse_message_node(node, e.sender)
    assert parsed.envelopes == (e,)
    assert parsed.kind == kw.get("kind", "text")
    assert parsed.media_type == kw.get("media_type")
    identity = kw.get("device_identity") if e.type == MessageType.PREKEY else None
    assert parsed.device_identity == identity
    assert stanza_to_node(parsed) == node
    # as delivered: the recipient reads the same envelope, stamped by the server
    [(_, incoming)] = relay(node, e.sender, server_t=e.timestamp_ms // 1000)
    assert parse_message_node(incoming, e.recipient).envelopes == (e,)


@st.composite
def fan_outs(draw: st.DrawFn) -> list[Envelope]:
    group = draw(st.none() | groups)
    base = draw(single_envelopes())
    devices = draw(
        st.lists(addresses, min_size=0 if group else 1, max_size=6, unique_by=address_to_jid)
    )
    envs = [
        Envelope(
            **{
                **_fields(base),
                "recipient": d,
                "group_id": group,
                "type": draw(st.sampled_from([MessageType.SIGNAL, MessageType.PREKEY])),
                "body": draw(st.binary(min_size=1, max_size=16)),
            }
        )
        for d in devices
    ]
    if group and (not envs or draw(st.booleans())):
        envs.append(
            Envelope(
                **{
                    **_fields(base),
                    "recipient": ProtocolAddress(group, 0),
                    "group_id": group,
                    "type": MessageType.SENDER_KEY,
                }
            )
        )
    return envs


@given(fan_outs(), extras)
def test_fan_out_round_trip(envs: list[Envelope], kw: dict[str, Any]) -> None:
    to = None if envs[0].group_id else "chat@s.whatsapp.net"
    node = envelopes_to_node(envs, to=to, **kw)
    assert parse_text(node.to_text()) == node
    parsed = parse_message_node(node, envs[0].sender)
    pairwise = [e for e in envs if e.type != MessageType.SENDER_KEY]
    shared = [e for e in envs if e.type == MessageType.SENDER_KEY]
    assert parsed.envelopes == tuple(pairwise + shared)
    assert (
        envelopes_to_node(
            parsed.envelopes,
            to=to,
            kind=parsed.kind,
            media_type=parsed.media_type,
            device_identity=parsed.device_identity,
        )
        == node
    )


# Random trees built from the stanza's own vocabulary, so they get past the first checks.
_names = st.sampled_from(
    [
        "message",
        "enc",
        "participants",
        "to",
        "device-identity",
        "meta",
        "id",
        "from",
        "to",
        "type",
        "t",
        "participant",
        "v",
        "count",
        "mediatype",
        "jid",
        "x",
    ]
)
_values = st.sampled_from(
    [
        "2",
        "1",
        "0",
        "01",
        "255",
        "256",
        "pkmsg",
        "msg",
        "skmsg",
        "text",
        GROUP,
        "a@b",
        "a:1@s.whatsapp.net",
        ":@",
        "",
        "\x00",
        "99999999999999999999999",
    ]
) | st.text(max_size=6)
_trees = st.recursive(
    st.builds(
        Node,
        _names,
        st.dictionaries(_names, _values, max_size=6),
        st.just(()),
        st.none() | st.binary(max_size=4),
    ),
    lambda kids: st.builds(
        Node, _names, st.dictionaries(_names, _values, max_size=6), st.lists(kids, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=300)
@given(_trees, st.sampled_from(["message", None]))
def test_random_trees_raise_only_axolotl_errors(tree: Node, root: str | None) -> None:
    if root is not None:
        tree = Node(root, tree.attrs, tree.children, tree.data)
    try:
        parsed = parse_message_node(tree, BOB)
    except AxolotlError:
        return
    assert parsed.envelopes  # a stanza that parses yields at least one envelope


@given(st.text(max_size=200))
def test_random_text_raises_only_axolotl_errors(text: str) -> None:
    with contextlib.suppress(AxolotlError):
        parse_message_node(parse_text(text), BOB)


def _incoming_like(e: Envelope) -> Node:
    [(_, incoming)] = relay(envelope_to_node(e), e.sender, server_t=e.timestamp_ms // 1000)
    return incoming


@given(single_envelopes() | _trees.map(lambda t: Node("message", t.attrs, t.children, t.data)))
def test_fast_path_agrees_with_the_full_parser(item: Envelope | Node) -> None:
    from axolotl.retry.stanza.parse import _parse

    node = _incoming_like(item) if isinstance(item, Envelope) else item
    fast = fast_path(node, BOB)
    if fast is None:
        return
    assert fast == _parse(node, BOB)
    assert type(fast.envelopes[0].sender) is ProtocolAddress


def test_fast_path_takes_the_common_stanza() -> None:
    [(_, incoming)] = relay(envelope_to_node(env()), ALICE)
    assert fast_path(incoming, BOB) is not None
