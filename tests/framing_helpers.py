"""The test network with a chosen framing on every device (until the simulator takes ``framing=``).

Under the WhatsApp framing a body must be a serialized WhatsApp ``Message``:
:class:`FramedNetwork` turns the texts the scenarios send into
``Message{conversation}`` bodies and :meth:`FramedNetwork.text` turns a
delivered body back, so one scenario reads the same under every framing.
The network's own checks (exactly once, right plaintext) compare the bodies
themselves.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from axolotl.address import ProtocolAddress
from axolotl.framing import Framing, NativeFraming, WhatsAppFraming, conversation
from axolotl.framing import conversation_text as _conversation_text
from axolotl.retry import RetryLayer
from axolotl.session import accept_changed_identity
from axolotl.store.base import ProtocolStore
from tests.helpers import CrashingStore, Network

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

    def __init__(
        self, names: Iterable[str], *, framing: Framing | None = None, **kwargs: Any
    ) -> None:
        self.framing: Framing = framing if framing is not None else NativeFraming()
        super().__init__(names, **kwargs)

    def _layer(self, address: ProtocolAddress, store: ProtocolStore) -> RetryLayer:
        # The simulator's own layer, as it builds it, with our framing added.
        wrapped: Any = CrashingStore(store, self.counter) if self.stores.persistent else store
        return RetryLayer(
            wrapped,
            address,
            policy=self.policy,
            rng=self.rng,
            trust=accept_changed_identity,
            framing=self.framing,
        )

    def send(self, src: str, dsts: Iterable[str], text: bytes, group: str | None = None) -> str:
        """Send ``text`` as the framing's body (see :func:`body_of`)."""
        return super().send(src, dsts, body_of(self.framing, text), group)

    def text(self, body: bytes) -> bytes:
        """The text a delivered body carries (see :func:`text_of`)."""
        return text_of(self.framing, body)
