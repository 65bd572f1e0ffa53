"""``axolotl receipt inspect`` on malformed, hostile and random ``<message>`` stanzas."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from axolotl.address import ProtocolAddress
from axolotl.cli.receipt import InputError, read_stanza
from axolotl.cli.stanza_view import LOCAL, InspectedMessage, describe_message, message_json
from axolotl.errors import AxolotlError
from axolotl.receipts import Node
from axolotl.retry import Envelope
from axolotl.retry.stanza import MessageStanza, envelope_to_node, envelopes_to_node
from axolotl.wire import MessageType
from tests.cli_stanza_helpers import (
    ALICE,
    BOB,
    CAROL,
    GROUP,
    MSG_ID,
    Keys,
    T,
    envelope,
    json_of,
    make_keys,
    run,
    text_of,
)
from tests.test_cli_receipt import CONTROL, _cli
from tests.test_stanza import extras, fan_outs, relay, single_envelopes


@pytest.fixture(scope="module")
def keys() -> Keys:
    return make_keys()


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
