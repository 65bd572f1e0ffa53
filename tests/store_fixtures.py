"""The store backends every store test runs against, in one place.

A new backend (PostgreSQL, say) joins the whole suite by adding one
:class:`StoreBackend` to :data:`BACKENDS`: ``create`` builds a fresh, empty,
provisioned store inside a per-test directory (a backend that does not live
in files may use the directory name as a schema or database name), and
``reopen`` opens the same store again after ``close()`` (``None`` for a
backend that does not persist).

``tests/conftest.py`` imports the fixtures below, so any test module may ask
for ``store`` (a fresh store, closed afterwards) or ``store_backend``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from axolotl.keys import IdentityKeyPair, generate_identity_key_pair
from axolotl.rng import DeterministicRng
from axolotl.store import MemoryStore, ProtocolStore, SQLiteStore

LOCAL_IDENTITY: IdentityKeyPair = generate_identity_key_pair(DeterministicRng("store-tests"))
LOCAL_REGISTRATION_ID = 4242


@dataclass(frozen=True)
class StoreBackend:
    """How to make (and remake) one kind of store for tests.

    Attributes:
        name: the pytest id.
        create: ``create(directory, identity, registration_id)`` -> fresh store.
        reopen: ``reopen(directory)`` -> the same store after ``close()``, or
            ``None`` when the backend does not persist.
    """

    name: str
    create: Callable[[Path, IdentityKeyPair, int], ProtocolStore]
    reopen: Callable[[Path], ProtocolStore] | None = None

    def __str__(self) -> str:
        return self.name


def _sqlite_path(directory: Path) -> Path:
    return directory / "axolotl-store.db"


BACKENDS: list[StoreBackend] = [
    StoreBackend("memory", lambda d, identity, reg: MemoryStore(identity, reg)),
    StoreBackend(
        "sqlite",
        lambda d, identity, reg: SQLiteStore.create(_sqlite_path(d), identity, reg),
        lambda d: SQLiteStore.open(_sqlite_path(d)),
    ),
]
"""Every backend the shared suite runs against."""

PERSISTENT_BACKENDS: list[StoreBackend] = [b for b in BACKENDS if b.reopen is not None]


@pytest.fixture(params=BACKENDS, ids=str)
def store_backend(request: pytest.FixtureRequest) -> StoreBackend:
    """Each backend in turn."""
    backend: StoreBackend = request.param
    return backend


@pytest.fixture
def store(store_backend: StoreBackend, tmp_path: Path) -> Iterator[ProtocolStore]:
    """A fresh store of each backend, provisioned with :data:`LOCAL_IDENTITY`."""
    fresh = store_backend.create(tmp_path, LOCAL_IDENTITY, LOCAL_REGISTRATION_ID)
    yield fresh
    fresh.close()
