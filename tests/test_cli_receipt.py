"""``axolotl receipt inspect``."""

from __future__ import annotations

import base64
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from axolotl.cli import main
from axolotl.cli.receipt import describe
from axolotl.receipts import OutgoingRetryReceipt, RetryReason, receipt_to_node, receipt_to_proto
from axolotl.receipts.entities import checked_receipt
from tests.test_receipts_entities import BASE, BUNDLE

RECEIPT = OutgoingRetryReceipt(**BASE, keys=BUNDLE, reason=RetryReason.BAD_MAC)
INCOMING = RECEIPT.received_from("4915225256099@s.whatsapp.net", receipt_timestamp=77)
ROOT = Path(__file__).resolve().parents[1]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(["receipt", "inspect", *argv])
    out, err = capsys.readouterr()
    return status, out, err


@pytest.mark.parametrize(
    ("data", "form"),
    [
        (receipt_to_node(RECEIPT).to_text(), "node"),
        (receipt_to_node(RECEIPT).to_text(indent=None), "node"),
        (receipt_to_proto(RECEIPT).hex(), "protobuf-hex"),
        ("0x" + receipt_to_proto(RECEIPT).hex().upper(), "protobuf-hex"),
        (base64.b64encode(receipt_to_proto(RECEIPT)).decode(), "protobuf-base64"),
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
    monkeypatch.setattr("sys.stdin", io.StringIO(receipt_to_node(INCOMING).to_text()))
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
        receipt_to_node(RECEIPT).to_text().replace("0x00003039", "0x003039"),
        "abc",  # odd hex, not base64 either
        "ffff",
    ],
)
def test_bad_input_exits_2_with_one_line(capsys: pytest.CaptureFixture[str], data: str) -> None:
    status, out, err = run(capsys, data)
    assert status == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("axolotl receipt inspect: ")


# -- hostile input (issue 13): peer text is escaped, undecodable input is one line -------

FORGED_JID = "x&#x1b;[2J&#xd;&#xa;  registration id:    1&#x7;"
CONTROL = [chr(c) for c in (*range(0x20), 0x7F)]


def _bytes_stdin(monkeypatch: pytest.MonkeyPatch, data: bytes) -> None:
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))


def _one_clean_line(err: str) -> str:
    assert err.count("\n") == 1 and err.endswith("\n")
    line = err[:-1]
    assert line.startswith("axolotl receipt inspect: ")
    assert not any(c in line for c in CONTROL)
    return line


def test_stdin_is_read_as_bytes(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _bytes_stdin(monkeypatch, receipt_to_node(INCOMING).to_text().encode())
    status, out, err = run(capsys, "--json")
    assert status == 0 and err == ""
    assert json.loads(out)["sender"] == "4915225256099@s.whatsapp.net"


def test_a_jid_forging_a_line_is_refused_and_printed_escaped(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    text = receipt_to_node(RECEIPT).to_text().replace(f'to="{BASE["to"]}"', f'to="{FORGED_JID}"')
    _bytes_stdin(monkeypatch, text.encode())
    status, out, err = run(capsys)
    assert status == 2 and out == ""
    line = _one_clean_line(err)
    assert "registration id" in line and "\\x1b" in line and "\\r\\n" in line and "\\x07" in line


def test_describe_escapes_peer_text_even_past_validation() -> None:
    # Built past the checks, as a future codec bug might: describe()
    # must still print one line per field, every control character escaped.
    forged = checked_receipt(
        OutgoingRetryReceipt,
        "id\x1b]0;title\x07",
        "x\x1b[2J\r\n  registration id:    1\u202e\\x1b",
        2, 5, 7, "p\x00", None, 1, None, None, None,
    )  # fmt: skip
    lines = describe(forged)
    assert len(lines) == 12
    assert [line for line in lines if line.startswith("  registration id:")] == [
        "  registration id:    7"
    ]
    for line in lines:
        assert line.isprintable(), line
    to_line = next(line for line in lines if line.startswith("  to:"))
    assert to_line == "  to:                 x\\x1b[2J\\r\\n  registration id:    1\\u202e\\\\x1b"
    assert not any(line.startswith("  registration id:    1") for line in lines)


def test_json_stays_valid_json(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    odd = OutgoingRetryReceipt(**{**BASE, "to": "é\"\\'<>@s", "message_id": "m€x"})
    _bytes_stdin(monkeypatch, receipt_to_node(odd).to_text().encode())
    status, out, _ = run(capsys, "--json")
    assert status == 0
    assert out.isascii() and out.count("\n") == 1
    doc = json.loads(out)
    assert (doc["to"], doc["message_id"]) == ("é\"\\'<>@s", "m€x")


@pytest.mark.parametrize(
    "data",
    [
        b"\xff" + receipt_to_node(RECEIPT).to_text().encode(),
        receipt_to_node(RECEIPT).to_text().encode()[:-5] + b"\xc3",
        b"\xed\xa0\x80",  # an encoded surrogate
        receipt_to_node(RECEIPT)
        .to_text()
        .replace('t="1432833266"', 't="' + "9" * 4301 + '"')
        .encode(),
        b" " * (1 << 20) + b"x",
        b"\x1b[2J\r\n" * 3,
    ],
    ids=["0xff", "truncated", "surrogate", "4301 digits", "over 1 MiB", "controls"],
)
def test_undecodable_stdin_exits_2_with_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, data: bytes
) -> None:
    _bytes_stdin(monkeypatch, data)
    status, out, err = run(capsys)
    assert status == 2 and out == ""
    _one_clean_line(err)


def _cli(argv: list[str], stdin: bytes, **env: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "axolotl", "receipt", "inspect", *argv],
        input=stdin,
        capture_output=True,
        cwd=ROOT,
        env={**os.environ, "LC_ALL": "C.UTF-8", "PYTHONIOENCODING": "utf-8:strict", **env},
        timeout=60,
        check=False,
    )


def test_non_utf8_stdin_under_a_strict_utf8_locale() -> None:
    done = _cli([], b"\xff\xfe<receipt/>\x80")
    assert done.returncode == 2 and done.stdout == b""
    assert done.stderr.count(b"\n") == 1, done.stderr
    assert done.stderr.startswith(b"axolotl receipt inspect: input is not UTF-8")


def test_non_utf8_argument() -> None:
    done = _cli([os.fsdecode(b'<receipt id="\xff"/>')], b"")
    assert done.returncode == 2 and done.stdout == b""
    assert done.stderr.count(b"\n") == 1 and b"not UTF-8" in done.stderr


def test_output_survives_an_ascii_terminal() -> None:
    odd = OutgoingRetryReceipt(**{**BASE, "to": "é@s.whatsapp.net"})
    done = _cli([], receipt_to_node(odd).to_text().encode(), PYTHONIOENCODING="ascii:strict")
    assert done.returncode == 0, done.stderr
    assert done.stderr == b""
    assert b"to:                 \\xe9@s.whatsapp.net" in done.stdout
