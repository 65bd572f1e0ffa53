"""Rebuild ``retry_receipts.json`` (in ``axolotl/testvectors/data/``) deterministically.

Run: ``.venv/bin/python vectors/generators/gen_retry_receipts.py``

Keys come from a DeterministicRng (real Curve25519 keys; the signed prekey
signature is a real XEdDSA signature by the identity key), so the file is the
same on every run. Every valid case is checked with the file's own checker
before writing.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from axolotl.crypto.curve import KeyPair  # noqa: E402
from axolotl.receipts import (  # noqa: E402
    KeyBundle,
    OutgoingRetryReceipt,
    RetryReason,
    receipt_to_node,
    receipt_to_proto,
)
from axolotl.rng import DeterministicRng  # noqa: E402
from axolotl.testvectors import default_vector_dir  # noqa: E402
from axolotl.testvectors.receipts import check  # noqa: E402

OUT = default_vector_dir() / "retry_receipts.json"


def _bundle(rng: DeterministicRng, *, pre_key: bool, device_identity: bytes | None) -> KeyBundle:
    identity = KeyPair.generate(rng)
    signed = KeyPair.generate(rng)
    one_time = KeyPair.generate(rng)
    signature = identity.private_key.sign(signed.public_key.serialize(), rng)
    return KeyBundle(
        identity=identity.public_key.raw,
        pre_key_id=0x00A1B2 if pre_key else None,
        pre_key=one_time.public_key.raw if pre_key else None,
        signed_pre_key_id=0x000007,
        signed_pre_key=signed.public_key.raw,
        signed_pre_key_signature=signature,
        device_identity=device_identity,
    )


def _case(name: str, receipt: Any) -> dict[str, Any]:
    keys = receipt.keys
    outgoing = isinstance(receipt, OutgoingRetryReceipt)
    case: dict[str, Any] = {
        "name": name,
        "direction": "outgoing" if outgoing else "incoming",
        "message_id": receipt.message_id,
        "jid": receipt.to if outgoing else receipt.sender,
        "count": receipt.count,
        "timestamp": receipt.timestamp,
        "registration_id": receipt.registration_id,
        "participant": receipt.participant,
        "recipient": receipt.recipient,
        "version": receipt.version,
        "reason": None if receipt.reason is None else int(receipt.reason),
        "receipt_timestamp": receipt.receipt_timestamp,
        "keys": None
        if keys is None
        else {
            "key_type": keys.key_type,
            "identity": keys.identity.hex(),
            "pre_key_id": keys.pre_key_id,
            "pre_key": None if keys.pre_key is None else keys.pre_key.hex(),
            "signed_pre_key_id": keys.signed_pre_key_id,
            "signed_pre_key": keys.signed_pre_key.hex(),
            "signed_pre_key_signature": keys.signed_pre_key_signature.hex(),
            "device_identity": None if keys.device_identity is None else keys.device_identity.hex(),
        },
        "node_text": receipt_to_node(receipt).to_text(),
        "proto": receipt_to_proto(receipt).hex(),
    }
    check(case)
    return case


def _valid() -> list[dict[str, Any]]:
    rng = DeterministicRng(b"vectors/retry_receipts")
    full = _bundle(rng, pre_key=True, device_identity=None)
    bare = _bundle(rng, pre_key=False, device_identity=bytes.fromhex("0a0408011002"))
    first = OutgoingRetryReceipt.for_failed_message(
        message_id="3EB0C431C2A4D3E8F1A2",
        sender="4915225256022@s.whatsapp.net",
        timestamp=1432833266,
        count=1,
        registration_id=12345,
    )
    group = OutgoingRetryReceipt.for_failed_message(
        message_id="3EB0C431C2A4D3E8F1A3",
        sender="120363040000000000@g.us",
        participant="4915225256023@s.whatsapp.net",
        timestamp=1700000000,
        count=1,
        registration_id=4242,
        reason=RetryReason.NO_SESSION,
    )
    with_keys = OutgoingRetryReceipt.for_failed_message(
        message_id="3EB0C431C2A4D3E8F1A2",
        sender="4915225256022@s.whatsapp.net",
        timestamp=1432833266,
        count=2,
        registration_id=12345,
        reason=RetryReason.BAD_MAC,
        keys=full,
    )
    no_prekey = OutgoingRetryReceipt(
        message_id="ABCDEF0123456789",
        to="4915225256022:2@s.whatsapp.net",
        recipient="4915225256030@s.whatsapp.net",
        count=3,
        timestamp=1710000000,
        registration_id=0xFFFFFFFF,
        reason=RetryReason.INVALID_MESSAGE_KEY,
        keys=bare,
    )
    return [
        _case("outgoing_minimal", first),
        _case("outgoing_group_participant_error", group),
        _case("outgoing_with_keys", with_keys),
        _case("outgoing_keys_without_prekey_device_identity", no_prekey),
        _case(
            "incoming_relayed",
            first.received_from("4915225256099@s.whatsapp.net", receipt_timestamp=1432833777),
        ),
        _case(
            "incoming_group_with_keys",
            dataclasses.replace(group, count=2, keys=full).received_from(
                "4915225256023@s.whatsapp.net", receipt_timestamp=1700000005
            ),
        ),
    ]


def _node_text_cases(valid: list[dict[str, Any]]) -> list[dict[str, Any]]:
    minimal = valid[0]["node_text"]
    keyed = valid[2]["node_text"]
    retry = '<retry count="1" id="3EB0C431C2A4D3E8F1A2" t="1432833266" v="1"/>'
    registration = "<registration>0x00003039</registration>"

    def bad(name: str, text: str, error: str, field: str | None) -> dict[str, Any]:
        case = {"name": name, "node_text": text, "error": error}
        if field is not None:
            case["field"] = field
        return case

    def count(value: str) -> str:
        return minimal.replace('count="1"', f'count="{value}"')

    return [
        bad("missing_retry", minimal.replace(retry, ""), "InvalidReceipt", "retry"),
        bad("missing_registration", minimal.replace(registration, ""), "InvalidReceipt",
            "registration"),
        bad("registration_3_bytes", minimal.replace("0x00003039", "0x003039"), "InvalidReceipt",
            "registration"),
        bad("registration_5_bytes", minimal.replace("0x00003039", "0x0000003039"),
            "InvalidReceipt", "registration"),
        bad("count_abc", count("abc"), "InvalidReceipt", "retry.count"),
        bad("count_0", count("0"), "InvalidReceipt", "retry.count"),
        bad("count_10e9", count("1000000000"), "InvalidReceipt", "retry.count"),
        bad("key_id_4_bytes", keyed.replace("<id>0x00a1b2</id>", "<id>0x0000a1b2</id>"),
            "InvalidReceipt", "keys.key.id"),
        bad("signed_key_id_4_bytes", keyed.replace("<id>0x000007</id>", "<id>0x00000007</id>"),
            "InvalidReceipt", "keys.skey.id"),
        bad("signature_63_bytes", _shorten_signature(keyed), "InvalidReceipt",
            "keys.skey.signature"),
        bad("type_byte_0x04", keyed.replace("<type>0x05</type>", "<type>0x04</type>"),
            "InvalidReceipt", "keys.type"),
        bad("duplicated_retry", minimal.replace(retry, retry + retry), "InvalidReceipt", "retry"),
        bad("duplicated_registration", minimal.replace(registration, registration * 2),
            "InvalidReceipt", "registration"),
        bad("id_not_utf8", minimal.replace('<receipt id="3EB0C431C2A4D3E8F1A2"',
                                           '<receipt id="3EB0&#xd800;"'),
            "InvalidReceipt", "id"),
        bad("not_a_retry_receipt", minimal.replace('type="retry"', 'type="read"'),
            "InvalidReceipt", "type"),
        bad("malformed_text", minimal[:-3], "DecodeError", None),
    ]  # fmt: skip


def _shorten_signature(text: str) -> str:
    start = text.index("<signature>0x") + len("<signature>0x")
    return text[:start] + text[start + 2 :]


def _proto_cases(valid: list[dict[str, Any]]) -> list[dict[str, Any]]:
    minimal = valid[0]["proto"]
    return [
        {"name": "proto_no_direction", "proto": minimal[4:], "error": "InvalidReceipt",
         "field": "direction"},
        {"name": "proto_id_not_utf8", "proto": minimal + "1202fffe", "error": "InvalidReceipt",
         "field": "id"},
        {"name": "proto_unknown_reason", "proto": minimal + "582a", "error": "InvalidReceipt",
         "field": "retry.error"},
        {"name": "proto_truncated", "proto": minimal[:-2], "error": "DecodeError"},
    ]  # fmt: skip


def build() -> dict[str, Any]:
    """The whole vector document."""
    valid = _valid()
    cases = valid + _node_text_cases(valid) + _proto_cases(valid)
    for case in cases[len(valid) :]:
        check(case)
    return {
        "provenance": {
            "source": "axolotl (own vectors)",
            "url": None,
            "generator": "vectors/generators/gen_retry_receipts.py",
            "notes": (
                "Retry receipts in the WhatsApp node layout (README.md, 'Retry receipts'; "
                "as yowsup, whatsmeow retry.go sendRetryReceipt and Baileys messages-recv.ts "
                "sendRetryRequest build it: <receipt id to|from [participant] [recipient] "
                'type="retry" [t]><retry count id t v [error]/><registration> 4 bytes '
                "big-endian, [<keys> type 0x05, identity, key{id 3 B, value}, skey{id 3 B, "
                "value, signature 64 B}, [device-identity]]), rendered as axolotl node text, "
                "and as the RetryReceipt protobuf of proto/retry.proto. Keys are real "
                "Curve25519 keys from a DeterministicRng; the signed prekey signature is an "
                "XEdDSA signature by the identity key. Invalid cases name the exact "
                "axolotl.errors class and, for InvalidReceipt, the field."
            ),
        },
        "kind": "retry_receipt",
        "cases": cases,
    }


def render() -> str:
    """The file's exact text."""
    return json.dumps(build(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    OUT.write_text(render())
    print(f"wrote {OUT.relative_to(ROOT)}")
