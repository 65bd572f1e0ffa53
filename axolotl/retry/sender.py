"""The sender's side: the send log, sending, and answering retry receipts.

The sender half of the retry layer (``retry/_state.py``, ``SENDER``). A receipt
is accepted only from an original recipient device, only while the (message,
device) budget lasts and only for a count not answered yet (so a replayed
receipt gets at most one resend). The session is repaired first when the
receipt says it must be: the peer's registration id changed, it attached a key
bundle, or it is still failing on the same base key at count >= 2 -- a rebuild
from the bundle, at most once per device per window, through the identity trust
policy.
"""

from __future__ import annotations

from dataclasses import replace

from axolotl.address import ProtocolAddress
from axolotl.errors import UsageError
from axolotl.framing import Frame
from axolotl.keys import PreKeyBundle
from axolotl.receipts import IncomingRetryReceipt, RetryReason
from axolotl.receipts.bundles import prekey_bundle_from_key_bundle
from axolotl.retry import bundles, incarnation, outbox, sequence
from axolotl.retry._context import Collected, Context, log
from axolotl.retry._state import (
    Effect,
    ReceiptVerdict,
    SendEvent,
    SendState,
    judge_receipt,
    send_transition,
)
from axolotl.retry.events import DeliveryReceipt, Envelope, SendFailed, SendFailure
from axolotl.retry.policy import Priority
from axolotl.retry.records import (
    SENDLOG,
    SENTID,
    BundleWait,
    DeviceState,
    KeyHandover,
    SendLogEntry,
    address_key,
    load_handover,
    save_handover,
)
from axolotl.session import (
    SessionSummary,
    create_sender_key_distribution,
    current_session,
    encrypt,
    group_encrypt,
    process_prekey_bundle,
)
from axolotl.wire import MessageType

__all__ = [
    "bundle_waits_due",
    "on_bundle",
    "on_delivery_receipt",
    "on_expired",
    "on_retry_receipt",
    "on_send_failed",
    "on_server_ack",
    "send",
]


def _load(ctx: Context, message_id: str) -> SendLogEntry | None:
    data = ctx.store.get_record(SENDLOG, message_id)
    return SendLogEntry.deserialize(data) if data is not None else None


def _save(ctx: Context, entry: SendLogEntry) -> None:
    if all(d.state is SendState.DELIVERED for d in entry.devices):
        ctx.store.delete_record(SENDLOG, entry.message_id)
        return
    ctx.store.put_record(
        SENDLOG,
        entry.message_id,
        entry.serialize(),
        entry.expires_ms or entry.timestamp_ms + ctx.policy.send_log_max_age_ms,
    )


class _GroupBody:
    """The group ciphertext of one send, made once and shared by every device that has our key."""

    def __init__(self) -> None:
        self.body: bytes | None = None


def _envelope(
    ctx: Context,
    entry: SendLogEntry,
    ds: DeviceState,
    retry_count: int,
    fresh_key: bool,
    group_body: _GroupBody,
) -> Envelope:
    """Encrypt ``entry`` for one device.

    A group message goes as the shared SenderKeyMessage to a device that has
    our current sender key; otherwise (and on every resend, ``fresh_key``)
    pairwise, carrying our sender-key distribution message along. A pairwise
    transmission's chain position is noted in ``ds``, and a later one names
    the earlier ones it replaces (for the receiver's gap detection) when the
    framing carries them. The framing pads with one draw from ``ctx.rng``
    when it pads (before the group signature, once per shared group body).
    """
    device = ds.device

    def envelope(kind: MessageType, body: bytes) -> Envelope:
        return Envelope(
            message_id=entry.message_id,
            sender=ctx.local,
            recipient=device,
            type=kind,
            body=body,
            timestamp_ms=entry.timestamp_ms,
            retry_count=retry_count,
            group_id=entry.group_id,
            priority=entry.priority,
        )

    framing = ctx.framing
    replaces = tuple(ds.sent) if framing.names_replaced else ()
    frame = Frame(body=entry.plaintext, replaces=replaces)
    if entry.group_id is not None:
        skdm = create_sender_key_distribution(
            ctx.store, entry.group_id, ctx.local, rng=ctx.rng, config=ctx.config
        )
        handover_key = f"{entry.group_id}\x1f{address_key(device)}"
        handover = load_handover(ctx.store, handover_key)
        if handover is None or handover.key_id != skdm.key_id:
            handover = KeyHandover(skdm.key_id)
        if handover.confirmed and not fresh_key:
            if group_body.body is None:
                group_body.body = group_encrypt(
                    ctx.store,
                    entry.group_id,
                    ctx.local,
                    framing.encode_group(entry.plaintext, ctx.rng),
                    rng=ctx.rng,
                )
            return envelope(MessageType.SENDER_KEY, group_body.body)
        frame = Frame(
            body=entry.plaintext,
            distribution=skdm.serialized,
            group_id=entry.group_id,
            replaces=replaces,
        )
        if not handover.confirmed:
            carriers = [*handover.carriers, entry.message_id]
            handover.carriers = carriers[-KeyHandover.MAX_CARRIERS :]
            save_handover(ctx.store, handover_key, handover)
    message = encrypt(ctx.store, device, framing.encode_pairwise(frame, ctx.rng))
    if framing.names_replaced:
        ds.note_sent((message.ratchet_key.raw, message.counter))
    return envelope(message.type, message.body)


def send(
    ctx: Context,
    recipients: list[ProtocolAddress],
    message_id: str,
    plaintext: bytes,
    now_ms: int,
    at_ms: int,
    group_id: str | None,
    priority: Priority,
    out: Collected,
) -> None:
    """Log the message and transmit it to every recipient device.

    ``now_ms`` (the stack's clock) stamps the message; ``at_ms`` (the layer's
    scheduling clock, :mod:`axolotl.retry.clock`) schedules it.

    Raises:
        UsageError: no recipients, a repeated device, a message id in use, or
            a body the framing cannot carry.
        NoSession: a recipient has no session (process its bundle first).
    """
    if not recipients:
        raise UsageError("send needs at least one recipient device")
    if len(set(recipients)) != len(recipients):
        raise UsageError("send lists a recipient device twice")
    if not isinstance(message_id, str) or not message_id:
        raise UsageError("message id must be a non-empty string")
    if not isinstance(plaintext, bytes):
        raise UsageError("plaintext must be bytes")
    ctx.framing.check_body(plaintext)
    store = ctx.store
    if was_sent(ctx, message_id):
        raise UsageError(f"message id {message_id!r} was already sent; ids are never reused")
    store.put_record(SENTID, message_id, b"", sequence.next_value(ctx, "send", SENTID))
    store.evict_records(SENTID, ctx.policy.sent_ids_kept)
    entry = SendLogEntry(
        message_id=message_id,
        plaintext=plaintext,
        timestamp_ms=now_ms,
        group_id=group_id,
        priority=Priority(priority),
        devices=[DeviceState(d) for d in recipients],
        expires_ms=at_ms + ctx.policy.send_log_max_age_ms,
    )
    shared = _GroupBody()
    for state in entry.devices:
        envelope = _envelope(ctx, entry, state, 0, False, shared)
        state.state = send_transition(state.state, SendEvent.TRANSMIT).state
        outbox.enqueue(ctx, envelope, at_ms, out)
    _save(ctx, entry)
    excess = store.count_records(SENDLOG) - ctx.policy.send_log_max_entries
    if excess > 0:
        # The oldest go first (due = expiry on the monotonic scheduling clock),
        # each unconfirmed device told.
        for key, value, _ in store.records(SENDLOG, excess):
            on_expired(ctx, SendLogEntry.deserialize(value), out, SendFailure.EVICTED)
            store.delete_record(SENDLOG, key)


def was_sent(ctx: Context, message_id: str) -> bool:
    """Whether ``message_id`` is in the send log or among the ids sent recently."""
    store = ctx.store
    return (
        store.get_record(SENDLOG, message_id) is not None
        or store.get_record(SENTID, message_id) is not None
    )


_REPAIR_REASONS = frozenset(
    {RetryReason.NO_SESSION, RetryReason.INVALID_KEY_ID, RetryReason.INVALID_SESSION}
)
"""Failures only a new session repairs (the receiver lacks the session or the prekey)."""


def _repair(
    ctx: Context,
    receipt: IncomingRetryReceipt,
    device: ProtocolAddress,
    ds: DeviceState,
    now_ms: int,
    accepted: bool,
    session: SessionSummary | None,
    device_record: incarnation.DeviceIncarnation,
) -> str:
    """Rebuild the session from the receipt's bundle when the receipt says it is broken.

    The three stale-request guards meet here: the registration id (a change
    counts only if :mod:`axolotl.retry.incarnation` accepted it), the base
    key (the same one failing again from ``rebuild_from_count`` on), and the
    ratchet key (a receipt about a transmission on an older sending chain
    than the current one asks for a resend only, unless its reason is one of
    ``_REPAIR_REASONS``).

    ``accepted``: the receipt's registration id is the incarnation we answer
    (see :mod:`axolotl.retry.incarnation`); a refused one is no reason to rebuild.
    ``session``: the current session's (base key, registration id), as
    :func:`_base_key` read it. A rebuild is noted in ``device_record``.

    Returns:
        ``"rebuilt"``; ``"fetch"`` when a rebuild is due but the receipt has
        no keys (the resend waits for the device's bundle,
        :mod:`axolotl.retry.bundles`); ``""`` when the session stays.
    """
    base_key = session.base_key if session is not None else b""
    chain = session.sending_chain if session is not None else b""
    reasons = []
    if session is None:
        reasons.append("no session")
    elif (
        accepted
        and session.remote_registration_id
        and session.remote_registration_id != receipt.registration_id
    ):
        reasons.append("registration id changed")
    # The ratchet-key guard (Signal's): a receipt about a transmission on an
    # older sending chain than ours now is stale -- the session has moved on
    # since, so a resend on it is repair enough -- unless its reason says the
    # receiver lacks the session or prekey.
    stale = bool(
        ds.sent and chain and ds.sent[-1][0] != chain and receipt.reason not in _REPAIR_REASONS
    )
    if receipt.keys is not None and not stale:
        reasons.append("key bundle attached")
    if (
        receipt.count >= ctx.policy.rebuild_from_count
        and ds.base_key_at_answer
        and ds.base_key_at_answer == base_key
        and not stale
    ):
        reasons.append("same base key again")
    if not reasons:
        if stale and receipt.keys is not None:
            log.info(
                "receipt %s from %s: about an older sending chain: resent, no rebuild",
                receipt.message_id,
                device,
            )
        return ""
    window = ctx.policy.rebuild_window_ms
    if not incarnation.may_rebuild(device_record, receipt.registration_id, now_ms, window):
        log.info(
            "receipt %s from %s: rebuild (%s) skipped, one already in this window",
            receipt.message_id,
            device,
            ", ".join(reasons),
        )
        return ""
    if receipt.keys is None:
        log.info(
            "receipt %s from %s: session broken (%s), no keys: its bundle is needed",
            receipt.message_id,
            device,
            ", ".join(reasons),
        )
        return "fetch"
    process_prekey_bundle(
        ctx.store,
        device,
        prekey_bundle_from_key_bundle(receipt.keys, receipt.registration_id, device.device_id),
        trust=ctx.trust,
        rng=ctx.rng,
        config=ctx.config,
    )
    ctx.stats.rebuilds += 1
    incarnation.note_rebuild(device_record, receipt.registration_id, now_ms)
    return "rebuilt"


def on_retry_receipt(
    ctx: Context,
    receipt: IncomingRetryReceipt,
    device: ProtocolAddress,
    now_ms: int,
    out: Collected,
) -> None:
    """Answer a retry receipt from ``device`` with one resend, or ignore it with a logged reason.

    Raises:
        UntrustedIdentity: the bundle's identity key changed and the trust
            policy refused it (nothing is stored, nothing resent).
        InvalidSignature: the bundle's signed prekey signature does not verify.
    """
    entry = _load(ctx, receipt.message_id)
    ds = entry.device(device) if entry is not None else None
    session: SessionSummary | None = None
    changed, accepted = False, True
    device_record = loaded = incarnation.DeviceIncarnation()
    if ds is not None:
        session = current_session(ctx.store, device)
        device_record = incarnation.load(ctx, device)
        loaded = replace(device_record)
        known = ds.registration_id or (session.remote_registration_id if session else 0)
        changed = bool(known) and receipt.registration_id != known
        accepted = not changed or incarnation.accepts(
            device_record, receipt.registration_id, known, now_ms, ctx.policy.rebuild_window_ms
        )
    verdict = judge_receipt(ds, entry is not None, receipt.count, changed, accepted, ctx.policy)
    if changed and not accepted:
        log.info(
            "retry receipt %s from %s: registration id changed again within the rebuild "
            "window: budget kept, no rebuild for it",
            receipt.message_id,
            device,
        )
    if verdict.verdict is not ReceiptVerdict.ACCEPT:
        log.info(
            "retry receipt %s count %d from %s %s: ignored",
            receipt.message_id,
            receipt.count,
            device,
            verdict.verdict.value,
        )
        ctx.stats.receipts_ignored += 1
        return
    assert entry is not None and ds is not None
    if send_transition(ds.state, SendEvent.RETRY_RECEIPT).effect is Effect.IGNORE:
        log.info(
            "retry receipt for %s from %s, which confirmed delivery: ignored",
            receipt.message_id,
            device,
        )
        ctx.stats.receipts_ignored += 1
        return
    if verdict.reset_budget:
        # A reinstalled device counts its receipts from 1 again: this message's
        # budget moves to the new incarnation (once), its session is rebuilt below.
        log.info(
            "retry receipt %s from %s: registration id changed, budget reset",
            receipt.message_id,
            device,
        )
        ds.last_count = ds.receipts_answered = 0
        ds.base_key_at_answer = b""
        ds.registration_id = receipt.registration_id
    if verdict.accept_incarnation:
        incarnation.accept(device_record, receipt.registration_id, now_ms)
    repair = _repair(ctx, receipt, device, ds, now_ms, accepted, session, device_record)
    if device_record != loaded:
        incarnation.save(ctx, device, device_record)
    if repair == "fetch":
        ds.last_count = receipt.count  # the same count again is no news while we wait
        ds.registration_id = ds.registration_id or receipt.registration_id
        _save(ctx, entry)
        bundles.wait(ctx, device, receipt.message_id, receipt.count, now_ms, entry.priority, out)
        return
    if repair == "rebuilt":
        session = current_session(ctx.store, device)
    _resend(ctx, entry, ds, device, receipt.count, now_ms, out, session, receipt.registration_id)
    if repair == "rebuilt":
        # The keys came with this receipt: whatever waited for a bundle of
        # this device goes out on the new session now.
        waiting = bundles.take(ctx, device)
        if waiting is not None:
            waiting.waiting.pop(receipt.message_id, None)
            _answer_waiting(ctx, waiting, now_ms, out)


def _resend(
    ctx: Context,
    entry: SendLogEntry,
    ds: DeviceState,
    device: ProtocolAddress,
    count: int,
    now_ms: int,
    out: Collected,
    session: SessionSummary | None,
    registration_id: int = 0,
) -> None:
    """Answer receipt ``count`` of ``device`` with one resend on the session as it is now.

    ``session``: that session (``None``: there is none, so nothing can be
    resent); ``registration_id``: the receipt's, recorded for the device if
    none is yet.
    """
    if session is None:
        log.info(
            "retry receipt %s from %s: no session and no bundle, cannot resend",
            entry.message_id,
            device,
        )
        ctx.stats.receipts_ignored += 1
        return
    envelope = _envelope(ctx, entry, ds, count, True, _GroupBody())
    ds.state = send_transition(ds.state, SendEvent.RETRY_RECEIPT).state
    ds.receipts_answered += 1
    ds.last_count = max(ds.last_count, count)
    ds.registration_id = ds.registration_id or registration_id
    ds.base_key_at_answer = session.base_key
    ctx.stats.resends += 1
    outbox.enqueue(ctx, envelope, now_ms, out)
    _save(ctx, entry)


def on_bundle(
    ctx: Context,
    device: ProtocolAddress,
    bundle: PreKeyBundle | None,
    now_ms: int,
    out: Collected,
) -> None:
    """The stack fetched ``device``'s bundle (or could not): answer the receipts waiting for it.

    With a bundle the session is rebuilt first (through the trust policy, noted
    as the device's rebuild); without one they go out on the old session. A
    bundle no receipt waits for changes nothing.

    Raises:
        UntrustedIdentity: the bundle changes the identity key and the trust
            policy refused it (nothing is stored; the receipts keep waiting).
        InvalidSignature: the bundle's signature does not verify (likewise).
    """
    waiting = bundles.take(ctx, device)
    if waiting is None:
        log.info("bundle of %s that no receipt waits for: ignored", device)
        return
    if bundle is not None:
        process_prekey_bundle(
            ctx.store, device, bundle, trust=ctx.trust, rng=ctx.rng, config=ctx.config
        )
        ctx.stats.rebuilds += 1
        device_record = incarnation.load(ctx, device)
        incarnation.note_rebuild(device_record, bundle.registration_id, now_ms)
        incarnation.save(ctx, device, device_record)
    _answer_waiting(ctx, waiting, now_ms, out)


def bundle_waits_due(ctx: Context, now_ms: int, out: Collected) -> None:
    """Answer, on the old session, every receipt whose bundle did not come in time."""
    for waiting in bundles.due(ctx, now_ms):
        log.info("bundle of %s did not come in time: resending on the old session", waiting.sender)
        _answer_waiting(ctx, waiting, now_ms, out)


def _answer_waiting(ctx: Context, waiting: BundleWait, now_ms: int, out: Collected) -> None:
    for message_id, count in waiting.waiting.items():
        entry = _load(ctx, message_id)
        ds = entry.device(waiting.sender) if entry is not None else None
        if entry is None or ds is None:
            continue  # expired meanwhile
        if send_transition(ds.state, SendEvent.RETRY_RECEIPT).effect is Effect.IGNORE:
            continue  # confirmed meanwhile
        _resend(
            ctx,
            entry,
            ds,
            waiting.sender,
            count,
            now_ms,
            out,
            current_session(ctx.store, waiting.sender),
        )


def on_delivery_receipt(ctx: Context, receipt: DeliveryReceipt) -> None:
    """The device has the message: stop retransmitting; forget it once every device has it."""
    outbox.remove(ctx, receipt.message_id, receipt.device)
    entry = _load(ctx, receipt.message_id)
    ds = entry.device(receipt.device) if entry is not None else None
    if entry is None or ds is None:
        log.info(
            "delivery receipt for unknown message %s from %s: ignored",
            receipt.message_id,
            receipt.device,
        )
        return
    ds.state = send_transition(ds.state, SendEvent.DELIVERY_RECEIPT).state
    if entry.group_id is not None:
        _confirm_handover(ctx, entry.group_id, receipt)
    _save(ctx, entry)


def _confirm_handover(ctx: Context, group_id: str, receipt: DeliveryReceipt) -> None:
    """A delivered message that carried our sender key: the device has the key now."""
    key = f"{group_id}\x1f{address_key(receipt.device)}"
    handover = load_handover(ctx.store, key)
    if handover is None:
        return
    if not handover.confirmed and receipt.message_id in handover.carriers:
        save_handover(ctx.store, key, KeyHandover(handover.key_id, True))


def on_server_ack(ctx: Context, message_id: str, device: ProtocolAddress) -> None:
    """The server has the envelope for ``device``: stop retransmitting it."""
    removed = outbox.remove(ctx, message_id, device)
    entry = _load(ctx, message_id)
    ds = entry.device(device) if entry is not None else None
    if entry is None or ds is None:
        if not removed:
            log.info("server ack for unknown message %s to %s: ignored", message_id, device)
        return
    ds.state = send_transition(ds.state, SendEvent.SERVER_ACK).state
    _save(ctx, entry)


def on_expired(
    ctx: Context,
    entry: SendLogEntry,
    out: Collected,
    reason: SendFailure = SendFailure.EXPIRED,
) -> None:
    """The send log lets ``entry`` go: every device that never confirmed it gets a SendFailed.

    A device the outbox already gave up on (``FAILED``: reported then) is not
    reported twice. ``reason``: its age (``EXPIRED``) or the count bound (``EVICTED``).
    """
    for ds in entry.devices:
        if send_transition(ds.state, SendEvent.LOG_EXPIRED).effect is Effect.REPORT_EXPIRED:
            log.info(
                "message %s to %s expired from the send log unconfirmed",
                entry.message_id,
                ds.device,
            )
            out.add(SendFailed(entry.message_id, ds.device, reason), entry.priority)


def on_send_failed(ctx: Context, envelope: Envelope) -> None:
    """Record that the outbox gave up on ``envelope`` (its plaintext stays for a later receipt)."""
    entry = _load(ctx, envelope.message_id)
    ds = entry.device(envelope.recipient) if entry is not None else None
    if entry is None or ds is None:
        return
    ds.state = send_transition(ds.state, SendEvent.BUDGET_SPENT).state
    _save(ctx, entry)
