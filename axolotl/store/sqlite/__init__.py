"""The SQLite store: :class:`SQLiteStore`, the embedded default, and its schema history.

Built on the standard library's :mod:`sqlite3`; see
:mod:`axolotl.store.sqlite._store` for the durability choices and
:mod:`axolotl.store.sqlite.migrations` for the schema.
"""

from axolotl.store.sqlite._store import SQLiteStore
from axolotl.store.sqlite.migrations import MIGRATIONS, SCHEMA_VERSION, Migration, migrate

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "Migration", "SQLiteStore", "migrate"]
