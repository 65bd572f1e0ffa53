"""Protobuf codec for retry receipts (``RetryReceipt`` in ``proto/retry.proto``).

For stacks that carry protobuf instead of nodes. The node form
(:mod:`axolotl.receipts.node`) is the interoperable one; this form carries the
same fields plus a direction, so an outgoing receipt is never read as an
incoming one. Errors name fields exactly as the node codec does (``"id"``,
``"retry.count"``, ``"registration"``, ``"keys.skey.signature"``, ...), and
the fields obey the same limits (:mod:`axolotl.receipts.limits`); the
message itself is at most ``MAX_RECEIPT_PROTO_LENGTH`` (16 KiB).
"""

from __future__ import annotations

from google.protobuf.message import DecodeError as _PbDecodeError

from axolotl._pb import retry_pb2
from axolotl.errors import DecodeError, UsageError
from axolotl.receipts.entities import (
    IncomingRetryReceipt,
    OutgoingRetryReceipt,
    ReceiptT,
    jid_name,
    make_receipt,
)
from axolotl.receipts.fields import KeyBundle, RetryReason, make_key_bundle, remote_fail
from axolotl.receipts.limits import MAX_RECEIPT_PROTO_LENGTH

__all__ = ["receipt_to_proto", "receipt_from_proto", "parse_receipt_proto"]

_OUTGOING = retry_pb2.RetryReceipt.OUTGOING
_INCOMING = retry_pb2.RetryReceipt.INCOMING
_REASONS = {int(reason): reason for reason in RetryReason}


def receipt_to_proto(receipt: OutgoingRetryReceipt | IncomingRetryReceipt) -> bytes:
    """Serialize a receipt as a ``RetryReceipt`` protobuf.

    Args:
        receipt: an outgoing or incoming receipt (the direction is recorded).

    Returns:
        The protobuf bytes.

    Raises:
        UsageError: ``receipt`` is not a retry receipt.
    """
    if isinstance(receipt, OutgoingRetryReceipt):
        direction, jid = _OUTGOING, receipt.to
    elif isinstance(receipt, IncomingRetryReceipt):
        direction, jid = _INCOMING, receipt.sender
    else:
        raise UsageError(f"expected a retry receipt, got {type(receipt).__name__}")
    msg = retry_pb2.RetryReceipt(
        direction=direction,
        remote_jid=jid,
        message_id=receipt.message_id,
        count=receipt.count,
        version=receipt.version,
        timestamp=receipt.timestamp,
        registration_id=receipt.registration_id,
    )
    if receipt.participant is not None:
        msg.participant = receipt.participant
    if receipt.recipient is not None:
        msg.recipient = receipt.recipient
    if receipt.receipt_timestamp is not None:
        msg.receipt_timestamp = receipt.receipt_timestamp
    if receipt.reason is not None:
        msg.reason = int(receipt.reason)
    if receipt.keys is not None:
        _keys_to_proto(receipt.keys, msg.keys)
    return msg.SerializeToString()


def _keys_to_proto(keys: KeyBundle, out: retry_pb2.RetryKeyBundle) -> None:
    out.key_type = keys.key_type
    out.identity = keys.identity
    if keys.pre_key_id is not None and keys.pre_key is not None:
        out.pre_key_id = keys.pre_key_id
        out.pre_key = keys.pre_key
    out.signed_pre_key_id = keys.signed_pre_key_id
    out.signed_pre_key = keys.signed_pre_key
    out.signed_pre_key_signature = keys.signed_pre_key_signature
    if keys.device_identity is not None:
        out.device_identity = keys.device_identity


def _parse(data: bytes) -> retry_pb2.RetryReceipt:
    if not isinstance(data, bytes | bytearray | memoryview):
        raise UsageError(f"a receipt is parsed from bytes, got {type(data).__name__}")
    if len(data) > MAX_RECEIPT_PROTO_LENGTH:
        # The largest valid receipt (every text field at its limit, a
        # device identity at its limit) is about half of this.
        raise DecodeError(
            "RetryReceipt", f"{len(data)} bytes, more than {MAX_RECEIPT_PROTO_LENGTH}"
        )
    msg = retry_pb2.RetryReceipt()
    try:
        msg.ParseFromString(bytes(data))
    except (_PbDecodeError, ValueError, TypeError, RuntimeError) as exc:
        raise DecodeError("RetryReceipt", str(exc) or "malformed protobuf") from None
    return msg


def _text(msg: retry_pb2.RetryReceipt, name: str, field: str, *, required: bool) -> str | None:
    if not msg.HasField(name):
        if required:
            remote_fail(field, "missing")
        return None
    value: object = getattr(msg, name)
    # upb hands back bytes for a proto2 string field that is not valid UTF-8.
    if type(value) is not str:
        remote_fail(field, "is not valid UTF-8 text")
    return value


def _uint(msg: retry_pb2.RetryReceipt | retry_pb2.RetryKeyBundle, name: str, field: str) -> int:
    if not msg.HasField(name):
        remote_fail(field, "missing")
    value: int = getattr(msg, name)
    return value


def _bytes(keys: retry_pb2.RetryKeyBundle, name: str, field: str) -> bytes:
    if not keys.HasField(name):
        remote_fail(field, "missing")
    value: bytes = getattr(keys, name)
    return value


def _keys_from_proto(keys: retry_pb2.RetryKeyBundle) -> KeyBundle:
    has_id, has_key = keys.HasField("pre_key_id"), keys.HasField("pre_key")
    return make_key_bundle(
        _uint(keys, "key_type", "keys.type"),
        _bytes(keys, "identity", "keys.identity"),
        keys.pre_key_id if has_id else None,
        keys.pre_key if has_key else None,
        _uint(keys, "signed_pre_key_id", "keys.skey.id"),
        _bytes(keys, "signed_pre_key", "keys.skey.value"),
        _bytes(keys, "signed_pre_key_signature", "keys.skey.signature"),
        keys.device_identity if keys.HasField("device_identity") else None,
    )


def _from_message(msg: retry_pb2.RetryReceipt, cls: type[ReceiptT]) -> ReceiptT:
    jid_attr = jid_name(cls)  # (refuses a class that is neither)
    want = _OUTGOING if cls is OutgoingRetryReceipt else _INCOMING
    if not msg.HasField("direction"):
        remote_fail("direction", "missing")
    if msg.direction != want:
        remote_fail("direction", f"expected {'OUTGOING' if want == _OUTGOING else 'INCOMING'}")
    reason: RetryReason | None = None
    if msg.HasField("reason"):
        reason = _REASONS.get(msg.reason)
        if reason is None:
            remote_fail("retry.error", f"unknown reason code {msg.reason}")
    message_id = _text(msg, "message_id", "id", required=True)
    jid = _text(msg, "remote_jid", jid_attr, required=True)
    assert message_id is not None and jid is not None  # required=True never returns None
    return make_receipt(
        cls,
        message_id,
        jid,
        _uint(msg, "count", "retry.count"),
        _uint(msg, "timestamp", "retry.t"),
        _uint(msg, "registration_id", "registration"),
        _text(msg, "participant", "participant", required=False),
        _text(msg, "recipient", "recipient", required=False),
        _uint(msg, "version", "retry.v"),
        reason,
        msg.receipt_timestamp if msg.HasField("receipt_timestamp") else None,
        _keys_from_proto(msg.keys) if msg.HasField("keys") else None,
    )


def receipt_from_proto(data: bytes, cls: type[ReceiptT]) -> ReceiptT:
    """Read a ``RetryReceipt`` protobuf of the direction ``cls`` stands for.

    Args:
        data: the protobuf bytes.
        cls: :class:`OutgoingRetryReceipt` or :class:`IncomingRetryReceipt`.

    Returns:
        The receipt.

    Raises:
        DecodeError: the bytes are not a protobuf message or exceed 16 KiB.
        InvalidReceipt: a field is missing, not printable text or out of
            range, or the direction does not match ``cls`` (``field`` names it).
        UsageError: ``data`` is not bytes, or ``cls`` is neither receipt class.
    """
    return _from_message(_parse(data), cls)


def parse_receipt_proto(data: bytes) -> OutgoingRetryReceipt | IncomingRetryReceipt:
    """Read a ``RetryReceipt`` protobuf of either direction.

    Raises:
        DecodeError: the bytes are not a protobuf message.
        InvalidReceipt: as :func:`receipt_from_proto`; a missing direction is
            refused.
    """
    msg = _parse(data)
    if msg.HasField("direction") and msg.direction == _INCOMING:
        return _from_message(msg, IncomingRetryReceipt)
    return _from_message(msg, OutgoingRetryReceipt)
