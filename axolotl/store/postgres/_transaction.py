"""The PostgreSQL store's transactions: the state of one store's open step.

Private to :mod:`axolotl.store.postgres` (see :mod:`axolotl.store.postgres._store`
for the locking model). A :class:`PgTransaction` owns everything a step's
transaction needs: where connections come from, the connection of the open
transaction, its nesting, the savepoints it still owes, the retry-record
counts it has yet to write, and whether the store was closed. The store runs
every statement through it (:meth:`PgTransaction.read`,
:meth:`PgTransaction.write`, :meth:`PgTransaction.write_rows`) and reaches
none of its state.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from types import TracebackType
from typing import Any, Final

import psycopg
from psycopg import sql

from axolotl.errors import StorageError
from axolotl.store.postgres._connection import Conn, Source
from axolotl.store.postgres._counts import PendingCounts
from axolotl.store.postgres._migrations import LOCK_NAMESPACE

__all__ = ["ErrorMap", "PgTransaction", "begin_statement", "owner_lock_key"]

ErrorMap = Callable[[str, psycopg.Error], StorageError]
"""The store's mapping of a psycopg failure during an operation to its typed error."""

_IDLE: Final = psycopg.pq.TransactionStatus.IDLE
_INERROR: Final = psycopg.pq.TransactionStatus.INERROR


def owner_lock_key(owner: str) -> int:
    """The second key of ``owner``'s advisory lock: a signed 32-bit hash of the owner.

    Two owners that share a hash only share a lock (their steps serialise);
    nothing else follows from a collision.
    """
    return int.from_bytes(zlib.crc32(owner.encode()).to_bytes(4, "big"), "big", signed=True)


def begin_statement(owner: str, lock_timeout_ms: int, synchronous_commit: bool) -> bytes:
    """What begins a step of ``owner``: ``BEGIN``, its settings and the owner's lock, in one.

    Args:
        owner: the store's owner (a checked str).
        lock_timeout_ms: how long to wait for the lock (a checked int; 0: forever).
        synchronous_commit: ``False`` sets ``synchronous_commit = off`` for the step.
    """
    relaxed = "" if synchronous_commit else "SET LOCAL synchronous_commit = off; "
    return (
        f"BEGIN; SET LOCAL lock_timeout = {lock_timeout_ms}; {relaxed}"
        f"SELECT pg_advisory_xact_lock({LOCK_NAMESPACE}, {owner_lock_key(owner)})"
    ).encode()


class PgTransaction:
    """The context manager :meth:`PostgresStore.transaction` returns (one per store).

    One instance serves every nesting level. The outermost block borrows a
    connection from the source and sends, in one round trip, the store's
    ``begin`` statement (``BEGIN``, the lock timeout and
    ``pg_advisory_xact_lock`` on the owner), so a logical step holds its
    device's lock from its first statement to its ``COMMIT``. The pending
    retry-record :attr:`counts` follow the blocks (saved when one opens,
    restored when it rolls back) and are written with ``COMMIT``.

    Inner blocks are savepoints named after their depth, made lazily: a
    block costs nothing until something is written inside it, and then every
    savepoint still owed goes in one round trip before that write. A block
    that wrote nothing has nothing to roll back. A savepoint is not released
    when its block ends (``COMMIT`` releases them all); a later sibling
    block releases it in the round trip that makes its own, so at most one
    finished savepoint per level stays open. A step therefore pays one round
    trip for its nested blocks' savepoints where it paid two per block.

    Args:
        source: where the store's connections come from.
        begin: the statement that begins a step (see :func:`begin_statement`).
        error: the store's mapping of psycopg failures to typed errors.
        counts: the store's pending retry-record counts.
    """

    __slots__ = (
        "_begin",
        "_borrowed",
        "_closed",
        "_conn",
        "_depth",
        "_done",
        "_error",
        "_made",
        "_source",
        "counts",
    )

    def __init__(
        self, source: Source, begin: bytes, error: ErrorMap, counts: PendingCounts
    ) -> None:
        self._source = source
        self._begin = begin
        self._error = error
        self.counts = counts
        self._closed = False
        # The open transaction: its depth, its connection and the pool's
        # context manager it was borrowed with (None outside a transaction).
        self._depth = 0
        self._conn: Conn | None = None
        self._borrowed: AbstractContextManager[Conn] | None = None
        # Inner levels 1.._made have their savepoint made for the open blocks;
        # _done holds the levels whose finished block left its savepoint
        # open. Together they are always 1..n: the made levels, then the done.
        self._made = 0
        self._done = 0

    # -- statements -----------------------------------------------------------

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    def check_open(self) -> None:
        """Refuse a store used after :meth:`close`.

        Raises:
            StorageError: it was closed.
        """
        if self._closed:
            raise StorageError("postgres store: used after close()")

    def read(self, statement: str, params: Any, operation: str) -> list[tuple[Any, ...]]:
        """Rows of one statement: in the open transaction, or on its own without the lock.

        Raises:
            StorageError: the store is closed, or PostgreSQL failed (named ``operation``).
        """
        conn = self._conn
        try:
            if conn is not None:
                return conn.execute(statement.encode(), params).fetchall()
            self.check_open()
            with self._source.borrow() as own:
                return own.execute(statement.encode(), params).fetchall()
        except psycopg.Error as exc:
            raise self._error(operation, exc) from exc

    def write(self, statement: str, params: Any, operation: str) -> int:
        """Run one writing statement (under the owner's lock); the rows it changed.

        Outside a transaction it is a transaction of its own.

        Raises:
            StorageError: the store is closed, or PostgreSQL failed.
            LockTimeout: the owner's lock was not granted in time.
        """
        conn = self._conn
        if conn is None:
            with self:
                return self.write(statement, params, operation)
        return self._execute(conn, statement, params, operation).rowcount

    def write_rows(self, statement: str, params: Any, operation: str) -> list[tuple[Any, ...]]:
        """Run one writing statement with ``RETURNING`` (under the owner's lock); its rows.

        Raises:
            StorageError: the store is closed, or PostgreSQL failed.
            LockTimeout: the owner's lock was not granted in time.
        """
        conn = self._conn
        if conn is None:
            with self:
                return self.write_rows(statement, params, operation)
        return self._execute(conn, statement, params, operation).fetchall()

    def _execute(
        self, conn: Conn, statement: str, params: Any, operation: str
    ) -> psycopg.Cursor[Any]:
        """One writing statement in the open transaction (its pending savepoints made first)."""
        self._make_savepoints(conn)
        try:
            return conn.execute(statement.encode(), params)
        except psycopg.Error as exc:
            raise self._error(operation, exc) from exc

    def atomic(self) -> AbstractContextManager[None]:
        """The open transaction, or a new one (for a write that must count its rows)."""
        return nullcontext() if self._conn is not None else self

    def close(self) -> None:
        """Roll back an open transaction, hand its connection back, refuse any later use.

        The source itself is the store's to close.
        """
        if self._closed:
            return
        self._closed = True
        conn, borrowed = self._conn, self._borrowed
        self._conn = self._borrowed = None
        self._depth = 0
        self.counts.reset()
        if conn is not None:
            try:
                if not conn.closed:
                    conn.execute(b"ROLLBACK")
            except psycopg.Error:
                pass
            if borrowed is not None:
                borrowed.__exit__(None, None, None)

    def _make_savepoints(self, conn: Conn) -> None:
        """Make the savepoints the open blocks still owe (before every write)."""
        wanted = self._depth - 1
        if self._made >= wanted:
            return
        first = self._made + 1
        parts = []
        if self._done >= first:
            # A finished sibling's savepoint is still open at this level:
            # release it (and the finished ones inside it) first.
            parts.append(f"RELEASE sp{first}")
        parts += [f"SAVEPOINT sp{level}" for level in range(first, wanted + 1)]
        try:
            conn.execute("; ".join(parts).encode())
        except psycopg.Error as exc:
            raise self._error("begin nested transaction", exc) from exc
        self._made = wanted
        self._done = 0

    # -- blocks ---------------------------------------------------------------

    def __enter__(self) -> None:
        self.check_open()
        depth = self._depth
        if depth == 0:
            borrowed = self._source.borrow()
            conn = borrowed.__enter__()
            try:
                conn.execute(self._begin)
            except BaseException as exc:
                _rollback_quietly(conn)
                borrowed.__exit__(None, None, None)
                if isinstance(exc, psycopg.Error):
                    raise self._error("begin transaction", exc) from exc
                raise
            self._conn = conn
            self._borrowed = borrowed
            self.counts.reset()
            self._made = self._done = 0
        else:
            self.counts.savepoint()
        self._depth = depth + 1

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        conn = self._conn
        if conn is None:
            # close() ran inside this block: it rolled the transaction back
            # and handed the connection back, so there is nothing to end.
            # Say that the block did not commit, unless it is failing anyway.
            if exc_type is None:
                raise StorageError(
                    "postgres store: closed inside a transaction; the transaction was rolled back"
                )
            return
        self._depth -= 1
        depth = self._depth
        if depth > 0:
            self._end_block(conn, depth, failed=exc_type is not None, cause=exc)
            return
        borrowed = self._borrowed
        self._conn = None
        self._borrowed = None
        self._made = self._done = 0
        flush = self.counts.flush_sql()
        self.counts.reset()
        try:
            if exc_type is None:
                try:
                    _check_usable(conn)
                    if flush is None:
                        conn.execute(b"COMMIT")
                    else:
                        # The pending counts go in the COMMIT's round trip.
                        conn.execute(sql.Composed([flush, sql.SQL("; COMMIT")]))
                except psycopg.Error as commit_exc:
                    _rollback_quietly(conn)
                    raise self._error("commit transaction", commit_exc) from commit_exc
                except StorageError:
                    _rollback_quietly(conn)
                    raise
            else:
                try:
                    conn.execute(b"ROLLBACK")
                except psycopg.Error as rollback_exc:
                    raise self._error("roll back transaction", rollback_exc) from exc
        finally:
            if borrowed is not None:
                borrowed.__exit__(None, None, None)

    def _end_block(
        self, conn: Conn, level: int, *, failed: bool, cause: BaseException | None
    ) -> None:
        """End the inner block at ``level``: keep it, or undo what it wrote."""
        made = level <= self._made
        if not failed:
            self.counts.release()
            _check_usable(conn)
            if made:
                self._made, self._done = level - 1, max(self._done, level)
            return
        self.counts.rollback_to()
        if not made:
            # Nothing was written in the block. A statement that failed in it
            # has left the whole transaction unusable, with no savepoint to
            # return to: say so rather than let the step go on.
            _check_usable(conn, cause)
            return
        try:
            conn.execute(f"ROLLBACK TO sp{level}; RELEASE sp{level}".encode())
        except psycopg.Error as db_exc:
            raise self._error("end nested transaction", db_exc) from (cause or db_exc)
        self._made, self._done = level - 1, 0


def _check_usable(conn: Conn, cause: BaseException | None = None) -> None:
    """Refuse to go on in a transaction a failed statement has aborted.

    A caller may catch the error of a failed statement and carry on; the
    server has aborted the whole transaction all the same, and would turn its
    ``COMMIT`` into a silent ``ROLLBACK``.
    """
    if conn.info.transaction_status == _INERROR:
        raise StorageError(
            "postgres store: a statement failed inside this transaction, so PostgreSQL "
            "aborted the whole transaction; it was rolled back: retry the step"
        ) from cause


def _rollback_quietly(conn: Conn) -> None:
    try:
        if not conn.closed and conn.info.transaction_status != _IDLE:
            conn.execute(b"ROLLBACK")
    except psycopg.Error:
        pass
