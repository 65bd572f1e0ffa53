"""The SQLite store: :class:`SQLiteStore`, the embedded default, and its schema history."""

from axolotl.store.sqlite._store import SQLiteStore

__all__ = ["SQLiteStore"]
