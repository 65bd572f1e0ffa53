"""PostgreSQL-only store behaviour: tenancy, schema versions, connections, pools, locks.

The shared suite (``tests/test_store.py``, ``tests/test_store_retry.py``) runs on
PostgreSQL through ``tests/store_fixtures.py``; these are the rest. They skip
without a server (``AXOLOTL_TEST_PG_DSN``) and fail without one under CI.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("psycopg", reason="psycopg is not installed (pip install -e '.[postgres]')")

import psycopg

from axolotl.address import ProtocolAddress
from axolotl.errors import LockTimeout, SchemaVersionError, StorageError, UsageError
from axolotl.keys import generate_identity_key_pair
from axolotl.rng import DeterministicRng
from axolotl.store import PostgresStore, ProtocolStore
from axolotl.store.postgres._migrations import PG_SCHEMA_VERSION
from tests.store_fixtures import (
    LOCAL_IDENTITY,
    LOCAL_REGISTRATION_ID,
    pg_schema_dsn,
)

ALICE = ProtocolAddress("alice", 1)
OTHER = generate_identity_key_pair(DeterministicRng("pg-other"))


@pytest.fixture
def dsn(tmp_path: Path) -> str:
    """A DSN onto a fresh, empty schema of its own."""
    return pg_schema_dsn(tmp_path, fresh=True)


@pytest.fixture
def conn(dsn: str) -> Iterator[psycopg.Connection[Any]]:
    c = psycopg.connect(dsn, autocommit=True)
    yield c
    c.close()


def _create(source: Any, owner: str = "me", **kwargs: Any) -> PostgresStore:
    return PostgresStore.create(source, owner, LOCAL_IDENTITY, LOCAL_REGISTRATION_ID, **kwargs)


def test_importing_axolotl_does_not_need_psycopg() -> None:
    import subprocess
    import sys

    code = (
        "import sys; sys.modules['psycopg'] = None; import axolotl, axolotl.store; "
        "assert 'axolotl.store.postgres' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_owners_share_tables_but_not_rows(dsn: str) -> None:
    with (
        _create(dsn, "alice@s.example.1") as a,
        PostgresStore.create(dsn, "bob@s.example.1", OTHER, 7) as b,
    ):
        assert isinstance(a, ProtocolStore)
        a.store_session(ALICE, b"a's")
        a.put_record("outbox", "m1", b"x", 5)
        assert b.load_session(ALICE) is None
        assert b.count_records("outbox") == 0 and b.next_due_ms(["outbox"]) is None
        b.store_session(ALICE, b"b's")
        assert a.load_session(ALICE) == b"a's"
        assert b.get_identity_key_pair() == OTHER and b.get_local_registration_id() == 7
        b.delete_all_sessions("alice")
        assert a.get_sub_device_sessions("alice") == [1]


def test_open_requires_a_provisioned_owner_and_create_refuses_another_identity(dsn: str) -> None:
    with pytest.raises(StorageError, match="not provisioned"):
        PostgresStore.open(dsn, "nobody")
    _create(dsn).close()
    with pytest.raises(StorageError, match="different identity"):
        PostgresStore.create(dsn, "me", OTHER, LOCAL_REGISTRATION_ID)
    with PostgresStore.open(dsn, "me") as store:
        assert store.get_identity_key_pair() == LOCAL_IDENTITY
    with PostgresStore.open_or_create(dsn, "fresh", DeterministicRng(1)) as first:
        identity = first.get_identity_key_pair()
    with PostgresStore.open_or_create(dsn, "fresh", DeterministicRng(2)) as again:
        assert again.get_identity_key_pair() == identity


def test_schema_version_is_recorded_and_a_newer_one_is_refused(dsn: str, conn: Any) -> None:
    _create(dsn).close()
    assert conn.execute("SELECT version FROM axolotl_schema").fetchone() == (PG_SCHEMA_VERSION,)
    conn.execute("UPDATE axolotl_schema SET version = %s", (PG_SCHEMA_VERSION + 1,))
    for opener in (
        lambda: PostgresStore.open(dsn, "me"),
        lambda: PostgresStore.open_or_create(dsn, "me"),
        lambda: _create(dsn),
    ):
        with pytest.raises(SchemaVersionError, match="upgrade axolotl-retry"):
            opener()


def test_a_dsn_that_cannot_connect_says_what_to_check() -> None:
    with pytest.raises(StorageError, match="check that the server is running"):
        _create("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2")


def test_bad_arguments(dsn: str) -> None:
    with pytest.raises(UsageError):
        _create(dsn, "")
    with pytest.raises(UsageError):
        _create(dsn, lock_timeout_ms=-1)
    with pytest.raises(TypeError):
        _create(42)


def test_a_passed_connection_stays_open(dsn: str) -> None:
    c = psycopg.connect(dsn)  # not autocommit: the store switches it
    store = _create(c)
    with store.transaction():
        store.store_session(ALICE, b"kept")
    store.close()
    assert not c.closed
    with PostgresStore.open(c, "me") as again:
        assert again.load_session(ALICE) == b"kept"
    c.close()


def test_a_pool_serves_many_stores(dsn: str) -> None:
    pool_module = pytest.importorskip("psycopg_pool")
    with pool_module.ConnectionPool(dsn, min_size=1, max_size=2, open=True) as pool:
        stores = [_create(pool, f"owner-{i}") for i in range(5)]
        for i, store in enumerate(stores):
            with store.transaction():
                store.store_session(ALICE, b"s%d" % i)
                store.put_record("delivered", "m", b"", i)
        assert [s.load_session(ALICE) for s in stores] == [b"s%d" % i for i in range(5)]
        assert all(s.count_records("delivered") == 1 for s in stores)
        for store in stores:
            store.close()
        with pool.connection() as c:
            assert not c.autocommit  # handed back as it was lent


def test_lock_timeout_is_typed_and_writes_nothing(dsn: str) -> None:
    holder = _create(dsn)
    waiter = PostgresStore.open(dsn, "me", lock_timeout_ms=50)
    other_owner = PostgresStore.create(dsn, "someone-else", OTHER, 1, lock_timeout_ms=50)
    try:
        with holder.transaction():
            holder.store_session(ALICE, b"holder")
            with pytest.raises(LockTimeout, match="retry the step") as info:
                waiter.store_session(ALICE, b"waiter")
            assert info.value.owner == "me" and info.value.timeout_ms == 50
            with pytest.raises(LockTimeout), waiter.transaction():
                waiter.put_record("outbox", "m", b"never")
            other_owner.store_session(ALICE, b"not blocked")  # another owner's lock
            assert waiter.load_session(ALICE) is None  # a read takes no lock
        assert waiter.load_session(ALICE) == b"holder"
        assert waiter.get_record("outbox", "m") is None
        waiter.store_session(ALICE, b"after")  # the store still works
        assert holder.load_session(ALICE) == b"after"
    finally:
        for s in (holder, waiter, other_owner):
            s.close()


def test_a_step_sees_what_the_previous_holder_committed(dsn: str) -> None:
    first, second = _create(dsn), PostgresStore.open(dsn, "me")
    try:
        with second.transaction():
            pass  # a transaction on the second connection before the first writes
        with first.transaction():
            first.put_record("delivered", "a", b"", 1)
        with second.transaction():
            assert second.count_records("delivered") == 1
            second.put_record("delivered", "b", b"", 2)
            assert second.evict_records("delivered", 1) == 1
        assert first.records("delivered") == [("b", b"", 2)]
        assert first.count_records("delivered") == 1
    finally:
        first.close()
        second.close()


def test_closing_inside_a_transaction_rolls_back(dsn: str) -> None:
    store = _create(dsn)
    store.store_session(ALICE, b"committed")
    store.transaction().__enter__()
    store.store_session(ALICE, b"never committed")
    store.close()
    with PostgresStore.open(dsn, "me") as again:
        assert again.load_session(ALICE) == b"committed"


class _Boom(Exception):
    pass


def test_leaving_a_block_the_store_was_closed_in_is_a_storage_error(dsn: str) -> None:
    # As in the SQLite store: the block cannot commit, and says so with a
    # StorageError; a block left by an exception lets that exception through.
    store = _create(dsn)
    with pytest.raises(StorageError, match="closed"), store.transaction(), store.transaction():
        store.store_session(ALICE, b"never committed")
        store.close()
    other = _create(dsn)
    with pytest.raises(_Boom), other.transaction():
        other.store_session(ALICE, b"never committed either")
        other.close()
        raise _Boom
    with PostgresStore.open(dsn, "me") as again:
        assert again.load_session(ALICE) is None


def test_nul_in_a_name_is_a_storage_error(dsn: str) -> None:
    with _create(dsn) as store:
        with pytest.raises(StorageError, match="NUL"):
            store.store_session(ProtocolAddress("a\x00b", 1), b"x")
        with pytest.raises(StorageError, match="NUL"):
            store.delete_sender_key("g\x00", ALICE)
        with pytest.raises(StorageError, match="NUL"):
            store.delete_sender_key("g", ProtocolAddress("a\x00b", 1))


def _owner_rows(conn: Any, owner: str) -> dict[str, int]:
    from axolotl.store.postgres._migrations import OWNER_TABLES

    return {
        t: conn.execute(f"SELECT count(*) FROM {t} WHERE owner = %s", (owner,)).fetchone()[0]
        for t in OWNER_TABLES
    }


def test_delete_owner_removes_every_row_of_that_owner_only(dsn: str, conn: Any) -> None:
    for owner in ("gone", "kept"):
        with _create(dsn, owner) as store, store.transaction():
            store.store_session(ALICE, b"s")
            store.save_identity(ALICE, OTHER.public_key)
            store.store_sender_key("g", ALICE, b"k")
            store.put_record("outbox", "m1", b"x", 5)
            store.next_pre_key_id()
    assert all(_owner_rows(conn, "gone")[t] for t in ("axolotl_sessions", "axolotl_local_identity"))
    assert PostgresStore.delete_owner(dsn, "gone") is True
    assert set(_owner_rows(conn, "gone").values()) == {0}
    assert _owner_rows(conn, "kept")["axolotl_retry_records"] == 1
    with PostgresStore.open(dsn, "kept") as kept:
        assert kept.load_session(ALICE) == b"s" and kept.count_records("outbox") == 1
    assert PostgresStore.delete_owner(dsn, "gone") is False
    with pytest.raises(StorageError, match="not provisioned"):
        PostgresStore.open(dsn, "gone")
    with pytest.raises(UsageError):
        PostgresStore.delete_owner(dsn, "")


def test_synchronous_commit_can_be_relaxed_per_store(dsn: str) -> None:
    def setting(store: PostgresStore) -> str:
        with store.transaction():
            (row,) = store._read("SHOW synchronous_commit", (), "show")
        return str(row[0])

    with _create(dsn) as durable, _create(dsn, synchronous_commit=False) as relaxed:
        assert durable.synchronous_commit and setting(durable) == "on"
        assert not relaxed.synchronous_commit and setting(relaxed) == "off"
        with relaxed.transaction():
            relaxed.store_session(ALICE, b"committed")
        assert durable.load_session(ALICE) == b"committed"
    with PostgresStore.open(dsn, "me", synchronous_commit=False) as reopened:
        assert setting(reopened) == "off"
    with pytest.raises(UsageError):
        _create(dsn, synchronous_commit="off")


class _Boom(Exception):
    pass


def _statements(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every statement a psycopg connection sends from now on (its SQL text)."""
    sent: list[str] = []
    execute = psycopg.Connection.execute

    def traced(self: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
        text = query.decode() if isinstance(query, bytes) else str(query)
        sent.append(
            text.split(" ", 1)[0]
            if not text.startswith(("SAVEPOINT", "RELEASE", "ROLLBACK"))
            else text
        )
        return execute(self, query, *args, **kwargs)

    monkeypatch.setattr(psycopg.Connection, "execute", traced)
    return sent


def test_savepoints_are_made_only_before_a_write_and_in_one_round_trip(
    dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with _create(dsn) as store:
        sent = _statements(monkeypatch)
        with store.transaction():
            with store.transaction(), store.transaction():
                store.load_session(ALICE)  # reads only: no savepoint at all
            with store.transaction(), store.transaction():
                store.store_session(ALICE, b"1")
            with store.transaction():
                store.store_session(ALICE, b"2")
            with pytest.raises(_Boom), store.transaction():
                store.store_session(ALICE, b"3")
                raise _Boom
            with pytest.raises(_Boom), store.transaction():
                store.load_session(ALICE)
                raise _Boom  # wrote nothing: nothing to roll back, nothing sent
        assert sent == [
            "BEGIN;",
            "SELECT",
            "SAVEPOINT sp1; SAVEPOINT sp2",
            "INSERT",
            "RELEASE sp1; SAVEPOINT sp1",  # the finished sibling's savepoint goes with it
            "INSERT",
            "RELEASE sp1; SAVEPOINT sp1",
            "INSERT",
            "ROLLBACK TO sp1; RELEASE sp1",
            "SELECT",
            "COMMIT",
        ]
        assert store.load_session(ALICE) == b"2"


def test_many_sibling_blocks_keep_their_writes_and_undo_theirs(dsn: str) -> None:
    with _create(dsn) as store:
        with store.transaction():
            for i in range(300):
                try:
                    with store.transaction():
                        store.put_record("outbox", f"m{i}", b"x", i)
                        with store.transaction():
                            store.store_session(ProtocolAddress("a", i + 1), b"s")
                        if i % 3 == 0:
                            raise _Boom
                except _Boom:
                    pass
            assert store.count_records("outbox") == 200
        assert store.count_records("outbox") == 200
        assert len(store.records("outbox")) == 200
        assert store.get_sub_device_sessions("a") == [i + 1 for i in range(300) if i % 3]


def test_a_failed_statement_in_a_block_without_savepoint_fails_the_step(dsn: str) -> None:
    with _create(dsn) as store:
        store.store_session(ALICE, b"before")
        with (
            pytest.raises(StorageError, match="aborted the whole transaction"),
            store.transaction(),
        ):
            store.store_session(ALICE, b"written in the step")
            # The error is swallowed inside the block: the block's end still refuses.
            with store.transaction(), contextlib.suppress(StorageError):
                store._read("SELECT 1 / 0", (), "divide")
        assert store.load_session(ALICE) == b"before"
        with (
            pytest.raises(StorageError, match="aborted the whole transaction"),
            store.transaction(),
        ):
            store.store_session(ALICE, b"written in the step")
            with contextlib.suppress(StorageError):
                store._read("SELECT 1 / 0", (), "divide")  # swallowed in the outer block
        assert store.load_session(ALICE) == b"before", "never a silent partial commit"
        with store.transaction():
            store.store_session(ALICE, b"after")
        assert store.load_session(ALICE) == b"after"
