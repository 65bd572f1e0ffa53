"""The PostgreSQL store's connections, and the typed errors of their failures.

Private to :mod:`axolotl.store.postgres`.

A store reaches the database through a :class:`Source`: its own connection
opened from a DSN, a connection the caller passed, or a
``psycopg_pool.ConnectionPool`` it borrows from. Whatever the source, the store
works on connections in autocommit mode and issues ``BEGIN`` / ``COMMIT`` /
savepoints itself (:mod:`axolotl.store.postgres._transaction`), like the
SQLite store.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any, Final

import psycopg
from psycopg import errors as pg_errors

from axolotl.errors import LockTimeout, StorageError

__all__ = ["Conn", "Source", "connect_dsn", "pg_error"]

Conn = psycopg.Connection[tuple[Any, ...]]

_CONNECT_TIMEOUT_S: Final = 10
_IDLE: Final = psycopg.pq.TransactionStatus.IDLE

# Lock waits that end in an error: lock_timeout, a broken deadlock, and a
# statement_timeout the caller may have set on the connection.
_LOCK_ERRORS: Final = (
    pg_errors.LockNotAvailable,
    pg_errors.DeadlockDetected,
    pg_errors.QueryCanceled,
)


def pg_error(operation: str, exc: BaseException, owner: str, timeout_ms: int) -> StorageError:
    """The typed error for a psycopg failure during ``operation`` on ``owner``'s rows.

    Returns:
        A :class:`~axolotl.errors.LockTimeout` for a lock wait that gave up
        (``timeout_ms`` is the store's lock timeout, for the message), a
        :class:`~axolotl.errors.StorageError` naming ``operation`` otherwise.
    """
    if isinstance(exc, _LOCK_ERRORS):
        return LockTimeout(
            f"postgres store: {operation} for owner {owner!r} gave up waiting for a lock "
            f"({type(exc).__name__}: {str(exc).strip()}); another worker is holding this "
            f"device's lock (lock timeout {timeout_ms} ms): nothing was written, retry the "
            "step, or raise lock_timeout_ms if steps routinely take that long",
            owner,
            timeout_ms,
        )
    return StorageError(
        f"postgres store: {operation} failed: {type(exc).__name__}: {str(exc).strip()}"
    )


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
