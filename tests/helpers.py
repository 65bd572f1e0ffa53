"""A fault-injecting network of devices running the retry layer, for scenario tests.

Devices talk through a simulated server with a clock in milliseconds. The
network can drop, corrupt (flip a byte), duplicate, reorder and delay what
travels; a device can restart (reopen its SQLite store), disconnect and
reconnect, lose a session (the classic Bad MAC cause) or be reinstalled
(new registration id and identity). The application side of every device
records what it was given, and asserts nothing is delivered twice.
"""

from __future__ import annotations

import heapq
import random
import tempfile
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from axolotl.address import ProtocolAddress
from axolotl.keys import (
    PreKeyBundle,
    generate_identity_key_pair,
    generate_pre_keys,
    generate_registration_id,
    generate_signed_pre_key,
)
from axolotl.receipts import OutgoingRetryReceipt
from axolotl.retry import (
    Ack,
    Deliver,
    DeliveryReceipt,
    Envelope,
    Gap,
    RetryLayer,
    RetryPolicy,
    SendFailed,
    SendReceipt,
    Transmit,
    Undecryptable,
    WakeAt,
)
from axolotl.retry.jid import address_to_jid
from axolotl.rng import DeterministicRng
from axolotl.session import accept_changed_identity
from axolotl.store import MemoryStore, SQLiteStore
from axolotl.store.base import ProtocolStore


class Crash(Exception):
    """The process dies in the middle of a store write (injected by :class:`CrashingStore`)."""


WRITES = frozenset(
    {
        "save_identity",
        "store_pre_key",
        "remove_pre_key",
        "store_signed_pre_key",
        "remove_signed_pre_key",
        "store_session",
        "delete_session",
        "delete_all_sessions",
        "store_sender_key",
        "put_record",
        "delete_record",
        "evict_records",
    }
)


class WriteCounter:
    """Counts store writes across devices and raises :class:`Crash` at the chosen one."""

    def __init__(self, crash_at: int | None) -> None:
        self.crash_at = crash_at
        self.writes = 0
        self.crashed = False
        self.armed = False  # counting starts once the network is set up


class CrashingStore:
    """A store proxy that dies at the ``crash_at``-th write (counted over the whole network)."""

    def __init__(self, inner: ProtocolStore, counter: WriteCounter) -> None:
        self._inner = inner
        self._counter = counter

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if name not in WRITES:
            return attr
        counter = self._counter

        def write(*args: Any, **kwargs: Any) -> Any:
            if not counter.armed:
                return attr(*args, **kwargs)
            counter.writes += 1
            if counter.writes == counter.crash_at:
                counter.crashed = True
                raise Crash(f"crash at write {counter.writes} ({name})")
            return attr(*args, **kwargs)

        return write


@dataclass
class Faults:
    """Per-item probabilities and delays of the network."""

    drop: float = 0.0  # an upload to the server, a server ack or a receipt is lost
    lose: float = 0.0  # the server acks an envelope and then loses it (a gap)
    corrupt: float = 0.0
    duplicate: float = 0.0
    corrupt_once: float = 0.0  # per (message, device): its first delivered copy is corrupted
    min_delay_ms: int = 10
    max_delay_ms: int = 50  # a spread > 0 reorders

    def off(self) -> Faults:
        return Faults(min_delay_ms=self.min_delay_ms, max_delay_ms=self.min_delay_ms)


@dataclass
class Device:
    """One device: its store, layer and what its application saw."""

    address: ProtocolAddress
    store: ProtocolStore
    layer: RetryLayer
    path: Path | None
    online: bool = True
    delivered: dict[tuple[ProtocolAddress, str], bytes] = field(default_factory=dict)
    undecryptable: list[Undecryptable] = field(default_factory=list)
    send_failed: list[SendFailed] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)
    receipts_sent: int = 0
    transmissions: int = 0
    receipts_by_message: Counter[str] = field(default_factory=Counter)
    transmissions_by_message: Counter[tuple[str, ProtocolAddress]] = field(default_factory=Counter)


class Network:
    """N devices, a server and a clock."""

    def __init__(
        self,
        names: Iterable[str],
        *,
        seed: int = 0,
        sqlite: bool = False,
        policy: RetryPolicy | None = None,
        faults: Faults | None = None,
        crash_at: int | None = None,
    ) -> None:
        self.random = random.Random(seed)
        self.rng = DeterministicRng(seed)
        self.now = 1_700_000_000_000
        self.faults = faults or Faults()
        self.policy = policy or RetryPolicy()
        self.sqlite = sqlite or crash_at is not None
        self.counter = WriteCounter(crash_at)
        self.crashes = 0
        self.dir = tempfile.TemporaryDirectory(prefix="axolotl-net-")
        self.devices: dict[ProtocolAddress, Device] = {}
        self.bundles: dict[ProtocolAddress, PreKeyBundle] = {}
        self._queue: list[tuple[int, int, str, ProtocolAddress, Any]] = []
        self._seq = 0
        self.wake: dict[ProtocolAddress, int] = {}
        self.held: dict[ProtocolAddress, list[tuple[str, Any]]] = {}
        self.lost_with_sender: set[str] = set()
        self._corrupt_decided: dict[tuple[str, ProtocolAddress], bool] = {}
        self.sent: dict[str, tuple[ProtocolAddress, list[ProtocolAddress], bytes, str | None]] = {}
        for i, name in enumerate(names):
            self._install(ProtocolAddress(f"{name}@s.example", i + 1))
        for a in self.devices:
            for b in self.devices:
                if a != b:
                    self.devices[a].layer.process_bundle(b, self.bundle(b))
        self.counter.armed = True

    # -- devices -------------------------------------------------------------
    def _layer(self, address: ProtocolAddress, store: ProtocolStore) -> RetryLayer:
        wrapped: Any = CrashingStore(store, self.counter) if self.sqlite else store
        return RetryLayer(
            wrapped, address, policy=self.policy, rng=self.rng, trust=accept_changed_identity
        )

    def _install(self, address: ProtocolAddress) -> Device:
        identity = generate_identity_key_pair(self.rng)
        registration_id = generate_registration_id(self.rng)
        path = None
        store: ProtocolStore
        if self.sqlite:
            path = Path(self.dir.name) / f"{address.name}-{address.device_id}-{self._seq}.db"
            self._seq += 1
            store = SQLiteStore.create(path, identity, registration_id, synchronous="NORMAL")
        else:
            store = MemoryStore(identity, registration_id)
        signed = generate_signed_pre_key(identity, 1, self.now, self.rng)
        store.store_signed_pre_key(signed)
        device = Device(address, store, self._layer(address, store), path)
        self.devices[address] = device
        return device

    def bundle(self, address: ProtocolAddress) -> PreKeyBundle:
        """A fresh bundle of ``address`` from the server's directory."""
        store = self.devices[address].store
        (pre_key,) = generate_pre_keys(store.next_pre_key_id(), 1, self.rng)
        store.store_pre_key(pre_key)
        signed = store.load_signed_pre_keys()[0]
        return PreKeyBundle(
            registration_id=store.get_local_registration_id(),
            device_id=address.device_id,
            pre_key_id=pre_key.id,
            pre_key_public=pre_key.key_pair.public_key,
            signed_pre_key_id=signed.id,
            signed_pre_key_public=signed.key_pair.public_key,
            signed_pre_key_signature=signed.signature,
            identity_key=store.get_identity_key_pair().public_key,
        )

    def address(self, name: str) -> ProtocolAddress:
        return next(a for a in self.devices if a.name.startswith(name + "@"))

    def restart(self, name: str) -> None:
        """Close the device's store and reopen it from disk (SQLite networks only)."""
        d = self.devices[self.address(name)]
        assert d.path is not None, "restart needs sqlite=True"
        d.store.close()
        d.store = SQLiteStore.open(d.path, synchronous="NORMAL")
        d.layer = self._layer(d.address, d.store)

    def wipe_session(self, name: str, peer: str) -> None:
        """``name`` loses its session with ``peer`` (the classic Bad MAC / no-session cause)."""
        d = self.devices[self.address(name)]
        d.store.delete_session(self.address(peer))

    def reinstall(self, name: str) -> None:
        """A new identity and registration id at the same address; nothing else survives."""
        address = self.address(name)
        # A reinstall wipes the send log: what this device sent and had not
        # yet got across is gone with it (the application knows it reinstalled).
        self.lost_with_sender |= {m for m, sent in self.sent.items() if sent[0] == address}
        old = self.devices.pop(address)
        if old.path is not None:
            old.store.close()
        fresh = self._install(address)
        fresh.delivered = old.delivered  # the user's history, for the exactly-once check
        for other in self.devices:
            if other != address:
                fresh.layer.process_bundle(other, self.bundle(other))

    def disconnect(self, name: str) -> None:
        self.devices[self.address(name)].online = False

    def reconnect(self, name: str) -> None:
        d = self.devices[self.address(name)]
        d.online = True
        self._apply(d, d.layer.reconnected(self.now), reemit=True)
        for kind, item in self.held.pop(d.address, []):
            self._push(self.faults.min_delay_ms, kind, d.address, item)

    # -- traffic -------------------------------------------------------------
    def send(
        self, src: str, dsts: Iterable[str], text: bytes, group: str | None = None, **kw: Any
    ) -> str:
        d = self.devices[self.address(src)]
        recipients = [self.address(n) for n in dsts]
        message_id = d.layer.new_message_id()
        for r in recipients:
            # What a stack does before sending: fetch a bundle where no session exists.
            if d.store.load_session(r) is None:
                d.layer.process_bundle(r, self.bundle(r))
        try:
            actions = d.layer.send(recipients, message_id, text, self.now, group=group, **kw)
        except Crash:
            # The application's send call failed: after the restart it sends
            # again, under the same id (nothing it handed over was accepted).
            self._crashed(d.address)
            d = self.devices[d.address]
            actions = d.layer.send(recipients, message_id, text, self.now, group=group, **kw)
        self.sent[message_id] = (d.address, recipients, text, group)
        self._apply(d, actions)
        return message_id

    def _crashed(self, address: ProtocolAddress) -> None:
        """The device died mid-transaction: it restarts from its database."""
        self.crashes += 1
        name = address.name.split("@")[0]
        self.restart(name)

    def _push(self, delay: int, kind: str, dst: ProtocolAddress, item: Any) -> None:
        self._seq += 1
        heapq.heappush(self._queue, (self.now + delay, self._seq, kind, dst, item))

    def _travel(self, kind: str, dst: ProtocolAddress, item: Any, faults: Faults) -> None:
        if self.random.random() < faults.drop:
            return
        copies = 2 if self.random.random() < faults.duplicate else 1
        for _ in range(copies):
            sent = item
            if kind == "envelope" and self._corrupt_now(item, faults):
                body = bytearray(item.body)
                body[self.random.randrange(len(body))] ^= 1 << self.random.randrange(8)
                sent = replace(item, body=bytes(body))
            self._push(
                self.random.randint(faults.min_delay_ms, faults.max_delay_ms), kind, dst, sent
            )

    def _corrupt_now(self, env: Envelope, faults: Faults) -> bool:
        if faults.corrupt_once:
            key = (env.message_id, env.recipient)
            if key not in self._corrupt_decided:
                self._corrupt_decided[key] = self.random.random() < faults.corrupt_once
                return self._corrupt_decided[key]
            return False
        return self.random.random() < faults.corrupt

    def _apply(self, d: Device, actions: list[Any], reemit: bool = False) -> None:
        for action in actions:
            if isinstance(action, Transmit):
                d.transmissions += 1
                if not reemit:
                    key = (action.envelope.message_id, action.envelope.recipient)
                    d.transmissions_by_message[key] += 1
                if not d.online:
                    continue
                env = action.envelope
                if self.random.random() < self.faults.drop:
                    continue  # the upload is lost: no ack, no delivery
                # The server acks the upload (the ack itself can be lost) and
                # keeps the envelope until the recipient takes it, so the leg
                # to the recipient only corrupts, duplicates and delays --
                # unless the server loses it outright.
                self._travel("server_ack", d.address, (env.message_id, env.recipient), self.faults)
                if self.random.random() >= self.faults.lose:
                    self._travel("envelope", env.recipient, env, replace(self.faults, drop=0.0))
            elif isinstance(action, SendReceipt):
                d.receipts_sent += 1
                d.receipts_by_message[action.receipt.message_id] += 1
                if d.online:
                    self._travel("receipt", action.device, (d.address, action.receipt), self.faults)
            elif isinstance(action, Deliver):
                key = (action.sender, action.message_id)
                assert key not in d.delivered, f"{d.address} got {action.message_id} twice"
                d.delivered[key] = action.plaintext
            elif isinstance(action, Ack):
                if d.online:
                    self._travel(
                        "delivery",
                        action.sender,
                        DeliveryReceipt(message_id=action.message_id, device=d.address),
                        self.faults,
                    )
            elif isinstance(action, Undecryptable):
                d.undecryptable.append(action)
            elif isinstance(action, SendFailed):
                d.send_failed.append(action)
            elif isinstance(action, Gap):
                d.gaps.append(action)
            elif isinstance(action, WakeAt):
                self.wake[d.address] = action.ms
            else:
                raise AssertionError(f"unknown action {action!r}")

    def _handle(self, kind: str, dst: ProtocolAddress, item: Any) -> None:
        d = self.devices.get(dst)
        if d is None:
            return
        if not d.online:
            # The server keeps what it owes an offline device (a server ack
            # belongs to a connection that is gone: the sender re-emits instead).
            if kind != "server_ack":
                self.held.setdefault(dst, []).append((kind, item))
            return
        try:
            self._handle_on(d, kind, item)
        except Crash:
            self._crashed(dst)
            if kind != "server_ack":
                # Not acknowledged, so the server hands it over again after the restart.
                self._push(self.faults.min_delay_ms, kind, dst, item)

    def _handle_on(self, d: Device, kind: str, item: Any) -> None:
        if kind == "envelope":
            self._apply(d, d.layer.receive(item, self.now))
        elif kind == "server_ack":
            self._apply(d, d.layer.server_ack(item[0], item[1], self.now))
        elif kind == "receipt":
            src, outgoing = item
            assert isinstance(outgoing, OutgoingRetryReceipt)
            incoming = outgoing.received_from(address_to_jid(src))
            self._apply(d, d.layer.receive_receipt(incoming, self.now, device=src))
        elif kind == "delivery":
            self._apply(d, d.layer.receive_receipt(item, self.now))

    def run(self, until_ms: int | None = None, max_steps: int = 1_000_000) -> None:
        """Advance the clock, delivering traffic and firing timers, until quiet or ``until_ms``."""
        for _ in range(max_steps):
            next_item = self._queue[0][0] if self._queue else None
            next_wake = min(self.wake.values()) if self.wake else None
            candidates = [t for t in (next_item, next_wake) if t is not None]
            if not candidates:
                return
            t = min(candidates)
            if until_ms is not None and t > until_ms:
                self.now = until_ms
                return
            self.now = max(self.now, t)
            if next_item is not None and next_item <= self.now:
                _, _, kind, dst, item = heapq.heappop(self._queue)
                self._handle(kind, dst, item)
                continue
            for address, when in list(self.wake.items()):
                if when <= self.now:
                    del self.wake[address]
                    d = self.devices.get(address)
                    if d is None:
                        continue
                    try:
                        self._apply(d, d.layer.tick(self.now))
                    except Crash:
                        self._crashed(address)
                        self.wake[address] = self.now + 1
        raise AssertionError("the network did not settle")

    # -- checks --------------------------------------------------------------
    def check_exactly_once(self) -> None:
        """Every message reached every recipient exactly once, or was reported."""
        for message_id, (src, recipients, text, _) in self.sent.items():
            for r in recipients:
                d = self.devices[r]
                got = d.delivered.get((src, message_id))
                if got is not None:
                    assert got == text, f"{message_id} to {r}: wrong plaintext"
                    continue
                if message_id in self.lost_with_sender:
                    continue
                reported = any(u.message_id == message_id for u in d.undecryptable) or any(
                    f.message_id == message_id and f.device == r
                    for f in self.devices[src].send_failed
                )
                assert reported, f"{message_id} from {src} to {r} neither delivered nor reported"

    def check_budgets(self) -> None:
        """No message drew more receipts or transmissions than the policy allows."""
        p = self.policy
        for d in self.devices.values():
            for message_id, n in d.receipts_by_message.items():
                assert n <= p.max_retries, f"{d.address}: {n} receipts for {message_id}"
            for (message_id, r), n in d.transmissions_by_message.items():
                sent = self.sent.get(message_id)
                if sent is None:
                    continue
                budget = max(c.max_transmissions for c in p.classes.values())
                limit = budget * (1 + p.max_retries)
                assert n <= limit, f"{d.address}: {n} transmissions of {message_id} to {r}"

    def close(self) -> None:
        for d in self.devices.values():
            d.store.close()
        self.dir.cleanup()
