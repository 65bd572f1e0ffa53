"""The relay and the killer of the SIGKILL crash test: ``python -m tests.crash_relay``.

The parent process plays the messaging server for two or more device
processes (:mod:`tests.crash_child`), each with its own SQLite database and
journal, and kills them:

- *The server* accepts what a device uploads (an envelope is acked back to
  the uploader with a server ack, and queued for its recipient; receipts and
  delivery receipts are queued for theirs) and keeps every stanza it queued
  for a device until that device acks it (``done``). A device that comes back
  after a kill gets every stanza it had not acked again, in order, as a
  WhatsApp server redelivers what a client did not ack before it reconnected.
  While the faults are on it drops uploads, server acks and receipts, flips
  a bit in an envelope's copy for its recipient (a Bad MAC, so retry receipts
  and resends happen), duplicates and delays stanzas.
- *The killer* SIGKILLs a random device after a random wall-clock delay
  (from its phase file it notes what the device was doing), and now and then
  arms one of the device's kill points (:data:`tests.crash_child.KILL_POINTS`)
  instead, for the narrow windows between a commit and the action it asked
  for. A killed device is started again from its database after a short while.
- *The user* asks a random device now and then to send a message to one or
  more of the others, pairwise or in a group.

After the kills the faults stop and the run settles: every device is up,
every stanza acked, the clock jumps from timer to timer until no device has
one. Then the devices quit, and :mod:`tests.crash_checks` reads their
journals. The clock is virtual (``speed`` virtual ms per wall ms while the
kills go on); the seed fixes the relay's choices, not where a kill lands.
"""

from __future__ import annotations

import argparse
import heapq
import os
import queue
import random
import signal
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from axolotl.receipts import (
    OutgoingRetryReceipt,
    parse_text,
    receipt_from_node,
    receipt_to_node,
)
from axolotl.retry import RetryLayer, address_from_jid
from axolotl.store import SQLiteStore
from tests import crash_checks
from tests.crash_child import (
    ARMED_PHASE,
    KILL_POINTS,
    Phase,
    envelope_from_json,
    envelope_to_json,
    policy,
)
from tests.crash_devices import (
    NAMES,
    ROOT,
    START_MS,
    ChildError,
    DeviceProcess,
    Events,
    provision,
)
from tests.crash_journal import read

__all__ = ["Config", "main", "run"]

GROUP = "crash@g.us"
_SETTLE_ROUNDS = 5_000


@dataclass(frozen=True)
class Config:
    """One run.

    Attributes:
        seed: the relay's choices (faults, kill delays, victims, sends).
        kills: SIGKILLs sent by the relay at random moments.
        armed: kills at armed kill points (on top of ``kills``).
        devices: how many device processes (2..5).
        policy: the devices' retry policy (:func:`tests.crash_child.policy`).
        drop, corrupt, duplicate: fault probabilities while the kills go on.
        kill_gap_ms: wall ms between two kills (uniform range).
        restart_ms: wall ms a killed device stays down (uniform range).
        send_every_ms: wall ms between two user sends.
        delay_ms: wall ms a stanza may be held by the relay (reorders).
        speed: virtual ms per wall ms while the kills go on.
        batch: the devices take the stanzas already waiting in batches of up
            to this many (``RetryLayer.batch``, one commit each); 0: one call each.
    """

    seed: int = 1
    kills: int = 30
    armed: int = 10
    devices: int = 3
    policy: str = "default"
    drop: float = 0.08
    corrupt: float = 0.12
    duplicate: float = 0.05
    kill_gap_ms: tuple[int, int] = (20, 250)
    restart_ms: tuple[int, int] = (0, 60)
    send_every_ms: int = 60
    delay_ms: int = 20
    speed: int = 20
    batch: int = 0


@dataclass
class Stats:
    """What the relay saw and did."""

    kills: int = 0
    armed_kills: int = 0
    kill_phases: Counter[str] = field(default_factory=Counter)
    kill_points: Counter[str] = field(default_factory=Counter)
    starts: int = 0
    torn_lines: int = 0
    uploads: Counter[str] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)
    resends: int = 0
    handed_at_restart: int = 0
    recovery: Counter[str] = field(default_factory=Counter)
    batched: int = 0  # stanzas a device took in a batch of more than one
    settle_rounds: int = 0
    wall_s: float = 0.0


class Relay:
    """The server, the killer and the user of one run (see the module docstring)."""

    def __init__(self, config: Config, workdir: Path) -> None:
        if not 2 <= config.devices <= len(NAMES):
            raise ValueError(f"devices must be 2..{len(NAMES)}")
        self.config = config
        self.workdir = workdir
        self.rng = random.Random(config.seed)
        self.jids = provision(workdir, config.devices)
        self.stats = Stats()
        self.events: Events = queue.Queue()
        self.children: dict[str, DeviceProcess | None] = dict.fromkeys(self.jids)
        self.numbers = Counter[str]()
        self.pending: dict[str, dict[int, dict[str, Any]]] = {j: {} for j in self.jids}
        self.released: set[int] = set()
        self.held: list[tuple[float, int, str]] = []
        self.restart_at: dict[str, float] = {}
        self.next_item = 0
        self.faults_on = True
        self.unreachable: set[str] = set()  # devices whose uploads never reach the server
        self.t0 = time.monotonic()
        self.now = START_MS
        self.live_clock = True
        self.synced: dict[str, dict[str, Any]] = {}
        self.asked: dict[tuple[str, int], int] = {}  # (device, incarnation) -> sync round

    # -- time ------------------------------------------------------------------
    def clock(self) -> int:
        """The virtual time (ms): it follows the wall clock while the kills go on."""
        if self.live_clock:
            wall_ms = (time.monotonic() - self.t0) * 1000
            self.now = max(self.now, START_MS + int(wall_ms * self.config.speed))
        return self.now

    # -- devices ---------------------------------------------------------------
    def start(self, jid: str) -> None:
        """Start (again) the device ``jid``; hand it every stanza it has not acked."""
        self.numbers[jid] += 1
        directory = self.workdir / jid
        (directory / "phase").write_bytes(bytes([Phase.START]))
        child = DeviceProcess(
            jid,
            self.numbers[jid],
            directory,
            self.clock(),
            self.config.policy,
            self.events,
            batch=self.config.batch,
        )
        self.children[jid] = child
        self.stats.starts += 1
        for item_id in sorted(self.pending[jid]):  # redeliver what it did not ack
            if item_id in self.released:
                self.stats.handed_at_restart += self.numbers[jid] > 1
                child.put({**self.pending[jid][item_id], "now": self.clock()})

    def kill(self, jid: str) -> None:
        """SIGKILL the running device ``jid``, wherever it is."""
        child = self.children[jid]
        assert child is not None
        child.killed = True
        os.kill(child.proc.pid, signal.SIGKILL)

    def _phase(self, jid: str) -> int:
        return (self.workdir / jid / "phase").read_bytes()[0]

    def _ended(self, jid: str, number: int) -> None:
        child = self.children[jid]
        assert child is not None and child.number == number
        code = child.proc.wait()
        self.children[jid] = None
        phase = self._phase(jid)  # what it was doing when it died (it cannot write any more)
        if code == -signal.SIGKILL and phase >= ARMED_PHASE:
            self.stats.armed_kills += 1
            self.stats.kill_points[KILL_POINTS[phase - ARMED_PHASE]] += 1
        elif code == -signal.SIGKILL and child.killed:
            self.stats.kills += 1
            self.stats.kill_phases[Phase(phase).name] += 1
        elif code == 0 and child.quitting:
            return
        else:
            raise ChildError(f"{jid} #{number} exited with {code}:\n{child.stderr()}")
        low, high = self.config.restart_ms if self.faults_on else (0, 0)
        self.restart_at[jid] = time.monotonic() + self.rng.uniform(low, high) / 1000

    # -- the server --------------------------------------------------------------
    def queue_item(self, jid: str, item: dict[str, Any]) -> None:
        """Keep a stanza for ``jid`` until it acks it; hand it over after a random delay."""
        self.next_item += 1
        item = {**item, "op": "item", "item": self.next_item}
        self.pending[jid][self.next_item] = item
        delay = self.rng.uniform(0, self.config.delay_ms) if self.faults_on else 0.0
        heapq.heappush(self.held, (time.monotonic() + delay / 1000, self.next_item, jid))

    def release_due(self) -> None:
        """Hand over the stanzas whose delay is over (to a device that is down: at its start)."""
        wall = time.monotonic()
        while self.held and self.held[0][0] <= wall:
            _, item_id, jid = heapq.heappop(self.held)
            item = self.pending[jid].get(item_id)
            self.released.add(item_id)
            child = self.children[jid]
            if item is not None and child is not None:
                child.put({**item, "now": self.clock()})

    def fault(self, name: str, probability: float) -> bool:
        """Whether the fault ``name`` strikes now (never once the faults are off); counted."""
        hit = self.faults_on and self.rng.random() < probability
        if hit:
            self.stats.faults[name] += 1
        return hit

    def upload(self, src: str, msg: dict[str, Any]) -> None:
        """What the device ``src`` sent to the server: accept it (or lose it to a fault)."""
        kind = msg["kind"]
        self.stats.uploads[kind] += 1
        cfg = self.config
        if src in self.unreachable or self.fault(f"{kind} dropped", cfg.drop):
            return
        if kind == "envelope":
            env = msg["env"]
            if env["count"]:
                self.stats.resends += 1
            if not self.fault("server ack dropped", cfg.drop):
                self.queue_item(src, {"kind": "server_ack", "id": env["id"], "device": env["to"]})
            if self.fault("envelope corrupted", cfg.corrupt):
                envelope = envelope_from_json(env)
                body = bytearray(envelope.body)
                body[self.rng.randrange(len(body))] ^= 1 << self.rng.randrange(8)
                env = envelope_to_json(replace(envelope, body=bytes(body)))
            for _ in range(2 if self.fault("envelope duplicated", cfg.duplicate) else 1):
                self.queue_item(env["to"], {"kind": "envelope", "env": env})
        elif kind == "receipt":
            outgoing = receipt_from_node(parse_text(msg["node"]), OutgoingRetryReceipt)
            incoming = outgoing.received_from(src)
            node = receipt_to_node(incoming).to_text(indent=None)
            self.queue_item(msg["to"], {"kind": "receipt", "node": node})
        elif kind == "delivery":
            self.queue_item(msg["to"], {"kind": "delivery", "id": msg["id"], "from": src})
        else:
            raise ChildError(f"{src} uploaded an unknown kind {kind!r}")

    def handle(self, jid: str, number: int, msg: dict[str, Any] | None) -> None:
        """One line from incarnation ``number`` of ``jid`` (``None``: it has ended)."""
        if msg is None:
            self._ended(jid, number)
            return
        op = msg["op"]
        if op == "up":
            self.upload(jid, msg)
        elif op == "done":
            self.pending[jid].pop(msg["item"], None)
            self.stats.batched += msg.get("batch", 1) > 1
        elif op == "ready":
            child = self.children[jid]
            assert child is not None
            if not Path(msg["axolotl"]).resolve().is_relative_to(ROOT):
                raise ChildError(f"{jid} imported axolotl from {msg['axolotl']}, not {ROOT}")
            child.ready = True
            self.stats.recovery.update(msg["counts"])
        elif op == "synced":
            self.synced[jid] = msg
        elif op == "torn":
            self.stats.torn_lines += 1
        else:
            raise ChildError(f"{jid} sent an unknown op {op!r}")

    def pump(self, timeout: float) -> None:
        """Handle what the devices said within ``timeout`` s; restart and release what is due."""
        try:
            self.handle(*self.events.get(timeout=timeout))
            while True:
                self.handle(*self.events.get_nowait())
        except queue.Empty:
            pass
        wall = time.monotonic()
        for jid, when in list(self.restart_at.items()):
            if when <= wall:
                del self.restart_at[jid]
                self.start(jid)
        self.release_due()

    def alive(self) -> list[str]:
        """The devices running and not being killed."""
        return [j for j, c in self.children.items() if c is not None and not c.killed]

    # -- the run -----------------------------------------------------------------
    def storm(self) -> None:
        """Traffic, faults and kills until the kills are done."""
        cfg = self.config
        wall = time.monotonic()
        next_kill = wall + self.rng.uniform(*cfg.kill_gap_ms) / 1000
        next_send = wall
        next_clock = wall
        arms = 0
        # A point the device seldom passes (a report) may never fire: a later
        # arm replaces it, and after enough arms the run stops waiting for them.
        while self.stats.kills < cfg.kills or (
            self.stats.armed_kills < cfg.armed and arms < 20 * cfg.armed
        ):
            self.pump(0.005)
            wall = time.monotonic()
            alive = self.alive()
            if wall >= next_clock:
                next_clock = wall + 0.05
                self.clock_all()
            if wall >= next_send and alive:
                next_send = wall + cfg.send_every_ms / 1000
                self.user_send(self.rng.choice(alive))
            if wall >= next_kill and alive:
                next_kill = wall + self.rng.uniform(*cfg.kill_gap_ms) / 1000
                ready = [j for j in alive if self._child(j).ready]
                arm = self.stats.armed_kills < cfg.armed and arms < 20 * cfg.armed
                if arm and ready and self.rng.random() < 0.3:
                    jid = self.rng.choice(ready)  # an arm replaces the device's previous one
                    arms += 1
                    point = self.rng.choice(KILL_POINTS)
                    self.put(jid, {"op": "arm", "point": point, "skip": self.rng.randrange(4)})
                elif self.stats.kills < cfg.kills:
                    # A device at work, or now and then one in its recovery
                    # (past the interpreter's start-up, which is no news).
                    recovering = [
                        j for j in alive if j not in ready and self._phase(j) != Phase.START
                    ]
                    pool = recovering if recovering and self.rng.random() < 0.5 else ready
                    if pool:
                        self.kill(self.rng.choice(pool))

    def clock_all(self) -> None:
        """Tell every running device the time (it fires its timers when they are due)."""
        for jid in self.alive():
            self.put(jid, {"op": "clock", "now": self.clock()})

    def begin(self) -> None:
        """Start every device and wait until each has done its start-up."""
        for jid in self.jids:
            self.start(jid)
        self.wait_ready()

    def wait_ready(self, timeout_s: float = 60.0) -> None:
        """Handle events until every device is up and has done its start-up."""
        deadline = time.monotonic() + timeout_s
        while not all(c is not None and c.ready for c in self.children.values()):
            if time.monotonic() > deadline:
                raise ChildError("the devices did not start")
            self.pump(0.01)

    def _child(self, jid: str) -> DeviceProcess:
        child = self.children[jid]
        assert child is not None
        return child

    def put(self, jid: str, obj: dict[str, Any]) -> None:
        """Say ``obj`` to the device ``jid``, if it is running (a command to a dead one is lost)."""
        child = self.children[jid]
        if child is not None and not child.killed:
            child.put(obj)

    def user_send(self, jid: str) -> None:
        """The user of ``jid`` sends a message: to the group, or pairwise to some of the others."""
        others = [j for j in self.jids if j != jid]
        if self.rng.random() < 0.3:
            self.put(jid, {"op": "send", "to": others, "group": GROUP, "now": self.clock()})
            return
        to = self.rng.sample(others, self.rng.randint(1, len(others)))
        self.put(jid, {"op": "send", "to": to, "group": None, "now": self.clock()})

    def settle(self) -> None:
        """No faults, no kills: run until every stanza is acked and no device holds a timer."""
        self.faults_on = False
        for jid in self.alive():
            self.put(jid, {"op": "arm", "point": None, "skip": 0})
        for when_jid in list(self.restart_at):
            self.restart_at[when_jid] = 0.0
        self.live_clock = False
        for k in range(1, _SETTLE_ROUNDS + 1):
            self.stats.settle_rounds = k
            self.synced = {}
            uploads = sum(self.stats.uploads.values())
            while len(self.synced) < len(self.jids):
                self.pump(0.01)
                for jid in self.alive():
                    child = self._child(jid)
                    if child.ready and self.asked.get((jid, child.number)) != k:
                        self.asked[(jid, child.number)] = k
                        child.put({"op": "sync", "k": k, "now": self.now})
                self.synced = {j: m for j, m in self.synced.items() if m["k"] == k}
            quiet = uploads == sum(self.stats.uploads.values()) and not any(self.pending.values())
            if not quiet or self.held:
                continue
            wakes = [m["wake"] for m in self.synced.values() if m["wake"] is not None]
            if not wakes:
                return
            self.now = max(self.now, min(wakes))
            for jid in self.jids:
                self.put(jid, {"op": "clock", "now": self.now})
        raise ChildError(f"the devices did not settle in {_SETTLE_ROUNDS} rounds")

    def quit(self) -> None:
        """Stop every device cleanly (they close their stores and journals)."""
        for jid in self.jids:
            child = self._child(jid)
            child.quitting = True
            child.put({"op": "quit"})
            child.close_input()
        while any(c is not None for c in self.children.values()):
            self.handle(*self.events.get(timeout=60))

    def stop(self) -> None:
        """Kill whatever still runs (after an error)."""
        for child in self.children.values():
            if child is not None and child.proc.poll() is None:
                child.proc.kill()
                child.proc.wait()

    def verdict(self) -> crash_checks.Verdict:
        """After :meth:`quit`: the journals' verdict, and nothing left in an inbox or outbox."""
        self.stats.wall_s = time.monotonic() - self.t0
        journals = {jid: read(self.workdir / jid / "journal") for jid in self.jids}
        verdict = crash_checks.check(journals)
        for jid in self.jids:
            store = SQLiteStore.open(self.workdir / jid / "device.db")
            try:
                layer = RetryLayer(store, address_from_jid(jid), policy=policy(self.config.policy))
                if layer.inbox():
                    verdict.problems.append(f"{jid}: {len(layer.inbox())} deliveries unconfirmed")
                if layer.pending():
                    verdict.problems.append(f"{jid}: {len(layer.pending())} envelopes never acked")
            finally:
                store.close()
        verdict.relay = self.stats
        return verdict


def run(config: Config, workdir: Path) -> crash_checks.Verdict:
    """One whole run in ``workdir``: start, kill, settle, quit; the verdict."""
    relay = Relay(config, workdir)
    try:
        relay.begin()
        relay.storm()
        relay.settle()
        relay.quit()
    finally:
        relay.stop()
    return relay.verdict()


def main(argv: list[str] | None = None) -> int:
    """Run several seeds with many kills; print each verdict; exit 1 if any found a problem."""
    parser = argparse.ArgumentParser(prog="python -m tests.crash_relay", description=__doc__)
    parser.add_argument("--seeds", default="1", help="a seed, or a range like 1-5")
    parser.add_argument("--kills", type=int, default=100)
    parser.add_argument("--armed", type=int, default=30)
    parser.add_argument("--devices", type=int, default=3)
    parser.add_argument("--policy", default="default", choices=("default", "tight"))
    parser.add_argument("--corrupt", type=float, default=Config.corrupt)
    parser.add_argument("--drop", type=float, default=Config.drop)
    parser.add_argument("--batch", type=int, default=0, help="stanzas per batch (0: none)")
    parser.add_argument("--keep", type=Path, help="keep every run's files under this folder")
    args = parser.parse_args(argv)
    low, _, high = args.seeds.partition("-")
    failed = 0
    for seed in range(int(low), int(high or low) + 1):
        config = Config(seed=seed, kills=args.kills, armed=args.armed, devices=args.devices,
                        policy=args.policy, corrupt=args.corrupt, drop=args.drop,
                        batch=args.batch)  # fmt: skip
        if args.keep:
            workdir = args.keep / f"seed-{seed}"
            workdir.mkdir(parents=True)
            verdict = run(config, workdir)
        else:
            with tempfile.TemporaryDirectory(prefix="axolotl-sigkill-") as tmp:
                verdict = run(config, Path(tmp))
        print(f"seed {seed}: {verdict.summary()}", flush=True)
        failed += bool(verdict.problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
