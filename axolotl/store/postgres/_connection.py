"""The PostgreSQL store's connections and transactions.

Private to :mod:`axolotl.store.postgres` (see there for the locking model).

A store reaches the database through a :class:`Source`: its own connection
opened from a DSN, a connection the caller passed, or a
``psycopg_pool.ConnectionPool`` it borrows from. Whatever the source, the store
works on connections in autocommit mode and issues ``BEGIN`` / ``COMMIT`` /
savepoints itself, like the SQLite store.
"""

from __future__ import annotations

import contextlib
import zlib
from collections.abc import Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final

import psycopg
from psycopg import sql

from axolotl.errors import StorageError
from axolotl.store.postgres._migrations import pg_error

if TYPE_CHECKING:
    from axolotl.store.postgres import PostgresStore

__all__ = ["Conn", "PgTransaction", "Source", "connect_dsn", "map_error", "owner_lock_key"]

Conn = psycopg.Connection[tuple[Any, ...]]

_CONNECT_TIMEOUT_S: Final = 10
_IDLE: Final = psycopg.pq.TransactionStatus.IDLE
_INERROR: Final = psycopg.pq.TransactionStatus.INERROR


def owner_lock_key(owner: str) -> int:
    """The second key of ``owner``'s advisory lock: a signed 32-bit hash of the owner.

    Two owners that share a hash only share a lock (their steps serialise);
    nothing else follows from a collision.
    """
    return int.from_bytes(zlib.crc32(owner.encode()).to_bytes(4, "big"), "big", signed=True)


def connect_dsn(dsn: str) -> Conn:
    """Open an autocommit connection to ``dsn``.

    Raises:
        StorageError: it cannot connect; the message says what to check.
    """
    try:
        conn: Conn = psycopg.connect(dsn, autocommit=True, connect_timeout=_CONNECT_TIMEOUT_S)
    except psycopg.Error as exc:
        raise StorageError(
            f"postgres store: cannot connect ({type(exc).__name__}: {str(exc).strip()}); "
            "check that the server is running and reachable at the DSN's host and port, "
            "that the database exists, and that the user, password and pg_hba.conf allow "
            "this client"
        ) from exc
    return conn


class Source:
    """Where a store's connections come from.

    Args:
        target: a DSN (the store opens and owns one connection), a psycopg
            ``Connection`` (borrowed for the store's lifetime and left open by
            :meth:`close`; the store switches it to autocommit), or a
            ``psycopg_pool.ConnectionPool`` (one connection borrowed per
            transaction or single operation, handed back in autocommit mode as
            it was found).
    """

    def __init__(self, target: object) -> None:
        self._dsn: str | None = None
        self._conn: Conn | None = None
        self._pool: Any = None
        if isinstance(target, str):
            self._dsn = target
            self._conn = connect_dsn(target)
        elif isinstance(target, psycopg.Connection):
            if target.closed:
                raise StorageError("postgres store: the connection passed is closed")
            if not target.autocommit:
                try:
                    target.autocommit = True
                except psycopg.Error as exc:
                    raise StorageError(
                        "postgres store: the connection passed is inside a transaction; "
                        "commit or roll it back before handing it to the store"
                    ) from exc
            self._conn = target
        elif callable(getattr(target, "connection", None)) and hasattr(target, "getconn"):
            self._pool = target
        else:
            raise TypeError(
                "postgres store: expected a DSN str, a psycopg Connection or a "
                f"psycopg_pool.ConnectionPool, got {type(target).__name__}"
            )
        self.owns_connection = self._dsn is not None

    def describe(self) -> str:
        """Where the data lives, for messages (no password)."""
        conn = self._conn
        if conn is not None and not conn.closed:
            info = conn.info
            return f"database {info.dbname!r} on {info.host}:{info.port}"
        return "the database"

    @contextlib.contextmanager
    def borrow(self) -> Iterator[Conn]:
        """A connection in autocommit mode for one transaction or one statement."""
        if self._pool is None:
            conn = self._conn
            assert conn is not None
            if conn.broken and self._dsn is not None:
                # Our own connection died (server restart): open a new one.
                self._conn = conn = connect_dsn(self._dsn)
            yield conn
            return
        try:
            cm = self._pool.connection()
            conn = cm.__enter__()
        except psycopg.Error as exc:
            raise StorageError(
                f"postgres store: cannot get a connection from the pool: {exc}"
            ) from exc
        except Exception as exc:  # psycopg_pool.PoolTimeout is not a psycopg.Error
            raise StorageError(
                f"postgres store: cannot get a connection from the pool "
                f"({type(exc).__name__}: {exc}); check the pool's size and the server"
            ) from exc
        was_autocommit = conn.autocommit
        try:
            if not was_autocommit:
                conn.autocommit = True
            yield conn
        except BaseException as exc:
            if not was_autocommit and not conn.closed and conn.info.transaction_status == _IDLE:
                conn.autocommit = False
            cm.__exit__(type(exc), exc, exc.__traceback__)
            raise
        if not was_autocommit and conn.info.transaction_status == _IDLE:
            conn.autocommit = False
        cm.__exit__(None, None, None)

    def close(self) -> None:
        """Close the connection the store owns (a borrowed one or a pool stays open)."""
        if self._dsn is not None and self._conn is not None:
            self._conn.close()


class PgTransaction:
    """The context manager :meth:`PostgresStore.transaction` returns (one per store).

    Depth lives in the store, so one instance serves every nesting level. The
    outermost block borrows a connection and sends, in one round trip,
    ``BEGIN``, the lock timeout and ``pg_advisory_xact_lock`` on the owner, so
    a logical step holds its device's lock from its first statement to its
    ``COMMIT``. The store's pending retry-record counts follow the blocks
    (saved when one opens, restored when it rolls back) and are written with
    ``COMMIT``.

    Inner blocks are savepoints named after their depth, made lazily: a
    block costs nothing until something is written inside it, and then every
    savepoint still owed goes in one round trip before that write. A block
    that wrote nothing has nothing to roll back. A savepoint is not released
    when its block ends (``COMMIT`` releases them all); a later sibling
    block releases it in the round trip that makes its own, so at most one
    finished savepoint per level stays open. A step therefore pays one round
    trip for its nested blocks' savepoints where it paid two per block.
    """

    __slots__ = ("_done", "_made", "_store")

    def __init__(self, store: PostgresStore) -> None:
        self._store = store
        # Inner levels 1.._made have their savepoint made for the open blocks;
        # _done holds the levels whose finished block left its savepoint
        # open. Together they are always 1..n: the made levels, then the done.
        self._made = 0
        self._done = 0

    def before_write(self, conn: Conn) -> None:
        """Make the savepoints the open blocks still owe (call before every write)."""
        store = self._store
        wanted = store._depth - 1
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
            raise store._error("begin nested transaction", exc) from exc
        self._made = wanted
        self._done = 0

    def __enter__(self) -> None:
        store = self._store
        store._check_open()
        depth = store._depth
        if depth == 0:
            borrowed = store._source.borrow()
            conn = borrowed.__enter__()
            try:
                conn.execute(store._begin_sql)
            except BaseException as exc:
                _rollback_quietly(conn)
                borrowed.__exit__(None, None, None)
                if isinstance(exc, psycopg.Error):
                    raise store._error("begin transaction", exc) from exc
                raise
            store._tx_conn = conn
            store._borrowed = borrowed
            store._counts_reset()
            self._made = self._done = 0
        else:
            store._counts_savepoint()
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
        conn = store._conn_in_tx()
        if depth > 0:
            self._end_block(conn, depth, failed=exc_type is not None, cause=exc)
            return
        borrowed = store._borrowed
        store._tx_conn = None
        store._borrowed = None
        self._made = self._done = 0
        flush = store._counts_flush_sql()
        store._counts_reset()
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
                    raise store._error("commit transaction", commit_exc) from commit_exc
                except StorageError:
                    _rollback_quietly(conn)
                    raise
            else:
                try:
                    conn.execute(b"ROLLBACK")
                except psycopg.Error as rollback_exc:
                    raise store._error("roll back transaction", rollback_exc) from exc
        finally:
            if borrowed is not None:
                borrowed.__exit__(None, None, None)

    def _end_block(
        self, conn: Conn, level: int, *, failed: bool, cause: BaseException | None
    ) -> None:
        """End the inner block at ``level``: keep it, or undo what it wrote."""
        store = self._store
        made = level <= self._made
        if not failed:
            store._counts_release()
            _check_usable(conn)
            if made:
                self._made, self._done = level - 1, max(self._done, level)
            return
        store._counts_rollback_to()
        if not made:
            # Nothing was written in the block. A statement that failed in it
            # has left the whole transaction unusable, with no savepoint to
            # return to: say so rather than let the step go on.
            _check_usable(conn, cause)
            return
        try:
            conn.execute(f"ROLLBACK TO sp{level}; RELEASE sp{level}".encode())
        except psycopg.Error as db_exc:
            raise store._error("end nested transaction", db_exc) from (cause or db_exc)
        self._made, self._done = level - 1, 0


def _check_usable(conn: Conn, cause: BaseException | None = None) -> None:
    """Refuse to go on in a transaction a failed statement has aborted.

    A caller may catch the error of a failed statement and carry on; the
    server has aborted the transaction all the same, and would turn its
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


def map_error(store: PostgresStore, operation: str, exc: psycopg.Error) -> StorageError:
    """The typed error for ``exc`` raised by ``store`` during ``operation``."""
    return pg_error(operation, exc, store.owner, store.lock_timeout_ms)
