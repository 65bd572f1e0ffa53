"""The storage protocols: one small :class:`typing.Protocol` per store.

The session layer is written against these protocols only, as libsignal's
``storage/traits.rs``. Two implementations ship (:mod:`axolotl.store.memory`,
:mod:`axolotl.store.sqlite`); any other backend that passes the shared store
test suite (``tests/test_store.py``) can take their place.

Conventions every implementation follows:

* Remote devices are keyed by ``(address.name, address.device_id)``; sender
  keys by ``(group_id, sender.name, sender.device_id)``.
* Session and sender-key records are opaque ``bytes``: the session layer owns
  their format, the store only keeps them.
* Every read returns a fresh object (or immutable ``bytes``), so a caller that
  computes on what it loaded never changes stored state until it writes back.
* Unknown prekey and signed prekey ids raise
  :class:`~axolotl.errors.InvalidKeyId`; any failure of the backend itself
  raises :class:`~axolotl.errors.StorageError`.
* :meth:`ProtocolStore.transaction` groups writes into one atomic step, the
  retry layer's records (:class:`RetryStore`) included.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from axolotl.address import ProtocolAddress
from axolotl.crypto.curve import PublicKey
from axolotl.keys import IdentityKeyPair, PreKeyRecord, SignedPreKeyRecord

__all__ = [
    "IdentityKeyStore",
    "PreKeyStore",
    "SignedPreKeyStore",
    "SessionStore",
    "SenderKeyStore",
    "RetryStore",
    "ProtocolStore",
    "PRE_KEY_ID_MODULUS",
    "advance_pre_key_counter",
]

PRE_KEY_ID_MODULUS = 0xFFFFFE
"""Fresh one-time prekey ids run through 1..0xFFFFFE and then wrap to 1.

This is the range :func:`axolotl.keys.generate_pre_keys` wraps within (ids
travel as 3 bytes; 0 and 0xFFFFFF are left alone, as libsignal does).
"""


def advance_pre_key_counter(current: int | None, stored_id: int) -> int | None:
    """The persisted next-prekey-id counter after storing prekey ``stored_id``.

    The counter is ``1 + the highest id stored so far``, where "highest" follows
    the wrap-around of ids within 1..0xFFFFFE (serial-number arithmetic as in
    RFC 1982: an id at most half the range ahead of the counter counts as
    newer). Re-storing an older id never moves the counter back, so fresh
    prekeys never reuse an id that may still sit on a server. Ids outside
    1..0xFFFFFE do not move it.

    Every store implementation shares this function so they agree exactly.

    Args:
        current: the counter now (the next id to hand out), or ``None`` when
            no prekey was ever stored.
        stored_id: the id just stored.

    Returns:
        The new counter value, or ``current`` unchanged (``None`` stays
        ``None`` only when ``stored_id`` is outside the range).
    """
    if not 1 <= stored_id <= PRE_KEY_ID_MODULUS:
        return current
    following = stored_id % PRE_KEY_ID_MODULUS + 1
    if current is None:
        return following
    ahead = (stored_id - current) % PRE_KEY_ID_MODULUS
    if ahead < PRE_KEY_ID_MODULUS // 2:
        return following
    return current


@runtime_checkable
class IdentityKeyStore(Protocol):
    """This installation's identity, and the identity keys seen for remote devices.

    Trust decisions (trust on first use, a policy for changed keys) belong to
    the session layer; this store only remembers keys.
    """

    def get_identity_key_pair(self) -> IdentityKeyPair:
        """Our long-term identity key pair."""
        ...

    def get_local_registration_id(self) -> int:
        """Our registration id (1..16380 for ids made by this library)."""
        ...

    def get_identity(self, address: ProtocolAddress) -> PublicKey | None:
        """The identity key stored for ``address``, or ``None`` if none is known."""
        ...

    def save_identity(self, address: ProtocolAddress, identity_key: PublicKey) -> bool:
        """Store ``identity_key`` for ``address``.

        Returns:
            ``True`` if it replaced a *different* stored key; ``False`` if no
            key was stored or the same key was.
        """
        ...


@runtime_checkable
class PreKeyStore(Protocol):
    """One-time prekeys (X3DH ``OPK``), consumed by incoming prekey messages."""

    def load_pre_key(self, pre_key_id: int) -> PreKeyRecord:
        """The prekey with this id.

        Raises:
            InvalidKeyId: no such prekey.
        """
        ...

    def store_pre_key(self, record: PreKeyRecord) -> None:
        """Store (or replace) ``record`` under ``record.id``; advances :meth:`next_pre_key_id`."""
        ...

    def contains_pre_key(self, pre_key_id: int) -> bool:
        """Whether a prekey with this id is stored."""
        ...

    def remove_pre_key(self, pre_key_id: int) -> None:
        """Remove the prekey (no error if it is absent)."""
        ...

    def next_pre_key_id(self) -> int:
        """The id for the next fresh prekey: 1 + the highest id ever stored.

        A persisted counter (it survives :meth:`remove_pre_key` and restarts)
        that wraps within 1..0xFFFFFE; see :func:`advance_pre_key_counter`.
        ``1`` when no prekey was ever stored.
        """
        ...


@runtime_checkable
class SignedPreKeyStore(Protocol):
    """Signed prekeys (X3DH ``SPK``)."""

    def load_signed_pre_key(self, signed_pre_key_id: int) -> SignedPreKeyRecord:
        """The signed prekey with this id.

        Raises:
            InvalidKeyId: no such signed prekey.
        """
        ...

    def load_signed_pre_keys(self) -> list[SignedPreKeyRecord]:
        """Every stored signed prekey, sorted by id."""
        ...

    def store_signed_pre_key(self, record: SignedPreKeyRecord) -> None:
        """Store (or replace) ``record`` under ``record.id``."""
        ...

    def contains_signed_pre_key(self, signed_pre_key_id: int) -> bool:
        """Whether a signed prekey with this id is stored."""
        ...

    def remove_signed_pre_key(self, signed_pre_key_id: int) -> None:
        """Remove the signed prekey (no error if it is absent)."""
        ...


@runtime_checkable
class SessionStore(Protocol):
    """Pairwise session records, opaque bytes keyed by remote address."""

    def load_session(self, address: ProtocolAddress) -> bytes | None:
        """The session record for ``address``, or ``None``."""
        ...

    def store_session(self, address: ProtocolAddress, record: bytes) -> None:
        """Store (or replace) the session record for ``address``."""
        ...

    def contains_session(self, address: ProtocolAddress) -> bool:
        """Whether a session record exists for ``address``."""
        ...

    def delete_session(self, address: ProtocolAddress) -> None:
        """Delete the session record for ``address`` (no error if absent)."""
        ...

    def delete_all_sessions(self, name: str) -> None:
        """Delete the session records of every device of account ``name``."""
        ...

    def get_sub_device_sessions(self, name: str) -> list[int]:
        """The device ids of account ``name`` that have a session, sorted.

        Unlike libsignal-java this includes device 1 (and 0): every device.
        """
        ...


@runtime_checkable
class SenderKeyStore(Protocol):
    """Group sender-key records, opaque bytes keyed by (group id, sender device)."""

    def load_sender_key(self, group_id: str, sender: ProtocolAddress) -> bytes | None:
        """The sender-key record of ``sender`` in ``group_id``, or ``None``."""
        ...

    def store_sender_key(self, group_id: str, sender: ProtocolAddress, record: bytes) -> None:
        """Store (or replace) the sender-key record of ``sender`` in ``group_id``."""
        ...

    def delete_sender_key(self, group_id: str, sender: ProtocolAddress) -> None:
        """Delete the sender-key record of ``sender`` in ``group_id`` (no error if absent).

        The next message from ``sender`` in the group then finds no sender key,
        as on a device that never received its distribution message.
        """
        ...


@runtime_checkable
class RetryStore(Protocol):
    """The retry layer's records: one generic, table-like store.

    Records are opaque ``bytes`` (the retry layer owns their format), grouped
    by a ``kind`` (send log, outbox, counters, delivered ids, ...) and keyed
    within it by a string ``key``. Each record may carry ``due_ms``, an integer
    time in milliseconds that is indexed: it is when a timer fires (outbox
    retransmissions, receipt retries, gap reports) or, for bounded records,
    the age that :meth:`evict_records` drops first. A record without one
    (``None``) never comes back from :meth:`due_records` and is never evicted.

    Orderings are total, so every backend returns the same lists: by
    ``due_ms`` then ``key``, with keys compared by code point (which is UTF-8
    byte order, as SQLite compares ``TEXT``). Writes join the store's
    :meth:`ProtocolStore.transaction`, so a session update and the retry
    records of the same step commit or roll back together.

    Arguments are checked the same way by every backend:

    Raises:
        UsageError: ``kind`` or ``key`` is not a non-empty ``str`` (or holds a
            lone surrogate, which no backend can store); ``value`` is not
            bytes; ``due_ms`` or ``now_ms`` is not an ``int`` (``bool`` is not
            accepted) or ``due_ms`` does not fit 64 signed bits; a ``limit`` or
            ``keep`` is not an ``int`` >= 0; ``kinds`` is a bare ``str``.
        StorageError: the backend failed.
    """

    def get_record(self, kind: str, key: str) -> bytes | None:
        """The value stored under (``kind``, ``key``), or ``None``."""
        ...

    def put_record(self, kind: str, key: str, value: bytes, due_ms: int | None = None) -> None:
        """Store (or replace) a record; its value *and* its ``due_ms`` are replaced."""
        ...

    def delete_record(self, kind: str, key: str) -> None:
        """Delete a record (no error if it is absent)."""
        ...

    def due_records(self, kind: str, now_ms: int, limit: int) -> list[tuple[str, bytes, int]]:
        """Records of ``kind`` whose ``due_ms`` is set and ``<= now_ms``.

        Returns:
            At most ``limit`` ``(key, value, due_ms)`` tuples, ordered by
            ``(due_ms, key)``, earliest first.
        """
        ...

    def records(self, kind: str, limit: int | None = None) -> list[tuple[str, bytes, int | None]]:
        """Every record of ``kind`` (or the first ``limit``).

        Returns:
            ``(key, value, due_ms)`` tuples ordered by ``(due_ms, key)``, the
            records without ``due_ms`` last (ordered by key).
        """
        ...

    def get_records(self, kinds: Sequence[str], key: str) -> dict[str, bytes]:
        """The values stored under ``key`` in each of ``kinds`` that has one (kind -> value).

        What several :meth:`get_record` calls with one key would return, in one
        read (one statement on the SQL stores).
        """
        ...

    def next_due_ms(self, kinds: Sequence[str]) -> int | None:
        """The smallest ``due_ms`` set on any record of ``kinds``, or ``None``."""
        ...

    def count_records(self, kind: str) -> int:
        """How many records of ``kind`` are stored."""
        ...

    def evict_records(self, kind: str, keep: int) -> int:
        """Bound ``kind`` to ``keep`` records, dropping the earliest ``due_ms`` first.

        Records are deleted in ``(due_ms, key)`` order until at most ``keep``
        remain; records without ``due_ms`` are never deleted, so more than
        ``keep`` may remain when they alone exceed it.

        Returns:
            How many records were deleted.
        """
        ...


@runtime_checkable
class ProtocolStore(
    IdentityKeyStore,
    PreKeyStore,
    SignedPreKeyStore,
    SessionStore,
    SenderKeyStore,
    RetryStore,
    Protocol,
):
    """Every store in one object, with transactions.

    The retry layer's records (:class:`RetryStore`) live in the same object, so
    one :meth:`transaction` covers session writes and retry-record writes
    alike: after a crash either both happened or neither did.
    """

    def transaction(self) -> contextlib.AbstractContextManager[None]:
        """One logical step as one atomic transaction.

        Usage: ``with store.transaction(): ...``. A write outside any
        transaction is a transaction of its own. Transactions nest: an inner
        one joins the outer, and nothing is durable until the outermost one
        ends without an exception. An exception leaving a ``with`` block
        undoes every write made inside that block and is re-raised; when it
        leaves the outermost block, every write of the whole transaction is
        undone (an inner block whose exception the outer code catches undoes
        only its own writes, like a savepoint).

        Raises:
            StorageError: the backend could not begin or commit.
        """
        ...

    def close(self) -> None:
        """Release the backend (a database connection). The store is unusable after."""
        ...
