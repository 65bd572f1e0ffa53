"""Framings: how the application's body, a sender-key handover and our hints travel in a plaintext.

Two ship (README.md, "Framing: native (default) or WhatsApp"; ``vectors/README.md``, "Framing"):

* :class:`NativeFraming` (the default): our own ``Payload`` protobuf; any
  bytes are a body; resends name the positions they replace.
* :class:`WhatsAppFraming`: the body is a serialized WhatsApp ``Message``; a
  handover is its field 2; random padding on every plaintext -- what
  yowsup, whatsmeow and Baileys read.

This layer sits between the retry layer (which chooses one per
:class:`~axolotl.retry.RetryLayer`) and the session and wire layers; it
imports neither the retry layer nor the stores.
"""

from axolotl.errors import UsageError
from axolotl.framing.base import Frame, Framing, Position
from axolotl.framing.native import NativeFraming, Payload
from axolotl.framing.whatsapp import WhatsAppFraming, conversation, conversation_text, unpad

__all__ = [
    "FRAMINGS",
    "Frame",
    "Framing",
    "NativeFraming",
    "Payload",
    "Position",
    "WhatsAppFraming",
    "conversation",
    "conversation_text",
    "framing_named",
    "unpad",
]

FRAMINGS: tuple[str, ...] = ("native", "whatsapp")
"""The framings by name, default first (as ``--framing`` spells them)."""


def framing_named(name: str) -> Framing:
    """The framing called ``name`` with its default settings.

    Raises:
        UsageError: no framing has that name.
    """
    if name == "native":
        return NativeFraming()
    if name == "whatsapp":
        return WhatsAppFraming()
    raise UsageError(f"unknown framing {name!r} (choose from {', '.join(FRAMINGS)})")
