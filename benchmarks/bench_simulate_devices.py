"""How ``axolotl simulate`` scales with the device count.

Run: ``.venv/bin/python benchmarks/bench_simulate_devices.py [--quick] [--full]``

1. Set-up: building the network (each device's SQLite store and keys) with
   sessions started when first used (what ``simulate`` does) against every
   ordered pair set up first (``eager_sessions=True``, the square of the
   device count in X3DH handshakes). Target: linear, i.e. the time per device
   at the largest count within 2x of that at the smallest (best of 3 rounds).
2. Runs: ``simulate`` with the default faults at several device counts and a
   fixed message count; every fourth message goes to a group of all devices,
   so the copies grow with the device count. Time per copy shows what a copy
   costs at each group size.
3. ``--full``: ``axolotl simulate --devices 100 --messages 10000`` itself, in
   a child process (wall time and peak memory).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, machine, table

from axolotl.simulate import SimulationConfig, simulate
from axolotl.simulate.network import Network
from axolotl.simulate.stores import SQLiteStores


def _set_up_seconds(devices: int, eager: bool, rounds: int = 3) -> float:
    """The best of ``rounds`` set-ups (a busy host only ever adds time)."""
    best = float("inf")
    for _ in range(rounds):
        with tempfile.TemporaryDirectory() as folder:
            started = time.perf_counter()
            net = Network(
                [f"d{i}" for i in range(devices)],
                seed=1,
                stores=SQLiteStores(Path(folder)),
                eager_sessions=eager,
            )
            best = min(best, time.perf_counter() - started)
            net.close()
    return best


def set_up(lazy_counts: list[int], eager_counts: list[int]) -> tuple[str, str]:
    rows = [("devices", "lazy set-up", "per device", "eager set-up", "per device")]
    per_device: list[float] = []
    for n in sorted(set(lazy_counts) | set(eager_counts)):
        lazy = _set_up_seconds(n, False) if n in lazy_counts else None
        eager = _set_up_seconds(n, True) if n in eager_counts else None
        if lazy is not None:
            per_device.append(lazy / n)
        rows.append(
            (
                str(n),
                f"{lazy:.2f} s" if lazy is not None else "",
                f"{lazy / n * 1000:.1f} ms" if lazy is not None else "",
                f"{eager:.2f} s" if eager is not None else "",
                f"{eager / n * 1000:.1f} ms" if eager is not None else "",
            )
        )
    ratio = per_device[-1] / per_device[0]
    verdict = "met" if ratio <= 2 else "NOT met"
    return table(rows), (
        f"set-up linear in the device count (per device at {max(lazy_counts)} devices"
        f" within 2x of {min(lazy_counts)}): {ratio:.2f}x, {verdict}"
    )


def runs(counts: list[int], messages: int) -> str:
    rows = [("devices", "messages", "copies", "wall", "per copy", "exactly once")]
    for n in counts:
        started = time.perf_counter()
        report = simulate(SimulationConfig(devices=n, messages=messages))
        wall = time.perf_counter() - started
        rows.append(
            (
                str(n),
                str(messages),
                str(report.copies),
                f"{wall:.1f} s",
                f"{wall / report.copies * 1000:.2f} ms",
                "yes" if report.ok else "NO",
            )
        )
    return table(rows)


def full() -> str:
    cmd = [sys.executable, "-m", "axolotl", "simulate", "--devices", "100", "--messages", "10000"]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    out = proc.stdout.read().decode() if proc.stdout else ""
    code = os.waitstatus_to_exitcode(status)
    return (
        f"axolotl simulate --devices 100 --messages 10000: exit {code}, {wall:.0f} s wall,"
        f" peak RSS {usage.ru_maxrss / 1024:.0f} MiB\n{out}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller counts")
    parser.add_argument("--full", action="store_true", help="also the 100 x 10000 run")
    args = parser.parse_args()
    print(f"machine: {machine()}\n")
    if args.quick:
        lazy, eager, counts, messages = [10, 50, 100], [10, 20], [3, 10, 30], 100
    else:
        lazy, eager, counts, messages = [10, 25, 50, 100, 200], [10, 20, 40], [3, 10, 30, 100], 400
    text, verdict = set_up(lazy, eager)
    print("Set-up (SQLite stores):\n")
    print(text)
    print(f"\n{verdict}\n")
    print(f"Runs (default faults, {messages} messages, a group of all devices every 4th):\n")
    print(runs(counts, messages))
    if args.full:
        print()
        print(full())


if __name__ == "__main__":
    main()
