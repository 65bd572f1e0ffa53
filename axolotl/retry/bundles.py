"""Resends that wait for a peer's bundle: the ``FetchBundle`` record of each device.

A retry receipt can say the session is broken (we have none, the device was
reinstalled, the same base key is failing again) without bringing the keys
to rebuild it: yowsup 3.3.0 never attaches ``<keys>``, and a WhatsApp sender
then fetches the receiver's bundle from the server itself. Resending on the
broken session would only spend the receiver's budget, so the sender asks
the stack for the bundle once per device (:class:`~axolotl.retry.events.FetchBundle`)
and parks the receipts here (``records.BUNDLEWAIT``, one record per device,
due when the wait ends): ``RetryLayer.bundle_fetched`` rebuilds and answers
them all; without a bundle, or when ``RetryPolicy.bundle_wait_ms`` passes,
they are answered on the session as it is.
"""

from __future__ import annotations

from axolotl.address import ProtocolAddress
from axolotl.retry._context import Collected, Context, log
from axolotl.retry.events import FetchBundle
from axolotl.retry.policy import Priority
from axolotl.retry.records import BUNDLEWAIT, BundleWait, address_key

__all__ = ["due", "take", "wait"]

_BATCH = 256


def wait(
    ctx: Context,
    device: ProtocolAddress,
    message_id: str,
    count: int,
    now_ms: int,
    priority: Priority,
    out: Collected,
) -> None:
    """Park the receipt (``message_id``, ``count``) until ``device``'s bundle comes.

    The first receipt of a wait emits ``FetchBundle(device)``; later ones join it.
    """
    key = address_key(device)
    data = ctx.store.get_record(BUNDLEWAIT, key)
    if data is None:
        record = BundleWait(device, now_ms)
        out.add(FetchBundle(device), priority)
        log.info(
            "receipt %s from %s: session broken, no keys: fetching its bundle", message_id, device
        )
    else:
        record = BundleWait.deserialize(data)
    record.add(message_id, count)
    ctx.store.put_record(
        BUNDLEWAIT, key, record.serialize(), record.asked_ms + ctx.policy.bundle_wait_ms
    )


def take(ctx: Context, device: ProtocolAddress) -> BundleWait | None:
    """The receipts waiting for ``device``'s bundle, removed from the store (None: no wait)."""
    key = address_key(device)
    data = ctx.store.get_record(BUNDLEWAIT, key)
    if data is None:
        return None
    ctx.store.delete_record(BUNDLEWAIT, key)
    return BundleWait.deserialize(data)


def due(ctx: Context, now_ms: int) -> list[BundleWait]:
    """Every wait that has run out by ``now_ms``, removed from the store."""
    expired: list[BundleWait] = []
    while True:
        batch = ctx.store.due_records(BUNDLEWAIT, now_ms, _BATCH)
        for key, value, _ in batch:
            ctx.store.delete_record(BUNDLEWAIT, key)
            expired.append(BundleWait.deserialize(value))
        if len(batch) < _BATCH:
            return expired
