"""What every part of the retry layer needs: the store, the policy, randomness, who we are."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from axolotl.address import ProtocolAddress
from axolotl.framing import Framing
from axolotl.retry.policy import Priority, RetryPolicy
from axolotl.rng import Rng
from axolotl.session.config import SessionConfig
from axolotl.session.trust import TrustPolicy
from axolotl.store.base import ProtocolStore

__all__ = ["Context", "Collected", "LayerStats", "log"]

log = logging.getLogger("axolotl.retry")
"""Ignored input (unknown ids, receipts over budget, ...) is logged here with its reason."""


@dataclass(slots=True)
class LayerStats:
    """Counters of what a layer did since it was created (for metrics; not persisted)."""

    delivered: int = 0
    duplicates: int = 0
    receipts_sent: int = 0
    undecryptable: int = 0
    resends: int = 0
    rebuilds: int = 0
    receipts_ignored: int = 0
    retransmissions: int = 0
    send_failed: int = 0
    handovers_only: int = 0  # pairwise messages that carried nothing but a sender key
    gaps_covered: int = 0  # missing counters put down to failures we asked resends for
    failures: dict[str, int] = field(default_factory=dict)  # by reason name


@dataclass(frozen=True, slots=True)
class Context:
    """The layer's fixed surroundings."""

    store: ProtocolStore
    local: ProtocolAddress
    policy: RetryPolicy
    rng: Rng
    trust: TrustPolicy
    config: SessionConfig
    framing: Framing
    stats: LayerStats = field(default_factory=LayerStats)


class Collected:
    """Actions gathered during one call, released highest priority first."""

    __slots__ = ("_items",)

    def __init__(self) -> None:
        self._items: list[tuple[int, int, object]] = []

    def add(self, action: object, priority: Priority = Priority.DEFAULT) -> None:
        """Queue ``action`` with its message's priority (stable within a class)."""
        self._items.append((int(priority), len(self._items), action))

    def sorted(self) -> list[object]:
        """The queued actions, most urgent class first, in order within a class."""
        return [a for _, _, a in sorted(self._items, key=lambda t: (t[0], t[1]))]
