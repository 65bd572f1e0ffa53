"""The stanza codec's fast paths keep every check (axolotl.retry.stanza build and parse).

The builder assembles its nodes without Node's own validation and the parser
fills Envelopes as drafts, remembering the senders it has read: these tests
hold both to what the checked paths would say. A built node is a valid Node
that parses back; what would not, the builder refuses with UsageError; a
parsed envelope equals one built by Envelope's constructor; the sender memo
is bounded and holds only checked JIDs.
"""

from __future__ import annotations

import copy
import dataclasses
import pickle
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from axolotl.address import ProtocolAddress
from axolotl.errors import DecodeError, UsageError
from axolotl.receipts import Node, parse_text
from axolotl.retry import Envelope
from axolotl.retry.stanza import (
    MAX_ATTR_CHARS,
    MAX_ENC_BYTES,
    MessageStanza,
    envelope_to_node,
    envelopes_to_node,
    parse_message_node,
)
from axolotl.retry.stanza import parse as stanza_parse
from axolotl.wire import MessageType
from tests.stanza_helpers import fast_path

ALICE = ProtocolAddress("491700000001@s.whatsapp.net", 0)
BOB = ProtocolAddress("491700000002@s.whatsapp.net", 0)
GROUP = "491700000001-1600000000@g.us"


def env(**changes: Any) -> Envelope:
    fields: dict[str, Any] = {
        "message_id": "3EB0A1B2C3D4",
        "sender": ALICE,
        "recipient": BOB,
        "type": MessageType.SIGNAL,
        "body": b"\x33signal",
        "timestamp_ms": 1_700_000_000_000,
    }
    fields.update(changes)
    return Envelope(**fields)


def incoming(jid: str, *, message_id: str = "X1", t: str = "7", body: str = "0x01") -> Node:
    return parse_text(
        f'<message from="{jid}" id="{message_id}" type="text" t="{t}">'
        f'<enc v="2" type="msg">{body}</enc></message>'
    )


def revalidated(node: Node) -> Node:
    """``node`` rebuilt through Node's constructor, which checks every limit of the tree."""
    kids = [revalidated(kid) for kid in node.children]
    return Node(node.tag, node.attrs, kids, node.data)


# -- the builder refuses what would not parse back ----------------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        {"body": b""},
        {"body": b"x" * (MAX_ENC_BYTES + 1)},
        {"body": b"x" * (2 << 20)},  # past Node's own MAX_DATA_LENGTH too
        {"body": "text"},
        {"timestamp_ms": 1.5e12},
        {"timestamp_ms": 2**64 * 1000},
        {"timestamp_ms": 10**5000},  # str() of it would raise ValueError
        {"retry_count": True},
        {"message_id": "x" * (MAX_ATTR_CHARS + 1)},
        {"message_id": "a\nb"},
        {"message_id": "\ud800"},
        {"recipient": ProtocolAddress("a:1@s.whatsapp.net", 0)},  # would read back as device 1
        {"recipient": ProtocolAddress("a:1@s.whatsapp.net", 2)},
        {"recipient": ProtocolAddress("@s.whatsapp.net", 0)},  # no user part
        {"recipient": ProtocolAddress("x" * MAX_ATTR_CHARS + "@s", 0)},
        {"recipient": ProtocolAddress("a\x00@s", 0)},
        {"recipient": "491700000002@s.whatsapp.net"},
        {"group_id": 7},
        {"group_id": "not-a-group"},
    ],
)
def test_builder_refuses_fields_that_would_not_parse_back(changes: dict[str, Any]) -> None:
    envelope = env(**changes)
    with pytest.raises(UsageError):
        envelope_to_node(envelope)
    with pytest.raises(UsageError):
        envelopes_to_node([envelope], to=None if envelope.group_id else BOB.name)


def test_builder_takes_bytes_likes_and_the_largest_fields() -> None:
    for body in (bytearray(b"\x33x"), memoryview(b"\x33x")):
        node = envelope_to_node(env(body=body))
        assert type(node.children[0].data) is bytes and node.children[0].data == b"\x33x"
    largest = env(
        body=b"\x00" * MAX_ENC_BYTES,
        message_id="m" * MAX_ATTR_CHARS,
        timestamp_ms=2**64 - 1,
        retry_count=255,
        recipient=ProtocolAddress("u" * (MAX_ATTR_CHARS - 2) + "@s", 0),
    )
    node = envelope_to_node(largest)
    assert revalidated(node) == node
    [parsed] = parse_message_node(node, ALICE).envelopes
    assert parsed == dataclasses.replace(largest, timestamp_ms=(2**64 - 1) // 1000 * 1000)
    # a colon after the @ is the server's: no ambiguity, so it is allowed
    odd = env(recipient=ProtocolAddress("u@s:x", 3))
    assert parse_message_node(envelope_to_node(odd), ALICE).envelopes == (odd,)


_users = st.from_regex(r"[1-9][0-9]{5,14}", fullmatch=True)
_addresses = st.builds(
    ProtocolAddress, st.builds(lambda u: f"{u}@s.whatsapp.net", _users), st.integers(0, 2**32 - 1)
)


@given(
    st.builds(
        env,
        recipient=_addresses,
        sender=_addresses,
        message_id=st.text(min_size=1, max_size=8),
        body=st.binary(min_size=1, max_size=32),
        timestamp_ms=st.integers(0, 2**64 - 1),
        retry_count=st.integers(0, 255),
        type=st.sampled_from([MessageType.SIGNAL, MessageType.PREKEY]),
    )
)
def test_built_nodes_are_valid_and_parse_back_or_are_refused(e: Envelope) -> None:
    try:
        node = envelope_to_node(e)
    except UsageError:
        assert not e.message_id.isprintable()
        return
    assert revalidated(node) == node  # the unchecked assembly made a valid Node
    [parsed] = parse_message_node(node, e.sender).envelopes
    assert parsed == dataclasses.replace(e, timestamp_ms=e.timestamp_ms // 1000 * 1000)


# -- the parser's fast path and its sender memo -------------------------------------------


def test_fast_path_reads_device_jids_as_address_from_jid_does() -> None:
    node = incoming("491700000001:7@s.whatsapp.net")
    stanza = fast_path(node, BOB)
    assert stanza is not None and stanza == stanza_parse._parse(node, BOB)
    assert stanza.envelopes[0].sender == ProtocolAddress("491700000001@s.whatsapp.net", 7)
    assert "491700000001:7@s.whatsapp.net" in stanza_parse._SENDERS
    for jid in ("a:01@s", "a:4294967296@s", "a:@s", ":1@s", "a:1", "a", GROUP, "a:²@s"):
        assert stanza_parse._sender(jid) is None, jid
        assert jid not in stanza_parse._SENDERS
        fast = fast_path(incoming(jid), BOB)
        assert fast is None, jid  # left to the full parser, which names what is wrong (or reads it)


def test_parsed_values_are_ordinary_frozen_instances() -> None:
    stanza = parse_message_node(incoming(ALICE.name, message_id="M", t="9"), BOB)
    [got] = stanza.envelopes
    want = Envelope(
        message_id="M",
        sender=ALICE,
        recipient=BOB,
        type=MessageType.SIGNAL,
        body=b"\x01",
        timestamp_ms=9000,
    )
    assert type(got) is Envelope and type(stanza) is MessageStanza
    assert got == want and hash(got) == hash(want) and repr(got) == repr(want)
    assert stanza == MessageStanza(envelopes=(want,))
    with pytest.raises(dataclasses.FrozenInstanceError):
        got.body = b"changed"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        stanza.kind = "media"  # type: ignore[misc]
    assert pickle.loads(pickle.dumps(stanza)) == stanza
    assert copy.deepcopy(got) == got and dataclasses.replace(got, retry_count=1).retry_count == 1


def test_sender_memo_is_bounded_and_remembers_only_checked_jids() -> None:
    stanza_parse._SENDERS.clear()
    limit = stanza_parse._MAX_SENDERS
    for i in range(limit + 10):
        jid = f"4917{i:08d}:{i % 5}@s.whatsapp.net"
        [e] = parse_message_node(incoming(jid), BOB).envelopes
        assert e.sender == ProtocolAddress(f"4917{i:08d}@s.whatsapp.net", i % 5)
        assert len(stanza_parse._SENDERS) <= limit
    hostile = ["", "x" * (MAX_ATTR_CHARS + 1), "a\u202e@s", "a\x00@s", GROUP, "@s"]
    template = incoming(ALICE.name)
    for jid in hostile:
        node = Node("message", {**template.attrs, "from": jid}, template.children)
        with pytest.raises(DecodeError):
            parse_message_node(node, BOB)
    assert not set(hostile) & set(stanza_parse._SENDERS)
    for jid, address in stanza_parse._SENDERS.items():
        assert type(address) is ProtocolAddress
        assert stanza_parse._parse(incoming(jid), BOB).envelopes[0].sender == address


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("t", "07"),
        ("t", "+7"),
        ("t", "1" * 17),  # past what the fast path vouches for: the full parser reads it
        ("t", "٣"),
        ("id", "a\nb"),
        ("id", ""),
        ("type", ""),
        ("type", "\x00"),
        ("from", "a:1"),  # no server: the full parser reads it
    ],
)
def test_fast_path_leaves_the_rest_to_the_full_parser(field: str, value: str) -> None:
    node = incoming(ALICE.name)
    node = Node("message", {**node.attrs, field: value}, node.children)
    assert fast_path(node, BOB) is None
    try:
        want = stanza_parse._parse(node, BOB)
    except DecodeError:
        with pytest.raises(DecodeError):
            parse_message_node(node, BOB)
    else:
        assert parse_message_node(node, BOB) == want


_names = st.sampled_from(["from", "id", "type", "t", "participant", "to", "notify", "offline"])
_enc_names = st.sampled_from(["v", "type", "count", "mediatype", "decrypt-fail"])
_values = st.sampled_from(
    ["2", "0", "01", "7", "msg", "pkmsg", "skmsg", "text", "", "\x00", GROUP, "a:1@s", "a@s"]
) | st.text(max_size=4)


@given(
    st.dictionaries(_names, _values, max_size=4),
    st.dictionaries(_enc_names, _values, max_size=3),
    st.sampled_from([ALICE.name, "491700000001:3@s.whatsapp.net", GROUP, "a:01@s"]),
)
def test_fast_path_and_full_parser_agree_on_near_misses(
    extra: dict[str, str], enc_extra: dict[str, str], jid: str
) -> None:
    base = incoming(jid)
    [enc] = base.children
    node = Node(
        "message",
        {**base.attrs, **extra},
        [Node("enc", {**enc.attrs, **enc_extra}, data=enc.data)],
    )
    fast = fast_path(node, BOB)
    try:
        want = stanza_parse._parse(node, BOB)
    except DecodeError:
        assert fast is None
        with pytest.raises(DecodeError):
            parse_message_node(node, BOB)
        return
    assert fast is None or fast == want
    assert parse_message_node(node, BOB) == want
