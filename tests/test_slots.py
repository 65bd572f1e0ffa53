"""axolotl._slots: slot setters and drafts for frozen, slotted dataclasses."""

from __future__ import annotations

import dataclasses

import pytest

from axolotl._slots import draft_class, slot_setters


@dataclasses.dataclass(frozen=True, slots=True)
class Point:
    x: int
    y: int


def test_slot_setters_store_into_frozen_instances() -> None:
    set_x, set_y = slot_setters(Point, "x", "y")
    p = Point(1, 2)
    set_x(p, 5)
    set_y(p, 6)
    assert p == Point(5, 6)
    with pytest.raises(TypeError):
        slot_setters(Point, "z")
    with pytest.raises(TypeError):
        slot_setters(Point, "__init__")


def test_a_filled_draft_becomes_an_ordinary_instance() -> None:
    draft = draft_class(Point)()
    draft.x = 1
    draft.y = 2
    draft.__class__ = Point
    assert type(draft) is Point and draft == Point(1, 2) and hash(draft) == hash(Point(1, 2))
    with pytest.raises(dataclasses.FrozenInstanceError):
        draft.x = 3
    half = draft_class(Point)()
    half.x = 1
    half.__class__ = Point
    with pytest.raises(AttributeError):
        half.y  # noqa: B018  (an unset slot reads as AttributeError, never as garbage)


def test_draft_class_refuses_other_layouts() -> None:
    class Plain:
        pass

    @dataclasses.dataclass(frozen=True, slots=True)
    class Sub(Point):
        z: int = 0

    @dataclasses.dataclass(frozen=True, slots=True, weakref_slot=True)
    class Weak:
        x: int

    for cls in (Plain, Sub, Weak, int):
        with pytest.raises(TypeError):
            draft_class(cls)
