"""Drive a conversation through the simulated network and report what happened.

The conversation: ``messages`` messages among ``devices`` devices; every
fourth goes to a group of all devices, the rest pairwise to one other
device. Faults (loss, corruption, duplication, reordering) apply while the
messages are sent; session wipes, reinstalls and crashes are spread over the
run. Then the faults stop, every device reconnects, and the network runs
until quiet. The report is a pure function of the configuration (the seed
included), except the wall-clock timing, which is kept apart.
"""

from __future__ import annotations

import random
import statistics
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from axolotl.errors import UsageError
from axolotl.framing import FRAMINGS, conversation, framing_named
from axolotl.retry import LayerStats
from axolotl.simulate import checks
from axolotl.simulate.checks import Outcome
from axolotl.simulate.network import Faults, Network
from axolotl.simulate.stores import DeviceStores, PostgresStores, SQLiteStores

__all__ = ["ConfigError", "SimulationConfig", "SimulationReport", "simulate"]

_GROUP = "simulation@g.example"
STORES = ("sqlite", "postgres")
"""The store backends a simulation can run on."""
_NAMES = [f"device{i}" for i in range(1, 1000)]


@dataclass(frozen=True, slots=True, kw_only=True)
class SimulationConfig:
    """What to simulate.

    Attributes:
        devices: number of devices (2..999).
        messages: number of messages sent.
        loss: probability that an upload, a server ack or a receipt is lost.
        corrupt: probability that an envelope arrives with a bit flipped.
        dup: probability that anything arrives twice.
        reorder: extra random delay in ms (0 keeps the order).
        wipe: sessions wiped (the classic Bad MAC cause).
        reinstall: devices reinstalled (new identity and registration id).
        crash: crashes injected at store writes (the device restarts from its store).
        offline: periods a device is away (50 messages long): what the server
            holds for it meanwhile is handed over when it is back.
        batch: a device back takes what was held for it in one
            ``RetryLayer.batch`` (one commit); ``False``: one call each (the
            report is the same).
        seed: the seed for everything.
        store: ``sqlite`` (a database file per device) or ``postgres`` (every
            device an owner ``simulate-<run id>-...`` in the database at ``dsn``).
        framing: every device's framing, ``native`` or ``whatsapp``
            (:mod:`axolotl.framing`; under ``whatsapp`` the texts travel as
            WhatsApp ``Message{conversation}`` bodies, padded).
        db_dir: where the SQLite databases go (default: a temporary folder,
            removed after the run).
        dsn: the PostgreSQL database (``store="postgres"`` only).
        keep: leave the run's PostgreSQL rows in the database (by default
            they are deleted after the run).
        run_id: names the run's PostgreSQL owners ``simulate-<run id>-...``
            (default: the time and random hex, unique per run).
    """

    devices: int = 3
    messages: int = 2_000
    loss: float = 0.05
    corrupt: float = 0.05
    dup: float = 0.02
    reorder: int = 200
    wipe: int = 1
    reinstall: int = 0
    crash: int = 0
    offline: int = 0
    batch: bool = True
    seed: int = 1
    store: str = "sqlite"
    framing: str = "native"
    db_dir: Path | None = None
    dsn: str | None = None
    keep: bool = False
    run_id: str | None = None

    def __post_init__(self) -> None:
        if not 2 <= self.devices <= len(_NAMES):
            raise ConfigError("devices", f"must be in 2..{len(_NAMES)}, got {self.devices}")
        if self.messages < 1:
            raise ConfigError("messages", f"must be at least 1, got {self.messages}")
        for name in ("loss", "corrupt", "dup"):
            value = getattr(self, name)
            if not 0 <= value < 1:
                raise ConfigError(name, f"must be a probability in [0, 1), got {value}")
        for name in ("reorder", "wipe", "reinstall", "crash", "offline"):
            value = getattr(self, name)
            if value < 0:
                raise ConfigError(name, f"must be at least 0, got {value}")
        if self.framing not in FRAMINGS:
            raise ConfigError(
                "framing", f"must be one of {', '.join(FRAMINGS)}, got {self.framing!r}"
            )
        if self.store not in STORES:
            raise ConfigError("store", f"must be one of {', '.join(STORES)}, got {self.store!r}")
        if self.store == "postgres":
            if not self.dsn:
                raise ConfigError(
                    "store",
                    "postgres needs a DSN",
                    cli="postgres needs a DSN: --dsn postgresql://...",
                )
            if self.db_dir is not None:
                raise ConfigError(
                    "db_dir",
                    "is for the sqlite store; the postgres one uses the DSN",
                    cli="is for the sqlite store; the postgres one uses --dsn",
                )
        else:
            if self.dsn is not None:
                raise ConfigError(
                    "dsn",
                    "is for the postgres store",
                    cli="is for the postgres store (--store postgres)",
                )
            if self.keep:
                raise ConfigError(
                    "keep",
                    "is for the postgres store; keep SQLite databases with db_dir",
                    cli="is for the postgres store (--store postgres); keep SQLite databases"
                    " with --db-dir",
                )
            if self.run_id is not None:
                raise ConfigError("run_id", "names the owners of the postgres store only")


class ConfigError(UsageError):
    """A :class:`SimulationConfig` field has a bad value or does not go with another.

    Attributes:
        field: the field, e.g. ``db_dir``; the option ``--db-dir`` on the command line.
        cli_message: the message as the command line words it (options, not fields).
    """

    def __init__(self, field: str, message: str, *, cli: str | None = None) -> None:
        super().__init__(f"{field} {message}")
        self.field = field
        self.cli_message = f"--{field.replace('_', '-')} {cli or message}"


@dataclass(slots=True)
class SimulationReport:
    """What happened. Everything but ``timing`` is reproducible from the configuration."""

    config: dict[str, Any]
    sent: int = 0
    copies: int = 0
    delivered: int = 0
    duplicates_refused: int = 0
    exactly_once: bool = True
    lost: list[str] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)
    over_budget: list[str] = field(default_factory=list)
    failures_by_reason: dict[str, int] = field(default_factory=dict)
    receipts_sent: int = 0
    resends: int = 0
    sessions_rebuilt: int = 0
    retransmissions: int = 0
    # Every copy ends in exactly one outcome (axolotl.simulate.checks):
    # delivered + undecryptable + send_failed + lost_with_reinstalled_sender
    # + lost_with_reinstalled_receiver + len(lost) == copies.
    undecryptable: int = 0  # copies the recipient reported Undecryptable
    send_failed: int = 0  # copies the sender reported SendFailed
    lost_with_reinstalled_sender: int = 0  # copies whose sender's send log a reinstall wiped
    lost_with_reinstalled_receiver: int = 0  # copies a recipient had failed on when reinstalled
    delivered_again_after_reinstall: int = 0  # copies a reinstalled recipient got again
    # What the failures counted under UNKNOWN_ERROR were (the error class).
    unknown_error_causes: dict[str, int] = field(default_factory=dict)
    gaps_reported: int = 0
    gaps_false_alarms: int = 0  # Gap reports while every copy of that sender had arrived
    crashes: int = 0
    latency_ms: dict[str, float] = field(default_factory=dict)
    simulated_seconds: float = 0.0  # from the first send to the last delivery
    timing: dict[str, float] = field(default_factory=dict)
    # For plots (left out of to_dict): seconds since the first send. "sent" (a
    # copy each), "deliveries", "receipts", "resends": when each happened; "latency_at"
    # and "latency_ms": each delivered copy's send time and latency, in pairs.
    series: dict[str, list[float]] = field(default_factory=dict)
    incidents: list[tuple[float, str]] = field(default_factory=list)  # (seconds, kind)

    @property
    def ok(self) -> bool:
        """Nothing lost, nothing delivered twice or wrong, no budget exceeded."""
        return self.exactly_once and not self.over_budget

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (``ok`` included, the plot series and incidents left out)."""
        data = asdict(self)
        data.pop("series")
        data.pop("incidents")
        return {**data, "ok": self.ok}


def _totals(net: Network) -> LayerStats:
    total = LayerStats()
    for d in net.devices.values():
        for stats in [*d.past_stats, d.layer.stats]:
            for name in (
                "duplicates",
                "receipts_sent",
                "undecryptable",
                "resends",
                "rebuilds",
                "retransmissions",
                "send_failed",
            ):
                setattr(total, name, getattr(total, name) + getattr(stats, name))
            for reason, n in stats.failures.items():
                total.failures[reason] = total.failures.get(reason, 0) + n
    return total


_OFFLINE_MESSAGES = 50
"""How long an offline period lasts, in messages sent meanwhile."""


def simulate(
    config: SimulationConfig, progress: Callable[[int, int], None] | None = None
) -> SimulationReport:
    """Run one simulation.

    Args:
        config: what to simulate.
        progress: called as ``progress(sent, total)`` after each message is sent.

    Returns:
        The report.
    """
    started = time.perf_counter()
    rnd = random.Random(config.seed ^ 0x5EED)
    names = _NAMES[: config.devices]
    faults = Faults(
        drop=config.loss,
        corrupt=config.corrupt,
        duplicate=config.dup,
        min_delay_ms=10,
        max_delay_ms=10 + config.reorder,
    )
    # Spread the incidents over the run, at message indices drawn from the seed.
    wipes = sorted(rnd.randrange(config.messages) for _ in range(config.wipe))
    reinstalls = sorted(rnd.randrange(config.messages) for _ in range(config.reinstall))
    writes_per_message = 12  # roughly; crash points land inside the run
    crash_at = sorted(
        rnd.randrange(1, config.messages * writes_per_message) for _ in range(config.crash)
    )
    away: dict[int, list[tuple[str, bool]]] = {}  # message index -> (device, goes away?)
    for _ in range(config.offline):
        start, name = rnd.randrange(config.messages), rnd.choice(names)
        away.setdefault(start, []).append((name, True))
        away.setdefault(start + _OFFLINE_MESSAGES, []).append((name, False))
    # Sessions start when first used, as in a real stack: set-up stays linear
    # in the device count (every pair up front is the square of it).
    net = Network(
        names,
        seed=config.seed,
        stores=_stores(config),
        faults=faults,
        crash_at=crash_at,
        eager_sessions=False,
        framing=framing_named(config.framing),
        batch=config.batch,
    )
    body = _body_maker(config.framing)
    start_ms = net.now
    try:
        for i in range(config.messages):
            src = names[i % len(names)]
            others = [n for n in names if n != src]
            if i % 4 == 0:
                net.send(src, others, body(f"group message {i}"), group=_GROUP)
            else:
                net.send(src, [rnd.choice(others)], body(f"message {i}"))
            while wipes and wipes[0] == i:
                wipes.pop(0)
                a, b = rnd.sample(names, 2)
                net.wipe_session(a, b)
            while reinstalls and reinstalls[0] == i:
                reinstalls.pop(0)
                net.reinstall(rnd.choice(names))
            for name, leaves in away.pop(i, []):
                if leaves:
                    net.disconnect(name)
                    net.incidents.append((net.now, "offline"))
                elif not net.devices[net.address(name)].online:
                    net.reconnect(name)
            net.run(until_ms=net.now + rnd.randint(5, 40))
            if progress is not None:
                progress(i + 1, config.messages)
        net.faults = Faults()
        net.incidents.append((net.now, "faults end"))
        for name in names:
            if not net.devices[net.address(name)].online:
                net.reconnect(name)
        net.run()
        return _report(config, net, start_ms, time.perf_counter() - started)
    finally:
        net.close()


def _body_maker(framing: str) -> Callable[[str], bytes]:
    """How the run's texts become bodies: UTF-8, or WhatsApp ``Message{conversation}``."""
    if framing == "whatsapp":
        return conversation
    return str.encode


def _stores(config: SimulationConfig) -> DeviceStores:
    if config.store == "postgres":
        assert config.dsn is not None  # checked by the config
        return PostgresStores(config.dsn, run_id=config.run_id, keep=config.keep)
    return SQLiteStores(config.db_dir)


def _report(
    config: SimulationConfig, net: Network, start_ms: int, wall_s: float
) -> SimulationReport:
    cfg = {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(config).items()}
    for local in (
        "db_dir",
        "dsn",
        "keep",
        "run_id",
    ):  # where, not what: the report stays comparable
        cfg.pop(local)
    report = SimulationReport(config=cfg)
    totals = _totals(net)
    report.sent = len(net.sent)
    report.copies = sum(len(r) for _, r, _, _ in net.sent.values())
    ends = checks.outcomes(net)
    tally = Counter(ends.values())
    report.delivered = tally[Outcome.DELIVERED]
    report.undecryptable = tally[Outcome.UNDECRYPTABLE]
    report.send_failed = tally[Outcome.SEND_FAILED]
    report.lost_with_reinstalled_sender = tally[Outcome.GONE_WITH_SENDER]
    report.lost_with_reinstalled_receiver = tally[Outcome.GONE_WITH_RECIPIENT]
    latencies = []
    latency_at = []
    for message_id, (src, recipients, _, _) in net.sent.items():
        sent_at = net.sent_at[message_id]
        for r in recipients:
            at = net.devices[r].delivered_at.get((src, message_id))
            if at is not None:
                latencies.append(at - sent_at)
                latency_at.append((sent_at - start_ms) / 1000)
    report.duplicates_refused = totals.duplicates
    report.lost = checks.lost(net, ends)
    report.wrong = net.wrong()
    report.over_budget = net.over_budget()
    report.exactly_once = not report.lost and not report.wrong
    report.failures_by_reason = dict(sorted(totals.failures.items()))
    report.receipts_sent = totals.receipts_sent
    report.resends = totals.resends
    report.sessions_rebuilt = totals.rebuilds
    report.retransmissions = totals.retransmissions
    report.delivered_again_after_reinstall = len(net.delivered_again)
    report.unknown_error_causes = dict(sorted(net.unknown_error_causes.items()))
    report.gaps_reported = sum(len(d.gaps) for d in net.devices.values())
    report.gaps_false_alarms = checks.false_alarm_gaps(net, ends)
    report.crashes = net.counter.crashes
    report.series = _series(net, start_ms)
    report.series["latency_at"] = latency_at
    report.series["latency_ms"] = [float(x) for x in latencies]
    report.incidents = [((t - start_ms) / 1000, kind) for t, kind in net.incidents]
    if latencies:
        latencies = sorted(latencies)
        report.latency_ms = {
            "median": float(statistics.median(latencies)),
            "p99": float(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]),
            "max": float(latencies[-1]),
        }
    last_delivery = max(
        (t for d in net.devices.values() for t in d.delivered_at.values()), default=start_ms
    )
    report.simulated_seconds = round((last_delivery - start_ms) / 1000, 3)
    report.timing = {
        "wall_seconds": round(wall_s, 3),
        "messages_per_second": round(report.sent / wall_s, 1) if wall_s else 0.0,
    }
    return report


def _series(net: Network, start_ms: int) -> dict[str, list[float]]:
    def seconds(times: Iterable[int]) -> list[float]:
        return sorted((t - start_ms) / 1000 for t in times)

    devices = list(net.devices.values())
    return {
        "sent": seconds(t for m, t in net.sent_at.items() for _ in net.sent[m][1]),  # copies
        "deliveries": seconds(t for d in devices for t in d.delivered_at.values()),
        "receipts": seconds(t for d in devices for t in d.receipt_times),
        "resends": seconds(net.resend_times),
    }


def failure_items(report: SimulationReport) -> list[str]:
    """``["BAD_MAC 12", "DecodeError 2 (sent as UNKNOWN_ERROR)", ...]``, most frequent first.

    The failures the retry layer could only call ``UNKNOWN_ERROR`` are named by
    their cause (the error class, see ``unknown_error_causes``).
    """
    counts = Counter(report.failures_by_reason)
    unknown = counts.pop("UNKNOWN_ERROR", 0)
    named = Counter(report.unknown_error_causes)
    if unknown > sum(named.values()):  # not expected: every one is traced
        named["unknown"] += unknown - sum(named.values())
    items = [(n, f"{k} {n}") for k, n in counts.items()]
    items += [(n, f"{k} {n} (sent as UNKNOWN_ERROR)") for k, n in named.items() if unknown]
    return [text for _, text in sorted(items, key=lambda t: -t[0])]


def failures_summary(report: SimulationReport) -> str:
    """``BAD_MAC 12, NO_SESSION 3`` (or ``none``), with ``UNKNOWN_ERROR`` named by its cause."""
    return ", ".join(failure_items(report)) or "none"
