"""libsignal's DecryptionErrorMessage and the PlaintextContent that carries it.

Signal-style stacks ask for a resend with an unencrypted
``DecryptionErrorMessage{ratchet_key=1, timestamp=2, device_id=3}`` placed in
``Content.decryption_error_message`` (field 8) and framed as a
``PlaintextContent``: ``0xC0 || Content || 0x80`` (libsignal
``rust/protocol/src/protocol.rs``: ``PlaintextContent``,
``DecryptionErrorMessage::for_original``,
``extract_decryption_error_message_from_serialized_content``).

The ratchet key tells the sender which session the failed message came from,
so it can tell "this session is broken" from "an old session"; it is absent
for sender-key (group) messages.
"""

from __future__ import annotations

from dataclasses import dataclass

from google.protobuf.message import DecodeError as _PbDecodeError

from axolotl._pb import retry_pb2
from axolotl.crypto.curve import PublicKey
from axolotl.errors import DecodeError, InvalidKey, UsageError
from axolotl.receipts.limits import MAX_DEM_LENGTH, MAX_PLAINTEXT_CONTENT_LENGTH
from axolotl.wire import MessageType, PreKeySignalMessage, SignalMessage

__all__ = [
    "DecryptionErrorMessage",
    "PLAINTEXT_CONTENT_IDENTIFIER",
    "PADDING_BOUNDARY",
]

PLAINTEXT_CONTENT_IDENTIFIER = 0xC0
"""First byte of a serialized PlaintextContent (libsignal PLAINTEXT_CONTEXT_IDENTIFIER_BYTE)."""

PADDING_BOUNDARY = 0x80
"""Last byte of a serialized PlaintextContent (libsignal PADDING_BOUNDARY_BYTE)."""

_PREFIX = bytes([PLAINTEXT_CONTENT_IDENTIFIER])
_SUFFIX = bytes([PADDING_BOUNDARY])
_UINT32_MAX = 0xFFFFFFFF
_UINT64_MAX = 0xFFFFFFFFFFFFFFFF


def _check_uint(what: str, value: object, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= high:
        raise UsageError(f"{what} must be an integer in 0..{high}, got {value!r}")


@dataclass(frozen=True, slots=True, kw_only=True)
class DecryptionErrorMessage:
    """A request to resend, naming the failed message by timestamp and session.

    Attributes:
        timestamp: the failed message's timestamp (milliseconds, 64-bit).
        device_id: the device that sent the failed message (32-bit).
        ratchet_key: the sender's ratchet key from the failed message, or
            ``None`` for sender-key messages.
    """

    timestamp: int
    device_id: int
    ratchet_key: PublicKey | None = None

    def __post_init__(self) -> None:
        _check_uint("timestamp", self.timestamp, _UINT64_MAX)
        _check_uint("device_id", self.device_id, _UINT32_MAX)
        if self.ratchet_key is not None and not isinstance(self.ratchet_key, PublicKey):
            raise UsageError(
                f"ratchet_key must be a PublicKey or None, got {type(self.ratchet_key).__name__}"
            )

    @classmethod
    def for_original(
        cls, ciphertext: bytes, message_type: MessageType | int, timestamp: int, device_id: int
    ) -> DecryptionErrorMessage:
        """The error message for a ciphertext we could not decrypt.

        Args:
            ciphertext: the failed message's wire bytes.
            message_type: its type: SIGNAL (2) and PREKEY (3) carry a ratchet
                key, which is read out of the message; SENDER_KEY (4) has none.
            timestamp: the failed message's timestamp (ms).
            device_id: the device that sent it.

        Returns:
            The message.

        Raises:
            UsageError: ``message_type`` is not 2, 3 or 4, or a number is out of range.
            DecodeError, InvalidVersion, InvalidKey: a SIGNAL or PREKEY
                ciphertext is malformed (its MAC is not checked).
        """
        try:
            kind = MessageType(message_type)
        except ValueError:
            raise UsageError(f"unknown message type {message_type!r}") from None
        ratchet_key: PublicKey | None
        if kind is MessageType.SIGNAL:
            ratchet_key = SignalMessage.parse(ciphertext).ratchet_key
        elif kind is MessageType.PREKEY:
            ratchet_key = PreKeySignalMessage.parse(ciphertext).message.ratchet_key
        elif kind is MessageType.SENDER_KEY:
            ratchet_key = None
        else:
            raise UsageError(f"no DecryptionErrorMessage for a {kind.name} message")
        return cls(timestamp=timestamp, device_id=device_id, ratchet_key=ratchet_key)

    def serialize(self) -> bytes:
        """The ``DecryptionErrorMessage`` protobuf bytes (fields written as libsignal does)."""
        msg = retry_pb2.DecryptionErrorMessage(timestamp=self.timestamp, device_id=self.device_id)
        if self.ratchet_key is not None:
            msg.ratchet_key = self.ratchet_key.serialize()
        return msg.SerializeToString()

    @classmethod
    def parse(cls, data: bytes) -> DecryptionErrorMessage:
        """Read the protobuf bytes.

        An absent ``device_id`` reads as 0 and an absent ``ratchet_key`` as
        ``None``, as libsignal does; ``timestamp`` is required.

        Raises:
            DecodeError: not a protobuf message, longer than
                :data:`~axolotl.receipts.limits.MAX_DEM_LENGTH` (1024 bytes),
                or no timestamp.
            InvalidKey: the ratchet key is not a 33-byte 0x05 key.
        """
        if not isinstance(data, bytes | bytearray | memoryview):
            raise UsageError(f"parse takes bytes, got {type(data).__name__}")
        if len(data) > MAX_DEM_LENGTH:
            raise DecodeError(
                "DecryptionErrorMessage", f"{len(data)} bytes, more than {MAX_DEM_LENGTH}"
            )
        msg = retry_pb2.DecryptionErrorMessage()
        try:
            msg.ParseFromString(bytes(data))
        except (_PbDecodeError, ValueError, TypeError, RuntimeError) as exc:
            raise DecodeError("DecryptionErrorMessage", str(exc) or "malformed protobuf") from None
        if not msg.HasField("timestamp"):
            raise DecodeError("DecryptionErrorMessage.timestamp", "required field is missing")
        ratchet_key = None
        if msg.HasField("ratchet_key"):
            try:
                ratchet_key = PublicKey.deserialize(msg.ratchet_key)
            except InvalidKey as exc:
                raise InvalidKey(f"DecryptionErrorMessage.ratchet_key: {exc}") from None
        return cls(timestamp=msg.timestamp, device_id=msg.device_id, ratchet_key=ratchet_key)

    def to_plaintext_content(self) -> bytes:
        """Frame as a PlaintextContent: ``0xC0 || Content{decryption_error_message=8} || 0x80``."""
        body = retry_pb2.PlaintextContentBody(decryption_error_message=self.serialize())
        return _PREFIX + body.SerializeToString() + _SUFFIX

    @classmethod
    def from_plaintext_content(cls, data: bytes) -> DecryptionErrorMessage:
        """Read a PlaintextContent that carries a DecryptionErrorMessage.

        Raises:
            DecodeError: longer than
                :data:`~axolotl.receipts.limits.MAX_PLAINTEXT_CONTENT_LENGTH`
                (2048 bytes), the first byte is not 0xC0, the last not 0x80, the
                Content is malformed or has no decryption error message, or
                the message inside is malformed.
            InvalidKey: the ratchet key inside is malformed.
        """
        if not isinstance(data, bytes | bytearray | memoryview):
            raise UsageError(f"from_plaintext_content takes bytes, got {type(data).__name__}")
        if len(data) > MAX_PLAINTEXT_CONTENT_LENGTH:
            raise DecodeError(
                "PlaintextContent", f"{len(data)} bytes, more than {MAX_PLAINTEXT_CONTENT_LENGTH}"
            )
        data = bytes(data)
        if len(data) < 2:
            raise DecodeError("PlaintextContent", f"{len(data)} bytes is too short")
        if data[0] != PLAINTEXT_CONTENT_IDENTIFIER:
            raise DecodeError("PlaintextContent", f"first byte 0x{data[0]:02x} is not 0xc0")
        if data[-1] != PADDING_BOUNDARY:
            raise DecodeError("PlaintextContent", f"last byte 0x{data[-1]:02x} is not 0x80")
        body = retry_pb2.PlaintextContentBody()
        try:
            body.ParseFromString(data[1:-1])
        except (_PbDecodeError, ValueError, TypeError, RuntimeError) as exc:
            reason = str(exc) or "malformed protobuf"
            raise DecodeError("PlaintextContent.Content", reason) from None
        if not body.HasField("decryption_error_message"):
            raise DecodeError("PlaintextContent.Content.decryption_error_message", "not present")
        return cls.parse(body.decryption_error_message)
