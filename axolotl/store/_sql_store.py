"""The logic the SQL stores share: :class:`SQLStore`, over a small driver interface.

:class:`~axolotl.store.sqlite.SQLiteStore` and
:class:`~axolotl.store.postgres.PostgresStore` keep the same rows and differ in
how they reach them: the SQL dialect and tables (a PostgreSQL row is keyed by
its owner first), the connection, the transactions and the error mapping.
:class:`SQLStore` holds, once, the methods that are the same but for that
plumbing: the identity, prekey, signed-prekey and session methods and the
sender-key delete. Each store provides the driver they run on:

* ``_read(sql, params, operation)``: the rows of one statement, and
  ``_write(sql, params, operation)``: run one writing statement and return its
  row count; both raise a :class:`~axolotl.errors.StorageError` naming
  ``operation`` when the database fails;
* ``_sql``: its :class:`Statements`, and ``_scope``: the parameters every
  statement starts with (``()`` for SQLite, ``(owner,)`` for PostgreSQL);
* ``_address``, ``_account``, ``_sender_key``: the parameters naming a remote
  device, an account and a sender key, checked as the backend needs;
* :meth:`SQLStore.transaction` and :meth:`SQLStore.close`.

What is left out on purpose: loading and storing sessions and sender keys
stay written out in each store, and the retry records in each store's mixin
(:mod:`axolotl.store.sqlite._retry_records`, :mod:`axolotl.store.postgres._retry_records`, which
build on the same driver). They run at least once per message, a shared body
would cost each call a layer, and the retry records differ where it matters
(PostgreSQL keeps kinds and keys as UTF-8 ``BYTEA`` and counts rows itself).
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, ClassVar, Final, TypeVar

from axolotl.address import ProtocolAddress
from axolotl.crypto.curve import PublicKey
from axolotl.errors import InvalidKeyId
from axolotl.keys import MAX_KEY_ID, IdentityKeyPair, PreKeyRecord, SignedPreKeyRecord
from axolotl.store._checks import decode
from axolotl.store.base import advance_pre_key_counter

__all__ = ["NEXT_PRE_KEY_ID", "SQLStore", "Statements"]

NEXT_PRE_KEY_ID: Final = "next_pre_key_id"
"""The ``key_counters`` row of the next-prekey-id counter (databases hold it: never rename)."""

_S = TypeVar("_S", bound="SQLStore")


@dataclass(frozen=True, slots=True, kw_only=True)
class Statements:
    """One backend's SQL for :class:`SQLStore`: its tables and placeholders.

    Every statement takes the store's ``_scope`` first, then the parameters
    named in its field's comment.
    """

    get_identity: str  # name, device id -> public_key
    put_identity: str  # name, device id, public key
    get_pre_key: str  # id -> record
    put_pre_key: str  # id, record
    has_pre_key: str  # id -> a row if stored
    del_pre_key: str  # id
    get_counter: str  # counter name -> value
    put_counter: str  # counter name, value
    get_signed: str  # id -> record
    all_signed: str  # -> (id, record) rows ordered by id
    put_signed: str  # id, record
    has_signed: str  # id -> a row if stored
    del_signed: str  # id
    has_session: str  # name, device id -> a row if stored
    del_session: str  # name, device id
    del_sessions: str  # name
    sub_devices: str  # name -> device ids in order
    del_sender_key: str  # group id, sender name, sender device id


def _key_id_ok(key_id: int) -> bool:
    # Ids outside the column's range are absent, not a database error.
    return isinstance(key_id, int) and 0 <= key_id <= MAX_KEY_ID


class SQLStore:
    """The methods the SQL stores share; see :mod:`axolotl.store._sql_store`."""

    _sql: ClassVar[Statements]
    _store_name: ClassVar[str]  # "sqlite" or "postgres", for messages
    _scope: tuple[Any, ...]
    # The local identity never changes once provisioned, so it is read once.
    _identity_key_pair: IdentityKeyPair
    _registration_id: int

    # -- the driver (each store provides it) ---------------------------------

    def _read(self, sql: str, params: Any, operation: str) -> list[tuple[Any, ...]]:
        raise NotImplementedError  # provided by the store

    def _write(self, sql: str, params: Any, operation: str) -> int:
        raise NotImplementedError  # provided by the store

    def _address(self, address: ProtocolAddress) -> tuple[Any, ...]:
        raise NotImplementedError  # provided by the store

    def _account(self, name: str) -> tuple[Any, ...]:
        raise NotImplementedError  # provided by the store

    def _sender_key(self, group_id: str, sender: ProtocolAddress) -> tuple[Any, ...]:
        raise NotImplementedError  # provided by the store

    def transaction(self) -> AbstractContextManager[None]:
        """A nestable transaction; see :meth:`axolotl.store.base.ProtocolStore.transaction`."""
        raise NotImplementedError  # provided by the store

    def close(self) -> None:
        """Release the database connection; the store is unusable after."""
        raise NotImplementedError  # provided by the store

    # -- prekey tables --------------------------------------------------------

    def _key_record(self, sql: str, key_id: int, operation: str, what: str) -> bytes:
        """The stored record of prekey table row ``key_id``; InvalidKeyId if there is none."""
        rows = self._read(sql, (*self._scope, key_id), operation) if _key_id_ok(key_id) else []
        if not rows:
            raise InvalidKeyId(f"no {what} with id {key_id}", key_id)
        data: bytes = rows[0][0]
        return data

    def _has_key(self, sql: str, key_id: int, operation: str) -> bool:
        return _key_id_ok(key_id) and bool(self._read(sql, (*self._scope, key_id), operation))

    def _remove_key(self, sql: str, key_id: int, operation: str) -> None:
        if _key_id_ok(key_id):
            self._write(sql, (*self._scope, key_id), operation)

    def _decode_signed(self, key_id: int, data: bytes) -> SignedPreKeyRecord:
        return decode(
            self._store_name,
            SignedPreKeyRecord.deserialize,
            data,
            f"stored signed prekey {key_id}",
        )

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
            StorageError: the database failed, or the stored key is corrupt.
        """
        rows = self._read(self._sql.get_identity, self._address(address), "get_identity")
        if not rows:
            return None
        return decode(
            self._store_name, PublicKey.deserialize, rows[0][0], f"stored identity of {address}"
        )

    def save_identity(self, address: ProtocolAddress, identity_key: PublicKey) -> bool:
        """Store ``identity_key``; ``True`` if it replaced a different key.

        Raises:
            StorageError: the database failed.
        """
        key = self._address(address)
        data = identity_key.serialize()
        with self.transaction():
            rows = self._read(self._sql.get_identity, key, "save_identity")
            if rows and rows[0][0] == data:
                return False
            self._write(self._sql.put_identity, (*key, data), "save_identity")
        return bool(rows)

    # -- PreKeyStore -------------------------------------------------------

    def load_pre_key(self, pre_key_id: int) -> PreKeyRecord:
        """The prekey with this id.

        Raises:
            InvalidKeyId: no such prekey.
            StorageError: the database failed, or the stored record is corrupt.
        """
        data = self._key_record(self._sql.get_pre_key, pre_key_id, "load_pre_key", "prekey")
        return decode(
            self._store_name, PreKeyRecord.deserialize, data, f"stored prekey {pre_key_id}"
        )

    def store_pre_key(self, record: PreKeyRecord) -> None:
        """Store ``record`` and advance the next-prekey-id counter, in one transaction.

        Raises:
            StorageError: the database failed; nothing was stored.
        """
        sql, scope = self._sql, self._scope
        data = record.serialize()
        with self.transaction():
            self._write(sql.put_pre_key, (*scope, record.id, data), "store_pre_key")
            rows = self._read(sql.get_counter, (*scope, NEXT_PRE_KEY_ID), "store_pre_key")
            current = int(rows[0][0]) if rows else None
            following = advance_pre_key_counter(current, record.id)
            if following is not None and following != current:
                self._write(sql.put_counter, (*scope, NEXT_PRE_KEY_ID, following), "store_pre_key")

    def contains_pre_key(self, pre_key_id: int) -> bool:
        """Whether a prekey with this id is stored.

        Raises:
            StorageError: the database failed.
        """
        return self._has_key(self._sql.has_pre_key, pre_key_id, "contains_pre_key")

    def remove_pre_key(self, pre_key_id: int) -> None:
        """Remove the prekey (no error if absent); :meth:`next_pre_key_id` stays.

        Raises:
            StorageError: the database failed.
        """
        self._remove_key(self._sql.del_pre_key, pre_key_id, "remove_pre_key")

    def next_pre_key_id(self) -> int:
        """1 + the highest prekey id ever stored, wrapping within 1..0xFFFFFE.

        Raises:
            StorageError: the database failed.
        """
        params = (*self._scope, NEXT_PRE_KEY_ID)
        rows = self._read(self._sql.get_counter, params, "next_pre_key_id")
        return int(rows[0][0]) if rows else 1

    # -- SignedPreKeyStore -------------------------------------------------

    def load_signed_pre_key(self, signed_pre_key_id: int) -> SignedPreKeyRecord:
        """The signed prekey with this id.

        Raises:
            InvalidKeyId: no such signed prekey.
            StorageError: the database failed, or the stored record is corrupt.
        """
        data = self._key_record(
            self._sql.get_signed, signed_pre_key_id, "load_signed_pre_key", "signed prekey"
        )
        return self._decode_signed(signed_pre_key_id, data)

    def load_signed_pre_keys(self) -> list[SignedPreKeyRecord]:
        """Every stored signed prekey, sorted by id.

        Raises:
            StorageError: the database failed, or a stored record is corrupt.
        """
        rows = self._read(self._sql.all_signed, self._scope, "load_signed_pre_keys")
        return [self._decode_signed(key_id, data) for key_id, data in rows]

    def store_signed_pre_key(self, record: SignedPreKeyRecord) -> None:
        """Store (or replace) ``record``.

        Raises:
            StorageError: the database failed.
        """
        params = (*self._scope, record.id, record.serialize())
        self._write(self._sql.put_signed, params, "store_signed_pre_key")

    def contains_signed_pre_key(self, signed_pre_key_id: int) -> bool:
        """Whether a signed prekey with this id is stored.

        Raises:
            StorageError: the database failed.
        """
        return self._has_key(self._sql.has_signed, signed_pre_key_id, "contains_signed_pre_key")

    def remove_signed_pre_key(self, signed_pre_key_id: int) -> None:
        """Remove the signed prekey (no error if absent).

        Raises:
            StorageError: the database failed.
        """
        self._remove_key(self._sql.del_signed, signed_pre_key_id, "remove_signed_pre_key")

    # -- SessionStore (loading and storing are the stores' own) ---------------

    def contains_session(self, address: ProtocolAddress) -> bool:
        """Whether a session record exists for ``address``.

        Raises:
            StorageError: the database failed.
        """
        return bool(self._read(self._sql.has_session, self._address(address), "contains_session"))

    def delete_session(self, address: ProtocolAddress) -> None:
        """Delete the session record for ``address`` (no error if absent).

        Raises:
            StorageError: the database failed.
        """
        self._write(self._sql.del_session, self._address(address), "delete_session")

    def delete_all_sessions(self, name: str) -> None:
        """Delete the session records of every device of ``name``.

        Raises:
            StorageError: the database failed.
        """
        self._write(self._sql.del_sessions, self._account(name), "delete_all_sessions")

    def get_sub_device_sessions(self, name: str) -> list[int]:
        """Device ids of ``name`` with a session, sorted.

        Raises:
            StorageError: the database failed.
        """
        rows = self._read(self._sql.sub_devices, self._account(name), "get_sub_device_sessions")
        return [int(r[0]) for r in rows]

    # -- SenderKeyStore (loading and storing are the stores' own) -------------

    def delete_sender_key(self, group_id: str, sender: ProtocolAddress) -> None:
        """Delete the sender-key record of ``sender`` in ``group_id`` (no error if absent).

        Raises:
            UsageError: ``group_id`` is not a str.
            StorageError: the database failed.
        """
        params = self._sender_key(group_id, sender)
        self._write(self._sql.del_sender_key, params, "delete_sender_key")

    # -- context manager ---------------------------------------------------

    def __enter__(self: _S) -> _S:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
