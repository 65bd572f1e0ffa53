"""Storing the fields of frozen, slotted dataclasses on the hot paths.

A frozen dataclass's generated ``__init__`` stores every field with
``object.__setattr__(self, name, value)``, a generic attribute lookup through
the class per field: for a nine-field :class:`~axolotl.retry.Envelope` that
is most of its construction. Each slot's own member descriptor stores the
same value directly, about twice as fast; :func:`slot_setters` hands them out
so that a hand-written ``__init__`` (or a parser that has checked every field
already) can use them. Frozenness is untouched: ``setattr`` on an instance
still raises.
"""

from __future__ import annotations

from collections.abc import Callable
from types import MemberDescriptorType
from typing import Any

__all__ = ["slot_setters"]

Setter = Callable[[Any, Any], None]
"""``setter(instance, value)``: store one slot of an instance."""


def slot_setters(cls: type, *names: str) -> tuple[Setter, ...]:
    """The ``__set__`` of the slot descriptors of ``cls`` named ``names``, in that order.

    Args:
        cls: a class with ``__slots__`` (a ``@dataclass(slots=True)``, after
            decoration: the decorator builds a new class).
        names: slot names.

    Returns:
        One setter per name.

    Raises:
        TypeError: a name is not a slot of ``cls`` itself.
    """
    setters: list[Setter] = []
    for name in names:
        descriptor = cls.__dict__.get(name)
        if not isinstance(descriptor, MemberDescriptorType):
            raise TypeError(f"{cls.__name__}.{name} is not a slot")
        setters.append(descriptor.__set__)
    return tuple(setters)
