"""Test-side view of the simulator's fault-injecting network (``axolotl.simulate.network``).

Adds assertions over the network's own checks, so scenario tests read as
``net.check_exactly_once()``, and a ``backend`` choice so a scenario can run
on any store backend of ``tests/store_fixtures.py``.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from axolotl.keys import IdentityKeyPair
from axolotl.simulate.network import Crash, CrashingStore, Device, Faults, WriteCounter
from axolotl.simulate.network import Network as _Network
from axolotl.store.base import ProtocolStore
from tests.store_fixtures import StoreBackend

__all__ = ["Crash", "CrashingStore", "Device", "Faults", "Network", "WriteCounter"]


class Network(_Network):
    """The simulator's network with asserting checks.

    Args:
        backend: the store backend of every device. ``None`` (default) keeps
            the simulator's own choice (memory, or SQLite when ``sqlite`` or
            ``crash_at`` asks for it); ``memory`` and ``sqlite`` pick those;
            any other backend (PostgreSQL) persists, so restarts and crashes
            work on it as on SQLite, each device in its own store.
        **kwargs: as the simulator's ``Network``.
    """

    def __init__(
        self, names: Iterable[str], *, backend: StoreBackend | None = None, **kwargs: Any
    ) -> None:
        self.backend = backend
        if backend is not None and backend.name in ("memory", "sqlite"):
            kwargs["sqlite"] = kwargs.get("sqlite", False) or backend.name == "sqlite"
            self.backend = None
        elif backend is not None:
            kwargs["sqlite"] = True  # persistent: restart and crash wrapping apply
        super().__init__(names, **kwargs)

    def _create_store(
        self, path: Path | None, identity: IdentityKeyPair, registration_id: int
    ) -> ProtocolStore:
        backend = self.backend
        if backend is None:
            return super()._create_store(path, identity, registration_id)
        assert path is not None  # a backend network is persistent
        path.mkdir(parents=True, exist_ok=True)
        return backend.create(path, identity, registration_id)

    def _open(self, path: Path) -> Any:
        backend = self.backend
        if backend is None:
            return super()._open(path)
        assert backend.reopen is not None
        store: ProtocolStore = backend.reopen(path)
        return store

    def check_exactly_once(self) -> None:
        """Every message reached every recipient exactly once, or was reported."""
        problems = self.wrong() + self.lost()
        assert not problems, "\n".join(problems[:10])

    def check_budgets(self) -> None:
        """No message drew more receipts or transmissions than the policy allows."""
        problems = self.over_budget()
        assert not problems, "\n".join(problems[:10])
