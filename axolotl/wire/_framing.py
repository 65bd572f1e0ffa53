"""What every Signal wire message shares: type tag, version byte, body parsing, field checks.

Each message is a version byte followed by a protobuf body (``proto/wire.proto``,
field numbers from libsignal's ``WhisperTextProtocol.proto``) and, for some, a
MAC or signature tail. The version byte is
``(message_version << 4) | current_version``; this library writes ``0x33`` and
reads any byte whose high nibble is 3 (the low nibble only says what the sender
could speak, as in libsignal).

:func:`parse_body` reads that framing for all four messages and raises only
remote-data errors (:class:`~axolotl.errors.DecodeError`,
:class:`~axolotl.errors.InvalidVersion`); :func:`parse_public_key` turns a key
field into a :class:`~axolotl.crypto.curve.PublicKey` or an
:class:`~axolotl.errors.InvalidKey` naming the field. The ``check_*`` helpers
validate values a caller hands in and raise :class:`~axolotl.errors.UsageError`.
"""

from __future__ import annotations

import enum
from typing import TypeVar

from google.protobuf.message import DecodeError as _PbDecodeError
from google.protobuf.message import Message as _PbMessage

from axolotl.crypto.curve import PublicKey
from axolotl.errors import DecodeError, InvalidKey, InvalidVersion, UsageError

CURRENT_VERSION = 3
"""The Signal message version this library writes and reads."""

VERSION_BYTE = bytes([(CURRENT_VERSION << 4) | CURRENT_VERSION])
"""The first byte of every message this library writes (``0x33``)."""

_UINT32_MAX = 0xFFFFFFFF

_M = TypeVar("_M", bound=_PbMessage)


@enum.unique
class MessageType(enum.IntEnum):
    """The ciphertext type a transport carries beside the bytes (libsignal CiphertextMessage)."""

    SIGNAL = 2
    PREKEY = 3
    SENDER_KEY = 4
    SENDER_KEY_DISTRIBUTION = 5


# -- validation helpers -------------------------------------------------------


def check_uint32(what: str, value: object) -> None:
    """Raise UsageError unless ``value`` is an int (not a bool) in 0..2^32-1."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _UINT32_MAX:
        raise UsageError(f"{what} must be an integer in 0..2^32-1, got {value!r}")


def check_public_key(what: str, value: object) -> None:
    """Raise UsageError unless ``value`` is a :class:`PublicKey`."""
    if not isinstance(value, PublicKey):
        raise UsageError(f"{what} must be a PublicKey, got {type(value).__name__}")


def check_bytes(what: str, value: object, *, length: int | None = None) -> None:
    """Raise UsageError unless ``value`` is bytes: ``length`` long if given, else non-empty."""
    if not isinstance(value, bytes):
        raise UsageError(f"{what} must be bytes, got {type(value).__name__}")
    if length is None and not value:
        raise UsageError(f"{what} must not be empty")
    if length is not None and len(value) != length:
        raise UsageError(f"{what} must be {length} bytes, got {len(value)}")


# -- parsing helpers (remote data: DecodeError / InvalidVersion / InvalidKey) ---


def parse_body(data: bytes, message: _M, what: str, tail: int, *required: str) -> tuple[bytes, _M]:
    """Read ``version || body || tail`` into ``message``.

    Checks the length and the version nibble, parses the protobuf body (what
    precedes ``tail`` bytes of MAC or signature) and requires ``required``.

    Returns:
        ``data`` as bytes (the message's ``serialized``), and ``message``.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise UsageError(f"{what} must be parsed from bytes, got {type(data).__name__}")
    data = bytes(data)
    if len(data) < 1 + tail + 1:
        raise DecodeError(what, f"{len(data)} bytes is too short")
    version = data[0] >> 4
    if version != CURRENT_VERSION:
        raise InvalidVersion(version, what)
    try:
        message.ParseFromString(data[1 : len(data) - tail])
    except (_PbDecodeError, ValueError, TypeError, RuntimeError) as exc:
        raise DecodeError(what, str(exc) or "malformed protobuf") from None
    for name in required:
        if not message.HasField(name):
            raise DecodeError(f"{what}.{name}", "required field is missing")
    return data, message


def parse_public_key(what: str, data: bytes) -> PublicKey:
    """Read a 33-byte 0x05 key from the wire; an InvalidKey names the field ``what``."""
    try:
        return PublicKey.deserialize(data)
    except InvalidKey as exc:
        raise InvalidKey(f"{what}: {exc}") from None
