"""Byte-level mutations: bit flips, interesting bytes, insert/delete, truncation, splicing.

Every function takes a :class:`random.Random` and returns a new ``bytes``;
none of them looks at what the bytes mean (that is :mod:`.mutate_pb` and
:mod:`.mutate_node`). :func:`mutate_bytes` picks one operation at random.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

__all__ = ["INTERESTING_BYTES", "key_like_values", "mutate_bytes", "random_bytes", "splice"]

INTERESTING_BYTES = (0x00, 0x01, 0x05, 0x08, 0x10, 0x22, 0x33, 0x7F, 0x80, 0x81, 0xC0, 0xFF)
"""Bytes that sit on boundaries: varint continuation, type bytes, version bytes, framing."""

# Curve25519 points of small order (as 32-byte little-endian u-coordinates):
# 0, 1, the two points of order 8, p-1, p, p+1. An agreement with any of them
# gives an all-zero (or predictable) secret; parsers must let them through as
# keys, the crypto layer must refuse them with a typed error.
_P = 2**255 - 19
_LOW_ORDER = (
    0,
    1,
    325606250916557431795983626356110631294008115727848805560023387167927233504,
    39382357235489614581723060781553021112529911719440698176882885853963445705823,
    _P - 1,
    _P,
    _P + 1,
    2**256 - 1,
)


def key_like_values() -> list[bytes]:
    """Values a key field might hold on a hostile wire: low-order points, bad lengths and types."""
    raw = [n.to_bytes(32, "little") for n in _LOW_ORDER]
    out = [b"\x05" + r for r in raw] + raw
    out += [b"", b"\x05", b"\x05" * 32, b"\x05" * 34, b"\x06" + raw[2], b"\x00" * 33, b"\xff" * 64]
    return out


def random_bytes(rng: random.Random, n: int) -> bytes:
    """``n`` random bytes from ``rng`` (deterministic for a seeded rng)."""
    return rng.getrandbits(8 * n).to_bytes(n, "little") if n else b""


def _position(rng: random.Random, data: bytes) -> int:
    return rng.randrange(len(data) + 1)


def _flip_bit(rng: random.Random, data: bytes) -> bytes:
    if not data:
        return bytes([rng.randrange(256)])
    i = rng.randrange(len(data))
    return data[:i] + bytes([data[i] ^ (1 << rng.randrange(8))]) + data[i + 1 :]


def _set_byte(rng: random.Random, data: bytes) -> bytes:
    if not data:
        return bytes([rng.choice(INTERESTING_BYTES)])
    i = rng.randrange(len(data))
    value = rng.choice(INTERESTING_BYTES) if rng.random() < 0.7 else rng.randrange(256)
    return data[:i] + bytes([value]) + data[i + 1 :]


def _insert(rng: random.Random, data: bytes) -> bytes:
    i = _position(rng, data)
    n = rng.choice((1, 1, 2, 4, 8, rng.randrange(1, 64)))
    if rng.random() < 0.5:
        chunk = bytes([rng.choice(INTERESTING_BYTES)]) * n
    else:
        chunk = random_bytes(rng, n)
    return data[:i] + chunk + data[i:]


def _delete(rng: random.Random, data: bytes) -> bytes:
    if not data:
        return data
    i = rng.randrange(len(data))
    n = rng.choice((1, 1, 2, 4, rng.randrange(1, len(data) + 1)))
    return data[:i] + data[i + n :]


def _duplicate(rng: random.Random, data: bytes) -> bytes:
    if not data:
        return data
    i = rng.randrange(len(data))
    j = min(len(data), i + rng.randrange(1, 33))
    times = rng.choice((1, 2, 3, 16))
    return data[:j] + data[i:j] * times + data[j:]


def _truncate(rng: random.Random, data: bytes) -> bytes:
    if not data:
        return data
    return (
        data[: rng.randrange(len(data))] if rng.random() < 0.8 else data[rng.randrange(len(data)) :]
    )


def _swap(rng: random.Random, data: bytes) -> bytes:
    if len(data) < 2:
        return data
    i, j = sorted(rng.sample(range(len(data)), 2))
    return data[:i] + data[j : j + 1] + data[i + 1 : j] + data[i : i + 1] + data[j + 1 :]


_OPS: tuple[Callable[[random.Random, bytes], bytes], ...] = (
    _flip_bit,
    _flip_bit,
    _set_byte,
    _set_byte,
    _insert,
    _delete,
    _duplicate,
    _truncate,
    _swap,
)


def splice(rng: random.Random, data: bytes, other: bytes) -> bytes:
    """A prefix of ``data`` joined to a suffix of ``other`` (or a chunk of it inserted)."""
    i, j = _position(rng, data), _position(rng, other)
    if rng.random() < 0.5:
        return data[:i] + other[j:]
    k = min(len(other), j + rng.randrange(1, 65))
    return data[:i] + other[j:k] + data[i:]


def mutate_bytes(rng: random.Random, data: bytes, pool: Sequence[bytes] = ()) -> bytes:
    """One random byte-level mutation of ``data``; splices with a member of ``pool`` sometimes."""
    if pool and rng.random() < 0.1:
        return splice(rng, data, rng.choice(pool))
    return rng.choice(_OPS)(rng, data)
