"""The store package's public import paths: every documented one works and names the same object.

The backends live in sub-packages (``axolotl.store.sqlite``,
``axolotl.store.postgres``) beside the shared SQL body and checks; what users
import is listed here, so a move inside the package cannot break it.
"""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import axolotl
import axolotl.store
import axolotl.store.base
import axolotl.store.memory
import axolotl.store.migrations
import axolotl.store.sqlite
import axolotl.store.sqlite.migrations
from tests.store_fixtures import require_psycopg

# Every name a documented path exports, and where the object really lives.
_PATHS: dict[str, dict[str, str]] = {
    "axolotl.store": {
        "IdentityKeyStore": "axolotl.store.base",
        "PreKeyStore": "axolotl.store.base",
        "SignedPreKeyStore": "axolotl.store.base",
        "SessionStore": "axolotl.store.base",
        "SenderKeyStore": "axolotl.store.base",
        "RetryStore": "axolotl.store.base",
        "ProtocolStore": "axolotl.store.base",
        "PRE_KEY_ID_MODULUS": "axolotl.store.base",
        "advance_pre_key_counter": "axolotl.store.base",
        "MemoryStore": "axolotl.store.memory",
        "SQLiteStore": "axolotl.store.sqlite",
        "MIGRATIONS": "axolotl.store.sqlite.migrations",
        "SCHEMA_VERSION": "axolotl.store.sqlite.migrations",
        "Migration": "axolotl.store.sqlite.migrations",
    },
    "axolotl.store.sqlite": {
        "SQLiteStore": "axolotl.store.sqlite",
        "MIGRATIONS": "axolotl.store.sqlite.migrations",
        "SCHEMA_VERSION": "axolotl.store.sqlite.migrations",
        "Migration": "axolotl.store.sqlite.migrations",
        "migrate": "axolotl.store.sqlite.migrations",
    },
    # The module's former home, kept so its imports keep working.
    "axolotl.store.migrations": {
        "MIGRATIONS": "axolotl.store.sqlite.migrations",
        "SCHEMA_VERSION": "axolotl.store.sqlite.migrations",
        "Migration": "axolotl.store.sqlite.migrations",
        "migrate": "axolotl.store.sqlite.migrations",
        "APPLICATION_ID": "axolotl.store.sqlite._connection",
        "DB_ERRORS": "axolotl.store.sqlite._connection",
        "immediate": "axolotl.store.sqlite._connection",
        "storage_error": "axolotl.store.sqlite._connection",
    },
}


@pytest.mark.parametrize("path", sorted(_PATHS))
def test_a_public_path_exports_its_names_and_only_them(path: str) -> None:
    module = importlib.import_module(path)
    assert sorted(module.__all__) == sorted(_PATHS[path])
    for name, home in _PATHS[path].items():
        assert getattr(module, name) is getattr(importlib.import_module(home), name), name


def test_the_base_and_memory_modules_keep_their_names() -> None:
    base = axolotl.store.base
    for name in ("ProtocolStore", "RetryStore", "SessionStore", "advance_pre_key_counter"):
        assert getattr(base, name) is getattr(axolotl.store, name)
    assert axolotl.store.memory.MemoryStore is axolotl.store.MemoryStore


def test_the_top_level_package_reexports_the_stores() -> None:
    assert axolotl.MemoryStore is axolotl.store.memory.MemoryStore
    assert axolotl.SQLiteStore is axolotl.store.sqlite.SQLiteStore
    assert axolotl.ProtocolStore is axolotl.store.base.ProtocolStore


def test_the_postgres_paths_name_one_class() -> None:
    require_psycopg()
    from axolotl.store import PostgresStore
    from axolotl.store.postgres import (
        DEFAULT_LOCK_TIMEOUT_MS,
        PG_SCHEMA_VERSION,
    )
    from axolotl.store.postgres import PostgresStore as Direct

    postgres = importlib.import_module("axolotl.store.postgres")
    assert sorted(postgres.__all__) == [
        "DEFAULT_LOCK_TIMEOUT_MS",
        "PG_SCHEMA_VERSION",
        "PostgresStore",
    ]
    assert PostgresStore is Direct
    assert DEFAULT_LOCK_TIMEOUT_MS == 10_000 and PG_SCHEMA_VERSION >= 1


def test_without_psycopg_the_postgres_paths_say_what_to_install() -> None:
    # Both ways in raise an ImportError naming the extra, not psycopg's own
    # "import halted" error from somewhere inside the package.
    code = (
        "import sys; sys.modules['psycopg'] = None\n"
        "import axolotl.store\n"
        "for attempt in ('import axolotl.store.postgres', "
        "'from axolotl.store import PostgresStore'):\n"
        "    sys.modules.pop('axolotl.store.postgres', None)\n"
        "    try:\n"
        "        exec(attempt)\n"
        "    except ImportError as exc:\n"
        "        assert \"pip install 'axolotl-retry[postgres]'\" in str(exc), exc\n"
        "    else:\n"
        "        raise AssertionError(attempt + ' imported without psycopg')\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
