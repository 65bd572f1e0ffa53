"""The retry receipt <-> node mapping (README.md, "Retry receipts").

``<receipt id to|from [participant] [recipient] type="retry" [t]>`` holding
``<retry count id t v [error]/>``, ``<registration>`` (4 bytes big-endian) and
an optional ``<keys>`` bundle. Functions over the receipt values of
:mod:`axolotl.receipts.entities` and the :class:`~axolotl.receipts.node.Node`
tree; both of those modules know nothing of this one.

Kept lean: this runs once per undecryptable message on busy clients, and the
benchmark (``benchmarks/bench_receipts.py``) holds the round trip to half of
yowsup's entity <-> ProtocolTreeNode cost.
"""

from __future__ import annotations

from typing import NoReturn

from axolotl.errors import InvalidReceipt, UsageError
from axolotl.receipts.entities import (
    IncomingRetryReceipt,
    OutgoingRetryReceipt,
    ReceiptT,
    checked_receipt,
    jid_name,
)
from axolotl.receipts.fields import (
    MAX_COUNT,
    REASON_BY_TEXT,
    KeyBundle,
    RetryReason,
    check_text,
    make_key_bundle,
    remote_fail,
)
from axolotl.receipts.limits import MAX_ID_LENGTH, MAX_JID_LENGTH, MAX_UINT_DIGITS, excerpt
from axolotl.receipts.limits import parse_uint as _parse_uint
from axolotl.receipts.node import Node
from axolotl.receipts.node import unchecked as _node

__all__ = ["receipt_to_node", "receipt_from_node", "parse_receipt_node"]

# Looked up once: ``int.from_bytes`` costs more to find than to run.
_from_bytes = int.from_bytes
_DECIMAL = tuple(str(i) for i in range(256))
_SMALL_INT = {text: number for number, text in enumerate(_DECIMAL)}
_BYTE = tuple(bytes([i]) for i in range(256))


def _fail(field: str, reason: str) -> NoReturn:
    raise InvalidReceipt(field, reason)


def _keys_to_node(keys: KeyBundle) -> Node:
    kids = [
        _node("type", {}, (), _BYTE[keys.key_type]),
        _node("identity", {}, (), keys.identity),
    ]
    if keys.pre_key_id is not None:
        kids.append(
            _node(
                "key",
                {},
                (
                    _node("id", {}, (), keys.pre_key_id.to_bytes(3, "big")),
                    _node("value", {}, (), keys.pre_key),
                ),
                None,
            )
        )
    kids.append(
        _node(
            "skey",
            {},
            (
                _node("id", {}, (), keys.signed_pre_key_id.to_bytes(3, "big")),
                _node("value", {}, (), keys.signed_pre_key),
                _node("signature", {}, (), keys.signed_pre_key_signature),
            ),
            None,
        )
    )
    if keys.device_identity is not None:
        kids.append(_node("device-identity", {}, (), keys.device_identity))
    return _node("keys", {}, tuple(kids), None)


def receipt_to_node(receipt: OutgoingRetryReceipt | IncomingRetryReceipt) -> Node:
    """Build the ``<receipt type="retry">`` tree of a receipt.

    Attribute and child order follow what yowsup, whatsmeow and Baileys
    write: ``id``, ``to``/``from``,
    ``[participant]``, ``[recipient]``, ``type``, ``[t]``; then
    ``<retry count id t v [error]/>``, ``<registration>`` (4 bytes
    big-endian) and ``[<keys>]``. Every node is new (the caller may change it).

    Args:
        receipt: an outgoing (``to``) or incoming (``from``) receipt.

    Returns:
        The node.

    Raises:
        UsageError: ``receipt`` is not a retry receipt.
    """
    # Hot path: the layout is written out (its names are valid and the
    # receipt's values were checked when it was built, so the nodes skip
    # Node's checks); numbers below 256 come from a table.
    if isinstance(receipt, OutgoingRetryReceipt):
        jid_attr, jid = "to", receipt.to
    elif isinstance(receipt, IncomingRetryReceipt):
        jid_attr, jid = "from", receipt.sender
    else:
        raise UsageError(f"expected a retry receipt, got {type(receipt).__name__}")
    mid = receipt.message_id
    participant = receipt.participant
    recipient = receipt.recipient
    if participant is None and recipient is None:
        attrs = {"id": mid, jid_attr: jid, "type": "retry"}
    else:
        attrs = {"id": mid, jid_attr: jid}
        if participant is not None:
            attrs["participant"] = participant
        if recipient is not None:
            attrs["recipient"] = recipient
        attrs["type"] = "retry"
    rts = receipt.receipt_timestamp
    if rts is not None:
        attrs["t"] = str(rts)
    version = receipt.version
    retry_attrs = {
        "count": _DECIMAL[receipt.count],
        "id": mid,
        "t": str(receipt.timestamp),
        "v": _DECIMAL[version] if version < 256 else str(version),
    }
    reason = receipt.reason
    if reason is not None:
        retry_attrs["error"] = _DECIMAL[reason]
    retry = _node("retry", retry_attrs, (), None)
    registration = _node("registration", {}, (), receipt.registration_id.to_bytes(4, "big"))
    keys = receipt.keys
    return _node(
        "receipt",
        attrs,
        (retry, registration) if keys is None else (retry, registration, _keys_to_node(keys)),
        None,
    )


def _data(node: Node | None, field: str, length: int | None = None) -> bytes:
    if node is None:
        _fail(field, "missing")
    data = node.data
    if data is None:
        _fail(field, "must carry bytes, not nodes" if node.children else "carries no bytes")
    if type(data) is not bytes:
        _fail(field, f"must carry bytes, got {type(data).__name__}")
    if length is not None and len(data) != length:
        _fail(field, f"must be {length} bytes, got {len(data)}")
    return data


def _pick(node: Node, field: str, tags: tuple[str, ...]) -> dict[str, Node]:
    """The children of ``node`` with the given tags; others are ignored, duplicates refused."""
    if node.data is not None:
        _fail(field, "must carry nodes, not bytes")
    found: dict[str, Node] = {}
    for kid in node.children:
        tag = kid.tag
        if tag in tags:
            if tag in found:
                _fail(f"{field}.{tag}", "duplicated")
            found[tag] = kid
    return found


def _keys_from_node(keys: Node) -> KeyBundle:
    # Hot path: the layout every writer uses (type, identity, [key], skey,
    # [device-identity], in this order, each child once) with bytes where
    # bytes belong; anything else goes the general way, which names what is
    # wrong (and finds the same bundle in any other order).
    kids = keys.children
    if keys.data is None and 3 <= len(kids) <= 5:
        bundle = _canonical_keys(kids)
        if bundle is not None:
            return bundle
    return _keys_in_any_order(keys)


def _canonical_keys(kids: tuple[Node, ...]) -> KeyBundle | None:
    """The bundle of ``<keys>`` children in the canonical layout, or ``None`` if they are not."""
    if kids[0].tag != "type" or kids[1].tag != "identity":
        return None
    index = 2
    key = kids[index]
    pre_key_id = pre_key = None
    if key.tag == "key":
        parts = key.children
        if key.data is not None or len(parts) != 2:
            return None
        key_id, value = parts
        if key_id.tag != "id" or value.tag != "value":
            return None
        id_data, pre_key = key_id.data, value.data
        if type(id_data) is not bytes or len(id_data) != 3 or type(pre_key) is not bytes:
            return None
        pre_key_id = _from_bytes(id_data, "big")
        index = 3
        if len(kids) == 3:
            return None
    skey = kids[index]
    device_identity = None
    if len(kids) > index + 1:
        device = kids[index + 1]
        if len(kids) > index + 2 or device.tag != "device-identity":
            return None
        device_identity = device.data
        if type(device_identity) is not bytes:
            return None
    if skey.tag != "skey" or skey.data is not None or len(skey.children) != 3:
        return None
    signed_id, signed, signature = skey.children
    if signed_id.tag != "id" or signed.tag != "value" or signature.tag != "signature":
        return None
    key_type, identity = kids[0].data, kids[1].data
    signed_id_data, signed_data, signature_data = signed_id.data, signed.data, signature.data
    if not (
        type(key_type) is bytes
        and len(key_type) == 1
        and type(identity) is bytes
        and type(signed_id_data) is bytes
        and len(signed_id_data) == 3
        and type(signed_data) is bytes
        and type(signature_data) is bytes
    ):
        return None
    return make_key_bundle(
        key_type[0],
        identity,
        pre_key_id,
        pre_key,
        _from_bytes(signed_id_data, "big"),
        signed_data,
        signature_data,
        device_identity,
    )


def _keys_in_any_order(keys: Node) -> KeyBundle:
    parts = _pick(keys, "keys", ("type", "identity", "key", "skey", "device-identity"))
    key_type = _data(parts.get("type"), "keys.type", 1)[0]
    identity = _data(parts.get("identity"), "keys.identity")
    pre_key_id: int | None = None
    pre_key: bytes | None = None
    key = parts.get("key")
    if key is not None:
        sub = _pick(key, "keys.key", ("id", "value"))
        pre_key_id = _from_bytes(_data(sub.get("id"), "keys.key.id", 3), "big")
        pre_key = _data(sub.get("value"), "keys.key.value")
    skey = parts.get("skey")
    if skey is None:
        _fail("keys.skey", "missing")
    sub = _pick(skey, "keys.skey", ("id", "value", "signature"))
    signed_id = _from_bytes(_data(sub.get("id"), "keys.skey.id", 3), "big")
    signed = _data(sub.get("value"), "keys.skey.value")
    signature = _data(sub.get("signature"), "keys.skey.signature")
    device = parts.get("device-identity")
    device_identity = None if device is None else _data(device, "keys.device-identity")
    return make_key_bundle(
        key_type, identity, pre_key_id, pre_key, signed_id, signed, signature, device_identity
    )


def _digits(value: object, field: str, high: int, low: int = 0) -> int:
    """Read a numeric attribute in the one canonical syntax, naming ``field`` when it is wrong.

    Canonical (:func:`~axolotl.receipts.limits.parse_uint`): ASCII digits, no
    sign, no leading zero except ``"0"``, at most 20 digits -- checked before
    any conversion, so no length of digits reaches ``int()``'s 4300-digit limit.
    """
    number = _parse_uint(value, high)
    if number is not None and number >= low:
        return number
    if type(value) is not str:
        _fail(field, f"must be text, got {type(value).__name__}")
    if not value.isascii() or not value.isdigit():
        _fail(field, f"not a decimal number: {excerpt(value)}")
    if len(value) > MAX_UINT_DIGITS:
        _fail(field, f"number of {len(value)} digits, more than {MAX_UINT_DIGITS}")
    if value[0] == "0" and len(value) > 1:
        _fail(field, f"leading zero in {excerpt(value)} (numbers are written canonically)")
    _fail(field, f"must be in {low}..{high}, got {value}")


def receipt_from_node(node: Node, cls: type[ReceiptT]) -> ReceiptT:
    """Read a ``<receipt type="retry">`` tree into ``cls``.

    Unknown attributes and children are ignored (and not kept); a known child
    given twice is refused. ``retry@id`` is required and must equal
    ``receipt@id`` (yowsup, whatsmeow and Baileys all write it; whatsmeow's
    reader requires it). Every number is read in the one canonical syntax,
    and ids and JIDs are checked as the constructors check them (see
    :mod:`axolotl.receipts.limits`).

    Args:
        node: the receipt node.
        cls: :class:`OutgoingRetryReceipt` (reads ``to``) or
            :class:`IncomingRetryReceipt` (reads ``from``).

    Returns:
        The receipt.

    Raises:
        InvalidReceipt: a field is missing, duplicated, malformed or out of
            range; ``field`` names it (``"retry"``, ``"registration"``,
            ``"retry.count"``, ``"keys.skey.signature"``, ...).
        UsageError: ``node`` is not a :class:`Node`, or ``cls`` is neither
            receipt class.
    """
    # Hot path: a valid receipt is read with subscripts and inline tests only;
    # anything unusual drops to helpers that name what is wrong.
    if type(node) is not Node and not isinstance(node, Node):
        raise UsageError(f"expected a Node, got {type(node).__name__}")
    if node.tag != "receipt":
        _fail("receipt", f"expected a <receipt> node, got {excerpt(node.tag)}")
    attrs = node.attrs
    # "to", or UsageError for a class that is neither
    jid_attr = "from" if cls is IncomingRetryReceipt else jid_name(cls)
    try:
        message_id = attrs["id"]
        jid = attrs[jid_attr]
        kind = attrs["type"]
    except KeyError as exc:
        _fail(exc.args[0], "missing")
    if not (
        type(message_id) is str
        and message_id
        and len(message_id) <= 256
        and message_id.isprintable()
        and type(jid) is str
        and jid
        and len(jid) <= 256
        and jid.isprintable()
    ):  # 256: MAX_ID_LENGTH and MAX_JID_LENGTH, inlined on this hot path
        check_text(remote_fail, "id", message_id, MAX_ID_LENGTH)
        check_text(remote_fail, jid_attr, jid, MAX_JID_LENGTH)
    if kind != "retry":
        _fail("type", f'must be "retry", got {excerpt(kind)}')
    participant = recipient = receipt_timestamp = None
    if len(attrs) > 3:
        participant = attrs.get("participant")
        if participant is not None:
            check_text(remote_fail, "participant", participant, MAX_JID_LENGTH)
        recipient = attrs.get("recipient")
        if recipient is not None:
            check_text(remote_fail, "recipient", recipient, MAX_JID_LENGTH)
        t = attrs.get("t")
        if t is not None:
            receipt_timestamp = _digits(t, "t", 0xFFFFFFFFFFFFFFFF)

    kids = node.children
    keys = None
    if len(kids) == 2:
        retry, registration = kids
        if retry.tag != "retry" or registration.tag != "registration":
            retry, registration, keys = _receipt_children(kids)
    else:
        retry, registration, keys = _receipt_children(kids)

    rattrs = retry.attrs
    try:
        count_text = rattrs["count"]
        retry_id = rattrs["id"]
        timestamp_text = rattrs["t"]
        version_text = rattrs["v"]
    except KeyError as exc:
        _fail(f"retry.{exc.args[0]}", "missing")
    # Canonical "0".."255" come from the table (a miss raises, at no cost until then).
    try:
        count = _SMALL_INT[count_text]
        version = _SMALL_INT[version_text]
    except (KeyError, TypeError):
        count = version = 0
    if not count:
        count = _digits(count_text, "retry.count", MAX_COUNT, 1)
    if retry_id != message_id:
        _fail("retry.id", f"{excerpt(retry_id)} differs from the receipt id {excerpt(message_id)}")
    # 1..19 canonical digits always fit 64 bits ("" is not a digit string);
    # "0", 20 digits and anything wrong go through _digits.
    if (
        type(timestamp_text) is str
        and len(timestamp_text) < 20
        and timestamp_text.isdigit()
        and timestamp_text.isascii()
        and timestamp_text[0] != "0"
    ):
        timestamp = int(timestamp_text)
    else:
        timestamp = _digits(timestamp_text, "retry.t", 0xFFFFFFFFFFFFFFFF)
    if not version:
        version = _digits(version_text, "retry.v", 0xFFFFFFFF, 1)
    reason: RetryReason | None = None
    if len(rattrs) > 4:
        error = rattrs.get("error")
        if error is not None:
            reason = REASON_BY_TEXT.get(error) if type(error) is str else None
            if reason is None:
                _fail("retry.error", f"unknown reason code {excerpt(error)}")

    data = registration.data
    if type(data) is not bytes or len(data) != 4:
        data = _data(registration, "registration", 4)
    # Every field was checked above as the constructor checks it.
    return checked_receipt(
        cls,
        message_id,
        jid,
        count,
        timestamp,
        _from_bytes(data, "big"),
        participant,
        recipient,
        version,
        reason,
        receipt_timestamp,
        None if keys is None else _keys_from_node(keys),
    )


def _receipt_children(kids: tuple[Node, ...]) -> tuple[Node, Node, Node | None]:
    """Find ``<retry>``, ``<registration>`` and ``<keys>`` in any order (others ignored)."""
    retry = registration = keys = None
    for kid in kids:
        tag = kid.tag
        if tag == "retry":
            if retry is not None:
                _fail("retry", "duplicated")
            retry = kid
        elif tag == "registration":
            if registration is not None:
                _fail("registration", "duplicated")
            registration = kid
        elif tag == "keys":
            if keys is not None:
                _fail("keys", "duplicated")
            keys = kid
    if retry is None:
        _fail("retry", "missing")
    if registration is None:
        _fail("registration", "missing")
    return retry, registration, keys


def parse_receipt_node(node: Node) -> OutgoingRetryReceipt | IncomingRetryReceipt:
    """Read a receipt node of either direction: ``from`` means incoming, else outgoing.

    Raises:
        InvalidReceipt: as :func:`receipt_from_node`.
        UsageError: ``node`` is not a :class:`Node`.
    """
    if isinstance(node, Node) and "from" in node.attrs:
        return receipt_from_node(node, IncomingRetryReceipt)
    return receipt_from_node(node, OutgoingRetryReceipt)
