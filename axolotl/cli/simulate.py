"""``axolotl simulate``: devices exchanging messages over a faulty network, with a report.

Exit status 0 when every message reached every recipient exactly once (or
was reported ``Undecryptable``/``SendFailed`` within its budget), 1 when any
was lost, delivered twice or altered, 2 on bad options or a store that
cannot be used (a PostgreSQL server that cannot be reached, say).

The devices keep their state in SQLite files (a temporary folder unless
--db-dir) or, with --store postgres, as owners ``simulate-<run id>-<device>``
in one PostgreSQL database (the run's rows are deleted afterwards unless
--keep).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from axolotl.errors import AxolotlError, UsageError
from axolotl.simulate.run import (
    STORES,
    SimulationConfig,
    SimulationReport,
    failure_items,
    simulate,
)
from axolotl.simulate.stores import new_run_id

__all__ = ["register"]


def register(sub: Any) -> None:
    """Add the ``simulate`` command."""
    p = sub.add_parser(
        "simulate",
        help="run devices over a faulty network with the retry layer and report",
        description=__doc__,
    )
    d = SimulationConfig()
    p.add_argument("--devices", type=int, default=d.devices, help="devices (default %(default)s)")
    p.add_argument(
        "--messages", type=int, default=d.messages, help="messages (default %(default)s)"
    )
    p.add_argument("--loss", type=float, default=d.loss, help="loss probability (%(default)s)")
    p.add_argument(
        "--corrupt", type=float, default=d.corrupt, help="bit-flip probability (%(default)s)"
    )
    p.add_argument("--dup", type=float, default=d.dup, help="duplication probability (%(default)s)")
    p.add_argument(
        "--reorder", type=int, default=d.reorder, help="extra random delay, ms (%(default)s)"
    )
    p.add_argument("--wipe", type=int, default=d.wipe, help="session wipes (%(default)s)")
    p.add_argument("--reinstall", type=int, default=d.reinstall, help="reinstalls (%(default)s)")
    p.add_argument(
        "--crash", type=int, default=d.crash, help="crashes at store writes (%(default)s)"
    )
    p.add_argument("--seed", type=int, default=d.seed, help="seed (%(default)s)")
    p.add_argument(
        "--store",
        choices=STORES,
        default=d.store,
        help="where the devices keep their state (default %(default)s)",
    )
    p.add_argument("--db-dir", type=Path, default=None, help="keep the SQLite databases here")
    p.add_argument(
        "--dsn",
        default=None,
        help="the PostgreSQL database for --store postgres, e.g. postgresql://user@host/db "
        "(libpq's PGPASSWORD/PGPASSFILE and other PG* variables fill in what it leaves out)",
    )
    p.add_argument(
        "--keep",
        action="store_true",
        help="--store postgres: leave the run's rows in the database (printed on stderr)",
    )
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument(
        "--plot", type=Path, default=None, help="write receipts/deliveries over time (PNG)"
    )
    p.set_defaults(func=_run)


class _Progress:
    """A bar on a terminal, a line every 10% otherwise (both on stderr)."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.last_decile = -1

    def __call__(self, done: int, total: int) -> None:
        if self.tty:
            width = 40
            filled = width * done // total
            bar = "#" * filled + "." * (width - filled)
            sys.stderr.write(f"\r[{bar}] {done}/{total} messages")
            if done == total:
                sys.stderr.write("\n")
            sys.stderr.flush()
            return
        decile = 10 * done // total
        if decile != self.last_decile:
            self.last_decile = decile
            print(f"sent {done}/{total} messages", file=sys.stderr)


def _run(args: argparse.Namespace) -> int:
    try:
        config = SimulationConfig(
            devices=args.devices,
            messages=args.messages,
            loss=args.loss,
            corrupt=args.corrupt,
            dup=args.dup,
            reorder=args.reorder,
            wipe=args.wipe,
            reinstall=args.reinstall,
            crash=args.crash,
            seed=args.seed,
            store=args.store,
            db_dir=args.db_dir,
            dsn=args.dsn,
            keep=args.keep,
            run_id=new_run_id() if args.keep else None,
        )
    except UsageError as exc:
        print(f"axolotl simulate: {exc}", file=sys.stderr)
        return 2
    if args.db_dir is not None and any(args.db_dir.glob("*.db")):
        print(
            f"axolotl simulate: {args.db_dir} already holds databases; give an empty folder",
            file=sys.stderr,
        )
        return 2
    try:
        report = simulate(config, progress=None if args.json else _Progress())
    except AxolotlError as exc:  # UsageError, StorageError: the store cannot be used
        print(f"axolotl simulate: {exc}", file=sys.stderr)
        return 2
    if config.keep:
        print(
            f"axolotl simulate: kept the run's rows: owners 'simulate-{config.run_id}-*' "
            "(remove them with PostgresStore.delete_owner)",
            file=sys.stderr,
        )
    if args.plot is not None:
        status = _plot(report, args.plot)
        if status:
            return status
    if args.json:
        print(json.dumps(report.to_dict(), indent=2, sort_keys=True))
    else:
        print(render(report))
    return 0 if report.ok else 1


WIDTH = 100
"""No line of the report is longer (a terminal of 100 columns shows it unwrapped)."""
_LABEL = 21  # "  failures:          " -- where every value starts


def _line(label: str, value: str) -> str:
    return f"  {label + ':':<{_LABEL - 2}}{value}"


def _wrapped(label: str, items: list[str]) -> list[str]:
    """``items`` joined by commas after ``label``, continued on indented lines past WIDTH."""
    lines: list[str] = []
    current = ""
    for i, item in enumerate(items):
        piece = item + ("," if i < len(items) - 1 else "")
        candidate = f"{current} {piece}" if current else piece
        if current and _LABEL + len(candidate) > WIDTH:
            lines.append(current)
            current = piece
        else:
            current = candidate
    lines.append(current or "none")
    return [_line(label, lines[0])] + [" " * _LABEL + rest for rest in lines[1:]]


def _n(count: int, thing: str) -> str:
    return f"{count} {thing}" + ("" if count == 1 else "s")


def render(report: SimulationReport) -> str:
    """The report in plain words, no line longer than :data:`WIDTH`.

    Every copy is in exactly one of: delivered, undecryptable, send failed,
    gone with a reinstalled sender or recipient, lost.
    """
    c = report.config
    lat = report.latency_ms
    gaps = str(report.gaps_reported)
    if report.gaps_reported:
        gaps += f" ({report.gaps_false_alarms} false alarms: every copy from that sender arrived)"
    lines = [
        f"axolotl simulate: {c['devices']} devices, {c['messages']} messages, seed {c['seed']},"
        f" {c['store']} stores",
        _line(
            "faults",
            f"loss {c['loss']}, corrupt {c['corrupt']}, dup {c['dup']}, reorder {c['reorder']} ms",
        ),
        _line(
            "incidents",
            f"{_n(c['wipe'], 'session wipe')}, {_n(c['reinstall'], 'reinstall')},"
            f" {_n(report.crashes, 'crash')}".replace("crashs", "crashes"),
        ),
        _line("sent", f"{report.sent} messages, {report.copies} copies (pairwise + group)"),
        _line("delivered", f"{report.delivered} of {report.copies} copies"),
        _line(
            "given up",
            f"{report.undecryptable} undecryptable, {report.send_failed} send failed",
        ),
        _line(
            "reinstalls",
            f"{report.lost_with_reinstalled_sender} gone with the sender,"
            f" {report.lost_with_reinstalled_receiver} with the recipient,"
            f" {report.delivered_again_after_reinstall} delivered again",
        ),
        _line(
            "exactly once",
            f"{'yes' if report.exactly_once else 'NO'} ({len(report.lost)} lost,"
            f" {len(report.wrong)} doubled or altered; {report.duplicates_refused} duplicates"
            " refused)",
        ),
        *_wrapped("failures", failure_items(report)),
        _line("receipts sent", str(report.receipts_sent)),
        _line("resends", f"{report.resends} (retransmissions {report.retransmissions})"),
        _line("sessions rebuilt", str(report.sessions_rebuilt)),
        _line("gaps reported", gaps),
    ]
    if lat:
        lines.append(
            _line(
                "latency (sim)",
                f"median {lat['median']:.0f} ms, p99 {lat['p99']:.0f} ms, max {lat['max']:.0f} ms",
            )
        )
    lines.append(
        _line(
            "throughput",
            f"{report.sent / max(report.simulated_seconds, 1e-9):.1f} messages"
            f" per simulated second over {report.simulated_seconds:.1f} s",
        )
    )
    lines.append(
        _line(
            "wall clock",
            f"{report.timing['wall_seconds']:.1f} s,"
            f" {report.timing['messages_per_second']:.0f} messages/s",
        )
    )
    for problem in (report.lost + report.wrong + report.over_budget)[:10]:
        lines.append(f"  PROBLEM: {problem}"[:WIDTH])
    return "\n".join(lines)


def _plot(report: SimulationReport, path: Path) -> int:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print(
            "axolotl simulate: --plot needs matplotlib (pip install 'axolotl-retry[plot]')",
            file=sys.stderr,
        )
        return 2
    fig, ax = plt.subplots(figsize=(9, 4.5))
    for name, label in (("deliveries", "deliveries"), ("receipts", "retry receipts sent")):
        times = report.series.get(name, [])
        ax.plot(times, range(1, len(times) + 1), label=label)
    ax.set_xlabel("simulated seconds")
    ax.set_ylabel("cumulative count")
    ax.set_title("axolotl simulate: recovery over time")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return 0
