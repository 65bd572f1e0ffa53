"""The outbox: every transmitted envelope is kept until the server acks it.

Without an ack an envelope goes out again after its class's backoff, up to
its class's budget, then :class:`~axolotl.retry.events.SendFailed` (the
``IN_FLIGHT`` rows of ``retry/_state.py``, judged by ``judge_transmission``);
:func:`reconnect` re-emits everything pending at once. The message id never
changes, so the receiver de-duplicates.
"""

from __future__ import annotations

from axolotl.address import ProtocolAddress
from axolotl.retry._context import Collected, Context
from axolotl.retry._state import Effect, SendEvent, SendState, judge_transmission, send_transition
from axolotl.retry.events import Envelope, SendFailed, Transmit
from axolotl.retry.records import OUTBOX, OutboxEntry, message_key

__all__ = ["enqueue", "remove", "due", "reconnect"]

_BATCH = 256


def enqueue(ctx: Context, envelope: Envelope, now_ms: int, out: Collected) -> None:
    """Transmit ``envelope`` now and keep it (replacing any older envelope for that device).

    The effect of ``TRANSMIT`` and ``RESEND`` (``retry/_state.py``).
    """
    backoff = ctx.policy.priority_class(envelope.priority).backoff
    ctx.store.put_record(
        OUTBOX,
        message_key(envelope.recipient, envelope.message_id),
        OutboxEntry(envelope, 1).serialize(),
        now_ms + backoff.delay_ms(1, ctx.rng),
    )
    out.add(Transmit(envelope), envelope.priority)


def remove(ctx: Context, message_id: str, device: ProtocolAddress) -> bool:
    """Forget the envelope for ``device``; return whether there was one."""
    key = message_key(device, message_id)
    if ctx.store.get_record(OUTBOX, key) is None:
        return False
    ctx.store.delete_record(OUTBOX, key)
    return True


def due(ctx: Context, now_ms: int, out: Collected) -> list[Envelope]:
    """Retransmit what is due; return the envelopes whose budget is now spent (dropped)."""
    failed: list[Envelope] = []
    while True:
        batch = ctx.store.due_records(OUTBOX, now_ms, _BATCH)
        for key, value, _ in batch:
            entry = OutboxEntry.deserialize(value)
            env = entry.envelope
            cls = ctx.policy.priority_class(env.priority)
            # An envelope in the outbox is in flight, by definition.
            step = send_transition(
                SendState.IN_FLIGHT, judge_transmission(entry.transmissions, cls)
            )
            if step.effect is Effect.FAIL:
                ctx.store.delete_record(OUTBOX, key)
                ctx.stats.send_failed += 1
                out.add(SendFailed(env.message_id, env.recipient), env.priority)
                failed.append(env)
                continue
            assert step.effect is Effect.RETRANSMIT
            entry.transmissions += 1
            ctx.stats.retransmissions += 1
            ctx.store.put_record(
                OUTBOX,
                key,
                entry.serialize(),
                now_ms + cls.backoff.delay_ms(entry.transmissions, ctx.rng),
            )
            out.add(Transmit(env), env.priority)
        if len(batch) < _BATCH:
            return failed


def reconnect(ctx: Context, now_ms: int, out: Collected) -> None:
    """Re-emit every pending envelope at once and restart its backoff.

    A re-emission after a reconnect does not count against the budget: the
    earlier transmissions were most likely lost with the connection.
    """
    step = send_transition(SendState.IN_FLIGHT, SendEvent.RECONNECT)
    assert step.effect is Effect.RETRANSMIT
    for key, value, _ in ctx.store.records(OUTBOX):
        entry = OutboxEntry.deserialize(value)
        cls = ctx.policy.priority_class(entry.envelope.priority)
        ctx.store.put_record(
            OUTBOX,
            key,
            value,
            now_ms + cls.backoff.delay_ms(max(entry.transmissions, 1), ctx.rng),
        )
        out.add(Transmit(entry.envelope), entry.envelope.priority)
