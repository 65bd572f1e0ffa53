"""Session state and session records (Double Ratchet state, section 3.2 of the spec).

A :class:`SessionRecord` holds the current :class:`SessionState` and up to
``max_archived_states`` previous ones, newest first; decryption tries them in
turn (python-axolotl and libsignal do the same). The store sees only
:meth:`SessionRecord.serialize` bytes, so every load gives a private copy:
the cipher computes on it and stores it back only on success.

Skipped message keys are kept as their 32-byte seeds (``KDF_CK`` output), so
a record with 2,000 skipped keys stays around 80 KB.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from google.protobuf.message import DecodeError as _PbDecodeError

from axolotl._pb import storage_pb2
from axolotl.crypto.curve import KeyPair, PrivateKey, PublicKey
from axolotl.errors import DecodeError, InvalidKey
from axolotl.session._cache import RecordCache

__all__ = [
    "PendingPreKey",
    "ReceiverChain",
    "SenderChain",
    "SessionRecord",
    "SessionState",
    "RECORD_VERSION",
    "load_record",
    "dump_record",
    "return_record",
]

RECORD_VERSION = 2
"""1: skipped keys as repeated ``MessageKey``; 2: packed (read both, write 2)."""
SESSION_VERSION = 3
_KEY = struct.Struct(">I32s")


@dataclass(slots=True)
class SenderChain:
    """Our sending chain: the ratchet key pair we advertise and its chain key."""

    ratchet_key_pair: KeyPair
    chain_key: bytes
    index: int


class ReceiverChain:
    """A receiving chain for one of the peer's ratchet keys.

    Attributes:
        ratchet_key: the peer's ratchet public key of this chain.
        chain_key: the chain key at ``index``.
        index: the next counter this chain derives.
        skipped: message-key seeds of skipped counters, oldest first. A chain
            loaded from a record keeps them packed until first used, so
            loading a record costs the same however many keys it keeps.
    """

    __slots__ = ("_packed", "_skipped", "chain_key", "index", "ratchet_key")

    def __init__(
        self,
        ratchet_key: PublicKey,
        chain_key: bytes,
        index: int,
        skipped: dict[int, bytes] | None = None,
        *,
        packed: bytes = b"",
    ) -> None:
        self.ratchet_key = ratchet_key
        self.chain_key = chain_key
        self.index = index
        self._skipped = skipped if skipped is not None or packed else {}
        self._packed = packed

    @property
    def skipped(self) -> dict[int, bytes]:
        """The skipped keys, decoded from their packed form on first use."""
        if self._skipped is None:
            self._skipped = dict(_KEY.iter_unpack(self._packed))
            self._packed = b""
        return self._skipped

    @skipped.setter
    def skipped(self, value: dict[int, bytes]) -> None:
        self._skipped, self._packed = value, b""

    def skipped_count(self) -> int:
        """How many skipped keys the chain keeps (without decoding them)."""
        return len(self._skipped) if self._skipped is not None else len(self._packed) // _KEY.size

    def packed_skipped(self) -> bytes:
        """The skipped keys as stored: ``(index u32 BE || seed 32 B)*``, oldest first."""
        if self._skipped is None:
            return self._packed
        return b"".join(_KEY.pack(i, seed) for i, seed in self._skipped.items())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ReceiverChain):
            return NotImplemented
        return (self.ratchet_key, self.chain_key, self.index, self.skipped) == (
            other.ratchet_key, other.chain_key, other.index, other.skipped,
        )  # fmt: skip

    def __repr__(self) -> str:
        return f"ReceiverChain(index={self.index}, skipped={self.skipped_count()})"


@dataclass(slots=True)
class PendingPreKey:
    """What the initiator repeats in every PreKeySignalMessage until the first reply."""

    pre_key_id: int | None
    signed_pre_key_id: int
    base_key: PublicKey


@dataclass(slots=True)
class SessionState:
    """One Double Ratchet session with one remote device."""

    local_identity: PublicKey
    remote_identity: PublicKey
    root_key: bytes
    sender_chain: SenderChain
    local_registration_id: int
    remote_registration_id: int = 0
    previous_counter: int = 0
    receiver_chains: list[ReceiverChain] = field(default_factory=list)
    pending_pre_key: PendingPreKey | None = None
    alice_base_key: bytes = b""
    version: int = SESSION_VERSION

    def receiver_chain(self, ratchet_key: PublicKey) -> ReceiverChain | None:
        """The receiving chain for the peer's ``ratchet_key``, if we have one."""
        raw = ratchet_key.raw
        for chain in self.receiver_chains:
            if chain.ratchet_key.raw == raw:
                return chain
        return None

    def skipped_key_count(self) -> int:
        """Message keys kept across all receiving chains."""
        return sum(c.skipped_count() for c in self.receiver_chains)

    def evict_skipped_keys(self, limit: int) -> None:
        """Drop the oldest skipped keys (oldest chain first) until at most ``limit`` remain."""
        excess = self.skipped_key_count() - limit
        for chain in self.receiver_chains:
            while excess > 0 and chain.skipped:
                del chain.skipped[next(iter(chain.skipped))]
                excess -= 1
            if excess <= 0:
                return


@dataclass(slots=True)
class SessionRecord:
    """The current session with a device and its archived predecessors (newest first)."""

    current: SessionState | None = None
    previous: list[SessionState] = field(default_factory=list)

    def states(self) -> list[SessionState]:
        """The current state (if any), then the archived ones, newest first."""
        return [self.current, *self.previous] if self.current is not None else list(self.previous)

    def state_with_base_key(self, base_key: PublicKey) -> SessionState | None:
        """The state built from this initiator base key, if any (a repeated prekey message)."""
        wanted = base_key.serialize()
        return next((s for s in self.states() if s.alice_base_key == wanted), None)

    def make_current(self, state: SessionState, max_archived: int) -> None:
        """Make ``state`` (the current one, or an archived one) current, archiving the present."""
        if state is self.current:
            return
        index = next(i for i, s in enumerate(self.previous) if s is state)
        self.promote(index, max_archived)

    def archive_current(self, max_archived: int) -> None:
        """Move the current state to the front of the archive, keeping at most ``max_archived``."""
        if self.current is not None:
            self.previous.insert(0, self.current)
            del self.previous[max_archived:]
            self.current = None

    def promote(self, index: int, max_archived: int) -> None:
        """Make archived state ``index`` current and archive the present one."""
        state = self.previous.pop(index)
        self.archive_current(max_archived)
        self.current = state

    def serialize(self) -> bytes:
        """Versioned protobuf form (``RecordStructure``)."""
        msg = storage_pb2.RecordStructure(version=RECORD_VERSION)
        if self.current is not None:
            _state_to_pb(self.current, msg.current_session)
        for state in self.previous:
            _state_to_pb(state, msg.previous_sessions.add())
        return msg.SerializeToString()

    @classmethod
    def deserialize(cls, data: bytes) -> SessionRecord:
        """Read :meth:`serialize` output.

        Raises:
            DecodeError: malformed bytes, bad keys or a newer format version.
        """
        msg = storage_pb2.RecordStructure()
        try:
            msg.ParseFromString(data)
        except (_PbDecodeError, ValueError) as exc:
            raise DecodeError("SessionRecord", str(exc) or "malformed protobuf") from None
        if msg.version > RECORD_VERSION:
            raise DecodeError(
                "SessionRecord", f"format version {msg.version} is newer than {RECORD_VERSION}"
            )
        try:
            current = (
                _state_from_pb(msg.current_session) if msg.HasField("current_session") else None
            )
            previous = [_state_from_pb(s) for s in msg.previous_sessions]
        except (InvalidKey, ValueError) as exc:
            raise DecodeError("SessionRecord", str(exc)) from None
        return cls(current, previous)


def _pair(public: bytes, private: bytes) -> KeyPair:
    return KeyPair(PublicKey.deserialize(public), PrivateKey(private))


def _state_to_pb(state: SessionState, out: storage_pb2.SessionStructure) -> None:
    out.session_version = state.version
    out.local_identity_public = state.local_identity.serialize()
    out.remote_identity_public = state.remote_identity.serialize()
    out.root_key = state.root_key
    out.previous_counter = state.previous_counter
    sc = out.sender_chain
    sc.sender_ratchet_key = state.sender_chain.ratchet_key_pair.public_key.serialize()
    sc.sender_ratchet_key_private = state.sender_chain.ratchet_key_pair.private_key.raw
    sc.chain_key.key = state.sender_chain.chain_key
    sc.chain_key.index = state.sender_chain.index
    for chain in state.receiver_chains:
        rc = out.receiver_chains.add()
        rc.sender_ratchet_key = chain.ratchet_key.serialize()
        rc.chain_key.key = chain.chain_key
        rc.chain_key.index = chain.index
        packed = chain.packed_skipped()
        if packed:
            rc.packed_message_keys = packed
    if state.pending_pre_key is not None:
        pp = out.pending_pre_key
        if state.pending_pre_key.pre_key_id is not None:
            pp.pre_key_id = state.pending_pre_key.pre_key_id
        pp.signed_pre_key_id = state.pending_pre_key.signed_pre_key_id
        pp.base_key = state.pending_pre_key.base_key.serialize()
    out.remote_registration_id = state.remote_registration_id
    out.local_registration_id = state.local_registration_id
    out.alice_base_key = state.alice_base_key


def _state_from_pb(msg: storage_pb2.SessionStructure) -> SessionState:
    sc = msg.sender_chain
    pending = None
    if msg.HasField("pending_pre_key"):
        pp = msg.pending_pre_key
        pending = PendingPreKey(
            pp.pre_key_id if pp.HasField("pre_key_id") else None,
            pp.signed_pre_key_id,
            PublicKey.deserialize(pp.base_key),
        )
    for name, key in (("root key", msg.root_key), ("sender chain key", sc.chain_key.key)):
        if len(key) != 32:
            raise ValueError(f"{name} must be 32 bytes, got {len(key)}")
    return SessionState(
        version=msg.session_version,
        local_identity=PublicKey.deserialize(msg.local_identity_public),
        remote_identity=PublicKey.deserialize(msg.remote_identity_public),
        root_key=msg.root_key,
        previous_counter=msg.previous_counter,
        sender_chain=SenderChain(
            _pair(sc.sender_ratchet_key, sc.sender_ratchet_key_private),
            sc.chain_key.key,
            sc.chain_key.index,
        ),
        receiver_chains=[_chain_from_pb(rc) for rc in msg.receiver_chains],
        pending_pre_key=pending,
        remote_registration_id=msg.remote_registration_id,
        local_registration_id=msg.local_registration_id,
        alice_base_key=msg.alice_base_key,
    )


def _chain_from_pb(rc: storage_pb2.SessionStructure.Chain) -> ReceiverChain:
    ratchet_key = PublicKey.deserialize(rc.sender_ratchet_key)
    if rc.message_keys:  # record version 1
        skipped = {mk.index: mk.seed for mk in rc.message_keys}
        if any(len(seed) != 32 for seed in skipped.values()):
            raise ValueError("a skipped message key seed is not 32 bytes")
        return ReceiverChain(ratchet_key, rc.chain_key.key, rc.chain_key.index, skipped)
    packed = rc.packed_message_keys
    if len(packed) % _KEY.size:
        raise ValueError(f"packed message keys are {len(packed)} bytes, not a multiple of 36")
    return ReceiverChain(ratchet_key, rc.chain_key.key, rc.chain_key.index, packed=packed)


_cache: RecordCache[SessionRecord] = RecordCache(SessionRecord.deserialize)


def load_record(data: bytes) -> SessionRecord:
    """Parse stored bytes into a record the caller owns (from the cache when possible)."""
    return _cache.take(data)


def return_record(data: bytes, record: SessionRecord) -> None:
    """Give back a record :func:`load_record` handed out for ``data`` and that was not changed.

    A failed decrypt leaves the record untouched (trials locate keys without
    changing a state), so a flood of forged messages parses it only once.
    """
    _cache.put(data, record)


def dump_record(record: SessionRecord) -> bytes:
    """Serialize ``record`` for storing; the caller must not mutate it afterwards."""
    data = record.serialize()
    _cache.put(data, record)
    return data
