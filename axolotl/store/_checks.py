"""The checks every store backend runs: on the arguments it is given, on the values it reads back.

The memory, SQLite and PostgreSQL stores run the same checks before touching
their storage, so a bad argument raises the same
:class:`~axolotl.errors.UsageError` from each of them (and never a
backend-specific binding error): the shared test suites
(``tests/test_store.py``, ``tests/test_store_retry.py``) hold them to that.
A stored value that no longer deserialises is reported by :func:`decode` as
the same :class:`~axolotl.errors.StorageError` from each.

The checks come in two groups: those of the protocol stores (a registration
id, an account name or group id, an opaque session or sender-key record) and
those of the retry records (:class:`~axolotl.store.base.RetryStore`: kinds,
keys, values, due times, limits).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Final, TypeVar

from axolotl.errors import AxolotlError, StorageError, UsageError

__all__ = [
    "INT64_MAX",
    "INT64_MIN",
    "check_due_ms",
    "check_key",
    "check_kind",
    "check_kinds",
    "check_limit",
    "check_name",
    "check_now_ms",
    "check_record",
    "check_registration_id",
    "check_value",
    "decode",
]

INT64_MAX: Final = 2**63 - 1
INT64_MIN: Final = -(2**63)

_T = TypeVar("_T")

# -- the protocol stores ----------------------------------------------------


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


# -- the retry records ------------------------------------------------------


def _check_text(text: object, what: str) -> str:
    if type(text) is not str:
        if not isinstance(text, str):
            raise UsageError(f"record {what} must be a str, got {type(text).__name__}")
        text = str(text)  # a str subclass: store the plain value
    if not text:
        raise UsageError(f"record {what} must not be empty")
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise UsageError(f"record {what} {text!r} holds a lone surrogate") from None
    return text


def check_kind(kind: object) -> str:
    """``kind`` as a plain, non-empty, UTF-8-encodable ``str``.

    Raises:
        UsageError: it is not one.
    """
    return _check_text(kind, "kind")


def check_key(key: object) -> str:
    """``key`` as a plain, non-empty, UTF-8-encodable ``str``.

    Raises:
        UsageError: it is not one.
    """
    return _check_text(key, "key")


def check_kinds(kinds: object) -> list[str]:
    """``kinds`` as a list of distinct checked kinds, in their first order.

    Raises:
        UsageError: ``kinds`` is a bare ``str`` (a sequence of one-letter
            kinds, almost surely a mistake) or not a sequence, or one kind is
            bad.
    """
    if isinstance(kinds, (str, bytes)) or not isinstance(kinds, Sequence):
        raise UsageError(f"kinds must be a sequence of str, got {type(kinds).__name__}")
    return list(dict.fromkeys(check_kind(kind) for kind in kinds))


def check_value(value: object) -> bytes:
    """A copy of ``value`` as ``bytes``.

    Raises:
        UsageError: it is not bytes-like.
    """
    if not isinstance(value, (bytes, bytearray, memoryview)):
        raise UsageError(f"record value must be bytes, got {type(value).__name__}")
    return bytes(value)


def _check_int(number: object, what: str) -> int:
    if type(number) is not int:
        if isinstance(number, bool) or not isinstance(number, int):
            raise UsageError(f"{what} must be an int, got {type(number).__name__}")
        number = int(number)  # an int subclass (IntEnum): the plain value
    return number


def check_due_ms(due_ms: object) -> int | None:
    """``due_ms`` as ``None`` or an ``int`` that fits 64 signed bits (SQLite's INTEGER).

    Raises:
        UsageError: it is neither.
    """
    if due_ms is None:
        return None
    number = _check_int(due_ms, "due_ms")
    if not INT64_MIN <= number <= INT64_MAX:
        raise UsageError(f"due_ms {number} does not fit 64 signed bits")
    return number


def check_now_ms(now_ms: object) -> int:
    """``now_ms`` as an ``int`` (any size: it is only compared).

    Raises:
        UsageError: it is not one.
    """
    return _check_int(now_ms, "now_ms")


def check_limit(limit: object, what: str = "limit") -> int:
    """``limit`` as an ``int`` >= 0.

    Raises:
        UsageError: it is not one.
    """
    number = _check_int(limit, what)
    if number < 0:
        raise UsageError(f"{what} must be >= 0, got {number}")
    return number
