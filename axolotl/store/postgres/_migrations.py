"""The PostgreSQL store's schema history, the code that applies it, and its lock keys.

Private to :mod:`axolotl.store.postgres`. The schema lives in the schema the
connection's ``search_path`` names first (``public`` by default); every table
is prefixed ``axolotl_`` so it can share a schema with the application's own.
Every table is keyed by ``owner`` first: one database serves many local
accounts (a gateway), each :class:`~axolotl.store.postgres.PostgresStore`
reads and writes only its owner's rows.

The version is kept in the one-row table ``axolotl_schema``;
:data:`PG_MIGRATIONS` lists every step, oldest first. Opening a store applies
the missing steps in one transaction under an advisory lock (PostgreSQL DDL
is transactional, so a failure leaves the old schema), and a database newer
than the code is refused with :class:`~axolotl.errors.SchemaVersionError`.
To change the schema, append a :class:`PgMigration` with the next version;
never edit one that has shipped.

PostgreSQL schema version 1 holds what SQLite schema versions 1 and 2 hold.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import psycopg

from axolotl.errors import SchemaVersionError, StorageError, UsageError

__all__ = [
    "LOCK_NAMESPACE",
    "MIGRATION_LOCK_NAMESPACE",
    "OWNER_TABLES",
    "PG_MIGRATIONS",
    "PG_SCHEMA_VERSION",
    "PgMigration",
    "migrate",
]

LOCK_NAMESPACE: Final = 0x41584F4C
"""First key of the per-owner advisory locks (``"AXOL"``); the second is a hash of the owner."""

MIGRATION_LOCK_NAMESPACE: Final = 0x41584F4D
"""First key of the advisory lock held while migrating (``"AXOM"``)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PgMigration:
    """One step of the PostgreSQL schema history.

    Attributes:
        version: the schema version after this step (1, 2, 3, ... in order).
        description: what the step does, for humans.
        statements: SQL statements run in order inside the migration's transaction.
    """

    version: int
    description: str
    statements: tuple[str, ...]

    def __post_init__(self) -> None:
        if self.version < 1:
            raise UsageError("migration versions start at 1")


# Names and group ids are TEXT (readable in psql); retry-record kinds and keys
# are BYTEA holding UTF-8, because the protocol allows any str (NUL included)
# and orders keys by code point, which is UTF-8 byte order: BYTEA compares
# bytewise whatever the database's collation.
PG_MIGRATIONS: Final[tuple[PgMigration, ...]] = (
    PgMigration(
        version=1,
        description="local identity, remote identities, prekeys, signed prekeys, sessions, "
        "sender keys, key counters, retry records with a count per kind; "
        "every table keyed by owner",
        statements=(
            """CREATE TABLE axolotl_local_identity (
                owner TEXT PRIMARY KEY,
                identity_key_pair BYTEA NOT NULL,
                registration_id BIGINT NOT NULL
            )""",
            """CREATE TABLE axolotl_identities (
                owner TEXT NOT NULL,
                name TEXT NOT NULL,
                device_id BIGINT NOT NULL,
                public_key BYTEA NOT NULL,
                PRIMARY KEY (owner, name, device_id)
            )""",
            """CREATE TABLE axolotl_pre_keys (
                owner TEXT NOT NULL,
                id BIGINT NOT NULL,
                record BYTEA NOT NULL,
                PRIMARY KEY (owner, id)
            )""",
            """CREATE TABLE axolotl_signed_pre_keys (
                owner TEXT NOT NULL,
                id BIGINT NOT NULL,
                record BYTEA NOT NULL,
                PRIMARY KEY (owner, id)
            )""",
            """CREATE TABLE axolotl_sessions (
                owner TEXT NOT NULL,
                name TEXT NOT NULL,
                device_id BIGINT NOT NULL,
                record BYTEA NOT NULL,
                PRIMARY KEY (owner, name, device_id)
            )""",
            """CREATE TABLE axolotl_sender_keys (
                owner TEXT NOT NULL,
                group_id TEXT NOT NULL,
                sender_name TEXT NOT NULL,
                sender_device_id BIGINT NOT NULL,
                record BYTEA NOT NULL,
                PRIMARY KEY (owner, group_id, sender_name, sender_device_id)
            )""",
            """CREATE TABLE axolotl_key_counters (
                owner TEXT NOT NULL,
                name TEXT NOT NULL,
                value BIGINT NOT NULL,
                PRIMARY KEY (owner, name)
            )""",
            """CREATE TABLE axolotl_retry_records (
                owner TEXT NOT NULL,
                kind BYTEA NOT NULL,
                key BYTEA NOT NULL,
                value BYTEA NOT NULL,
                due_ms BIGINT,
                PRIMARY KEY (owner, kind, key)
            )""",
            "CREATE INDEX axolotl_retry_records_due "
            "ON axolotl_retry_records (owner, kind, due_ms, key)",
            # Rows per kind, so counting and bounding a kind need not scan
            # it. The store keeps it (not a trigger): it adds up a step's
            # inserts and deletes and writes the sum once at COMMIT, since
            # updating one row thousands of times in one transaction costs
            # PostgreSQL a walk of every earlier version on each update.
            """CREATE TABLE axolotl_retry_record_counts (
                owner TEXT NOT NULL,
                kind BYTEA NOT NULL,
                n BIGINT NOT NULL,
                PRIMARY KEY (owner, kind)
            )""",
        ),
    ),
)
"""The PostgreSQL schema history, oldest first. Append; never edit a shipped entry."""

PG_SCHEMA_VERSION: Final = PG_MIGRATIONS[-1].version
"""The PostgreSQL schema version this code writes and expects."""

OWNER_TABLES: Final = (
    "axolotl_identities",
    "axolotl_pre_keys",
    "axolotl_signed_pre_keys",
    "axolotl_sessions",
    "axolotl_sender_keys",
    "axolotl_key_counters",
    "axolotl_retry_records",
    "axolotl_retry_record_counts",
    "axolotl_local_identity",
)
"""Every table keyed by ``owner`` (the local identity last): an owner's whole state."""

_SQL_HAS_VERSION_TABLE = "SELECT to_regclass('axolotl_schema') IS NOT NULL"
_SQL_GET_VERSION = "SELECT version FROM axolotl_schema"
_SQL_CREATE_VERSION_TABLE = (
    "CREATE TABLE IF NOT EXISTS axolotl_schema ("
    "one BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (one), version INTEGER NOT NULL)"
)
_SQL_SET_VERSION = (
    "INSERT INTO axolotl_schema (one, version) VALUES (TRUE, %s) "
    "ON CONFLICT (one) DO UPDATE SET version = excluded.version"
)


def _version(conn: psycopg.Connection[tuple[object, ...]]) -> int:
    row = conn.execute(_SQL_HAS_VERSION_TABLE).fetchone()
    if row is None or not row[0]:
        return 0
    found = conn.execute(_SQL_GET_VERSION).fetchone()
    return 0 if found is None else int(str(found[0]))


def _refuse_newer(found: int, latest: int, where: str) -> None:
    if found > latest:
        raise SchemaVersionError(
            f"postgres store: {where} has axolotl schema version {found}, newer than version "
            f"{latest} known to this version of axolotl; upgrade axolotl-retry in every worker "
            "before opening it (downgrading is not supported; restore a backup made before "
            "the upgrade instead)"
        )


def migrate(
    conn: psycopg.Connection[tuple[object, ...]],
    migrations: tuple[PgMigration, ...] = PG_MIGRATIONS,
    where: str = "the database",
) -> int:
    """Bring the axolotl tables reached through ``conn`` up to the last of ``migrations``.

    Args:
        conn: an idle connection in autocommit mode.
        migrations: the schema history; versions must be 1, 2, 3, ... in order.
        where: what to call the database in messages.

    Returns:
        The schema version found before migrating (0 for an empty schema).

    Raises:
        SchemaVersionError: the schema is newer than ``migrations``.
        StorageError: PostgreSQL failed; nothing was changed.
        UsageError: ``migrations`` is not numbered 1..n.
    """
    if [m.version for m in migrations] != list(range(1, len(migrations) + 1)):
        raise UsageError("migrations must be numbered 1, 2, 3, ... in order")
    latest = len(migrations)
    try:
        found = _version(conn)
        _refuse_newer(found, latest, where)
        if found == latest:
            return found
        with conn.transaction():
            # Workers starting together: one migrates, the others wait here
            # and then find the work done.
            conn.execute(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_NAMESPACE}, 0)")
            current = _version(conn)
            _refuse_newer(current, latest, where)
            conn.execute(_SQL_CREATE_VERSION_TABLE)
            for migration in migrations[current:]:
                for statement in migration.statements:
                    conn.execute(statement.encode())
            conn.execute(_SQL_SET_VERSION, (latest,))
    except psycopg.Error as exc:
        raise StorageError(
            f"postgres store: migrating {where} to axolotl schema version {latest} failed "
            f"(nothing was changed): {type(exc).__name__}: {str(exc).strip()}"
        ) from exc
    return found
