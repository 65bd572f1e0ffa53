"""What every store backend shares: argument checks and the decoding of stored values.

The memory, SQLite and PostgreSQL stores check a registration id and a session
or sender-key record the same way, and report a stored value that no longer
deserialises as the same :class:`~axolotl.errors.StorageError`, so a caller
sees the same errors from each. (The retry records' checks are in
:mod:`axolotl.store._record_args`.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final, TypeVar

from axolotl.errors import AxolotlError, StorageError, UsageError

__all__ = ["NEXT_PRE_KEY_ID", "check_name", "check_record", "check_registration_id", "decode"]

NEXT_PRE_KEY_ID: Final = "next_pre_key_id"
"""The name of the persisted next-prekey-id counter (a key-counter row in the SQL stores)."""

_T = TypeVar("_T")


def check_record(record: object, what: str) -> bytes:
    """A copy of an opaque session or sender-key ``record`` as ``bytes``.

    Raises:
        UsageError: it is not bytes-like (the message names ``what``).
    """
    if not isinstance(record, (bytes, bytearray, memoryview)):
        raise UsageError(f"{what} must be bytes, got {type(record).__name__}")
    return bytes(record)


def check_name(value: object, what: str) -> str:
    """``value`` if it is a ``str`` (an account name or a group id).

    Every backend refuses other types alike (SQLite would otherwise compare
    ``5`` equal to ``"5"``, and the memory store would find nothing).

    Raises:
        UsageError: it is not a str.
    """
    if not isinstance(value, str):
        raise UsageError(f"{what} must be a str, got {type(value).__name__}")
    return value


def check_registration_id(registration_id: object) -> int:
    """``registration_id`` if it is an ``int`` that fits 4 bytes.

    Raises:
        UsageError: it is not one.
    """
    if not isinstance(registration_id, int) or not 0 <= registration_id <= 0xFFFFFFFF:
        raise UsageError(f"registration id {registration_id!r} does not fit 4 bytes")
    return registration_id


def decode(store: str, deserialize: Callable[[bytes], _T], data: bytes, what: str) -> _T:
    """Read a stored value with ``deserialize``.

    Args:
        store: the backend, for the message (``"sqlite"``, ``"postgres"``, ``"memory"``).
        deserialize: the value's parser (it raises an AxolotlError on bad bytes).
        data: the stored bytes.
        what: the value, for the message (``"stored prekey 5"``).

    Raises:
        StorageError: the stored value is corrupt.
    """
    try:
        return deserialize(data)
    except AxolotlError as exc:
        raise StorageError(f"{store} store: {what} is corrupt: {exc}") from None
