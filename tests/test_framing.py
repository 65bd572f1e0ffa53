"""The two framings on their own: round trips, the exact bytes, and every bad plaintext."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from axolotl.errors import AxolotlError, DecodeError, InvalidMessage, RemoteError, UsageError
from axolotl.framing import (
    FRAMINGS,
    Frame,
    NativeFraming,
    Payload,
    WhatsAppFraming,
    conversation,
    conversation_text,
    framing_named,
    unpad,
)
from axolotl.framing.whatsapp import top_level_fields
from axolotl.rng import DeterministicRng
from vectors.generators.recording import RecordingRng

WA = WhatsAppFraming()
NATIVE = NativeFraming()
SKDM = b"\x33" + bytes(range(40))  # opaque to the framing
GROUP = "120363025246125486@g.us"


# -- an encoder of our own for protobuf records (independent of the framing's) -----------


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        out.append((n & 0x7F) | (0x80 if n > 0x7F else 0))
        n >>= 7
        if not n:
            return bytes(out)


def _record(field: int, wire_type: int, value: int | bytes) -> bytes:
    tag = _varint(field << 3 | wire_type)
    if wire_type == 0:
        assert isinstance(value, int)
        return tag + _varint(value)
    assert isinstance(value, bytes)
    if wire_type == 2:
        return tag + _varint(len(value)) + value
    return tag + value  # fixed64 / fixed32: value has the right length


def _skdm_record(group_id: bytes, distribution: bytes) -> bytes:
    inner = _record(1, 2, group_id) + _record(2, 2, distribution)
    return _record(2, 2, inner)


_fields = st.integers(1, 2**29 - 1).filter(lambda f: f != 2)
_records = st.one_of(
    st.builds(lambda f, v: _record(f, 0, v), _fields, st.integers(0, 2**64 - 1)),
    st.builds(lambda f, v: _record(f, 2, v), _fields, st.binary(max_size=40)),
    st.builds(lambda f, v: _record(f, 1, v), _fields, st.binary(min_size=8, max_size=8)),
    st.builds(lambda f, v: _record(f, 5, v), _fields, st.binary(min_size=4, max_size=4)),
)
bodies = st.lists(_records, min_size=1, max_size=6).map(b"".join)
"""Non-empty serialized messages without field 2: what an application hands the WhatsApp framing."""


# -- the WhatsApp framing ------------------------------------------------------------------


@given(bodies, st.integers(1, 255), st.binary(min_size=1, max_size=1))
def test_whatsapp_body_round_trips_with_one_draw_of_padding(
    body: bytes, max_padding: int, draw: bytes
) -> None:
    framing = WhatsAppFraming(max_padding=max_padding)
    framing.check_body(body)
    for encode, decode in (
        (lambda r: framing.encode_pairwise(Frame(body=body), r), framing.decode_pairwise),
        (lambda r: framing.encode_group(body, r), framing.decode_group),
    ):
        plaintext = encode(lambda n: draw if n == 1 else pytest.fail(f"drew {n} bytes"))
        pad = 1 + draw[0] % max_padding
        assert plaintext == body + bytes([pad]) * pad
        assert decode(plaintext) == Frame(body=body)


@given(bodies, st.text(min_size=1, max_size=30), st.binary(min_size=1, max_size=80))
def test_whatsapp_handover_round_trips_and_leaves_the_body_as_it_was(
    body: bytes, group_id: str, distribution: bytes
) -> None:
    frame = Frame(body=body, distribution=distribution, group_id=group_id)
    plaintext = WA.encode_pairwise(frame, DeterministicRng(body))
    assert WA.decode_pairwise(plaintext) == frame
    message = unpad(plaintext)
    handover = _skdm_record(group_id.encode(), distribution)
    assert len(message) == len(body) + len(handover)
    assert handover in message


def test_the_handover_goes_where_yowsup_reserializes_it() -> None:
    """Message(skdm).MergeFromString(body) puts field 2 after field 1 and before the rest."""
    text = conversation("hello")
    extended = _record(6, 2, _record(1, 2, b"a link"))
    image = _record(3, 2, _record(2, 2, b"image/jpeg"))
    handover = _skdm_record(GROUP.encode(), SKDM)
    cases = {
        text + image + extended: text + handover + image + extended,
        image + extended: handover + image + extended,
        text: text + handover,
        b"\x08\x01" + image: handover + b"\x08\x01" + image,  # a varint field 1 is not conversation
    }
    for body, merged in cases.items():
        frame = Frame(body=body, distribution=SKDM, group_id=GROUP)
        assert unpad(WA.encode_pairwise(frame, DeterministicRng(1))) == merged


def test_padding_draws_one_byte_and_stays_in_range() -> None:
    for max_padding in (1, 15, 16, 255):
        framing = WhatsAppFraming(max_padding=max_padding)
        rng = RecordingRng(DeterministicRng(max_padding))
        seen = set()
        for _ in range(600):
            plaintext = framing.encode_group(b"\x08\x01", rng)
            seen.add(plaintext[-1])
        assert [d.n for d in rng.take()] == [1] * 600
        assert seen == set(range(1, max_padding + 1)) or max_padding == 255
        assert min(seen) >= 1 and max(seen) <= max_padding


def test_a_bare_handover_has_no_body() -> None:
    """What WhatsApp stacks send a member beside the group message: only the sender key."""
    plaintext = _skdm_record(GROUP.encode(), SKDM) + b"\x03\x03\x03"
    assert WA.decode_pairwise(plaintext) == Frame(body=None, distribution=SKDM, group_id=GROUP)
    frame = Frame(body=None, distribution=SKDM, group_id=GROUP)
    assert WA.encode_pairwise(frame, lambda n: b"\x02") == plaintext


def test_repeated_field_2_records_merge_as_protobuf_does() -> None:
    first = _skdm_record(b"old@g.us", b"\x33old")
    second = _record(2, 2, _record(1, 2, GROUP.encode()))  # only a group id: the key stays
    body = conversation("hi")
    frame = WA.decode_pairwise(first + body + second + b"\x01")
    assert frame == Frame(body=body, distribution=b"\x33old", group_id=GROUP)


def _padded(message: bytes) -> bytes:
    return message + b"\x02\x02"


BAD_WHATSAPP = {
    "empty plaintext": (b"", "the plaintext is empty"),
    "padding 0": (conversation("hi") + b"\x00", "padding length 0"),
    "padding longer than the plaintext": (b"\x0a\x01x\x09", "padding length 9 exceeds"),
    "padding of 255 on 10 bytes": (bytes(9) + b"\xff", "padding length 255 exceeds"),
    "padding bytes not all n": (conversation("hi") + b"\x01\x03\x03", "not all 3"),
    "only padding": (b"\x04\x04\x04\x04", "the Message is empty"),
    "truncated varint": (_padded(b"\x08\xff"), "truncated varint"),
    "varint of 11 bytes": (_padded(b"\x08" + b"\xff" * 10 + b"\x01"), "longer than 10 bytes"),
    "length past the end": (_padded(b"\x0a\x05abc"), "runs past the end"),
    "field number 0": (_padded(b"\x02\x00"), "field number 0"),
    "start group": (_padded(b"\x0b\x0c"), "wire type 3"),
    "end group": (_padded(b"\x0c"), "wire type 4"),
    "wire type 6": (_padded(b"\x0e\x00"), "wire type 6"),
    "field 2 as a varint": (_padded(b"\x10\x05"), "field 2 has wire type 0"),
    "field 2 as fixed32": (_padded(b"\x15abcd"), "field 2 has wire type 5"),
    "field 2 not a message": (_padded(_record(2, 2, b"\xff\xff")), "senderKeyDistribution"),
    "field 2 without a group id": (_padded(_record(2, 2, _record(2, 2, SKDM))), "no group id"),
    "field 2 with an empty group id": (_padded(_skdm_record(b"", SKDM)), "no group id"),
    "field 2 with a group id not UTF-8": (_padded(_skdm_record(b"\xff\xfe", SKDM)), "not UTF-8"),
    "field 2 without the distribution": (
        _padded(_record(2, 2, _record(1, 2, GROUP.encode()))),
        "no axolotlSenderKeyDistributionMessage",
    ),
    "field 2 with an empty distribution": (
        _padded(_skdm_record(GROUP.encode(), b"")),
        "no axolotlSenderKeyDistributionMessage",
    ),
}


@pytest.mark.parametrize("case", list(BAD_WHATSAPP))
def test_bad_whatsapp_plaintexts_raise_decode_errors(case: str) -> None:
    plaintext, message = BAD_WHATSAPP[case]
    for decode in (WA.decode_pairwise, WA.decode_group):
        with pytest.raises(DecodeError, match=message):
            decode(plaintext)


@given(st.binary(max_size=300))
def test_random_plaintexts_raise_only_remote_errors(data: bytes) -> None:
    for decode in (WA.decode_pairwise, WA.decode_group, NATIVE.decode_pairwise):
        try:
            frame = decode(data)
        except RemoteError:
            continue
        assert isinstance(frame, Frame)


@given(bodies)
def test_random_bodies_with_a_handover_spliced_in_anywhere_decode(body: bytes) -> None:
    """A peer may put field 2 anywhere (Baileys and whatsmeow serialize it first)."""
    handover = _skdm_record(GROUP.encode(), SKDM)
    for at in [0, *(end for *_, end in top_level_fields(body))]:
        plaintext = body[:at] + handover + body[at:] + b"\x01"
        assert WA.decode_pairwise(plaintext) == Frame(body=body, distribution=SKDM, group_id=GROUP)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "non-empty"),
        (b"hi bob", "serialized Message"),
        (conversation("x") + _skdm_record(b"g", SKDM), "field 2"),
        (b"\x10\x01", "field 2"),  # field 2 in any wire type
    ],
)
def test_whatsapp_refuses_bodies_it_cannot_carry(body: bytes, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        WA.check_body(body)


def test_whatsapp_refuses_what_it_never_carries() -> None:
    with pytest.raises(UsageError, match="replaced positions"):
        WA.encode_pairwise(Frame(body=b"\x08\x01", replaces=((bytes(32), 1),)), DeterministicRng(1))
    with pytest.raises(UsageError, match="serialized Message"):
        frame = Frame(body=b"\xff", distribution=SKDM, group_id=GROUP)
        WA.encode_pairwise(frame, DeterministicRng(1))
    for bad in (0, 256, -1, 1.5):
        with pytest.raises(UsageError):
            WhatsAppFraming(max_padding=bad)  # type: ignore[arg-type]


def test_conversation_bodies() -> None:
    assert conversation("hé") == b"\x0a\x03h\xc3\xa9"
    assert conversation_text(conversation("hé")) == "hé"
    with pytest.raises(DecodeError):
        conversation_text(b"\x08\x01")  # a Message without a conversation
    with pytest.raises(DecodeError):
        conversation_text(b"\xff")
    with pytest.raises(UsageError):
        conversation(b"bytes")  # type: ignore[arg-type]


# -- the native framing ---------------------------------------------------------------------


def test_native_bytes_are_the_payload_the_layer_always_sent() -> None:
    rk = bytes(range(32))
    frame = Frame(body=b"hi", distribution=SKDM, group_id="g", replaces=((rk, 7),))
    plaintext = NATIVE.encode_pairwise(frame, lambda n: pytest.fail("the native framing drew"))
    want = (
        _record(1, 2, b"hi")
        + _record(2, 2, SKDM)
        + _record(3, 2, b"g")
        + _record(4, 2, _record(1, 2, b"\x05" + rk) + _record(2, 0, 7))
    )
    assert plaintext == want
    assert NATIVE.decode_pairwise(plaintext) == frame
    assert NATIVE.encode_pairwise(Frame(body=b""), DeterministicRng(1)) == b"\x0a\x00"
    assert NATIVE.encode_group(b"raw", DeterministicRng(1)) == b"raw"
    assert NATIVE.decode_group(b"raw") == Frame(body=b"raw")
    NATIVE.check_body(b"any bytes at all")


@given(st.binary(max_size=64), st.binary(max_size=40), st.text(min_size=1, max_size=10))
def test_native_round_trips(body: bytes, distribution: bytes, group_id: str) -> None:
    for frame in (
        Frame(body=body),
        Frame(body=body, distribution=distribution, group_id=group_id),
    ):
        assert NATIVE.decode_pairwise(NATIVE.encode_pairwise(frame, DeterministicRng(1))) == frame


def test_native_refuses_a_handover_without_its_group_and_a_frame_without_a_body() -> None:
    with pytest.raises(InvalidMessage, match="without its group id"):
        NATIVE.decode_pairwise(Payload(b"x", SKDM).serialize())
    with pytest.raises(UsageError):
        NATIVE.encode_pairwise(Frame(body=None, distribution=SKDM, group_id="g"), lambda n: b"")


# -- frames and names ----------------------------------------------------------------------


def test_frames_validate() -> None:
    with pytest.raises(UsageError):
        Frame(body=None)
    with pytest.raises(UsageError):
        Frame(body=b"x", distribution=SKDM)
    with pytest.raises(UsageError):
        Frame(body="text")  # type: ignore[arg-type]


def test_framings_by_name() -> None:
    assert FRAMINGS == ("native", "whatsapp")
    for name in FRAMINGS:
        assert framing_named(name).name == name
    assert framing_named("whatsapp") == WhatsAppFraming()
    assert framing_named("native").names_replaced and not WA.names_replaced
    with pytest.raises(UsageError, match="unknown framing"):
        framing_named("xml")
    assert issubclass(DecodeError, AxolotlError)
