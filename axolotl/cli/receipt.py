r"""``axolotl receipt inspect``: read a retry receipt or a message stanza and print every field.

Input, from the argument or else stdin, is detected by its shape:

* node text (starts with ``<``), as :meth:`axolotl.receipts.Node.to_text` writes it:
  a ``<message>`` root is a message stanza (:mod:`axolotl.cli.stanza_view`
  prints it), any other a retry receipt;
* a ``RetryReceipt`` protobuf as hex (optionally ``0x``-prefixed, whitespace
  ignored) or, failing that, as base64.

The input is read as bytes (stdin's binary buffer; an argument as the bytes
the OS passed) and decoded as strict UTF-8 here, whatever the locale, so
undecodable input is a reason like any other, not a traceback.

Exit status 0 on success, 2 with exactly one line on stderr for anything that
is not a valid receipt or stanza: empty, longer than 1 MiB, not UTF-8, none
of the forms, or a receipt or stanza that does not decode (the line names
the field, as ``message.enc.count``). A stanza whose ciphertext does not
parse is not invalid: the envelope carries a note instead.

Every value that came from the peer (ids, JIDs; the reason of an error) is
printed with its non-printable characters escaped (``\x1b``, ``\n``,
``\u202e``, and ``\\`` for a backslash), so a receipt cannot move the
cursor, recolour the terminal or forge a line of output. ``--json`` output is
plain JSON (``json.dumps`` escapes control characters and non-ASCII). Output
that the terminal's encoding cannot show is written with backslash escapes.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import dataclasses
import json
import os
import sys
from typing import Any

from axolotl.cli._output import emit, one_line, shown
from axolotl.cli.stanza_view import InspectedMessage, describe_message, message_json, read_message
from axolotl.errors import AxolotlError
from axolotl.receipts import (
    IncomingRetryReceipt,
    KeyBundle,
    OutgoingRetryReceipt,
    parse_receipt_node,
    parse_receipt_proto,
    parse_text,
)

__all__ = [
    "register",
    "read_receipt",
    "read_stanza",
    "read_input",
    "describe",
    "to_json",
    "shown",
]

_HEX = frozenset("0123456789abcdefABCDEF")

MAX_INPUT_BYTES = 1 << 20
"""Most bytes read (no valid receipt comes near it: the largest is under 32 KiB as text)."""


class InputError(Exception):
    """The input is none of the accepted forms."""


def read_input(data: str | None, stdin: Any) -> str:
    """The input text: ``data`` (an argument) or else all of ``stdin``, as strict UTF-8.

    Args:
        data: the command-line argument, or ``None`` to read ``stdin``.
        stdin: a text stream; its binary ``buffer`` is read when it has one.

    Returns:
        The text.

    Raises:
        InputError: more than :data:`MAX_INPUT_BYTES`, or not UTF-8.
    """
    raw: bytes
    if data is not None:
        # The bytes the OS gave (argv is decoded with surrogateescape).
        raw = os.fsencode(data)
    else:
        buffer = getattr(stdin, "buffer", None)
        if buffer is None:  # a text-only stream (tests, embedding): no bytes to decode
            text: str = stdin.read(MAX_INPUT_BYTES + 1)
            if len(text) > MAX_INPUT_BYTES:
                raise InputError(f"input longer than {MAX_INPUT_BYTES} characters")
            return text
        raw = buffer.read(MAX_INPUT_BYTES + 1)
    if len(raw) > MAX_INPUT_BYTES:
        raise InputError(f"input longer than {MAX_INPUT_BYTES} bytes")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad = raw[exc.start : exc.start + 1].hex()
        raise InputError(f"input is not UTF-8: byte 0x{bad} at offset {exc.start}") from None


def register(sub: Any) -> None:
    """Add the ``receipt`` command group."""
    parser = sub.add_parser("receipt", help="inspect retry receipts and message stanzas")
    rsub = parser.add_subparsers(dest="receipt_command", required=True)
    inspect = rsub.add_parser(
        "inspect",
        help="print every field of a retry receipt (node text, or protobuf as hex or base64)"
        " or of a <message> stanza (node text)",
    )
    inspect.add_argument(
        "data", nargs="?", help="the receipt or stanza; read from stdin when absent"
    )
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


def read_stanza(
    text: str,
) -> tuple[str, OutgoingRetryReceipt | IncomingRetryReceipt | InspectedMessage]:
    """Like :func:`read_receipt`, and node text with a ``<message>`` root reads as a stanza.

    Args:
        text: node text (a receipt or a message stanza), or a receipt's
            protobuf bytes as hex or base64.

    Returns:
        (form, what was read), form as for :func:`read_receipt`.

    Raises:
        InputError: the text is empty or none of the forms.
        AxolotlError: the form was recognised but the receipt or stanza is
            invalid (a stanza's :class:`~axolotl.errors.DecodeError` names the field).
    """
    stripped = text.strip()
    if not stripped.startswith("<"):
        return read_receipt(text)
    node = parse_text(stripped)
    if node.tag == "message":
        return "node", read_message(node)
    return "node", parse_receipt_node(node)


def to_json(receipt: OutgoingRetryReceipt | IncomingRetryReceipt) -> dict[str, Any]:
    """Every field as JSON-ready values (bytes as hex, the reason by name)."""
    out: dict[str, Any] = {
        "direction": "outgoing" if isinstance(receipt, OutgoingRetryReceipt) else "incoming",
    }
    for field in dataclasses.fields(receipt):
        name, value = field.name, getattr(receipt, field.name)
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
    """Every field in plain words, one line each (peer text escaped with :func:`shown`)."""
    outgoing = isinstance(receipt, OutgoingRetryReceipt)
    lines = [
        "Outgoing retry receipt (we ask for a resend)"
        if outgoing
        else "Incoming retry receipt (a peer asks us to resend)",
        f"  message id:         {shown(receipt.message_id)}",
        f"  to:                 {shown(receipt.to)}"
        if isinstance(receipt, OutgoingRetryReceipt)
        else f"  from:               {shown(receipt.sender)}",
        f"  participant:        {shown(receipt.participant or '(none)')}",
        f"  recipient:          {shown(receipt.recipient or '(none)')}",
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
    try:
        form, read = read_stanza(read_input(args.data, sys.stdin))
    except (InputError, AxolotlError) as exc:
        emit(f"axolotl receipt inspect: {one_line(str(exc))}", sys.stderr)
        return 2
    if args.json:
        doc = message_json(read) if isinstance(read, InspectedMessage) else to_json(read)
        emit(json.dumps({"form": form, **doc}, sort_keys=False), sys.stdout)
    else:
        emit(f"(read as {form})", sys.stdout)
        lines = describe_message(read) if isinstance(read, InspectedMessage) else describe(read)
        for line in lines:
            emit(line, sys.stdout)
    return 0
