"""Checker for ``retry_receipt`` vectors (``data/retry_receipts.json``).

A valid case gives a receipt's fields, its node text and its protobuf bytes.
The checker

1. writes the node text from the fields with a renderer of its own (string
   formatting of the receipt node layout, README.md "Retry receipts") and the
   protobuf with a small encoder of its own, and compares both with the case --
   so the vectors pin the formats, not just :mod:`axolotl.receipts`;
2. builds the receipt with :mod:`axolotl.receipts` and compares its
   ``receipt_to_node(...).to_text()`` and ``receipt_to_proto(...)`` with the case;
3. reads the case's text and bytes back and compares every field.

An invalid case gives ``node_text`` or ``proto`` (hex) and the error class
(``"error"``) reading must raise, and for ``InvalidReceipt`` the ``field``.

Case fields: ``direction`` (``"outgoing"`` / ``"incoming"``), ``message_id``,
``jid`` (``to`` or ``from``), ``count``, ``timestamp``, ``registration_id``,
``participant``, ``recipient``, ``version``, ``reason`` (code or null),
``receipt_timestamp``, ``keys`` (null or ``key_type``, ``identity``,
``pre_key_id``, ``pre_key``, ``signed_pre_key_id``, ``signed_pre_key``,
``signed_pre_key_signature``, ``device_identity``; bytes as hex).
"""

from __future__ import annotations

from typing import Any

from axolotl import errors
from axolotl.receipts import (
    IncomingRetryReceipt,
    KeyBundle,
    OutgoingRetryReceipt,
    RetryReason,
    parse_receipt_node,
    parse_receipt_proto,
    parse_text,
    receipt_to_node,
    receipt_to_proto,
)
from axolotl.testvectors import Case, VectorMismatch, expect_equal, unhex

__all__ = ["check", "receipt_from_case"]


def _hex(value: Any, step: str) -> bytes:
    try:
        return bytes.fromhex(value)
    except (TypeError, ValueError):
        raise VectorMismatch(step, f"not hex: {value!r}") from None


def receipt_from_case(case: Case) -> OutgoingRetryReceipt | IncomingRetryReceipt:
    """Build the receipt a valid case describes (through the public constructors)."""
    keys = case["keys"]
    bundle = None
    if keys is not None:
        bundle = KeyBundle(
            key_type=keys["key_type"],
            identity=_hex(keys["identity"], "keys.identity"),
            pre_key_id=keys["pre_key_id"],
            pre_key=None if keys["pre_key"] is None else _hex(keys["pre_key"], "keys.pre_key"),
            signed_pre_key_id=keys["signed_pre_key_id"],
            signed_pre_key=_hex(keys["signed_pre_key"], "keys.signed_pre_key"),
            signed_pre_key_signature=_hex(keys["signed_pre_key_signature"], "keys.signature"),
            device_identity=None
            if keys["device_identity"] is None
            else _hex(keys["device_identity"], "keys.device_identity"),
        )
    common: dict[str, Any] = {
        "message_id": case["message_id"],
        "count": case["count"],
        "timestamp": case["timestamp"],
        "registration_id": case["registration_id"],
        "participant": case["participant"],
        "recipient": case["recipient"],
        "version": case["version"],
        "reason": None if case["reason"] is None else RetryReason(case["reason"]),
        "receipt_timestamp": case["receipt_timestamp"],
        "keys": bundle,
    }
    if case["direction"] == "outgoing":
        return OutgoingRetryReceipt(to=case["jid"], **common)
    if case["direction"] == "incoming":
        return IncomingRetryReceipt(sender=case["jid"], **common)
    raise VectorMismatch("direction", f"unknown direction {case['direction']!r}")


# -- an independent renderer of the receipt node layout---------------------------------


def _attr(name: str, value: str) -> str:
    escaped = (
        value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")
    )
    return f' {name}="{escaped}"'


def expected_text(case: Case) -> str:
    """The node text of a valid case, written straight from the layout."""
    attrs = _attr("id", case["message_id"])
    attrs += _attr("to" if case["direction"] == "outgoing" else "from", case["jid"])
    for name in ("participant", "recipient"):
        if case[name] is not None:
            attrs += _attr(name, case[name])
    attrs += _attr("type", "retry")
    if case["receipt_timestamp"] is not None:
        attrs += _attr("t", str(case["receipt_timestamp"]))
    retry = (
        f'<retry count="{case["count"]}"{_attr("id", case["message_id"])} '
        f't="{case["timestamp"]}" v="{case["version"]}"'
    )
    if case["reason"] is not None:
        retry += f' error="{case["reason"]}"'
    lines = [f"<receipt{attrs}>", f"  {retry}/>"]
    lines.append(f"  <registration>0x{case['registration_id']:08x}</registration>")
    keys = case["keys"]
    if keys is not None:
        lines.append("  <keys>")
        lines.append(f"    <type>0x{keys['key_type']:02x}</type>")
        lines.append(f"    <identity>0x{keys['identity']}</identity>")
        if keys["pre_key"] is not None:
            lines += [
                "    <key>",
                f"      <id>0x{keys['pre_key_id']:06x}</id>",
                f"      <value>0x{keys['pre_key']}</value>",
                "    </key>",
            ]
        lines += [
            "    <skey>",
            f"      <id>0x{keys['signed_pre_key_id']:06x}</id>",
            f"      <value>0x{keys['signed_pre_key']}</value>",
            f"      <signature>0x{keys['signed_pre_key_signature']}</signature>",
            "    </skey>",
        ]
        if keys["device_identity"] is not None:
            lines.append(f"    <device-identity>0x{keys['device_identity']}</device-identity>")
        lines.append("  </keys>")
    lines.append("</receipt>")
    return "\n".join(lines)


# -- an independent protobuf encoder (proto2 scalars, fields in number order) ----------


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field_varint(number: int, value: int) -> bytes:
    return _varint(number << 3) + _varint(value)


def _field_bytes(number: int, value: bytes) -> bytes:
    return _varint((number << 3) | 2) + _varint(len(value)) + value


def expected_proto(case: Case) -> bytes:
    """The ``RetryReceipt`` bytes of a valid case (proto/retry.proto field numbers)."""
    out = _field_varint(1, 1 if case["direction"] == "outgoing" else 2)
    out += _field_bytes(2, case["message_id"].encode())
    out += _field_bytes(3, case["jid"].encode())
    if case["participant"] is not None:
        out += _field_bytes(4, case["participant"].encode())
    if case["recipient"] is not None:
        out += _field_bytes(5, case["recipient"].encode())
    out += _field_varint(6, case["count"])
    out += _field_varint(7, case["version"])
    out += _field_varint(8, case["timestamp"])
    if case["receipt_timestamp"] is not None:
        out += _field_varint(9, case["receipt_timestamp"])
    out += _field_varint(10, case["registration_id"])
    if case["reason"] is not None:
        out += _field_varint(11, case["reason"])
    keys = case["keys"]
    if keys is not None:
        body = _field_varint(1, keys["key_type"])
        body += _field_bytes(2, bytes.fromhex(keys["identity"]))
        if keys["pre_key"] is not None:
            body += _field_varint(3, keys["pre_key_id"])
            body += _field_bytes(4, bytes.fromhex(keys["pre_key"]))
        body += _field_varint(5, keys["signed_pre_key_id"])
        body += _field_bytes(6, bytes.fromhex(keys["signed_pre_key"]))
        body += _field_bytes(7, bytes.fromhex(keys["signed_pre_key_signature"]))
        if keys["device_identity"] is not None:
            body += _field_bytes(8, bytes.fromhex(keys["device_identity"]))
        out += _field_bytes(12, body)
    return out


# -- the checker ---------------------------------------------------------------------


def _check_invalid(case: Case) -> None:
    want = case["error"]
    cls = getattr(errors, want, None)
    if not isinstance(cls, type) or not issubclass(cls, errors.AxolotlError):
        raise VectorMismatch("error", f"unknown error class {want!r}")
    try:
        if "node_text" in case:
            parse_receipt_node(parse_text(case["node_text"]))
        else:
            parse_receipt_proto(unhex(case, "proto"))
    except errors.AxolotlError as exc:
        expect_equal("error", type(exc).__name__, want)
        if isinstance(exc, errors.InvalidReceipt):
            expect_equal("field", exc.field, case.get("field"))
        return
    raise VectorMismatch("error", f"reading succeeded; expected {want}")


def check(case: Case) -> None:
    """Check one ``retry_receipt`` case; raise :class:`VectorMismatch` on any difference."""
    if "error" in case:
        _check_invalid(case)
        return
    text = case["node_text"]
    proto = unhex(case, "proto")
    expect_equal("node_text (independent renderer)", expected_text(case), text)
    expect_equal("proto (independent encoder)", expected_proto(case), proto)
    receipt = receipt_from_case(case)
    expect_equal("node_text (axolotl)", receipt_to_node(receipt).to_text(), text)
    expect_equal("proto (axolotl)", receipt_to_proto(receipt), proto)
    expect_equal("parsed node", parse_receipt_node(parse_text(text)), receipt)
    expect_equal("parsed proto", parse_receipt_proto(proto), receipt)
