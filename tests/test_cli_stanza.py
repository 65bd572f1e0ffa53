"""``axolotl receipt inspect`` on ``<message>`` stanzas: every layout, field by field."""

from __future__ import annotations

import io
import json

import pytest

from axolotl.address import ProtocolAddress
from axolotl.cli.receipt import read_receipt, read_stanza
from axolotl.receipts import Node, receipt_to_node, receipt_to_proto
from axolotl.retry.stanza import envelope_to_node, envelopes_to_node
from axolotl.wire import MessageType
from tests.cli_stanza_helpers import (
    BOB,
    GROUP,
    MSG_ID,
    V3,
    Keys,
    T,
    envelope,
    field_lines,
    json_of,
    make_keys,
    run,
    text_of,
)
from tests.test_cli_receipt import RECEIPT
from tests.test_stanza import relay


@pytest.fixture(scope="module")
def keys() -> Keys:
    return make_keys()


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
    text = receipt_to_node(RECEIPT).to_text()
    assert read_stanza(text) == read_receipt(text)
    hexed = receipt_to_proto(RECEIPT).hex()
    assert read_stanza(hexed) == read_receipt(hexed) == ("protobuf-hex", RECEIPT)
    status, out, _ = run(capsys, "--json", text)
    assert status == 0 and "stanza" not in json.loads(out)
