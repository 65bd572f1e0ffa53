"""The ``retry_receipt`` fuzz target: retry receipts from a peer, on a sender with a send log.

Receipt nodes go through ``receipt_from_node(node, IncomingRetryReceipt)`` to the sender's
:meth:`RetryLayer.receive_receipt`; the sender (Alice) holds real send-log
entries on a :class:`MemoryStore`: a pairwise message to Bob, a group message
to Bob and Carol, and one Bob's first receipt was answered for already.
Seeds are the receipts Bob and Carol would send (with and without key
bundles, a reinstalled device, a bundle under another identity), one from a
device that was no recipient and one for an unknown message.

The oracle, besides "only AxolotlError escapes": a refused receipt leaves the
store byte-identical (:class:`~tests.fuzz.targets_session.Guard`); an
accepted one returns only the layer's actions, and at most one resend: of the
message it names, to the device that asked, under its count, within the
budget; the same receipt again gets none; no stored identity changes. (An
accepted receipt may change state: a resend, a budget, a rebuilt session.)
"""

from __future__ import annotations

import dataclasses
import functools
import random
import typing
from collections.abc import Sequence

from axolotl.address import ProtocolAddress
from axolotl.errors import AxolotlError
from axolotl.keys import IdentityKeyPair
from axolotl.receipts import (
    IncomingRetryReceipt,
    KeyBundle,
    Node,
    OutgoingRetryReceipt,
    RetryReason,
    receipt_from_node,
    receipt_to_node,
)
from axolotl.receipts import key_bundle_from_prekey_bundle as _keys
from axolotl.receipts.jid import address_from_jid, address_to_jid
from axolotl.retry import DEFAULT_POLICY, Action, FetchBundle, RetryLayer, Transmit, WakeAt
from axolotl.rng import DeterministicRng
from axolotl.store.memory import MemoryStore
from tests.fuzz.engine import Harness, Target, Violation
from tests.fuzz.mutate_node import Flat, build_node, flatten, mutate_flat
from tests.fuzz.store_state import snapshot
from tests.fuzz.targets_receipts import flat_harness
from tests.fuzz.targets_session import Guard, resign_keys
from tests.fuzz.targets_stanza import BOB, CAROL, GROUP, JIDS, LOCAL, T, set_attr
from tests.parties import Party

__all__ = ["TARGETS"]

_ACTIONS = typing.get_args(Action)

# -- retry receipts on a sender with a send log ---------------------------------------------------

_PAIRWISE_ID = "3EB0C127D7BACC83D6B1"
_GROUP_ID = "3EB0C127D7BACC83D6B2"
_ANSWERED_ID = "3EB0C127D7BACC83D6B3"
_NOW = T * 1000 + 60_000


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class _Sender:
    """Alice, who sent messages to Bob and Carol and keeps them in her send log."""

    alice: Party
    store: MemoryStore
    seeds: tuple[Flat, ...]
    signers: dict[bytes, IdentityKeyPair]
    registrations: tuple[bytes, ...]
    """Registration ids a peer may claim (4 bytes each, and wrong lengths)."""


def _layer(store: MemoryStore, local: ProtocolAddress) -> RetryLayer:
    # A fresh layer and randomness per input: an input replays alone as it ran.
    return RetryLayer(store, local, rng=DeterministicRng("fuzz retry_receipt"))


@functools.cache
def _sender() -> _Sender:
    alice = Party.memory(LOCAL.name, LOCAL.device_id)
    bob = Party.memory(BOB.name, BOB.device_id)
    carol = Party.memory(CAROL.name, CAROL.device_id)
    mallory = Party.memory("490000@s.whatsapp.net", 1)  # no recipient; signs a forged bundle
    store = alice.store
    assert isinstance(store, MemoryStore)
    layer = _layer(store, alice.address)
    for peer in (bob, carol):
        layer.process_bundle(peer.address, peer.bundle())
    sent = T * 1000
    layer.send([bob.address], _PAIRWISE_ID, b"hello", sent)
    layer.send([bob.address, carol.address], _GROUP_ID, b"hello group", sent + 1, group=GROUP)
    layer.send([bob.address], _ANSWERED_ID, b"answered", sent + 2)
    bob_reg = bob.store.get_local_registration_id()
    carol_reg = carol.store.get_local_registration_id()

    def receipt(
        message_id: str, device: str, count: int, reg: int, *, keys: KeyBundle | None = None,
        group: bool = False, reason: RetryReason | None = None,
    ) -> IncomingRetryReceipt:  # fmt: skip
        return OutgoingRetryReceipt.for_failed_message(
            message_id=message_id, sender=GROUP if group else address_to_jid(alice.address),
            timestamp=T, count=count, registration_id=reg, reason=reason,
            participant=address_to_jid(alice.address) if group else None, keys=keys,
        ).received_from(device, receipt_timestamp=T + 30)  # fmt: skip

    bob_jid, carol_jid = address_to_jid(bob.address), address_to_jid(carol.address)
    layer.receive_receipt(receipt(_ANSWERED_ID, bob_jid, 1, bob_reg), sent + 10_000)
    receipts = [
        receipt(_PAIRWISE_ID, bob_jid, 1, bob_reg),
        receipt(_PAIRWISE_ID, bob_jid, 2, bob_reg, keys=_keys(bob.bundle()),
                reason=RetryReason.BAD_MAC),
        receipt(_GROUP_ID, carol_jid, 1, carol_reg, keys=_keys(carol.bundle()), group=True,
                reason=RetryReason.NO_SESSION),
        receipt(_GROUP_ID, bob_jid, 3, bob_reg, group=True),
        receipt(_ANSWERED_ID, bob_jid, 2, bob_reg),  # the same base key again, no bundle
        receipt(_ANSWERED_ID, bob_jid, 2, bob_reg, keys=_keys(bob.bundle())),  # rebuilt
        receipt(_ANSWERED_ID, bob_jid, 1, bob_reg + 1, keys=_keys(bob.bundle())),  # reinstalled
        receipt(_PAIRWISE_ID, bob_jid, 1, bob_reg, keys=_keys(mallory.bundle())),  # new identity
        receipt(_PAIRWISE_ID, "490000:1@s.whatsapp.net", 1, 1234),  # not a recipient
        receipt("3EB0FFFFFFFFFFFFFFFF", bob_jid, 1, bob_reg),  # unknown message
    ]  # fmt: skip
    regs = (bob_reg, bob_reg + 1, carol_reg, 0, 0xFFFFFFFF)
    return _Sender(
        alice=alice,
        store=store,
        seeds=tuple(flatten(receipt_to_node(r)) for r in receipts),
        signers={
            p.store.get_identity_key_pair().public_key.raw: p.store.get_identity_key_pair()
            for p in (bob, carol, mallory)
        },
        registrations=(
            *(r.to_bytes(4, "big") for r in regs),
            b"",
            b"\x00",
            bob_reg.to_bytes(5, "big"),
        ),
    )


_RECEIPT_VALUES = {
    "id": (_PAIRWISE_ID, _GROUP_ID, _ANSWERED_ID, "3EB0FFFFFFFFFFFFFFFF", _PAIRWISE_ID + " "),
    "count": ("1", "2", "3", "5", "6", "255", "256", "0", "01", "\u0662", "-1", "9" * 4301),
    "v": ("1", "2", "0", "01"),
    "error": ("0", "1", "7", "9", "10", "01", "\u0667"),
    "t": ("0", str(T), str(T + 1), "18446744073709551615", "18446744073709551616"),
    "type": ("retry", "read", "Retry"),
}


def _set_ids(flat: Flat, value: str) -> Flat:
    """Every ``id`` of the receipt (``receipt@id`` and ``retry@id``) set to ``value``."""
    return tuple(
        (tag, tuple((k, value if k == "id" else v) for k, v in attrs), data, parent)
        for tag, attrs, data, parent in flat
    )


def _set_data(rng: random.Random, flat: Flat, tag: str, values: Sequence[bytes]) -> Flat:
    rows = list(flat)
    having = [i for i, row in enumerate(rows) if row[0] == tag]
    if not having:
        return flat
    i = rng.choice(having)
    name, attrs, _, parent = rows[i]
    rows[i] = (name, attrs, rng.choice(values), parent)
    return tuple(rows)


def _check_actions(actions: list[Action], receipt: IncomingRetryReceipt) -> int:
    """Check what one receipt produced; return how many resends it holds.

    Raises:
        Violation: an action that is not the layer's, or a resend of another
            message, to another device, under another count, or past the budget.
    """
    device = address_from_jid(receipt.participant or receipt.sender)
    resends = fetches = 0
    for action in actions:
        if not isinstance(action, _ACTIONS):
            raise Violation(f"receive_receipt returned a non-action {action!r}")
        if isinstance(action, WakeAt):
            continue
        if isinstance(action, FetchBundle):
            # A keyless receipt that asks for a rebuild: the resend waits for
            # the bundle of the device that asked, and only that device.
            if action.device != device:
                raise Violation(f"a receipt from {device} asked for the bundle of {action.device}")
            fetches += 1
            continue
        if not isinstance(action, Transmit):
            raise Violation(f"a retry receipt produced {action!r}, not a resend")
        e = action.envelope
        if (
            receipt.keys is not None
            and e.message_id != receipt.message_id
            and (e.recipient, e.sender) == (device, LOCAL)
            and e.retry_count >= 1
        ):
            continue  # the keys also answer what waited for this device's bundle
        if (e.message_id, e.recipient, e.sender, e.retry_count) != (
            receipt.message_id, device, LOCAL, receipt.count,
        ):  # fmt: skip
            raise Violation(f"the resend does not answer the receipt {receipt!r}: {e!r}")
        resends += 1
    if resends > 1 or (resends and receipt.count > DEFAULT_POLICY.max_retries):
        raise Violation(f"{resends} resends for one receipt of count {receipt.count}")
    if fetches > 1 or (fetches and resends):
        raise Violation(f"{fetches} bundle fetches and {resends} resends for one receipt")
    return resends


def _retry_receipt() -> Harness:
    s = _sender()
    guard = Guard(s.store)
    identities = dict(guard.baseline["_identities"])
    base = flat_harness(s.seeds, None)

    def mutate(rng: random.Random, flat: Flat, pool: Sequence[Flat]) -> Flat:
        # Mostly what the layer reads (who asks, for what, how often, with which
        # keys), often on a fresh seed: most mutants get past the codec to the layer.
        roll = rng.random()
        if roll < 0.65 and rng.random() < 0.3:
            flat = rng.choice(s.seeds)
        if roll < 0.1:
            return _set_ids(flat, rng.choice(_RECEIPT_VALUES["id"]))
        if roll < 0.2:
            return set_attr(rng, flat, ("from", "participant", "recipient"), JIDS)
        if roll < 0.4:
            name = rng.choice(list(_RECEIPT_VALUES))
            return set_attr(rng, flat, (name,), _RECEIPT_VALUES[name])
        if roll < 0.5:
            return _set_data(rng, flat, "registration", s.registrations)
        if roll < 0.65:
            return resign_keys(rng, flat, s.signers)
        return mutate_flat(rng, flat, pool)

    def operation(node: Node) -> None:
        receipt = receipt_from_node(node, IncomingRetryReceipt)
        layer = _layer(s.store, s.alice.address)
        resends = _check_actions(layer.receive_receipt(receipt, _NOW), receipt)
        try:
            again = layer.receive_receipt(receipt, _NOW + 1000)
        except AxolotlError as exc:
            raise Violation(f"a replay of an accepted receipt raised {exc!r}") from exc
        if resends + _check_actions(again, receipt) > 1:
            raise Violation(f"a replayed receipt was answered twice: {receipt!r}")
        stored = snapshot(s.store)["_identities"]
        changed = [k for k, v in identities.items() if stored.get(k) != v]
        if changed:
            raise Violation(f"an accepted receipt changed the stored identity of {changed}")

    def run(node: Node) -> None:
        guard.run("receive_receipt", lambda: operation(node))

    return Harness(
        seeds=list(s.seeds), mutate=mutate, run=run, encode=base.encode, decode=base.decode,
        prepare=build_node,
    )  # fmt: skip


TARGETS = (
    Target(
        name="retry_receipt",
        doc="RetryLayer.receive_receipt on a sender's send log (store unchanged on refusal)",
        build=_retry_receipt,
    ),
)
