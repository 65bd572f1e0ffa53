"""The layer's scheduling clock: the stack's ``now_ms``, made safe to schedule on.

The stack passes one time to every call, ``now_ms``: wall-clock milliseconds,
which also stamp what is sent (``Envelope.timestamp_ms``). Timers (outbox
retransmissions, repeated receipts, bundle waits, gap reports, the send log's
age, the rebuild window) run on a clock derived from it, stored per device
(``records.SEQ``, key ``clock``): ``scheduling = now_ms + offset``, where

* a step back is absorbed: when ``now_ms + offset`` would fall behind the
  scheduling time already used, the offset grows so that time goes on from
  there. Timers neither stall for the step's length nor fire early.
* a jump forward beyond ``RetryPolicy.max_clock_jump_ms`` (default a day),
  or beyond the earliest timer the layer holds when that is further (the
  ``WakeAt`` the stack was given: a device idle until then is no clock gone
  wrong), counts as that much: the offset shrinks by the rest. One
  far-future tick cannot prune the send log or push every retransmission
  out by the jump; a device that really slept longer than that sees its
  timers and the send log's age run late by the difference (kept longer,
  never lost).

The stored state is written when the offset changes, and otherwise at most
once per minute of scheduling time, so a step back smaller than a minute
may go unnoticed (timers then wait at most that minute longer). In normal
operation the offset is 0 and scheduling time is the wall clock.
"""

from __future__ import annotations

from dataclasses import dataclass

from axolotl._pb import retry_state_pb2 as pb
from axolotl.retry._context import Context, log
from axolotl.retry.records import SEQ, TIMED_KINDS, VERSION, parse_stored

__all__ = ["Reading", "read"]

_KEY = "clock"
_WRITE_EVERY_MS = 60_000


@dataclass(frozen=True, slots=True)
class Reading:
    """The layer's clock during one call.

    Attributes:
        ms: the scheduling time (what every timer of the call is set on).
        offset: scheduling time minus the stack's ``now_ms``.
    """

    ms: int
    offset: int

    def to_stack(self, ms: int) -> int:
        """A scheduling time in the stack's clock (for ``WakeAt``)."""
        return ms - self.offset


def read(ctx: Context, now_ms: int) -> Reading:
    """The clock for a call made at the stack's time ``now_ms`` (stored as a side effect).

    Raises:
        StorageError: the stored clock is corrupt or from a newer version.
    """
    store = ctx.store
    data = store.get_record(SEQ, _KEY)
    offset, last = 0, None
    if data is not None:
        clock = pb.SchedulingClock()
        parse_stored(clock, data, "scheduling clock")
        offset, last = clock.offset_ms, clock.last_ms
    stored_offset = offset
    scheduled = now_ms + offset
    if last is not None:
        jump = ctx.policy.max_clock_jump_ms
        if scheduled < last:
            log.warning(
                "clock stepped back %d ms: scheduling goes on from before", last - scheduled
            )
            offset += last - scheduled
            scheduled = last
        elif scheduled - last > jump:
            # Up to the earliest timer the layer holds is no jump: the stack
            # was asked (WakeAt) to call then, and nothing falls due before it.
            due = store.next_due_ms(TIMED_KINDS)
            if due is not None and due - last > jump:
                jump = due - last
            if scheduled - last > jump:
                log.warning("clock jumped %d ms ahead: counted as %d ms", scheduled - last, jump)
                offset -= scheduled - last - jump
                scheduled = last + jump
    if last is None or scheduled - last >= _WRITE_EVERY_MS or offset != stored_offset:
        value = pb.SchedulingClock(offset_ms=offset, last_ms=scheduled, version=VERSION)
        store.put_record(SEQ, _KEY, value.SerializeToString())
    return Reading(scheduled, offset)
