"""The PostgreSQL :class:`~axolotl.store.base.ProtocolStore`: shared state for many workers.

Needs the optional extra ``postgres`` (psycopg 3 and psycopg-pool):
``pip install 'axolotl-retry[postgres]'``. Importing :mod:`axolotl` does not.

Tenancy. One database (one schema) serves many local accounts: a gateway's
workers keep every account's state side by side. Every table is keyed by an
``owner`` column, the local account/device a store belongs to; a
:class:`PostgresStore` reads and writes only its owner's rows. The tables
are prefixed ``axolotl_`` and live in the first schema of the connection's
``search_path`` (``public`` unless the DSN says ``options=-csearch_path=...``).
One schema for every account keeps the catalogue small and migrations a
single step, where a schema per account would multiply both by the number
of accounts.

Locking model. The retry layer runs every event as one logical step inside
:meth:`PostgresStore.transaction`, and the session functions run every
encrypt/decrypt as one too: load a record, compute, store it back. Two
workers handling the same device must never both load the same version (a
forked ratchet, a message delivered twice, a due retransmission sent twice).
So the outermost transaction begins, in the same round trip as ``BEGIN``,
with ``pg_advisory_xact_lock`` on the owner, held until ``COMMIT`` or
``ROLLBACK``: the steps of one device run one after another across every
worker and process, as they do in the single-writer SQLite store, while
steps of different devices run in parallel. A per-row lock (``SELECT ...
FOR UPDATE`` on the session) would not be enough: a step reads and writes
many rows (session, sender keys, prekeys, the delivered-ids record, receipt
counters, the outbox) and runs range queries (due records, next due time,
eviction), and rows that do not exist yet cannot be locked. Holding one
lock per device for the step covers all of them and cannot deadlock. A
write outside any transaction is a transaction of its own and takes the lock
too; a read outside one does not (it sees the last committed state).
Transactions run at ``READ COMMITTED``: every statement after the lock sees
everything committed before it was granted. Deployment rule that follows:
spread work over workers by device (each worker may serve any device; steps
of one device simply queue on its lock), and keep a step short.

A lock that is not granted within ``lock_timeout_ms`` (or a deadlock the
server breaks) raises :class:`~axolotl.errors.LockTimeout`; the step's
transaction is rolled back, so nothing of it was written: retry the step.

Connections. Pass a DSN (the store opens one connection, and reopens it
after a server restart), a psycopg ``Connection`` (borrowed; switched to
autocommit; left open by :meth:`PostgresStore.close`) or a
``psycopg_pool.ConnectionPool`` (one connection per transaction or single
operation: thousands of stores can share a pool of a few connections). One
store is used by one thread at a time, like the SQLite store.

Schema versions are kept in ``axolotl_schema`` and applied by
:mod:`axolotl.store.postgres._migrations` (a newer schema raises
:class:`~axolotl.errors.SchemaVersionError`). Every :class:`psycopg.Error`
becomes a :class:`~axolotl.errors.StorageError` naming the operation.

Layout: connections and their errors are in
:mod:`axolotl.store.postgres._connection`; the transaction, which owns the
state of the open step (its connection, nesting, savepoints and pending
retry-record counts) and runs every statement, in
:mod:`axolotl.store.postgres._transaction`; the retry records in
:mod:`axolotl.store.postgres._retry_records`; and the methods this store
shares with the SQLite store in :mod:`axolotl.store._sql_store`. This module
gives them their SQL and driver, and keeps construction and its own hot paths
(loading and storing sessions and sender keys).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

import psycopg

from axolotl.address import ProtocolAddress
from axolotl.errors import StorageError, UsageError
from axolotl.keys import IdentityKeyPair, generate_identity_key_pair, generate_registration_id
from axolotl.rng import Rng, default_rng
from axolotl.store._checks import check_name, check_record, check_registration_id, decode
from axolotl.store.postgres._connection import Source, pg_error
from axolotl.store.postgres._counts import PendingCounts
from axolotl.store.postgres._migrations import (
    OWNER_TABLES,
    PG_MIGRATIONS,
    PG_SCHEMA_VERSION,
    migrate,
)
from axolotl.store.postgres._retry_records import PgRetryRecords
from axolotl.store.postgres._sql import (
    SQL,
    SQL_GET_LOCAL,
    SQL_GET_SENDER_KEY,
    SQL_GET_SESSION,
    SQL_PUT_SENDER_KEY,
    SQL_PUT_SESSION,
    SQL_SET_LOCAL,
)
from axolotl.store.postgres._transaction import PgTransaction, begin_statement

if TYPE_CHECKING:
    from psycopg_pool import ConnectionPool

__all__ = ["DEFAULT_LOCK_TIMEOUT_MS", "PG_SCHEMA_VERSION", "PostgresStore"]

DEFAULT_LOCK_TIMEOUT_MS: Final = 10_000
"""How long a step waits for its device's lock before :class:`~axolotl.errors.LockTimeout`."""


def _text(value: str, what: str) -> str:
    """A name or group id as PostgreSQL TEXT can hold it."""
    if "\x00" in check_name(value, what):
        raise StorageError(f"postgres store: a {what} cannot hold NUL characters: {value!r}")
    return value


def _check_owner(owner: object) -> str:
    if not isinstance(owner, str) or not owner or "\x00" in owner:
        raise UsageError(f"owner must be a non-empty str without NUL, got {owner!r}")
    return owner


def _check_lock_timeout(lock_timeout_ms: object) -> int:
    if (
        not isinstance(lock_timeout_ms, int)
        or isinstance(lock_timeout_ms, bool)
        or not 0 <= lock_timeout_ms <= 2**31 - 1
    ):
        raise UsageError(
            f"lock_timeout_ms must be an int in 0..2^31-1 (0: wait forever), "
            f"got {lock_timeout_ms!r}"
        )
    return lock_timeout_ms


class PostgresStore(PgRetryRecords):
    """A :class:`~axolotl.store.base.ProtocolStore` for one owner in a PostgreSQL database.

    Build it with :meth:`create`, :meth:`open` or :meth:`open_or_create`, not
    the constructor. Usable as a context manager that closes it.

    Attributes:
        owner: the local account/device this store belongs to (its rows' key).
        lock_timeout_ms: how long a step waits for the owner's lock.
        synchronous_commit: whether a step's ``COMMIT`` waits for its WAL to
            reach disk (the default). ``False`` sets PostgreSQL's
            ``synchronous_commit = off`` for the store's transactions: a
            worker crash still loses nothing committed and nothing is ever
            torn, but a crash of the database server may forget the last few
            hundred milliseconds of committed steps. Steps whose outcome was
            already acknowledged to the messaging server would then be lost
            for good, so keep the default in production; ``False`` suits
            simulations, benchmarks and state that can be rebuilt.
    """

    _sql = SQL
    _store_name = "postgres"

    def __init__(
        self, source: Source, owner: str, lock_timeout_ms: int, synchronous_commit: bool = True
    ) -> None:
        """Wrap a migrated source (use the class methods)."""
        self._source = source
        self.owner = owner
        self._scope = (owner,)
        self.lock_timeout_ms = lock_timeout_ms
        self.synchronous_commit = synchronous_commit

        def error(operation: str, exc: psycopg.Error) -> StorageError:
            return pg_error(operation, exc, owner, lock_timeout_ms)

        self._transaction = PgTransaction(
            source,
            begin_statement(owner, lock_timeout_ms, synchronous_commit),
            error,
            PendingCounts(owner),
        )
        # _provision sets the local identity once it is read or stored.

    # -- construction ------------------------------------------------------

    @classmethod
    def create(
        cls,
        source: str | psycopg.Connection[Any] | ConnectionPool[Any],
        owner: str,
        identity_key_pair: IdentityKeyPair,
        registration_id: int,
        *,
        lock_timeout_ms: int = DEFAULT_LOCK_TIMEOUT_MS,
        synchronous_commit: bool = True,
    ) -> PostgresStore:
        """Open the store of ``owner``, provisioning this identity on first use.

        Opening a store already provisioned with the same identity key pair
        and registration id is allowed and changes nothing.

        Args:
            source: a DSN, a psycopg ``Connection`` or a ``psycopg_pool.ConnectionPool``.
            owner: the local account/device this store belongs to, e.g.
                ``"15551234567@s.whatsapp.net.1"``: any non-empty str without NUL.
            identity_key_pair: the owner's identity key pair.
            registration_id: the owner's registration id.
            lock_timeout_ms: how long a step waits for the owner's lock
                (0: forever).
            synchronous_commit: ``False`` relaxes commit durability (see the
                class attribute); keep the default in production.

        Raises:
            StorageError: cannot connect (the message says what to check), the
                owner is provisioned with a different identity, or PostgreSQL
                failed.
            SchemaVersionError: the database's axolotl schema is newer than this code.
            LockTimeout: another worker held the owner's lock too long.
            UsageError: a bad owner, registration id or lock timeout.
        """
        check_registration_id(registration_id)
        return cls._provision(
            source,
            owner,
            lock_timeout_ms,
            lambda: (identity_key_pair, registration_id),
            must_match=True,
            synchronous_commit=synchronous_commit,
        )

    @classmethod
    def open(
        cls,
        source: str | psycopg.Connection[Any] | ConnectionPool[Any],
        owner: str,
        *,
        lock_timeout_ms: int = DEFAULT_LOCK_TIMEOUT_MS,
        synchronous_commit: bool = True,
    ) -> PostgresStore:
        """Open the store of an owner provisioned before (migrating the schema if older).

        Raises:
            StorageError: cannot connect, the owner is not provisioned, or
                PostgreSQL failed.
            SchemaVersionError: the database's axolotl schema is newer than this code.
            LockTimeout: another worker held the owner's lock too long.
            UsageError: a bad owner or lock timeout.
        """
        return cls._provision(
            source,
            owner,
            lock_timeout_ms,
            None,
            must_match=False,
            synchronous_commit=synchronous_commit,
        )

    @classmethod
    def open_or_create(
        cls,
        source: str | psycopg.Connection[Any] | ConnectionPool[Any],
        owner: str,
        rng: Rng = default_rng,
        *,
        lock_timeout_ms: int = DEFAULT_LOCK_TIMEOUT_MS,
        synchronous_commit: bool = True,
    ) -> PostgresStore:
        """Open the store of ``owner``, provisioning a fresh identity on first use.

        Args:
            source: a DSN, a psycopg ``Connection`` or a ``psycopg_pool.ConnectionPool``.
            owner: the local account/device this store belongs to.
            rng: randomness for the identity key pair and registration id.
            lock_timeout_ms: how long a step waits for the owner's lock.
            synchronous_commit: ``False`` relaxes commit durability (see the
                class attribute).

        Raises:
            StorageError: cannot connect, or PostgreSQL failed.
            SchemaVersionError: the database's axolotl schema is newer than this code.
            LockTimeout: another worker held the owner's lock too long.
            UsageError: a bad owner or lock timeout.
        """

        def make() -> tuple[IdentityKeyPair, int]:
            return generate_identity_key_pair(rng), generate_registration_id(rng)

        return cls._provision(
            source,
            owner,
            lock_timeout_ms,
            make,
            must_match=False,
            synchronous_commit=synchronous_commit,
        )

    @classmethod
    def delete_owner(
        cls,
        source: str | psycopg.Connection[Any] | ConnectionPool[Any],
        owner: str,
        *,
        lock_timeout_ms: int = DEFAULT_LOCK_TIMEOUT_MS,
    ) -> bool:
        """Delete every row of ``owner``: its identity, keys, sessions and retry records.

        For an account removed from a gateway (or a finished simulation). One
        transaction under the owner's lock, so it waits for a step another
        worker is running and no step sees half of it. Close every store of
        the owner first: one left open would go on writing rows for it.

        Returns:
            Whether the owner was provisioned.

        Raises:
            StorageError: cannot connect, or PostgreSQL failed.
            SchemaVersionError: the database's axolotl schema is newer than this code.
            LockTimeout: another worker held the owner's lock too long.
            UsageError: a bad owner or lock timeout.
        """
        owner = _check_owner(owner)
        lock_timeout_ms = _check_lock_timeout(lock_timeout_ms)
        src = Source(source)
        try:
            with src.borrow() as conn:
                migrate(conn, PG_MIGRATIONS, src.describe())
            store = cls(src, owner, lock_timeout_ms)
            with store._transaction:
                for table in OWNER_TABLES:
                    deleted = store._write(
                        f"DELETE FROM {table} WHERE owner = %s", (owner,), f"delete {table}"
                    )
            return deleted > 0  # rows of the local identity, the last table
        finally:
            src.close()

    @classmethod
    def _provision(
        cls,
        target: object,
        owner: str,
        lock_timeout_ms: int,
        make: Callable[[], tuple[IdentityKeyPair, int]] | None,
        *,
        must_match: bool,
        synchronous_commit: bool,
    ) -> PostgresStore:
        owner = _check_owner(owner)
        if not isinstance(synchronous_commit, bool):
            raise UsageError(f"synchronous_commit must be a bool, got {synchronous_commit!r}")
        lock_timeout_ms = _check_lock_timeout(lock_timeout_ms)
        source = Source(target)
        try:
            where = source.describe()
            with source.borrow() as conn:
                migrate(conn, PG_MIGRATIONS, where)
            store = cls(source, owner, lock_timeout_ms, synchronous_commit)
            with store._transaction:
                rows = store._read(SQL_GET_LOCAL, (owner,), "read local identity")
                if not rows:
                    if make is None:
                        raise StorageError(
                            f"postgres store: owner {owner!r} is not provisioned in {where}; "
                            "use PostgresStore.create() or open_or_create()"
                        )
                    identity, registration_id = make()
                    store._write(
                        SQL_SET_LOCAL,
                        (owner, identity.serialize(), registration_id),
                        "provision local identity",
                    )
            if rows:
                identity = decode(
                    "postgres",
                    IdentityKeyPair.deserialize,
                    bytes(rows[0][0]),
                    f"local identity of {owner!r}",
                )
                registration_id = int(rows[0][1])
                if must_match and make is not None and (identity, registration_id) != make():
                    raise StorageError(
                        f"postgres store: owner {owner!r} in {where} is already "
                        "provisioned with a different identity key pair or registration "
                        "id; open it with PostgresStore.open() or use another owner"
                    )
        except BaseException:
            source.close()
            raise
        store._identity_key_pair = identity
        store._registration_id = registration_id
        return store

    # -- internals ---------------------------------------------------------

    def _read(self, sql: str, params: Any, operation: str) -> list[tuple[Any, ...]]:
        """Rows of one statement: in the open transaction, or on its own without the lock."""
        return self._transaction.read(sql, params, operation)

    def _write(self, sql: str, params: Any, operation: str) -> int:
        """Run one writing statement (under the owner's lock); the rows it changed."""
        return self._transaction.write(sql, params, operation)

    def _address(self, address: ProtocolAddress) -> tuple[str, str, int]:
        return (self.owner, _text(address.name, "name"), address.device_id)

    def _account(self, name: str) -> tuple[str, str]:
        return (self.owner, _text(name, "name"))

    def _sender_key(self, group_id: str, sender: ProtocolAddress) -> tuple[str, str, str, int]:
        return (
            self.owner,
            _text(group_id, "group id"),
            _text(sender.name, "name"),
            sender.device_id,
        )

    # -- hot paths: one statement each, written out --------------------------

    def load_session(self, address: ProtocolAddress) -> bytes | None:
        """The session record for ``address``, or ``None`` (one indexed SELECT).

        Inside a transaction the owner's lock is already held, so the record
        cannot change under the caller until it commits.

        Raises:
            StorageError: PostgreSQL failed.
        """
        rows = self._read(SQL_GET_SESSION, self._address(address), "load_session")
        return bytes(rows[0][0]) if rows else None

    def store_session(self, address: ProtocolAddress, record: bytes) -> None:
        """Store (or replace) the session record for ``address`` (one UPSERT).

        Raises:
            StorageError: PostgreSQL failed.
        """
        data = check_record(record, "session")
        self._write(SQL_PUT_SESSION, (*self._address(address), data), "store_session")

    def load_sender_key(self, group_id: str, sender: ProtocolAddress) -> bytes | None:
        """The sender-key record of ``sender`` in ``group_id``, or ``None``.

        Raises:
            StorageError: PostgreSQL failed.
        """
        params = (self.owner, _text(group_id, "group id"), *self._address(sender)[1:])
        rows = self._read(SQL_GET_SENDER_KEY, params, "load_sender_key")
        return bytes(rows[0][0]) if rows else None

    def store_sender_key(self, group_id: str, sender: ProtocolAddress, record: bytes) -> None:
        """Store (or replace) the sender-key record of ``sender`` in ``group_id``.

        Raises:
            StorageError: PostgreSQL failed.
        """
        group = _text(group_id, "group id")
        data = check_record(record, "sender key record")
        params = (self.owner, group, *self._address(sender)[1:], data)
        self._write(SQL_PUT_SENDER_KEY, params, "store_sender_key")

    # -- ProtocolStore -----------------------------------------------------

    def transaction(self) -> PgTransaction:
        """A nestable transaction holding the owner's lock; see :mod:`axolotl.store.postgres`.

        Semantics as :meth:`axolotl.store.base.ProtocolStore.transaction`.

        Raises:
            LockTimeout: another worker held the owner's lock longer than
                ``lock_timeout_ms``; nothing was written.
            StorageError: PostgreSQL could not begin, commit or roll back.
        """
        return self._transaction

    def close(self) -> None:
        """Release the store: an open transaction is rolled back, an owned connection closed.

        A connection or pool the caller passed stays open.
        """
        if self._transaction.closed:
            return
        self._transaction.close()
        self._source.close()

    def __repr__(self) -> str:
        return f"PostgresStore(owner={self.owner!r})"
