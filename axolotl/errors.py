"""The one error hierarchy of axolotl.

Everything this library raises on purpose derives from :class:`AxolotlError`.
Two families sit under it:

* :class:`UsageError` -- the local application misused the API (a value out of
  range, an illegal state transition). Fix the calling code.
* :class:`RemoteError` -- bytes or protocol data that came from a peer are
  wrong. Never the application's fault; the library refuses the input and
  changes no stored state.

Storage problems raise :class:`StorageError`. Subclasses carry the data they
are about (address, message id, counter) as attributes, so a caller can act
on them without parsing messages.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only: address.py raises UsageError from here
    from axolotl.address import ProtocolAddress

__all__ = [
    "AxolotlError",
    "UsageError",
    "IllegalTransition",
    "RemoteError",
    "DecodeError",
    "InvalidKey",
    "InvalidSignature",
    "InvalidVersion",
    "InvalidMessage",
    "BadMac",
    "DuplicateMessage",
    "FutureMessage",
    "InvalidKeyId",
    "NoSession",
    "NoSenderKey",
    "UntrustedIdentity",
    "InvalidReceipt",
    "StorageError",
    "SchemaVersionError",
    "LockTimeout",
]


class AxolotlError(Exception):
    """Root of every error axolotl raises on purpose."""


class UsageError(AxolotlError, ValueError):
    """The local caller passed an invalid value or called at the wrong time."""


class IllegalTransition(UsageError):
    """A state machine was asked for a transition its table does not allow.

    Attributes:
        role: which side's machine (e.g. ``"sender"``).
        state: the state it was in.
        event: the event that was refused.
    """

    def __init__(self, role: str, state: str, event: str) -> None:
        super().__init__(f"{role}: event {event!r} is not allowed in state {state!r}")
        self.role = role
        self.state = state
        self.event = event


class RemoteError(AxolotlError):
    """Data from a peer is wrong (malformed, unauthenticated, out of range).

    Attributes:
        address: the peer device it came from, where the layer that raised
            it knows one (the session ciphers set it on every decrypt error;
            ``None`` for a parser that reads bytes alone).
        message_id: the message it is about, where known (the retry layer
            sets it on what it lets out).
    """

    address: ProtocolAddress | None = None
    message_id: str | None = None

    def about(
        self, address: ProtocolAddress | None = None, message_id: str | None = None
    ) -> RemoteError:
        """Fill in what the error is about where it is not known yet; returns ``self``."""
        if self.address is None and address is not None:
            self.address = address
        if self.message_id is None and message_id is not None:
            self.message_id = message_id
        return self


class DecodeError(RemoteError):
    """Bytes or a node could not be decoded.

    Attributes:
        what: the structure or field that failed to decode.
    """

    def __init__(self, what: str, reason: str) -> None:
        super().__init__(f"cannot decode {what}: {reason}")
        self.what = what
        self.reason = reason


class InvalidKey(RemoteError):
    """A key has the wrong length, type byte or value."""


class InvalidSignature(RemoteError):
    """A signature does not verify."""


class InvalidVersion(RemoteError):
    """A message carries a protocol version this library does not speak.

    Attributes:
        version: the version found on the wire.
    """

    def __init__(self, version: int, what: str = "message") -> None:
        super().__init__(f"unsupported {what} version {version}")
        self.version = version


class InvalidMessage(RemoteError):
    """A message is well formed but cannot be decrypted or does not fit the session."""


class BadMac(InvalidMessage):
    """A message authentication code does not match (the classic "Bad MAC").

    Attributes:
        counter: the message counter (or sender-key iteration) whose MAC failed,
            when the message got that far (``None`` otherwise).
    """

    def __init__(self, message: str, counter: int | None = None) -> None:
        super().__init__(message)
        self.counter = counter


class DuplicateMessage(RemoteError):
    """A message key for this counter was already used: the message was seen before.

    Attributes:
        counter: the message counter (or sender-key iteration) seen again.
    """

    def __init__(self, message: str, counter: int) -> None:
        super().__init__(message)
        self.counter = counter


class FutureMessage(RemoteError):
    """A message counter lies further ahead than the configured skip bound.

    Attributes:
        counter: the counter on the wire.
    """

    def __init__(self, message: str, counter: int) -> None:
        super().__init__(message)
        self.counter = counter


class InvalidKeyId(RemoteError):
    """A message names a prekey or signed prekey we do not have.

    Attributes:
        key_id: the unknown id.
    """

    def __init__(self, message: str, key_id: int) -> None:
        super().__init__(message)
        self.key_id = key_id


class NoSession(RemoteError):
    """No session exists for the address (or none could decrypt).

    Attributes:
        address: the remote device.
    """

    def __init__(self, message: str, address: ProtocolAddress | None = None) -> None:
        super().__init__(message)
        self.address = address


class NoSenderKey(NoSession):
    """No sender key exists for (group, sender), or none with the message's key id."""


class UntrustedIdentity(RemoteError):
    """The peer's identity key changed and the trust policy did not accept it.

    Attributes:
        address: the remote device.
    """

    def __init__(self, message: str, address: ProtocolAddress | None = None) -> None:
        super().__init__(message)
        self.address = address


class InvalidReceipt(RemoteError):
    """A retry receipt or its node/protobuf form is invalid.

    Attributes:
        field: the field that is wrong (e.g. ``"retry.count"``).
    """

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"invalid receipt field {field}: {reason}")
        self.field = field
        self.reason = reason


class StorageError(AxolotlError):
    """A store could not read or write its data."""


class SchemaVersionError(StorageError):
    """A database was written by a newer schema version than this library knows."""


class LockTimeout(StorageError):
    """Another worker held the lock this step needed for longer than the lock timeout.

    Raised by shared-database stores (:mod:`axolotl.store.postgres`) when the
    wait for a lock ends (the timeout passed, or the database broke a
    deadlock). Nothing of the step was written: retry the whole step (the
    same event with the same ``now_ms``), or raise the store's lock timeout
    if steps of one device routinely take that long.

    Attributes:
        owner: the local account whose lock was awaited.
        timeout_ms: the lock timeout in force.
    """

    def __init__(self, message: str, owner: str, timeout_ms: int) -> None:
        super().__init__(message)
        self.owner = owner
        self.timeout_ms = timeout_ms
