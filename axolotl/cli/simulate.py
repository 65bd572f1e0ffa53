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
import os
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from axolotl.errors import AxolotlError, UsageError
from axolotl.framing import FRAMINGS
from axolotl.simulate import plot
from axolotl.simulate.run import STORES, ConfigError, SimulationConfig, simulate
from axolotl.simulate.stores import check_folder, new_run_id
from axolotl.simulate.text import render

__all__ = ["Progress", "register"]


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
    p.add_argument("--offline", type=int, default=d.offline, help="offline periods (%(default)s)")
    p.add_argument(
        "--no-batch",
        dest="batch",
        action="store_false",
        help="hand a device back online what waited one call at a time, not in one batch",
    )
    p.add_argument("--seed", type=int, default=d.seed, help="seed (%(default)s)")
    p.add_argument(
        "--store",
        choices=STORES,
        default=d.store,
        help="where the devices keep their state (default %(default)s)",
    )
    p.add_argument(
        "--framing",
        choices=FRAMINGS,
        default=d.framing,
        help="how bodies travel in the plaintext: native, or WhatsApp Message protobufs with"
        " padding, as yowsup/whatsmeow/Baileys read them (default %(default)s)",
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


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


class Progress:
    """What a person watching the run sees: a line on stderr, on a terminal only.

    ``[#####.....]  1200/2000 messages  0:03 elapsed  412 msg/s  ETA 0:02``,
    redrawn at most every ``interval`` seconds and fitted to the terminal's
    width; once every message is sent it says the network is settling, and
    :meth:`finish` erases it before the report. Not on a terminal (a pipe, a
    file, CI) it writes nothing: the report says how long the run took.

    Args:
        stream: where to draw (default: stderr).
        clock: seconds, monotonic (for tests).
        interval: the least time between two redraws.
    """

    def __init__(
        self,
        stream: TextIO | None = None,
        clock: Callable[[], float] = time.monotonic,
        interval: float = 0.1,
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.tty = self.stream.isatty()
        self.clock = clock
        self.interval = interval
        self.started = clock()
        self.last_draw = -interval
        self.drawn = False

    def line(self, done: int, total: int, width: int) -> str:
        """The progress line after ``done`` of ``total`` messages, at most ``width`` long."""
        elapsed = self.clock() - self.started
        rate = done / elapsed if elapsed > 0 else 0.0
        text = f"{done}/{total} messages  {_clock(elapsed)} elapsed  {rate:.0f} msg/s"
        if done >= total:
            text += "  all sent, the network settles"
        elif rate > 0:
            text += f"  ETA {_clock((total - done) / rate)}"
        bar_width = min(40, width - 1 - len(text) - 4)  # "[" bar "]  " text, < width
        if bar_width >= 10:
            filled = bar_width * done // total
            text = f"[{'#' * filled}{'.' * (bar_width - filled)}]  {text}"
        return text[: width - 1]

    def __call__(self, done: int, total: int) -> None:
        if not self.tty:
            return
        now = self.clock()
        if done < total and now - self.last_draw < self.interval:
            return
        self.last_draw = now
        try:
            width = os.get_terminal_size(self.stream.fileno()).columns
        except (AttributeError, OSError, ValueError):
            width = shutil.get_terminal_size((80, 24)).columns
        self.stream.write("\r" + self.line(done, total, width) + "\033[K")
        self.stream.flush()
        self.drawn = True

    def finish(self) -> None:
        """Erase the line (the report follows)."""
        if self.drawn:
            self.stream.write("\r\033[K")
            self.stream.flush()
            self.drawn = False

    def interrupted(self) -> None:
        """End a drawn line, so what follows starts on a line of its own."""
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()
            self.drawn = False


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
        offline=args.offline,
        batch=args.batch,
        seed=args.seed,
        store=args.store,
        framing=args.framing,
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
    progress: Progress | None = None
    try:
        try:
            config = _config(args)
        except ConfigError as exc:
            _say(exc.cli_message)
            return 2
        _check_paths(args)
        progress = Progress()
        report = simulate(config, progress=progress if progress.tty else None)
        progress.finish()
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
