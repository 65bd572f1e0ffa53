"""``axolotl simulate``: devices exchanging messages over a faulty network, with a report.

Exit status 0 when every message reached every recipient exactly once (or
was reported ``Undecryptable``/``SendFailed`` within its budget), 1 when any
was lost, delivered twice or altered, 2 on bad options, paths or a store that
cannot be used (a PostgreSQL server that cannot be reached, say), all checked
before the run starts, 130 when interrupted (Ctrl-C), 3 on an internal error.
Every error is one line on stderr.

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
from axolotl.simulate import plot
from axolotl.simulate.run import STORES, ConfigError, SimulationConfig, simulate
from axolotl.simulate.stores import check_folder, new_run_id
from axolotl.simulate.text import render

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

    def interrupted(self) -> None:
        """End a half-drawn bar, so what follows starts on a line of its own."""
        if self.tty:
            sys.stderr.write("\n")


def _say(message: object) -> None:
    """One line on stderr, whatever ``message`` holds (libpq's messages carry newlines)."""
    print("axolotl simulate: " + " ".join(str(message).split()), file=sys.stderr)


def _config(args: argparse.Namespace) -> SimulationConfig:
    return SimulationConfig(
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


def _check_paths(args: argparse.Namespace) -> None:
    """Every path option, before any work.

    Raises:
        UsageError: one of them cannot be used.
    """
    if args.plot is not None:
        plot.check(args.plot)
    if args.db_dir is not None:
        try:
            check_folder(args.db_dir)
        except UsageError as exc:
            raise UsageError(f"--db-dir: {exc}") from None
        if any(args.db_dir.glob("*.db")):
            raise UsageError(
                f"--db-dir {args.db_dir} already holds databases; give an empty folder"
            )


def _run(args: argparse.Namespace) -> int:
    progress: _Progress | None = None
    try:
        try:
            config = _config(args)
        except ConfigError as exc:
            _say(exc.cli_message)
            return 2
        _check_paths(args)
        progress = None if args.json else _Progress()
        report = simulate(config, progress=progress)
        if args.json:
            print(json.dumps(report.to_dict(), indent=2, sort_keys=True))
        else:
            print(render(report))
        if config.keep:
            _say(
                f"kept the run's rows: owners 'simulate-{config.run_id}-*'"
                " (remove them with PostgresStore.delete_owner)"
            )
        if args.plot is not None:
            plot.write(report, args.plot)
    except KeyboardInterrupt:
        if progress is not None:
            progress.interrupted()
        _say("interrupted")
        return 130
    except AxolotlError as exc:  # UsageError, StorageError: bad input or an unusable store
        _say(exc)
        return 2
    except Exception as exc:  # a bug: still one line, and not 1 (which means a lost message)
        _say(f"internal error: {type(exc).__name__}: {exc} (a bug; please report it)")
        return 3
    return 0 if report.ok else 1
