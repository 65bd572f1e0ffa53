"""``axolotl receipt inspect``: read a retry receipt and print every field.

Input, from the argument or else stdin, is detected by its shape:

* node text (starts with ``<``), as :meth:`axolotl.receipts.Node.to_text` writes it;
* a ``RetryReceipt`` protobuf as hex (optionally ``0x``-prefixed, whitespace
  ignored) or, failing that, as base64.

Exit status 0 on success, 2 with a one-line reason on bad input.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import sys
from typing import Any

from axolotl.errors import AxolotlError
from axolotl.receipts import (
    IncomingRetryReceipt,
    KeyBundle,
    OutgoingRetryReceipt,
    parse_receipt_node,
    parse_receipt_proto,
    parse_text,
)

__all__ = ["register", "read_receipt", "describe", "to_json"]

_HEX = frozenset("0123456789abcdefABCDEF")


class InputError(Exception):
    """The input is none of the accepted forms."""


def register(sub: Any) -> None:
    """Add the ``receipt`` command group."""
    parser = sub.add_parser("receipt", help="inspect retry receipts")
    rsub = parser.add_subparsers(dest="receipt_command", required=True)
    inspect = rsub.add_parser(
        "inspect",
        help="print every field of a receipt (node text, or protobuf as hex or base64)",
    )
    inspect.add_argument("data", nargs="?", help="the receipt; read from stdin when absent")
    inspect.add_argument("--json", action="store_true", help="print one JSON object")
    inspect.set_defaults(func=_inspect)


def read_receipt(text: str) -> tuple[str, OutgoingRetryReceipt | IncomingRetryReceipt]:
    """Detect the form of ``text`` and read the receipt.

    Args:
        text: node text, or protobuf bytes as hex or base64.

    Returns:
        (form, receipt) where form is ``"node"``, ``"protobuf-hex"`` or
        ``"protobuf-base64"``.

    Raises:
        InputError: the text is empty or none of the forms.
        AxolotlError: the form was recognised but the receipt is invalid.
    """
    stripped = text.strip()
    if not stripped:
        raise InputError("empty input")
    if stripped.startswith("<"):
        return "node", parse_receipt_node(parse_text(stripped))
    compact = "".join(stripped.split())
    if compact[:2] in ("0x", "0X"):
        compact = compact[2:]
    if compact and len(compact) % 2 == 0 and _HEX.issuperset(compact):
        return "protobuf-hex", parse_receipt_proto(bytes.fromhex(compact))
    try:
        data = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        raise InputError("not node text, hex or base64") from None
    return "protobuf-base64", parse_receipt_proto(data)


def to_json(receipt: OutgoingRetryReceipt | IncomingRetryReceipt) -> dict[str, Any]:
    """Every field as JSON-ready values (bytes as hex, the reason by name)."""
    out: dict[str, Any] = {
        "direction": "outgoing" if isinstance(receipt, OutgoingRetryReceipt) else "incoming",
    }
    for name, value in receipt._asdict().items():
        if name == "reason":
            out[name] = None if value is None else value.name.lower()
            out["reason_code"] = None if value is None else int(value)
        elif name == "keys":
            out[name] = None if value is None else _keys_json(value)
        else:
            out[name] = value
    return out


def _keys_json(keys: KeyBundle) -> dict[str, Any]:
    return {
        "key_type": keys.key_type,
        "identity": keys.identity.hex(),
        "pre_key_id": keys.pre_key_id,
        "pre_key": None if keys.pre_key is None else keys.pre_key.hex(),
        "signed_pre_key_id": keys.signed_pre_key_id,
        "signed_pre_key": keys.signed_pre_key.hex(),
        "signed_pre_key_signature": keys.signed_pre_key_signature.hex(),
        "device_identity": None if keys.device_identity is None else keys.device_identity.hex(),
    }


def describe(receipt: OutgoingRetryReceipt | IncomingRetryReceipt) -> list[str]:
    """Every field in plain words, one line each."""
    outgoing = isinstance(receipt, OutgoingRetryReceipt)
    lines = [
        "Outgoing retry receipt (we ask for a resend)"
        if outgoing
        else "Incoming retry receipt (a peer asks us to resend)",
        f"  message id:         {receipt.message_id}",
        f"  to:                 {receipt.to}"
        if isinstance(receipt, OutgoingRetryReceipt)
        else f"  from:               {receipt.sender}",
        f"  participant:        {receipt.participant or '(none)'}",
        f"  recipient:          {receipt.recipient or '(none)'}",
        f"  retry count:        {receipt.count}",
        f"  version:            {receipt.version}",
        f"  message timestamp:  {receipt.timestamp}",
        "  receipt timestamp:  "
        + ("(none)" if receipt.receipt_timestamp is None else str(receipt.receipt_timestamp)),
        f"  registration id:    {receipt.registration_id}",
        "  reason:             "
        + (
            "(not given)"
            if receipt.reason is None
            else f"{receipt.reason.name.lower().replace('_', ' ')} ({int(receipt.reason)})"
        ),
    ]
    keys = receipt.keys
    if keys is None:
        lines.append("  key bundle:         (none)")
    else:
        lines += [
            "  key bundle:",
            f"    key type:         0x{keys.key_type:02x}",
            f"    identity key:     {keys.identity.hex()}",
            "    one-time prekey:  "
            + ("(none)" if keys.pre_key is None else f"#{keys.pre_key_id} {keys.pre_key.hex()}"),
            f"    signed prekey:    #{keys.signed_pre_key_id} {keys.signed_pre_key.hex()}",
            f"    signature:        {keys.signed_pre_key_signature.hex()}",
            "    device identity:  "
            + ("(none)" if keys.device_identity is None else keys.device_identity.hex()),
        ]
    return lines


def _inspect(args: argparse.Namespace) -> int:
    text: str = args.data if args.data is not None else sys.stdin.read()
    try:
        form, receipt = read_receipt(text)
    except (InputError, AxolotlError) as exc:
        reason = " ".join(str(exc).split())
        print(f"axolotl receipt inspect: {reason}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps({"form": form, **to_json(receipt)}, sort_keys=False))
    else:
        print(f"(read as {form})")
        for line in describe(receipt):
            print(line)
    return 0
