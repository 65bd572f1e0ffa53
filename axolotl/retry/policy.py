"""Every number of the retry layer, in one frozen policy object.

Defaults follow what deployed clients accept: five retry receipts per
message before giving up (Baileys' ``maxMsgRetryCount``, whatsmeow's limit),
a key bundle from the second receipt on, at most one session rebuild per
device per hour (whatsmeow's recreate window), a send log kept 14 days.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from axolotl.errors import UsageError
from axolotl.rng import Rng

__all__ = ["Backoff", "Priority", "PriorityClass", "RetryPolicy", "DEFAULT_POLICY"]

_DAY_MS = 86_400_000


@dataclass(frozen=True, slots=True, kw_only=True)
class Backoff:
    """Exponential backoff with jitter, reusable by a stack for its own reconnects.

    The n-th wait (n = 1, 2, ...) is ``min(cap_ms, base_ms * factor ** (n - 1))``
    scaled by a uniform factor in ``[1 - jitter, 1 + jitter]`` drawn from the
    caller's rng, so many clients retrying at once spread out.

    Attributes:
        base_ms: the first wait.
        factor: growth per attempt (>= 1).
        cap_ms: the longest wait before jitter.
        jitter: relative spread, 0 <= jitter < 1.
    """

    base_ms: int = 2_000
    factor: float = 2.0
    cap_ms: int = 120_000
    jitter: float = 0.2

    def __post_init__(self) -> None:
        if self.base_ms < 1 or self.cap_ms < self.base_ms:
            raise UsageError("Backoff needs 1 <= base_ms <= cap_ms")
        if self.factor < 1:
            raise UsageError("Backoff.factor must be >= 1")
        if not 0 <= self.jitter < 1:
            raise UsageError("Backoff.jitter must be in [0, 1)")

    def nominal_ms(self, attempt: int) -> int:
        """The wait before jitter for ``attempt`` (1-based)."""
        if attempt < 1:
            raise UsageError(f"attempt must be >= 1, got {attempt}")
        # Cap the exponent so huge attempt numbers cannot overflow a float.
        exponent = min(attempt - 1, 64)
        return int(min(self.cap_ms, self.base_ms * self.factor**exponent))

    def delay_ms(self, attempt: int, rng: Rng) -> int:
        """The jittered wait for ``attempt`` (1-based); 4 bytes drawn from ``rng``."""
        nominal = self.nominal_ms(attempt)
        if not self.jitter:
            return nominal
        unit = int.from_bytes(rng(4), "big") / 0xFFFFFFFF
        return max(1, int(nominal * (1 - self.jitter + 2 * self.jitter * unit)))

    def schedule(self, attempts: int) -> list[int]:
        """The nominal waits of the first ``attempts`` attempts (for logs and docs)."""
        return [self.nominal_ms(n) for n in range(1, attempts + 1)]


@enum.unique
class Priority(enum.IntEnum):
    """A message's class, as Signal's content hints: what a loss would cost.

    Lower values are more urgent; actions due at the same tick come out in
    this order.

    * ``DEFAULT`` -- a message the user sees; retried hardest.
    * ``RESENDABLE`` -- the application can resend it itself (e.g. a reaction).
    * ``IMPLICIT`` -- invisible bookkeeping (typing, read markers); a loss is cheap.
    """

    DEFAULT = 0
    RESENDABLE = 1
    IMPLICIT = 2


@dataclass(frozen=True, slots=True, kw_only=True)
class PriorityClass:
    """Outbox budget and backoff for one :class:`Priority`.

    Attributes:
        max_transmissions: transmissions of one envelope without a server ack
            before ``SendFailed`` (the first one included).
        backoff: waits between them.
    """

    max_transmissions: int
    backoff: Backoff

    def __post_init__(self) -> None:
        if self.max_transmissions < 1:
            raise UsageError("max_transmissions must be >= 1")


def _default_classes() -> dict[Priority, PriorityClass]:
    return {
        Priority.DEFAULT: PriorityClass(
            max_transmissions=8, backoff=Backoff(base_ms=1_000, cap_ms=60_000)
        ),
        Priority.RESENDABLE: PriorityClass(
            max_transmissions=5, backoff=Backoff(base_ms=2_000, cap_ms=60_000)
        ),
        Priority.IMPLICIT: PriorityClass(
            max_transmissions=2, backoff=Backoff(base_ms=5_000, cap_ms=30_000)
        ),
    }


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    """The numbers of the retry layer.

    Attributes:
        max_retries: retry receipts the receiver sends for one message before
            it reports ``Undecryptable`` (and the sender's resend budget per
            message and device).
        receipt_backoff: waits before asking again while no resend arrives.
        keys_from_count: the first receipt count that carries a key bundle
            (a receipt for a message with no session at all always does).
        rebuild_from_count: the count from which a receipt naming the same
            base key as the session triggers a rebuild.
        rebuild_window_ms: at most one session rebuild per device per window.
        send_log_max_age_ms: how long the plaintext of a sent message is kept
            for resends when no delivery receipt arrives.
        send_log_max_entries: at most this many messages are kept for resends;
            the oldest is let go first, with ``SendFailed(EVICTED)`` for every
            device that never confirmed it.
        delivered_ids_kept: how many delivered message ids are remembered for
            exactly-once delivery (the earliest delivered are forgotten first,
            by delivery order, never by the clock).
        sent_ids_kept: how many message ids ``send`` remembers after their
            send-log entry is gone, to refuse one used again (``UsageError``);
            an id still in the send log is refused however old.
        inbox: keep every delivery and every ``Undecryptable`` /
            ``SendFailed`` report until the application confirms it
            (``RetryLayer.confirm``; ``RetryLayer.inbox()`` hands out the
            unconfirmed ones again after a restart). ``False``: each is the
            action alone, and a crash between the call and the application's
            own write loses it.
        gave_up_kept_ms: how long a message the receiver gave up on
            (``Undecryptable``) is remembered, so that copies of it that fail
            again start no new round of receipts (default: the send log's age,
            past which no resend can come).
        gave_up_kept: at most this many given-up messages are remembered (the
            earliest forgotten first): a flood of junk costs fixed space.
        minted_prekeys_per_device: one-time prekeys minted for the key bundles
            of our retry receipts are kept for at most this many receipts per
            device (the oldest deleted first); a sender builds from the newest.
        minted_prekey_max_age_ms: a minted prekey still unused this long after
            its receipt is deleted.
        gap_grace_ms: how long skipped counters may stay missing before a ``Gap``.
        gap_chains_kept: sending chains whose counters gap detection tracks;
            past it the idlest chains with nothing missing are forgotten.
        max_clock_jump_ms: the most one call's ``now_ms`` may move the layer's
            scheduling clock forward (:mod:`axolotl.retry.clock`): a bigger
            jump counts as this much, a step back as none.
        bundle_wait_ms: how long a resend waits for the bundle a ``FetchBundle``
            asked for (a keyless receipt says the session is broken) before it
            goes out on the old session after all.
        classes: outbox budget and backoff per priority class.
    """

    max_retries: int = 5
    receipt_backoff: Backoff = field(default_factory=lambda: Backoff(base_ms=5_000))
    keys_from_count: int = 2
    rebuild_from_count: int = 2
    rebuild_window_ms: int = 3_600_000
    send_log_max_age_ms: int = 14 * _DAY_MS
    send_log_max_entries: int = 10_000
    delivered_ids_kept: int = 10_000
    sent_ids_kept: int = 10_000
    inbox: bool = True
    gave_up_kept_ms: int = 14 * _DAY_MS
    gave_up_kept: int = 1_000
    minted_prekeys_per_device: int = 8
    minted_prekey_max_age_ms: int = 14 * _DAY_MS
    gap_grace_ms: int = 10_000
    gap_chains_kept: int = 1_000
    bundle_wait_ms: int = 30_000
    max_clock_jump_ms: int = 86_400_000
    classes: dict[Priority, PriorityClass] = field(default_factory=_default_classes)

    def __post_init__(self) -> None:
        if not 1 <= self.max_retries <= 255:
            raise UsageError("max_retries must be in 1..255 (the receipt count is one byte)")
        for name in (
            "keys_from_count",
            "rebuild_from_count",
            "send_log_max_entries",
            "minted_prekeys_per_device",
        ):
            if getattr(self, name) < 1:
                raise UsageError(f"RetryPolicy.{name} must be >= 1")
        for name in (
            "rebuild_window_ms",
            "send_log_max_age_ms",
            "delivered_ids_kept",
            "sent_ids_kept",
            "gave_up_kept_ms",
            "gave_up_kept",
            "minted_prekey_max_age_ms",
            "gap_grace_ms",
            "gap_chains_kept",
            "bundle_wait_ms",
            "max_clock_jump_ms",
        ):
            if getattr(self, name) < 0:
                raise UsageError(f"RetryPolicy.{name} must be >= 0")
        missing = set(Priority) - set(self.classes)
        if missing:
            raise UsageError(f"RetryPolicy.classes lacks {sorted(p.name for p in missing)}")

    def priority_class(self, priority: Priority) -> PriorityClass:
        """Budget and backoff for ``priority``."""
        return self.classes[priority]


DEFAULT_POLICY = RetryPolicy()
