"""Bounds and limits of the session layer, in one frozen object."""

from __future__ import annotations

from dataclasses import dataclass

from axolotl.errors import UsageError

__all__ = ["SessionConfig", "DEFAULT_CONFIG"]


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionConfig:
    """How far the ratchet may skip and how much it keeps.

    Attributes:
        max_skip: the furthest a message counter (or sender-key iteration) may
            lie ahead of its chain; beyond it decryption raises
            :class:`~axolotl.errors.FutureMessage` (Double Ratchet spec 3.5,
            ``MAX_SKIP``; python-axolotl and libsignal use 2,000).
        max_skipped_keys: message keys kept for out-of-order delivery per
            session (or per sender-key state); the oldest are evicted first.
        max_receiver_chains: receiving chains kept per session state (5, as libsignal).
        max_archived_states: previous session states kept and tried in turn (40).
        max_sender_key_states: sender key states kept per (group, sender) (5).
    """

    max_skip: int = 2000
    max_skipped_keys: int = 2000
    max_receiver_chains: int = 5
    max_archived_states: int = 40
    max_sender_key_states: int = 5

    def __post_init__(self) -> None:
        for name in (
            "max_skip",
            "max_skipped_keys",
            "max_receiver_chains",
            "max_archived_states",
            "max_sender_key_states",
        ):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise UsageError(f"SessionConfig.{name} must be a positive integer, got {value!r}")


DEFAULT_CONFIG = SessionConfig()
