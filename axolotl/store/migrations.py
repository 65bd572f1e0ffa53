"""The former home of the SQLite schema history, kept so its imports keep working.

The SQLite store's schema history now lives in
:mod:`axolotl.store.sqlite.migrations`, and its connection helpers in the
SQLite store's private connection module; this module re-exports every name
it used to define. New code imports :data:`MIGRATIONS`, :data:`SCHEMA_VERSION`
and :class:`Migration` from :mod:`axolotl.store` or
:mod:`axolotl.store.sqlite`.
"""

from axolotl.store.sqlite._connection import APPLICATION_ID, DB_ERRORS, immediate, storage_error
from axolotl.store.sqlite.migrations import MIGRATIONS, SCHEMA_VERSION, Migration, migrate

__all__ = [
    "APPLICATION_ID",
    "DB_ERRORS",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "Migration",
    "immediate",
    "migrate",
    "storage_error",
]
