"""Draining an offline backlog: one commit per envelope against one per batch.

Issue "durable throughput". Bob was offline while Alice sent ``-n`` messages
(10,000 by default); 5% of them arrive corrupted. Bob drains the queue, his
retry receipts reach Alice, her resends reach Bob, and every message is
delivered exactly once (checked). Bob's side is timed -- the drain and the
resends -- once call by call (``receive``) and once in batches
(``receive_many``, ``--batch`` envelopes each), on the in-memory store and
on SQLite with ``synchronous=FULL`` (an fsync per commit). Alice's side is
the same in both and not timed. Rounds alternate the sides; the best round
of each counts.

Targets (issue "durable throughput"): on SQLite FULL, batches of 100 give at
least 5x the per-step throughput and cost per message at most 2x the
in-memory layer (called per step). With ``$AXOLOTL_BENCH_PG_DSN`` set, a
PostgreSQL store (one owner a round, durable commits) runs too; target: one
worker in batches of 100 at least 5x its per-step rate. What a commit costs
there is the server's fsync: measure against a server with ``fsync=on``.

    python benchmarks/bench_drain.py [-n 10000] [--batch 100] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, machine, table

sys.path.insert(0, str(ROOT))
from axolotl.receipts.jid import address_to_jid
from axolotl.retry import Deliver, Envelope, RetryLayer, SendReceipt, Transmit
from axolotl.store import MemoryStore
from axolotl.store.sqlite import SQLiteStore
from tests.parties import Party

NOW = 1_700_000_000_000
CORRUPT = 0.05


DSN = os.environ.get("AXOLOTL_BENCH_PG_DSN", "")


def _store(kind: str, party: Party, folder: Path) -> Any:
    if kind == "postgres":
        from axolotl.store.postgres import PostgresStore

        return PostgresStore.create(
            DSN,
            f"drain-{time.monotonic_ns()}",
            party.store.get_identity_key_pair(),
            party.store.get_local_registration_id(),
        )
    if kind == "memory":
        return MemoryStore(
            party.store.get_identity_key_pair(), party.store.get_local_registration_id()
        )
    path = folder / f"bob-{time.monotonic_ns()}.db"
    return SQLiteStore.create(
        path, party.store.get_identity_key_pair(), party.store.get_local_registration_id()
    )


def _flip(env: Envelope) -> Envelope:
    body = bytearray(env.body)
    body[-12] ^= 1
    return replace(env, body=bytes(body))


def one_round(kind: str, n: int, batch: int, folder: Path) -> tuple[float, int]:
    """Seconds Bob spends on the drain and the resends, and how many envelopes he took."""
    alice = Party.memory("alice")
    template = Party.memory("bob")
    store = _store(kind, template, folder)
    store.store_signed_pre_key(template.store.load_signed_pre_key(1))
    bob = Party(template.address, store, template.rng)
    a = RetryLayer(alice.store, alice.address, rng=alice.rng)
    b = RetryLayer(store, bob.address, rng=bob.rng)
    a.process_bundle(bob.address, bob.bundle())
    rnd = random.Random(7)
    queue: list[Envelope] = []
    for i in range(n):
        actions = a.send([bob.address], f"M{i}", b"message %d" % i, NOW + i)
        (env,) = [x.envelope for x in actions if isinstance(x, Transmit)]
        a.server_ack(env.message_id, bob.address, NOW + i)
        queue.append(_flip(env) if i and rnd.random() < CORRUPT else env)
    delivered: list[str] = []
    taken = 0
    spent = 0.0
    now = NOW + n + 1000
    while queue:
        start = time.perf_counter()
        actions: list[Any] = []
        if batch > 1:
            rest = queue
            while rest:
                done = b.receive_many(rest, now, max_events=batch, max_ms=60_000)
                actions += done.actions
                rest = rest[done.events :]
        else:
            for env in queue:
                actions += b.receive(env, now)
        spent += time.perf_counter() - start
        taken += len(queue)
        delivered += [x.message_id for x in actions if isinstance(x, Deliver)]
        queue = []
        for x in actions:  # Alice answers the receipts (not timed)
            if isinstance(x, SendReceipt):
                incoming = x.receipt.received_from(address_to_jid(bob.address))
                for y in a.receive_receipt(incoming, now, device=bob.address):
                    if isinstance(y, Transmit):
                        queue.append(y.envelope)
        now += 1000
    if sorted(delivered) != sorted(f"M{i}" for i in range(n)):
        raise SystemExit(f"{kind}: {len(delivered)} delivered of {n}, or some twice")
    if kind != "memory":
        store.close()
    return spent, taken


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(f"# bench_drain: {machine()}")
    print(
        f"{args.n} queued envelopes, {CORRUPT:.0%} corrupted and recovered; batches of {args.batch}"
    )
    sides = [("memory", 1), ("memory", args.batch), ("sqlite", 1), ("sqlite", args.batch)]
    if DSN:  # durable commits (synchronous_commit on): what the server's fsync costs
        sides += [("postgres", 1), ("postgres", args.batch)]
    best: dict[tuple[str, int], tuple[float, int]] = {}
    with tempfile.TemporaryDirectory(prefix="axolotl-drain-") as tmp:
        for r in range(args.rounds):
            for side in sides if r % 2 == 0 else list(reversed(sides)):
                seconds, taken = one_round(side[0], args.n, side[1], Path(tmp))
                if side not in best or seconds < best[side][0]:
                    best[side] = (seconds, taken)
    rows = [("store", "mode", "envelopes", "seconds", "us/envelope", "envelopes/s")]
    per: dict[tuple[str, int], float] = {}
    for (kind, size), (seconds, taken) in best.items():
        per[kind, size] = seconds / taken * 1e6
        mode = "per step" if size == 1 else f"batches of {size}"
        rows.append((kind, mode, str(taken), f"{seconds:.2f}", f"{per[kind, size]:.0f}",
                     f"{taken / seconds:.0f}"))  # fmt: skip
    print(table(rows))
    speedup = per["sqlite", 1] / per["sqlite", args.batch]
    vs_memory = per["sqlite", args.batch] / per["memory", 1]
    print(
        f"SQLite FULL, batches of {args.batch}, >= 5x the per-step throughput: "
        f"{'met' if speedup >= 5 else 'NOT met'} ({speedup:.1f}x)"
    )
    print(
        f"SQLite FULL, batches of {args.batch}, per message <= 2x the in-memory layer: "
        f"{'met' if vs_memory <= 2 else 'NOT met'} ({vs_memory:.2f}x)"
    )
    if DSN:
        pg = per["postgres", 1] / per["postgres", args.batch]
        print(
            f"PostgreSQL (one worker, durable commits), batches of {args.batch}, >= 5x the "
            f"per-step rate: {'met' if pg >= 5 else 'NOT met'} ({pg:.1f}x)"
        )


if __name__ == "__main__":
    main()
