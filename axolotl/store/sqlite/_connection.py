"""The SQLite store's connection: opening it with its pragmas, and transactions.

Private to :mod:`axolotl.store.sqlite` (see there for the durability choices).
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Final

from axolotl.errors import StorageError
from axolotl.store.sqlite.migrations import APPLICATION_ID, DB_ERRORS, storage_error

if TYPE_CHECKING:
    from axolotl.store.sqlite import SQLiteStore

__all__ = ["StrPath", "SQLiteTransaction", "connect"]

StrPath = str | os.PathLike[str]

_BUSY_TIMEOUT_S: Final = 5.0


def connect(path: StrPath, *, must_exist: bool, synchronous: str) -> tuple[sqlite3.Connection, str]:
    """Open ``path``, set the pragmas; return the connection and the journal mode."""
    target = os.fspath(path)
    try:
        if must_exist and target != ":memory:":
            if not os.path.exists(target):
                raise StorageError(f"sqlite store: no database at {target!r} (use create())")
            uri = Path(target).absolute().as_uri() + "?mode=rw"
            conn = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=_BUSY_TIMEOUT_S)
        else:
            conn = sqlite3.connect(target, isolation_level=None, timeout=_BUSY_TIMEOUT_S)
    except DB_ERRORS as exc:
        raise storage_error(f"open {target!r}", exc) from exc
    try:
        row = conn.execute("PRAGMA journal_mode = WAL").fetchone()
        conn.execute(f"PRAGMA synchronous = {synchronous}")
        conn.execute("PRAGMA foreign_keys = ON")
        (app_id,) = conn.execute("PRAGMA application_id").fetchone()
    except DB_ERRORS as exc:
        conn.close()
        raise storage_error(f"open {target!r}", exc) from exc
    if app_id not in (0, APPLICATION_ID):
        conn.close()
        raise StorageError(
            f"sqlite store: {target!r} is an SQLite database of another application "
            f"(application_id 0x{app_id:08x})"
        )
    return conn, str(row[0]).lower() if row else "unknown"


class SQLiteTransaction:
    """The context manager :meth:`SQLiteStore.transaction` returns (one per store).

    Depth lives in the store, so one instance serves every nesting level:
    the outermost block is ``BEGIN IMMEDIATE``/``COMMIT``, inner blocks are
    savepoints named after their depth.
    """

    __slots__ = ("_store",)

    def __init__(self, store: SQLiteStore) -> None:
        self._store = store

    def __enter__(self) -> None:
        store = self._store
        depth = store._depth
        try:
            if depth == 0:
                store._conn.execute("BEGIN IMMEDIATE")
            else:
                store._conn.execute(f"SAVEPOINT sp{depth}")
        except DB_ERRORS as exc:
            raise storage_error("begin transaction", exc) from exc
        store._depth = depth + 1

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        store = self._store
        store._depth -= 1
        depth = store._depth
        conn = store._conn
        if exc_type is None:
            try:
                if depth == 0:
                    conn.execute("COMMIT")
                else:
                    conn.execute(f"RELEASE sp{depth}")
            except DB_ERRORS as commit_exc:
                if depth == 0:
                    store._rollback_quietly()
                raise storage_error("commit transaction", commit_exc) from commit_exc
            return
        try:
            if depth == 0:
                # SQLite rolls back by itself on some errors (disk full, I/O).
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
            elif conn.in_transaction:
                conn.execute(f"ROLLBACK TO sp{depth}")
                conn.execute(f"RELEASE sp{depth}")
        except DB_ERRORS as rollback_exc:
            raise storage_error("roll back transaction", rollback_exc) from exc
