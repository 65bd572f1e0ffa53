"""The one-time prekeys minted for our retry receipts: bounded per device, deleted when stale.

A retry receipt from the second count on (or for a message that had no
session) carries a key bundle with a freshly generated one-time prekey, so
the sender can rebuild the session. Such a prekey is never published: only
the device the receipt went to can use it, and it does so with the newest
one it got. So the prekeys minted for one device are remembered
(``records.MINTED``, oldest first): past
``RetryPolicy.minted_prekeys_per_device`` the oldest is deleted, and any
still unused ``RetryPolicy.minted_prekey_max_age_ms`` after its receipt is
deleted by ``tick``. A prekey the sender did use was consumed by the
decrypt already; deleting it again is a no-op. Junk from one contact thus
leaves at most that many prekeys behind, whatever its length.
"""

from __future__ import annotations

from axolotl._pb import retry_state_pb2 as pb
from axolotl.address import ProtocolAddress
from axolotl.keys import PreKeyBundle
from axolotl.retry._context import Context
from axolotl.retry.records import MINTED, VERSION, address_key, parse_stored
from axolotl.session import new_bundle

__all__ = ["expire", "mint"]

_BATCH = 256


def _load(ctx: Context, key: str) -> pb.MintedPreKeys:
    record = pb.MintedPreKeys()
    data = ctx.store.get_record(MINTED, key)
    if data is not None:
        parse_stored(record, data, "minted prekeys")
    return record


def _save(ctx: Context, key: str, ids: list[int], minted: list[int]) -> None:
    if not ids:
        ctx.store.delete_record(MINTED, key)
        return
    record = pb.MintedPreKeys(pre_key_ids=ids, minted_ms=minted, version=VERSION)
    due = minted[0] + ctx.policy.minted_prekey_max_age_ms
    ctx.store.put_record(MINTED, key, record.SerializeToString(), due)


def mint(ctx: Context, device: ProtocolAddress, now_ms: int) -> PreKeyBundle | None:
    """A bundle with a new one-time prekey for a receipt to ``device`` (None: no signed prekey).

    The prekey is stored, and the oldest ones minted for ``device`` beyond
    the policy's bound are deleted.
    """
    bundle = new_bundle(ctx.store, ctx.local.device_id, ctx.rng)
    if bundle is None:
        return None
    assert bundle.pre_key_id is not None
    key = address_key(device)
    record = _load(ctx, key)
    ids, minted = list(record.pre_key_ids), list(record.minted_ms)
    ids.append(bundle.pre_key_id)
    minted.append(now_ms)
    excess = len(ids) - ctx.policy.minted_prekeys_per_device
    for old in ids[: max(excess, 0)]:
        ctx.store.remove_pre_key(old)
    if excess > 0:
        ids, minted = ids[excess:], minted[excess:]
    _save(ctx, key, ids, minted)
    return bundle


def expire(ctx: Context, now_ms: int) -> None:
    """Delete every minted prekey unused past ``minted_prekey_max_age_ms``."""
    cutoff = now_ms - ctx.policy.minted_prekey_max_age_ms
    while True:
        batch = ctx.store.due_records(MINTED, now_ms, _BATCH)
        for key, value, _ in batch:
            record = pb.MintedPreKeys()
            parse_stored(record, value, "minted prekeys")
            ids, minted = list(record.pre_key_ids), list(record.minted_ms)
            while ids and minted[0] <= cutoff:
                ctx.store.remove_pre_key(ids.pop(0))
                minted.pop(0)
            _save(ctx, key, ids, minted)
        if len(batch) < _BATCH:
            return
