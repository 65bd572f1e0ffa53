"""The store backends every store test runs against, in one place.

A new backend (PostgreSQL, say) joins the whole suite by adding one
:class:`StoreBackend` to :data:`BACKENDS`: ``create`` builds a fresh, empty,
provisioned store inside a per-test directory (a backend that does not live
in files may use the directory name as a schema or database name), and
``reopen`` opens the same store again after ``close()`` (``None`` for a
backend that does not persist).

``tests/conftest.py`` imports the fixtures below, so any test module may ask
for ``store`` (a fresh store, closed afterwards) or ``store_backend``.

The PostgreSQL backend needs psycopg (the ``postgres`` extra) and a server:
set ``AXOLOTL_TEST_PG_DSN`` (``.ci/run`` starts one and sets it). Without them
the PostgreSQL cases skip, and the run ends with one line saying how many and
why (:func:`pg_skip_summary`), except under CI (env ``CI`` set), where they
fail, so a CI run cannot silently lose them. A CI phase that means to run
without PostgreSQL (``.ci/run`` first runs the README's test command as
written, without the extra) says so with ``AXOLOTL_TEST_PG_OPTIONAL=1``: the
cases then skip under CI too. Each store gets its own schema, named after its
directory, dropped when the test run ends. Nothing here imports psycopg or
``axolotl.store.postgres`` before that skip.
"""

from __future__ import annotations

import atexit
import hashlib
import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

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


PG_DSN_ENV = "AXOLOTL_TEST_PG_DSN"
PG_OPTIONAL_ENV = "AXOLOTL_TEST_PG_OPTIONAL"
PG_SKIP_PREFIX = "PostgreSQL: "
PG_OWNER = "local@s.example.1"
_pg_state: dict[str, Any] = {}


def _pg_unavailable(reason: str) -> NoReturn:
    """Skip for ``reason``, or fail under CI unless the run says PostgreSQL is optional."""
    if os.environ.get("CI") and os.environ.get(PG_OPTIONAL_ENV) != "1":
        pytest.fail(
            f"PostgreSQL tests must run under CI: {reason}"
            f" (set {PG_OPTIONAL_ENV}=1 for a run meant to skip them)"
        )
    pytest.skip(PG_SKIP_PREFIX + reason)


_NO_PSYCOPG = "psycopg is not installed (pip install -e '.[postgres]')"


def require_psycopg() -> None:
    """For a test that needs psycopg but no server: skip (or fail under CI) without it."""
    try:
        import psycopg  # noqa: F401
        import psycopg_pool  # noqa: F401
    except ImportError:
        _pg_unavailable(_NO_PSYCOPG)


def _pg_admin() -> Any:
    """An autocommit connection for creating schemas; skip or fail when there is none."""
    if "admin" in _pg_state:
        return _pg_state["admin"]
    reason = _pg_state.get("reason")
    if reason is None:
        dsn = os.environ.get(PG_DSN_ENV)
        try:
            import psycopg
        except ImportError:
            reason = _NO_PSYCOPG
        else:
            if not dsn:
                reason = f"no server: set {PG_DSN_ENV} to a PostgreSQL DSN (.ci/run does)"
            else:
                try:
                    _pg_state["admin"] = psycopg.connect(dsn, autocommit=True, connect_timeout=5)
                    _pg_state["dsn"] = dsn
                    atexit.register(_pg_drop_schemas)
                    return _pg_state["admin"]
                except psycopg.Error as exc:
                    reason = f"cannot connect to ${PG_DSN_ENV}: {str(exc).strip().splitlines()[0]}"
        _pg_state["reason"] = reason
    _pg_unavailable(reason)


def pg_skip_summary(skipped: Iterable[Any]) -> str | None:
    """One line on the PostgreSQL cases among ``skipped`` reports, or ``None`` if there are none.

    Counts the skips of :func:`_pg_admin` and those of a module skipped for want
    of psycopg (``pytest.importorskip``).
    """
    reasons: Counter[str] = Counter()
    for report in skipped:
        longrepr = getattr(report, "longrepr", None)
        if not (isinstance(longrepr, tuple) and len(longrepr) == 3):
            continue
        reason = str(longrepr[2]).removeprefix("Skipped: ")
        if reason.startswith(PG_SKIP_PREFIX):
            reasons[reason.removeprefix(PG_SKIP_PREFIX)] += 1
        elif "psycopg" in reason:
            reasons[reason] += 1
    if not reasons:
        return None
    why = "; ".join(reasons)
    return f"PostgreSQL: {sum(reasons.values())} cases skipped: {why}"


def pg_schema_dsn(directory: Path, *, fresh: bool) -> str:
    """A DSN whose search_path is the schema of ``directory`` (created empty if ``fresh``)."""
    admin = _pg_admin()
    from psycopg import sql
    from psycopg.conninfo import make_conninfo

    schema = "axt_" + hashlib.sha256(str(directory).encode()).hexdigest()[:24]
    if fresh:
        admin.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
        admin.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        _pg_state.setdefault("schemas", set()).add(schema)
    dsn: str = make_conninfo(_pg_state["dsn"], options=f"-csearch_path={schema}")
    return dsn


def _pg_drop_schemas() -> None:
    admin = _pg_state.get("admin")
    if admin is None or admin.closed:
        return
    from psycopg import sql

    drop = sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE")
    for schema in sorted(_pg_state.get("schemas", ())):
        try:
            admin.execute(drop.format(sql.Identifier(schema)))
        except Exception:
            break
    admin.close()


def _pg_create(directory: Path, identity: IdentityKeyPair, registration_id: int) -> ProtocolStore:
    # The DSN first: it skips (or fails under CI) before anything imports psycopg.
    dsn = pg_schema_dsn(directory, fresh=True)
    from axolotl.store.postgres import PostgresStore

    return PostgresStore.create(dsn, PG_OWNER, identity, registration_id)


def _pg_reopen(directory: Path) -> ProtocolStore:
    dsn = pg_schema_dsn(directory, fresh=False)
    from axolotl.store.postgres import PostgresStore

    return PostgresStore.open(dsn, PG_OWNER)


BACKENDS: list[StoreBackend] = [
    StoreBackend("memory", lambda d, identity, reg: MemoryStore(identity, reg)),
    StoreBackend(
        "sqlite",
        lambda d, identity, reg: SQLiteStore.create(_sqlite_path(d), identity, reg),
        lambda d: SQLiteStore.open(_sqlite_path(d)),
    ),
    StoreBackend("postgres", _pg_create, _pg_reopen),
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
