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
        max_trial_chain_steps: chain keys one pairwise decrypt may derive to walk
            past skipped counters, added up over every session state it tries
            (2,000: what one genuine message may need, ``max_skip``).
        max_trial_ratchet_steps: DH ratchet steps (X25519 + root KDF) one
            pairwise decrypt may compute for states without a chain for the
            message's ratchet key (5).

    The work of one pairwise decrypt is therefore bounded whatever the stored
    record holds: one parse of the record, at most ``1 + max_archived_states``
    trials (a dictionary look-up, one ``KDF_CK``, one message-key HKDF and one
    MAC each), at most ``max_trial_ratchet_steps`` X25519 agreements and
    ``max_trial_chain_steps`` chain-key HMACs in all; on success, one more
    agreement and key pair for a new ratchet key and the skipped keys' seeds.
    A genuine message is refused by this budget only when it belongs to an
    archived state deep in the record with a new ratchet key or far ahead; the
    retry layer then asks for it again on the current session.
    """

    max_skip: int = 2000
    max_skipped_keys: int = 2000
    max_receiver_chains: int = 5
    max_archived_states: int = 40
    max_sender_key_states: int = 5
    max_trial_chain_steps: int = 2000
    max_trial_ratchet_steps: int = 5

    def __post_init__(self) -> None:
        for name in (
            "max_skip",
            "max_skipped_keys",
            "max_receiver_chains",
            "max_archived_states",
            "max_sender_key_states",
            "max_trial_chain_steps",
            "max_trial_ratchet_steps",
        ):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise UsageError(f"SessionConfig.{name} must be a positive integer, got {value!r}")
        if self.max_trial_chain_steps < self.max_skip:
            raise UsageError(
                f"SessionConfig.max_trial_chain_steps ({self.max_trial_chain_steps}) must be at "
                f"least max_skip ({self.max_skip}): a genuine message may need that many"
            )


DEFAULT_CONFIG = SessionConfig()
