"""What a framing is: how a body, a sender-key handover and our hints travel inside a plaintext.

The retry layer encrypts *plaintexts*; the application hands it *bodies*.
A framing maps one to the other (README.md, "Framing: native (default) or WhatsApp"):

* a pairwise plaintext (SignalMessage / PreKeySignalMessage) carries the body
  and, for a group, maybe a sender-key handover (a serialized
  SenderKeyDistributionMessage and its group id), and maybe the layer's own
  hints (the chain positions a resend replaces);
* a group plaintext (SenderKeyMessage) carries the body.

Peers see only the framing, so both ends of a conversation must use the same
one. The framing is chosen per :class:`~axolotl.retry.RetryLayer`
(``framing=``); it lives apart from the layer's persistence records.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from axolotl.errors import UsageError
from axolotl.rng import Rng

__all__ = ["Frame", "Framing", "Position"]

Position = tuple[bytes, int]
"""A place on a pairwise sending chain: (the chain's raw 32-byte ratchet key, counter)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Frame:
    """What one plaintext carries, framing aside.

    Attributes:
        body: the application's body; ``None`` when the plaintext was nothing
            but a sender-key handover (WhatsApp stacks send one beside the
            group message of the same id: there is nothing to deliver yet).
        distribution: a serialized SenderKeyDistributionMessage handed over
            with the body, or ``None``.
        group_id: the group of ``distribution`` (required with it).
        replaces: chain positions of earlier transmissions of the same
            message that this one replaces (a resend); only a framing with
            ``names_replaced`` carries them.

    Raises:
        UsageError: a handover without its group id, or neither a body nor a handover.
    """

    body: bytes | None
    distribution: bytes | None = None
    group_id: str | None = None
    replaces: tuple[Position, ...] = ()

    def __post_init__(self) -> None:
        if self.body is not None and not isinstance(self.body, bytes):
            raise UsageError("a frame's body must be bytes or None")
        if self.distribution is not None and not self.group_id:
            raise UsageError("a sender-key handover needs its group id")
        if self.body is None and self.distribution is None:
            raise UsageError("a frame without a body must carry a sender-key handover")


class Framing(Protocol):
    """How bodies, handovers and hints travel inside plaintexts (one per retry layer).

    Every ``decode_*`` reads bytes a peer sent: it raises a typed
    :class:`~axolotl.errors.RemoteError` (never anything else) in time and
    memory linear in the plaintext, and keeps nothing. Every ``encode_*``
    draws the randomness it needs (padding) from ``rng`` only, so a
    transcript replays byte for byte.
    """

    @property
    def name(self) -> str:
        """The framing's name (``"native"``, ``"whatsapp"``), as the CLI spells it."""
        ...

    @property
    def names_replaced(self) -> bool:
        """Whether a pairwise frame carries the positions a resend replaces."""
        ...

    def check_body(self, body: bytes) -> None:
        """Refuse, before anything is sent, a body this framing cannot carry.

        Raises:
            UsageError: the body does not fit the framing.
        """
        ...

    def encode_pairwise(self, frame: Frame, rng: Rng) -> bytes:
        """The plaintext of a pairwise message carrying ``frame``.

        Raises:
            UsageError: the frame does not fit the framing.
        """
        ...

    def decode_pairwise(self, plaintext: bytes) -> Frame:
        """Read the plaintext of a pairwise message.

        Raises:
            RemoteError: the plaintext is not a frame of this framing.
        """
        ...

    def encode_group(self, body: bytes, rng: Rng) -> bytes:
        """The plaintext of a group (SenderKeyMessage) message carrying ``body``."""
        ...

    def decode_group(self, plaintext: bytes) -> Frame:
        """Read the plaintext of a group message.

        Raises:
            RemoteError: the plaintext is not a frame of this framing.
        """
        ...
