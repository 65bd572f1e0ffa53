"""Rebuild ``axolotl/testvectors/data/framing.json``: both framings' plaintexts, deterministically.

Run: ``.venv/bin/python vectors/generators/gen_framing.py [--check]``

Every plaintext is made by :mod:`axolotl.framing` from a recorded
``DeterministicRng``; the sender-key distribution messages are real ones
(from :func:`axolotl.session.create_sender_key_distribution`). Each case is
checked with the file's own checker (which has an encoder of its own)
before writing. ``--check`` writes nothing and exits 1 if the committed file
differs from a fresh build. The format is in ``vectors/README.md``, "Framing".
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from axolotl.address import ProtocolAddress  # noqa: E402
from axolotl.framing import Frame, Framing, NativeFraming, WhatsAppFraming, conversation  # noqa: E402
from axolotl.keys import generate_identity_key_pair  # noqa: E402
from axolotl.rng import DeterministicRng  # noqa: E402
from axolotl.session import create_sender_key_distribution  # noqa: E402
from axolotl.store.memory import MemoryStore  # noqa: E402
from axolotl.testvectors import default_vector_dir  # noqa: E402
from axolotl.testvectors.framing import check  # noqa: E402
from vectors.generators.recording import RecordingRng  # noqa: E402

OUT = default_vector_dir() / "framing.json"
GROUP = "120363000000000001@g.us"

Json = dict[str, Any]


def _distribution() -> bytes:
    rng = DeterministicRng("framing/skdm")
    store = MemoryStore(generate_identity_key_pair(rng), 1)
    sender = ProtocolAddress("alice@s.whatsapp.net", 1)
    return create_sender_key_distribution(store, GROUP, sender, rng=rng).serialized


SKDM = _distribution()


def _record(number: int, value: bytes) -> bytes:
    assert len(value) < 128 and number < 16
    return bytes([number << 3 | 2, len(value)]) + value


def _fields(frame: Frame) -> Json:
    return {
        "body": None if frame.body is None else frame.body.hex(),
        "distribution": None if frame.distribution is None else frame.distribution.hex(),
        "group_id": frame.group_id,
        "replaces": [
            {"ratchet_key": (b"\x05" + key).hex(), "counter": counter}
            for key, counter in frame.replaces
        ],
    }


def _head(name: str, framing: Framing, plane: str, note: str) -> Json:
    case: Json = {"name": name, "note": note, "framing": framing.name, "plane": plane}
    if isinstance(framing, WhatsAppFraming):
        case["max_padding"] = framing.max_padding
    return case


def encoding(name: str, framing: Framing, plane: str, frame: Frame, note: str) -> Json:
    rng = RecordingRng(DeterministicRng(f"framing/{name}"))
    if plane == "group":
        assert frame.body is not None
        plaintext = framing.encode_group(frame.body, rng)
    else:
        plaintext = framing.encode_pairwise(frame, rng)
    return (
        _head(name, framing, plane, note)
        | _fields(frame)
        | {
            "draws": [d.data.hex() for d in rng.take()],
            "plaintext": plaintext.hex(),
        }
    )


def reading(name: str, framing: Framing, plane: str, plaintext: bytes, note: str) -> Json:
    frame = (
        framing.decode_pairwise(plaintext)
        if plane == "pairwise"
        else framing.decode_group(plaintext)
    )
    return (
        _head(name, framing, plane, note)
        | _fields(frame)
        | {
            "decode_only": True,
            "plaintext": plaintext.hex(),
        }
    )


def refusal(
    name: str, framing: Framing, plaintext: bytes, error: str, what: str | None, note: str
) -> Json:
    case = _head(name, framing, "pairwise", note) | {"plaintext": plaintext.hex(), "error": error}
    if what is not None:
        case["what"] = what
    return case


def _cases() -> list[Json]:
    native, wa, wa255 = NativeFraming(), WhatsAppFraming(), WhatsAppFraming(max_padding=255)
    hello = conversation("hello")
    text_and_link = conversation("see this") + _record(6, _record(1, b"https://example.org"))
    image_only = _record(3, _record(2, b"image/jpeg"))
    chain = bytes(range(32))
    handover = _record(2, _record(1, GROUP.encode()) + bytes([0x12, len(SKDM)]) + SKDM)
    pad2 = b"\x02\x02"
    cases = [
        encoding("native_body", native, "pairwise", Frame(body=b"hello"), "Payload{body}"),
        encoding("native_empty_body", native, "pairwise", Frame(body=b""), "body present, empty"),
        encoding(
            "native_handover",
            native,
            "pairwise",
            Frame(body=b"to the group", distribution=SKDM, group_id=GROUP),
            "a group message to a member without our sender key",
        ),
        encoding(
            "native_resend_replaces",
            native,
            "pairwise",
            Frame(body=b"again", replaces=((chain, 3), (chain, 4))),
            "a resend naming the two transmissions it replaces",
        ),
        encoding("native_group", native, "group", Frame(body=b"group body"), "the bare body"),
        refusal("native_not_protobuf", native, b"\xff", "DecodeError", "payload", "not a Payload"),
        refusal(
            "native_handover_without_group",
            native,
            _record(1, b"x") + _record(2, SKDM[:60]),
            "InvalidMessage",
            None,
            "sender_key_distribution without group_id",
        ),
        refusal(
            "native_short_ratchet_key",
            native,
            _record(1, b"x") + _record(4, _record(1, b"\x05" + bytes(31)) + b"\x10\x01"),
            "DecodeError",
            "payload",
            "a replaced position with a 32-byte key",
        ),
        encoding("whatsapp_conversation", wa, "pairwise", Frame(body=hello), "body + padding"),
        encoding(
            "whatsapp_handover_after_conversation",
            wa,
            "pairwise",
            Frame(body=text_and_link, distribution=SKDM, group_id=GROUP),
            "field 2 merged after field 1 (conversation), before field 6: yowsup's bytes",
        ),
        encoding(
            "whatsapp_handover_first",
            wa,
            "pairwise",
            Frame(body=image_only, distribution=SKDM, group_id=GROUP),
            "a body without field 1: field 2 goes first",
        ),
        encoding(
            "whatsapp_bare_handover",
            wa,
            "pairwise",
            Frame(body=None, distribution=SKDM, group_id=GROUP),
            "only the sender key (sent beside the group message); nothing to deliver",
        ),
        encoding("whatsapp_group", wa, "group", Frame(body=hello), "SenderKeyMessage plaintext"),
        encoding(
            "whatsapp_padding_255",
            wa255,
            "pairwise",
            Frame(body=hello),
            "max_padding 255 (yowsup's range)",
        ),
        reading(
            "whatsapp_read_handover_first",
            wa,
            "pairwise",
            handover + hello + pad2,
            "field 2 before field 1, as Baileys and whatsmeow serialize it",
        ),
        reading(
            "whatsapp_read_repeated_field_2",
            wa,
            "pairwise",
            _record(2, _record(1, b"old@g.us")) + hello + handover + pad2,
            "two field-2 records merge; the later group id wins",
        ),
        reading(
            "whatsapp_read_group_handover",
            wa,
            "group",
            hello + handover + b"\x01",
            "a handover inside a group message is taken too",
        ),
    ]
    bad = {
        "empty_plaintext": (b"", "WhatsApp padding"),
        "padding_0": (hello + b"\x00", "WhatsApp padding"),
        "padding_past_the_start": (b"\x0a\x01x\x09", "WhatsApp padding"),
        "padding_not_all_n": (hello + b"\x01\x03\x03", "WhatsApp padding"),
        "only_padding": (b"\x03\x03\x03", "WhatsApp Message"),
        "truncated_record": (b"\x0a\x05abc" + pad2, "WhatsApp Message"),
        "group_wire_type": (b"\x0b\x0c" + pad2, "WhatsApp Message"),
        "field_2_varint": (hello + b"\x10\x05" + pad2, "WhatsApp senderKeyDistributionMessage"),
        "field_2_not_a_message": (
            hello + _record(2, b"\xff\xff") + pad2,
            "WhatsApp senderKeyDistributionMessage",
        ),
        "field_2_without_group_id": (
            hello + _record(2, bytes([0x12, len(SKDM)]) + SKDM) + pad2,
            "WhatsApp senderKeyDistributionMessage",
        ),
        "field_2_group_id_not_utf8": (
            _record(2, _record(1, b"\xff\xfe") + bytes([0x12, len(SKDM)]) + SKDM) + pad2,
            "WhatsApp senderKeyDistributionMessage",
        ),
        "field_2_without_distribution": (
            _record(2, _record(1, GROUP.encode())) + pad2,
            "WhatsApp senderKeyDistributionMessage",
        ),
    }
    for name, (plaintext, what) in bad.items():
        cases.append(
            refusal(f"whatsapp_{name}", wa, plaintext, "DecodeError", what, name.replace("_", " "))
        )
    return cases


def build() -> Json:
    cases = _cases()
    for case in cases:
        check(case)
    return {
        "provenance": {
            "source": "axolotl (our own)",
            "url": None,
            "generator": "vectors/generators/gen_framing.py",
            "notes": (
                "Both framings of the retry layer (axolotl/framing). native: proto/payload.proto "
                "in pairwise plaintexts, the bare body in group ones, no draws. whatsapp: a "
                "serialized WhatsApp Message (proto/whatsapp.proto: conversation = 1, "
                "senderKeyDistributionMessage = 2 {groupId = 1, "
                "axolotlSenderKeyDistributionMessage = 2}), the handover merged after field 1 "
                "(what yowsup 3.3.0's Message(skdm).MergeFromString(body) re-serializes to; "
                "checked against yowsup in tests/test_framing_yowsup.py), then n bytes of value "
                "n, n = 1 + draw % max_padding from one 1-byte draw."
            ),
        },
        "kind": "framing",
        "cases": cases,
    }


def render() -> str:
    """The file's text."""
    return json.dumps(build(), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        if OUT.read_text() != text:
            print(f"{OUT.relative_to(ROOT)} is stale: run {Path(__file__).relative_to(ROOT)}")
            return 1
        return 0
    OUT.write_text(text)
    print(f"wrote {OUT.relative_to(ROOT)} ({len(build()['cases'])} cases)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
