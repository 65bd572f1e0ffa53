"""axolotl.retry.events: the written-out Envelope constructor keeps the dataclass contract."""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any

import pytest

from axolotl.address import ProtocolAddress
from axolotl.errors import UsageError
from axolotl.retry import Envelope
from axolotl.retry.policy import Priority
from axolotl.wire import MessageType

A = ProtocolAddress("a@s.whatsapp.net", 0)
B = ProtocolAddress("b@s.whatsapp.net", 3)


def test_init_takes_every_field_by_keyword_with_the_dataclass_defaults() -> None:
    params = list(inspect.signature(Envelope.__init__).parameters.values())[1:]
    fields = dataclasses.fields(Envelope)
    assert [p.name for p in params] == [f.name for f in fields]
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in params)
    for p, f in zip(params, fields, strict=True):
        want = inspect.Parameter.empty if f.default is dataclasses.MISSING else f.default
        assert p.default == want, p.name


def test_init_stores_every_field() -> None:
    values: dict[str, Any] = {
        "message_id": "M1",
        "sender": A,
        "recipient": B,
        "type": MessageType.SENDER_KEY,
        "body": b"\x33",
        "timestamp_ms": 5,
        "retry_count": 2,
        "group_id": "g@g.us",
        "priority": Priority.IMPLICIT,
    }
    e = Envelope(**values)
    assert type(e) is Envelope
    assert {f.name: getattr(e, f.name) for f in dataclasses.fields(e)} == values
    assert dataclasses.replace(e, retry_count=3) == Envelope(**{**values, "retry_count": 3})
    with pytest.raises(dataclasses.FrozenInstanceError):
        e.retry_count = 4  # type: ignore[misc]


def test_subclasses_are_filled_too() -> None:
    class Tagged(Envelope):  # no __slots__: a __dict__, another layout than the draft's
        pass

    @dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
    class Extended(Envelope):
        note: str = ""

    base: dict[str, Any] = {
        "message_id": "M1",
        "sender": A,
        "recipient": B,
        "type": MessageType.SIGNAL,
        "body": b"\x33",
        "timestamp_ms": 5,
    }
    tagged = Tagged(**base)
    assert type(tagged) is Tagged and tagged.body == b"\x33" and tagged.priority == Priority.DEFAULT
    extended = Extended(**base, note="n")
    assert type(extended) is Extended and extended.note == "n" and extended.message_id == "M1"
    with pytest.raises(dataclasses.FrozenInstanceError):
        tagged.body = b""  # type: ignore[misc]
    for subclass in (Tagged, Extended):  # each constructor still checks
        with pytest.raises(UsageError):
            subclass(**{**base, "retry_count": 256})


@pytest.mark.parametrize(
    "changes",
    [
        {"message_id": ""},
        {"message_id": 7},
        {"type": 5},
        {"type": MessageType.SENDER_KEY},  # without a group
        {"retry_count": 256},
        {"retry_count": -1},
        {"timestamp_ms": -1},
    ],
)
def test_init_refuses_what_post_init_refused(changes: dict[str, Any]) -> None:
    values: dict[str, Any] = {
        "message_id": "M1",
        "sender": A,
        "recipient": B,
        "type": MessageType.SIGNAL,
        "body": b"\x33",
        "timestamp_ms": 5,
    }
    with pytest.raises(UsageError):
        Envelope(**{**values, **changes})
