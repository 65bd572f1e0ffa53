"""The store suite: every test runs against every backend in ``tests/store_fixtures.py``.

SQLite-only behaviour (files, schema versions, migrations, corruption, a
process killed mid-transaction) follows the shared part.
"""

from __future__ import annotations

import multiprocessing
import os
import sqlite3
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from axolotl.address import ProtocolAddress
from axolotl.crypto.curve import KeyPair, PublicKey
from axolotl.errors import (
    AxolotlError,
    InvalidKeyId,
    SchemaVersionError,
    StorageError,
    UsageError,
)
from axolotl.keys import (
    PreKeyRecord,
    SignedPreKeyRecord,
    generate_identity_key_pair,
    generate_signed_pre_key,
)
from axolotl.rng import DeterministicRng
from axolotl.store import (
    MIGRATIONS,
    PRE_KEY_ID_MODULUS,
    SCHEMA_VERSION,
    MemoryStore,
    Migration,
    ProtocolStore,
    SQLiteStore,
    advance_pre_key_counter,
)
from axolotl.store.sqlite.migrations import migrate
from tests.store_fixtures import (
    BACKENDS,
    LOCAL_IDENTITY,
    LOCAL_REGISTRATION_ID,
    PERSISTENT_BACKENDS,
    StoreBackend,
)

_RNG = DeterministicRng("test_store")
PAIRS = [KeyPair.generate(_RNG) for _ in range(3)]
OTHER_IDENTITY = generate_identity_key_pair(_RNG)
SIGNED = [generate_signed_pre_key(LOCAL_IDENTITY, i, 1000 * i, _RNG) for i in (1, 2, 3)]
KEYS = [PublicKey(bytes([i]) * 32) for i in range(1, 4)]

NAMES = ("alice", "bob", "bobby")
DEVICES = (0, 1, 2, 7)
GROUPS = ("g1", "g2")
RECORD_KINDS = ("outbox", "delivered", "recv")
RECORD_KEYS = ("a", "b", "k1", "k10", "k2", "\x00", "z\x1fy", "\u00e9", "\U0001f600")
PRE_KEY_IDS = (0, 1, 2, 5, 100, 8_000_000, 0xFFFFFD, 0xFFFFFE, 0xFFFFFF)
SIGNED_IDS = (0, 1, 2, 9, 0xFFFFFF)

ALICE = ProtocolAddress("alice", 1)
BOB1 = ProtocolAddress("bob", 1)
BOB2 = ProtocolAddress("bob", 2)


def pre_key(key_id: int, pair: int = 0) -> PreKeyRecord:
    return PreKeyRecord(key_id, PAIRS[pair])


def signed_pre_key(key_id: int, pair: int = 0) -> SignedPreKeyRecord:
    return SignedPreKeyRecord(key_id, PAIRS[pair], bytes([pair]) * 64, key_id * 7)


def snapshot(store: ProtocolStore) -> dict[str, Any]:
    """Everything observable through the protocols for the test universe of keys."""
    addresses = [ProtocolAddress(n, d) for n in NAMES for d in DEVICES]
    return {
        "identity": store.get_identity_key_pair(),
        "registration_id": store.get_local_registration_id(),
        "identities": {str(a): store.get_identity(a) for a in addresses},
        "pre_keys": {
            i: store.load_pre_key(i) if store.contains_pre_key(i) else None for i in PRE_KEY_IDS
        },
        "next_pre_key_id": store.next_pre_key_id(),
        "signed_pre_keys": store.load_signed_pre_keys(),
        "signed_contains": {i: store.contains_signed_pre_key(i) for i in SIGNED_IDS},
        "sessions": {str(a): store.load_session(a) for a in addresses},
        "session_exists": {str(a): store.contains_session(a) for a in addresses},
        "sub_devices": {n: store.get_sub_device_sessions(n) for n in NAMES},
        "sender_keys": {
            (g, str(a)): store.load_sender_key(g, a) for g in GROUPS for a in addresses
        },
        "records": {kind: store.records(kind) for kind in RECORD_KINDS},
        "record_counts": {kind: store.count_records(kind) for kind in RECORD_KINDS},
        "next_due_ms": store.next_due_ms(RECORD_KINDS),
    }


def populate(store: ProtocolStore) -> None:
    """Put something in every table."""
    store.save_identity(ALICE, KEYS[0])
    store.save_identity(BOB2, KEYS[1])
    store.store_pre_key(pre_key(1))
    store.store_pre_key(pre_key(2, 1))
    store.store_signed_pre_key(SIGNED[0])
    store.store_session(ALICE, b"alice-session")
    store.store_session(BOB1, b"bob1-session")
    store.store_session(BOB2, b"\x00" * 300)
    store.store_sender_key("g1", ALICE, b"sender-key")
    store.put_record("outbox", "m1", b"envelope-1", 1_000)
    store.put_record("outbox", "m2", b"envelope-2", 500)
    store.put_record("recv", "bob.1.m9", b"failing", None)
    for i in range(5):
        store.put_record("delivered", f"d{i}", b"", 100 + i)


class Boom(Exception):
    pass


# -- identity ------------------------------------------------------------------


def test_local_identity(store: ProtocolStore) -> None:
    assert store.get_identity_key_pair() == LOCAL_IDENTITY
    assert store.get_local_registration_id() == LOCAL_REGISTRATION_ID


def test_save_identity_return_values(store: ProtocolStore) -> None:
    assert store.get_identity(ALICE) is None
    assert store.save_identity(ALICE, KEYS[0]) is False  # first seen
    assert store.get_identity(ALICE) == KEYS[0]
    assert store.save_identity(ALICE, KEYS[0]) is False  # same key again
    assert store.save_identity(ALICE, KEYS[1]) is True  # replaced a different key
    assert store.get_identity(ALICE) == KEYS[1]
    assert store.get_identity(ProtocolAddress("alice", 2)) is None  # per device
    assert store.save_identity(ProtocolAddress("alice", 2), KEYS[2]) is False
    assert store.get_identity(ALICE) == KEYS[1]


# -- prekeys -------------------------------------------------------------------


def test_pre_key_round_trip(store: ProtocolStore) -> None:
    assert not store.contains_pre_key(5)
    store.store_pre_key(pre_key(5))
    assert store.contains_pre_key(5)
    loaded = store.load_pre_key(5)
    assert loaded == pre_key(5)
    assert loaded.key_pair.private_key.raw == PAIRS[0].private_key.raw
    store.store_pre_key(pre_key(5, 1))  # replace
    assert store.load_pre_key(5) == pre_key(5, 1)
    store.remove_pre_key(5)
    assert not store.contains_pre_key(5)
    store.remove_pre_key(5)  # absent: no error


@pytest.mark.parametrize("key_id", [0, 7, 0xFFFFFF, -1, 2**70])
def test_unknown_pre_key_raises_invalid_key_id(store: ProtocolStore, key_id: int) -> None:
    store.store_pre_key(pre_key(1))
    with pytest.raises(InvalidKeyId) as info:
        store.load_pre_key(key_id)
    assert info.value.key_id == key_id
    assert not store.contains_pre_key(key_id)
    store.remove_pre_key(key_id)


def test_next_pre_key_id(store: ProtocolStore) -> None:
    assert store.next_pre_key_id() == 1
    store.store_pre_key(pre_key(5))
    assert store.next_pre_key_id() == 6
    store.store_pre_key(pre_key(3))  # older id: counter stays
    assert store.next_pre_key_id() == 6
    store.remove_pre_key(5)  # removal never moves it back
    assert store.next_pre_key_id() == 6
    for outside in (0, 0xFFFFFF):
        store.store_pre_key(pre_key(outside))
        assert store.next_pre_key_id() == 6
    store.store_pre_key(pre_key(100))
    assert store.next_pre_key_id() == 101


def test_next_pre_key_id_wraps(store: ProtocolStore) -> None:
    store.store_pre_key(pre_key(PRE_KEY_ID_MODULUS - 1))
    assert store.next_pre_key_id() == PRE_KEY_ID_MODULUS
    store.store_pre_key(pre_key(PRE_KEY_ID_MODULUS))
    assert store.next_pre_key_id() == 1
    store.store_pre_key(pre_key(1))
    assert store.next_pre_key_id() == 2
    store.store_pre_key(pre_key(PRE_KEY_ID_MODULUS - 3))  # from before the wrap: ignored
    assert store.next_pre_key_id() == 2


def test_next_pre_key_id_starts_anywhere(store: ProtocolStore) -> None:
    # libsignal-java starts at a random offset; the first id stored sets the counter.
    store.store_pre_key(pre_key(12_000_000))
    assert store.next_pre_key_id() == 12_000_001


def test_advance_pre_key_counter() -> None:
    n = PRE_KEY_ID_MODULUS
    assert advance_pre_key_counter(None, 0) is None
    assert advance_pre_key_counter(None, 0xFFFFFF) is None
    assert advance_pre_key_counter(None, 1) == 2
    assert advance_pre_key_counter(None, n) == 1
    assert advance_pre_key_counter(10, 10) == 11
    assert advance_pre_key_counter(10, 9) == 10
    assert advance_pre_key_counter(10, 10 + n // 2 - 1) == 10 + n // 2
    assert advance_pre_key_counter(10, 10 + n // 2) == 10
    assert advance_pre_key_counter(n - 1, 3) == 4  # across the wrap
    assert advance_pre_key_counter(3, n - 1) == 3


# -- signed prekeys ------------------------------------------------------------


def test_signed_pre_key_round_trip(store: ProtocolStore) -> None:
    assert store.load_signed_pre_keys() == []
    for record in reversed(SIGNED):
        store.store_signed_pre_key(record)
    assert store.load_signed_pre_keys() == SIGNED  # sorted by id
    assert store.load_signed_pre_key(2) == SIGNED[1]
    assert store.contains_signed_pre_key(3)
    replacement = signed_pre_key(2, 2)
    store.store_signed_pre_key(replacement)
    assert store.load_signed_pre_key(2) == replacement
    store.remove_signed_pre_key(2)
    assert not store.contains_signed_pre_key(2)
    assert [r.id for r in store.load_signed_pre_keys()] == [1, 3]
    store.remove_signed_pre_key(2)


@pytest.mark.parametrize("key_id", [0, 4, 0xFFFFFF, -5, 2**64])
def test_unknown_signed_pre_key_raises_invalid_key_id(store: ProtocolStore, key_id: int) -> None:
    store.store_signed_pre_key(SIGNED[0])
    with pytest.raises(InvalidKeyId) as info:
        store.load_signed_pre_key(key_id)
    assert info.value.key_id == key_id
    assert not store.contains_signed_pre_key(key_id)
    store.remove_signed_pre_key(key_id)


# -- sessions ------------------------------------------------------------------


def test_session_round_trip(store: ProtocolStore) -> None:
    assert store.load_session(ALICE) is None
    assert not store.contains_session(ALICE)
    store.store_session(ALICE, b"record-1")
    assert store.load_session(ALICE) == b"record-1"
    assert store.contains_session(ALICE)
    store.store_session(ALICE, b"record-2")
    loaded = store.load_session(ALICE)
    assert loaded == b"record-2" and type(loaded) is bytes
    big = os.urandom(200_000)
    store.store_session(ALICE, big)
    assert store.load_session(ALICE) == big
    store.store_session(ALICE, b"")
    assert store.load_session(ALICE) == b""  # empty is a record, not "no session"
    assert store.contains_session(ALICE)
    store.delete_session(ALICE)
    assert store.load_session(ALICE) is None
    store.delete_session(ALICE)


def test_session_rejects_non_bytes(store: ProtocolStore) -> None:
    with pytest.raises(UsageError):
        store.store_session(ALICE, "text")  # type: ignore[arg-type]


def test_sub_device_sessions_and_delete_all(store: ProtocolStore) -> None:
    assert store.get_sub_device_sessions("bob") == []
    for device in (7, 0, 2, 1):
        store.store_session(ProtocolAddress("bob", device), b"s%d" % device)
    store.store_session(ProtocolAddress("bobby", 3), b"other account")
    store.store_session(ALICE, b"alice")
    assert store.get_sub_device_sessions("bob") == [0, 1, 2, 7]
    assert store.get_sub_device_sessions("bobby") == [3]
    store.delete_session(ProtocolAddress("bob", 2))
    assert store.get_sub_device_sessions("bob") == [0, 1, 7]
    store.delete_all_sessions("bob")
    assert store.get_sub_device_sessions("bob") == []
    assert store.load_session(ProtocolAddress("bob", 0)) is None
    assert store.load_session(ProtocolAddress("bobby", 3)) == b"other account"
    assert store.load_session(ALICE) == b"alice"
    store.delete_all_sessions("nobody")


# -- sender keys ---------------------------------------------------------------


def test_sender_key_round_trip(store: ProtocolStore) -> None:
    assert store.load_sender_key("g1", ALICE) is None
    store.store_sender_key("g1", ALICE, b"k1")
    store.store_sender_key("g1", ProtocolAddress("alice", 2), b"k2")
    store.store_sender_key("g2", ALICE, b"k3")
    assert store.load_sender_key("g1", ALICE) == b"k1"
    assert store.load_sender_key("g1", ProtocolAddress("alice", 2)) == b"k2"
    assert store.load_sender_key("g2", ALICE) == b"k3"
    assert store.load_sender_key("g2", BOB1) is None
    store.store_sender_key("g1", ALICE, b"k1'")
    assert store.load_sender_key("g1", ALICE) == b"k1'"
    with pytest.raises(UsageError):
        store.store_sender_key("g1", ALICE, 5)  # type: ignore[arg-type]


def test_sender_key_delete(store: ProtocolStore) -> None:
    store.store_sender_key("g1", ALICE, b"k1")
    store.store_sender_key("g1", ProtocolAddress("alice", 2), b"k2")
    store.store_sender_key("g2", ALICE, b"k3")
    store.delete_sender_key("g1", ALICE)
    assert store.load_sender_key("g1", ALICE) is None
    assert store.load_sender_key("g1", ProtocolAddress("alice", 2)) == b"k2"  # other device
    assert store.load_sender_key("g2", ALICE) == b"k3"  # other group
    store.delete_sender_key("g1", ALICE)  # absent: no error
    store.delete_sender_key("g9", BOB1)
    store.store_sender_key("g1", ALICE, b"k1 again")  # a deleted key can be stored again
    assert store.load_sender_key("g1", ALICE) == b"k1 again"
    with pytest.raises(UsageError):
        store.delete_sender_key(5, ALICE)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "call",
    [
        lambda s: s.delete_all_sessions(5),
        lambda s: s.get_sub_device_sessions(5),
        lambda s: s.load_sender_key(5, ALICE),
        lambda s: s.store_sender_key(5, ALICE, b"k"),
        lambda s: s.delete_sender_key(5, ALICE),
    ],
    ids=["delete_all_sessions", "get_sub_device_sessions", "load", "store", "delete"],
)
def test_a_name_or_group_id_that_is_not_a_str_is_refused_alike(
    store: ProtocolStore, call: Any
) -> None:
    store.store_session(ProtocolAddress("5", 1), b"s")
    with pytest.raises(UsageError, match="must be a str"):
        call(store)
    assert store.load_session(ProtocolAddress("5", 1)) == b"s", "account '5' untouched"


def test_sender_key_deleted_in_a_rolled_back_transaction_is_still_there(
    store: ProtocolStore,
) -> None:
    store.store_sender_key("g1", ALICE, b"k1")
    with pytest.raises(Boom), store.transaction():
        store.delete_sender_key("g1", ALICE)
        assert store.load_sender_key("g1", ALICE) is None  # gone inside
        raise Boom
    assert store.load_sender_key("g1", ALICE) == b"k1"
    with store.transaction():
        try:
            with store.transaction():
                store.delete_sender_key("g1", ALICE)
                raise Boom
        except Boom:
            pass
        assert store.load_sender_key("g1", ALICE) == b"k1"  # only the inner block undone
        store.delete_sender_key("g1", ALICE)
    assert store.load_sender_key("g1", ALICE) is None


# -- transactions --------------------------------------------------------------


def _write_everything(store: ProtocolStore) -> None:
    store.save_identity(ALICE, KEYS[2])  # replace
    store.save_identity(ProtocolAddress("bobby", 0), KEYS[0])  # insert
    store.store_pre_key(pre_key(100))  # moves the counter
    store.remove_pre_key(1)
    store.store_pre_key(pre_key(2, 2))  # replace
    store.remove_signed_pre_key(1)
    store.store_signed_pre_key(signed_pre_key(9))
    store.store_session(ALICE, b"changed")
    store.put_record("outbox", "m1", b"envelope-1 again", None)  # replace value and due
    store.delete_record("outbox", "m2")
    store.put_record("recv", "bob.2.m10", b"new", 7)  # insert
    store.evict_records("delivered", 2)
    store.delete_session(BOB2)
    store.delete_all_sessions("bob")
    store.store_session(ProtocolAddress("bobby", 7), b"new")
    store.store_sender_key("g1", ALICE, b"changed")
    store.store_sender_key("g2", BOB1, b"new")
    store.delete_sender_key("g1", ALICE)


def test_transaction_commits(store: ProtocolStore) -> None:
    populate(store)
    with store.transaction() as value:
        assert value is None
        _write_everything(store)
    after = snapshot(store)
    assert after["sessions"]["alice.1"] == b"changed"
    assert after["next_pre_key_id"] == 101
    assert after["sub_devices"]["bob"] == []
    assert after["sender_keys"][("g1", "alice.1")] is None
    assert after["sender_keys"][("g2", "bob.1")] == b"new"


def test_transaction_rollback_restores_exact_state(store: ProtocolStore) -> None:
    populate(store)
    before = snapshot(store)
    error = Boom("inside")
    with pytest.raises(Boom) as info, store.transaction():
        _write_everything(store)
        raise error
    assert info.value is error  # re-raised unchanged
    assert snapshot(store) == before
    # The store still works, and the rolled-back writes can be made for real.
    _write_everything(store)
    assert snapshot(store) != before


def test_rollback_of_non_axolotl_base_exception(store: ProtocolStore) -> None:
    populate(store)
    before = snapshot(store)
    with pytest.raises(KeyboardInterrupt), store.transaction():
        store.delete_all_sessions("bob")
        raise KeyboardInterrupt
    assert snapshot(store) == before


def test_nested_transactions_join_the_outer(store: ProtocolStore) -> None:
    populate(store)
    before = snapshot(store)
    with pytest.raises(Boom), store.transaction():
        with store.transaction():
            store.store_session(ALICE, b"inner")
            with store.transaction():
                store.remove_pre_key(1)
        assert store.load_session(ALICE) == b"inner"  # visible inside
        store.store_session(BOB1, b"outer")
        raise Boom
    assert snapshot(store) == before  # the committed inner blocks are undone too


def test_inner_failure_caught_by_outer_undoes_only_the_inner_block(store: ProtocolStore) -> None:
    populate(store)
    with store.transaction():
        store.store_session(ALICE, b"outer-1")
        try:
            with store.transaction():
                store.store_session(BOB1, b"inner")
                store.delete_session(BOB2)
                store.store_pre_key(pre_key(500))
                raise Boom
        except Boom:
            pass
        assert store.load_session(BOB1) == b"bob1-session"
        store.store_session(ProtocolAddress("bobby", 0), b"outer-2")
    assert store.load_session(ALICE) == b"outer-1"
    assert store.load_session(ProtocolAddress("bobby", 0)) == b"outer-2"
    assert store.load_session(BOB1) == b"bob1-session"
    assert store.load_session(BOB2) == b"\x00" * 300
    assert not store.contains_pre_key(500)
    assert store.next_pre_key_id() == 3


def test_writes_outside_a_transaction_are_kept(store: ProtocolStore) -> None:
    store.store_session(ALICE, b"autocommit")
    with pytest.raises(Boom), store.transaction():
        store.store_session(BOB1, b"rolled back")
        raise Boom
    assert store.load_session(ALICE) == b"autocommit"
    assert store.load_session(BOB1) is None
    # Sequential transactions are independent.
    with store.transaction():
        store.store_session(BOB1, b"kept")
    with pytest.raises(Boom), store.transaction():
        store.delete_session(BOB1)
        raise Boom
    assert store.load_session(BOB1) == b"kept"


def test_write_after_close_raises_storage_error(
    store_backend: StoreBackend, tmp_path: Path
) -> None:
    store = store_backend.create(tmp_path, LOCAL_IDENTITY, LOCAL_REGISTRATION_ID)
    store.close()
    with pytest.raises(StorageError):
        store.store_session(ALICE, b"x")
    with pytest.raises(StorageError), store.transaction():
        pass


def test_implements_the_protocol(store: ProtocolStore) -> None:
    assert isinstance(store, ProtocolStore)


# -- persistence ---------------------------------------------------------------


@pytest.mark.parametrize("backend", PERSISTENT_BACKENDS, ids=str)
def test_reopen_keeps_everything(backend: StoreBackend, tmp_path: Path) -> None:
    assert backend.reopen is not None
    store = backend.create(tmp_path, LOCAL_IDENTITY, LOCAL_REGISTRATION_ID)
    populate(store)
    store.store_pre_key(pre_key(1_000_000))
    store.remove_pre_key(1_000_000)
    before = snapshot(store)
    assert before["next_pre_key_id"] == 1_000_001
    store.close()
    reopened = backend.reopen(tmp_path)
    try:
        assert snapshot(reopened) == before
        assert reopened.next_pre_key_id() == 1_000_001
    finally:
        reopened.close()


@pytest.mark.parametrize("backend", PERSISTENT_BACKENDS, ids=str)
def test_rolled_back_writes_do_not_survive_reopen(backend: StoreBackend, tmp_path: Path) -> None:
    assert backend.reopen is not None
    store = backend.create(tmp_path, LOCAL_IDENTITY, LOCAL_REGISTRATION_ID)
    populate(store)
    before = snapshot(store)
    with pytest.raises(Boom), store.transaction():
        _write_everything(store)
        raise Boom
    store.close()
    reopened = backend.reopen(tmp_path)
    try:
        assert snapshot(reopened) == before
    finally:
        reopened.close()


# -- the backends agree: random operation sequences -----------------------------

_addresses = st.builds(ProtocolAddress, st.sampled_from(NAMES), st.sampled_from(DEVICES))
_record = st.binary(max_size=40)
_pre_key_ids = st.sampled_from(PRE_KEY_IDS)
_signed_ids = st.sampled_from(SIGNED_IDS)
_pair = st.integers(0, len(PAIRS) - 1)
_kind = st.sampled_from(RECORD_KINDS)
_key = st.one_of(st.sampled_from(RECORD_KEYS), st.text(max_size=3))  # "" is refused alike
_due = st.one_of(st.none(), st.integers(-3, 12), st.sampled_from((-(2**63), 2**63 - 1, 2**63)))
_now = st.one_of(st.integers(-5, 15), st.sampled_from((-(2**70), 2**70)))
_limit = st.integers(-1, 6)

_retry_ops = (
    st.tuples(st.just("put_record"), _kind, _key, _record, _due),
    st.tuples(st.just("put_record"), _kind, _key, _record, _due),  # twice: more writes
    st.tuples(st.just("get_record"), _kind, _key),
    st.tuples(st.just("delete_record"), _kind, _key),
    st.tuples(st.just("due_records"), _kind, _now, _limit),
    st.tuples(st.just("records"), _kind, st.one_of(st.none(), _limit)),
    st.tuples(st.just("next_due_ms"), st.lists(_kind, max_size=3)),
    st.tuples(st.just("count_records"), _kind),
    st.tuples(st.just("evict_records"), _kind, _limit),
)

_simple_ops = st.one_of(
    st.tuples(st.just("save_identity"), _addresses, st.integers(0, len(KEYS) - 1)),
    st.tuples(st.just("get_identity"), _addresses),
    st.tuples(st.just("store_pre_key"), _pre_key_ids, _pair),
    st.tuples(st.just("load_pre_key"), _pre_key_ids),
    st.tuples(st.just("contains_pre_key"), _pre_key_ids),
    st.tuples(st.just("remove_pre_key"), _pre_key_ids),
    st.tuples(st.just("next_pre_key_id")),
    st.tuples(st.just("store_signed_pre_key"), _signed_ids, _pair),
    st.tuples(st.just("load_signed_pre_key"), _signed_ids),
    st.tuples(st.just("load_signed_pre_keys")),
    st.tuples(st.just("contains_signed_pre_key"), _signed_ids),
    st.tuples(st.just("remove_signed_pre_key"), _signed_ids),
    st.tuples(st.just("store_session"), _addresses, _record),
    st.tuples(st.just("load_session"), _addresses),
    st.tuples(st.just("contains_session"), _addresses),
    st.tuples(st.just("delete_session"), _addresses),
    st.tuples(st.just("delete_all_sessions"), st.sampled_from(NAMES)),
    st.tuples(st.just("get_sub_device_sessions"), st.sampled_from(NAMES)),
    st.tuples(st.just("store_sender_key"), st.sampled_from(GROUPS), _addresses, _record),
    st.tuples(st.just("load_sender_key"), st.sampled_from(GROUPS), _addresses),
    st.tuples(st.just("delete_sender_key"), st.sampled_from(GROUPS), _addresses),
    *_retry_ops,
)
_ops = st.recursive(
    _simple_ops,
    lambda inner: st.tuples(
        st.just("transaction"), st.lists(inner, max_size=6), st.booleans(), st.booleans()
    ),
    max_leaves=30,
)


def apply(store: ProtocolStore, op: tuple[Any, ...]) -> Any:
    """Run one operation; return what a caller could observe (value or error type)."""
    kind, *args = op
    try:
        if kind == "transaction":
            ops, fail, catch_inside = args
            results: list[Any] = []
            try:
                with store.transaction():
                    for sub in ops:
                        results.append(apply(store, sub))
                    if fail:
                        raise Boom
            except Boom:
                results.append("rolled back")
            if catch_inside:  # the same block again, nested in a committing outer one
                with store.transaction():
                    results.append(apply(store, ("transaction", ops, fail, False)))
            return results
        if kind == "save_identity":
            return store.save_identity(args[0], KEYS[args[1]])
        if kind == "store_pre_key":
            return store.store_pre_key(pre_key(args[0], args[1]))
        if kind == "store_signed_pre_key":
            return store.store_signed_pre_key(signed_pre_key(args[0], args[1]))
        return getattr(store, kind)(*args)
    except AxolotlError as exc:
        return ("error", type(exc).__name__)


@pytest.mark.parametrize("backend", [b for b in BACKENDS if b.name != "memory"], ids=str)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=st.lists(_ops, max_size=25))
def test_backends_agree_with_memory_store(backend: StoreBackend, ops: list[Any]) -> None:
    reference = MemoryStore(LOCAL_IDENTITY, LOCAL_REGISTRATION_ID)
    with tempfile.TemporaryDirectory() as directory:
        candidate = backend.create(Path(directory), LOCAL_IDENTITY, LOCAL_REGISTRATION_ID)
        try:
            for op in ops:
                assert apply(candidate, op) == apply(reference, op), op
            assert snapshot(candidate) == snapshot(reference)
        finally:
            candidate.close()


# -- SQLite only ---------------------------------------------------------------


def _db(tmp_path: Path) -> Path:
    return tmp_path / "store.db"


def test_sqlite_uses_wal(tmp_path: Path) -> None:
    with SQLiteStore.create(_db(tmp_path), LOCAL_IDENTITY, LOCAL_REGISTRATION_ID) as store:
        assert store.journal_mode == "wal"


def test_sqlite_schema_version_is_recorded(tmp_path: Path) -> None:
    SQLiteStore.create(_db(tmp_path), LOCAL_IDENTITY, LOCAL_REGISTRATION_ID).close()
    conn = sqlite3.connect(_db(tmp_path))
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    finally:
        conn.close()
    assert [m.version for m in MIGRATIONS] == list(range(1, SCHEMA_VERSION + 1))


def test_sqlite_create_is_idempotent_for_the_same_identity(tmp_path: Path) -> None:
    SQLiteStore.create(_db(tmp_path), LOCAL_IDENTITY, LOCAL_REGISTRATION_ID).close()
    with SQLiteStore.create(_db(tmp_path), LOCAL_IDENTITY, LOCAL_REGISTRATION_ID) as store:
        assert store.get_identity_key_pair() == LOCAL_IDENTITY


@pytest.mark.parametrize("what", ["identity", "registration id"])
def test_sqlite_create_refuses_a_different_identity(tmp_path: Path, what: str) -> None:
    SQLiteStore.create(_db(tmp_path), LOCAL_IDENTITY, LOCAL_REGISTRATION_ID).close()
    identity = OTHER_IDENTITY if what == "identity" else LOCAL_IDENTITY
    reg = LOCAL_REGISTRATION_ID + (what == "registration id")
    with pytest.raises(StorageError, match="already provisioned"):
        SQLiteStore.create(_db(tmp_path), identity, reg)
    with SQLiteStore.open(_db(tmp_path)) as store:
        assert store.get_identity_key_pair() == LOCAL_IDENTITY


def test_sqlite_open_requires_a_provisioned_database(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="no database"):
        SQLiteStore.open(_db(tmp_path))
    assert not _db(tmp_path).exists()  # open() never creates a file
    _db(tmp_path).write_bytes(b"")  # an empty file is an empty SQLite database
    with pytest.raises(StorageError, match="not provisioned"):
        SQLiteStore.open(_db(tmp_path))


def test_sqlite_open_or_create(tmp_path: Path) -> None:
    with SQLiteStore.open_or_create(_db(tmp_path), DeterministicRng(1)) as first:
        identity = first.get_identity_key_pair()
        registration_id = first.get_local_registration_id()
        assert 1 <= registration_id <= 16380
    with SQLiteStore.open_or_create(_db(tmp_path), DeterministicRng(2)) as second:
        assert second.get_identity_key_pair() == identity
        assert second.get_local_registration_id() == registration_id
    with SQLiteStore.open(_db(tmp_path)) as third:
        assert third.get_identity_key_pair() == identity


def test_sqlite_memory_database() -> None:
    with SQLiteStore.open_or_create(":memory:", DeterministicRng(3)) as store:
        store.store_session(ALICE, b"x")
        assert store.load_session(ALICE) == b"x"


def test_sqlite_newer_schema_raises_schema_version_error(tmp_path: Path) -> None:
    SQLiteStore.create(_db(tmp_path), LOCAL_IDENTITY, LOCAL_REGISTRATION_ID).close()
    conn = sqlite3.connect(_db(tmp_path))
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    openers: list[Callable[[], SQLiteStore]] = [
        lambda: SQLiteStore.open(_db(tmp_path)),
        lambda: SQLiteStore.open_or_create(_db(tmp_path)),
        lambda: SQLiteStore.create(_db(tmp_path), LOCAL_IDENTITY, LOCAL_REGISTRATION_ID),
    ]
    for opener in openers:
        with pytest.raises(SchemaVersionError, match="upgrade"):
            opener()


def test_sqlite_migrates_from_every_older_version(tmp_path: Path) -> None:
    for version in range(SCHEMA_VERSION):
        path = tmp_path / f"v{version}.db"
        conn = sqlite3.connect(path, isolation_level=None)
        assert migrate(conn, MIGRATIONS[:version]) == 0
        assert conn.execute("PRAGMA user_version").fetchone()[0] == version
        conn.close()
        with SQLiteStore.open_or_create(path, DeterministicRng(version)) as store:
            store.store_session(ALICE, b"works")
        conn = sqlite3.connect(path)
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        conn.close()


def _notes_migration(conn: sqlite3.Connection) -> None:
    conn.execute("INSERT INTO notes (body) SELECT name FROM sessions")


def test_sqlite_applies_a_later_migration_and_keeps_data(tmp_path: Path) -> None:
    with SQLiteStore.create(_db(tmp_path), LOCAL_IDENTITY, LOCAL_REGISTRATION_ID) as store:
        populate(store)
        before = snapshot(store)
    later = (
        *MIGRATIONS,
        Migration(
            version=SCHEMA_VERSION + 1,
            description="test: a notes table filled from sessions",
            statements=("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)",),
            run=_notes_migration,
        ),
    )
    conn = sqlite3.connect(_db(tmp_path), isolation_level=None)
    try:
        assert migrate(conn, later) == SCHEMA_VERSION
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1
        notes = sorted(r[0] for r in conn.execute("SELECT body FROM notes"))
        assert notes == ["alice", "bob", "bob"]
        assert migrate(conn, later) == SCHEMA_VERSION + 1  # nothing left to do
    finally:
        conn.close()
    # This code does not know the later version: it refuses rather than guess.
    with pytest.raises(SchemaVersionError):
        SQLiteStore.open(_db(tmp_path))
    conn = sqlite3.connect(_db(tmp_path))
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    conn.close()
    with SQLiteStore.open(_db(tmp_path)) as store:
        assert snapshot(store) == before


def test_sqlite_failed_migration_changes_nothing(tmp_path: Path) -> None:
    SQLiteStore.create(_db(tmp_path), LOCAL_IDENTITY, LOCAL_REGISTRATION_ID).close()
    broken = (
        *MIGRATIONS,
        Migration(
            version=SCHEMA_VERSION + 1,
            description="test: half good, half broken",
            statements=("CREATE TABLE good (x)", "THIS IS NOT SQL"),
        ),
    )
    conn = sqlite3.connect(_db(tmp_path), isolation_level=None)
    try:
        with pytest.raises(StorageError, match="migrate"):
            migrate(conn, broken)
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        assert "good" not in tables
    finally:
        conn.close()


def test_migrations_must_be_numbered_in_order(tmp_path: Path) -> None:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    with pytest.raises(UsageError):
        migrate(conn, (Migration(version=2, description="skips 1", statements=()),))
    conn.close()


def test_sqlite_refuses_another_applications_database(tmp_path: Path) -> None:
    conn = sqlite3.connect(_db(tmp_path))
    conn.execute("PRAGMA application_id = 1234")
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    with pytest.raises(StorageError, match="another application"):
        SQLiteStore.open_or_create(_db(tmp_path))


def test_sqlite_corrupt_file_raises_storage_error(tmp_path: Path) -> None:
    _db(tmp_path).write_bytes(DeterministicRng("garbage")(8192))
    with pytest.raises(StorageError):
        SQLiteStore.open(_db(tmp_path))
    with pytest.raises(StorageError):
        SQLiteStore.open_or_create(_db(tmp_path))
    with pytest.raises(StorageError):
        SQLiteStore.create(_db(tmp_path), LOCAL_IDENTITY, LOCAL_REGISTRATION_ID)


def test_sqlite_corrupt_pages_raise_storage_error(tmp_path: Path) -> None:
    with SQLiteStore.create(_db(tmp_path), LOCAL_IDENTITY, LOCAL_REGISTRATION_ID) as store:
        populate(store)
    data = bytearray(_db(tmp_path).read_bytes())
    page = int.from_bytes(data[16:18], "big")
    assert len(data) > 2 * page
    data[page:] = DeterministicRng("pages")(len(data) - page)  # keep page 1 (header, schema)
    _db(tmp_path).write_bytes(bytes(data))
    with pytest.raises(StorageError):
        store = SQLiteStore.open(_db(tmp_path))
        try:
            snapshot(store)
        finally:
            store.close()


def test_sqlite_binding_errors_become_storage_errors(tmp_path: Path) -> None:
    with SQLiteStore.create(_db(tmp_path), LOCAL_IDENTITY, LOCAL_REGISTRATION_ID) as store:
        with pytest.raises(StorageError, match="store_session"):
            store.store_session(ProtocolAddress("\ud800", 1), b"x")  # lone surrogate
        with pytest.raises(StorageError, match="load_sender_key"):
            store.load_sender_key("\udfff", ALICE)
        with pytest.raises(StorageError, match="delete_sender_key"):
            store.delete_sender_key("\udfff", ALICE)


def test_sqlite_closing_inside_a_transaction_rolls_back(tmp_path: Path) -> None:
    store = SQLiteStore.create(_db(tmp_path), LOCAL_IDENTITY, LOCAL_REGISTRATION_ID)
    store.store_session(ALICE, b"committed")
    store.transaction().__enter__()
    store.store_session(ALICE, b"never committed")
    store.close()
    with SQLiteStore.open(_db(tmp_path)) as reopened:
        assert reopened.load_session(ALICE) == b"committed"


def _crash_child(path: str, ready: Any) -> None:  # pragma: no cover - runs in the child
    store = SQLiteStore.open(path)
    store.transaction().__enter__()  # BEGIN IMMEDIATE, never committed
    _write_everything(store)
    store.store_session(ProtocolAddress("bobby", 1), os.urandom(3_000_000))  # spills to the WAL
    ready.set()
    time.sleep(60)  # the parent kills us long before this ends


def test_sqlite_process_killed_mid_transaction_keeps_previous_state(tmp_path: Path) -> None:
    with SQLiteStore.create(_db(tmp_path), LOCAL_IDENTITY, LOCAL_REGISTRATION_ID) as store:
        populate(store)
        before = snapshot(store)
    # fork is quick; the parent holds no connection to the file while forking.
    if "fork" in multiprocessing.get_all_start_methods():
        context: Any = multiprocessing.get_context("fork")
    else:  # pragma: no cover - Windows, macOS default
        context = multiprocessing.get_context("spawn")
    ready = context.Event()
    child = context.Process(target=_crash_child, args=(str(_db(tmp_path)), ready))
    child.start()
    try:
        assert ready.wait(60), "child did not reach the middle of its transaction"
    finally:
        child.kill()
        child.join(60)
    assert child.exitcode is not None and child.exitcode != 0
    wal = _db(tmp_path).with_name(_db(tmp_path).name + "-wal")
    assert wal.stat().st_size > 1_000_000  # uncommitted frames reached the disk
    with SQLiteStore.open(_db(tmp_path)) as reopened:
        assert snapshot(reopened) == before
        reopened.store_session(ALICE, b"writable after the crash")
        assert reopened.load_session(ALICE) == b"writable after the crash"
