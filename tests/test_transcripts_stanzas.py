"""Transcript stanzas: the WhatsApp-framed transcript's message stanzas, checked, tamper-evident."""

from __future__ import annotations

import contextlib
import copy
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from axolotl.address import ProtocolAddress
from axolotl.framing import WhatsAppFraming
from axolotl.keys import generate_identity_key_pair
from axolotl.receipts import parse_text
from axolotl.receipts.jid import address_from_jid
from axolotl.retry import Envelope, RetryLayer
from axolotl.retry.events import Action, Transmit, WakeAt
from axolotl.retry.stanza import parse_message_node
from axolotl.rng import DeterministicRng
from axolotl.store.memory import MemoryStore
from axolotl.testvectors import MalformedVector, VectorMismatch, default_vector_dir
from axolotl.testvectors.transcripts import check
from axolotl.testvectors.transcripts import stanzas as stanzas_module
from axolotl.testvectors.transcripts.draws import StepRng
from axolotl.testvectors.transcripts.steps import Party
from axolotl.wire import MessageType

VECTORS = default_vector_dir()
WHATSAPP = "transcript_retry_whatsapp.json"
GROUP = "120363000000000001@g.us"

Json = dict[str, Any]


def _case(filename: str = WHATSAPP) -> Json:
    case: Json = json.loads((VECTORS / filename).read_text())["cases"][0]
    return case


def _address(case: Json, key: str) -> ProtocolAddress:
    party = case["parties"][key]
    return ProtocolAddress(party["name"], party["device_id"])


def _stanza_steps(case: Json) -> list[Json]:
    return [s for s in case["steps"] if "stanzas" in s["expect"]]


def _receive(case: Json, party: str, message_type: int) -> Json:
    for step in case["steps"]:
        if (step["op"], step["party"]) == ("receive", party) and (
            step["envelope"]["type"] == message_type
        ):
            return step  # type: ignore[no-any-return]
    raise AssertionError(f"no receive by {party} of type {message_type}")


# -- what the file shows ----------------------------------------------------------------


def test_every_transmit_travels_in_exactly_one_stanza() -> None:
    case = _case()
    for step in case["steps"]:
        actions = step["expect"].get("actions", [])
        transmits = [i for i, a in enumerate(actions) if a["action"] == "transmit"]
        carried = [i for s in step["expect"].get("stanzas", []) for i in s["transmits"]]
        assert sorted(carried) == transmits, step["step"]


def test_each_stanza_parses_into_its_transmits_read_from_the_json() -> None:
    """An independent reading: the JSON envelopes against the parser, field by field."""
    case = _case()
    seen_fan_out = False
    for step in _stanza_steps(case):
        actions = step["expect"]["actions"]
        sender = _address(case, step["party"])
        for stanza in step["expect"]["stanzas"]:
            parsed = parse_message_node(parse_text(stanza["node_text"]), sender).envelopes
            envs = [actions[i]["envelope"] for i in stanza["transmits"]]
            # a fan-out's shared skmsg reads back once, addressed to the group
            pairwise = [e for e in envs if e["type"] != 4]
            shared = [e for e in envs if e["type"] == 4][:1]
            assert len(parsed) == len(pairwise) + len(shared)
            if len(envs) > 1:
                seen_fan_out = True
            for got, want in zip(parsed, pairwise + shared, strict=True):
                recipient = _address(case, want["recipient"])
                if want["type"] == 4:  # a first group send's: never directed at one device
                    recipient = address_from_jid(want["group_id"])
                assert got.message_id == want["message_id"]
                assert got.sender == _address(case, want["sender"]) == sender
                assert got.recipient == recipient
                assert (int(got.type), got.body.hex()) == (want["type"], want["body"])
                assert got.timestamp_ms == want["timestamp_ms"] // 1000 * 1000
                assert (got.retry_count, got.group_id) == (want["retry_count"], want["group_id"])
    assert seen_fan_out


def test_the_stanzas_are_grouped_as_the_readme_device_sends_them() -> None:
    case = _case()
    by_kind: dict[str, list[str]] = {"fan-out": [], "resend": [], "chat": []}
    for step in _stanza_steps(case):
        actions = step["expect"]["actions"]
        for stanza in step["expect"]["stanzas"]:
            first = actions[stanza["transmits"][0]]["envelope"]
            kind = "resend" if first["retry_count"] else "fan-out" if first["group_id"] else "chat"
            by_kind[kind].append(stanza["node_text"])
    # the first group send to bob (skmsg) and carol (pkmsg, key merged in): one stanza
    (both,) = [t for t in by_kind["fan-out"] if "skmsg" in t and "<participants>" in t]
    assert both.startswith('<message id="3EB0') and f'to="{GROUP}"' in both
    assert '<to jid="carol:1@s.whatsapp.net">' in both and 'participant="' not in both
    # a resend goes to one device: the group's is directed with participant, count on <enc>
    assert all('count="1"' in t and "<participants>" not in t for t in by_kind["resend"])
    assert any('participant="bob:1@s.whatsapp.net"' in t for t in by_kind["resend"])
    # a first send to one device of a chat: one stanza to that device
    assert by_kind["chat"] and all('to="' in t and "@g.us" not in t for t in by_kind["chat"])


def test_receive_steps_carry_the_stanza_as_delivered() -> None:
    case = _case()
    receives = [s for s in case["steps"] if s["op"] == "receive"]
    assert receives and all("stanza" in s for s in receives)
    group = _receive(case, "carol", 3)["stanza"]
    assert f'from="{GROUP}"' in group and 'participant="alice:1@s.whatsapp.net"' in group
    pairwise = receives[0]["stanza"]
    assert 'from="alice:1@s.whatsapp.net"' in pairwise and "participant" not in pairwise


@pytest.mark.parametrize(
    "filename",
    sorted(p.name for p in VECTORS.glob("transcript_*.json") if p.name != WHATSAPP),
)
def test_native_framed_transcripts_carry_no_stanzas(filename: str) -> None:
    text = (VECTORS / filename).read_text()
    assert '"stanzas"' not in text and '"stanza"' not in text


# -- the grouping rule on sends the file does not make ---------------------------------


ALICE = ProtocolAddress("alice@s.whatsapp.net", 1)


def _sender() -> Party:
    identity = generate_identity_key_pair(DeterministicRng(b"stanzas"))
    store = MemoryStore(identity, 7)
    layer = RetryLayer(store, ALICE, framing=WhatsAppFraming())
    return Party("alice", ALICE, StepRng("alice"), store, layer)


def _transmit(recipient: ProtocolAddress, **changes: Any) -> Transmit:
    fields: dict[str, Any] = {
        "message_id": "3EB0AA",
        "sender": ALICE,
        "recipient": recipient,
        "type": MessageType.SIGNAL,
        "body": b"\x33" + recipient.name.encode(),
        "timestamp_ms": 1_700_000_000_500,
    }
    fields.update(changes)
    return Transmit(envelope=Envelope(**fields))


def test_first_sends_group_by_account_resends_go_alone() -> None:
    bob_1, bob_2 = (ProtocolAddress("bob@s.whatsapp.net", d) for d in (1, 2))
    carol = ProtocolAddress("carol@s.whatsapp.net", 1)
    actions: list[Action] = [
        _transmit(bob_1),
        _transmit(carol),
        WakeAt(ms=1),
        _transmit(bob_2, type=MessageType.PREKEY),
        _transmit(bob_1, message_id="3EB0BB", retry_count=2),
        _transmit(bob_2, message_id="3EB0BB", retry_count=2),
    ]
    out = stanzas_module.stanzas_json("test", _sender(), actions)
    assert [s["transmits"] for s in out] == [[0, 3], [1], [4], [5]]
    bobs, alone, *resends = (s["node_text"] for s in out)
    assert bobs.startswith(
        '<message id="3EB0AA" to="bob@s.whatsapp.net" type="text" t="1700000000">'
    )
    assert '<to jid="bob:1@s.whatsapp.net">' in bobs and '<to jid="bob:2@s.whatsapp.net">' in bobs
    assert 'to="carol:1@s.whatsapp.net"' in alone and "<participants>" not in alone
    assert all('count="2"' in t and "<participants>" not in t for t in resends)


def test_a_native_party_has_no_stanzas() -> None:
    party = _sender()
    assert stanzas_module.on_stanzas(party)
    party.layer = RetryLayer(party.store, ALICE)
    assert not stanzas_module.on_stanzas(party)


# -- tampering is caught ---------------------------------------------------------------------


def _first_stanza_step(case: Json, needle: str) -> Json:
    for step in _stanza_steps(case):
        if any(needle in s["node_text"] for s in step["expect"]["stanzas"]):
            return step
    raise AssertionError(f"no stanza with {needle!r}")


@pytest.mark.parametrize(
    ("needle", "replacement"),
    [
        ('type="skmsg"', 'type="msg"'),
        ('count="1"', 'count="2"'),
        ('jid="carol:1@s.whatsapp.net"', 'jid="carol:2@s.whatsapp.net"'),
        ('type="text"', 'type="media"'),
        ('<enc v="2"', '<enc v="3"'),
    ],
)
def test_a_flipped_attribute_in_an_outgoing_stanza_is_a_mismatch(
    needle: str, replacement: str
) -> None:
    case = _case()
    step = _first_stanza_step(case, needle)
    (index,) = [i for i, s in enumerate(step["expect"]["stanzas"]) if needle in s["node_text"]]
    stanza = step["expect"]["stanzas"][index]
    stanza["node_text"] = stanza["node_text"].replace(needle, replacement, 1)
    with pytest.raises(VectorMismatch) as info:
        check(case)
    assert not isinstance(info.value, MalformedVector)
    message = str(info.value)
    assert f"step {step['step']} ({step['op']}) stanzas[{index}].node_text" in message
    assert "line " in message and replacement in message


def test_a_dropped_stanza_or_regrouped_transmits_are_a_mismatch() -> None:
    case = _case()
    step = _first_stanza_step(case, "<participants>")
    step["expect"].pop("stanzas")
    with pytest.raises(VectorMismatch, match="fields"):
        check(case)
    case = _case()
    step = _first_stanza_step(case, 'jid="carol:1@s.whatsapp.net"')
    step["expect"]["stanzas"][0]["transmits"] = [0]
    with pytest.raises(VectorMismatch, match=r"stanzas\[0\]\.transmits"):
        check(case)


@pytest.mark.parametrize(
    ("needle", "replacement", "why"),
    [
        ('participant="alice:1@', 'participant="carol:1@', "envelope 0 sender"),
        ('t="1700000006"', 't="1700000007"', "envelope 0 timestamp_ms"),
        ('type="pkmsg"', 'type="msg"', "envelope 0 type"),
        ('type="text"', 'type="media"', "kind"),
        ('<message id="', '<message notify="x" id="', "line 1, column 10"),
    ],
)
def test_an_altered_incoming_stanza_is_a_mismatch(needle: str, replacement: str, why: str) -> None:
    case = _case()
    step = _receive(case, "carol", 3)
    assert needle in step["stanza"]
    step["stanza"] = step["stanza"].replace(needle, replacement, 1)
    with pytest.raises(VectorMismatch) as info:
        check(case)
    assert not isinstance(info.value, MalformedVector)
    assert f"step {step['step']} (receive)" in str(info.value) and why in str(info.value)


def test_incoming_stanzas_are_required_on_whatsapp_and_refused_on_native() -> None:
    case = _case()
    step = _receive(case, "carol", 3)
    step.pop("stanza")
    with pytest.raises(MalformedVector, match="field 'stanza' is missing"):
        check(case)
    case = _case()
    step = _receive(case, "carol", 3)
    step["stanza"] = step["stanza"].replace("</enc>", "")
    with pytest.raises(MalformedVector, match="field 'stanza' does not parse"):
        check(case)
    native = _case("transcript_retry_corrupted.json")
    step = next(s for s in native["steps"] if s["op"] == "receive")
    step["stanza"] = "<message/>"
    with pytest.raises(MalformedVector, match="only for a party on the WhatsApp framing"):
        check(native)


def test_a_stanza_codec_that_does_not_round_trip_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    real = parse_message_node

    def lossy(node: Any, local: ProtocolAddress) -> Any:
        stanza = real(node, local)
        if "to" not in node.attrs:
            return stanza
        # forget the retry count, as a parser that ignored <enc count> would
        kept = tuple(type(e)(**{**_fields(e), "retry_count": 0}) for e in stanza.envelopes)
        return type(stanza)(envelopes=kept)

    monkeypatch.setattr(stanzas_module, "parse_message_node", lossy)
    why = "our stanza parses differently: envelope 0 retry_count"
    with pytest.raises(VectorMismatch, match=why):
        check(_case())


def _fields(obj: Any) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in type(obj).__dataclass_fields__}


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 2**40) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=6,
)
_WHATSAPP = _case()
_STANZA_STEPS = [
    s["step"] - 1 for s in _WHATSAPP["steps"] if "stanza" in s or "stanzas" in s["expect"]
]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_hostile_edits_of_stanza_steps_raise_only_vector_errors(data: st.DataObject) -> None:
    case = copy.deepcopy(_WHATSAPP)
    step = case["steps"][data.draw(st.sampled_from(_STANZA_STEPS))]
    key = data.draw(st.sampled_from(sorted(step)))
    target: Json = step
    if isinstance(step[key], dict) and step[key] and data.draw(st.booleans()):
        target = step[key]
        key = data.draw(st.sampled_from(sorted(target)))
    if isinstance(target[key], str) and data.draw(st.booleans()):
        text = target[key]  # a small edit of a text: a stanza's, mostly
        at = data.draw(st.integers(0, len(text)))
        target[key] = text[:at] + data.draw(st.text(max_size=4)) + text[at + 1 :]
    else:
        target[key] = data.draw(_JSON)
    with contextlib.suppress(VectorMismatch):  # anything else escaping is the bug
        check(case)
