"""Argument checks for :class:`~axolotl.store.base.RetryStore`, shared by every backend.

Every backend runs the same checks before touching its storage, so a bad
argument raises the same :class:`~axolotl.errors.UsageError` from each of them
(and never a backend-specific binding error): the shared test suite holds them
to that.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from axolotl.errors import UsageError

__all__ = [
    "INT64_MAX",
    "INT64_MIN",
    "check_due_ms",
    "check_key",
    "check_kind",
    "check_kinds",
    "check_limit",
    "check_now_ms",
    "check_value",
]

INT64_MAX: Final = 2**63 - 1
INT64_MIN: Final = -(2**63)


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
