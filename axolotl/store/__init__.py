"""Storage: one protocol per store, an in-memory store and an SQLite store.

The session layer only sees the protocols in :mod:`axolotl.store.base`;
:class:`MemoryStore` (tests, benchmarks, short-lived processes) and
:class:`SQLiteStore` (the embedded default) implement all of them.
"""

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
from axolotl.store.migrations import MIGRATIONS, SCHEMA_VERSION, Migration
from axolotl.store.sqlite import SQLiteStore

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
