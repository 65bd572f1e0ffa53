"""The WhatsApp framing: a serialized WhatsApp ``Message``, a merged handover, random padding.

What yowsup 3.3.0, whatsmeow and Baileys put inside a ``v="2"`` ``enc``
plaintext (``vectors/README.md``, "Framing"):

* the body is a serialized WhatsApp ``Message`` protobuf, opaque to us: we
  read only its top-level structure (tags and lengths) and its field 2;
* a sender-key handover is field 2, ``senderKeyDistributionMessage
  {groupId = 1; axolotlSenderKeyDistributionMessage = 2}``, merged into the
  body as yowsup's group resend does (``Message(skdm).MergeFromString(body)``):
  the field-2 record goes after the body's leading ``conversation`` records
  (field 1, length-delimited) and before everything else, so for a
  canonically serialized body the bytes equal yowsup's;
* every plaintext, pairwise and group, ends in random padding: ``n`` bytes of
  value ``n``, ``1 <= n <= max_padding`` (yowsup pads 1..255, whatsmeow
  1..15, Baileys 1..16; each one unpads by the last byte).

On receipt the padding is checked as whatsmeow does (every one of the last
``n`` bytes is ``n``) and stricter (``n = 0`` is refused, as is a padding
longer than the plaintext); the ``Message`` must be well formed at the top
level and not empty, and a field 2 must be a length-delimited
``SenderKeyDistributionMessage`` with a UTF-8 group id and a distribution
message. Anything else is a :class:`~axolotl.errors.DecodeError`. The field-2
records are taken out of the body handed to the application (the handover is
the layer's business); a message that was nothing but a handover has no body.

Limits: linear time and memory in the plaintext; varints of at most 10
bytes; no protobuf groups (wire types 3 and 4, which WhatsApp's ``Message``
never uses) and no reserved wire types 6, 7 at the top level.
"""

from __future__ import annotations

from dataclasses import dataclass

from google.protobuf.message import DecodeError as _PbDecodeError

from axolotl._pb import whatsapp_pb2 as pb
from axolotl.errors import DecodeError, UsageError
from axolotl.framing.base import Frame
from axolotl.rng import Rng

__all__ = ["WhatsAppFraming", "conversation", "conversation_text", "top_level_fields", "unpad"]

_MESSAGE = "WhatsApp Message"
_HANDOVER = "WhatsApp senderKeyDistributionMessage"
_PADDING = "WhatsApp padding"
_SKDM_FIELD = 2
_MAX_FIELD = (1 << 29) - 1
_NOT_A_BODY = "a WhatsApp-framed body must be a serialized Message"


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    """Read a varint at ``pos``; return (value, next position)."""
    value = 0
    for shift in range(0, 70, 7):
        if pos >= len(data):
            raise DecodeError(_MESSAGE, "truncated varint")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
    raise DecodeError(_MESSAGE, "varint longer than 10 bytes")


def top_level_fields(data: bytes) -> list[tuple[int, int, int, int, int]]:
    """The top-level records of a protobuf message: (field, wire type, start, value, end) each.

    ``data[start:end]`` is the whole record, tag included; ``data[value:end]``
    its value (after the length, for a length-delimited one). Nested
    messages are not looked into.

    Raises:
        DecodeError: a truncated record, field number 0 or above 2**29 - 1,
            a varint over 10 bytes, a length past the end, or wire type 3, 4, 6 or 7.
    """
    records = []
    pos, end = 0, len(data)
    while pos < end:
        start = pos
        tag = data[pos]
        if tag < 0x80:  # one-byte tags (fields 1..15) are the rule: no call
            pos += 1
        else:
            tag, pos = _varint(data, pos)
        field, wire_type = tag >> 3, tag & 7
        if not 1 <= field <= _MAX_FIELD:
            raise DecodeError(_MESSAGE, f"field number {field} out of range")
        if wire_type == 2:
            length, pos = _varint(data, pos)
            value = pos
            pos += length
        elif wire_type == 0:
            value = pos
            _, pos = _varint(data, pos)
        elif wire_type == 1:
            value = pos
            pos += 8
        elif wire_type == 5:
            value = pos
            pos += 4
        else:
            raise DecodeError(_MESSAGE, f"field {field} has wire type {wire_type}")
        if pos > end:
            raise DecodeError(_MESSAGE, f"field {field} runs past the end")
        records.append((field, wire_type, start, value, pos))
    return records


def conversation(text: str) -> bytes:
    """A serialized WhatsApp ``Message{conversation = text}``: a plain text body.

    Raises:
        UsageError: ``text`` is not a str.
    """
    if not isinstance(text, str):
        raise UsageError("a conversation text must be a str")
    return pb.Message(conversation=text).SerializeToString()


def conversation_text(body: bytes) -> str:
    """The ``conversation`` text of a serialized WhatsApp ``Message``.

    Raises:
        DecodeError: not a Message, or one without a conversation text.
    """
    msg = pb.Message()
    try:
        msg.ParseFromString(body)
    except (_PbDecodeError, ValueError) as exc:
        raise DecodeError(_MESSAGE, str(exc) or "malformed protobuf") from None
    if not msg.HasField("conversation"):
        raise DecodeError(_MESSAGE, "no conversation text")
    return msg.conversation


def _handover_record(group_id: str, distribution: bytes) -> bytes:
    msg = pb.Message()
    skdm = msg.sender_key_distribution_message
    skdm.group_id = group_id.encode()
    skdm.axolotl_sender_key_distribution_message = distribution
    return msg.SerializeToString()


def _read_handover(data: bytes) -> tuple[str, bytes]:
    """(group id, distribution) from the concatenated field-2 values (protobuf merges them)."""
    skdm = pb.Message.SenderKeyDistributionMessage()
    try:
        skdm.ParseFromString(data)
    except (_PbDecodeError, ValueError) as exc:
        raise DecodeError(_HANDOVER, str(exc) or "malformed protobuf") from None
    if not skdm.HasField("group_id") or not skdm.group_id:
        raise DecodeError(_HANDOVER, "no group id")
    if not skdm.HasField("axolotl_sender_key_distribution_message") or not (
        skdm.axolotl_sender_key_distribution_message
    ):
        raise DecodeError(_HANDOVER, "no axolotlSenderKeyDistributionMessage")
    try:
        group_id = skdm.group_id.decode()
    except UnicodeDecodeError:
        raise DecodeError(_HANDOVER, "the group id is not UTF-8") from None
    return group_id, skdm.axolotl_sender_key_distribution_message


@dataclass(frozen=True, slots=True, kw_only=True)
class WhatsAppFraming:
    """The plaintexts WhatsApp-style stacks (yowsup, whatsmeow, Baileys) send and read.

    Attributes:
        max_padding: the largest padding drawn (1..255); ``n = 1 + r % max_padding``
            for one random byte ``r`` per plaintext. The default 16 is
            Baileys' range (whatsmeow's is 1..15, yowsup's 1..255); every
            one of them reads any ``n`` from 1 to 255.

    Raises:
        UsageError: ``max_padding`` outside 1..255.
    """

    max_padding: int = 16

    def __post_init__(self) -> None:
        if not isinstance(self.max_padding, int) or not 1 <= self.max_padding <= 255:
            raise UsageError("max_padding must be in 1..255")

    @property
    def name(self) -> str:
        """``"whatsapp"``."""
        return "whatsapp"

    @property
    def names_replaced(self) -> bool:
        """False: nothing of ours that a WhatsApp peer would not expect goes on the wire."""
        return False

    def check_body(self, body: bytes) -> None:
        """A body must be a non-empty serialized ``Message`` without field 2.

        Raises:
            UsageError: empty (yowsup refuses an empty Message, and in a group
                it would read as a bare handover), not a protobuf message at
                the top level, or carrying a senderKeyDistributionMessage
                (the layer hands its sender keys over itself).
        """
        if not body:
            raise UsageError("a WhatsApp-framed body must be a non-empty serialized Message")
        try:
            fields = top_level_fields(body)
        except DecodeError as exc:
            raise UsageError(f"{_NOT_A_BODY}: {exc}") from None
        if any(f == _SKDM_FIELD for f, *_ in fields):
            raise UsageError(
                "a WhatsApp-framed body must not carry senderKeyDistributionMessage (field 2): "
                "the retry layer hands sender keys over itself"
            )

    def _pad(self, message: bytes, rng: Rng) -> bytes:
        n = 1 + rng(1)[0] % self.max_padding
        return message + bytes((n,)) * n

    def encode_pairwise(self, frame: Frame, rng: Rng) -> bytes:
        """The body, the handover merged in as field 2, then the padding (one 1-byte draw).

        The body is taken as :meth:`check_body` left it (the retry layer
        checks it once per send, not once per device).

        Raises:
            UsageError: the frame names replaced positions (this framing
                never carries them), or it merges a handover into a body
                that is not a protobuf message.
        """
        if frame.replaces:
            raise UsageError("the WhatsApp framing does not carry replaced positions")
        body = frame.body or b""
        if frame.distribution is None:
            return self._pad(body, rng)
        assert frame.group_id is not None  # Frame checks this
        try:
            fields = top_level_fields(body)
        except DecodeError as exc:
            raise UsageError(f"{_NOT_A_BODY}: {exc}") from None
        # Where yowsup's re-serialization puts it: after the leading
        # conversation (field 1, a string) records, before everything else --
        # a field 1 of another wire type is unknown to it, so it goes after.
        at = next((start for f, w, start, _, _ in fields if (f, w) != (1, 2)), len(body))
        record = _handover_record(frame.group_id, frame.distribution)
        return self._pad(body[:at] + record + body[at:], rng)

    def encode_group(self, body: bytes, rng: Rng) -> bytes:
        """The body, then the padding (one 1-byte draw); the body as :meth:`check_body` left it."""
        return self._pad(body, rng)

    def decode_pairwise(self, plaintext: bytes) -> Frame:
        """Unpad, check, and split off a handover.

        Raises:
            DecodeError: bad padding, a malformed or empty Message, a malformed field 2.
        """
        return _decode(plaintext)

    def decode_group(self, plaintext: bytes) -> Frame:
        """As :meth:`decode_pairwise` (a group Message may carry a handover too, as peers read it).

        Raises:
            DecodeError: bad padding, a malformed or empty Message, a malformed field 2.
        """
        return _decode(plaintext)


def unpad(plaintext: bytes) -> bytes:
    """Strip and check the padding: the last byte ``n`` (1..len), and ``n`` bytes of value ``n``.

    Raises:
        DecodeError: an empty plaintext, ``n = 0``, ``n`` past the start, or a
            padding byte that is not ``n``.
    """
    if not plaintext:
        raise DecodeError(_PADDING, "the plaintext is empty")
    n = plaintext[-1]
    if n == 0:
        raise DecodeError(_PADDING, "padding length 0")
    if n > len(plaintext):
        raise DecodeError(_PADDING, f"padding length {n} exceeds the {len(plaintext)} B plaintext")
    if plaintext[-n:] != bytes((n,)) * n:
        raise DecodeError(_PADDING, f"the last {n} bytes are not all {n}")
    return plaintext[:-n]


def _decode(plaintext: bytes) -> Frame:
    message = unpad(plaintext)
    if not message:
        raise DecodeError(_MESSAGE, "the Message is empty")
    fields = top_level_fields(message)
    values = []
    for field, wire_type, _, value, end in fields:
        if field == _SKDM_FIELD:
            if wire_type != 2:
                raise DecodeError(_HANDOVER, f"field 2 has wire type {wire_type}, not 2")
            values.append(message[value:end])
    if not values:
        return Frame(body=message)
    group_id, distribution = _read_handover(b"".join(values))
    body = b"".join(message[s:e] for f, _, s, _, e in fields if f != _SKDM_FIELD)
    return Frame(body=body or None, distribution=distribution, group_id=group_id)
