"""Protobuf-aware mutations, and the framing of Signal wire messages around them.

:func:`decode_fields` splits protobuf bytes into ``(number, wire_type, value)``
fields without a schema; :func:`encode_fields` writes them back. The
mutations work on that list: a varint re-encoded with a boundary value or in
an overlong (non-canonical) form, a length prefix that lies, a field dropped,
duplicated, moved, renumbered or given another wire type, an unknown field
added, a length-delimited value replaced by a key-like value or mutated in
turn (recursively when it is itself a message). :func:`mutate_framed` applies
them to ``version || body || tail`` (a Signal message's MAC or signature
tail), :func:`mutate_message` to a bare protobuf message.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from tests.fuzz.mutate_bytes import key_like_values, mutate_bytes, random_bytes

__all__ = [
    "INTERESTING_VARINTS",
    "Field",
    "Nested",
    "decode_fields",
    "encode_fields",
    "mutate_framed",
    "mutate_message",
    "varint",
]

VARINT, I64, LEN, I32 = 0, 1, 2, 5

INTERESTING_VARINTS = (
    0, 1, 2, 3, 5, 7, 0x7F, 0x80, 0xFF, 0x3FFF, 0x4000, 2000, 2001, 16380, 16381,
    0xFFFFFF, 0x1000000, 2**31 - 1, 2**31, 2**32 - 1, 2**32, 2**63 - 1, 2**63, 2**64 - 1,
)  # fmt: skip
"""Boundaries of the fields the parsers check: 7/14/24/31/32/64 bits, max_skip, registration ids."""

_KEY_LIKE = key_like_values()


@dataclass(frozen=True, slots=True)
class Field:
    """One decoded field; ``value`` is an int (VARINT/I64/I32) or the raw bytes (LEN)."""

    number: int
    wire_type: int
    value: int | bytes


@dataclass(frozen=True, slots=True)
class Nested:
    """How a LEN field's value is framed: a message (tail 0, no version) or a framed one."""

    framed: bool = False
    tail: int = 0
    inner: Mapping[int, Nested] | None = None


def varint(n: int) -> bytes:
    """The base-128 encoding of ``n`` >= 0 (values past 64 bits give a hostile 11+ byte varint)."""
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _overlong(n: int, extra: int) -> bytes:
    """``n`` padded with ``extra`` redundant continuation bytes (non-canonical)."""
    raw = bytearray(varint(n))
    raw[-1] |= 0x80
    raw += b"\x80" * (extra - 1) + b"\x00"
    return bytes(raw)


def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data) or shift > 63:
            raise ValueError("bad varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return result, pos


def decode_fields(data: bytes) -> list[Field] | None:
    """The fields of ``data``, or ``None`` if it is not well-formed protobuf (groups included)."""
    fields: list[Field] = []
    pos = 0
    try:
        while pos < len(data):
            key, pos = _read_varint(data, pos)
            number, wire_type = key >> 3, key & 7
            if number == 0:
                return None
            if wire_type == VARINT:
                value, pos = _read_varint(data, pos)
                fields.append(Field(number, wire_type, value))
            elif wire_type in (I64, I32):
                size = 8 if wire_type == I64 else 4
                if pos + size > len(data):
                    return None
                fields.append(
                    Field(number, wire_type, int.from_bytes(data[pos : pos + size], "little"))
                )
                pos += size
            elif wire_type == LEN:
                size, pos = _read_varint(data, pos)
                if pos + size > len(data):
                    return None
                fields.append(Field(number, wire_type, data[pos : pos + size]))
                pos += size
            else:
                return None
    except ValueError:
        return None
    return fields


def _encode_value(field: Field) -> bytes:
    value = field.value
    if field.wire_type == LEN:
        assert isinstance(value, bytes)
        return varint(len(value)) + value
    assert isinstance(value, int)
    if field.wire_type == VARINT:
        return varint(value)
    size = 8 if field.wire_type == I64 else 4
    return (value % (1 << (8 * size))).to_bytes(size, "little")


def encode_fields(fields: Sequence[Field], raw: Mapping[int, bytes] | None = None) -> bytes:
    """Serialize ``fields``; ``raw[i]`` replaces the whole encoding of field ``i`` when given."""
    out = bytearray()
    for i, field in enumerate(fields):
        if raw is not None and i in raw:
            out += raw[i]
        else:
            out += varint((field.number << 3) | field.wire_type) + _encode_value(field)
    return bytes(out)


# -- field-list mutations ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Ctx:
    rng: random.Random
    nested: Mapping[int, Nested]
    pool: Sequence[bytes]
    values: Sequence[bytes]


_FieldOp = Callable[[_Ctx, list[Field]], bytes | None]


def _pick(rng: random.Random, fields: list[Field], wire_type: int | None = None) -> int | None:
    choices = [i for i, f in enumerate(fields) if wire_type is None or f.wire_type == wire_type]
    return rng.choice(choices) if choices else None


def _interesting_int(rng: random.Random, old: int) -> int:
    roll = rng.random()
    if roll < 0.6:
        return rng.choice(INTERESTING_VARINTS)
    if roll < 0.8:
        return max(0, old + rng.choice((-2, -1, 1, 2, 1000, 2000, 2001, 4000)))
    return rng.getrandbits(rng.choice((8, 16, 32, 64)))


def _op_varint(c: _Ctx, fields: list[Field]) -> bytes | None:
    i = _pick(c.rng, fields, VARINT)
    if i is None:
        return None
    old = fields[i]
    assert isinstance(old.value, int)
    new = _interesting_int(c.rng, old.value)
    if c.rng.random() < 0.15:
        # Past 64 bits: an 11-byte varint that a strict parser must refuse.
        new = (1 << c.rng.choice((64, 70, 77))) + new
    fields[i] = Field(old.number, VARINT, new)
    return encode_fields(fields)


def _op_overlong(c: _Ctx, fields: list[Field]) -> bytes | None:
    i = _pick(c.rng, fields)
    if i is None:
        return None
    f = fields[i]
    extra = c.rng.choice((1, 2, 5, 9))
    if f.wire_type == VARINT:
        assert isinstance(f.value, int)
        enc = varint((f.number << 3) | VARINT) + _overlong(f.value, extra)
    elif f.wire_type == LEN:
        assert isinstance(f.value, bytes)
        enc = varint((f.number << 3) | LEN) + _overlong(len(f.value), extra) + f.value
    else:  # an overlong tag instead
        enc = _overlong((f.number << 3) | f.wire_type, extra) + _encode_value(f)
    return encode_fields(fields, {i: enc})


def _op_length_lie(c: _Ctx, fields: list[Field]) -> bytes | None:
    i = _pick(c.rng, fields, LEN)
    if i is None:
        return None
    f = fields[i]
    assert isinstance(f.value, bytes)
    size = max(0, len(f.value) + c.rng.choice((-3, -1, 1, 2, 64, 2**31, 2**32 + 1, 2**63)))
    return encode_fields(fields, {i: varint((f.number << 3) | LEN) + varint(size) + f.value})


def _op_drop(c: _Ctx, fields: list[Field]) -> bytes | None:
    i = _pick(c.rng, fields)
    if i is None:
        return None
    del fields[i]
    return encode_fields(fields)


def _op_duplicate(c: _Ctx, fields: list[Field]) -> bytes | None:
    i = _pick(c.rng, fields)
    if i is None:
        return None
    copy = fields[i]
    if c.rng.random() < 0.5:  # a second value: proto2 keeps the last scalar, merges messages
        if isinstance(copy.value, int) and copy.wire_type == VARINT:
            copy = Field(copy.number, VARINT, _interesting_int(c.rng, copy.value))
        elif copy.wire_type == LEN:
            copy = Field(copy.number, LEN, c.rng.choice(_KEY_LIKE))
    fields.insert(c.rng.randrange(len(fields) + 1), copy)
    return encode_fields(fields)


def _op_move(c: _Ctx, fields: list[Field]) -> bytes | None:
    if len(fields) < 2:
        return None
    c.rng.shuffle(fields)
    return encode_fields(fields)


def _op_renumber(c: _Ctx, fields: list[Field]) -> bytes | None:
    i = _pick(c.rng, fields)
    if i is None:
        return None
    f = fields[i]
    number = c.rng.choice((1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 15, 16, 19000, 2**29 - 1))
    fields[i] = Field(number, f.wire_type, f.value)
    return encode_fields(fields)


def _op_wire_type(c: _Ctx, fields: list[Field]) -> bytes | None:
    i = _pick(c.rng, fields)
    if i is None:
        return None
    f = fields[i]
    # Keep the payload, lie about its type (3/4 are groups, 6/7 invalid).
    wire_type = c.rng.choice([t for t in range(8) if t != f.wire_type])
    return encode_fields(fields, {i: varint((f.number << 3) | wire_type) + _encode_value(f)})


def _op_unknown(c: _Ctx, fields: list[Field]) -> bytes | None:
    number = c.rng.choice((7, 8, 9, 10, 13, 15, 16, 99, 1000, 2**29 - 1))
    wire_type = c.rng.choice((VARINT, I64, LEN, I32))
    value: int | bytes
    if wire_type == LEN:
        value = random_bytes(c.rng, c.rng.choice((0, 1, 33, 200)))
    else:
        value = _interesting_int(c.rng, 0)
    fields.insert(c.rng.randrange(len(fields) + 1), Field(number, wire_type, value))
    return encode_fields(fields)


def _op_groups(c: _Ctx, fields: list[Field]) -> bytes | None:
    """Deprecated proto2 groups, nested deep (a parser must not recurse without bound)."""
    number = c.rng.choice((1, 2, 7, 99))
    depth = c.rng.choice((1, 2, 64, 101, 10_000))
    start, end = varint((number << 3) | 3), varint((number << 3) | 4)
    closed = c.rng.random() < 0.5
    group = start * depth + (end * depth if closed else b"")
    i = c.rng.randrange(len(fields) + 1)
    return encode_fields(fields[:i]) + group + encode_fields(fields[i:])


def _op_len_value(c: _Ctx, fields: list[Field]) -> bytes | None:
    i = _pick(c.rng, fields, LEN)
    if i is None:
        return None
    f = fields[i]
    assert isinstance(f.value, bytes)
    how = c.nested.get(f.number)
    if how is None and c.rng.random() < 0.3 and decode_fields(f.value):
        how = Nested()  # no schema given, but the value reads as a message: mutate it as one
    roll = c.rng.random()
    if how is not None and roll < 0.5:
        if how.framed:
            new = mutate_framed(c.rng, f.value, how.tail, how.inner or {}, c.pool, c.values)
        else:
            new = mutate_message(c.rng, f.value, how.inner or {}, c.pool, c.values)
    elif roll < 0.75:
        new = c.rng.choice(_KEY_LIKE) if c.rng.random() < 0.4 else _transplant(c, f.value)
    else:
        new = mutate_bytes(c.rng, f.value, c.pool)
    fields[i] = Field(f.number, LEN, new)
    return encode_fields(fields)


def _transplant(c: _Ctx, default: bytes) -> bytes:
    """A value from the dictionary or another seed (a real key, ciphertext, message)."""
    if c.values and c.rng.random() < 0.5:
        return c.rng.choice(c.values)
    if not c.pool:
        return default
    seed = c.rng.choice(c.pool)
    other = decode_fields(seed[1:]) or decode_fields(seed) or []
    found = [f.value for f in other if isinstance(f.value, bytes)]
    return c.rng.choice(found) if found else default


_FIELD_OPS: tuple[_FieldOp, ...] = (
    _op_varint, _op_varint, _op_overlong, _op_length_lie, _op_drop, _op_duplicate,
    _op_move, _op_renumber, _op_wire_type, _op_unknown, _op_groups, _op_len_value,
    _op_len_value, _op_len_value,
)  # fmt: skip


def mutate_message(
    rng: random.Random,
    body: bytes,
    nested: Mapping[int, Nested] | None = None,
    pool: Sequence[bytes] = (),
    values: Sequence[bytes] = (),
) -> bytes:
    """One structure-aware mutation of a protobuf message (byte-level if it does not decode).

    Args:
        rng: the randomness.
        body: protobuf bytes.
        nested: how LEN fields that are messages themselves are framed, by field number.
        pool: other seeds, for splicing and value transplants.
        values: a dictionary of field values to transplant (real keys of other parties).
    """
    fields = decode_fields(body)
    if fields is None or rng.random() < 0.15:
        return mutate_bytes(rng, body, pool)
    ctx = _Ctx(rng, nested or {}, pool, values)
    for _ in range(4):  # an op that does not apply (no LEN field, say) gives way to another
        out = rng.choice(_FIELD_OPS)(ctx, list(fields))
        if out is not None:
            return out
    return mutate_bytes(rng, body, pool)


_VERSION_BYTES = (0x33, 0x32, 0x31, 0x30, 0x3F, 0x23, 0x43, 0x22, 0x44, 0x00, 0xFF, 0x03, 0x30)


def mutate_framed(
    rng: random.Random,
    data: bytes,
    tail: int,
    nested: Mapping[int, Nested] | None = None,
    pool: Sequence[bytes] = (),
    values: Sequence[bytes] = (),
) -> bytes:
    """Mutate ``version || body || tail``: the body as protobuf, or the version, tail or whole.

    Args:
        rng: the randomness.
        data: the framed message.
        tail: bytes of MAC or signature after the body (0, 8 or 64).
        nested, pool, values: as for :func:`mutate_message`.
    """
    if len(data) < 1 + tail:
        return mutate_bytes(rng, data, pool)
    version, body, mac = data[:1], data[1 : len(data) - tail], data[len(data) - tail :]
    roll = rng.random()
    if roll < 0.6:
        return version + mutate_message(rng, body, nested, pool, values) + mac
    if roll < 0.7:
        return bytes([rng.choice(_VERSION_BYTES)]) + body + mac
    if roll < 0.8 and tail:
        return version + body + mutate_bytes(rng, mac)
    return mutate_bytes(rng, data, pool)
