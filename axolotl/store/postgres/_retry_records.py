"""The :class:`~axolotl.store.base.RetryStore` half of the PostgreSQL store.

A mixin of :class:`~axolotl.store.postgres.PostgresStore`: it reads through the
``_read`` of the store's driver (:mod:`axolotl.store._sql_store`) and writes
through the store's transaction (:mod:`axolotl.store.postgres._transaction`),
whose pending counts it keeps. Records live in
``axolotl_retry_records`` (primary key ``(owner, kind, key)``, index on
``(owner, kind, due_ms, key)`` that every ordered query walks); kinds and keys
are stored as UTF-8 ``BYTEA``, so they compare by code point as the protocol
asks, whatever the database's collation. A per-kind row count is kept in
``axolotl_retry_record_counts``: each write adds its inserts and deletes to the
transaction's pending counts (:mod:`axolotl.store.postgres._counts`), written
in the same round trip as ``COMMIT``.

Every method is one statement. Writes outside a transaction run as a
transaction of their own under the owner's lock (with the count written at
its ``COMMIT``); inside :meth:`PostgresStore.transaction` they join it. The
owner's lock, held by the whole logical step, is what keeps two workers from
taking the same due record: no ``FOR UPDATE`` is needed on what
:meth:`due_records` returns (see :mod:`axolotl.store.postgres`).
"""

from __future__ import annotations

from collections.abc import Sequence

from axolotl.store._checks import (
    INT64_MAX,
    INT64_MIN,
    check_due_ms,
    check_key,
    check_kind,
    check_kinds,
    check_limit,
    check_now_ms,
    check_value,
)
from axolotl.store._sql_store import SQLStore
from axolotl.store.postgres._transaction import PgTransaction

__all__ = ["PgRetryRecords"]

_T = "axolotl_retry_records"
_SQL_GET_RECORD = f"SELECT value FROM {_T} WHERE owner = %s AND kind = %s AND key = %s"
_SQL_GET_RECORDS = (
    f"SELECT kind, value FROM {_T} WHERE owner = %s AND key = %s AND kind = ANY(%s::bytea[])"
)
_SQL_PUT_RECORD = (
    f"INSERT INTO {_T} (owner, kind, key, value, due_ms) VALUES (%s, %s, %s, %s, %s) "
    "ON CONFLICT (owner, kind, key) DO UPDATE SET value = excluded.value, due_ms = excluded.due_ms "
    "RETURNING xmax = 0"  # true when the row was inserted, not updated
)
_SQL_DEL_RECORD = f"DELETE FROM {_T} WHERE owner = %s AND kind = %s AND key = %s"
_SQL_DUE_RECORDS = (
    f"SELECT key, value, due_ms FROM {_T} "
    "WHERE owner = %s AND kind = %s AND due_ms <= %s ORDER BY due_ms, key LIMIT %s"
)
# ASC order puts NULL due times last, as the protocol asks, and walks the index.
_SQL_RECORDS = (
    f"SELECT key, value, due_ms FROM {_T} WHERE owner = %s AND kind = %s "
    "ORDER BY due_ms, key LIMIT %s"
)
# One index seek per kind.
_SQL_NEXT_DUE = (
    "SELECT min(d.due_ms) FROM unnest(%s::bytea[]) AS k(kind) CROSS JOIN LATERAL ("
    f"SELECT due_ms FROM {_T} r WHERE r.owner = %s AND r.kind = k.kind "
    "AND r.due_ms IS NOT NULL ORDER BY r.due_ms LIMIT 1) d"
)
_SQL_COUNT_RECORDS = "SELECT n FROM axolotl_retry_record_counts WHERE owner = %s AND kind = %s"
# The victims are the earliest-due rows beyond ``keep``; rows without a due
# time are never among them. The count is the stored one plus this
# transaction's pending delta. Deleting by row id (a TID scan) keeps the plan
# linear whatever the table's statistics say: a join on the keys, planned
# from the statistics of a freshly filled table, became a quadratic loop.
_SQL_EVICT_RECORDS = (
    f"DELETE FROM {_T} WHERE ctid = ANY(ARRAY("
    f"SELECT ctid FROM {_T} WHERE owner = %(o)s AND kind = %(k)s AND due_ms IS NOT NULL "
    "ORDER BY due_ms, key LIMIT greatest(coalesce((SELECT n FROM axolotl_retry_record_counts "
    "WHERE owner = %(o)s AND kind = %(k)s), 0) + %(pending)s - %(keep)s, 0)))"
)


class PgRetryRecords(SQLStore):
    """The retry-record methods of :class:`~axolotl.store.postgres.PostgresStore`."""

    owner: str
    _transaction: PgTransaction

    def get_record(self, kind: str, key: str) -> bytes | None:
        """The value stored under (``kind``, ``key``), or ``None`` (one indexed SELECT).

        Raises:
            UsageError: ``kind`` or ``key`` is not a non-empty str.
            StorageError: PostgreSQL failed.
        """
        kind = check_kind(kind)
        params = (self.owner, kind.encode(), check_key(key).encode())
        rows = self._read(_SQL_GET_RECORD, params, f"get_record({kind!r})")
        return bytes(rows[0][0]) if rows else None

    def get_records(self, kinds: Sequence[str], key: str) -> dict[str, bytes]:
        """The values stored under ``key`` in each of ``kinds`` that has one (one SELECT).

        Raises:
            UsageError: a bad kind or key, or ``kinds`` is a bare str.
            StorageError: PostgreSQL failed.
        """
        encoded = [kind.encode() for kind in check_kinds(kinds)]
        key = check_key(key)
        if not encoded:
            return {}
        params = (self.owner, key.encode(), encoded)
        rows = self._read(_SQL_GET_RECORDS, params, "get_records")
        return {bytes(kind).decode(): bytes(value) for kind, value in rows}

    def put_record(self, kind: str, key: str, value: bytes, due_ms: int | None = None) -> None:
        """Store (or replace) a record, value and ``due_ms`` both (one UPSERT).

        Raises:
            UsageError: a bad argument (see :class:`~axolotl.store.base.RetryStore`).
            StorageError: PostgreSQL failed.
        """
        kind = check_kind(kind)
        encoded = kind.encode()
        params = (
            self.owner,
            encoded,
            check_key(key).encode(),
            check_value(value),
            check_due_ms(due_ms),
        )
        tx = self._transaction
        with tx.atomic():
            rows = tx.write_rows(_SQL_PUT_RECORD, params, f"put_record({kind!r})")
            if rows and rows[0][0]:
                tx.counts.add(encoded, 1)

    def delete_record(self, kind: str, key: str) -> None:
        """Delete a record (no error if it is absent).

        Raises:
            UsageError: ``kind`` or ``key`` is not a non-empty str.
            StorageError: PostgreSQL failed.
        """
        kind = check_kind(kind)
        encoded = kind.encode()
        params = (self.owner, encoded, check_key(key).encode())
        tx = self._transaction
        with tx.atomic():
            deleted = tx.write(_SQL_DEL_RECORD, params, f"delete_record({kind!r})")
            tx.counts.add(encoded, -deleted)

    def due_records(self, kind: str, now_ms: int, limit: int) -> list[tuple[str, bytes, int]]:
        """Up to ``limit`` records of ``kind`` due at ``now_ms``, by ``(due_ms, key)``.

        Raises:
            UsageError: a bad argument.
            StorageError: PostgreSQL failed.
        """
        kind = check_kind(kind)
        now_ms = check_now_ms(now_ms)
        limit = check_limit(limit)
        if now_ms < INT64_MIN:
            return []  # before every due time a BIGINT can hold
        params = (self.owner, kind.encode(), min(now_ms, INT64_MAX), min(limit, INT64_MAX))
        rows = self._read(_SQL_DUE_RECORDS, params, f"due_records({kind!r})")
        return [(bytes(key).decode(), bytes(value), int(due)) for key, value, due in rows]

    def records(self, kind: str, limit: int | None = None) -> list[tuple[str, bytes, int | None]]:
        """Every record of ``kind`` (or the first ``limit``), by ``(due_ms, key)``, undue last.

        Raises:
            UsageError: a bad argument.
            StorageError: PostgreSQL failed.
        """
        kind = check_kind(kind)
        bound = None if limit is None else min(check_limit(limit), INT64_MAX)
        rows = self._read(_SQL_RECORDS, (self.owner, kind.encode(), bound), f"records({kind!r})")
        return [
            (bytes(key).decode(), bytes(value), None if due is None else int(due))
            for key, value, due in rows
        ]

    def next_due_ms(self, kinds: Sequence[str]) -> int | None:
        """The smallest ``due_ms`` over the records of ``kinds``, or ``None``.

        Raises:
            UsageError: a bad kind, or ``kinds`` is a bare str.
            StorageError: PostgreSQL failed.
        """
        encoded = [kind.encode() for kind in check_kinds(kinds)]
        if not encoded:
            return None
        rows = self._read(_SQL_NEXT_DUE, (encoded, self.owner), "next_due_ms")
        return None if not rows or rows[0][0] is None else int(rows[0][0])

    def count_records(self, kind: str) -> int:
        """How many records of ``kind`` are stored.

        Raises:
            UsageError: ``kind`` is not a non-empty str.
            StorageError: PostgreSQL failed.
        """
        encoded = check_kind(kind).encode()
        rows = self._read(_SQL_COUNT_RECORDS, (self.owner, encoded), f"count_records({kind!r})")
        return (int(rows[0][0]) if rows else 0) + self._transaction.counts.pending(encoded)

    def evict_records(self, kind: str, keep: int) -> int:
        """Delete the earliest-due records of ``kind`` until at most ``keep`` remain.

        Records without ``due_ms`` are never deleted. One DELETE statement.

        Returns:
            How many records were deleted.

        Raises:
            UsageError: a bad argument.
            StorageError: PostgreSQL failed.
        """
        kind = check_kind(kind)
        keep = min(check_limit(keep, "keep"), INT64_MAX)
        encoded = kind.encode()
        tx = self._transaction
        with tx.atomic():
            params = {
                "o": self.owner,
                "k": encoded,
                "keep": keep,
                "pending": tx.counts.pending(encoded),
            }
            deleted = tx.write(_SQL_EVICT_RECORDS, params, f"evict_records({kind!r})")
            tx.counts.add(encoded, -deleted)
        return deleted
