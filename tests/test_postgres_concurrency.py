"""Four worker processes share one PostgreSQL database and one device's inbound stream.

Bob's device lives in PostgreSQL. Its inbound stream (pairwise and group
envelopes from alice and carol, each delivered twice, interleaved with retry
receipts from alice for messages of bob's that reached her corrupted, each
also twice) is handed out item by item to four processes, each with its own
connection and its own :class:`RetryLayer` over the same owner. Checked: every
message is delivered exactly once across the workers with the right
plaintext, no decryption fails (a forked ratchet would make later messages
fail or decrypt twice), every distinct receipt is answered by exactly one
resend that alice can decrypt, and afterwards the conversation goes on in
both directions from the stored state.
"""

from __future__ import annotations

import multiprocessing
import random
from pathlib import Path
from typing import Any

import pytest

from axolotl.address import ProtocolAddress
from axolotl.receipts.jid import address_to_jid
from axolotl.retry import Deliver, RetryLayer, SendReceipt, Transmit, Undecryptable
from axolotl.rng import DeterministicRng
from axolotl.session import accept_changed_identity
from tests.helpers import BackendStores, Network
from tests.store_fixtures import BACKENDS, PG_OWNER, pg_schema_dsn

WORKERS = 4
GROUP = "g@g.example"

_Item = tuple[str, Any, Any, int]  # ("envelope", envelope, None, now) or ("receipt", r, src, now)


def _worker(dsn: str, local: ProtocolAddress, items: list[_Item], queue: Any, results: Any) -> None:
    """One worker: take the next item index from ``queue`` until it is empty; report actions."""
    import queue as queue_module

    from axolotl.store.postgres import PostgresStore

    store = PostgresStore.open(dsn, PG_OWNER)
    layer = RetryLayer(store, local, rng=DeterministicRng(id(store)), trust=accept_changed_identity)
    out: list[tuple[Any, ...]] = []
    try:
        while True:
            try:
                index = queue.get(timeout=0.5)
            except queue_module.Empty:
                break
            kind, item, src, now = items[index]
            if kind == "envelope":
                actions = layer.receive(item, now)
            else:
                actions = layer.receive_receipt(item, now, device=src)
            for action in actions:
                if isinstance(action, Deliver):
                    out.append(("deliver", action.sender, action.message_id, action.plaintext))
                elif isinstance(action, Transmit):
                    out.append(("transmit", action.envelope))
                elif isinstance(action, SendReceipt):
                    out.append(("receipt", action.receipt.message_id))
                elif isinstance(action, Undecryptable):
                    out.append(("undecryptable", action.message_id))
    finally:
        store.close()
        results.put(out)


def _envelopes(actions: list[Any], to: ProtocolAddress) -> list[Any]:
    return [a.envelope for a in actions if isinstance(a, Transmit) and a.envelope.recipient == to]


def test_four_workers_share_one_device_without_forking_its_ratchet(tmp_path: Path) -> None:
    (postgres,) = [b for b in BACKENDS if b.name == "postgres"]
    net = Network(["alice", "bob", "carol"], seed=21, backend=postgres)
    try:
        alice_a, bob_a, carol_a = (net.address(n) for n in ("alice", "bob", "carol"))
        alice, bob, carol = (net.devices[a] for a in (alice_a, bob_a, carol_a))
        # Sessions both ways, and bob holds carol's sender key.
        net.send("bob", ["alice", "carol"], b"hello")
        net.send("alice", ["bob"], b"hi bob")
        net.send("carol", ["bob", "alice"], b"group hello", group=GROUP)
        net.run()
        net.check_exactly_once()
        assert isinstance(net.stores, BackendStores)
        dsn = pg_schema_dsn(net.stores.path(bob.key), fresh=False)

        now = net.now + 1_000
        items: list[_Item] = []
        expected: dict[tuple[ProtocolAddress, str], bytes] = {}
        for i in range(30):
            for sender, layer, group in (
                (alice_a, alice.layer, None),
                (carol_a, carol.layer, GROUP if i % 3 == 0 else None),
            ):
                mid = layer.new_message_id()
                text = f"{sender.name} {i}".encode()
                recipients = [bob_a, alice_a] if group and sender == carol_a else [bob_a]
                actions = layer.send(recipients, mid, text, now, group=group)
                (envelope,) = _envelopes(actions, bob_a)
                expected[(sender, mid)] = text
                items += [("envelope", envelope, None, now)] * 2
        # Bob's messages reach alice corrupted: her retry receipts join bob's stream.
        resend_wanted: dict[str, bytes] = {}
        for i in range(8):
            mid = bob.layer.new_message_id()
            text = f"bob {i}".encode()
            (envelope,) = _envelopes(bob.layer.send([alice_a], mid, text, now), alice_a)
            body = bytearray(envelope.body)
            body[len(body) // 2] ^= 0x10
            broken = type(envelope)(**{**_fields(envelope), "body": bytes(body)})
            receipts = [a for a in alice.layer.receive(broken, now) if isinstance(a, SendReceipt)]
            assert len(receipts) == 1
            incoming = receipts[0].receipt.received_from(address_to_jid(alice_a))
            resend_wanted[mid] = text
            items += [("receipt", incoming, alice_a, now + 1)] * 2
        random.Random(7).shuffle(items)

        context = multiprocessing.get_context("spawn")
        queue, results = context.Queue(), context.Queue()
        for index in range(len(items)):
            queue.put(index)
        workers = [
            context.Process(target=_worker, args=(dsn, bob_a, items, queue, results))
            for _ in range(WORKERS)
        ]
        for w in workers:
            w.start()
        reports = [results.get(timeout=120) for _ in workers]
        for w in workers:
            w.join(timeout=30)
            assert w.exitcode == 0
        events = [event for report in reports for event in report]

        delivered = [(e[1], e[2], e[3]) for e in events if e[0] == "deliver"]
        assert len(delivered) == len(expected), "each message exactly once across workers"
        assert {(s, m): t for s, m, t in delivered} == expected
        assert [e for e in events if e[0] in ("receipt", "undecryptable")] == []
        resends = [e[1] for e in events if e[0] == "transmit"]
        assert sorted(r.message_id for r in resends) == sorted(resend_wanted)
        for resend in resends:
            got = [a for a in alice.layer.receive(resend, now + 2) if isinstance(a, Deliver)]
            assert [(d.message_id, d.plaintext) for d in got] == [
                (resend.message_id, resend_wanted[resend.message_id])
            ]

        # The stored ratchet goes on: both directions, pairwise and group.
        net.restart("bob")
        net.now = now + 10
        after = [
            net.send("alice", ["bob"], b"after the workers"),
            net.send("carol", ["bob", "alice"], b"group after", group=GROUP),
            net.send("bob", ["alice", "carol"], b"bob after"),
        ]
        net.run()
        net.check_exactly_once()
        assert all(
            (net.sent[m][0], m) in net.devices[r].delivered for m in after for r in net.sent[m][1]
        )
        assert bob.receipts_sent == 0
    finally:
        net.close()


def _fields(envelope: Any) -> dict[str, Any]:
    import dataclasses

    return {f.name: getattr(envelope, f.name) for f in dataclasses.fields(envelope)}


if __name__ == "__main__":  # pragma: no cover
    pytest.main([__file__, "-q"])
