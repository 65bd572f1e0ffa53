"""Storage: one protocol per store, an in-memory store and an SQLite store.

The session layer only sees the protocols in :mod:`axolotl.store.base`;
:class:`MemoryStore` (tests, benchmarks, short-lived processes) and
:class:`SQLiteStore` (the embedded default) implement all of them.
:class:`PostgresStore` (shared state for many workers) needs the optional
extra ``postgres`` and is imported on first use (``from axolotl.store import
PostgresStore``), so importing this package does not need psycopg; it is left
out of ``__all__`` so that ``import *`` does not need it either.

Layout: :mod:`axolotl.store.base` (the protocols), :mod:`axolotl.store.memory`
(with its record table, ``_record_table.py``), one sub-package per database
backend (:mod:`axolotl.store.sqlite`, :mod:`axolotl.store.postgres`: the
store, its connection, transactions, retry records and schema history), and
beside them what the backends share: the SQL store body (``_sql_store.py``)
and the argument checks every backend runs (``_checks.py``).
:mod:`axolotl.store.migrations` is the former path of
:mod:`axolotl.store.sqlite.migrations`, kept for its imports.
"""

from typing import TYPE_CHECKING, Any

from axolotl.store.base import (
    PRE_KEY_ID_MODULUS,
    IdentityKeyStore,
    PreKeyStore,
    ProtocolStore,
    RetryStore,
    SenderKeyStore,
    SessionStore,
    SignedPreKeyStore,
    advance_pre_key_counter,
)
from axolotl.store.memory import MemoryStore
from axolotl.store.sqlite import MIGRATIONS, SCHEMA_VERSION, Migration, SQLiteStore

if TYPE_CHECKING:
    from axolotl.store.postgres import PostgresStore as PostgresStore

__all__ = [
    "MIGRATIONS",
    "PRE_KEY_ID_MODULUS",
    "SCHEMA_VERSION",
    "IdentityKeyStore",
    "MemoryStore",
    "Migration",
    "PreKeyStore",
    "ProtocolStore",
    "RetryStore",
    "SQLiteStore",
    "SenderKeyStore",
    "SessionStore",
    "SignedPreKeyStore",
    "advance_pre_key_counter",
]


def __getattr__(name: str) -> Any:
    """Import :class:`PostgresStore` (and psycopg) only when it is asked for."""
    if name == "PostgresStore":
        from axolotl.store.postgres import PostgresStore

        return PostgresStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
