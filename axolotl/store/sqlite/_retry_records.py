"""The :class:`~axolotl.store.base.RetryStore` half of the SQLite store.

A mixin of :class:`~axolotl.store.sqlite.SQLiteStore`, kept apart so the
store module stays readable; it runs on the store's connection and on the
``_read`` of its driver (:mod:`axolotl.store._sql_store`). Records live in
the ``retry_records`` table of schema version 2
(:mod:`axolotl.store.sqlite.migrations`): primary key ``(kind, key)``, ``WITHOUT
ROWID``, and an index on ``(kind, due_ms, key)`` that every ordered query
walks, so due, next-due and eviction queries read only the rows they return.
A per-kind row count is kept by triggers in ``retry_record_counts``, so
counting and bounding a kind cost one lookup.

Every statement is a single one, so each method is atomic on its own, and
inside :meth:`SQLiteStore.transaction` it joins the surrounding transaction.
"""

from __future__ import annotations

import sqlite3
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
from axolotl.store.sqlite._connection import DB_ERRORS, storage_error

__all__ = ["SQLiteRetryRecords"]

_SQL_GET_RECORD = "SELECT value FROM retry_records WHERE kind = ? AND key = ?"
_SQL_PUT_RECORD = (
    "INSERT INTO retry_records (kind, key, value, due_ms) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (kind, key) DO UPDATE SET value = excluded.value, due_ms = excluded.due_ms"
)
_SQL_DEL_RECORD = "DELETE FROM retry_records WHERE kind = ? AND key = ?"
_SQL_DUE_RECORDS = (
    "SELECT key, value, due_ms FROM retry_records "
    "WHERE kind = ? AND due_ms IS NOT NULL AND due_ms <= ? "
    "ORDER BY due_ms, key LIMIT ?"
)
_SQL_RECORDS = (
    "SELECT key, value, due_ms FROM retry_records WHERE kind = ? "
    "ORDER BY due_ms IS NULL, due_ms, key LIMIT ?"
)
_SQL_NEXT_DUE = (
    "SELECT due_ms FROM retry_records WHERE kind = ? AND due_ms IS NOT NULL ORDER BY due_ms LIMIT 1"
)
_NEXT_DUE_SQL: dict[int, str] = {}


_GET_RECORDS_SQL: dict[int, str] = {}


def _get_records_sql(kinds: int) -> str:
    """One statement for a key's records in ``kinds`` kinds (cached by count)."""
    sql = _GET_RECORDS_SQL.get(kinds)
    if sql is None:
        marks = ", ".join("?" * kinds)
        sql = _GET_RECORDS_SQL[kinds] = (
            f"SELECT kind, value FROM retry_records WHERE key = ? AND kind IN ({marks})"
        )
    return sql


def _next_due_sql(kinds: int) -> str:
    """One statement for the earliest due time over ``kinds`` kinds (cached by count)."""
    sql = _NEXT_DUE_SQL.get(kinds)
    if sql is None:
        seeks = " UNION ALL ".join(f"SELECT ({_SQL_NEXT_DUE}) AS d" for _ in range(kinds))
        sql = _NEXT_DUE_SQL[kinds] = f"SELECT min(d) FROM ({seeks})"
    return sql


_SQL_COUNT_RECORDS = "SELECT n FROM retry_record_counts WHERE kind = ?"
# One statement: the victims are the earliest-due rows beyond ``keep``; rows
# without a due time are never among them. The count comes from the
# trigger-kept retry_record_counts (a scan of the kind would cost ~20 ns a
# row). max(..., 0) because a negative LIMIT means "no limit" to SQLite.
_SQL_EVICT_RECORDS = (
    "DELETE FROM retry_records WHERE kind = ?1 AND key IN ("
    "SELECT key FROM retry_records WHERE kind = ?1 AND due_ms IS NOT NULL "
    "ORDER BY due_ms, key "
    "LIMIT max(coalesce((SELECT n FROM retry_record_counts WHERE kind = ?1), 0) - ?2, 0))"
)


class SQLiteRetryRecords(SQLStore):
    """The retry-record methods of :class:`~axolotl.store.sqlite.SQLiteStore`."""

    _conn: sqlite3.Connection

    def get_record(self, kind: str, key: str) -> bytes | None:
        """The value stored under (``kind``, ``key``), or ``None`` (one indexed SELECT).

        Raises:
            UsageError: ``kind`` or ``key`` is not a non-empty str.
            StorageError: SQLite failed.
        """
        params = (check_kind(kind), check_key(key))
        try:
            row = self._conn.execute(_SQL_GET_RECORD, params).fetchone()
        except DB_ERRORS as exc:
            raise storage_error(f"get_record({params[0]!r})", exc) from exc
        return None if row is None else bytes(row[0])

    def put_record(self, kind: str, key: str, value: bytes, due_ms: int | None = None) -> None:
        """Store (or replace) a record, value and ``due_ms`` both (one UPSERT).

        Raises:
            UsageError: a bad argument (see :class:`~axolotl.store.base.RetryStore`).
            StorageError: SQLite failed.
        """
        params = (check_kind(kind), check_key(key), check_value(value), check_due_ms(due_ms))
        try:
            self._conn.execute(_SQL_PUT_RECORD, params)
        except DB_ERRORS as exc:
            raise storage_error(f"put_record({params[0]!r})", exc) from exc

    def delete_record(self, kind: str, key: str) -> None:
        """Delete a record (no error if it is absent).

        Raises:
            UsageError: ``kind`` or ``key`` is not a non-empty str.
            StorageError: SQLite failed.
        """
        params = (check_kind(kind), check_key(key))
        try:
            self._conn.execute(_SQL_DEL_RECORD, params)
        except DB_ERRORS as exc:
            raise storage_error(f"delete_record({params[0]!r})", exc) from exc

    def due_records(self, kind: str, now_ms: int, limit: int) -> list[tuple[str, bytes, int]]:
        """Up to ``limit`` records of ``kind`` due at ``now_ms``, by ``(due_ms, key)``.

        Raises:
            UsageError: a bad argument.
            StorageError: SQLite failed.
        """
        kind = check_kind(kind)
        now_ms = check_now_ms(now_ms)
        limit = check_limit(limit)
        if now_ms < INT64_MIN:
            return []  # before every due time SQLite can hold
        # Past the INTEGER range every stored due time has come.
        params = (kind, min(now_ms, INT64_MAX), min(limit, INT64_MAX))
        rows = self._read(_SQL_DUE_RECORDS, params, f"due_records({kind!r})")
        return [(str(key), bytes(value), int(due)) for key, value, due in rows]

    def records(self, kind: str, limit: int | None = None) -> list[tuple[str, bytes, int | None]]:
        """Every record of ``kind`` (or the first ``limit``), by ``(due_ms, key)``, undue last.

        Raises:
            UsageError: a bad argument.
            StorageError: SQLite failed.
        """
        kind = check_kind(kind)
        bound = -1 if limit is None else min(check_limit(limit), INT64_MAX)
        rows = self._read(_SQL_RECORDS, (kind, bound), f"records({kind!r})")
        return [
            (str(key), bytes(value), None if due is None else int(due)) for key, value, due in rows
        ]

    def next_due_ms(self, kinds: Sequence[str]) -> int | None:
        """The smallest ``due_ms`` over the records of ``kinds``, or ``None``.

        One statement: an indexed seek per kind, the smallest of them.

        Raises:
            UsageError: a bad kind, or ``kinds`` is a bare str.
            StorageError: SQLite failed.
        """
        checked = check_kinds(kinds)
        if not checked:
            return None
        rows = self._read(_next_due_sql(len(checked)), tuple(checked), "next_due_ms")
        return None if not rows or rows[0][0] is None else int(rows[0][0])

    def get_records(self, kinds: Sequence[str], key: str) -> dict[str, bytes]:
        """The values stored under ``key`` in each of ``kinds`` that has one (one SELECT).

        Raises:
            UsageError: a bad kind or key, or ``kinds`` is a bare str.
            StorageError: SQLite failed.
        """
        checked = check_kinds(kinds)
        key = check_key(key)
        if not checked:
            return {}
        rows = self._read(_get_records_sql(len(checked)), (key, *checked), "get_records")
        return {str(kind): bytes(value) for kind, value in rows}

    def count_records(self, kind: str) -> int:
        """How many records of ``kind`` are stored.

        Raises:
            UsageError: ``kind`` is not a non-empty str.
            StorageError: SQLite failed.
        """
        kind = check_kind(kind)
        rows = self._read(_SQL_COUNT_RECORDS, (kind,), f"count_records({kind!r})")
        return int(rows[0][0]) if rows else 0

    def evict_records(self, kind: str, keep: int) -> int:
        """Delete the earliest-due records of ``kind`` until at most ``keep`` remain.

        Records without ``due_ms`` are never deleted. One DELETE statement.

        Returns:
            How many records were deleted.

        Raises:
            UsageError: a bad argument.
            StorageError: SQLite failed.
        """
        kind = check_kind(kind)
        keep = min(check_limit(keep, "keep"), INT64_MAX)
        try:
            cursor = self._conn.execute(_SQL_EVICT_RECORDS, (kind, keep))
        except DB_ERRORS as exc:
            raise storage_error(f"evict_records({kind!r})", exc) from exc
        return int(cursor.rowcount)
