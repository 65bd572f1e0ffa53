"""The receiver's side: decrypt, deliver exactly once, or turn the failure into a receipt.

The receiver half of the retry layer (``retry/_state.py``, ``RECEIVER``). A failure is counted per
(message id, sender device) and persisted; the receipt carries the count,
the original timestamp, our registration id and the reason, plus a fresh
key bundle from ``policy.keys_from_count`` on, or at once when there is no
session. Without a resend the layer asks again after a backoff; past
``policy.max_retries`` it reports :class:`~axolotl.retry.events.Undecryptable`.
A late resend is still delivered. Delivered ids are kept (bounded) so a
duplicate is acknowledged and never delivered twice.
"""

from __future__ import annotations

from axolotl.address import ProtocolAddress
from axolotl.errors import (
    BadMac,
    DuplicateMessage,
    FutureMessage,
    InvalidKey,
    InvalidKeyId,
    InvalidMessage,
    InvalidSignature,
    NoSenderKey,
    NoSession,
    RemoteError,
    UntrustedIdentity,
    UsageError,
)
from axolotl.receipts import KeyBundle, OutgoingRetryReceipt, RetryReason
from axolotl.receipts.bundles import key_bundle_from_prekey_bundle
from axolotl.receipts.jid import address_to_jid
from axolotl.retry import gaps, inbox, minted
from axolotl.retry._context import Collected, Context, log
from axolotl.retry._state import (
    Effect,
    RecvEvent,
    RecvState,
    Transition,
    judge_failure,
    judge_retry_due,
    recv_transition,
)
from axolotl.retry.events import Ack, Deliver, Envelope, SendReceipt, Undecryptable
from axolotl.retry.records import (
    DELIVERED,
    GAVEUP,
    INBOX,
    RECV,
    ReceiveRecord,
    message_key,
    transmission_digest,
)
from axolotl.session import (
    decrypt_message,
    group_decrypt,
    process_sender_key_distribution,
)
from axolotl.wire import (
    MessageType,
    PreKeySignalMessage,
    SenderKeyDistributionMessage,
    SignalMessage,
)

__all__ = ["receive", "retry_due", "reason_for"]

_BATCH = 256


def reason_for(error: RemoteError) -> RetryReason:
    """The receipt reason code for a decryption failure."""
    if isinstance(error, NoSession):  # NoSenderKey included: no usable key either way
        return RetryReason.NO_SESSION
    if isinstance(error, BadMac):
        return RetryReason.BAD_MAC
    if isinstance(error, InvalidKeyId):
        return RetryReason.INVALID_KEY_ID
    if isinstance(error, InvalidKey | UntrustedIdentity):
        return RetryReason.INVALID_KEY
    if isinstance(error, InvalidSignature):
        return RetryReason.INVALID_SIGNATURE
    if isinstance(error, FutureMessage):
        return RetryReason.FUTURE_MESSAGE
    if isinstance(error, DuplicateMessage):
        return RetryReason.INVALID_MESSAGE_KEY
    if isinstance(error, InvalidMessage):
        return RetryReason.INVALID_MESSAGE
    return RetryReason.UNKNOWN_ERROR


def _decrypt(ctx: Context, env: Envelope, now_ms: int) -> tuple[bytes | None, str | None]:
    """Decrypt one envelope inside the caller's transaction; return (body, group id).

    The body is ``None`` when the plaintext was nothing but a sender-key
    handover (the WhatsApp stacks' companion of a group message).
    """
    framing = ctx.framing
    if env.type == MessageType.SENDER_KEY:
        assert env.group_id is not None  # Envelope validates this
        plaintext = group_decrypt(ctx.store, env.group_id, env.sender, env.body, config=ctx.config)
        frame = framing.decode_group(plaintext)
        decrypted = None
    else:
        decrypted = decrypt_message(
            ctx.store,
            env.sender,
            env.type,
            env.body,
            trust=ctx.trust,
            rng=ctx.rng,
            config=ctx.config,
        )
        frame = framing.decode_pairwise(decrypted.plaintext)
    if frame.distribution is not None:
        assert frame.group_id  # Frame and the framings check this
        process_sender_key_distribution(
            ctx.store,
            frame.group_id,
            env.sender,
            SenderKeyDistributionMessage.parse(frame.distribution),
            config=ctx.config,
        )
    if decrypted is not None:
        gaps.observe(ctx, env.sender, decrypted, now_ms)
        for ratchet_key, counter in frame.replaces:
            # Earlier transmissions of this message that we could not read:
            # their counters are accounted for, not missing.
            gaps.note(ctx, env.sender, ratchet_key, counter, now_ms)
    return frame.body, frame.group_id or env.group_id


_OPENING_KINDS = (DELIVERED, INBOX, RECV)
"""What a receive looks up first, in one read: delivered (or waiting in the inbox), or failing."""


def receive(ctx: Context, env: Envelope, now_ms: int, out: Collected) -> None:
    """Handle one incoming envelope."""
    if env.recipient != ctx.local:
        raise UsageError(f"envelope for {env.recipient} handed to the layer of {ctx.local}")
    key = message_key(env.sender, env.message_id)
    found = ctx.store.get_records(_OPENING_KINDS, key)
    if DELIVERED in found or INBOX in found:
        recv_transition(RecvState.DELIVERED, RecvEvent.DUPLICATE)  # ACK
        ctx.stats.duplicates += 1
        header = _header(env)
        if header is not None:
            # A resend that crossed the delivery (its receipt was answered
            # after another copy got through) took a counter on the sender's
            # chain that no decrypt will ever see: it did arrive, so it is
            # not missing.
            gaps.note(
                ctx, env.sender, header.ratchet_key.raw, header.counter, now_ms, authenticated=False
            )
        out.add(Ack(env.message_id, env.sender, env.group_id), env.priority)
        return
    data = found.get(RECV)
    stored = data is not None
    record = (
        ReceiveRecord.deserialize(data)
        if data is not None
        else ReceiveRecord(env.message_id, env.sender, timestamp_ms=env.timestamp_ms)
    )
    try:
        # A nested transaction: a failed decrypt rolls back its own writes
        # only, and the failure is then recorded in the outer one.
        with ctx.store.transaction():
            body, group_id = _decrypt(ctx, env, now_ms)
    except DuplicateMessage as exc:
        # The message key was used already, yet this id was never delivered
        # (the delivered-id check above comes first): the key went to another
        # message or a state we no longer have -- e.g. a sender key received
        # at a later iteration. Only a resend can recover it.
        _failed(ctx, env, record, stored, exc, now_ms, out)
        return
    except RemoteError as exc:
        _failed(ctx, env, record, stored, exc, now_ms, out)
        return
    if body is None:
        # Only our sender key: the message itself is still to come (the group
        # message of the same id) or to be asked for; nothing to deliver yet.
        recv_transition(record.state, RecvEvent.KEY_ONLY)  # HOLD
        ctx.stats.handovers_only += 1
        log.info("message %s from %s carried only a sender key", env.message_id, env.sender)
        return
    recv_transition(record.state, RecvEvent.DECRYPTED)  # DELIVER
    if stored:  # most messages never failed: no record to delete, no statement to send
        ctx.store.delete_record(RECV, key)
        if not ctx.framing.names_replaced:
            gaps.recovered(ctx, env.sender, env.message_id, env.retry_count)
    sequence = inbox.next_sequence(ctx)
    ctx.store.put_record(DELIVERED, key, b"", sequence)
    ctx.store.evict_records(DELIVERED, ctx.policy.delivered_ids_kept)
    deliver = Deliver(env.message_id, env.sender, body, group_id)
    if ctx.policy.inbox:
        inbox.keep(ctx, deliver, sequence)
    ctx.stats.delivered += 1
    out.add(deliver, env.priority)
    out.add(Ack(env.message_id, env.sender, env.group_id), env.priority)


def _failed(
    ctx: Context,
    env: Envelope,
    record: ReceiveRecord,
    stored: bool,
    error: RemoteError,
    now_ms: int,
    out: Collected,
) -> None:
    log.info(
        "message %s from %s failed: %s: %s", env.message_id, env.sender, type(error).__name__, error
    )
    state = record.state
    key = message_key(env.sender, env.message_id)
    if not stored and ctx.store.get_record(GAVEUP, key) is not None:
        state = RecvState.GAVE_UP
    digest = transmission_digest(env.body)
    step = recv_transition(state, judge_failure(state, record, digest, env.retry_count, ctx.policy))
    if step.effect is Effect.HOLD:
        return  # no news: the receipt for it is out, or it was given up
    record.note_failed(digest)
    _note_counter(ctx, env, now_ms)
    record.reason = reason_for(error)
    failures = ctx.stats.failures
    failures[record.reason.name] = failures.get(record.reason.name, 0) + 1
    # The sender can only repair these by rebuilding from our keys: attach
    # them at once instead of from the second receipt on.
    record.no_session = (
        isinstance(error, NoSession) and not isinstance(error, NoSenderKey)
    ) or isinstance(error, InvalidKeyId)
    record.group_id = env.group_id
    record.priority = env.priority
    record.timestamp_ms = env.timestamp_ms
    _carry(ctx, record, step, now_ms, out)


def _header(env: Envelope) -> SignalMessage | None:
    """The (unauthenticated) SignalMessage of a pairwise envelope, or None if unreadable."""
    try:
        if env.type == MessageType.SIGNAL:
            return SignalMessage.parse(env.body)
        if env.type == MessageType.PREKEY:
            return PreKeySignalMessage.parse(env.body).message
    except RemoteError:
        return None
    return None


def _note_counter(ctx: Context, env: Envelope, now_ms: int) -> None:
    """Tell gap detection that the failed message's counter did arrive (if it can be read).

    Under a framing whose resends name the positions they replace, that is
    all: a resend fixes up what a corrupted header hid. Under one that does
    not (WhatsApp's), a failure whose place is unknown -- an unreadable
    header, or one naming a chain never seen authenticated -- is kept as
    *unplaced*, so gap detection can put one missing counter down to it.
    """
    if env.type not in (MessageType.SIGNAL, MessageType.PREKEY):
        return
    message = _header(env)
    if message is None:
        if not ctx.framing.names_replaced:
            gaps.unplaced(ctx, env.sender, env.message_id, env.retry_count, None, None, now_ms)
        return
    known = gaps.note(
        ctx, env.sender, message.ratchet_key.raw, message.counter, now_ms, authenticated=False
    )
    if not known and not ctx.framing.names_replaced:
        gaps.unplaced(
            ctx,
            env.sender,
            env.message_id,
            env.retry_count,
            message.ratchet_key.raw,
            message.counter,
            now_ms,
        )


def _carry(
    ctx: Context, record: ReceiveRecord, step: Transition[RecvState], now_ms: int, out: Collected
) -> None:
    """Carry out ``step`` for a failed message: send the next receipt (ASK), or GIVE_UP."""
    key = message_key(record.sender, record.message_id)
    record.state = step.state
    if step.effect is Effect.GIVE_UP:
        # Only the fact is kept, for gave_up_kept_ms and among the newest
        # gave_up_kept, so junk costs bounded space.
        ctx.store.delete_record(RECV, key)
        ctx.store.put_record(GAVEUP, key, b"", now_ms + ctx.policy.gave_up_kept_ms)
        ctx.store.evict_records(GAVEUP, ctx.policy.gave_up_kept)
        ctx.stats.undecryptable += 1
        out.add(
            Undecryptable(record.message_id, record.sender, record.reason, record.count),
            record.priority,
        )
        return
    assert step.effect is Effect.ASK
    record.count += 1
    keys = None
    if record.no_session or record.count >= ctx.policy.keys_from_count:
        keys = fresh_key_bundle(ctx, record.sender, now_ms)
    receipt = OutgoingRetryReceipt.for_failed_message(
        message_id=record.message_id,
        sender=record.group_id or address_to_jid(record.sender),
        participant=address_to_jid(record.sender) if record.group_id else None,
        timestamp=record.timestamp_ms // 1000,
        count=record.count,
        registration_id=ctx.store.get_local_registration_id(),
        reason=record.reason,
        keys=keys,
    )
    due = now_ms + ctx.policy.receipt_backoff.delay_ms(record.count, ctx.rng)
    ctx.store.put_record(RECV, key, record.serialize(), due)
    ctx.stats.receipts_sent += 1
    out.add(SendReceipt(receipt, record.sender), record.priority)


def fresh_key_bundle(ctx: Context, device: ProtocolAddress, now_ms: int) -> KeyBundle | None:
    """A bundle with a newly minted one-time prekey for ``device`` and our newest signed prekey.

    ``None`` when we have no signed prekey to offer. The prekeys minted for
    one device are bounded (:mod:`axolotl.retry.minted`).
    """
    bundle = minted.mint(ctx, device, now_ms)
    if bundle is None:
        log.warning("no signed prekey in the store: retry receipts go without a key bundle")
        return None
    return key_bundle_from_prekey_bundle(bundle)


def forget_given_up(ctx: Context, now_ms: int) -> None:
    """Forget the given-up messages older than ``gave_up_kept_ms``."""
    while True:
        batch = ctx.store.due_records(GAVEUP, now_ms, _BATCH)
        for key, _, _ in batch:
            ctx.store.delete_record(GAVEUP, key)
        if len(batch) < _BATCH:
            return


def retry_due(ctx: Context, now_ms: int, out: Collected) -> None:
    """Ask again for every failed message whose resend did not come in time."""
    while True:
        batch = ctx.store.due_records(RECV, now_ms, _BATCH)
        for _, value, _ in batch:
            record = ReceiveRecord.deserialize(value)
            step = recv_transition(record.state, judge_retry_due(record, ctx.policy))
            _carry(ctx, record, step, now_ms, out)
        if len(batch) < _BATCH:
            return
