"""``framing.json``: a fresh generation equals the committed file; deviations are caught."""

from __future__ import annotations

import copy
import json
import runpy
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from axolotl.errors import AxolotlError
from axolotl.framing import Frame, NativeFraming, WhatsAppFraming, conversation_text
from axolotl.testvectors import MalformedVector, VectorMismatch, default_vector_dir
from axolotl.testvectors.framing import check
from tests.test_framing import bodies

ROOT = Path(__file__).resolve().parents[1]
GEN = runpy.run_path(str(ROOT / "vectors" / "generators" / "gen_framing.py"))
VECTORS = default_vector_dir()
COMMITTED = json.loads((VECTORS / "framing.json").read_text())


def _case(name: str) -> dict[str, Any]:
    case = next(c for c in COMMITTED["cases"] if c["name"] == name)
    return copy.deepcopy(case)


def test_the_committed_file_equals_a_fresh_generation() -> None:
    committed = (VECTORS / "framing.json").read_text()
    assert GEN["render"]() == committed, "run .venv/bin/python vectors/generators/gen_framing.py"


def test_the_vectors_cover_both_framings_every_kind_and_every_bad_plaintext() -> None:
    cases = COMMITTED["cases"]
    assert {(c["framing"], c["plane"]) for c in cases} == {
        (f, p) for f in ("native", "whatsapp") for p in ("pairwise", "group")
    }
    names = {c["name"] for c in cases}
    for bad in ("empty_plaintext", "padding_0", "padding_past_the_start", "field_2_varint"):
        assert f"whatsapp_{bad}" in names
    assert any(c.get("decode_only") for c in cases)
    bare = _case("whatsapp_bare_handover")
    assert bare["body"] is None and bare["distribution"]


def test_a_changed_plaintext_byte_is_a_mismatch() -> None:
    case = _case("whatsapp_handover_after_conversation")
    plaintext = bytearray.fromhex(case["plaintext"])
    plaintext[3] ^= 1
    case["plaintext"] = plaintext.hex()
    with pytest.raises(VectorMismatch, match=r"independent encoder.*offset 3"):
        check(case)


def test_draws_are_replayed_exactly() -> None:
    changed = _case("whatsapp_conversation")
    changed["draws"] = [f"{(int(changed['draws'][0], 16) + 1) % 256:02x}"]
    with pytest.raises(VectorMismatch):
        check(changed)
    extra = _case("whatsapp_group")
    extra["draws"].append("00")
    with pytest.raises(MalformedVector, match="one byte"):
        check(extra)
    native = _case("native_body")
    native["draws"] = ["00"]
    with pytest.raises(VectorMismatch, match="left over"):
        check(native)


def test_a_refusal_must_refuse_with_the_named_class() -> None:
    case = _case("whatsapp_padding_0")
    case["error"] = "InvalidMessage"
    with pytest.raises(AxolotlError):  # DecodeError escapes: not what the case names
        check(case)
    readable = _case("whatsapp_padding_0")
    readable["plaintext"] = _case("whatsapp_conversation")["plaintext"]
    with pytest.raises(VectorMismatch, match="was expected"):
        check(readable)
    wrong_what = _case("whatsapp_padding_0")
    wrong_what["what"] = "WhatsApp Message"
    with pytest.raises(VectorMismatch, match="what"):
        check(wrong_what)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("framing", "xml"),
        ("plane", "sideways"),
        ("plaintext", "zz"),
        ("draws", "00"),
        ("max_padding", 0),
        ("replaces", [{"ratchet_key": "05", "counter": 1}]),
        ("error", "NoSuchError"),
    ],
)
def test_malformed_cases_are_named(field: str, value: object) -> None:
    case = _case("whatsapp_conversation" if field != "replaces" else "native_resend_replaces")
    case[field] = value
    with pytest.raises(MalformedVector):
        check(case)


@given(bodies, st.binary(max_size=60), st.integers(1, 255), st.binary(min_size=1, max_size=1))
def test_the_independent_encoder_agrees_with_the_library(
    body: bytes, distribution: bytes, max_padding: int, draw: bytes
) -> None:
    frames = [Frame(body=body)]
    if distribution:
        frames.append(Frame(body=body, distribution=distribution, group_id="g@g.us"))
    for framing in (NativeFraming(), WhatsAppFraming(max_padding=max_padding)):
        for frame in frames:
            draws = [draw] if framing.name == "whatsapp" else []
            plaintext = framing.encode_pairwise(frame, lambda n: draw)
            case = {
                "framing": framing.name,
                "max_padding": max_padding,
                "plane": "pairwise",
                "body": body.hex(),
                "distribution": frame.distribution.hex() if frame.distribution else None,
                "group_id": frame.group_id,
                "replaces": [],
                "draws": [d.hex() for d in draws],
                "plaintext": plaintext.hex(),
            }
            check(case)


def test_the_whatsapp_transcript_pads_every_plaintext_and_delivers_messages() -> None:
    doc = json.loads((VECTORS / "transcript_retry_whatsapp.json").read_text())
    steps = doc["cases"][0]["steps"]
    assert {s.get("framing") for s in steps if s["op"] == "create_party"} == {"whatsapp"}
    pads = [d for s in steps for d in s["draws"] if d["use"].endswith("WhatsAppFraming._pad")]
    # one pad per encrypt: each pairwise transmit, and the one SenderKeyMessage of a send
    encrypts = 0
    for s in steps:
        if s["op"] in ("send", "receive_receipt"):
            types = [a["envelope"]["type"] for a in s["expect"]["actions"] if "envelope" in a]
            encrypts += sum(t != 4 for t in types) + (4 in types)
    assert len(pads) == encrypts and all(d["n"] == 1 for d in pads)
    assert any("encode_group" in d["use"] for d in pads)
    delivered = [
        bytes.fromhex(a["plaintext"])
        for s in steps
        for a in s["expect"].get("actions", [])
        if a["action"] == "deliver"
    ]
    assert len(delivered) == 7 and all(conversation_text(b) for b in delivered)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda s: s.update(framing="xml"), "is not a framing"),
        (lambda s: s.pop("retry_layer"), "needs retry_layer"),
    ],
)
def test_a_transcript_party_with_a_bad_framing_is_malformed(mutate: Any, message: str) -> None:
    from axolotl.testvectors.transcripts import check as replay

    doc = json.loads((VECTORS / "transcript_retry_whatsapp.json").read_text())
    case = doc["cases"][0]
    mutate(case["steps"][0])
    with pytest.raises(MalformedVector, match=message):
        replay(case)
