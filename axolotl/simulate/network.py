"""A fault-injecting network of devices running the retry layer.

Devices talk through a simulated server with a clock in milliseconds. The
network can drop, corrupt (flip a bit), duplicate, reorder and delay what
travels; a device can restart (reopen its store), disconnect and
reconnect, lose a session (the classic Bad MAC cause), be reinstalled (new
registration id and identity) or crash in the middle of a store write. The
application side of every device records what it was given; anything
delivered twice is recorded as a violation. Everything is driven by one
seed, so the same seed gives the same run.

The server keeps what it owes an offline device and hands over again what a
device did not acknowledge before it crashed, as real messaging servers do.
"""

from __future__ import annotations

import heapq
import random
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any, TypeVar

from axolotl.address import ProtocolAddress
from axolotl.errors import UsageError
from axolotl.framing import Framing, NativeFraming
from axolotl.keys import (
    PreKeyBundle,
    generate_identity_key_pair,
    generate_registration_id,
    generate_signed_pre_key,
)
from axolotl.receipts import OutgoingRetryReceipt, RetryReason
from axolotl.receipts.jid import address_to_jid
from axolotl.retry import (
    Ack,
    Action,
    Deliver,
    DeliveryReceipt,
    Envelope,
    FetchBundle,
    Gap,
    LayerStats,
    RetryLayer,
    RetryPolicy,
    SendFailed,
    SendReceipt,
    Transmit,
    Undecryptable,
    WakeAt,
)
from axolotl.retry.records import RECV, ReceiveRecord
from axolotl.rng import DeterministicRng
from axolotl.session import accept_changed_identity, new_bundle
from axolotl.simulate import checks
from axolotl.simulate.crash import Crash, CrashingStore, WriteCounter
from axolotl.simulate.device import Device, Faults, unknown_error_cause
from axolotl.simulate.stores import DeviceStores, MemoryStores, SQLiteStores
from axolotl.store.base import ProtocolStore

__all__ = ["Device", "Faults", "Network"]


_Item = tuple[int, int, str, ProtocolAddress, Any]
_T = TypeVar("_T")
_UNKNOWN = RetryReason.UNKNOWN_ERROR.name


def _confirmer(item: Deliver | Undecryptable | SendFailed) -> Callable[[Device], None]:
    """The application's confirm of ``item``, as a call :meth:`Network._attempt` can repeat."""

    def confirm(d: Device) -> None:
        d.layer.confirm(item)

    return confirm


class Network:
    """N devices, a server and a clock.

    Args:
        names: device names (each becomes ``name@s.example``, device 1, 2, ...).
        seed: drives every random choice and every key.
        stores: where the devices keep their state; the network closes it.
            Default: in memory, or SQLite files in a temporary folder when
            ``crash_at`` asks for crashes. Restarts and crashes need a
            persistent backend.
        policy: the retry policy of every device.
        faults: the network's faults.
        crash_at: store writes (1-based, counted from set-up on) at which the
            writing device crashes and restarts.
        eager_sessions: set up a session between every two devices before
            anything is sent (the square of the device count in X3DH
            handshakes). ``False``: a device fetches a bundle when it first
            sends to a device it has no session with, as a stack does, so
            set-up is linear in the device count and a pair that never talks
            costs nothing; first messages then travel as prekey messages.
            A reinstalled device likewise starts without sessions.
        framing: every device's framing (default native); under the WhatsApp
            one the bodies sent must be serialized WhatsApp ``Message`` protobufs.
        batch: a device back online takes what the server held for it in one
            ``RetryLayer.batch`` (one commit); ``False``: one call each.

    Raises:
        UsageError: crashes asked of stores that do not persist.
    """

    def __init__(
        self,
        names: Iterable[str],
        *,
        seed: int = 0,
        stores: DeviceStores | None = None,
        policy: RetryPolicy | None = None,
        faults: Faults | None = None,
        crash_at: Iterable[int] = (),
        eager_sessions: bool = True,
        framing: Framing | None = None,
        batch: bool = True,
    ) -> None:
        self.batch = batch
        self.random = random.Random(seed)
        self.framing: Framing = framing if framing is not None else NativeFraming()
        self.rng = DeterministicRng(seed)
        self.now = 1_700_000_000_000
        self.faults = faults or Faults()
        self.policy = policy or RetryPolicy()
        self.counter = WriteCounter(crash_at)
        if stores is None:
            stores = SQLiteStores() if self.counter.crash_at else MemoryStores()
        elif self.counter.crash_at and not stores.persistent:
            raise UsageError("crash injection needs persistent stores (SQLite or PostgreSQL)")
        self.stores = stores
        self.eager_sessions = eager_sessions
        self.devices: dict[ProtocolAddress, Device] = {}
        self._by_name: dict[str, ProtocolAddress] = {}
        self._queue: list[_Item] = []
        self._seq = 0
        self.wake: dict[ProtocolAddress, int] = {}
        self.held: dict[ProtocolAddress, list[tuple[str, Any]]] = {}
        self.lost_with_sender: set[str] = set()
        self.lost_with_receiver: set[tuple[str, ProtocolAddress]] = set()
        self.delivered_again: set[tuple[str, ProtocolAddress]] = set()
        self.sent: dict[str, tuple[ProtocolAddress, list[ProtocolAddress], bytes, str | None]] = {}
        self.sent_at: dict[str, int] = {}
        self.violations: list[str] = []
        # Deliveries handed out again from an inbox after a restart.
        self.redelivered = 0
        # For the plot: when each incident and each resend happened (ms).
        self.incidents: list[tuple[int, str]] = []
        self.resend_times: list[int] = []
        # What the failures the retry layer sent as UNKNOWN_ERROR really were.
        self.unknown_error_causes: Counter[str] = Counter()
        self.on_deliver: Callable[[Device, Deliver], None] | None = None
        self._corrupt_decided: dict[tuple[str, ProtocolAddress], bool] = {}
        try:
            for i, name in enumerate(names):
                address = ProtocolAddress(f"{name}@s.example", i + 1)
                self._by_name[name] = address
                self._install(address)
            if eager_sessions:
                for a in self.devices:
                    for b in self.devices:
                        if a != b:
                            self.devices[a].layer.process_bundle(b, self.bundle(b))
        except BaseException:
            self.close()
            raise
        self.counter.armed = True

    # -- devices -------------------------------------------------------------
    def _layer(self, address: ProtocolAddress, store: ProtocolStore) -> RetryLayer:
        wrapped: Any = CrashingStore(store, self.counter) if self.stores.persistent else store
        return RetryLayer(
            wrapped,
            address,
            policy=self.policy,
            rng=self.rng,
            trust=accept_changed_identity,
            framing=self.framing,
        )

    def _install(self, address: ProtocolAddress) -> Device:
        identity = generate_identity_key_pair(self.rng)
        registration_id = generate_registration_id(self.rng)
        key = f"{address.name}-{address.device_id}-{self._seq}"
        self._seq += 1
        store = self.stores.create(key, identity, registration_id)
        store.store_signed_pre_key(generate_signed_pre_key(identity, 1, self.now, self.rng))
        device = Device(address, store, self._layer(address, store), key)
        self.devices[address] = device
        return device

    def bundle(self, address: ProtocolAddress) -> PreKeyBundle:
        """A fresh bundle of ``address`` from the server's directory."""
        bundle = new_bundle(self.devices[address].store, address.device_id, self.rng)
        assert bundle is not None  # every device is installed with a signed prekey
        return bundle

    def address(self, name: str) -> ProtocolAddress:
        """The address of the device called ``name``.

        Raises:
            KeyError: no device has that name.
        """
        return self._by_name[name]

    def restart(self, name: str) -> None:
        """Close the device's store and reopen it (persistent stores only)."""
        self._restart(self.address(name))

    def _restart(self, address: ProtocolAddress, stats: LayerStats | None = None) -> None:
        d = self.devices[address]
        if not self.stores.persistent:
            raise UsageError("a restart needs persistent stores (SQLite or PostgreSQL)")
        d.past_stats.append(d.layer.stats if stats is None else stats)
        d.store.close()
        d.store = self.stores.reopen(d.key)
        d.layer = self._layer(d.address, d.store)
        while True:  # the application reads the inbox first; that may crash too
            try:
                self._drain_inbox(d)
                return
            except Crash:
                self.incidents.append((self.now, "crash"))
                d.store.close()
                d.store = self.stores.reopen(d.key)
                d.layer = self._layer(d.address, d.store)

    def _app_write(self, d: Device, action: Deliver) -> None:
        """The application's durable log of what it showed (idempotent on sender and id)."""
        key = (action.sender, action.message_id)
        if key in d.delivered_here:
            return  # written before a crash kept it from confirming
        if key in d.delivered:
            # A reinstalled device has no record of what its old
            # incarnation delivered; a copy that reaches it again (a
            # re-emission the sender never saw confirmed) is delivered
            # again: at least once across a reinstall, exactly once within one.
            self.delivered_again.add((action.message_id, d.address))
        d.delivered_here.add(key)
        d.delivered[key] = action.plaintext
        d.delivered_at[key] = self.now
        if self.on_deliver is not None:
            self.on_deliver(d, action)

    def _app_report(self, d: Device, action: Undecryptable | SendFailed) -> None:
        """The application's durable log of a report (idempotent on the report)."""
        reports: list[Any] = d.undecryptable if isinstance(action, Undecryptable) else d.send_failed
        if action not in reports:
            reports.append(action)

    def _drain_inbox(self, d: Device) -> None:
        """At start-up: what the layer returned and the application did not confirm."""
        for item in d.layer.inbox():
            if isinstance(item, Deliver):
                self.redelivered += 1
                self._app_write(d, item)
            else:
                self._app_report(d, item)
            d.layer.confirm(item)

    def _stats_before(self, d: Device) -> LayerStats | None:
        """What ``d``'s layer has counted so far, kept in case the next call crashes.

        A call that crashes rolls back its transaction, so what it counted
        (failures, receipts, resends) never happened as far as its store goes,
        and the same event comes again after the restart: keeping its counts
        would count it twice. Only copied when crashes are injected at all.
        """
        if not self.counter.crash_at:
            return None
        stats = d.layer.stats
        return replace(stats, failures=dict(stats.failures))

    def _crashed(self, address: ProtocolAddress, before: LayerStats | None) -> None:
        """``address`` crashed in a call that began with ``before``: restart it from its store."""
        self.incidents.append((self.now, "crash"))
        self._restart(address, before)

    def _attempt(self, address: ProtocolAddress, call: Callable[[Device], _T]) -> _T:
        """Run ``call`` on the device at ``address``; if it crashes, restart it and call again.

        What an application does with a call that died with its process: make
        it again once the process is back. It ends: every crash is at a write,
        writes are counted, and only finitely many of them crash.
        """
        while True:
            d = self.devices[address]
            before = self._stats_before(d)
            try:
                return call(d)
            except Crash:
                self._crashed(address, before)

    def wipe_session(self, name: str, peer: str) -> None:
        """``name`` loses its session with ``peer`` (the classic Bad MAC / no-session cause)."""
        d = self.devices[self.address(name)]
        d.store.delete_session(self.address(peer))
        self.incidents.append((self.now, "wipe"))

    def reinstall(self, name: str) -> None:
        """A new identity and registration id at the same address; nothing else survives."""
        address = self.address(name)
        self.incidents.append((self.now, "reinstall"))
        # A reinstall wipes the send log: what this device sent and had not
        # yet got across is gone with it (the application knows it reinstalled).
        self.lost_with_sender |= {m for m, sent in self.sent.items() if sent[0] == address}
        old = self.devices.pop(address)
        # It also wipes the failures it was still asking resends for: a
        # message its old incarnation took from the server but could not read
        # is gone with it unless a resend already on its way reaches the new one.
        for _, value, _ in old.store.records(RECV):
            pending = ReceiveRecord.deserialize(value)
            if (pending.sender, pending.message_id) not in old.delivered:
                self.lost_with_receiver.add((pending.message_id, address))
        old.store.close()
        fresh = self._install(address)
        # The user's history at this address, for the checks and the report.
        fresh.delivered = old.delivered
        fresh.delivered_at = old.delivered_at
        fresh.undecryptable = old.undecryptable
        fresh.send_failed = old.send_failed
        fresh.gaps = old.gaps
        fresh.past_stats = [*old.past_stats, old.layer.stats]
        fresh.receipt_times = old.receipt_times
        if self.eager_sessions:
            for other in list(self.devices):
                if other != address:
                    self._attempt(address, self._bundle_processor(other))

    def _bundle_processor(self, peer: ProtocolAddress) -> Callable[[Device], None]:
        """A call that starts a device's session with ``peer`` from a fresh bundle of it."""

        def process(d: Device) -> None:
            d.layer.process_bundle(peer, self.bundle(peer))

        return process

    def disconnect(self, name: str) -> None:
        """The device goes offline: what it transmits is lost, what it is owed waits."""
        self.devices[self.address(name)].online = False

    def reconnect(self, name: str) -> None:
        """The device comes back: it re-emits its outbox and the server hands over what waited."""
        address = self.address(name)
        self.devices[address].online = True
        actions = self._attempt(address, lambda d: d.layer.reconnected(self.now))
        d = self.devices[address]
        self._apply(d, actions, reemit=True)
        held = self.held.pop(d.address, [])
        if self.batch and len(held) > 1:
            self._push(self.faults.min_delay_ms, "backlog", d.address, held)
            return
        for kind, item in held:
            self._push(self.faults.min_delay_ms, kind, d.address, item)

    # -- traffic -------------------------------------------------------------
    def send(self, src: str, dsts: Iterable[str], text: bytes, group: str | None = None) -> str:
        """``src`` sends ``text`` to ``dsts`` (fetching bundles where it has no session)."""
        address = self.address(src)
        recipients = [self.address(n) for n in dsts]
        message_id = self.devices[address].layer.new_message_id()

        def fetch_bundles(d: Device) -> None:
            # What a stack does before sending: fetch a bundle where no session exists.
            for r in recipients:
                if d.store.load_session(r) is None:
                    d.layer.process_bundle(r, self.bundle(r))

        self._attempt(address, fetch_bundles)
        # A send call that crashed is made again after the restart, under the
        # same id (nothing it handed over was accepted).
        actions = self._attempt(
            address, lambda d: d.layer.send(recipients, message_id, text, self.now, group=group)
        )
        d = self.devices[address]
        self.sent[message_id] = (d.address, recipients, text, group)
        self.sent_at[message_id] = self.now
        self._apply(d, actions)
        return message_id

    def inject(self, envelope: Envelope, delay_ms: int = 10) -> None:
        """Hand ``envelope`` to its recipient as the server would, ``delay_ms`` from now.

        For bytes no layer sent (a hostile peer's junk, say): nothing records
        it as a message, so the checks do not expect it anywhere.
        """
        if envelope.recipient not in self.devices:
            raise UsageError(f"no device {envelope.recipient}")
        self._push(delay_ms, "envelope", envelope.recipient, envelope)

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
            delay = self.random.randint(faults.min_delay_ms, faults.max_delay_ms)
            self._push(delay, kind, dst, sent)

    def _corrupt_now(self, env: Envelope, faults: Faults) -> bool:
        if faults.corrupt_once:
            key = (env.message_id, env.recipient)
            if key not in self._corrupt_decided:
                self._corrupt_decided[key] = self.random.random() < faults.corrupt_once
                return self._corrupt_decided[key]
            return False
        return self.random.random() < faults.corrupt

    def _apply(self, d: Device, actions: list[Action], reemit: bool = False) -> None:
        for action in actions:
            if isinstance(action, Transmit):
                self._transmit(d, action.envelope, reemit)
            elif isinstance(action, SendReceipt):
                d.receipts_sent += 1
                d.receipts_by_message[action.receipt.message_id] += 1
                d.receipt_times.append(self.now)
                if d.online:
                    self._travel("receipt", action.device, (d.address, action.receipt), self.faults)
            elif isinstance(action, Deliver):
                key = (action.sender, action.message_id)
                if key in d.delivered_here:
                    self.violations.append(f"{d.address} got {action.message_id} twice")
                self._app_write(d, action)
                # The application's write is done: confirm it (a crash in
                # between hands the delivery out again from the inbox).
                self._attempt(d.address, _confirmer(action))
            elif isinstance(action, Ack):
                if d.online:
                    receipt = DeliveryReceipt(message_id=action.message_id, device=d.address)
                    self._travel("delivery", action.sender, receipt, self.faults)
            elif isinstance(action, Undecryptable | SendFailed):
                self._app_report(d, action)
                self._attempt(d.address, _confirmer(action))
            elif isinstance(action, Gap):
                d.gaps.append(action)
            elif isinstance(action, FetchBundle):
                # The directory answers at once; what the layer then resends follows.
                d.bundles_fetched += 1

                def answer(dd: Device, device: ProtocolAddress = action.device) -> list[Action]:
                    resends = dd.layer.stats.resends
                    out = dd.layer.bundle_fetched(device, self.bundle(device), self.now)
                    self.resend_times.extend([self.now] * (dd.layer.stats.resends - resends))
                    return out

                actions_after = self._attempt(d.address, answer)
                self._apply(self.devices[d.address], actions_after)
            elif isinstance(action, WakeAt):
                self.wake[d.address] = action.ms

    def _transmit(self, d: Device, env: Envelope, reemit: bool) -> None:
        d.transmissions += 1
        if not reemit:
            d.transmissions_by_message[(env.message_id, env.recipient)] += 1
        if not d.online or self.random.random() < self.faults.drop:
            return  # the upload is lost: no ack, no delivery
        # The server acks the upload (the ack itself can be lost) and keeps the
        # envelope until the recipient takes it, so the leg to the recipient
        # only corrupts, duplicates and delays -- unless the server loses it.
        self._travel("server_ack", d.address, (env.message_id, env.recipient), self.faults)
        if self.random.random() >= self.faults.lose:
            self._travel("envelope", env.recipient, env, replace(self.faults, drop=0.0))

    def _handle(self, kind: str, dst: ProtocolAddress, item: Any) -> None:
        d = self.devices.get(dst)
        if d is None:
            return
        if not d.online:
            # The server keeps what it owes an offline device (a server ack
            # belongs to a connection that is gone: the sender re-emits instead).
            if kind == "backlog":  # away again before it was handed over
                self.held.setdefault(dst, []).extend(item)
            elif kind != "server_ack":
                self.held.setdefault(dst, []).append((kind, item))
            return
        before = self._stats_before(d)
        try:
            self._handle_on(d, kind, item)
        except Crash:
            self._crashed(dst, before)
            if kind != "server_ack":
                # Not acknowledged, so the server hands it over again after the restart.
                self._push(self.faults.min_delay_ms, kind, dst, item)

    def _handle_on(self, d: Device, kind: str, item: Any) -> None:
        if kind == "backlog":
            # What the server held for a device that was away, in one batch:
            # one commit; the actions carried out once it committed.
            with d.layer.batch(max_events=len(item), max_ms=10**9) as batch:
                for held_kind, held in item:
                    self._call_on(d, batch, held_kind, held)
            self._apply(d, batch.actions)
        else:
            self._apply(d, self._call_on(d, d.layer, kind, item))

    def _call_on(self, d: Device, target: Any, kind: str, item: Any) -> list[Action]:
        """Hand ``item`` to ``target`` (the device's layer, or a batch of it); its actions.

        A batch keeps its actions until it commits (this returns none then).
        """
        stats = d.layer.stats
        if kind == "envelope":
            unknown = stats.failures.get(_UNKNOWN, 0)
            actions = target.receive(item, self.now)
            if stats.failures.get(_UNKNOWN, 0) > unknown:
                self.unknown_error_causes[unknown_error_cause(item)] += 1
        elif kind == "server_ack":
            actions = target.server_ack(item[0], item[1], self.now)
        elif kind == "receipt":
            src, outgoing = item
            assert isinstance(outgoing, OutgoingRetryReceipt)
            incoming = outgoing.received_from(address_to_jid(src))
            resends = stats.resends
            actions = target.receive_receipt(incoming, self.now, device=src)
            self.resend_times.extend([self.now] * (stats.resends - resends))
        elif kind == "delivery":
            actions = target.receive_receipt(item, self.now)
        else:
            raise ValueError(f"unknown traffic kind {kind!r}")
        return actions or []

    def run(self, until_ms: int | None = None, max_steps: int = 10_000_000) -> None:
        """Advance the clock, delivering traffic and firing timers, until quiet or ``until_ms``.

        Raises:
            RuntimeError: the network did not settle within ``max_steps``.
        """
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
                    before = self._stats_before(d)
                    try:
                        resends = d.layer.stats.resends
                        actions = d.layer.tick(self.now)  # a bundle wait may run out
                        self.resend_times.extend([self.now] * (d.layer.stats.resends - resends))
                        self._apply(d, actions)
                    except Crash:
                        self._crashed(address, before)
                        self.wake[address] = self.now + 1
        raise RuntimeError("the network did not settle")

    # -- checks (axolotl.simulate.checks) -------------------------------------
    def lost(self) -> list[str]:
        """Copies neither delivered nor reported nor gone with a reinstall."""
        return checks.lost(self)

    def wrong(self) -> list[str]:
        """Deliveries whose plaintext differs from what was sent, and double deliveries."""
        return checks.wrong(self)

    def over_budget(self) -> list[str]:
        """Messages that drew more receipts or transmissions than the policy allows."""
        return checks.over_budget(self)

    def close(self) -> None:
        """Close every device's store, then the backend (which may remove their data)."""
        try:
            for d in self.devices.values():
                d.store.close()
        finally:
            self.stores.close()
