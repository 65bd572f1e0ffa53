"""Where the simulated devices keep their state: memory, SQLite files or PostgreSQL.

The network gives every device incarnation a ``key`` (``name-device-seq``:
a reinstalled device gets a new one) and asks a :class:`DeviceStores` for a
store under it; a restart or a crash closes that store and reopens it by the
same key, so persistent backends are what restarts and crash injection need.

- :class:`MemoryStores`: nothing survives a restart (the fastest, for tests).
- :class:`SQLiteStores`: a database file per device in a folder (a temporary
  one by default, removed on :meth:`~DeviceStores.close`).
- :class:`PostgresStores`: every device an owner in one PostgreSQL database,
  named ``simulate-<run id>-<key>`` so runs never meet each other's rows,
  deleted on :meth:`~DeviceStores.close` unless kept. Needs the ``postgres``
  extra.
"""

from __future__ import annotations

import secrets
import tempfile
import time
from abc import ABC, abstractmethod
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from axolotl.errors import UsageError
from axolotl.keys import IdentityKeyPair
from axolotl.store import MemoryStore, SQLiteStore
from axolotl.store.base import ProtocolStore

if TYPE_CHECKING:
    from axolotl.store.postgres import PostgresStore

__all__ = [
    "DeviceStores",
    "MemoryStores",
    "PostgresStores",
    "SQLiteStores",
    "check_folder",
    "new_run_id",
]


def new_run_id() -> str:
    """A run id unique enough for owner names: the UTC time and 6 random hex digits."""
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + "-" + secrets.token_hex(3)


class DeviceStores(ABC):
    """A backend for the simulated devices' stores.

    Attributes:
        persistent: whether :meth:`reopen` gives back what was written (restarts
            and crash injection need it).
        name: the backend's name for reports (``memory``, ``sqlite``, ``postgres``).
    """

    persistent: bool = True
    name: str = "?"

    @abstractmethod
    def create(self, key: str, identity: IdentityKeyPair, registration_id: int) -> ProtocolStore:
        """A new, empty store for the device incarnation ``key``, provisioned with this identity."""

    @abstractmethod
    def reopen(self, key: str) -> ProtocolStore:
        """The store of ``key`` again, after its previous handle was closed."""

    def close(self) -> None:  # noqa: B027 - most backends hold nothing
        """Release what the backend holds (every device store is closed before this)."""


class MemoryStores(DeviceStores):
    """:class:`~axolotl.store.MemoryStore` per device; nothing survives a restart."""

    persistent = False
    name = "memory"

    def create(self, key: str, identity: IdentityKeyPair, registration_id: int) -> ProtocolStore:
        return MemoryStore(identity, registration_id)

    def reopen(self, key: str) -> ProtocolStore:
        raise UsageError("a restart needs persistent stores (SQLite or PostgreSQL)")


def check_folder(directory: Path) -> None:
    """Make sure the SQLite databases can go in ``directory``, creating it if needed.

    Raises:
        UsageError: it is a file, cannot be created or cannot be written in
            (the message is one line and says which).
    """
    if directory.exists() and not directory.is_dir():
        raise UsageError(f"{directory} is not a folder")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=directory):
            pass  # root passes every permission check; a real write says more
    except OSError as exc:
        raise UsageError(f"cannot use the folder {directory}: {exc.strerror or exc}") from None


class SQLiteStores(DeviceStores):
    """A SQLite database file per device, ``<key>.db`` in ``directory``.

    Args:
        directory: where the files go, created if needed; ``None`` makes a
            temporary folder that :meth:`close` removes (a given folder is
            left as it is).
        synchronous: SQLite's ``synchronous`` for every store. ``NORMAL`` (the
            default here) survives a crash of the process, which is what the
            simulator injects; ``FULL`` also survives a power cut.

    Raises:
        UsageError: ``directory`` cannot hold the databases (:func:`check_folder`).
    """

    name = "sqlite"

    def __init__(
        self, directory: Path | None = None, synchronous: Literal["FULL", "NORMAL"] = "NORMAL"
    ) -> None:
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if directory is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="axolotl-")
            directory = Path(self._tmp.name)
        else:
            check_folder(directory)
        self.directory = directory
        self.synchronous: Literal["FULL", "NORMAL"] = synchronous

    def path(self, key: str) -> Path:
        """The database file of ``key``."""
        return self.directory / f"{key}.db"

    def create(self, key: str, identity: IdentityKeyPair, registration_id: int) -> ProtocolStore:
        return SQLiteStore.create(
            self.path(key), identity, registration_id, synchronous=self.synchronous
        )

    def reopen(self, key: str) -> ProtocolStore:
        return SQLiteStore.open(self.path(key), synchronous=self.synchronous)

    def close(self) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()


class PostgresStores(DeviceStores):
    """Every device an owner in one PostgreSQL database, sharing a small connection pool.

    Args:
        dsn: the database, e.g. ``postgresql://user@host/db``.
        run_id: names this run's owners ``simulate-<run id>-<key>``; by default
            the time and random hex, so reruns against one database never
            collide.
        keep: leave the run's rows in the database after :meth:`close` (to
            inspect them; delete them later with
            :meth:`~axolotl.store.PostgresStore.delete_owner`).
        synchronous_commit: as :class:`~axolotl.store.PostgresStore`. ``False``
            (the default here, like SQLite's ``NORMAL`` in the simulator)
            survives a crash of the process, which is what the simulator
            injects, without waiting for a disk flush at every step.

    Raises:
        UsageError: psycopg or psycopg-pool is not installed.
        StorageError: the database cannot be reached (the message says what
            to check).
    """

    name = "postgres"

    def __init__(
        self,
        dsn: str,
        *,
        run_id: str | None = None,
        keep: bool = False,
        synchronous_commit: bool = False,
    ) -> None:
        try:
            from psycopg_pool import ConnectionPool

            from axolotl.store.postgres import PostgresStore
            from axolotl.store.postgres._connection import connect_dsn
        except ImportError as exc:
            raise UsageError(
                "the PostgreSQL store needs psycopg 3 and psycopg-pool: "
                "pip install 'axolotl-retry[postgres]'"
            ) from exc
        connect_dsn(dsn).close()  # a bad DSN fails here, at once, with what to check
        self._store_class: type[PostgresStore] = PostgresStore
        self.run_id = run_id or new_run_id()
        self.keep = keep
        self.synchronous_commit = synchronous_commit
        self.owners: list[str] = []
        # The simulator runs one step at a time; a second connection covers a
        # store opened while another holds one.
        self._pool: Any = ConnectionPool(
            dsn, min_size=1, max_size=2, open=True, kwargs={"autocommit": True}
        )

    def owner(self, key: str) -> str:
        """The owner name of the device incarnation ``key``."""
        return f"simulate-{self.run_id}-{key}"

    def create(self, key: str, identity: IdentityKeyPair, registration_id: int) -> ProtocolStore:
        owner = self.owner(key)
        store = self._store_class.create(
            self._pool,
            owner,
            identity,
            registration_id,
            synchronous_commit=self.synchronous_commit,
        )
        self.owners.append(owner)
        return store

    def reopen(self, key: str) -> ProtocolStore:
        return self._store_class.open(
            self._pool, self.owner(key), synchronous_commit=self.synchronous_commit
        )

    def close(self) -> None:
        try:
            if not self.keep:
                for owner in self.owners:
                    self._store_class.delete_owner(self._pool, owner)
        finally:
            self._pool.close()
