"""The SQLite store's schema history and the code that applies it.

The schema is versioned with ``PRAGMA user_version``; :data:`MIGRATIONS` lists
every step, oldest first. Opening a database applies the missing steps in one
transaction; a database newer than the code is refused with
:class:`~axolotl.errors.SchemaVersionError`. (The PostgreSQL store keeps its
own history, in :mod:`axolotl.store.postgres._migrations`.)

To change the schema (new tables for the retry layer's send log, outbox,
counters and delivered ids, say), append a :class:`Migration` with the next
version number. Never edit a migration that has shipped: databases in the
field have already run it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

from axolotl.errors import SchemaVersionError, UsageError
from axolotl.store.sqlite._connection import APPLICATION_ID, DB_ERRORS, immediate, storage_error

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "Migration", "migrate"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Migration:
    """One step of the schema history.

    Attributes:
        version: the schema version after this step (1, 2, 3, ... in order).
        description: what the step does, for humans.
        statements: SQL statements run in order, inside the migration's
            transaction (no ``BEGIN``/``COMMIT`` of their own).
        run: optional Python step run after ``statements`` in the same
            transaction, for data transformations SQL cannot express.
    """

    version: int
    description: str
    statements: tuple[str, ...]
    run: Callable[[sqlite3.Connection], None] | None = None

    def __post_init__(self) -> None:
        if self.version < 1:
            raise UsageError("migration versions start at 1")


MIGRATIONS: Final[tuple[Migration, ...]] = (
    Migration(
        version=1,
        description="initial schema: local identity, remote identities, prekeys, signed prekeys, "
        "sessions, sender keys, key counters (next prekey id)",
        statements=(
            """CREATE TABLE local_identity (
                id INTEGER PRIMARY KEY CHECK (id = 1),
                identity_key_pair BLOB NOT NULL,
                registration_id INTEGER NOT NULL
            )""",
            """CREATE TABLE identities (
                name TEXT NOT NULL,
                device_id INTEGER NOT NULL,
                public_key BLOB NOT NULL,
                PRIMARY KEY (name, device_id)
            )""",
            """CREATE TABLE pre_keys (
                id INTEGER PRIMARY KEY,
                record BLOB NOT NULL
            )""",
            """CREATE TABLE signed_pre_keys (
                id INTEGER PRIMARY KEY,
                record BLOB NOT NULL
            )""",
            """CREATE TABLE sessions (
                name TEXT NOT NULL,
                device_id INTEGER NOT NULL,
                record BLOB NOT NULL,
                PRIMARY KEY (name, device_id)
            )""",
            """CREATE TABLE sender_keys (
                group_id TEXT NOT NULL,
                sender_name TEXT NOT NULL,
                sender_device_id INTEGER NOT NULL,
                record BLOB NOT NULL,
                PRIMARY KEY (group_id, sender_name, sender_device_id)
            )""",
            """CREATE TABLE key_counters (
                name TEXT PRIMARY KEY,
                value INTEGER NOT NULL
            )""",
        ),
    ),
    Migration(
        version=2,
        description="retry records: the retry layer's opaque records by (kind, key), with an "
        "indexed due time (send log, outbox, counters, delivered ids, timers), and a "
        "trigger-kept count per kind",
        statements=(
            """CREATE TABLE retry_records (
                kind TEXT NOT NULL,
                key TEXT NOT NULL,
                value BLOB NOT NULL,
                due_ms INTEGER,
                PRIMARY KEY (kind, key)
            ) WITHOUT ROWID""",
            "CREATE INDEX retry_records_due ON retry_records (kind, due_ms, key)",
            # Rows per kind, kept by triggers in the same transaction as the
            # rows themselves, so counting and bounding a kind (evicting the
            # oldest delivered ids on every insert) need not scan it.
            """CREATE TABLE retry_record_counts (
                kind TEXT PRIMARY KEY,
                n INTEGER NOT NULL
            ) WITHOUT ROWID""",
            # An UPSERT that takes its DO UPDATE branch fires no INSERT trigger.
            """CREATE TRIGGER retry_records_counted_insert AFTER INSERT ON retry_records
            BEGIN
                INSERT INTO retry_record_counts (kind, n) VALUES (NEW.kind, 1)
                ON CONFLICT (kind) DO UPDATE SET n = n + 1;
            END""",
            """CREATE TRIGGER retry_records_counted_delete AFTER DELETE ON retry_records
            BEGIN
                UPDATE retry_record_counts SET n = n - 1 WHERE kind = OLD.kind;
            END""",
        ),
    ),
)
"""The schema history, oldest first. Append; never edit a shipped entry."""

SCHEMA_VERSION: Final = MIGRATIONS[-1].version
"""The schema version this code writes and expects."""


def migrate(
    conn: sqlite3.Connection, migrations: Sequence[Migration] = MIGRATIONS, where: str = ""
) -> int:
    """Bring the schema of ``conn`` up to the last of ``migrations``.

    The missing steps run in order inside one ``BEGIN IMMEDIATE`` transaction,
    so a crash leaves either the old or the new schema, never a mix.

    Args:
        conn: a connection in autocommit mode (``isolation_level=None``).
        migrations: the schema history (default :data:`MIGRATIONS`); versions
            must be 1, 2, 3, ... in order.
        where: the database path, for messages.

    Returns:
        The schema version found before migrating (0 for a new database).

    Raises:
        SchemaVersionError: the database is newer than ``migrations``.
        StorageError: SQLite failed; nothing was changed.
        UsageError: ``migrations`` is not numbered 1..n.
    """
    if [m.version for m in migrations] != list(range(1, len(migrations) + 1)):
        raise UsageError("migrations must be numbered 1, 2, 3, ... in order")
    latest = len(migrations)
    try:
        (found,) = conn.execute("PRAGMA user_version").fetchone()
        if found > latest:
            raise SchemaVersionError(
                f"sqlite store: database {where!r} has schema version {found}, newer than "
                f"version {latest} known to this version of axolotl; upgrade axolotl-retry "
                f"to open it (downgrading a database is not supported; restore a backup "
                f"made before the upgrade instead)"
            )
        if found == latest:
            return int(found)
        with immediate(conn):
            # Another process may have migrated while we waited for the lock.
            (current,) = conn.execute("PRAGMA user_version").fetchone()
            for migration in migrations[current:]:
                for statement in migration.statements:
                    conn.execute(statement)
                if migration.run is not None:
                    migration.run(conn)
            conn.execute(f"PRAGMA user_version = {latest}")
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    except DB_ERRORS as exc:
        raise storage_error(f"migrate {where!r} to schema version {latest}", exc) from exc
    return int(found)
