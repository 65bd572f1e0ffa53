"""``axolotl receipt inspect``."""

from __future__ import annotations

import base64
import io
import json

import pytest

from axolotl.cli import main
from axolotl.receipts import OutgoingRetryReceipt, RetryReason
from tests.test_receipts_entities import BASE, BUNDLE

RECEIPT = OutgoingRetryReceipt(**BASE, keys=BUNDLE, reason=RetryReason.BAD_MAC)
INCOMING = RECEIPT.received_from("4915225256099@s.whatsapp.net", receipt_timestamp=77)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(["receipt", "inspect", *argv])
    out, err = capsys.readouterr()
    return status, out, err


@pytest.mark.parametrize(
    ("data", "form"),
    [
        (RECEIPT.to_node().to_text(), "node"),
        (RECEIPT.to_node().to_text(indent=None), "node"),
        (RECEIPT.to_proto_bytes().hex(), "protobuf-hex"),
        ("0x" + RECEIPT.to_proto_bytes().hex().upper(), "protobuf-hex"),
        (base64.b64encode(RECEIPT.to_proto_bytes()).decode(), "protobuf-base64"),
    ],
)
def test_every_form_prints_every_field(
    capsys: pytest.CaptureFixture[str], data: str, form: str
) -> None:
    status, out, err = run(capsys, data)
    assert status == 0 and err == ""
    assert f"(read as {form})" in out
    for expected in (
        "Outgoing retry receipt",
        BASE["message_id"],
        BASE["to"],
        "retry count:        2",
        "registration id:    12345",
        "message timestamp:  1432833266",
        "bad mac (7)",
        BUNDLE.identity.hex(),
        f"#7 {BUNDLE.signed_pre_key.hex()}",
        BUNDLE.signed_pre_key_signature.hex(),
    ):
        assert expected in out


def test_stdin_and_json(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(INCOMING.to_node().to_text()))
    status, out, _ = run(capsys, "--json")
    assert status == 0
    doc = json.loads(out)
    assert doc["form"] == "node" and doc["direction"] == "incoming"
    assert doc["sender"] == "4915225256099@s.whatsapp.net"
    assert doc["receipt_timestamp"] == 77
    assert (doc["reason"], doc["reason_code"]) == ("bad_mac", 7)
    assert doc["keys"]["signed_pre_key_id"] == 7
    assert doc["keys"]["identity"] == BUNDLE.identity.hex()


@pytest.mark.parametrize(
    "data",
    [
        "",
        "   ",
        "not a receipt!",
        "<receipt",
        '<receipt id="x" to="y" type="retry"><registration>0x00003039</registration></receipt>',
        RECEIPT.to_node().to_text().replace("0x00003039", "0x003039"),
        "abc",  # odd hex, not base64 either
        "ffff",
    ],
)
def test_bad_input_exits_2_with_one_line(capsys: pytest.CaptureFixture[str], data: str) -> None:
    status, out, err = run(capsys, data)
    assert status == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("axolotl receipt inspect: ")
