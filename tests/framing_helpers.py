"""The test network with a chosen framing on every device, and texts as that framing's bodies.

Under the WhatsApp framing a body must be a serialized WhatsApp ``Message``:
:class:`FramedNetwork` turns the texts the scenarios send into
``Message{conversation}`` bodies and :meth:`FramedNetwork.text` turns a
delivered body back, so one scenario reads the same under every framing.
The network's own checks (exactly once, right plaintext) compare the bodies
themselves.
"""

from __future__ import annotations

from collections.abc import Iterable

from axolotl.framing import Framing, NativeFraming, WhatsAppFraming, conversation
from axolotl.framing import conversation_text as _conversation_text
from tests.helpers import Network

__all__ = ["FRAMINGS", "FramedNetwork", "body_of", "text_of"]

FRAMINGS: dict[str, Framing] = {"native": NativeFraming(), "whatsapp": WhatsAppFraming()}
"""Every framing the layer ships, by name (the ids of parametrized tests)."""


def body_of(framing: Framing, text: bytes) -> bytes:
    """The body that carries ``text`` under ``framing`` (itself, or a WhatsApp conversation)."""
    if isinstance(framing, WhatsAppFraming):
        return conversation(text.decode("utf-8", "surrogateescape"))
    return text


def text_of(framing: Framing, body: bytes) -> bytes:
    """The text a body of :func:`body_of` carries."""
    if isinstance(framing, WhatsAppFraming):
        return _conversation_text(body).encode("utf-8", "surrogateescape")
    return body


class FramedNetwork(Network):
    """:class:`tests.helpers.Network` whose devices' layers all use ``framing``.

    Args:
        framing: the framing of every device (default: the native one).
        **kwargs: as :class:`tests.helpers.Network`.
    """

    def send(self, src: str, dsts: Iterable[str], text: bytes, group: str | None = None) -> str:
        """Send ``text`` as the framing's body (see :func:`body_of`)."""
        return super().send(src, dsts, body_of(self.framing, text), group)

    def text(self, body: bytes) -> bytes:
        """The text a delivered body carries (see :func:`text_of`)."""
        return text_of(self.framing, body)
