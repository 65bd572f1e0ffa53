"""The SQLite store's connection: opening it with its pragmas, errors, and transactions.

Private to :mod:`axolotl.store.sqlite` (see :mod:`axolotl.store.sqlite._store`
for the durability choices).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Final

from axolotl.errors import StorageError

__all__ = [
    "APPLICATION_ID",
    "DB_ERRORS",
    "SQLiteTransaction",
    "StrPath",
    "connect",
    "immediate",
    "rollback_quietly",
    "storage_error",
]

StrPath = str | os.PathLike[str]

APPLICATION_ID: Final = 0x41584F4C
"""``PRAGMA application_id`` of our databases ("AXOL"), to refuse other SQLite files."""

# What the sqlite3 module raises besides sqlite3.Error for values it cannot
# bind (an int past 64 bits, a str with lone surrogates).
DB_ERRORS: Final = (sqlite3.Error, OverflowError, UnicodeError)

_BUSY_TIMEOUT_S: Final = 5.0


def storage_error(operation: str, exc: BaseException) -> StorageError:
    """The StorageError for ``exc``, raised by SQLite during ``operation``."""
    return StorageError(f"sqlite store: {operation} failed: {type(exc).__name__}: {exc}")


def connect(path: StrPath, *, must_exist: bool, synchronous: str) -> tuple[sqlite3.Connection, str]:
    """Open ``path``, set the pragmas; return the connection and the journal mode.

    Raises:
        StorageError: there is no database at ``path`` (with ``must_exist``),
            it belongs to another application, or SQLite failed.
    """
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


@contextlib.contextmanager
def immediate(conn: sqlite3.Connection) -> Iterator[None]:
    """One ``BEGIN IMMEDIATE`` ... ``COMMIT`` on an autocommit connection.

    Any exception leaving the block (``KeyboardInterrupt`` included) rolls the
    transaction back, if SQLite has not already, and is re-raised. For opening
    a database; a store's own transactions are :class:`SQLiteTransaction`.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def rollback_quietly(conn: sqlite3.Connection) -> None:
    """Roll back the open transaction of ``conn``, if any, ignoring SQLite's errors.

    For paths that are already failing or closing: the error that matters is
    the one being raised, and SQLite rolls back by itself on close.
    """
    try:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
    except DB_ERRORS:
        pass


class SQLiteTransaction:
    """The context manager :meth:`SQLiteStore.transaction` returns (one per store).

    It owns the nesting depth, so one instance serves every level: the
    outermost block is ``BEGIN IMMEDIATE``/``COMMIT``, inner blocks are
    savepoints named after their depth. It shares the store's connection and
    touches nothing else of the store.

    Args:
        conn: the store's connection, in autocommit mode (``isolation_level=None``).
    """

    __slots__ = ("_conn", "_depth")

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._depth = 0

    def __enter__(self) -> None:
        depth = self._depth
        try:
            if depth == 0:
                self._conn.execute("BEGIN IMMEDIATE")
            else:
                self._conn.execute(f"SAVEPOINT sp{depth}")
        except DB_ERRORS as exc:
            raise storage_error("begin transaction", exc) from exc
        self._depth = depth + 1

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._depth -= 1
        depth = self._depth
        conn = self._conn
        if exc_type is None:
            try:
                if depth == 0:
                    conn.execute("COMMIT")
                else:
                    conn.execute(f"RELEASE sp{depth}")
            except DB_ERRORS as commit_exc:
                if depth == 0:
                    rollback_quietly(conn)
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
