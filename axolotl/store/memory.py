"""An in-memory :class:`~axolotl.store.base.ProtocolStore`.

Meant for tests, benchmarks and short-lived processes. It keeps only bytes:
every write serialises the record and every read deserialises a fresh copy,
so code tested against it exercises serialisation exactly as a database
backend would, and no caller can change stored state through an object it
loaded.

Transactions keep an undo log: each write inside a transaction records the
previous value of the entry it changes, and an exception replays the log
backwards to the state at the start of the block. That restores the exact
previous state (deletes included) at a cost proportional to the writes, not
to the size of the store.

The retry layer's records (:class:`~axolotl.store.base.RetryStore`) live in
one :class:`~axolotl.store._record_table.RecordTable` per kind: a dict plus a
sorted ``(due_ms, key)`` index, so due, next-due and eviction queries cost a
binary search plus the records they return, and the same undo log restores
them (index included) on rollback.
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping, Sequence
from types import TracebackType
from typing import Any, Final

from axolotl.address import ProtocolAddress
from axolotl.crypto.curve import PublicKey
from axolotl.errors import InvalidKeyId, StorageError
from axolotl.keys import IdentityKeyPair, PreKeyRecord, SignedPreKeyRecord
from axolotl.store._checks import (
    check_due_ms,
    check_key,
    check_kind,
    check_kinds,
    check_limit,
    check_name,
    check_now_ms,
    check_record,
    check_registration_id,
    check_value,
    decode,
)
from axolotl.store._record_table import RecordTable
from axolotl.store.base import advance_pre_key_counter

__all__ = ["MemoryStore"]

_MISSING: Final = object()
# The one entry of the store's counters table: 1 + the highest prekey id stored.
_NEXT_PRE_KEY_ID: Final = "next_pre_key_id"

_AddressKey = tuple[str, int]
_SenderKeyKey = tuple[str, str, int]


class _MemoryTransaction:
    """The context manager :meth:`MemoryStore.transaction` returns (one per store).

    It owns the undo log: ``(table, key, previous value or _MISSING)``,
    newest last, and the log's length at the start of each open block. The
    store notes every change through :meth:`note` while a block is open.

    Args:
        check_open: raises when the store was closed.
    """

    __slots__ = ("_check_open", "_marks", "_undo")

    def __init__(self, check_open: Callable[[], None]) -> None:
        self._check_open = check_open
        self._undo: list[tuple[MutableMapping[Any, Any], Any, Any]] = []
        self._marks: list[int] = []

    @property
    def active(self) -> bool:
        """A block is open (changes must be noted)."""
        return bool(self._marks)

    def note(self, table: MutableMapping[Any, Any], key: Any, old: Any) -> None:
        """``table[key]`` is about to change from ``old`` (``_MISSING``: it was absent)."""
        self._undo.append((table, key, old))

    def reset(self) -> None:
        """Forget every open block and its log (the store's state was replaced wholesale)."""
        self._undo.clear()
        self._marks.clear()

    def __enter__(self) -> None:
        self._check_open()
        self._marks.append(len(self._undo))

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        mark = self._marks.pop()
        if exc_type is not None:
            undo = self._undo
            while len(undo) > mark:
                table, key, old = undo.pop()
                if old is _MISSING:
                    table.pop(key, None)
                else:
                    table[key] = old
        elif not self._marks:
            self._undo.clear()


class MemoryStore:
    """A :class:`~axolotl.store.base.ProtocolStore` held in dictionaries of bytes.

    Not thread-safe: use one store per thread, or lock around it.
    """

    def __init__(self, identity_key_pair: IdentityKeyPair, registration_id: int) -> None:
        """Create an empty store for one installation.

        Args:
            identity_key_pair: this installation's identity key pair.
            registration_id: this installation's registration id.

        Raises:
            UsageError: ``registration_id`` does not fit 4 bytes.
        """
        check_registration_id(registration_id)
        self._identity_key_pair = identity_key_pair.serialize()
        self._registration_id = registration_id
        self._identities: dict[_AddressKey, bytes] = {}
        self._pre_keys: dict[int, bytes] = {}
        self._signed_pre_keys: dict[int, bytes] = {}
        self._sessions: dict[_AddressKey, bytes] = {}
        self._sender_keys: dict[_SenderKeyKey, bytes] = {}
        self._counters: dict[str, int] = {}
        self._records: dict[str, RecordTable] = {}
        self._closed = False
        self._transaction = _MemoryTransaction(self._check_open)

    # -- internals ---------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise StorageError("memory store: used after close()")

    def _set(self, table: MutableMapping[Any, Any], key: Any, value: Any) -> None:
        if self._closed:
            self._check_open()
        if self._transaction.active:
            self._transaction.note(table, key, table.get(key, _MISSING))
        table[key] = value

    def _delete(self, table: MutableMapping[Any, Any], key: Any) -> None:
        if self._closed:
            self._check_open()
        if key not in table:
            return
        if self._transaction.active:
            self._transaction.note(table, key, table[key])
        del table[key]

    # -- IdentityKeyStore --------------------------------------------------

    def get_identity_key_pair(self) -> IdentityKeyPair:
        """Our long-term identity key pair (deserialised afresh)."""
        return IdentityKeyPair.deserialize(self._identity_key_pair)

    def get_local_registration_id(self) -> int:
        """Our registration id."""
        return self._registration_id

    def get_identity(self, address: ProtocolAddress) -> PublicKey | None:
        """The identity key stored for ``address``, or ``None``."""
        data = self._identities.get((address.name, address.device_id))
        if data is None:
            return None
        return decode("memory", PublicKey.deserialize, data, f"stored identity of {address}")

    def save_identity(self, address: ProtocolAddress, identity_key: PublicKey) -> bool:
        """Store ``identity_key``; ``True`` if it replaced a different key."""
        key = (address.name, address.device_id)
        data = identity_key.serialize()
        old = self._identities.get(key)
        if old == data:
            return False
        self._set(self._identities, key, data)
        return old is not None

    # -- PreKeyStore -------------------------------------------------------

    def load_pre_key(self, pre_key_id: int) -> PreKeyRecord:
        """The prekey with this id.

        Raises:
            InvalidKeyId: no such prekey.
        """
        data = self._pre_keys.get(pre_key_id)
        if data is None:
            raise InvalidKeyId(f"no prekey with id {pre_key_id}", pre_key_id)
        return decode("memory", PreKeyRecord.deserialize, data, f"stored prekey {pre_key_id}")

    def store_pre_key(self, record: PreKeyRecord) -> None:
        """Store ``record`` and advance the next-prekey-id counter."""
        self._set(self._pre_keys, record.id, record.serialize())
        current = self._counters.get(_NEXT_PRE_KEY_ID)
        following = advance_pre_key_counter(current, record.id)
        if following is not None and following != current:
            self._set(self._counters, _NEXT_PRE_KEY_ID, following)

    def contains_pre_key(self, pre_key_id: int) -> bool:
        """Whether a prekey with this id is stored."""
        return pre_key_id in self._pre_keys

    def remove_pre_key(self, pre_key_id: int) -> None:
        """Remove the prekey (no error if absent)."""
        self._delete(self._pre_keys, pre_key_id)

    def next_pre_key_id(self) -> int:
        """1 + the highest prekey id ever stored, wrapping within 1..0xFFFFFE."""
        return self._counters.get(_NEXT_PRE_KEY_ID, 1)

    # -- SignedPreKeyStore -------------------------------------------------

    def load_signed_pre_key(self, signed_pre_key_id: int) -> SignedPreKeyRecord:
        """The signed prekey with this id.

        Raises:
            InvalidKeyId: no such signed prekey.
        """
        data = self._signed_pre_keys.get(signed_pre_key_id)
        if data is None:
            raise InvalidKeyId(f"no signed prekey with id {signed_pre_key_id}", signed_pre_key_id)
        return self._signed(signed_pre_key_id, data)

    @staticmethod
    def _signed(key_id: int, data: bytes) -> SignedPreKeyRecord:
        return decode(
            "memory", SignedPreKeyRecord.deserialize, data, f"stored signed prekey {key_id}"
        )

    def load_signed_pre_keys(self) -> list[SignedPreKeyRecord]:
        """Every stored signed prekey, sorted by id."""
        return [self._signed(i, self._signed_pre_keys[i]) for i in sorted(self._signed_pre_keys)]

    def store_signed_pre_key(self, record: SignedPreKeyRecord) -> None:
        """Store (or replace) ``record``."""
        self._set(self._signed_pre_keys, record.id, record.serialize())

    def contains_signed_pre_key(self, signed_pre_key_id: int) -> bool:
        """Whether a signed prekey with this id is stored."""
        return signed_pre_key_id in self._signed_pre_keys

    def remove_signed_pre_key(self, signed_pre_key_id: int) -> None:
        """Remove the signed prekey (no error if absent)."""
        self._delete(self._signed_pre_keys, signed_pre_key_id)

    # -- SessionStore ------------------------------------------------------

    def load_session(self, address: ProtocolAddress) -> bytes | None:
        """The session record for ``address``, or ``None``."""
        return self._sessions.get((address.name, address.device_id))

    def store_session(self, address: ProtocolAddress, record: bytes) -> None:
        """Store (or replace) the session record for ``address``."""
        self._set(
            self._sessions, (address.name, address.device_id), check_record(record, "session")
        )

    def contains_session(self, address: ProtocolAddress) -> bool:
        """Whether a session record exists for ``address``."""
        return (address.name, address.device_id) in self._sessions

    def delete_session(self, address: ProtocolAddress) -> None:
        """Delete the session record for ``address`` (no error if absent)."""
        self._delete(self._sessions, (address.name, address.device_id))

    def delete_all_sessions(self, name: str) -> None:
        """Delete the session records of every device of ``name``.

        Raises:
            UsageError: ``name`` is not a str.
        """
        check_name(name, "name")
        for key in [k for k in self._sessions if k[0] == name]:
            self._delete(self._sessions, key)

    def get_sub_device_sessions(self, name: str) -> list[int]:
        """Device ids of ``name`` with a session, sorted.

        Raises:
            UsageError: ``name`` is not a str.
        """
        check_name(name, "name")
        return sorted(device for n, device in self._sessions if n == name)

    # -- SenderKeyStore ----------------------------------------------------

    def load_sender_key(self, group_id: str, sender: ProtocolAddress) -> bytes | None:
        """The sender-key record of ``sender`` in ``group_id``, or ``None``.

        Raises:
            UsageError: ``group_id`` is not a str.
        """
        check_name(group_id, "group id")
        return self._sender_keys.get((group_id, sender.name, sender.device_id))

    def store_sender_key(self, group_id: str, sender: ProtocolAddress, record: bytes) -> None:
        """Store (or replace) the sender-key record of ``sender`` in ``group_id``."""
        check_name(group_id, "group id")
        self._set(
            self._sender_keys,
            (group_id, sender.name, sender.device_id),
            check_record(record, "sender key record"),
        )

    def delete_sender_key(self, group_id: str, sender: ProtocolAddress) -> None:
        """Delete the sender-key record of ``sender`` in ``group_id`` (no error if absent).

        Raises:
            UsageError: ``group_id`` is not a str.
            StorageError: the store was closed.
        """
        check_name(group_id, "group id")
        self._delete(self._sender_keys, (group_id, sender.name, sender.device_id))

    # -- RetryStore --------------------------------------------------------

    def get_record(self, kind: str, key: str) -> bytes | None:
        """The value stored under (``kind``, ``key``), or ``None``.

        Raises:
            UsageError: ``kind`` or ``key`` is not a non-empty str.
        """
        table = self._records.get(check_kind(kind))
        key = check_key(key)
        if table is None:
            return None
        entry = table.get(key)
        return None if entry is None else entry[0]

    def put_record(self, kind: str, key: str, value: bytes, due_ms: int | None = None) -> None:
        """Store (or replace) a record, value and ``due_ms`` both.

        Raises:
            UsageError: a bad argument (see :class:`~axolotl.store.base.RetryStore`).
            StorageError: the store was closed.
        """
        kind = check_kind(kind)
        entry = (check_value(value), check_due_ms(due_ms))
        key = check_key(key)
        table = self._records.get(kind)
        if table is None:
            self._check_open()
            table = self._records[kind] = RecordTable()
        self._set(table, key, entry)

    def delete_record(self, kind: str, key: str) -> None:
        """Delete a record (no error if it is absent).

        Raises:
            UsageError: ``kind`` or ``key`` is not a non-empty str.
            StorageError: the store was closed.
        """
        table = self._records.get(check_kind(kind))
        key = check_key(key)
        if table is None:
            self._check_open()
            return
        self._delete(table, key)

    def due_records(self, kind: str, now_ms: int, limit: int) -> list[tuple[str, bytes, int]]:
        """Up to ``limit`` records of ``kind`` due at ``now_ms``, by ``(due_ms, key)``.

        Raises:
            UsageError: a bad argument.
        """
        table = self._records.get(check_kind(kind))
        now_ms = check_now_ms(now_ms)
        limit = check_limit(limit)
        return [] if table is None else table.due(now_ms, limit)

    def records(self, kind: str, limit: int | None = None) -> list[tuple[str, bytes, int | None]]:
        """Every record of ``kind`` (or the first ``limit``), by ``(due_ms, key)``, undue last.

        Raises:
            UsageError: a bad argument.
        """
        table = self._records.get(check_kind(kind))
        if limit is not None:
            limit = check_limit(limit)
        return [] if table is None else table.ordered(limit)

    def get_records(self, kinds: Sequence[str], key: str) -> dict[str, bytes]:
        """The values stored under ``key`` in each of ``kinds`` that has one.

        Raises:
            UsageError: a bad kind or key, or ``kinds`` is a bare str.
        """
        key = check_key(key)
        out: dict[str, bytes] = {}
        for kind in check_kinds(kinds):
            table = self._records.get(kind)
            entry = None if table is None else table.get(key)
            if entry is not None:
                out[kind] = entry[0]
        return out

    def next_due_ms(self, kinds: Sequence[str]) -> int | None:
        """The smallest ``due_ms`` over the records of ``kinds``, or ``None``.

        Raises:
            UsageError: a bad kind, or ``kinds`` is a bare str.
        """
        soonest: int | None = None
        for kind in check_kinds(kinds):
            table = self._records.get(kind)
            due = None if table is None else table.next_due_ms()
            if due is not None and (soonest is None or due < soonest):
                soonest = due
        return soonest

    def count_records(self, kind: str) -> int:
        """How many records of ``kind`` are stored.

        Raises:
            UsageError: ``kind`` is not a non-empty str.
        """
        table = self._records.get(check_kind(kind))
        return 0 if table is None else len(table)

    def evict_records(self, kind: str, keep: int) -> int:
        """Delete the earliest-due records of ``kind`` until at most ``keep`` remain.

        Records without ``due_ms`` are never deleted.

        Returns:
            How many records were deleted.

        Raises:
            UsageError: a bad argument.
            StorageError: the store was closed.
        """
        table = self._records.get(check_kind(kind))
        keep = check_limit(keep, "keep")
        self._check_open()
        if table is None:
            return 0
        removed = table.evict(keep)
        if self._transaction.active:
            for key, entry in removed:
                self._transaction.note(table, key, entry)
        return len(removed)

    # -- ProtocolStore -----------------------------------------------------

    def transaction(self) -> _MemoryTransaction:
        """A nestable transaction; see :meth:`axolotl.store.base.ProtocolStore.transaction`.

        Raises:
            StorageError: the store was closed.
        """
        return self._transaction

    def close(self) -> None:
        """Mark the store closed; later writes and transactions raise StorageError."""
        self._closed = True
