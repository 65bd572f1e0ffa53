"""Test-side view of the simulator's fault-injecting network (``axolotl.simulate.network``).

Adds assertions over the network's own checks, so scenario tests read as
``net.check_exactly_once()``.
"""

from __future__ import annotations

from axolotl.simulate.network import Crash, CrashingStore, Device, Faults, WriteCounter
from axolotl.simulate.network import Network as _Network

__all__ = ["Crash", "CrashingStore", "Device", "Faults", "Network", "WriteCounter"]


class Network(_Network):
    """The simulator's network with asserting checks."""

    def check_exactly_once(self) -> None:
        """Every message reached every recipient exactly once, or was reported."""
        problems = self.wrong() + self.lost()
        assert not problems, "\n".join(problems[:10])

    def check_budgets(self) -> None:
        """No message drew more receipts or transmissions than the policy allows."""
        problems = self.over_budget()
        assert not problems, "\n".join(problems[:10])
