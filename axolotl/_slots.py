"""Filling frozen, slotted dataclasses on the hot paths.

A frozen dataclass refuses ``setattr``, so its generated ``__init__`` stores
every field with ``object.__setattr__(self, name, value)``: a lookup through
the class and a call that packs its arguments in a tuple, per field. For a
nine-field :class:`~axolotl.retry.Envelope` that is most of its construction.
Two cheaper ways, for code that has checked every value already:

* :func:`slot_setters`: each slot's own member descriptor, called directly
  (no lookup; the tuple remains), about twice as fast; for an instance that
  exists already and cannot be a draft (a subclass with a layout of its own).
* :func:`draft_class`: a plain twin class with the same slots. A parser
  fills a draft with ordinary attribute stores (CPython's fastest, no call
  at all) and then makes it the frozen class by assigning ``__class__``,
  which CPython allows between classes of one layout and checks once per
  object: about twice as fast again as the setters for a nine-field class
  (CPython 3.11). A constructor, whose instance exists already, turns it
  into a draft with :data:`set_class`, fills it and turns it back.

Either way the result is an ordinary instance of the frozen class (``type``
is the class, ``setattr`` raises, equality and hashing are the dataclass's);
that every field is set and valid is the filling code's job, and tests hold
it to the constructor's answers.
"""

from __future__ import annotations

from collections.abc import Callable
from types import MemberDescriptorType
from typing import Any

__all__ = ["draft_class", "set_class", "slot_setters"]

Setter = Callable[[Any, Any], None]
"""``setter(instance, value)``: store one slot of an instance."""


set_class: Setter = object.__dict__["__class__"].__set__
"""``set_class(instance, cls)``: assign ``__class__`` past the class's own ``__setattr__``.

A frozen dataclass's ``__setattr__`` refuses every name, ``__class__`` too.
"""


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


def draft_class(cls: type) -> type[Any]:
    """A mutable class with the slots of ``cls``, whose instances may become ``cls`` instances.

    Fill every slot of ``draft = Draft()`` with plain attribute stores, then
    ``draft.__class__ = cls``. A slot left unset reads as ``AttributeError``,
    as on any slotted object.

    Args:
        cls: a slotted class straight below ``object`` with no ``__dict__``
            and no ``__weakref__`` (``@dataclass(frozen=True, slots=True)``).

    Returns:
        The draft class (named ``<cls>Draft``).

    Raises:
        TypeError: ``cls`` is not such a class, or CPython refuses the
            ``__class__`` assignment between the two (checked here, once).
    """
    slots = cls.__dict__.get("__slots__")
    if (
        cls.__bases__ != (object,)
        or not isinstance(slots, tuple)
        or cls.__dictoffset__
        or cls.__weakrefoffset__
    ):
        raise TypeError(f"{cls.__name__} is not a slotted class straight below object")
    draft = type(
        f"{cls.__name__}Draft",
        (),
        {"__slots__": slots, "__module__": cls.__module__, "__qualname__": f"{cls.__name__}Draft"},
    )
    draft().__class__ = cls  # CPython compares the layouts here and raises TypeError if they differ
    return draft
