"""The PostgreSQL store: :class:`PostgresStore`, shared state for many workers."""

from axolotl.store.postgres._store import DEFAULT_LOCK_TIMEOUT_MS, PG_SCHEMA_VERSION, PostgresStore

__all__ = ["DEFAULT_LOCK_TIMEOUT_MS", "PG_SCHEMA_VERSION", "PostgresStore"]
