"""The PostgreSQL store: :class:`PostgresStore`, shared state for many workers.

Needs the optional extra ``postgres`` (psycopg 3 and psycopg-pool):
``pip install 'axolotl-retry[postgres]'``; importing this package without it
raises an :class:`ImportError` that says so. See
:mod:`axolotl.store.postgres._store` for tenancy, the locking model and
connections.
"""

try:
    import psycopg  # noqa: F401  (checked here, before the modules that need it)
except ImportError as exc:  # pragma: no cover - depends on the installation
    raise ImportError(
        "axolotl.store.postgres needs psycopg 3: pip install 'axolotl-retry[postgres]'"
    ) from exc

from axolotl.store.postgres._migrations import PG_SCHEMA_VERSION
from axolotl.store.postgres._store import DEFAULT_LOCK_TIMEOUT_MS, PostgresStore

__all__ = ["DEFAULT_LOCK_TIMEOUT_MS", "PG_SCHEMA_VERSION", "PostgresStore"]
