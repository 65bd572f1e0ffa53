"""The SQLite :class:`~axolotl.store.base.ProtocolStore`: the embedded default.

Built on the standard library's :mod:`sqlite3`, one connection per store.

Durability choices:

* ``journal_mode=WAL``: readers never block the writer, and a crash (process
  killed, power cut) between ``BEGIN`` and ``COMMIT`` leaves the previous
  committed state.
* ``synchronous=FULL`` by default: every ``COMMIT`` is fsynced before it
  returns. With ``NORMAL`` a WAL database stays consistent but a power cut
  can lose the last few commits, and for this library a lost commit is not
  harmless: a ratchet state rolled back after its message left the device
  would encrypt the next message with an already-used message key, and a
  rolled-back receive side would deliver a message twice. Pass
  ``synchronous="NORMAL"`` to trade that for speed (e.g. benchmarks, or an
  application with its own crash recovery).
* Transactions are explicit (``isolation_level=None`` and our own ``BEGIN
  IMMEDIATE`` / ``COMMIT`` / ``ROLLBACK``; nested blocks use savepoints), so
  a logical step takes the write lock up front and cannot fail half-way on a
  lock upgrade.

The schema is versioned with ``PRAGMA user_version`` and built by the ordered
:data:`axolotl.store.sqlite.migrations.MIGRATIONS`; opening a database applies
the missing ones in one transaction. To change the schema, append a
``Migration`` there with the next version number; never edit one that has
shipped.

Opening a connection, error mapping and the transaction context manager are
in :mod:`axolotl.store.sqlite._connection`. The retry layer's records
(:class:`~axolotl.store.base.RetryStore`) are implemented in
:mod:`axolotl.store.sqlite._retry_records`, mixed into :class:`SQLiteStore`;
they share its connection and transactions. The methods this store shares with
the PostgreSQL store are in :mod:`axolotl.store._sql_store`; this module
gives them their SQL and driver, and keeps its own hot paths (loading and
storing sessions and sender keys) and construction.

Every :class:`sqlite3.Error` becomes a :class:`~axolotl.errors.StorageError`
naming the operation. Not thread-safe: one store per thread.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from typing import Any, Literal

from axolotl.address import ProtocolAddress
from axolotl.errors import StorageError, UsageError
from axolotl.keys import IdentityKeyPair, generate_identity_key_pair, generate_registration_id
from axolotl.rng import Rng, default_rng
from axolotl.store._checks import check_name, check_record, check_registration_id, decode
from axolotl.store._sql_store import Statements
from axolotl.store.sqlite._connection import (
    DB_ERRORS,
    SQLiteTransaction,
    StrPath,
    connect,
    immediate,
    rollback_quietly,
    storage_error,
)
from axolotl.store.sqlite._retry_records import SQLiteRetryRecords
from axolotl.store.sqlite.migrations import MIGRATIONS, migrate

__all__ = ["SQLiteStore"]

# -- prepared SQL ----------------------------------------------------------

_SQL_GET_LOCAL = "SELECT identity_key_pair, registration_id FROM local_identity WHERE id = 1"
_SQL_SET_LOCAL = (
    "INSERT INTO local_identity (id, identity_key_pair, registration_id) VALUES (1, ?, ?)"
)
_SQL_GET_SESSION = "SELECT record FROM sessions WHERE name = ? AND device_id = ?"
_SQL_PUT_SESSION = (
    "INSERT INTO sessions (name, device_id, record) VALUES (?, ?, ?) "
    "ON CONFLICT (name, device_id) DO UPDATE SET record = excluded.record"
)
_SQL_GET_SENDER_KEY = (
    "SELECT record FROM sender_keys WHERE group_id = ? AND sender_name = ? AND sender_device_id = ?"
)
_SQL_PUT_SENDER_KEY = (
    "INSERT INTO sender_keys (group_id, sender_name, sender_device_id, record) "
    "VALUES (?, ?, ?, ?) "
    "ON CONFLICT (group_id, sender_name, sender_device_id) DO UPDATE SET record = excluded.record"
)
_SQL = Statements(
    get_identity="SELECT public_key FROM identities WHERE name = ? AND device_id = ?",
    put_identity=(
        "INSERT INTO identities (name, device_id, public_key) VALUES (?, ?, ?) "
        "ON CONFLICT (name, device_id) DO UPDATE SET public_key = excluded.public_key"
    ),
    get_pre_key="SELECT record FROM pre_keys WHERE id = ?",
    put_pre_key=(
        "INSERT INTO pre_keys (id, record) VALUES (?, ?) "
        "ON CONFLICT (id) DO UPDATE SET record = excluded.record"
    ),
    has_pre_key="SELECT 1 FROM pre_keys WHERE id = ?",
    del_pre_key="DELETE FROM pre_keys WHERE id = ?",
    get_counter="SELECT value FROM key_counters WHERE name = ?",
    put_counter=(
        "INSERT INTO key_counters (name, value) VALUES (?, ?) "
        "ON CONFLICT (name) DO UPDATE SET value = excluded.value"
    ),
    get_signed="SELECT record FROM signed_pre_keys WHERE id = ?",
    all_signed="SELECT id, record FROM signed_pre_keys ORDER BY id",
    put_signed=(
        "INSERT INTO signed_pre_keys (id, record) VALUES (?, ?) "
        "ON CONFLICT (id) DO UPDATE SET record = excluded.record"
    ),
    has_signed="SELECT 1 FROM signed_pre_keys WHERE id = ?",
    del_signed="DELETE FROM signed_pre_keys WHERE id = ?",
    has_session="SELECT 1 FROM sessions WHERE name = ? AND device_id = ?",
    del_session="DELETE FROM sessions WHERE name = ? AND device_id = ?",
    del_sessions="DELETE FROM sessions WHERE name = ?",
    sub_devices="SELECT device_id FROM sessions WHERE name = ? ORDER BY device_id",
    del_sender_key=(
        "DELETE FROM sender_keys WHERE group_id = ? AND sender_name = ? AND sender_device_id = ?"
    ),
)


class SQLiteStore(SQLiteRetryRecords):
    """A :class:`~axolotl.store.base.ProtocolStore` in an SQLite database file.

    Build it with :meth:`create`, :meth:`open` or :meth:`open_or_create`, not
    the constructor. Usable as a context manager that closes it.

    Attributes:
        path: the database path.
        journal_mode: the journal mode SQLite accepted (``"wal"`` for files).
    """

    _sql = _SQL
    _store_name = "sqlite"

    def __init__(
        self,
        conn: sqlite3.Connection,
        path: str,
        journal_mode: str,
        identity_key_pair: IdentityKeyPair,
        registration_id: int,
    ) -> None:
        """Wrap an open, migrated, provisioned connection (use the class methods)."""
        self._conn = conn
        self.path = path
        self.journal_mode = journal_mode
        self._scope = ()
        self._identity_key_pair = identity_key_pair
        self._registration_id = registration_id
        self._transaction = SQLiteTransaction(conn)

    # -- construction ------------------------------------------------------

    @classmethod
    def create(
        cls,
        path: StrPath,
        identity_key_pair: IdentityKeyPair,
        registration_id: int,
        *,
        synchronous: Literal["FULL", "NORMAL"] = "FULL",
    ) -> SQLiteStore:
        """Create (or open) the database at ``path`` and provision this identity.

        Opening a database already provisioned with the same identity key pair
        and registration id is allowed and changes nothing.

        Args:
            path: the database file (created if missing), or ``":memory:"``.
            identity_key_pair: this installation's identity key pair.
            registration_id: this installation's registration id.
            synchronous: ``"FULL"`` (default, durable commits) or ``"NORMAL"``.

        Raises:
            StorageError: the database is provisioned with a different
                identity or registration id, is corrupt, or SQLite failed.
            SchemaVersionError: the database is newer than this code.
        """
        check_registration_id(registration_id)
        return cls._provision(
            path, synchronous, lambda: (identity_key_pair, registration_id), must_match=True
        )

    @classmethod
    def open(cls, path: StrPath, *, synchronous: Literal["FULL", "NORMAL"] = "FULL") -> SQLiteStore:
        """Open an existing, provisioned database (migrating it if it is older).

        Raises:
            StorageError: no database at ``path``, not provisioned, corrupt, or
                SQLite failed.
            SchemaVersionError: the database is newer than this code.
        """
        _check_synchronous(synchronous)
        conn, journal_mode = connect(path, must_exist=True, synchronous=synchronous)
        where = os.fspath(path)
        try:
            migrate(conn, MIGRATIONS, where)
            try:
                row = conn.execute(_SQL_GET_LOCAL).fetchone()
            except DB_ERRORS as exc:
                raise storage_error("read local identity", exc) from exc
            if row is None:
                raise StorageError(
                    f"sqlite store: {where!r} is not provisioned; use SQLiteStore.create() "
                    "or open_or_create()"
                )
            identity = _decode_identity(row[0], where)
        except BaseException:
            conn.close()
            raise
        return cls(conn, where, journal_mode, identity, int(row[1]))

    @classmethod
    def open_or_create(
        cls,
        path: StrPath,
        rng: Rng = default_rng,
        *,
        synchronous: Literal["FULL", "NORMAL"] = "FULL",
    ) -> SQLiteStore:
        """Open ``path``, provisioning a fresh identity and registration id on first use.

        Args:
            path: the database file (created if missing), or ``":memory:"``.
            rng: randomness for the identity key pair and registration id.
            synchronous: ``"FULL"`` (default) or ``"NORMAL"``.

        Raises:
            StorageError: corrupt, or SQLite failed.
            SchemaVersionError: the database is newer than this code.
        """

        def make() -> tuple[IdentityKeyPair, int]:
            return generate_identity_key_pair(rng), generate_registration_id(rng)

        return cls._provision(path, synchronous, make, must_match=False)

    @classmethod
    def _provision(
        cls,
        path: StrPath,
        synchronous: str,
        make: Callable[[], tuple[IdentityKeyPair, int]],
        *,
        must_match: bool,
    ) -> SQLiteStore:
        _check_synchronous(synchronous)
        conn, journal_mode = connect(path, must_exist=False, synchronous=synchronous)
        where = os.fspath(path)
        try:
            migrate(conn, MIGRATIONS, where)
            try:
                with immediate(conn):
                    row = conn.execute(_SQL_GET_LOCAL).fetchone()
                    if row is None:
                        identity, registration_id = make()
                        conn.execute(_SQL_SET_LOCAL, (identity.serialize(), registration_id))
            except DB_ERRORS as exc:
                raise storage_error("provision local identity", exc) from exc
            if row is not None:
                identity = _decode_identity(row[0], where)
                registration_id = int(row[1])
                if must_match and (identity, registration_id) != make():
                    raise StorageError(
                        f"sqlite store: {where!r} is already provisioned with a different "
                        "identity key pair or registration id; open it with "
                        "SQLiteStore.open() or use another file"
                    )
        except BaseException:
            conn.close()
            raise
        return cls(conn, where, journal_mode, identity, registration_id)

    # -- the driver of SQLStore ----------------------------------------------

    def _read(self, sql: str, params: tuple[Any, ...], operation: str) -> list[Any]:
        try:
            return self._conn.execute(sql, params).fetchall()
        except DB_ERRORS as exc:
            raise storage_error(operation, exc) from exc

    def _write(self, sql: str, params: tuple[Any, ...], operation: str) -> int:
        try:
            return self._conn.execute(sql, params).rowcount
        except DB_ERRORS as exc:
            raise storage_error(operation, exc) from exc

    def _address(self, address: ProtocolAddress) -> tuple[str, int]:
        return (address.name, address.device_id)

    def _account(self, name: str) -> tuple[str]:
        return (check_name(name, "name"),)

    def _sender_key(self, group_id: str, sender: ProtocolAddress) -> tuple[str, str, int]:
        check_name(group_id, "group id")
        return (group_id, sender.name, sender.device_id)

    # -- hot paths: one statement each, written out --------------------------

    def load_session(self, address: ProtocolAddress) -> bytes | None:
        """The session record for ``address``, or ``None`` (one indexed SELECT).

        Raises:
            StorageError: SQLite failed.
        """
        try:
            row = self._conn.execute(_SQL_GET_SESSION, (address.name, address.device_id)).fetchone()
        except DB_ERRORS as exc:
            raise storage_error("load_session", exc) from exc
        return None if row is None else bytes(row[0])

    def store_session(self, address: ProtocolAddress, record: bytes) -> None:
        """Store (or replace) the session record for ``address`` (one UPSERT).

        Raises:
            StorageError: SQLite failed.
        """
        data = check_record(record, "session")
        try:
            self._conn.execute(_SQL_PUT_SESSION, (address.name, address.device_id, data))
        except DB_ERRORS as exc:
            raise storage_error("store_session", exc) from exc

    def load_sender_key(self, group_id: str, sender: ProtocolAddress) -> bytes | None:
        """The sender-key record of ``sender`` in ``group_id``, or ``None`` (one indexed SELECT).

        Raises:
            StorageError: SQLite failed.
        """
        check_name(group_id, "group id")
        try:
            row = self._conn.execute(
                _SQL_GET_SENDER_KEY, (group_id, sender.name, sender.device_id)
            ).fetchone()
        except DB_ERRORS as exc:
            raise storage_error("load_sender_key", exc) from exc
        return None if row is None else bytes(row[0])

    def store_sender_key(self, group_id: str, sender: ProtocolAddress, record: bytes) -> None:
        """Store (or replace) the sender-key record of ``sender`` in ``group_id`` (one UPSERT).

        Raises:
            UsageError: ``group_id`` is not a str, or ``record`` not bytes.
            StorageError: SQLite failed.
        """
        check_name(group_id, "group id")
        data = check_record(record, "sender key record")
        try:
            self._conn.execute(_SQL_PUT_SENDER_KEY, (group_id, sender.name, sender.device_id, data))
        except DB_ERRORS as exc:
            raise storage_error("store_sender_key", exc) from exc

    # -- ProtocolStore -----------------------------------------------------

    def transaction(self) -> SQLiteTransaction:
        """A nestable transaction; see :meth:`axolotl.store.base.ProtocolStore.transaction`.

        Raises:
            StorageError: SQLite could not begin, commit or roll back.
        """
        return self._transaction

    def close(self) -> None:
        """Close the connection (an open transaction is rolled back).

        Raises:
            StorageError: SQLite failed to close.
        """
        rollback_quietly(self._conn)
        try:
            self._conn.close()
        except DB_ERRORS as exc:
            raise storage_error("close", exc) from exc

    def __repr__(self) -> str:
        return f"SQLiteStore({self.path!r})"


def _check_synchronous(synchronous: str) -> None:
    if synchronous not in ("FULL", "NORMAL"):
        raise UsageError(f"synchronous must be 'FULL' or 'NORMAL', got {synchronous!r}")


def _decode_identity(data: bytes, where: str) -> IdentityKeyPair:
    return decode("sqlite", IdentityKeyPair.deserialize, data, f"local identity in {where!r}")
