"""Retry-layer throughput on PostgreSQL with 1, 2 and 4 worker processes, beside SQLite.

Run: ``.venv/bin/python benchmarks/bench_postgres.py [--quick]``

The workload: D receiving devices, each with its own inbound stream of M
pairwise messages (the first a prekey message), encrypted beforehand. Every
configuration starts from the same freshly provisioned stores and receives
the same envelopes through :meth:`RetryLayer.receive` (one transaction per
envelope). SQLite: one process, one database file per device, with
``synchronous=FULL`` (the default: every commit durable) and ``NORMAL``
(durable against a process crash). PostgreSQL likewise with
``synchronous_commit`` on (the default) and off: one database, one owner
per device, W worker processes, devices dealt round-robin to the workers
(the steps of one device serialise on its lock, so workers scale over
devices). Throughput = messages / wall time
from the moment every worker is ready to the last one done.

The server: ``$AXOLOTL_BENCH_PG_DSN``, else ``$AXOLOTL_TEST_PG_DSN``, else a
temporary server started here from Debian's binaries (fsync on, as in
production); without any, the PostgreSQL rows say so and the script still
exits 0.
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import machine, table

Device = tuple[str, bytes, int, bytes, bytes, list[Any]]
# (owner, identity, registration id, signed prekey, prekey, envelopes)


def _workload(devices: int, messages: int) -> list[Device]:
    from axolotl.address import ProtocolAddress
    from axolotl.keys import (
        PreKeyBundle,
        generate_identity_key_pair,
        generate_pre_keys,
        generate_registration_id,
        generate_signed_pre_key,
    )
    from axolotl.retry import RetryLayer, Transmit
    from axolotl.rng import DeterministicRng
    from axolotl.store import MemoryStore

    rng = DeterministicRng("bench-postgres")
    out: list[Device] = []
    now = 1_700_000_000_000
    for d in range(devices):
        local = ProtocolAddress(f"dev{d}@s.example", 1)
        identity = generate_identity_key_pair(rng)
        registration_id = generate_registration_id(rng)
        signed = generate_signed_pre_key(identity, 1, now, rng)
        (pre_key,) = generate_pre_keys(1, 1, rng)
        bundle = PreKeyBundle(
            registration_id=registration_id,
            device_id=1,
            pre_key_id=pre_key.id,
            pre_key_public=pre_key.key_pair.public_key,
            signed_pre_key_id=signed.id,
            signed_pre_key_public=signed.key_pair.public_key,
            signed_pre_key_signature=signed.signature,
            identity_key=identity.public_key,
        )
        sender_store = MemoryStore(generate_identity_key_pair(rng), generate_registration_id(rng))
        sender = RetryLayer(sender_store, ProtocolAddress(f"src{d}@s.example", 1), rng=rng)
        sender.process_bundle(local, bundle)
        envelopes = []
        for i in range(messages):
            actions = sender.send([local], sender.new_message_id(), b"m%d" % i, now + i)
            envelopes += [a.envelope for a in actions if isinstance(a, Transmit)]
        out.append(
            (
                local.name,
                identity.serialize(),
                registration_id,
                signed.serialize(),
                pre_key.serialize(),
                envelopes,
            )
        )
    return out


def _provision(store: Any, device: Device) -> None:
    from axolotl.keys import PreKeyRecord, SignedPreKeyRecord

    store.store_signed_pre_key(SignedPreKeyRecord.deserialize(device[3]))
    store.store_pre_key(PreKeyRecord.deserialize(device[4]))


def _receive_all(store: Any, device: Device) -> int:
    from axolotl.address import ProtocolAddress
    from axolotl.retry import Deliver, RetryLayer

    layer = RetryLayer(store, ProtocolAddress(device[0], 1))
    delivered = 0
    for i, envelope in enumerate(device[5]):
        actions = layer.receive(envelope, 1_700_000_000_000 + i)
        delivered += sum(isinstance(a, Deliver) for a in actions)
    return delivered


def _run_sqlite(work: list[Device], synchronous: str) -> float:
    from axolotl.keys import IdentityKeyPair
    from axolotl.store import SQLiteStore

    with tempfile.TemporaryDirectory(prefix="axolotl-bench-pg-") as tmp:
        stores = []
        for device in work:
            store = SQLiteStore.create(
                Path(tmp) / f"{device[0]}.db",
                IdentityKeyPair.deserialize(device[1]),
                device[2],
                synchronous=synchronous,  # type: ignore[arg-type]
            )
            _provision(store, device)
            stores.append(store)
        start = time.perf_counter()
        delivered = sum(_receive_all(s, d) for s, d in zip(stores, work, strict=True))
        wall = time.perf_counter() - start
        for store in stores:
            store.close()
    assert delivered == sum(len(d[5]) for d in work), "SQLite run lost messages"
    return delivered / wall


def _pg_worker(
    dsn: str, work: list[Device], synchronous_commit: bool, barrier: Any, results: Any
) -> None:
    from axolotl.store.postgres import PostgresStore

    stores = [
        PostgresStore.open(dsn, device[0], synchronous_commit=synchronous_commit) for device in work
    ]
    barrier.wait()
    start = time.perf_counter()
    delivered = sum(_receive_all(s, d) for s, d in zip(stores, work, strict=True))
    end = time.perf_counter()
    for store in stores:
        store.close()
    results.put((start, end, delivered))


def _run_postgres(
    admin_dsn: str, work: list[Device], workers: int, synchronous_commit: bool, run: int
) -> float:
    import psycopg
    from psycopg.conninfo import make_conninfo

    from axolotl.keys import IdentityKeyPair
    from axolotl.store.postgres import PostgresStore

    schema = f"axolotl_bench_{os.getpid()}_{run}"
    with psycopg.connect(admin_dsn, autocommit=True) as admin:
        admin.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}".encode())
    dsn = make_conninfo(admin_dsn, options=f"-csearch_path={schema}")
    try:
        for device in work:
            identity = IdentityKeyPair.deserialize(device[1])
            with PostgresStore.create(dsn, device[0], identity, device[2]) as store:
                _provision(store, device)
        context = multiprocessing.get_context("spawn")
        barrier, results = context.Barrier(workers), context.Queue()
        procs = [
            context.Process(
                target=_pg_worker,
                args=(dsn, work[w::workers], synchronous_commit, barrier, results),
            )
            for w in range(workers)
        ]
        for p in procs:
            p.start()
        reports = [results.get(timeout=600) for _ in procs]
        for p in procs:
            p.join()
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE".encode())
    delivered = sum(r[2] for r in reports)
    assert delivered == sum(len(d[5]) for d in work), "PostgreSQL run lost messages"
    return delivered / (max(r[1] for r in reports) - min(r[0] for r in reports))


@contextlib.contextmanager
def _server() -> Iterator[tuple[str | None, str]]:
    """A DSN and where it came from; a temporary server when none is configured."""
    for name in ("AXOLOTL_BENCH_PG_DSN", "AXOLOTL_TEST_PG_DSN"):
        if os.environ.get(name):
            yield os.environ[name], f"${name}"
            return
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if not bins:
        yield None, "no PostgreSQL server (set AXOLOTL_BENCH_PG_DSN or install postgresql)"
        return
    bindir = Path(bins[-1]).parent
    tmp = tempfile.mkdtemp(prefix="axolotl-bench-pg-")
    prefix: list[str] = []
    if os.geteuid() == 0:
        subprocess.run(["chown", "postgres", tmp], check=True)
        prefix = ["runuser", "-u", "postgres", "--"]
    port = 55400 + os.getpid() % 90
    data = f"{tmp}/data"
    subprocess.run(
        [*prefix, f"{bindir}/initdb", "-D", data, "-A", "trust", "-U", "postgres", "--no-sync"],
        check=True,
        capture_output=True,
    )
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {tmp} -c max_connections=100"
    subprocess.run(
        [*prefix, f"{bindir}/pg_ctl", "-D", data, "-l", f"{tmp}/log", "-w", "-o", options, "start"],
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres", "a temporary server, fsync on"
    finally:
        subprocess.run(
            [*prefix, f"{bindir}/pg_ctl", "-D", data, "-m", "fast", "stop"], capture_output=True
        )
        subprocess.run(["rm", "-rf", tmp], check=False)


def main(argv: list[str] | None = None) -> int:
    """Print the throughput table; 0 even when no PostgreSQL server is available."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    parser.add_argument("--devices", type=int, default=None, help="receiving devices")
    parser.add_argument("--messages", type=int, default=None, help="messages per device")
    args = parser.parse_args(argv)
    devices = args.devices or (4 if args.quick else 8)
    messages = args.messages or (40 if args.quick else 300)
    work = _workload(devices, messages)
    total = devices * messages
    rows = [("store", "commits", "processes", "messages", "messages/s", "vs SQLite")]
    sqlite_rates = {}
    for synchronous, commits in (("FULL", "durable"), ("NORMAL", "relaxed")):
        rate = sqlite_rates[commits] = _run_sqlite(work, synchronous)
        rows.append((f"SQLite {synchronous}", commits, "1", str(total), f"{rate:,.0f}", "1.00x"))
    with _server() as (dsn, origin):
        runs = 0
        for synchronous_commit, commits in ((True, "durable"), (False, "relaxed")):
            for workers in (1, 2, 4):
                label = f"PostgreSQL sync_commit={'on' if synchronous_commit else 'off'}"
                if dsn is None:
                    rows.append((label, commits, str(workers), str(total), "-", "no server"))
                    continue
                runs += 1
                rate = _run_postgres(dsn, work, workers, synchronous_commit, runs)
                ratio = rate / sqlite_rates[commits]
                rows.append(
                    (label, commits, str(workers), str(total), f"{rate:,.0f}", f"{ratio:.2f}x")
                )
    print(machine())
    print(
        f"retry-layer receive throughput, {devices} devices x {messages} messages; server: {origin}"
    )
    print(table(rows))
    print(
        f"({os.cpu_count()} cores shared by the workers and the server; every step is one "
        "transaction; PostgreSQL workers take devices round-robin; each row is compared "
        "with the SQLite row of the same durability)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
