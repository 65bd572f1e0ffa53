"""RetryLayer: the sans-IO layer that turns every failure into a receipt, a resend or a report.

Events in, actions out (README.md, "The retry layer"; what it does with each
event: ``retry/_state.py``). Each call is one store transaction: either all of
its effects are stored and its actions returned, or (on an exception) nothing
changed. The caller carries out the actions in order: put envelopes on the
wire, send receipts, deliver plaintexts, ack, and call :meth:`RetryLayer.tick`
by the time the last :class:`WakeAt` names.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Sequence

from axolotl.address import ProtocolAddress
from axolotl.errors import RemoteError, UsageError
from axolotl.framing import Framing, NativeFraming
from axolotl.keys import PreKeyBundle
from axolotl.receipts import IncomingRetryReceipt
from axolotl.receipts.jid import address_from_jid
from axolotl.retry import clock, gaps, inbox, minted, outbox, receiver, sender
from axolotl.retry._context import Collected, Context, LayerStats
from axolotl.retry.batch import DEFAULT_MAX_EVENTS, DEFAULT_MAX_MS, Batch
from axolotl.retry.events import (
    Action,
    Deliver,
    DeliveryReceipt,
    Envelope,
    SendFailed,
    Undecryptable,
    WakeAt,
)
from axolotl.retry.policy import DEFAULT_POLICY, Priority, RetryPolicy
from axolotl.retry.records import SENDLOG, TIMED_KINDS, SendLogEntry
from axolotl.rng import Rng, default_rng
from axolotl.session import process_prekey_bundle
from axolotl.session.config import DEFAULT_CONFIG, SessionConfig
from axolotl.session.trust import TrustPolicy, reject_changed_identity
from axolotl.store.base import ProtocolStore

__all__ = ["RetryLayer"]

_BATCH = 256
_NATIVE = NativeFraming()
_FRAMING_METHODS = (
    "check_body",
    "encode_pairwise",
    "decode_pairwise",
    "encode_group",
    "decode_group",
)


@contextlib.contextmanager
def _about(device: ProtocolAddress | None = None, message_id: str | None = None) -> Iterator[None]:
    """A RemoteError the call lets out names the device and message it is about."""
    try:
        yield
    except RemoteError as exc:
        exc.about(device, message_id)
        raise


class RetryLayer:
    """The retry layer of one device.

    Args:
        store: sessions, keys and the layer's own records, in one store.
        local: this device's address (the sender of what it sends).
        policy: every number of the layer.
        rng: randomness (keys, jitter, message ids).
        trust: the identity trust policy for changed identity keys.
        config: the session layer's bounds.
        framing: how bodies, sender-key handovers and the layer's hints travel
            inside plaintexts; both ends of a conversation must use the same.
            :class:`~axolotl.framing.NativeFraming` (the default) for stacks
            that are all axolotl, :class:`~axolotl.framing.WhatsAppFraming`
            for a WhatsApp-style peer (yowsup, whatsmeow, Baileys), whose
            bodies are serialized WhatsApp ``Message`` protobufs.

    Raises:
        UsageError: ``framing`` is not a framing.
    """

    def __init__(
        self,
        store: ProtocolStore,
        local: ProtocolAddress,
        *,
        policy: RetryPolicy = DEFAULT_POLICY,
        rng: Rng = default_rng,
        trust: TrustPolicy = reject_changed_identity,
        config: SessionConfig = DEFAULT_CONFIG,
        framing: Framing = _NATIVE,
    ) -> None:
        if not all(callable(getattr(framing, m, None)) for m in _FRAMING_METHODS):
            raise UsageError(f"not a framing: {type(framing).__name__}")
        self._ctx = Context(store, local, policy, rng, trust, config, framing)
        self._batch: Batch | None = None  # the open batch, if any

    @property
    def local(self) -> ProtocolAddress:
        """This device's address."""
        return self._ctx.local

    @property
    def stats(self) -> LayerStats:
        """What this layer did since it was created (counters for metrics; not persisted)."""
        return self._ctx.stats

    @property
    def policy(self) -> RetryPolicy:
        """The policy in force."""
        return self._ctx.policy

    @property
    def framing(self) -> Framing:
        """The framing in force."""
        return self._ctx.framing

    def new_message_id(self) -> str:
        """A fresh message id (``3EB0`` + 16 hex digits, WhatsApp's shape); resends keep it."""
        return "3EB0" + self._ctx.rng(8).hex().upper()

    def was_sent(self, message_id: str) -> bool:
        """Whether a :meth:`send` of ``message_id`` committed (so ``send`` would refuse it).

        After a crash, make again the sends whose intent you wrote down and
        for which this is ``False``. It knows the ids in the send log and the
        last ``RetryPolicy.sent_ids_kept`` ids sent.

        Raises:
            UsageError: ``message_id`` is not a non-empty string.
        """
        if not isinstance(message_id, str) or not message_id:
            raise UsageError("message id must be a non-empty string")
        return sender.was_sent(self._ctx, message_id)

    def process_bundle(self, device: ProtocolAddress, bundle: PreKeyBundle) -> None:
        """Start a session with ``device`` from its published bundle (before the first send).

        Raises:
            InvalidSignature, UntrustedIdentity: as :func:`process_prekey_bundle`.
        """
        ctx = self._ctx
        process_prekey_bundle(
            ctx.store, device, bundle, trust=ctx.trust, rng=ctx.rng, config=ctx.config
        )

    def _finish(self, out: Collected, at: clock.Reading) -> list[Action]:
        actions: list[Action] = out.sorted()  # type: ignore[assignment]
        ctx = self._ctx
        if ctx.policy.inbox:
            # A report is kept in the call's transaction, as a delivery is.
            for action in actions:
                if isinstance(action, Undecryptable | SendFailed):
                    inbox.keep_report(ctx, action, inbox.next_sequence(ctx))
        if self._batch is not None:
            self._batch.clock = at  # the batch asks for the earliest timer once, at its end
            return actions
        wake = ctx.store.next_due_ms(TIMED_KINDS)
        if wake is not None:
            actions.append(WakeAt(at.to_stack(wake)))  # timers run on the layer's clock
        return actions

    @contextlib.contextmanager
    def batch(
        self, *, max_events: int = DEFAULT_MAX_EVENTS, max_ms: int = DEFAULT_MAX_MS
    ) -> Iterator[Batch]:
        """Hand the layer many events in one store transaction (see :mod:`axolotl.retry.batch`).

        ::

            with layer.batch() as batch:
                for envelope in queue:
                    if batch.full:
                        break
                    batch.receive(envelope, now)
            carry_out(batch.actions)  # only now: the batch has committed

        Args:
            max_events: calls after which :attr:`Batch.full` is true.
            max_ms: wall-clock milliseconds after which it is true.

        Raises:
            UsageError: a batch is already open on this layer, or a bound is
                not a positive int.
            StorageError: the store failed; nothing of the batch was kept.
        """
        if self._batch is not None:
            raise UsageError("a batch is already open on this layer")
        batch = Batch(self, max_events, max_ms)
        store = self._ctx.store
        with store.transaction():
            self._batch = batch
            try:
                yield batch
            finally:
                self._batch = None
            wake: WakeAt | None = None
            if batch.clock is not None:
                due = store.next_due_ms(TIMED_KINDS)
                if due is not None:
                    wake = WakeAt(batch.clock.to_stack(due))
        batch._commit(wake)

    def receive_many(
        self,
        envelopes: Iterable[Envelope],
        now_ms: int,
        *,
        max_events: int = DEFAULT_MAX_EVENTS,
        max_ms: int = DEFAULT_MAX_MS,
    ) -> Batch:
        """:meth:`receive` each envelope, in one batch, until the batch is full.

        Returns:
            The committed batch: its ``events`` (how many envelopes it took,
            from the front: hand the rest to the next call), its ``actions``
            and its ``errors`` (an envelope for another device, say).

        Raises:
            StorageError: the store failed; nothing of the batch was kept.
        """
        with self.batch(max_events=max_events, max_ms=max_ms) as batch:
            for envelope in envelopes:
                batch.receive(envelope, now_ms)
                if batch.full:
                    break
        return batch

    def send(
        self,
        recipients: Iterable[ProtocolAddress],
        message_id: str,
        plaintext: bytes,
        now_ms: int,
        group: str | None = None,
        priority: Priority = Priority.DEFAULT,
    ) -> list[Action]:
        """Send ``plaintext`` to every device in ``recipients`` under ``message_id``.

        Pairwise, each device gets its own SignalMessage. With ``group``, a
        device that has our current sender key gets the one SenderKeyMessage,
        the others a pairwise message carrying our sender key along.

        Raises:
            UsageError: bad arguments, a message id already used, or a body
                the framing cannot carry (under the WhatsApp framing: not a
                non-empty serialized ``Message``, or one with field 2).
            NoSession: a device has no session (call :meth:`process_bundle`).
        """
        out = Collected()
        ctx = self._ctx
        with ctx.store.transaction(), _about(message_id=message_id):
            at = clock.read(ctx, now_ms)
            sender.send(
                ctx, list(recipients), message_id, plaintext, now_ms, at.ms, group, priority, out
            )
            return self._finish(out, at)

    def receive(self, envelope: Envelope, now_ms: int) -> list[Action]:
        """Handle an envelope from the network: deliver it once, or ask for a resend."""
        out = Collected()
        with self._ctx.store.transaction():
            at = clock.read(self._ctx, now_ms)
            receiver.receive(self._ctx, envelope, at.ms, out)
            return self._finish(out, at)

    def receive_receipt(
        self,
        receipt: IncomingRetryReceipt | DeliveryReceipt,
        now_ms: int,
        device: ProtocolAddress | None = None,
    ) -> list[Action]:
        """Handle a retry receipt (answered with at most one resend) or a delivery receipt.

        Args:
            receipt: the receipt.
            now_ms: the time.
            device: the device it came from; by default read from the
                receipt's ``participant`` (group) or ``from`` JID.

        Raises:
            InvalidReceipt: the device cannot be read from the receipt's JIDs.
            UntrustedIdentity: an attached bundle changes the identity key and
                the trust policy refused it.
            InvalidSignature: an attached bundle's signature does not verify.
        """
        if not isinstance(receipt, DeliveryReceipt | IncomingRetryReceipt):
            raise UsageError(f"not a receipt: {type(receipt).__name__}")
        out = Collected()
        with self._ctx.store.transaction(), _about(device, receipt.message_id):
            at = clock.read(self._ctx, now_ms)
            if isinstance(receipt, DeliveryReceipt):
                sender.on_delivery_receipt(self._ctx, receipt)
            else:
                if device is None:
                    device = address_from_jid(receipt.participant or receipt.sender)
                sender.on_retry_receipt(self._ctx, receipt, device, at.ms, out)
            return self._finish(out, at)

    def bundle_fetched(
        self, device: ProtocolAddress, bundle: PreKeyBundle | None, now_ms: int
    ) -> list[Action]:
        """Answer a :class:`~axolotl.retry.events.FetchBundle`: the device's published bundle.

        The session with ``device`` is rebuilt from ``bundle`` and every retry
        receipt that waited for it is answered with a resend. Pass ``None``
        when the bundle cannot be had (the server has none): they are answered
        on the old session. A bundle nothing waits for changes nothing.

        Raises:
            UntrustedIdentity, InvalidSignature: as :meth:`process_bundle`
                (nothing changed; the receipts keep waiting until
                ``RetryPolicy.bundle_wait_ms`` runs out).
        """
        if bundle is not None and not isinstance(bundle, PreKeyBundle):
            raise UsageError(f"expected a PreKeyBundle or None, got {type(bundle).__name__}")
        out = Collected()
        with self._ctx.store.transaction(), _about(device):
            at = clock.read(self._ctx, now_ms)
            sender.on_bundle(self._ctx, device, bundle, at.ms, out)
            return self._finish(out, at)

    def confirm(self, item: Deliver | Undecryptable | SendFailed) -> None:
        """The application has durably taken ``item``: a delivery or a report the layer returned.

        Call it once your own write of a :class:`~axolotl.retry.events.Deliver`,
        :class:`~axolotl.retry.events.Undecryptable` or
        :class:`~axolotl.retry.events.SendFailed` is committed; until then it
        stays in the layer's inbox and :meth:`inbox` hands it out again (after
        a crash, for instance). Idempotent: confirming twice, or something
        never returned, is a no-op. Only the identity of ``item`` counts (the
        sender or device, the message id, and for a ``SendFailed`` its reason).

        Raises:
            UsageError: ``item`` is none of the three.
        """
        if not isinstance(item, Deliver | Undecryptable | SendFailed):
            raise UsageError(
                f"confirm takes a Deliver, Undecryptable or SendFailed, got {type(item).__name__}"
            )
        with self._ctx.store.transaction():
            inbox.confirm(self._ctx, item)

    def inbox(self, limit: int | None = None) -> list[Deliver | Undecryptable | SendFailed]:
        """What the application has not confirmed yet, in order: hand it out again at start-up.

        Each item is the action the layer returned: a
        :class:`~axolotl.retry.events.Deliver` (same message id, sender,
        plaintext and group), an :class:`~axolotl.retry.events.Undecryptable`
        or a :class:`~axolotl.retry.events.SendFailed`. The application may
        have written some of them already (it crashed before confirming): its
        write must be idempotent on the item.
        """
        return inbox.pending(self._ctx, limit)

    def server_ack(self, message_id: str, device: ProtocolAddress, now_ms: int) -> list[Action]:
        """The server accepted the envelope of ``message_id`` for ``device``."""
        out = Collected()
        with self._ctx.store.transaction():
            at = clock.read(self._ctx, now_ms)
            sender.on_server_ack(self._ctx, message_id, device)
            return self._finish(out, at)

    def reconnected(self, now_ms: int) -> list[Action]:
        """The connection is back: every envelope not yet acked goes out again now."""
        out = Collected()
        with self._ctx.store.transaction():
            at = clock.read(self._ctx, now_ms)
            outbox.reconnect(self._ctx, at.ms, out)
            return self._finish(out, at)

    def tick(self, now_ms: int) -> list[Action]:
        """Fire every timer due by ``now_ms``: retransmissions, repeated receipts, bundle waits,
        gaps, pruning."""
        ctx = self._ctx
        out = Collected()
        with ctx.store.transaction():
            at = clock.read(ctx, now_ms)
            for envelope in outbox.due(ctx, at.ms, out):
                sender.on_send_failed(ctx, envelope)
            receiver.retry_due(ctx, at.ms, out)
            receiver.forget_given_up(ctx, at.ms)
            minted.expire(ctx, at.ms)
            sender.bundle_waits_due(ctx, at.ms, out)
            gaps.due(ctx, at.ms, out)
            self._prune_send_log(at.ms, out)
            return self._finish(out, at)

    def _prune_send_log(self, now_ms: int, out: Collected) -> None:
        """Drop send-log entries past their age; report every device that never confirmed."""
        store = self._ctx.store
        while True:
            batch = store.due_records(SENDLOG, now_ms, _BATCH)
            for key, value, _ in batch:
                sender.on_expired(self._ctx, SendLogEntry.deserialize(value), out)
                store.delete_record(SENDLOG, key)
            if len(batch) < _BATCH:
                return

    def pending(self) -> Sequence[Envelope]:
        """Envelopes waiting for a server ack (for inspection and tests)."""
        from axolotl.retry.records import OUTBOX, OutboxEntry

        return [
            OutboxEntry.deserialize(value).envelope
            for _, value, _ in self._ctx.store.records(OUTBOX)
        ]
