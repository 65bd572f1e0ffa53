"""State growth: does every device's database stop growing under faults and floods?

Issue "nothing lost", item 5. Two measurements:

1. **A long faulty run.** The simulator's workload (3 devices, every fourth
   message to the group, the rest pairwise) for ``--messages`` messages
   (50,000 by default) with 10% corruption, 5% loss, 2% duplication, session
   wipes and reinstalls, on SQLite. At every checkpoint the size of each
   device's database (live pages: ``page_count - freelist_count``, what the
   rows take; and the file, which keeps its high-water mark) and the rows of
   each table and retry record kind are taken. Target: every device's size
   at 50,000 within 10% of its size at 10,000. The simulated run lasts
   minutes, not the 14 days of the default ages, and 10,000 messages fill
   none of the default count bounds (10,000 delivered ids per device, ...),
   so the run uses :data:`POLICY`: the same layer with count bounds small
   enough that each is reached within the first 10,000 messages. What it
   shows is that every record kind stops at its bound; the default bounds
   cost what ``bytes per record x bound`` says (printed at the end).
2. **A junk flood.** One contact sends 10,000 envelopes of junk (random
   bodies of a genuine envelope's length, fresh message ids) to a device that
   has a session with it; each is answered as the layer answers junk. Target:
   the flood adds at most a fixed, documented number of bytes, whatever its
   length: 10,000 junk envelopes add within 10% of what 1,000 add, measured
   once their receipts ran out (the ``gave_up_kept`` = 1,000 given-up marks,
   ~115 bytes each with the index) and nothing once the marks aged.

Sizes are counts of bytes, not timings: the host's noise does not move them.

    python benchmarks/bench_growth.py [--messages 50000] [--flood 10000]
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, table

from axolotl.retry import Envelope, RetryPolicy
from axolotl.simulate.device import Faults
from axolotl.simulate.network import Network
from axolotl.simulate.stores import SQLiteStores
from axolotl.wire import MessageType

NAMES = ["alice", "bob", "carol"]
GROUP = "g1"
POLICY = RetryPolicy(
    delivered_ids_kept=2_000, sent_ids_kept=2_000, send_log_max_entries=100, gap_chains_kept=200
)
"""Count bounds each reached within 10,000 messages (per device: ~4,000 deliveries,
~3,300 sends, ~200 unconfirmed send-log entries, ~950 chains seen)."""


def live_bytes(path: Path) -> int:
    """The bytes the rows of a SQLite database take (its pages minus the free ones)."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        pages = db.execute("PRAGMA page_count").fetchone()[0]
        free = db.execute("PRAGMA freelist_count").fetchone()[0]
        size = db.execute("PRAGMA page_size").fetchone()[0]
    return int((pages - free) * size)


def rows(path: Path) -> dict[str, int]:
    """Rows per table, and per retry record kind (``retry:<kind>``)."""
    out: dict[str, int] = {}
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for name in tables:
            if name == "retry_records":
                for kind, n in db.execute("SELECT kind, count(*) FROM retry_records GROUP BY kind"):
                    out[f"retry:{kind}"] = n
            else:
                out[name] = db.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]
    return out


def _path(stores: SQLiteStores, name: str) -> Path:
    """The database of device ``name`` (a reinstall starts a new one: the newest is its state)."""
    return sorted(stores.directory.glob(f"*{name}*.db"), key=os.path.getmtime)[-1]


def _sizes(snaps: list[dict[str, object]], field: str) -> tuple[list[tuple[str, ...]], float]:
    """A device's ``field`` sizes at every checkpoint as table rows, and the largest growth."""
    rows, worst = [], 0.0
    for name in NAMES:
        sizes = [s[field][name] for s in snaps]  # type: ignore[index]
        growth = sizes[-1] / sizes[0]
        worst = max(worst, growth)
        rows.append((name, *(f"{b / 1024:.0f} KiB" for b in sizes), f"{growth:.2f}"))
    return rows, worst


def long_run(messages: int, checkpoints: list[int], seed: int) -> list[dict[str, object]]:
    """The faulty run; a snapshot of every device at each checkpoint."""
    rnd = random.Random(seed)
    directory = Path(tempfile.mkdtemp(prefix="axolotl-growth-"))
    stores = SQLiteStores(directory)
    faults = Faults(drop=0.05, corrupt=0.10, duplicate=0.02, min_delay_ms=10, max_delay_ms=210)
    net = Network(
        NAMES, seed=seed, stores=stores, faults=faults, eager_sessions=False, policy=POLICY
    )
    # A wipe every 2,000 messages and a reinstall every 10,000, at seeded
    # moments; a reinstall in the first half of its 10,000, so the device has
    # filled its bounds again by the next checkpoint.
    wipes = {rnd.randrange(i, i + 2000) for i in range(0, messages, 2000)}
    reinstalls = {rnd.randrange(i, i + 5_000) for i in range(0, messages, 10_000)}
    snapshots: list[dict[str, object]] = []
    started = time.perf_counter()
    try:
        for i in range(messages):
            src = NAMES[i % len(NAMES)]
            others = [n for n in NAMES if n != src]
            if i % 4 == 0:
                net.send(src, others, f"group message {i}".encode(), group=GROUP)
            else:
                net.send(src, [rnd.choice(others)], f"message {i}".encode())
            if i in wipes:
                a, b = rnd.sample(NAMES, 2)
                net.wipe_session(a, b)
            if i in reinstalls:
                net.reinstall(rnd.choice(NAMES))
            net.run(until_ms=net.now + rnd.randint(5, 40))
            if i + 1 in checkpoints:
                paths = {name: _path(stores, name) for name in NAMES}
                snapshots.append(
                    {
                        "messages": i + 1,
                        "seconds": time.perf_counter() - started,
                        "bytes": {n: live_bytes(p) for n, p in paths.items()},
                        "file": {n: p.stat().st_size for n, p in paths.items()},
                        "rows": {n: rows(p) for n, p in paths.items()},
                    }
                )
                print(f"  {i + 1} messages, {time.perf_counter() - started:.0f} s", flush=True)
        net.faults = Faults()
        net.run()
        problems = net.lost() + net.wrong() + net.violations
        print(f"  after the faults: {len(problems)} lost, wrong or doubled", flush=True)
        for problem in problems[:10]:
            print(f"    {problem}")
    finally:
        net.close()
    return snapshots


def flood(counts: list[int], seed: int) -> dict[int, tuple[int, int]]:
    """Bytes bob's database grows by after ``n`` junk envelopes from alice, for each ``n``.

    Two figures each: once every receipt for the junk has run out (a day on),
    and once the given-up marks have aged too (30 days on).
    """
    rnd = random.Random(seed)
    directory = Path(tempfile.mkdtemp(prefix="axolotl-flood-"))
    stores = SQLiteStores(directory)
    net = Network(["alice", "bob"], seed=seed, stores=stores, eager_sessions=True)
    out: dict[int, tuple[int, int]] = {}
    try:
        for i in range(20):  # an ordinary conversation first
            net.send("alice" if i % 2 else "bob", ["bob" if i % 2 else "alice"], b"hi %d" % i)
        net.run()
        alice, bob = net.address("alice"), net.address("bob")
        path = _path(stores, "bob")
        before = live_bytes(path)
        sent = 0
        for target in sorted(counts):
            while sent < target:
                junk = Envelope(
                    message_id=f"JUNK{sent:08d}",
                    sender=alice,
                    recipient=bob,
                    type=MessageType.SIGNAL,
                    body=bytes([0x33]) + rnd.randbytes(rnd.randint(40, 120)),
                    timestamp_ms=net.now,
                )
                net.inject(junk)
                sent += 1
                if sent % 100 == 0:
                    net.run(until_ms=net.now + 50)
            net.run(until_ms=net.now + 86_400_000)  # every receipt of the flood runs out
            out[target] = (live_bytes(path) - before, 0)
            net.run(until_ms=net.now + 30 * 86_400_000)  # and every given-up mark ages
            out[target] = (out[target][0], live_bytes(path) - before)
    finally:
        net.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=50_000)
    parser.add_argument("--flood", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    checkpoints = sorted({args.messages // 5 * k for k in range(1, 6)} | {args.messages})
    print(f"# bench_growth: {machine()}")
    print(f"long run: {args.messages} messages, checkpoints {checkpoints}", flush=True)
    snaps = long_run(args.messages, checkpoints, args.seed)
    first, last = snaps[0], snaps[-1]
    header = ("device", *(f"{s['messages']}" for s in snaps), "last/first")
    live, worst = _sizes(snaps, "bytes")
    print("live bytes (pages in use):")
    print(table([header, *live]))
    print("file size:")
    print(table([header, *_sizes(snaps, "file")[0]]))
    kinds = sorted({k for s in (first, last) for d in s["rows"].values() for k in d})  # type: ignore[attr-defined]
    print("rows (sum over devices):")
    sums = [
        (k, *(str(sum(d.get(k, 0) for d in s["rows"].values())) for s in snaps))  # type: ignore[attr-defined]
        for k in kinds
    ]
    print(table([("table or kind", *header[1:-1]), *sums]))
    print(f"junk flood: {args.flood} envelopes, then every timer run out", flush=True)
    counts = sorted({max(1, args.flood // 10), args.flood})
    grown = flood(counts, args.seed)
    print(
        table(
            [
                ("junk envelopes", "bytes added, a day on", "30 days on"),
                *((str(n), str(a), str(b)) for n, (a, b) in grown.items()),
            ]
        )
    )
    print(
        f"no database grows by more than 10% from {first['messages']} to {last['messages']} "
        f"messages: {'met' if worst <= 1.10 else 'NOT met'} (largest ratio {worst:.2f}; "
        "a device reinstalled in between starts a new, smaller one)"
    )
    small, large = grown[counts[0]][0], grown[counts[-1]][0]
    print(
        f"a junk flood adds a fixed number of bytes: "
        f"{'met' if large <= small * 1.10 else 'NOT met'} "
        f"({small} B after {counts[0]}, {large} B after {counts[-1]} junk envelopes; "
        f"{grown[counts[-1]][1]} B once the marks aged)"
    )


if __name__ == "__main__":
    main()
