"""The retry-record half of the stores (:class:`axolotl.store.base.RetryStore`).

Every test runs against every backend in ``tests/store_fixtures.py``; the
SQLite schema migration from version 1 follows. ``tests/test_store.py`` holds
the shared snapshot, rollback and "backends agree" tests, which cover these
records too.
"""

from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from axolotl.address import ProtocolAddress
from axolotl.errors import StorageError, UsageError
from axolotl.store import (
    MIGRATIONS,
    SCHEMA_VERSION,
    MemoryStore,
    ProtocolStore,
    RetryStore,
    SQLiteStore,
)
from axolotl.store.sqlite.migrations import migrate
from tests.store_fixtures import (
    BACKENDS,
    LOCAL_IDENTITY,
    LOCAL_REGISTRATION_ID,
    PERSISTENT_BACKENDS,
    StoreBackend,
)

ALICE = ProtocolAddress("alice", 1)


class Boom(Exception):
    pass


def keys(rows: list[tuple[Any, ...]]) -> list[str]:
    return [row[0] for row in rows]


# -- single records --------------------------------------------------------------


def test_implements_the_protocol(store: ProtocolStore) -> None:
    assert isinstance(store, RetryStore)


def test_round_trip(store: ProtocolStore) -> None:
    assert store.get_record("outbox", "m1") is None
    store.put_record("outbox", "m1", b"envelope", 100)
    value = store.get_record("outbox", "m1")
    assert value == b"envelope" and type(value) is bytes
    assert store.get_record("sendlog", "m1") is None  # kinds are separate
    assert store.get_record("outbox", "m2") is None
    store.put_record("outbox", "m1", b"replaced")
    assert store.get_record("outbox", "m1") == b"replaced"
    store.put_record("delivered", "m1", b"")  # an empty value is a record
    assert store.get_record("delivered", "m1") == b""
    assert store.count_records("delivered") == 1
    store.delete_record("outbox", "m1")
    assert store.get_record("outbox", "m1") is None
    store.delete_record("outbox", "m1")  # absent: no error
    store.delete_record("never-used-kind", "m1")
    assert store.get_record("delivered", "m1") == b""


def test_values_are_copied(store: ProtocolStore) -> None:
    buffer = bytearray(b"mutable")
    store.put_record("outbox", "m", buffer)  # type: ignore[arg-type]
    buffer[0:1] = b"X"
    assert store.get_record("outbox", "m") == b"mutable"
    store.put_record("outbox", "v", memoryview(b"view"))  # type: ignore[arg-type]
    assert store.get_record("outbox", "v") == b"view"


def test_unusual_keys(store: ProtocolStore) -> None:
    odd = ["\x00", "a\x00b", "bob\x1f1\x1fmsg", "\u00e9", "\U0001f600", "x" * 2000]
    for i, key in enumerate(odd):
        store.put_record("k", key, bytes([i]), i)
    for i, key in enumerate(odd):
        assert store.get_record("k", key) == bytes([i])
    assert keys(store.records("k")) == odd  # due 0..5 in order


def test_big_values(store: ProtocolStore) -> None:
    big = bytes(range(256)) * 1024
    store.put_record("sendlog", "m", big, 5)
    assert store.get_record("sendlog", "m") == big
    assert store.due_records("sendlog", 5, 1) == [("m", big, 5)]


# -- ordering ------------------------------------------------------------------------


def _fill(store: ProtocolStore) -> None:
    for key, due in [("c", 5), ("a", 5), ("b", 1), ("n2", None), ("d", 9), ("n1", None)]:
        store.put_record("outbox", key, key.encode(), due)
    store.put_record("other", "x", b"x", 0)


def test_due_records(store: ProtocolStore) -> None:
    _fill(store)
    assert store.due_records("outbox", 0, 10) == []
    assert store.due_records("outbox", 1, 10) == [("b", b"b", 1)]  # <= now
    assert store.due_records("outbox", 5, 10) == [("b", b"b", 1), ("a", b"a", 5), ("c", b"c", 5)]
    assert keys(store.due_records("outbox", 10**6, 10)) == ["b", "a", "c", "d"]  # never n1, n2
    assert keys(store.due_records("outbox", 10**6, 2)) == ["b", "a"]
    assert store.due_records("outbox", 10**6, 0) == []
    assert store.due_records("nothing", 10**6, 10) == []
    assert keys(store.due_records("outbox", 2**80, 2**80)) == ["b", "a", "c", "d"]
    assert store.due_records("outbox", -(2**80), 10) == []


def test_records_order_undue_last(store: ProtocolStore) -> None:
    _fill(store)
    rows = store.records("outbox")
    assert rows == [
        ("b", b"b", 1),
        ("a", b"a", 5),
        ("c", b"c", 5),
        ("d", b"d", 9),
        ("n1", b"n1", None),
        ("n2", b"n2", None),
    ]
    assert store.records("outbox", 3) == rows[:3]
    assert store.records("outbox", 0) == []
    assert store.records("outbox", 100) == rows
    assert store.records("nothing") == []


def test_negative_and_extreme_due_times(store: ProtocolStore) -> None:
    lo, hi = -(2**63), 2**63 - 1
    store.put_record("t", "hi", b"", hi)
    store.put_record("t", "lo", b"", lo)
    store.put_record("t", "zero", b"", 0)
    store.put_record("t", "neg", b"", -1)
    assert keys(store.records("t")) == ["lo", "neg", "zero", "hi"]
    assert keys(store.due_records("t", -1, 10)) == ["lo", "neg"]
    assert keys(store.due_records("t", hi, 10)) == ["lo", "neg", "zero", "hi"]
    assert store.next_due_ms(["t"]) == lo


def test_upsert_replaces_due(store: ProtocolStore) -> None:
    store.put_record("outbox", "m", b"1", 10)
    store.put_record("outbox", "n", b"n", 20)
    assert store.next_due_ms(["outbox"]) == 10
    store.put_record("outbox", "m", b"2", 30)  # later now
    assert store.next_due_ms(["outbox"]) == 20
    assert store.records("outbox") == [("n", b"n", 20), ("m", b"2", 30)]
    store.put_record("outbox", "m", b"3")  # no due time at all: the default
    assert store.due_records("outbox", 100, 10) == [("n", b"n", 20)]
    assert store.records("outbox") == [("n", b"n", 20), ("m", b"3", None)]
    store.put_record("outbox", "m", b"4", 5)
    assert store.due_records("outbox", 100, 10) == [("m", b"4", 5), ("n", b"n", 20)]
    assert store.count_records("outbox") == 2


def test_next_due_ms(store: ProtocolStore) -> None:
    assert store.next_due_ms([]) is None
    assert store.next_due_ms(["outbox", "recv"]) is None
    store.put_record("outbox", "undue", b"")
    assert store.next_due_ms(["outbox"]) is None  # only records without a due time
    store.put_record("outbox", "m", b"", 40)
    store.put_record("recv", "r", b"", 30)
    store.put_record("delivered", "d", b"", 1)  # not asked about
    assert store.next_due_ms(["outbox"]) == 40
    assert store.next_due_ms(["outbox", "recv"]) == 30
    assert store.next_due_ms(("recv", "outbox", "recv", "gap")) == 30
    assert store.next_due_ms(["delivered", "recv"]) == 1
    store.delete_record("recv", "r")
    assert store.next_due_ms(["outbox", "recv"]) == 40


def test_get_records_reads_one_key_in_several_kinds(store: ProtocolStore) -> None:
    assert store.get_records([], "k") == {}
    assert store.get_records(["delivered", "inbox", "recv"], "k") == {}
    store.put_record("inbox", "k", b"i", 7)
    store.put_record("recv", "k", b"r")
    store.put_record("recv", "other", b"x")
    store.put_record("gap", "k", b"g")  # not asked about
    got = store.get_records(("delivered", "inbox", "recv", "inbox"), "k")
    assert got == {"inbox": b"i", "recv": b"r"}
    assert all(store.get_record(kind, "k") == value for kind, value in got.items())
    with store.transaction():
        store.delete_record("inbox", "k")
        assert store.get_records(["inbox", "recv"], "k") == {"recv": b"r"}
    for bad in ("inbox", ["", "recv"], [1]):
        with pytest.raises(UsageError):
            store.get_records(bad, "k")  # type: ignore[arg-type]
    with pytest.raises(UsageError):
        store.get_records(["inbox"], "")


def test_count_records(store: ProtocolStore) -> None:
    assert store.count_records("outbox") == 0
    for i in range(7):
        store.put_record("outbox", f"m{i}", b"", i if i % 2 else None)
    store.put_record("outbox", "m3", b"again", 3)  # an update is not a new record
    assert store.count_records("outbox") == 7
    store.delete_record("outbox", "m0")
    store.delete_record("outbox", "absent")
    assert store.count_records("outbox") == 6
    assert store.count_records("recv") == 0


# -- eviction ----------------------------------------------------------------------


def test_evict_records(store: ProtocolStore) -> None:
    for key, due in [("e", 3), ("d", 3), ("c", 1), ("keep-1", None), ("b", 7), ("keep-2", None)]:
        store.put_record("delivered", key, b"", due)
    assert store.evict_records("delivered", 6) == 0
    assert store.evict_records("delivered", 100) == 0
    assert store.evict_records("delivered", 4) == 2  # c (due 1), then d (tie at 3: by key)
    assert keys(store.records("delivered")) == ["e", "b", "keep-1", "keep-2"]
    assert store.evict_records("delivered", 0) == 2  # every record with a due time
    assert keys(store.records("delivered")) == ["keep-1", "keep-2"]  # undue never evicted
    assert store.evict_records("delivered", 0) == 0
    assert store.count_records("delivered") == 2
    assert store.evict_records("nothing", 0) == 0


def test_evict_counts_undue_records_towards_keep(store: ProtocolStore) -> None:
    for i in range(3):
        store.put_record("k", f"undue{i}", b"")
    for i in range(4):
        store.put_record("k", f"due{i}", b"", i)
    assert store.evict_records("k", 5) == 2
    assert keys(store.records("k")) == ["due2", "due3", "undue0", "undue1", "undue2"]
    assert store.evict_records("k", 1) == 2  # only the due ones can go
    assert store.count_records("k") == 3


def test_evict_touches_one_kind(store: ProtocolStore) -> None:
    for i in range(5):
        store.put_record("a", f"{i}", b"", i)
        store.put_record("b", f"{i}", b"", i)
    assert store.evict_records("a", 1) == 4
    assert store.count_records("a") == 1
    assert store.count_records("b") == 5


def test_evict_at_scale(store: ProtocolStore) -> None:
    with store.transaction():
        for i in range(20_000):
            store.put_record("delivered", f"id{i:05d}", b"", 1_000 + (i * 7919) % 20_000)
    assert store.count_records("delivered") == 20_000
    assert store.evict_records("delivered", 10_000) == 10_000
    assert store.count_records("delivered") == 10_000
    assert store.next_due_ms(["delivered"]) == 11_000  # the 10,000 earliest went
    # The steady state: one insert, one eviction.
    with store.transaction():
        for i in range(200):
            store.put_record("delivered", f"new{i:03d}", b"", 50_000 + i)
            assert store.evict_records("delivered", 10_000) == 1
    assert store.count_records("delivered") == 10_000
    assert store.next_due_ms(["delivered"]) == 11_200
    assert store.due_records("delivered", 11_201, 5) == store.records("delivered", 2)


# -- transactions --------------------------------------------------------------------


def _state(store: ProtocolStore) -> Any:
    return (
        {kind: store.records(kind) for kind in ("outbox", "delivered", "recv")},
        {kind: store.count_records(kind) for kind in ("outbox", "delivered", "recv")},
        store.next_due_ms(["outbox", "delivered", "recv"]),
        store.load_session(ALICE),
    )


def _seed(store: ProtocolStore) -> None:
    store.store_session(ALICE, b"session-0")
    for i in range(6):
        store.put_record("outbox", f"m{i}", b"env%d" % i, 10 * i)
        store.put_record("delivered", f"d{i}", b"", i)
    store.put_record("recv", "r", b"fail", None)


def test_rollback_undoes_records_with_session_writes(store: ProtocolStore) -> None:
    _seed(store)
    before = _state(store)
    with pytest.raises(Boom), store.transaction():
        store.store_session(ALICE, b"session-1")
        store.put_record("outbox", "m0", b"changed", 99)  # value and due
        store.put_record("outbox", "m1", b"undue")  # due -> None
        store.put_record("outbox", "m9", b"new", 1)
        store.delete_record("outbox", "m2")
        store.put_record("outbox", "m2", b"back", 2)  # deleted then re-added
        store.delete_record("recv", "r")
        store.put_record("recv", "r", b"again", 4)
        assert store.evict_records("delivered", 2) == 4
        store.put_record("brand-new-kind", "x", b"")
        assert store.load_session(ALICE) == b"session-1"
        raise Boom
    assert _state(store) == before
    assert store.count_records("brand-new-kind") == 0
    assert store.due_records("outbox", 25, 10) == [
        ("m0", b"env0", 0),
        ("m1", b"env1", 10),
        ("m2", b"env2", 20),
    ]


def test_inner_rollback_caught_keeps_outer_records(store: ProtocolStore) -> None:
    _seed(store)
    with store.transaction():
        store.put_record("outbox", "outer", b"o", 1)
        try:
            with store.transaction():
                store.put_record("outbox", "inner", b"i", 2)
                store.evict_records("outbox", 0)
                store.store_session(ALICE, b"inner")
                raise Boom
        except Boom:
            pass
        assert store.get_record("outbox", "inner") is None
        assert store.count_records("outbox") == 7
    assert store.get_record("outbox", "outer") == b"o"
    assert store.load_session(ALICE) == b"session-0"
    assert keys(store.records("outbox"))[:2] == ["m0", "outer"]


def test_committed_records_are_kept(store: ProtocolStore) -> None:
    with store.transaction():
        store.put_record("outbox", "m", b"v", 1)
        store.store_session(ALICE, b"s")
    with pytest.raises(Boom), store.transaction():
        store.delete_record("outbox", "m")
        raise Boom
    assert store.get_record("outbox", "m") == b"v"
    assert store.load_session(ALICE) == b"s"


def test_evict_rollback_at_scale(store: ProtocolStore) -> None:
    with store.transaction():
        for i in range(20_000):
            store.put_record("delivered", f"id{i:05d}", b"", i)
    with pytest.raises(Boom), store.transaction():
        assert store.evict_records("delivered", 10_000) == 10_000
        raise Boom
    assert store.count_records("delivered") == 20_000
    assert store.due_records("delivered", 2, 10) == [
        ("id00000", b"", 0),
        ("id00001", b"", 1),
        ("id00002", b"", 2),
    ]


def test_write_after_close_raises_storage_error(
    store_backend: StoreBackend, tmp_path: Path
) -> None:
    store = store_backend.create(tmp_path, LOCAL_IDENTITY, LOCAL_REGISTRATION_ID)
    store.put_record("outbox", "m", b"v", 1)
    store.close()
    with pytest.raises(StorageError):
        store.put_record("outbox", "m", b"x", 1)
    with pytest.raises(StorageError):
        store.put_record("fresh-kind", "m", b"x", 1)
    with pytest.raises(StorageError):
        store.delete_record("outbox", "m")
    with pytest.raises(StorageError):
        store.evict_records("outbox", 0)


# -- bad arguments -------------------------------------------------------------------

_BAD_CALLS: list[tuple[str, tuple[Any, ...]]] = [
    ("get_record", ("", "k")),
    ("get_record", ("outbox", "")),
    ("get_record", (b"outbox", "k")),
    ("get_record", ("outbox", 5)),
    ("get_record", ("outbox", None)),
    ("get_record", ("outbox", "\ud800")),  # a lone surrogate: no backend can store it
    ("get_record", ("\udfff", "k")),
    ("put_record", ("outbox", "k", "text", 1)),
    ("put_record", ("outbox", "k", None, 1)),
    ("put_record", ("outbox", "k", b"v", True)),  # bool is not a time
    ("put_record", ("outbox", "k", b"v", 1.5)),
    ("put_record", ("outbox", "k", b"v", "1")),
    ("put_record", ("outbox", "k", b"v", 2**63)),  # past SQLite's INTEGER
    ("put_record", ("outbox", "k", b"v", -(2**63) - 1)),
    ("put_record", ("", "k", b"v", None)),
    ("put_record", ("outbox", "", b"v", None)),
    ("put_record", ("outbox", "\ud800", b"v", None)),
    ("delete_record", ("outbox", "")),
    ("delete_record", (None, "k")),
    ("due_records", ("outbox", 1, -1)),
    ("due_records", ("outbox", 1, True)),
    ("due_records", ("outbox", 1.0, 1)),
    ("due_records", ("outbox", None, 1)),
    ("due_records", ("", 1, 1)),
    ("records", ("outbox", -1)),
    ("records", ("outbox", 1.5)),
    ("records", ("", None)),
    ("next_due_ms", ("outbox",)),  # a bare str is not a sequence of kinds here
    ("next_due_ms", (["outbox", ""],)),
    ("next_due_ms", ([5],)),
    ("next_due_ms", (None,)),
    ("count_records", ("",)),
    ("count_records", (3,)),
    ("evict_records", ("outbox", -1)),
    ("evict_records", ("outbox", False)),
    ("evict_records", ("outbox", None)),
    ("evict_records", ("", 1)),
]


@pytest.mark.parametrize(("method", "args"), _BAD_CALLS, ids=lambda v: repr(v)[:40])
def test_bad_arguments_raise_usage_error(
    store: ProtocolStore, method: str, args: tuple[Any, ...]
) -> None:
    store.put_record("outbox", "k", b"kept", 1)
    with pytest.raises(UsageError):
        getattr(store, method)(*args)
    assert store.records("outbox") == [("k", b"kept", 1)]


# -- persistence ---------------------------------------------------------------------


@pytest.mark.parametrize("backend", PERSISTENT_BACKENDS, ids=str)
def test_reopen_keeps_records(backend: StoreBackend, tmp_path: Path) -> None:
    assert backend.reopen is not None
    store = backend.create(tmp_path, LOCAL_IDENTITY, LOCAL_REGISTRATION_ID)
    _seed(store)
    with pytest.raises(Boom), store.transaction():
        store.put_record("outbox", "rolled-back", b"", 0)
        raise Boom
    before = _state(store)
    store.close()
    reopened = backend.reopen(tmp_path)
    try:
        assert _state(reopened) == before
        assert reopened.get_record("outbox", "rolled-back") is None
        assert reopened.evict_records("delivered", 3) == 3  # counts survived too
    finally:
        reopened.close()


def test_sqlite_migrates_a_version_1_database(tmp_path: Path) -> None:
    path = tmp_path / "v1.db"
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        assert MIGRATIONS[0].version == 1
        migrate(conn, MIGRATIONS[:1])  # exactly what the code before version 2 built
        conn.execute(
            "INSERT INTO local_identity (id, identity_key_pair, registration_id) VALUES (1, ?, ?)",
            (LOCAL_IDENTITY.serialize(), LOCAL_REGISTRATION_ID),
        )
        conn.execute(
            "INSERT INTO sessions (name, device_id, record) VALUES (?, ?, ?)",
            (ALICE.name, ALICE.device_id, b"v1 session"),
        )
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        assert "retry_records" not in tables
    finally:
        conn.close()
    with SQLiteStore.open(path) as store:
        assert store.load_session(ALICE) == b"v1 session"
        assert store.get_identity_key_pair() == LOCAL_IDENTITY
        assert store.count_records("outbox") == 0
        with store.transaction():
            store.store_session(ALICE, b"v2 session")
            store.put_record("outbox", "m", b"envelope", 5)
            store.put_record("outbox", "n", b"undue")
        assert store.due_records("outbox", 5, 10) == [("m", b"envelope", 5)]
        assert store.evict_records("outbox", 0) == 1
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION >= 2
    finally:
        conn.close()
    with SQLiteStore.open(path) as store:
        assert store.load_session(ALICE) == b"v2 session"
        assert store.records("outbox") == [("n", b"undue", None)]
        assert store.count_records("outbox") == 1


def test_sqlite_binds_extreme_queries(tmp_path: Path) -> None:
    with SQLiteStore.create(tmp_path / "x.db", LOCAL_IDENTITY, LOCAL_REGISTRATION_ID) as store:
        store.put_record("k", "a", b"", 2**63 - 1)
        assert keys(store.due_records("k", 2**200, 2**200)) == ["a"]
        assert store.records("k", 2**200) == [("a", b"", 2**63 - 1)]
        assert store.evict_records("k", 2**200) == 0
        assert store.due_records("k", -(2**200), 1) == []
        store.put_record("k", "b", b"", -(2**63))
        assert store.due_records("k", -(2**63) - 1, 1) == []  # not clamped onto -2**63
        assert keys(store.due_records("k", -(2**63), 5)) == ["b"]


# -- a model: the backends against a plain dict -----------------------------------------

_KINDS = ("outbox", "recv")
_kind = st.sampled_from(_KINDS)
_key = st.sampled_from(("a", "b", "c", "d", "aa", "\u00e9"))
_due = st.one_of(st.none(), st.integers(0, 6))

_model_ops = st.one_of(
    st.tuples(st.just("put"), _kind, _key, st.binary(max_size=3), _due),
    st.tuples(st.just("delete"), _kind, _key),
    st.tuples(st.just("evict"), _kind, st.integers(0, 5)),
)
_step = st.tuples(st.lists(_model_ops, min_size=1, max_size=6), st.booleans())


def _model_apply(model: dict[tuple[str, str], tuple[bytes, int | None]], op: Any) -> None:
    if op[0] == "put":
        model[(op[1], op[2])] = (op[3], op[4])
    elif op[0] == "delete":
        model.pop((op[1], op[2]), None)
    else:
        kind, keep = op[1], op[2]
        mine = [(due, key) for (k, key), (_, due) in model.items() if k == kind]
        due_ones = sorted((due, key) for due, key in mine if due is not None)
        for _, key in due_ones[: max(len(mine) - keep, 0)]:
            del model[(kind, key)]


def _store_apply(store: ProtocolStore, op: Any) -> None:
    if op[0] == "put":
        store.put_record(op[1], op[2], op[3], op[4])
    elif op[0] == "delete":
        store.delete_record(op[1], op[2])
    else:
        store.evict_records(op[1], op[2])


def _check(store: ProtocolStore, model: dict[tuple[str, str], tuple[bytes, int | None]]) -> None:
    dues: list[int] = []
    for kind in _KINDS:
        mine = [(key, value, due) for (k, key), (value, due) in model.items() if k == kind]
        due_rows = sorted(
            ((key, value, due) for key, value, due in mine if due is not None),
            key=lambda r: (r[2], r[0]),
        )
        undue_rows = sorted((r for r in mine if r[2] is None), key=lambda r: r[0])
        assert store.records(kind) == [*due_rows, *undue_rows]
        assert store.count_records(kind) == len(mine)
        for now in (-1, 0, 3, 6):
            expected = [r for r in due_rows if r[2] <= now]
            assert store.due_records(kind, now, 3) == expected[:3]
        dues += [r[2] for r in due_rows]
    assert store.next_due_ms(_KINDS) == (min(dues) if dues else None)


@pytest.mark.parametrize("backend", BACKENDS, ids=str)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(_step, max_size=8))
def test_matches_a_dict_model(backend: StoreBackend, steps: list[Any]) -> None:
    model: dict[tuple[str, str], tuple[bytes, int | None]] = {}
    with tempfile.TemporaryDirectory() as directory:
        store = backend.create(Path(directory), LOCAL_IDENTITY, LOCAL_REGISTRATION_ID)
        try:
            for ops, fail in steps:
                try:
                    with store.transaction():
                        for op in ops:
                            _store_apply(store, op)
                        if fail:
                            raise Boom
                except Boom:
                    pass
                else:
                    for op in ops:
                        _model_apply(model, op)
                _check(store, model)
        finally:
            store.close()


def test_memory_store_is_a_retry_store() -> None:
    store = MemoryStore(LOCAL_IDENTITY, LOCAL_REGISTRATION_ID)
    assert isinstance(store, RetryStore) and isinstance(store, ProtocolStore)
