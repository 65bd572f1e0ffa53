"""``axolotl receipt inspect`` on ``<message>`` stanzas (axolotl/cli/stanza_view.py)."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from axolotl.address import ProtocolAddress
from axolotl.cli import main
from axolotl.cli.receipt import InputError, read_receipt, read_stanza
from axolotl.cli.stanza_view import LOCAL, InspectedMessage, describe_message, message_json
from axolotl.errors import AxolotlError
from axolotl.receipts import Node
from axolotl.retry import Envelope
from axolotl.retry.stanza import MessageStanza, envelope_to_node, envelopes_to_node
from axolotl.session import (
    SessionRecord,
    create_sender_key_distribution,
    decrypt,
    encrypt,
    group_encrypt,
    process_prekey_bundle,
)
from axolotl.wire import MessageType
from tests.parties import Party, talking_pair
from tests.test_cli_receipt import CONTROL, RECEIPT, _cli
from tests.test_stanza import extras, fan_outs, relay, single_envelopes

ALICE = "491700000001@s.whatsapp.net"
BOB = "491700000002@s.whatsapp.net"
CAROL = "491700000003@s.whatsapp.net"
GROUP = "491700000001-1600000000@g.us"
T = 1_700_000_000
MSG_ID = "3EB0A1B2C3D4"


@dataclass(frozen=True)
class Keys:
    """What each real ciphertext must show, taken from the parties, not from its bytes."""

    alice: ProtocolAddress
    bob: ProtocolAddress
    carol: ProtocolAddress
    pkmsg: bytes
    pkmsg_fields: dict[str, Any]
    msg: bytes
    msg_fields: dict[str, Any]
    skmsg: bytes
    skmsg_fields: dict[str, Any]


@pytest.fixture(scope="module")
def keys() -> Keys:
    # alice -> bob:2 starts a session (pkmsg); alice <-> carol:1 have one (msg); alice's group key.
    alice, bob = Party.memory(ALICE, 1), Party.memory(BOB, 2)
    bundle = bob.bundle()
    process_prekey_bundle(alice.store, bob.address, bundle, rng=alice.rng)
    first = encrypt(alice.store, bob.address, b"hello bob")
    assert first.type == MessageType.PREKEY
    session = alice.store.load_session(bob.address)
    assert session is not None
    pending = SessionRecord.deserialize(session).current
    assert pending is not None and pending.pending_pre_key is not None
    # alice <-> carol: three messages on one chain, carol answers, then alice's second
    # message on her next chain: counter 1, previous counter 2 (libsignal: last index).
    sender, carol = talking_pair(ALICE, CAROL)
    sent = [encrypt(sender.store, carol.address, b"chain two") for _ in range(3)]
    decrypt(carol.store, sender.address, sent[0].type, sent[0].body, rng=carol.rng)
    answer = encrypt(carol.store, sender.address, b"ok")
    decrypt(sender.store, carol.address, answer.type, answer.body, rng=sender.rng)
    encrypt(sender.store, carol.address, b"first on chain three")
    reply = encrypt(sender.store, carol.address, b"hello carol")
    assert reply.type == MessageType.SIGNAL
    distribution = create_sender_key_distribution(alice.store, GROUP, alice.address, rng=alice.rng)
    skmsg = group_encrypt(alice.store, GROUP, alice.address, b"hello group", rng=alice.rng)
    return Keys(
        alice=alice.address,
        bob=bob.address,
        carol=carol.address,
        pkmsg=first.body,
        pkmsg_fields={
            "registration_id": alice.store.get_local_registration_id(),
            "pre_key_id": bundle.pre_key_id,
            "signed_pre_key_id": bundle.signed_pre_key_id,
            "base_key": pending.pending_pre_key.base_key.serialize().hex(),
            "identity_key": alice.store.get_identity_key_pair().public_key.serialize().hex(),
            "ratchet_key": first.ratchet_key.serialize().hex(),
            "counter": first.counter,
            "previous_counter": 0,
        },
        msg=reply.body,
        msg_fields={
            "ratchet_key": reply.ratchet_key.serialize().hex(),
            "counter": reply.counter,
            "previous_counter": 2,
        },
        skmsg=skmsg,
        skmsg_fields={"key_id": distribution.key_id, "iteration": distribution.iteration},
    )


def envelope(keys: Keys, kind: MessageType, recipient: ProtocolAddress, **kw: Any) -> Envelope:
    body = {MessageType.PREKEY: keys.pkmsg, MessageType.SIGNAL: keys.msg}.get(kind, keys.skmsg)
    fields: dict[str, Any] = {
        "message_id": MSG_ID,
        "sender": keys.alice,
        "recipient": recipient,
        "type": kind,
        "body": body,
        "timestamp_ms": T * 1000,
        **kw,
    }
    return Envelope(**fields)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(["receipt", "inspect", *argv])
    out, err = capsys.readouterr()
    return status, out, err


def text_of(capsys: pytest.CaptureFixture[str], node: Node) -> list[str]:
    status, out, err = run(capsys, node.to_text())
    assert status == 0 and err == "", err
    return out.splitlines()


def json_of(capsys: pytest.CaptureFixture[str], node: Node) -> dict[str, Any]:
    status, out, err = run(capsys, "--json", node.to_text(indent=None))
    assert status == 0 and err == "", err
    assert out.count("\n") == 1
    doc: dict[str, Any] = json.loads(out)
    return doc


def field_lines(fields: dict[str, Any]) -> list[str]:
    labels = {
        "registration_id": "registration id:  ",
        "pre_key_id": "prekey id:        ",
        "signed_pre_key_id": "signed prekey id: ",
        "base_key": "base key:         ",
        "identity_key": "identity key:     ",
        "ratchet_key": "ratchet key:      ",
        "counter": "counter:          ",
        "previous_counter": "previous counter: ",
        "key_id": "sender key id:    ",
        "iteration": "iteration:        ",
    }
    return [f"    {labels[name]}{value}" for name, value in fields.items()]


V3 = "    version byte:     0x33 (message version 3, sender speaks up to 3)"


# -- single-recipient stanzas ------------------------------------------------------------


def test_outgoing_pkmsg_resend_with_device_identity(
    capsys: pytest.CaptureFixture[str], keys: Keys
) -> None:
    e = envelope(keys, MessageType.PREKEY, keys.bob, retry_count=2)
    node = envelope_to_node(e, device_identity=b"\x0a\x02adv")
    assert text_of(capsys, node) == [
        "(read as node)",
        "Outgoing message stanza (this device sends it)",
        "  message id:         3EB0A1B2C3D4",
        "  to:                 491700000002:2@s.whatsapp.net",
        "  type:               text",
        "  t:                  1700000000",
        "  group:              (none)",
        "  participant:        (none)",
        "  device identity:    0a02616476 (5 bytes)",
        "  envelopes:          1",
        "  envelope 1 of 1:    pkmsg (PreKeySignalMessage, type 3)",
        "    sender:           (this device)",
        "    recipient:        491700000002:2@s.whatsapp.net (device 2)",
        "    retry count:      2",
        "    media type:       (none)",
        f"    body:             {len(keys.pkmsg)} bytes",
        V3,
        *field_lines(keys.pkmsg_fields),
    ]
    doc = json_of(capsys, node)
    assert doc == {
        "form": "node",
        "stanza": "message",
        "direction": "outgoing",
        "message_id": MSG_ID,
        "from": None,
        "to": "491700000002:2@s.whatsapp.net",
        "type": "text",
        "t": T,
        "group": None,
        "participant": None,
        "media_type": None,
        "device_identity": "0a02616476",
        "envelopes": [
            {
                "enc_type": "pkmsg",
                "message_type": 3,
                "sender": None,
                "sender_device": None,
                "recipient": "491700000002:2@s.whatsapp.net",
                "recipient_device": 2,
                "retry_count": 2,
                "media_type": None,
                "body_length": len(keys.pkmsg),
                "version_byte": 0x33,
                "ciphertext": keys.pkmsg_fields,
                "ciphertext_error": None,
            }
        ],
    }


def test_incoming_msg_as_delivered(capsys: pytest.CaptureFixture[str], keys: Keys) -> None:
    node = envelope_to_node(envelope(keys, MessageType.SIGNAL, keys.carol))
    [(dst, incoming)] = relay(node, keys.alice, server_t=T + 7)
    assert dst == "491700000003:1@s.whatsapp.net"
    lines = text_of(capsys, incoming)
    assert lines[1:10] == [
        "Incoming message stanza (delivered to this device)",
        "  message id:         3EB0A1B2C3D4",
        "  from:               491700000001:1@s.whatsapp.net",
        "  type:               text",
        f"  t:                  {T + 7}",
        "  group:              (none)",
        "  participant:        (none)",
        "  device identity:    (none)",
        "  envelopes:          1",
    ]
    assert lines[10:] == [
        "  envelope 1 of 1:    msg (SignalMessage, type 2)",
        "    sender:           491700000001:1@s.whatsapp.net (device 1)",
        "    recipient:        (this device)",
        "    retry count:      0",
        "    media type:       (none)",
        f"    body:             {len(keys.msg)} bytes",
        V3,
        *field_lines(keys.msg_fields),
    ]
    doc = json_of(capsys, incoming)
    assert (doc["direction"], doc["from"], doc["to"], doc["t"]) == (
        "incoming",
        "491700000001:1@s.whatsapp.net",
        None,
        T + 7,
    )
    [env] = doc["envelopes"]
    assert (env["sender"], env["sender_device"]) == ("491700000001:1@s.whatsapp.net", 1)
    assert (env["recipient"], env["recipient_device"]) == (None, None)
    assert (env["enc_type"], env["message_type"], env["retry_count"]) == ("msg", 2, 0)
    assert env["ciphertext"] == keys.msg_fields and env["ciphertext_error"] is None


def test_directed_group_resend(capsys: pytest.CaptureFixture[str], keys: Keys) -> None:
    e = envelope(keys, MessageType.SIGNAL, keys.carol, group_id=GROUP, retry_count=3)
    node = envelope_to_node(e, kind="media", media_type="ptt")
    lines = text_of(capsys, node)
    for expected in (
        f"  to:                 {GROUP}",
        "  type:               media",
        f"  group:              {GROUP}",
        "  participant:        491700000003:1@s.whatsapp.net",
        "    recipient:        491700000003:1@s.whatsapp.net (device 1)",
        "    retry count:      3",
        "    media type:       ptt",
    ):
        assert expected in lines
    doc = json_of(capsys, node)
    assert (doc["to"], doc["group"], doc["participant"], doc["media_type"]) == (
        GROUP,
        GROUP,
        "491700000003:1@s.whatsapp.net",
        "ptt",
    )
    [env] = doc["envelopes"]
    assert (env["recipient"], env["retry_count"], env["media_type"]) == (
        "491700000003:1@s.whatsapp.net",
        3,
        "ptt",
    )
    # as carol's device gets it: from the group, participant = the author
    [(_, incoming)] = relay(node, keys.alice)
    lines = text_of(capsys, incoming)
    assert f"  from:               {GROUP}" in lines
    assert "  participant:        491700000001:1@s.whatsapp.net" in lines
    assert "    sender:           491700000001:1@s.whatsapp.net (device 1)" in lines


# -- fan-out -----------------------------------------------------------------------------


def fan_out(keys: Keys) -> Node:
    return envelopes_to_node(
        [
            envelope(keys, MessageType.SENDER_KEY, ProtocolAddress(GROUP, 0), group_id=GROUP),
            envelope(keys, MessageType.PREKEY, keys.bob, group_id=GROUP),
            envelope(keys, MessageType.SIGNAL, keys.carol, group_id=GROUP),
        ],
        kind="media",
        media_type="image",
        device_identity=b"adv",
    )


def test_group_fan_out(capsys: pytest.CaptureFixture[str], keys: Keys) -> None:
    lines = text_of(capsys, fan_out(keys))
    assert "  device identity:    616476 (3 bytes)" in lines
    assert "  envelopes:          3" in lines
    start = lines.index("  envelope 1 of 3:    pkmsg (PreKeySignalMessage, type 3)")
    assert lines[start + 2] == "    recipient:        491700000002:2@s.whatsapp.net (device 2)"
    assert lines[start + 7 : start + 15] == field_lines(keys.pkmsg_fields)
    second = lines.index("  envelope 2 of 3:    msg (SignalMessage, type 2)")
    assert lines[second + 2] == "    recipient:        491700000003:1@s.whatsapp.net (device 1)"
    assert lines[second + 7 : second + 10] == field_lines(keys.msg_fields)
    third = lines.index("  envelope 3 of 3:    skmsg (SenderKeyMessage, type 4)")
    assert lines[third:] == [
        "  envelope 3 of 3:    skmsg (SenderKeyMessage, type 4)",
        "    sender:           (this device)",
        f"    recipient:        {GROUP} (the whole group)",
        "    retry count:      0",
        "    media type:       image",
        f"    body:             {len(keys.skmsg)} bytes",
        V3,
        *field_lines(keys.skmsg_fields),
    ]
    doc = json_of(capsys, fan_out(keys))
    assert (doc["type"], doc["media_type"], doc["device_identity"]) == ("media", "image", "616476")
    assert [e["enc_type"] for e in doc["envelopes"]] == ["pkmsg", "msg", "skmsg"]
    assert [e["recipient"] for e in doc["envelopes"]] == [
        "491700000002:2@s.whatsapp.net",
        "491700000003:1@s.whatsapp.net",
        GROUP,
    ]
    assert [e["recipient_device"] for e in doc["envelopes"]] == [2, 1, None]
    assert [e["ciphertext"] for e in doc["envelopes"]] == [
        keys.pkmsg_fields,
        keys.msg_fields,
        keys.skmsg_fields,
    ]
    assert {e["media_type"] for e in doc["envelopes"]} == {"image"}


def test_fan_out_as_one_member_gets_it(capsys: pytest.CaptureFixture[str], keys: Keys) -> None:
    deliveries = dict(relay(fan_out(keys), keys.alice))
    incoming = deliveries["491700000002:2@s.whatsapp.net"]
    doc = json_of(capsys, incoming)
    assert (doc["direction"], doc["from"], doc["participant"], doc["group"]) == (
        "incoming",
        GROUP,
        "491700000001:1@s.whatsapp.net",
        GROUP,
    )
    assert [(e["enc_type"], e["sender"], e["recipient"]) for e in doc["envelopes"]] == [
        ("pkmsg", "491700000001:1@s.whatsapp.net", None),
        ("skmsg", "491700000001:1@s.whatsapp.net", None),
    ]
    assert doc["envelopes"][1]["ciphertext"] == keys.skmsg_fields
    lines = text_of(capsys, incoming)
    assert lines.count("    recipient:        (this device)") == 2


def test_pairwise_fan_out_to_one_account(capsys: pytest.CaptureFixture[str], keys: Keys) -> None:
    bob_3 = ProtocolAddress(BOB, 3)
    node = envelopes_to_node(
        [
            envelope(keys, MessageType.PREKEY, keys.bob, retry_count=1),
            envelope(keys, MessageType.SIGNAL, bob_3, retry_count=1),
        ]
    )
    doc = json_of(capsys, node)
    assert (doc["to"], doc["group"]) == (BOB, None)
    assert [
        (e["recipient"], e["recipient_device"], e["retry_count"]) for e in doc["envelopes"]
    ] == [
        ("491700000002:2@s.whatsapp.net", 2, 1),
        ("491700000002:3@s.whatsapp.net", 3, 1),
    ]


def test_each_envelope_shows_its_own_enc(capsys: pytest.CaptureFixture[str], keys: Keys) -> None:
    # No builder writes a directed enc beside <participants>, but the parser takes it:
    # each envelope must still be shown with the attributes of its own <enc>.
    carol, bob = "491700000003:1@s.whatsapp.net", "491700000002:2@s.whatsapp.net"
    text = (
        f'<message id="{MSG_ID}" to="{GROUP}" type="media" participant="{carol}">'
        f'<enc v="2" type="msg" mediatype="image">0x{keys.msg.hex()}</enc>'
        f'<participants><to jid="{bob}"><enc v="2" type="pkmsg">0x{keys.pkmsg.hex()}</enc></to>'
        "</participants></message>"
    )
    status, out, _ = run(capsys, "--json", text)
    assert status == 0
    assert [
        (e["recipient"], e["enc_type"], e["media_type"], e["ciphertext"])
        for e in json.loads(out)["envelopes"]
    ] == [
        (carol, "msg", "image", keys.msg_fields),
        (bob, "pkmsg", None, keys.pkmsg_fields),
    ]


# -- ciphertexts that do not parse -------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "body", "version", "why"),
    [
        (MessageType.SIGNAL, b"\x33\xff\xff\xff" + bytes(8), 0x33, "cannot decode SignalMessage"),
        (MessageType.SIGNAL, b"\x22" + bytes(20), 0x22, "unsupported SignalMessage version 2"),
        (MessageType.PREKEY, b"\x33", 0x33, "too short"),
        (MessageType.SENDER_KEY, b"\x33junk", 0x33, "too short"),
    ],
)
def test_unreadable_ciphertext_is_a_note(
    capsys: pytest.CaptureFixture[str],
    keys: Keys,
    kind: MessageType,
    body: bytes,
    version: int,
    why: str,
) -> None:
    e = envelope(keys, kind, keys.bob, body=body, group_id=GROUP)
    lines = text_of(capsys, envelope_to_node(e))
    long = {2: "SignalMessage", 3: "PreKeySignalMessage", 4: "SenderKeyMessage"}[kind]
    assert lines[-2].startswith(f"    version byte:     0x{version:02x} (message version")
    assert lines[-1].startswith(f"    ciphertext:       does not parse as a {long}: ")
    assert why in lines[-1]
    [env] = json_of(capsys, envelope_to_node(e))["envelopes"]
    assert env["ciphertext"] is None and why in env["ciphertext_error"]
    assert env["version_byte"] == version


def test_a_pkmsg_type_over_a_signal_message_is_a_note(
    capsys: pytest.CaptureFixture[str], keys: Keys
) -> None:
    e = envelope(keys, MessageType.PREKEY, keys.bob, body=keys.msg)
    lines = text_of(capsys, envelope_to_node(e))
    assert lines[-1].startswith("    ciphertext:       does not parse as a PreKeySignalMessage: ")
    assert lines[-1].isprintable()


# -- input: argument, stdin, bytes; receipts unchanged -----------------------------------


def test_stdin_bytes_and_argument_read_alike(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, keys: Keys
) -> None:
    text = fan_out(keys).to_text()
    from_argument = run(capsys, text)
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(text.encode()), encoding="utf-8"))
    from_stdin = run(capsys)
    assert from_argument == from_stdin and from_stdin[0] == 0
    monkeypatch.setattr("sys.stdin", io.StringIO(text))
    assert run(capsys) == from_argument


def test_a_receipt_still_reads_as_a_receipt(capsys: pytest.CaptureFixture[str]) -> None:
    text = RECEIPT.to_node().to_text()
    assert read_stanza(text) == read_receipt(text)
    hexed = RECEIPT.to_proto_bytes().hex()
    assert read_stanza(hexed) == read_receipt(hexed) == ("protobuf-hex", RECEIPT)
    status, out, _ = run(capsys, "--json", text)
    assert status == 0 and "stanza" not in json.loads(out)


# -- malformed stanzas: exit 2, one line naming the field --------------------------------


def _one_clean_line(err: str) -> str:
    assert err.count("\n") == 1 and err.endswith("\n"), err
    line = err[:-1]
    assert line.startswith("axolotl receipt inspect: ")
    assert not any(c in line for c in CONTROL) and line.isprintable()
    return line


PK = '<enc v="2" type="pkmsg">0x3300</enc>'
INCOMING = f'<message id="{MSG_ID}" from="{ALICE}" type="text" t="{T}">'


@pytest.mark.parametrize(
    ("text", "what"),
    [
        (f'{INCOMING}<enc v="2" type="msg" count="007">0x33</enc></message>', "message.enc.count"),
        (f'{INCOMING}<enc v="2" type="msg" count="0">0x33</enc></message>', "message.enc.count"),
        (f'{INCOMING}<enc v="3" type="msg">0x33</enc></message>', "message.enc.v"),
        (f'{INCOMING}<enc v="2" type="&#x1b;[2J">0x33</enc></message>', "message.enc.type"),
        (f'{INCOMING}<enc v="2" type="skmsg">0x33</enc></message>', "message.enc"),
        (f'{INCOMING}<enc v="2" type="msg"/></message>', "message.enc"),
        (f"{INCOMING}</message>", "message.enc"),
        (f'<message id="x" from="{ALICE}" type="text">{PK}</message>', "message.t"),
        (f'<message id="x" from="{ALICE}" type="text" t="01">{PK}</message>', "message.t"),
        (f'<message from="{ALICE}" type="text" t="1">{PK}</message>', "message.id"),
        (f'<message id="&#xd800;" from="{ALICE}" type="text" t="1">{PK}</message>', "message.id"),
        (f'<message id="x" from="a&#xa;b@s" type="text" t="1">{PK}</message>', "message.from"),
        (f'<message id="x" to="{BOB}" type="te&#x1b;xt">{PK}</message>', "message.type"),
        (
            f'<message id="x" to="{GROUP}" type="text"><participants>'
            f'<to jid="a&#x1b;]0;t&#x7;@s">{PK}</to></participants></message>',
            "message.participants.to.jid",
        ),
        (
            f'<message id="x" to="{BOB}" type="text">{PK}'
            "<device-identity>0x01</device-identity><device-identity>0x01</device-identity>"
            "</message>",
            "message.device-identity",
        ),
        (
            f'<message id="x" to="{BOB}" type="text" participant="{CAROL}">{PK}</message>',
            "message.participant",
        ),
    ],
)
def test_malformed_stanza_exits_2_naming_the_field(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, text: str, what: str
) -> None:
    status, out, err = run(capsys, text)
    assert status == 2 and out == ""
    assert f"cannot decode {what}:" in _one_clean_line(err)
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(text.encode()), encoding="utf-8"))
    assert run(capsys, "--json") == (2, "", err)


def test_the_error_escapes_what_the_peer_wrote(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(
        capsys, f'{INCOMING}<enc v="2" type="&#x1b;[2J&#xa;x">0x33</enc></message>'
    )
    assert status == 2
    assert "'\\x1b[2J\\nx'" in _one_clean_line(err)


# -- peer text in the output -------------------------------------------------------------


def test_printable_peer_text_is_shown_escaped(
    capsys: pytest.CaptureFixture[str], keys: Keys
) -> None:
    # A backslash is printable (the parser keeps it), so the view must escape it:
    # a JID spelling "\x1b" must not read as an escape sequence.
    e = envelope(keys, MessageType.SIGNAL, ProtocolAddress("a\\x1b[2Jé@s.whatsapp.net", 4))
    node = envelope_to_node(replace(e, message_id="id\\n"))
    lines = text_of(capsys, node)
    assert "  message id:         id\\\\n" in lines
    assert "  to:                 a\\\\x1b[2Jé:4@s.whatsapp.net" in lines
    assert "    recipient:        a\\\\x1b[2Jé:4@s.whatsapp.net (device 4)" in lines
    status, out, _ = run(capsys, "--json", node.to_text())
    assert status == 0 and out.isascii() and out.count("\n") == 1
    doc = json.loads(out)
    assert doc["to"] == "a\\x1b[2Jé:4@s.whatsapp.net" and doc["message_id"] == "id\\n"


def test_a_stanza_through_the_real_command_on_an_ascii_terminal(keys: Keys) -> None:
    e = envelope(keys, MessageType.SIGNAL, ProtocolAddress("é@s.whatsapp.net", 4))
    done = _cli([], envelope_to_node(e).to_text().encode(), PYTHONIOENCODING="ascii:strict")
    assert done.returncode == 0 and done.stderr == b"", done.stderr
    assert b"    recipient:        \\xe9:4@s.whatsapp.net (device 4)\n" in done.stdout


def _forged(keys: Keys) -> InspectedMessage:
    """A stanza built around the parser, as a future parser bug might let through."""
    hostile = "x\x1b[2J\r\n    recipient:        (this device)\u202e\ud800"
    node = Node(
        "message",
        {"id": "id\x1b]0;title\x07", "from": hostile, "type": "t\n", "t": "1\n2"},
        [Node("enc", {"v": "2", "type": "msg", "mediatype": "im\x00age"}, data=keys.msg)],
    )
    sender = ProtocolAddress(hostile, 0)
    env = envelope(keys, MessageType.SIGNAL, LOCAL, sender=sender, group_id="g\x1b@g.us")
    return InspectedMessage(
        node=node, stanza=MessageStanza(envelopes=(env,)), encs=(node.children[0],)
    )


def test_describe_escapes_peer_text_even_past_validation(keys: Keys) -> None:
    lines = describe_message(_forged(keys))
    assert len(lines) == 9 + 7 + 3
    for line in lines:
        assert line.isprintable(), line
    assert lines.count("    recipient:        (this device)") == 1
    assert "  message id:         id\\x1b]0;title\\x07" in lines
    assert "  t:                  1\\n2" in lines
    assert "  group:              g\\x1b@g.us" in lines
    assert "    media type:       im\\x00age" in lines
    assert (
        "    sender:           x\\x1b[2J\\r\\n    recipient:        (this device)\\u202e\\ud800"
        " (device 0)"
    ) in lines


def test_a_jid_naming_the_placeholder_is_not_this_device(
    capsys: pytest.CaptureFixture[str], keys: Keys
) -> None:
    e = envelope(keys, MessageType.SIGNAL, keys.bob, sender=ProtocolAddress(LOCAL.name, 0))
    [(_, incoming)] = relay(envelope_to_node(e), e.sender)
    lines = text_of(capsys, incoming)
    assert "    sender:           (this device) (device 0)" in lines
    assert "    recipient:        (this device)" in lines
    [env] = json_of(capsys, incoming)["envelopes"]
    assert (env["sender"], env["recipient"]) == (LOCAL.name, None)


# -- every stanza the builder writes can be inspected --------------------------------------


@settings(max_examples=150, deadline=None)
@given(single_envelopes(), extras)
def test_any_single_stanza_inspects(e: Envelope, kw: dict[str, Any]) -> None:
    node = envelope_to_node(e, **kw)
    for form in (node, relay(node, e.sender)[0][1]):
        _, read = read_stanza(form.to_text())
        assert isinstance(read, InspectedMessage)
        _check_view(read, form)


@settings(max_examples=150, deadline=None)
@given(fan_outs(), extras)
def test_any_fan_out_inspects(envs: list[Envelope], kw: dict[str, Any]) -> None:
    to = None if envs[0].group_id else "chat@s.whatsapp.net"
    node = envelopes_to_node(envs, to=to, **kw)
    # relay() copies <device-identity> to every member, also to those without a pkmsg
    delivered = () if "device_identity" in kw else (n for _, n in relay(node, envs[0].sender))
    for form in (node, *delivered):
        _, read = read_stanza(form.to_text())
        assert isinstance(read, InspectedMessage)
        _check_view(read, form)


def _check_view(read: InspectedMessage, node: Node) -> None:
    lines = describe_message(read)
    count = len(read.stanza.envelopes)
    assert f"  envelopes:          {count}" in lines
    assert all(line.isprintable() for line in lines)
    doc = message_json(read)
    assert len(doc["envelopes"]) == count
    assert json.loads(json.dumps(doc)) == doc
    media = {kid.attrs.get("mediatype") for kid in _all_encs(node)}
    assert {e["media_type"] for e in doc["envelopes"]} == media


def _all_encs(node: Node) -> list[Node]:
    out = [kid for kid in node.children if kid.tag == "enc"]
    for kid in node.children:
        for to in kid.children if kid.tag == "participants" else ():
            out += [enc for enc in to.children if enc.tag == "enc"]
    return out


@settings(max_examples=300, deadline=None)
@given(
    fan_outs(),
    st.lists(
        st.tuples(st.integers(0, 10**6), st.integers(0, 40), st.text(max_size=12)), max_size=4
    ),
)
def test_mangled_stanza_text_raises_only_typed_errors(
    envs: list[Envelope], edits: list[tuple[int, int, str]]
) -> None:
    # Splice random text into a valid stanza: whatever still parses must inspect.
    to = None if envs[0].group_id else "chat@s.whatsapp.net"
    text = envelopes_to_node(envs, to=to).to_text(indent=None)
    for at, cut, insert in edits:
        at %= len(text) + 1
        text = text[:at] + insert + text[at + cut :]
    try:
        _, read = read_stanza(text)
    except (InputError, AxolotlError):
        return
    if isinstance(read, InspectedMessage):
        _check_view(read, read.node)
