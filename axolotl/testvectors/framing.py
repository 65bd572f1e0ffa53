"""Checker for ``framing`` vectors (``data/framing.json``): both framings' plaintexts.

A case names its ``framing`` (``"native"`` or ``"whatsapp"``, with
``max_padding`` for the latter, default 16) and its ``plane``
(``"pairwise"`` or ``"group"``), and is one of three kinds:

* an *encoding* (``body``, ``distribution``, ``group_id``, ``replaces``,
  ``draws``, ``plaintext``): the checker writes the plaintext from the fields
  and the draws with an encoder of its own (so the vectors pin the format,
  not just :mod:`axolotl.framing`), encodes the same frame with the library
  from the recorded draws (each asked for exactly, none left over), and
  decodes the plaintext back into the fields;
* a *reading* (``"decode_only": true``): a form a peer sends that our
  encoder does not produce (field 2 first, repeated field 2); the library
  must decode ``plaintext`` into the fields;
* a *refusal* (``error``, and for a ``DecodeError`` the ``what`` it names):
  decoding ``plaintext`` must raise that class.

Bytes are hex; ``body`` and ``distribution`` may be null; ``replaces`` is a
list of ``{"ratchet_key": 33-byte hex with the 0x05 type byte, "counter"}``;
``draws`` lists each random draw as hex (one byte per WhatsApp plaintext,
none for the native framing).
"""

from __future__ import annotations

from typing import Any

from axolotl import errors
from axolotl.framing import Frame, Framing, NativeFraming, WhatsAppFraming
from axolotl.testvectors import Case, MalformedVector, VectorMismatch, expect_equal, unhex

__all__ = ["check", "expected_plaintext", "frame_from_case"]


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if not value:
            out.append(byte)
            return bytes(out)
        out.append(byte | 0x80)


def _field_bytes(number: int, value: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(value)) + value


def _after_conversation(body: bytes) -> int:
    """Where field 2 goes: after the body's leading field-1 (``conversation``, tag 0x0a) records."""
    at = 0
    while at < len(body) and body[at] == 0x0A:
        length, shift, i = 0, 0, at + 1
        while True:
            if i >= len(body) or shift > 63:
                raise MalformedVector("body", "a conversation record is truncated")
            byte = body[i]
            length |= (byte & 0x7F) << shift
            shift += 7
            i += 1
            if byte < 0x80:
                break
        at = i + length
    return at


def _opt_hex(case: Case, key: str) -> bytes | None:
    return None if case.get(key) is None else unhex(case, key)


def _framing(case: Case) -> Framing:
    name = case.get("framing")
    if name == "native":
        return NativeFraming()
    if name == "whatsapp":
        max_padding = case.get("max_padding", 16)
        if not isinstance(max_padding, int) or not 1 <= max_padding <= 255:
            raise MalformedVector("max_padding", f"not in 1..255: {max_padding!r}")
        return WhatsAppFraming(max_padding=max_padding)
    raise MalformedVector("framing", f"unknown framing {name!r}")


def _plane(case: Case) -> str:
    plane = case.get("plane")
    if plane not in ("pairwise", "group"):
        raise MalformedVector("plane", f"not 'pairwise' or 'group': {plane!r}")
    return str(plane)


def frame_from_case(case: Case) -> Frame:
    """The frame a case's fields describe.

    Raises:
        MalformedVector: a field of the wrong type or shape.
    """
    replaces = []
    raw = case.get("replaces", [])
    if not isinstance(raw, list):
        raise MalformedVector("replaces", "not a list")
    for i, p in enumerate(raw):
        if not isinstance(p, dict) or not isinstance(p.get("counter"), int):
            raise MalformedVector(f"replaces[{i}]", "needs ratchet_key and an integer counter")
        key = unhex(p, "ratchet_key")
        if len(key) != 33 or key[0] != 0x05:
            raise MalformedVector(f"replaces[{i}].ratchet_key", "not 33 bytes with type 0x05")
        replaces.append((key[1:], p["counter"]))
    group_id = case.get("group_id")
    if group_id is not None and not isinstance(group_id, str):
        raise MalformedVector("group_id", "not a string")
    try:
        return Frame(
            body=_opt_hex(case, "body"),
            distribution=_opt_hex(case, "distribution"),
            group_id=group_id,
            replaces=tuple(replaces),
        )
    except errors.UsageError as exc:
        raise MalformedVector("frame", str(exc)) from None


def _draws(case: Case) -> list[bytes]:
    raw = case.get("draws")
    if not isinstance(raw, list) or not all(isinstance(d, str) for d in raw):
        raise MalformedVector("draws", "not a list of hex strings")
    return [unhex({"draw": d}, "draw") for d in raw]


def expected_plaintext(case: Case) -> bytes:
    """The plaintext of an encoding case, written from its fields and draws (not by the library)."""
    frame = frame_from_case(case)
    draws = _draws(case)
    body = frame.body or b""
    if case.get("framing") == "native":
        if _plane(case) == "group":
            return body
        out = _field_bytes(1, body)
        if frame.distribution is not None:
            out += _field_bytes(2, frame.distribution)
        if frame.group_id is not None:
            out += _field_bytes(3, frame.group_id.encode())
        for ratchet_key, counter in frame.replaces:
            position = _field_bytes(1, b"\x05" + ratchet_key) + _varint(2 << 3) + _varint(counter)
            out += _field_bytes(4, position)
        return out
    message = body
    if frame.distribution is not None:
        assert frame.group_id is not None
        handover = _field_bytes(1, frame.group_id.encode()) + _field_bytes(2, frame.distribution)
        at = _after_conversation(body)
        message = body[:at] + _field_bytes(2, handover) + body[at:]
    if len(draws) != 1 or len(draws[0]) != 1:
        raise MalformedVector("draws", "a WhatsApp plaintext draws one byte")
    n = 1 + draws[0][0] % int(case.get("max_padding", 16))
    return message + bytes([n]) * n


class _Replay:
    """Serves the recorded draws in order; any other request is a mismatch."""

    def __init__(self, draws: list[bytes]) -> None:
        self.draws = list(draws)

    def __call__(self, n: int) -> bytes:
        if not self.draws:
            raise VectorMismatch("draws", f"the library drew {n} bytes; no further draw recorded")
        draw = self.draws.pop(0)
        if len(draw) != n:
            raise VectorMismatch("draws", f"drew {n} bytes where the vector records {len(draw)}")
        return draw


def _compare(frame: Frame, want: Frame) -> None:
    for field in ("body", "distribution", "group_id", "replaces"):
        expect_equal(f"decoded {field}", getattr(frame, field), getattr(want, field))


def _decode(framing: Framing, plane: str, plaintext: bytes) -> Frame:
    if plane == "group":
        return framing.decode_group(plaintext)
    return framing.decode_pairwise(plaintext)


def check(case: Case) -> None:
    """Check one framing case (see the module docstring).

    Raises:
        VectorMismatch: the case does not reproduce.
        MalformedVector: the case cannot be read.
    """
    framing, plane = _framing(case), _plane(case)
    plaintext = unhex(case, "plaintext")
    if "error" in case:
        error: Any = getattr(errors, str(case["error"]), None)
        if not (isinstance(error, type) and issubclass(error, errors.AxolotlError)):
            raise MalformedVector("error", f"not an error class: {case['error']!r}")
        try:
            frame = _decode(framing, plane, plaintext)
        except error as exc:
            if "what" in case:
                expect_equal("what", getattr(exc, "what", None), case["what"])
            return
        raise VectorMismatch("error", f"decoded {frame} where {case['error']} was expected")
    want = frame_from_case(case)
    if not case.get("decode_only"):
        expect_equal("plaintext (independent encoder)", expected_plaintext(case), plaintext)
        replay = _Replay(_draws(case))
        if plane == "group":
            if want.body is None:
                raise MalformedVector("body", "a group plaintext carries a body")
            got = framing.encode_group(want.body, replay)
        else:
            got = framing.encode_pairwise(want, replay)
        if replay.draws:
            raise VectorMismatch("draws", f"{len(replay.draws)} recorded draws left over")
        expect_equal("plaintext (library)", got, plaintext)
    _compare(_decode(framing, plane, plaintext), want)
