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
:data:`axolotl.store.migrations.MIGRATIONS`; opening a database applies the missing ones in one
transaction. To change the schema, append a ``Migration`` there with the next
version number; never edit one that has shipped.

Opening a connection and the transaction context manager are in
:mod:`axolotl.store._sqlite_connection`. The retry layer's records
(:class:`~axolotl.store.base.RetryStore`) are implemented in
:mod:`axolotl.store._sqlite_retry`, mixed into :class:`SQLiteStore`; they
share its connection and transactions.

Every :class:`sqlite3.Error` becomes a :class:`~axolotl.errors.StorageError`
naming the operation. Not thread-safe: one store per thread.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from types import TracebackType
from typing import Any, Final, Literal, TypeVar

from axolotl.address import ProtocolAddress
from axolotl.crypto.curve import PublicKey
from axolotl.errors import (
    AxolotlError,
    InvalidKeyId,
    StorageError,
    UsageError,
)
from axolotl.keys import (
    MAX_KEY_ID,
    IdentityKeyPair,
    PreKeyRecord,
    SignedPreKeyRecord,
    generate_identity_key_pair,
    generate_registration_id,
)
from axolotl.rng import Rng, default_rng
from axolotl.store._sqlite_connection import SQLiteTransaction, StrPath, connect
from axolotl.store._sqlite_retry import SQLiteRetryRecords
from axolotl.store.base import advance_pre_key_counter
from axolotl.store.migrations import (
    DB_ERRORS,
    MIGRATIONS,
    migrate,
    storage_error,
)

__all__ = ["SQLiteStore"]

# -- prepared SQL ----------------------------------------------------------

_SQL_GET_LOCAL = "SELECT identity_key_pair, registration_id FROM local_identity WHERE id = 1"
_SQL_SET_LOCAL = (
    "INSERT INTO local_identity (id, identity_key_pair, registration_id) VALUES (1, ?, ?)"
)
_SQL_GET_IDENTITY = "SELECT public_key FROM identities WHERE name = ? AND device_id = ?"
_SQL_PUT_IDENTITY = (
    "INSERT INTO identities (name, device_id, public_key) VALUES (?, ?, ?) "
    "ON CONFLICT (name, device_id) DO UPDATE SET public_key = excluded.public_key"
)
_SQL_GET_PRE_KEY = "SELECT record FROM pre_keys WHERE id = ?"
_SQL_PUT_PRE_KEY = (
    "INSERT INTO pre_keys (id, record) VALUES (?, ?) "
    "ON CONFLICT (id) DO UPDATE SET record = excluded.record"
)
_SQL_HAS_PRE_KEY = "SELECT 1 FROM pre_keys WHERE id = ?"
_SQL_DEL_PRE_KEY = "DELETE FROM pre_keys WHERE id = ?"
_SQL_GET_COUNTER = "SELECT value FROM key_counters WHERE name = ?"
_SQL_PUT_COUNTER = (
    "INSERT INTO key_counters (name, value) VALUES (?, ?) "
    "ON CONFLICT (name) DO UPDATE SET value = excluded.value"
)
_SQL_GET_SIGNED = "SELECT record FROM signed_pre_keys WHERE id = ?"
_SQL_ALL_SIGNED = "SELECT id, record FROM signed_pre_keys ORDER BY id"
_SQL_PUT_SIGNED = (
    "INSERT INTO signed_pre_keys (id, record) VALUES (?, ?) "
    "ON CONFLICT (id) DO UPDATE SET record = excluded.record"
)
_SQL_HAS_SIGNED = "SELECT 1 FROM signed_pre_keys WHERE id = ?"
_SQL_DEL_SIGNED = "DELETE FROM signed_pre_keys WHERE id = ?"
_SQL_GET_SESSION = "SELECT record FROM sessions WHERE name = ? AND device_id = ?"
_SQL_PUT_SESSION = (
    "INSERT INTO sessions (name, device_id, record) VALUES (?, ?, ?) "
    "ON CONFLICT (name, device_id) DO UPDATE SET record = excluded.record"
)
_SQL_HAS_SESSION = "SELECT 1 FROM sessions WHERE name = ? AND device_id = ?"
_SQL_DEL_SESSION = "DELETE FROM sessions WHERE name = ? AND device_id = ?"
_SQL_DEL_SESSIONS = "DELETE FROM sessions WHERE name = ?"
_SQL_SUB_DEVICES = "SELECT device_id FROM sessions WHERE name = ? ORDER BY device_id"
_SQL_GET_SENDER_KEY = (
    "SELECT record FROM sender_keys WHERE group_id = ? AND sender_name = ? AND sender_device_id = ?"
)
_SQL_PUT_SENDER_KEY = (
    "INSERT INTO sender_keys (group_id, sender_name, sender_device_id, record) "
    "VALUES (?, ?, ?, ?) "
    "ON CONFLICT (group_id, sender_name, sender_device_id) DO UPDATE SET record = excluded.record"
)
_SQL_DEL_SENDER_KEY = (
    "DELETE FROM sender_keys WHERE group_id = ? AND sender_name = ? AND sender_device_id = ?"
)

_NEXT_PRE_KEY_ID: Final = "next_pre_key_id"


def _key_id_ok(key_id: int) -> bool:
    return isinstance(key_id, int) and 0 <= key_id <= MAX_KEY_ID


def _record_bytes(record: bytes, what: str) -> bytes:
    if not isinstance(record, (bytes, bytearray, memoryview)):
        raise UsageError(f"{what} must be bytes, got {type(record).__name__}")
    return bytes(record)


class SQLiteStore(SQLiteRetryRecords):
    """A :class:`~axolotl.store.base.ProtocolStore` in an SQLite database file.

    Build it with :meth:`create`, :meth:`open` or :meth:`open_or_create`, not
    the constructor. Usable as a context manager that closes it.

    Attributes:
        path: the database path.
        journal_mode: the journal mode SQLite accepted (``"wal"`` for files).
    """

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
        # The local identity never changes once provisioned, so it is read once.
        self._identity_key_pair = identity_key_pair
        self._registration_id = registration_id
        self._depth = 0
        self._transaction = SQLiteTransaction(self)

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
        if not isinstance(registration_id, int) or not 0 <= registration_id <= 0xFFFFFFFF:
            raise UsageError(f"registration id {registration_id!r} does not fit 4 bytes")
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
                conn.execute("BEGIN IMMEDIATE")
                try:
                    row = conn.execute(_SQL_GET_LOCAL).fetchone()
                    if row is None:
                        identity, registration_id = make()
                        conn.execute(_SQL_SET_LOCAL, (identity.serialize(), registration_id))
                    conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
            except DB_ERRORS as exc:
                raise storage_error("provision local identity", exc) from exc
            if row is not None:
                identity = _decode_identity(row[0], where)
                registration_id = int(row[1])
                if must_match:
                    wanted, wanted_id = make()
                    if identity != wanted or registration_id != wanted_id:
                        raise StorageError(
                            f"sqlite store: {where!r} is already provisioned with a different "
                            "identity key pair or registration id; open it with "
                            "SQLiteStore.open() or use another file"
                        )
        except BaseException:
            conn.close()
            raise
        return cls(conn, where, journal_mode, identity, registration_id)

    # -- internals ---------------------------------------------------------

    def _one(self, sql: str, params: tuple[Any, ...], operation: str) -> Any:
        try:
            return self._conn.execute(sql, params).fetchone()
        except DB_ERRORS as exc:
            raise storage_error(operation, exc) from exc

    def _all(self, sql: str, params: tuple[Any, ...], operation: str) -> list[Any]:
        try:
            return self._conn.execute(sql, params).fetchall()
        except DB_ERRORS as exc:
            raise storage_error(operation, exc) from exc

    def _run(self, sql: str, params: tuple[Any, ...], operation: str) -> None:
        try:
            self._conn.execute(sql, params)
        except DB_ERRORS as exc:
            raise storage_error(operation, exc) from exc

    def _key_record(self, sql: str, key_id: int, operation: str, what: str) -> bytes:
        """The stored record of prekey table row ``key_id``; InvalidKeyId if there is none."""
        row = self._one(sql, (key_id,), operation) if _key_id_ok(key_id) else None
        if row is None:
            raise InvalidKeyId(f"no {what} with id {key_id}", key_id)
        data: bytes = row[0]
        return data

    def _has_key(self, sql: str, key_id: int, operation: str) -> bool:
        return _key_id_ok(key_id) and self._one(sql, (key_id,), operation) is not None

    def _remove_key(self, sql: str, key_id: int, operation: str) -> None:
        if _key_id_ok(key_id):
            self._run(sql, (key_id,), operation)

    def _rollback_quietly(self) -> None:
        try:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
        except DB_ERRORS:
            pass

    # -- IdentityKeyStore --------------------------------------------------

    def get_identity_key_pair(self) -> IdentityKeyPair:
        """Our long-term identity key pair (read once when the store was opened)."""
        return self._identity_key_pair

    def get_local_registration_id(self) -> int:
        """Our registration id."""
        return self._registration_id

    def get_identity(self, address: ProtocolAddress) -> PublicKey | None:
        """The identity key stored for ``address``, or ``None``.

        Raises:
            StorageError: SQLite failed, or the stored key is corrupt.
        """
        row = self._one(_SQL_GET_IDENTITY, (address.name, address.device_id), "get_identity")
        if row is None:
            return None
        return _decode(PublicKey.deserialize, row[0], f"stored identity of {address}")

    def save_identity(self, address: ProtocolAddress, identity_key: PublicKey) -> bool:
        """Store ``identity_key``; ``True`` if it replaced a different key.

        Raises:
            StorageError: SQLite failed.
        """
        key = (address.name, address.device_id)
        data = identity_key.serialize()
        with self._transaction:
            row = self._one(_SQL_GET_IDENTITY, key, "save_identity")
            if row is not None and row[0] == data:
                return False
            self._run(_SQL_PUT_IDENTITY, (*key, data), "save_identity")
        return row is not None

    # -- PreKeyStore -------------------------------------------------------

    def load_pre_key(self, pre_key_id: int) -> PreKeyRecord:
        """The prekey with this id.

        Raises:
            InvalidKeyId: no such prekey.
            StorageError: SQLite failed, or the stored record is corrupt.
        """
        data = self._key_record(_SQL_GET_PRE_KEY, pre_key_id, "load_pre_key", "prekey")
        return _decode(PreKeyRecord.deserialize, data, f"stored prekey {pre_key_id}")

    def store_pre_key(self, record: PreKeyRecord) -> None:
        """Store ``record`` and advance the next-prekey-id counter.

        Raises:
            StorageError: SQLite failed; nothing was stored.
        """
        data = record.serialize()
        with self._transaction:
            self._run(_SQL_PUT_PRE_KEY, (record.id, data), "store_pre_key")
            row = self._one(_SQL_GET_COUNTER, (_NEXT_PRE_KEY_ID,), "store_pre_key")
            current = None if row is None else int(row[0])
            following = advance_pre_key_counter(current, record.id)
            if following is not None and following != current:
                self._run(_SQL_PUT_COUNTER, (_NEXT_PRE_KEY_ID, following), "store_pre_key")

    def contains_pre_key(self, pre_key_id: int) -> bool:
        """Whether a prekey with this id is stored.

        Raises:
            StorageError: SQLite failed.
        """
        return self._has_key(_SQL_HAS_PRE_KEY, pre_key_id, "contains_pre_key")

    def remove_pre_key(self, pre_key_id: int) -> None:
        """Remove the prekey (no error if absent).

        Raises:
            StorageError: SQLite failed.
        """
        self._remove_key(_SQL_DEL_PRE_KEY, pre_key_id, "remove_pre_key")

    def next_pre_key_id(self) -> int:
        """1 + the highest prekey id ever stored, wrapping within 1..0xFFFFFE.

        Raises:
            StorageError: SQLite failed.
        """
        row = self._one(_SQL_GET_COUNTER, (_NEXT_PRE_KEY_ID,), "next_pre_key_id")
        return 1 if row is None else int(row[0])

    # -- SignedPreKeyStore -------------------------------------------------

    def load_signed_pre_key(self, signed_pre_key_id: int) -> SignedPreKeyRecord:
        """The signed prekey with this id.

        Raises:
            InvalidKeyId: no such signed prekey.
            StorageError: SQLite failed, or the stored record is corrupt.
        """
        data = self._key_record(
            _SQL_GET_SIGNED, signed_pre_key_id, "load_signed_pre_key", "signed prekey"
        )
        return _decode_signed(signed_pre_key_id, data)

    def load_signed_pre_keys(self) -> list[SignedPreKeyRecord]:
        """Every stored signed prekey, sorted by id.

        Raises:
            StorageError: SQLite failed, or a stored record is corrupt.
        """
        rows = self._all(_SQL_ALL_SIGNED, (), "load_signed_pre_keys")
        return [_decode_signed(key_id, data) for key_id, data in rows]

    def store_signed_pre_key(self, record: SignedPreKeyRecord) -> None:
        """Store (or replace) ``record``.

        Raises:
            StorageError: SQLite failed.
        """
        self._run(_SQL_PUT_SIGNED, (record.id, record.serialize()), "store_signed_pre_key")

    def contains_signed_pre_key(self, signed_pre_key_id: int) -> bool:
        """Whether a signed prekey with this id is stored.

        Raises:
            StorageError: SQLite failed.
        """
        return self._has_key(_SQL_HAS_SIGNED, signed_pre_key_id, "contains_signed_pre_key")

    def remove_signed_pre_key(self, signed_pre_key_id: int) -> None:
        """Remove the signed prekey (no error if absent).

        Raises:
            StorageError: SQLite failed.
        """
        self._remove_key(_SQL_DEL_SIGNED, signed_pre_key_id, "remove_signed_pre_key")

    # -- SessionStore ------------------------------------------------------

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
        data = _record_bytes(record, "session")
        try:
            self._conn.execute(_SQL_PUT_SESSION, (address.name, address.device_id, data))
        except DB_ERRORS as exc:
            raise storage_error("store_session", exc) from exc

    def contains_session(self, address: ProtocolAddress) -> bool:
        """Whether a session record exists for ``address``.

        Raises:
            StorageError: SQLite failed.
        """
        key = (address.name, address.device_id)
        return self._one(_SQL_HAS_SESSION, key, "contains_session") is not None

    def delete_session(self, address: ProtocolAddress) -> None:
        """Delete the session record for ``address`` (no error if absent).

        Raises:
            StorageError: SQLite failed.
        """
        self._run(_SQL_DEL_SESSION, (address.name, address.device_id), "delete_session")

    def delete_all_sessions(self, name: str) -> None:
        """Delete the session records of every device of ``name``.

        Raises:
            StorageError: SQLite failed.
        """
        self._run(_SQL_DEL_SESSIONS, (name,), "delete_all_sessions")

    def get_sub_device_sessions(self, name: str) -> list[int]:
        """Device ids of ``name`` with a session, sorted.

        Raises:
            StorageError: SQLite failed.
        """
        return [int(r[0]) for r in self._all(_SQL_SUB_DEVICES, (name,), "get_sub_device_sessions")]

    # -- SenderKeyStore ----------------------------------------------------

    def load_sender_key(self, group_id: str, sender: ProtocolAddress) -> bytes | None:
        """The sender-key record of ``sender`` in ``group_id``, or ``None``.

        Raises:
            StorageError: SQLite failed.
        """
        row = self._one(
            _SQL_GET_SENDER_KEY, (group_id, sender.name, sender.device_id), "load_sender_key"
        )
        return None if row is None else bytes(row[0])

    def store_sender_key(self, group_id: str, sender: ProtocolAddress, record: bytes) -> None:
        """Store (or replace) the sender-key record of ``sender`` in ``group_id``.

        Raises:
            StorageError: SQLite failed.
        """
        if not isinstance(group_id, str):
            raise UsageError(f"group id must be a str, got {type(group_id).__name__}")
        data = _record_bytes(record, "sender key record")
        self._run(
            _SQL_PUT_SENDER_KEY,
            (group_id, sender.name, sender.device_id, data),
            "store_sender_key",
        )

    def delete_sender_key(self, group_id: str, sender: ProtocolAddress) -> None:
        """Delete the sender-key record of ``sender`` in ``group_id`` (no error if absent).

        Raises:
            UsageError: ``group_id`` is not a str.
            StorageError: SQLite failed.
        """
        if not isinstance(group_id, str):
            raise UsageError(f"group id must be a str, got {type(group_id).__name__}")
        self._run(
            _SQL_DEL_SENDER_KEY, (group_id, sender.name, sender.device_id), "delete_sender_key"
        )

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
        self._rollback_quietly()
        try:
            self._conn.close()
        except DB_ERRORS as exc:
            raise storage_error("close", exc) from exc

    def __enter__(self) -> SQLiteStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SQLiteStore({self.path!r})"


def _check_synchronous(synchronous: str) -> None:
    if synchronous not in ("FULL", "NORMAL"):
        raise UsageError(f"synchronous must be 'FULL' or 'NORMAL', got {synchronous!r}")


_T = TypeVar("_T")


def _decode(deserialize: Callable[[bytes], _T], data: bytes, what: str) -> _T:
    """Read a stored value; a corrupt one is a StorageError naming ``what``."""
    try:
        return deserialize(data)
    except AxolotlError as exc:
        raise StorageError(f"sqlite store: {what} is corrupt: {exc}") from None


def _decode_identity(data: bytes, where: str) -> IdentityKeyPair:
    return _decode(IdentityKeyPair.deserialize, data, f"local identity in {where!r}")


def _decode_signed(key_id: int, data: bytes) -> SignedPreKeyRecord:
    return _decode(SignedPreKeyRecord.deserialize, data, f"stored signed prekey {key_id}")
