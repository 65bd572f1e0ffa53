"""Test-side view of the simulator's fault-injecting network (``axolotl.simulate.network``).

Adds assertions over the network's own checks, so scenario tests read as
``net.check_exactly_once()``, and a ``backend`` choice so a scenario can run
on any store backend of ``tests/store_fixtures.py``.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from axolotl.keys import IdentityKeyPair
from axolotl.simulate.crash import Crash, CrashingStore, WriteCounter
from axolotl.simulate.network import Device, Faults
from axolotl.simulate.network import Network as _Network
from axolotl.simulate.stores import DeviceStores, MemoryStores, SQLiteStores
from axolotl.store.base import ProtocolStore
from tests.store_fixtures import StoreBackend

__all__ = [
    "BackendStores",
    "Crash",
    "CrashingStore",
    "Device",
    "Faults",
    "Network",
    "WriteCounter",
]


class BackendStores(DeviceStores):
    """A test backend of ``tests/store_fixtures.py`` as the simulator's device stores.

    Each device incarnation gets a directory of its own under a temporary
    folder (a backend that does not live in files names its schema after it).
    """

    def __init__(self, backend: StoreBackend) -> None:
        self.backend = backend
        self.name = backend.name
        self.persistent = backend.reopen is not None
        self._tmp = tempfile.TemporaryDirectory(prefix="axolotl-net-")

    def path(self, key: str) -> Path:
        """The directory of the device incarnation ``key``."""
        return Path(self._tmp.name) / key

    def create(self, key: str, identity: IdentityKeyPair, registration_id: int) -> ProtocolStore:
        self.path(key).mkdir()
        return self.backend.create(self.path(key), identity, registration_id)

    def reopen(self, key: str) -> ProtocolStore:
        assert self.backend.reopen is not None
        return self.backend.reopen(self.path(key))

    def close(self) -> None:
        self._tmp.cleanup()


class Network(_Network):
    """The simulator's network with asserting checks.

    Args:
        backend: the store backend of every device. ``None`` (default) keeps
            the simulator's own choice (memory, or SQLite when ``crash_at``
            asks for crashes); ``memory`` and ``sqlite`` pick the simulator's
            own (SQLite with ``synchronous=NORMAL``); any other backend
            (PostgreSQL) runs through :class:`BackendStores`.
        sqlite: with no ``backend``, SQLite files even without crashes (for
            restarts).
        **kwargs: as the simulator's ``Network``.
    """

    def __init__(
        self,
        names: Iterable[str],
        *,
        backend: StoreBackend | None = None,
        sqlite: bool = False,
        **kwargs: Any,
    ) -> None:
        stores: DeviceStores | None = None
        if backend is None:
            stores = SQLiteStores() if sqlite else None
        elif backend.name == "memory":
            stores = MemoryStores()
        elif backend.name == "sqlite":
            stores = SQLiteStores()
        else:
            stores = BackendStores(backend)
        super().__init__(names, stores=stores, **kwargs)

    def check_exactly_once(self) -> None:
        """Every message reached every recipient exactly once, or was reported."""
        problems = self.wrong() + self.lost()
        assert not problems, "\n".join(problems[:10])

    def check_budgets(self) -> None:
        """No message drew more receipts or transmissions than the policy allows."""
        problems = self.over_budget()
        assert not problems, "\n".join(problems[:10])
